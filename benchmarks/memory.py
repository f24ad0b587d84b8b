"""Benchmark: where a run's memory and start-up go. One nstyle run (default flags, seeded, RANDOM
weights from tests/weights.py) in a fresh process, with the seconds since the process started, the
resident set (VmRSS) and its peak so far (VmHWM) printed after each phase: imports, weights, the
targets, the loss executor bound (epoch 0 starts right after), each epoch. The peak at the end is
the run's peak memory; the time at "loss executor bound" is the start-up.

    python benchmarks/memory.py                       # 600x400, 5 epochs
    python benchmarks/memory.py --size 1200x800 --epochs 3
    python benchmarks/memory.py --env MXNET_CPU_TEMP_COPY=4   # the same run with an MXNet setting changed

The weights file is made by the parent, so that its making is no part of the run's memory.
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


def worker(size, epochs, params):
    report('process start')
    sys.path.insert(0, HERE)
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
    run.load_vgg = after(run.load_vgg, 'weights loaded')
    loss_setup.compute_targets = after(loss_setup.compute_targets, 'targets computed')
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', default='600x400', help='WxH')
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--env', action='append', default=[], help='NAME=VALUE for the run\'s environment')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--params', help=argparse.SUPPRESS)
    parser.add_argument('--process-start', type=float, help=argparse.SUPPRESS)
    options = parser.parse_args()
    size = tuple(int(x) for x in options.size.lower().split('x'))
    if options.worker:
        global PROCESS_START
        PROCESS_START = options.process_start
        return worker(size, options.epochs, options.params)
    sys.path.insert(0, HERE)
    from tests.weights import random_vgg19_arrays, save_params
    with tempfile.TemporaryDirectory() as folder:
        params = os.path.join(folder, 'vgg19.params')
        save_params(params, random_vgg19_arrays())
        env = dict(os.environ, **dict(setting.split('=', 1) for setting in options.env))
        print('%s, %d epochs, RANDOM weights (tests/weights.py)%s' % (
            options.size, options.epochs, ''.join(' ' + s for s in options.env)), flush=True)
        command = [sys.executable, __file__, '--worker', '--size', options.size, '--epochs', str(options.epochs),
                   '--params', params, '--process-start', repr(time.time())]
        lines = subprocess.run(command, env=env, capture_output=True, text=True, cwd=HERE)
        print('\n'.join(line for line in lines.stdout.splitlines() if 'MB' in line))
        if lines.returncode:
            print(lines.stderr[-2000:])


if __name__ == '__main__':
    main()
