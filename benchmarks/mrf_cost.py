"""Benchmark: the cost of an epoch with --style-loss mrf beside the Gram loss's, in one run.

    python benchmarks/mrf_cost.py                          # 300x200 and 600x400
    python benchmarks/mrf_cost.py --sizes 300x200 --rounds 5

Time: for each size one process builds both losses (the default run's Gram loss and the MRF
loss with its defaults) and times their epochs in turn, round after round, so that a load that
comes and goes on a shared machine hits both alike: an epoch is what the optimisers do with the
loss (start_epoch, which re-matches for mrf, forward_backward and the TV gradient), without the
optimiser's own elementwise step. Printed: the median seconds per epoch, the re-matching's share
(the MRF features' forward pass, the correlations in chunks, the targets), and the cost per epoch
with --mrf-rematch-every 10 (an epoch without re-matching plus a tenth of one).
Memory: for each size and loss a fresh process runs two epochs through train_nstyle (the first
re-matches) and reports its peak resident memory.
Whether re-matching less often pays (--rematch-check-size, --rematch-check-epochs): runs from the
same seed with re-matching every epoch and every 10, their seconds, and the loss of each result
(content + mrf + TV, weighted as in the gradient) with the matches found at that result.
Weights are RANDOM, in the real file format (tests/weights.py): an epoch costs the same as with
the real VGG-19. This asserts nothing.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from machine import cpu_model  # noqa: E402  (benchmarks/, this script's folder)

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
LOSSES = {'gram': [], 'mrf': ['--style-loss', 'mrf']}
SLOW_REMATCH = 10


def parse_size(text):
    w, h = text.lower().split('x')
    return int(w), int(h)


def size_flags(size, params):
    return ['--gpu', '-1', '--max-long-edge', str(max(size)), '--seed', '0', '--vgg-params', params]


def time_worker(size, rounds, params):
    """Epochs of both losses in turn: {loss: [seconds of each epoch]} and the re-matching's seconds."""
    sys.path.insert(0, HERE)
    import mxnet as mx
    import model_vgg19
    import nstyle
    from neural_style.gatys import loss as loss_setup
    from neural_style.gatys.run import read_pictures
    losses = {}
    for name, flags in LOSSES.items():
        args = nstyle.get_args(size_flags(size, params) + flags)
        losses[name] = loss_setup.build_loss(args, loss_setup.load_vgg(args, model_vgg19, mx.cpu()), loss_setup.stage_inputs(args, model_vgg19, max(size), '--max-long-edge', read_pictures(args)))
    image = mx.nd.random.uniform(-20, 20, losses['gram'].executor.data.shape)
    times = {name: [] for name in losses}
    times['re-matching'] = []
    for _ in range(rounds + 1):  # the first round warms up
        for name, loss in losses.items():
            image.copyto(loss.executor.data)
            mx.nd.waitall()
            start = time.time()
            loss.start_epoch()
            mx.nd.waitall()  # MXNet computes asynchronously
            matched = time.time()
            loss.forward_backward()
            loss.terms_gradient()
            mx.nd.waitall()
            times[name].append(time.time() - start)
            if loss.hooks:
                times['re-matching'].append(matched - start)
    return {name: values[1:] for name, values in times.items()}


def memory_worker(size, params, flags):
    """Two epochs through train_nstyle: the peak resident memory of the process, in MB."""
    sys.path.insert(0, HERE)
    import nstyle
    with tempfile.TemporaryDirectory() as folder:
        args = nstyle.get_args(size_flags(size, params) + ['--max-num-epochs', '2', '--stop-eps', '0',
                                                           '--output_dir', os.path.join(folder, 'out')] + flags)
        nstyle.train_nstyle(args)
    return {'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def rematch_worker(size, epochs, params, every):
    """A run of `epochs` epochs re-matching every `every`: its seconds and its result's loss, matched afresh."""
    sys.path.insert(0, HERE)
    import mxnet as mx
    import model_vgg19
    import nstyle
    from neural_style.gatys import loss as loss_setup
    from neural_style.gatys.run import read_pictures
    images = []
    with tempfile.TemporaryDirectory() as folder:
        args = nstyle.get_args(size_flags(size, params) + [
            '--style-loss', 'mrf', '--mrf-rematch-every', str(every), '--max-num-epochs', str(epochs),
            '--save-epochs', str(epochs), '--stop-eps', '0', '--output_dir', os.path.join(folder, 'out')])
        start = time.time()
        nstyle.train_nstyle(args, callback=lambda data: images.append(data['img']) if 'img' in data else None)
        seconds = time.time() - start
    loss = loss_setup.build_loss(args, loss_setup.load_vgg(args, model_vgg19, mx.cpu()), loss_setup.stage_inputs(args, model_vgg19, max(size), '--max-long-edge', read_pictures(args)))
    loss.executor.data[:] = images[-1]
    loss.start_epoch()  # a fresh loss: its first epoch matches at this image
    loss.forward_backward()
    loss.terms_gradient()
    return {'seconds': seconds, 'losses': loss.named_losses()}


def run_worker(*arguments):
    command = [sys.executable, os.path.abspath(__file__)] + [str(a) for a in arguments]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit('worker %s failed: %s' % (' '.join(command[2:]),
                                                    (result.stderr.strip().splitlines() or ['?'])[-1]))
    return json.loads(result.stdout.strip().splitlines()[-1])




def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='300x200,600x400', help='WxH,WxH,... (the long edge counts)')
    parser.add_argument('--rounds', type=int, default=3, help='timed epochs of each loss, after one warm-up round')
    parser.add_argument('--rematch-check-size', default='150x100', help='WxH of the re-matching check; none: skip it')
    parser.add_argument('--rematch-check-epochs', type=int, default=100, help='epochs of each run of that check')
    parser.add_argument('--time-worker', help=argparse.SUPPRESS)
    parser.add_argument('--rematch-worker', help=argparse.SUPPRESS)
    parser.add_argument('--every', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--memory-worker', help=argparse.SUPPRESS)
    parser.add_argument('--params', help=argparse.SUPPRESS)
    parser.add_argument('--flags', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_worker:
        print(json.dumps(time_worker(parse_size(args.time_worker), args.rounds, args.params)))
        return
    if args.rematch_worker:
        print(json.dumps(rematch_worker(parse_size(args.rematch_worker), args.rematch_check_epochs, args.params,
                                        args.every)))
        return
    if args.memory_worker:
        print(json.dumps(memory_worker(parse_size(args.memory_worker), args.params, json.loads(args.flags))))
        return

    sys.path.insert(0, HERE)
    from tests.weights import random_vgg19_arrays, save_params
    with tempfile.TemporaryDirectory() as folder:
        params = os.path.join(folder, 'vgg19.params')
        save_params(params, random_vgg19_arrays())
        print('%s, %d CPUs usable, OMP_NUM_THREADS=%s; random weights (not VGG-19); median of %d epochs, each loss '
              'in turn' % (cpu_model(), len(os.sched_getaffinity(0)), os.environ.get('OMP_NUM_THREADS'), args.rounds),
              flush=True)
        print('%-9s %-30s %9s %8s %14s' % ('size', 'style loss', 's/epoch', 'x gram', 'peak memory MB'), flush=True)
        for size in [parse_size(text) for text in args.sizes.split(',')]:
            times = run_worker('--time-worker', '%dx%d' % size, '--rounds', args.rounds, '--params', params)
            memory = {name: run_worker('--memory-worker', '%dx%d' % size, '--params', params,
                                       '--flags', json.dumps(flags))['peak_rss_mb'] for name, flags in LOSSES.items()}
            gram, mrf = statistics.median(times['gram']), statistics.median(times['mrf'])
            rematch = statistics.median(times['re-matching'])
            rows = [('gram (default)', gram, memory['gram']),
                    ('mrf, re-match every epoch', mrf, memory['mrf']),
                    ('  of which re-matching', rematch, None),
                    ('mrf, --mrf-rematch-every %d' % SLOW_REMATCH, mrf - rematch + rematch / SLOW_REMATCH, None)]
            for label, seconds, peak in rows:
                print('%-9s %-30s %9.2f %8.2f %14s' % ('%dx%d' % size, label, seconds, seconds / gram,
                                                       '%.0f' % peak if peak else ''), flush=True)
        if args.rematch_check_size != 'none':
            print('re-matching check at %s, %d epochs from seed 0 (NAG); the result\'s loss matched afresh:'
                  % (args.rematch_check_size, args.rematch_check_epochs), flush=True)
            for every in (1, SLOW_REMATCH):
                run = run_worker('--rematch-worker', args.rematch_check_size, '--rematch-check-epochs',
                                 args.rematch_check_epochs, '--params', params, '--every', every)
                print('  --mrf-rematch-every %-3d %7.1f s   %s, total %.5g'
                      % (every, run['seconds'], ', '.join('%s %.5g' % (name, value) for name, value in run['losses']),
                         sum(value for _, value in run['losses'])), flush=True)


if __name__ == '__main__':
    main()
