"""Benchmark: the whole Performance table from one run, ours beside the peers, ratios, the CPU named.

    python benchmarks/table.py            # 512x512 and 1024x1024, 3 rounds (about 10 minutes on 2 cores)
    python benchmarks/table.py --quick    # 512x512 only, 1 round, 2 Gatys epochs (a few minutes)
    python benchmarks/table.py --sizes 1024 --rounds 1 --skip video,gatys,onepass   # one part

Rows: start-up (every tool's --help and a refused flag; nstyle.py's first epoch and peak memory at
600x400, benchmarks/memory.py); Johnson's network (neural_style.generators.inference, as boost_inference.py runs it) against the PyTorch
peer (benchmarks/torch_generators.py), and the same network with MXNet's InstanceNorm (the "before"
of issue 25's change); the original's chain of four generators against its peer; the generators'
video frames per second at 640x480 (stylize() of a frame, pre- and post-processing included, no
decoding); the Gatys epoch at 600x400 against benchmarks/torch_gatys.py (benchmarks/bench.py's
workers, each a fresh process); and, where neural_style/onepass and benchmarks/onepass.py exist,
that benchmark's own table (N-style network against onnxruntime). Each generator figure is the
median of --repeats runs after a warm-up; with --rounds > 1 ours and the peer alternate and the
best round counts, so that a load spike on a shared machine hits both. The peer needs torch==2.13.0:
this Python's, --peer-python's, or .venv-torch's; without it the peer cells say so. All weights are
RANDOM (a forward pass costs the same as with trained ones). This asserts nothing.
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.dirname(BENCHMARKS)  # the project
sys.path[:0] = [HERE, BENCHMARKS]

TORCH_GENERATORS = os.path.join(BENCHMARKS, 'torch_generators.py')
ONEPASS_BENCH = os.path.join(BENCHMARKS, 'onepass.py')


def find_peer_python(given):
    """A Python that has torch, or None."""
    if given:
        return given
    if importlib.util.find_spec('torch') is not None:
        return sys.executable
    venv_torch = os.path.join(HERE, '.venv-torch', 'bin', 'python')
    return venv_torch if os.path.exists(venv_torch) else None


def our_generator_ms(kind, size, repeats, instance_norm=False):
    """Median ms of stylize() of one image at size (h, w). instance_norm: Johnson's network with
    MXNet's InstanceNorm, bound for inference (what the stylizer ran before issue 25)."""
    from neural_style.mxnet_runtime import mx
    import numpy as np
    from generators import median_seconds, random_params
    from neural_style.generators.inference import Stylizer, bind_stylizer
    params = random_params(kind, size)
    stylizer = bind_stylizer(kind, params, size, mx.cpu())
    if instance_norm:
        from neural_style.generators import networks as generators
        symbol = generators.johnson()
        args = dict(params[0], data=mx.nd.zeros((1, 3) + tuple(size)))
        executor = symbol.bind(mx.cpu(), args=args, args_grad={'data': mx.nd.zeros((1, 3) + tuple(size))},
                               grad_req={name: 'write' if name == 'data' else 'null' for name in args})
        stylizer = Stylizer(executor, 'data', 'instance-norm', size)  # kind: not Johnson's, so inference mode
    pixels = np.random.RandomState(1).uniform(0, 255, tuple(size) + (3,)).astype(np.uint8)
    return median_seconds(lambda: stylizer.stylize(pixels), repeats)[0] * 1000


def peer_generator_ms(python, kind, size, repeats):
    if python is None:
        return None, 'no torch: pip install torch==2.13.0, or pass --peer-python'
    result = subprocess.run([python, TORCH_GENERATORS, '--height', str(size[0]), '--width', str(size[1]),
                             '--repeats', str(repeats), '--generators', kind], capture_output=True, text=True)
    if result.returncode != 0:
        return None, 'peer failed: %s' % (result.stderr.strip().splitlines() or ['exit %d' % result.returncode])[-1]
    return float(result.stdout.split()[4]), ''  # "torch <kind> <dtype> ms/image <median> ..."


def best_of_rounds(rounds, measures):
    """{name: best value} over `rounds` rounds of the measures {name: () -> (value or None, note)},
    alternated; a note of the last failure where one never gave a value."""
    best, notes = {}, {}
    for _ in range(rounds):
        for name, measure in measures.items():
            value, note = measure()
            if value is None:
                notes[name] = note
            else:
                best[name] = min(best.get(name, float('inf')), value)
    return best, notes


def ratio(ours, peer):
    return '%.2f' % (ours / peer) if ours and peer else '-'


def seconds(ms):
    return '%.2f s' % (ms / 1000) if ms is not None else '-'


def generator_rows(args, peer_python, sizes):
    rows = []
    for size in sizes:
        label = '%dx%d' % (size[1], size[0])
        best, notes = best_of_rounds(args.rounds, {
            'johnson': lambda: (our_generator_ms('johnson', size, args.repeats), ''),
            'johnson_in': lambda: (our_generator_ms('johnson', size, args.repeats, instance_norm=True), ''),
            'peer_johnson': lambda: peer_generator_ms(peer_python, 'johnson', size, args.repeats),
            'chain': lambda: (our_generator_ms('v3chain', size, args.repeats), ''),
            'peer_chain': lambda: peer_generator_ms(peer_python, 'v3chain', size, args.repeats),
        })
        note = notes.get('peer_johnson', '')
        rows.append(("Johnson's network (BatchNorm with the image's statistics)", label, seconds(best['johnson']),
                     seconds(best.get('peer_johnson')), ratio(best['johnson'], best.get('peer_johnson')), note))
        rows.append(("Johnson's network with InstanceNorm (before)", label, seconds(best['johnson_in']),
                     seconds(best.get('peer_johnson')), ratio(best['johnson_in'], best.get('peer_johnson')),
                     'after/before %.2f' % (best['johnson'] / best['johnson_in'])))
        rows.append(("the original's chain (4 generators)", label, seconds(best['chain']),
                     seconds(best.get('peer_chain')), ratio(best['chain'], best.get('peer_chain')),
                     notes.get('peer_chain', '')))
        print_rows(rows[-3:])
    return rows


def video_rows(args):
    size = (480, 640)
    rows = []
    for kind, name in (('johnson', "Johnson's network"), ('v3chain', "the original's chain")):
        ms = min(our_generator_ms(kind, size, args.repeats) for _ in range(args.rounds))
        rows.append(('video with %s: frames per second' % name, '640x480', '%.2f fps' % (1000 / ms), '-', '-',
                     'a frame: stylize() of its pixels, no decoding'))
    print_rows(rows)
    return rows


def gatys_rows(args, peer_python):
    import bench
    size = (600, 400)
    with tempfile.TemporaryDirectory() as folder:
        bench.make_weights(folder)
        best, notes = best_of_rounds(args.rounds, {
            'port': lambda: from_run(bench.run_port(size, args.epochs)),
            'peer': lambda: (from_run(bench.run_peer(peer_python, size, args.epochs)) if peer_python
                             else (None, 'no torch')),
        })
    row = ('Gatys epoch (VGG-19 forward + backward, float32)', '600x400', '%.2f s' % best['port'],
           '%.2f s' % best['peer'] if 'peer' in best else '-', ratio(best.get('port'), best.get('peer')),
           notes.get('peer', notes.get('port', '')))
    print_rows([row])
    return [row]


def from_run(run):
    return (run['s_per_epoch'], '') if 's_per_epoch' in run else (None, run.get('error', 'failed'))


def onepass_lines(args):
    if not (os.path.isdir(os.path.join(HERE, 'neural_style', 'onepass')) and os.path.exists(ONEPASS_BENCH)):
        return ['(no one-pass networks here: neural_style/onepass or benchmarks/onepass.py is missing)']
    sizes = '512' if args.quick else '512,1024'
    result = subprocess.run([sys.executable, ONEPASS_BENCH, '--threads', os.environ['OMP_NUM_THREADS'], '--repeats',
                             str(max(2, args.repeats)), '--sizes', sizes], capture_output=True, text=True)
    if result.returncode != 0:
        return ['(one-pass benchmark failed: %s)' % (result.stderr.strip().splitlines() or
                                                     ['exit %d' % result.returncode])[-1]]
    return result.stdout.strip().splitlines()


TOOLS = ['nstyle.py', 'stylize.py', 'stylize_video.py', 'compare.py', 'reproduce_chapter.py', 'reproduce_survey.py',
         'view_checkpoints.py', 'end_to_end/boost_inference.py', 'end_to_end/boost_train.py']
MEMORY_BENCH = os.path.join(BENCHMARKS, 'memory.py')


def seconds_of_command(argv, runs):
    """The least wall time of `runs` runs of argv, from the process start to its exit."""
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=HERE, capture_output=True)
        best = min(best or 1e9, time.perf_counter() - start)
    return best


def startup_rows(args):
    """--help and a refused flag of every tool (the slowest tool's least time of 3), and a default
    nstyle.py run at 600x400: the start of its first epoch and its peak resident memory
    (benchmarks/memory.py, 1 epoch, the least of its runs)."""
    help_s = {tool: seconds_of_command([sys.executable, tool, '--help'], 3) for tool in TOOLS}
    error_s = {tool: seconds_of_command([sys.executable, tool, '--no-such-flag'], 3) for tool in TOOLS}
    slowest_help, slowest_error = max(help_s, key=help_s.get), max(error_s, key=error_s.get)
    rows = [('--help of every tool (the slowest)', '-', '%.2f s' % help_s[slowest_help], '-', '-',
             'target 0.3 s; slowest: %s' % slowest_help),
            ('a refused flag of every tool (the slowest)', '-', '%.2f s' % error_s[slowest_error], '-', '-',
             'target 0.3 s; slowest: %s' % slowest_error)]
    result = subprocess.run([sys.executable, MEMORY_BENCH, '--epochs', '1', '--repeats', str(args.rounds)],
                            cwd=HERE, capture_output=True, text=True)
    summary = [line for line in result.stdout.splitlines() if 'start-up (loss executor bound) min' in line]
    if summary:
        words = summary[-1].split()
        start, peak = words[words.index('min') + 1], words[words.index('peak') + 2]
        rows += [('nstyle.py: the first epoch starts (imports, weights, targets, executor bound)', '600x400',
                  '%s s' % start, '-', '-', 'target 3 s (benchmarks/memory.py)'),
                 ('nstyle.py: peak resident memory, default run', '600x400', '%s MB' % peak, '-', '-',
                  'target 900 MB (benchmarks/memory.py)')]
    else:
        rows.append(('nstyle.py start-up and peak memory', '600x400', '-', '-', '-',
                     'benchmarks/memory.py failed: %s' % (result.stderr.strip().splitlines() or ['?'])[-1]))
    print_rows(rows)
    return rows


def print_rows(rows):
    for row in rows:
        print('| %s |' % ' | '.join(row), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='512x512 only, 1 round, 2 Gatys epochs, 2 repeats')
    parser.add_argument('--rounds', type=int, default=3, help='alternations of ours and the peer; the best counts')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs per generator figure, after a warm-up')
    parser.add_argument('--epochs', type=int, default=3, help='timed Gatys epochs, after a warm-up')
    parser.add_argument('--peer-python', help='a Python with torch==2.13.0 (default: this one, else .venv-torch)')
    parser.add_argument('--sizes', help='square sides of the generator rows (default: 512,1024; --quick: 512)')
    parser.add_argument('--skip', default='',
                        help='comma-separated parts to leave out: startup,generators,video,gatys,onepass')
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats, args.epochs = 1, 2, 2
    skip = set(filter(None, args.skip.split(',')))
    from neural_style import mxnet_runtime
    from machine import cpu_model
    started = time.perf_counter()
    peer_python = find_peer_python(args.peer_python)
    print('CPU: %s; %s threads (OMP_NUM_THREADS), %d CPUs usable; RANDOM weights; peer: %s'
          % (cpu_model(), mxnet_runtime.THREADS, len(os.sched_getaffinity(0)),
             'PyTorch (%s)' % peer_python if peer_python else 'none (torch is not installed)'), flush=True)
    print('| what | size | ours | peer | ours/peer | note |')
    print('|---|---|---|---|---|---|', flush=True)
    if 'startup' not in skip:
        startup_rows(args)
    if 'generators' not in skip:
        sides = [int(side) for side in (args.sizes or ('512' if args.quick else '512,1024')).split(',')]
        generator_rows(args, peer_python, [(side, side) for side in sides])
    if 'video' not in skip:
        video_rows(args)
    if 'gatys' not in skip:
        gatys_rows(args, peer_python)
    if 'onepass' not in skip:
        print()
        for line in onepass_lines(args):
            print(line, flush=True)
    print('\n(%.0f s in all)' % (time.perf_counter() - started))


if __name__ == '__main__':
    main()
