"""--preset NAME: a named set of flag defaults, the recipes benchmarks/time_to_result.py found to reach
the original's result soonest. A preset only changes defaults: any flag given explicitly wins. No MXNet.

fast: scipy's L-BFGS-B from the content image, remembering 20 steps, 80 function evaluations.
Measured with benchmarks/time_to_result.py on the random test weights, one run (docs/performance.md,
"Time to a finished image"): at 600x400 it reaches the objective the default run ends with (content + style +
TV, float32; 460 NAG epochs, 728.6 s) after 48 evaluations, 8.55x sooner by the clock, and ends at 80
with an objective 0.77x the default's, 5.2x sooner. The start is the lever: from noise L-BFGS needs
147 evaluations. A coarse stage first (--multires) saved little (still 103 at the full size); a
history of 50 takes 42 but holds 117 MB more. bfloat16 ran slower than float32 on that Xeon and faster
on an AMD EPYC (Zen 4), so the preset takes --dtype auto: a short timed check on this CPU decides
(neural_style/dtype_choice.py, cached per machine).
"""

# flag (argparse dest) -> default
PRESETS = {
    'fast': {'optimizer': 'lbfgs', 'init': 'content', 'lbfgs_num_correction': 20, 'max_num_epochs': 80,
             'dtype': 'auto'},
}


def preset_defaults(name):
    """The defaults of preset `name`, as values argparse takes."""
    return dict(PRESETS[name])


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
