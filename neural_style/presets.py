"""--preset NAME: a named set of flag defaults, the recipes benchmarks/time_to_result.py found to reach
the original's result soonest. A preset only changes defaults: any flag given explicitly wins. No MXNet.

fast: scipy's L-BFGS-B instead of the original's NAG steps, 150 function evaluations. Measured with
benchmarks/time_to_result.py on the random test weights at 300x200 (README "Performance"): L-BFGS
reaches the objective the default run ends with (content + style + TV, float32; 306 NAG epochs) after
129 evaluations, 4x sooner by the clock; 150 leave a margin. A coarse stage first (--multires) did not
help there (101 evaluations still needed at the full size), nor did Adam (stopped by --stop-eps above
the objective). --dtype bfloat16 on top, where the CPU has AVX512-BF16, makes each evaluation cheaper.
"""

# flag (argparse dest) -> default; '{half}' and '{edge}' in a value are half the long edge and the
# long edge (--max-long-edge, given or default), so that a preset fits any size
PRESETS = {
    'fast': {'optimizer': 'lbfgs', 'init': 'content', 'lbfgs_num_correction': 20, 'max_num_epochs': 80},
}


def preset_defaults(name, long_edge):
    """The defaults of preset `name` for this long edge, as strings and values argparse takes."""
    return {flag: value.format(half=max(long_edge // 2, 1), edge=long_edge) if isinstance(value, str) else value
            for flag, value in PRESETS[name].items()}


def describe_preset(args):
    """The flags preset args.preset stands for, with the values this run has (one an explicit flag
    may have changed), as a command line."""
    words = []
    for flag in PRESETS[args.preset]:
        value = getattr(args, flag)
        if flag == 'multires' and value is not None:
            value = ','.join(str(edge) if epochs is None else '%d:%d' % (edge, epochs) for edge, epochs in value)
        words.append('--%s %s' % (flag.replace('_', '-'), value))
    return ' '.join(words)
