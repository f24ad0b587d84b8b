"""Benchmark: where a run's memory and start-up go. One nstyle run (default flags, seeded, RANDOM
weights from tests/weights.py) in a fresh process, with the seconds since the process started, the
resident set (VmRSS) and its peak so far (VmHWM) printed after each phase: imports, weights, the
pictures read and sized, the weights, the targets queued (MXNet computes asynchronously: the
targets are computed by the time the loss executor is bound, which waits for them), the loss
executor bound (epoch 0 starts right after), each epoch. The peak at the end is the run's peak
memory; the time at "loss executor bound" is the start-up.

    python benchmarks/memory.py                       # 600x400, 5 epochs
    python benchmarks/memory.py --size 1200x800 --epochs 3
    python benchmarks/memory.py --env MXNET_CPU_TEMP_COPY=4   # the same run with an MXNet setting changed
    python benchmarks/memory.py --epochs 2 --repeats 3 --against /tmp/main   # before/after: this checkout
        # and another (git worktree add /tmp/main main), run in turn, the min start-up and peak of each

The weights file is made by the parent, so that its making is no part of the run's memory; with
--all-layers it holds conv5_2 to conv5_4 too, as the published file does (random values still).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project


def memory_mb():
    """(resident, peak resident) of this process in MB."""
    fields = dict(line.split(':', 1) for line in open('/proc/self/status'))
    return int(fields['VmRSS'].split()[0]) / 1024, int(fields['VmHWM'].split()[0]) / 1024


PROCESS_START = None  # time.time() in the parent just before it started this process


def report(phase):
    rss, peak = memory_mb()
    print('%-28s %6.2f s   resident %6.0f MB   peak so far %6.0f MB' % (phase, time.time() - PROCESS_START, rss, peak),
          flush=True)


def worker(size, epochs, params, tree):
    report('process start')
    sys.path.insert(0, tree)
    os.chdir(tree)
    import nstyle
    from neural_style.gatys import loss as loss_setup, optimise, run
    report('imports (nstyle)')

    def after(function, phase):
        def wrapped(*args, **kwargs):
            result = function(*args, **kwargs)
            report(phase)
            return result
        return wrapped
    # gatys/run.py holds its own references to what it imported from gatys/loss.py
    run.read_pictures = after(run.read_pictures, 'pictures read')
    run.sized_inputs = after(run.sized_inputs, 'pictures sized')
    run.load_vgg = after(run.load_vgg, 'weights loaded')
    loss_setup.compute_targets = after(loss_setup.compute_targets, 'targets queued')
    run.build_loss = after(run.build_loss, 'loss executor bound')
    forward_backward = optimise.StyleLoss.forward_backward

    def waited(self):  # MXNet computes asynchronously: wait, so that the epoch's memory is counted in it
        forward_backward(self)
        self.executor.data_grad.wait_to_read()
    optimise.StyleLoss.forward_backward = waited
    with tempfile.TemporaryDirectory() as folder:
        w, h = size
        args = nstyle.get_args(['--gpu', '-1', '--max-long-edge', str(max(w, h)), '--max-num-epochs', str(epochs),
                                '--seed', '0', '--vgg-params', params, '--output_dir', folder, '--stop-eps', '0'])
        nstyle.train_nstyle(args, callback=lambda data: report('epoch %d done' % (data['epoch'] - 1)))
    report('run finished')


def run_once(tree, options, params, env):
    """One worker process on the checkout at tree: its phase lines, and (start-up s, peak MB)."""
    command = [sys.executable, os.path.abspath(__file__), '--worker', '--size', options.size, '--epochs',
               str(options.epochs), '--params', params, '--tree', tree, '--process-start', repr(time.time())]
    lines = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tree)
    phases = [line for line in lines.stdout.splitlines() if 'MB' in line]
    if lines.returncode:
        return phases + [lines.stderr[-2000:]], None
    bound = next(float(line.split()[3]) for line in phases if line.startswith('loss executor bound'))
    return phases, (bound, float(phases[-1].split()[-2]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', default='600x400', help='WxH')
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--env', action='append', default=[], help='NAME=VALUE for the run\'s environment')
    parser.add_argument('--repeats', type=int, default=1, help='runs of each checkout, in turn')
    parser.add_argument('--against', help='another checkout of the project (the "before"), run in turn with this one')
    parser.add_argument('--all-layers', action='store_true', help='the weights file holds conv5_2 to conv5_4 too, '
                                                                   'as the published one does')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--params', help=argparse.SUPPRESS)
    parser.add_argument('--tree', default=HERE, help=argparse.SUPPRESS)
    parser.add_argument('--process-start', type=float, help=argparse.SUPPRESS)
    options = parser.parse_args()
    size = tuple(int(x) for x in options.size.lower().split('x'))
    if options.worker:
        global PROCESS_START
        PROCESS_START = options.process_start
        return worker(size, options.epochs, options.params, os.path.abspath(options.tree))
    sys.path.insert(0, HERE)
    from tests.weights import random_vgg19_arrays, save_params
    from neural_style.machine import cpu_model
    trees = [('this checkout', HERE)] + ([('--against ' + options.against, os.path.abspath(options.against))]
                                         if options.against else [])
    with tempfile.TemporaryDirectory() as folder:
        params = os.path.join(folder, 'vgg19.params')
        arrays = random_vgg19_arrays()
        if options.all_layers:
            import numpy as np
            rng = np.random.RandomState(1)
            for name in ('conv5_2', 'conv5_3', 'conv5_4'):
                arrays['arg:%s_weight' % name] = rng.normal(0, np.sqrt(2 / (512 * 9)), (512, 512, 3, 3)).astype('float32')
                arrays['arg:%s_bias' % name] = np.zeros((512,), dtype='float32')
        save_params(params, arrays)
        env = dict(os.environ, **dict(setting.split('=', 1) for setting in options.env))
        print('%s, %d epochs, RANDOM weights (tests/weights.py%s)%s; %s' % (
            options.size, options.epochs, ', with conv5_2-conv5_4' if options.all_layers else '',
            ''.join(' ' + s for s in options.env), cpu_model()), flush=True)
        results = {name: [] for name, _ in trees}
        for repeat in range(options.repeats):
            for name, tree in trees:
                phases, figures = run_once(tree, options, params, env)
                print('%s, run %d of %d:' % (name, repeat + 1, options.repeats))
                print('\n'.join(phases), flush=True)
                if figures:
                    results[name].append(figures)
        for name, figures in results.items():  # one summary line a checkout (benchmarks/table.py reads it)
            if figures:
                print('%-40s start-up (loss executor bound) min %.2f s, peak min %.0f MB, max %.0f MB (%d runs)' % (
                    name, min(b for b, _ in figures), min(p for _, p in figures), max(p for _, p in figures),
                    len(figures)))


if __name__ == '__main__':
    main()
