"""Benchmark: the port's epochs beside the PyTorch peer, in one run on one machine.

    python benchmarks/bench.py                      # 300x200, 600x400, 1200x800; writes output/bench.json
    python benchmarks/bench.py --sizes 600x400 --epochs 3 --no-peer
    python benchmarks/bench.py --no-bf16            # float32 only

For each size, in a fresh process each (so memory and start-up are its own): the
median seconds per epoch after one warm-up epoch, the time from process start to the
end of the first epoch, the peak resident memory, and the effective GFLOP/s from
the convolution count (forward + input gradient). The peer is the same step in
PyTorch (benchmarks/torch_gatys.py), run in its own environment .venv-torch
(created with torch==2.13.0 when missing). Weights are RANDOM, in the real file
format (tests/weights.py): an epoch costs the same as with the real VGG-19.
With --dtype bfloat16 (where the CPU has AVX512-BF16) each size is timed again, and
its effect on the result is measured: a float32 and a bfloat16 run from the same seed
(--bf16-check-epochs at --bf16-check-size), their final images' relative difference,
and the float32 loss of each result (content + style, weighted as in the gradient).
This asserts nothing; it prints a table and writes JSON.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from machine import cpu_model  # noqa: E402  (benchmarks/, this script's folder)

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
WEIGHTS = None  # the random weights file the workers load (make_weights)
PEER = os.path.join(HERE, 'benchmarks', 'torch_gatys.py')
PEER_VENV = os.path.join(HERE, '.venv-torch')
def epoch_gflop(h, w):
    """Forward convolutions plus the input gradient (about as much again), 2 FLOP per MAC,
    counted over the model's own layer list (a pooling halves the map)."""
    import model_vgg19
    macs, channels_in = 0, 3
    for layer in model_vgg19.LAYERS:
        if isinstance(layer, str):
            h, w = h // 2, w // 2
            continue
        macs += channels_in * layer[1] * 9 * h * w
        channels_in = layer[1]
    return 2 * 2 * macs / 1e9


def parse_size(text):
    w, h = text.lower().split('x')
    return int(w), int(h)


# ---------------------------------------------------------------- one size, in its own process

def run_args(nstyle, size, epochs, params, output_dir, dtype):
    w, h = size
    return nstyle.get_args(['--gpu', '-1', '--max-long-edge', str(max(w, h)), '--max-num-epochs', str(epochs),
                            '--save-epochs', str(epochs), '--stop-eps', '0', '--seed', '0', '--vgg-params', params,
                            '--output_dir', output_dir, '--dtype', dtype])


def port_worker(size, epochs, process_start, params, dtype='float32', save_image=None):
    """Time epochs + 1 epochs (the first is the warm-up); save_image: the final image as .npy."""
    sys.path.insert(0, HERE)
    import nstyle
    import numpy as np
    w, h = size
    with tempfile.TemporaryDirectory() as folder:
        args = run_args(nstyle, size, epochs + 1, params, os.path.join(folder, 'out'), dtype)
        stamps = []

        def callback(data):
            stamps.append(time.time())
            if save_image and 'img' in data:  # the last epoch's image (its checkpoint, once, at the end)
                np.save(save_image, data['img'])
        nstyle.train_nstyle(args, callback=callback)
    times = [b - a for a, b in zip(stamps, stamps[1:])]
    return {'s_per_epoch': statistics.median(times), 'gflop_per_epoch': epoch_gflop(h, w),
            # to the end of epoch 0, and to its start (its end less a median epoch)
            'start_to_first_epoch_s': stamps[0] - process_start,
            'start_up_s': stamps[0] - process_start - statistics.median(times),
            'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            'threads': os.environ.get('OMP_NUM_THREADS')}


def loss_worker(size, epochs, images, params):
    """The float32 loss (content and style, weighted as in the gradient) of each saved image."""
    sys.path.insert(0, HERE)
    import model_vgg19
    import mxnet as mx
    import nstyle
    import numpy as np
    from neural_style.gatys import loss as loss_setup
    from neural_style.gatys.run import read_pictures
    with tempfile.TemporaryDirectory() as folder:
        args = run_args(nstyle, size, epochs, params, folder, 'float32')
        net = loss_setup.load_vgg(args, model_vgg19, mx.cpu())
        loss = loss_setup.build_loss(args, net, loss_setup.stage_inputs(args, model_vgg19, args.max_long_edge, '--max-long-edge', read_pictures(args)))
        losses = []
        for image in images:
            loss.executor.data[:] = np.load(image)
            loss.executor.executor.forward()
            losses.append(sum(value for _, value in loss.named_losses()[:2]))
    return {'losses': losses}


def make_weights(folder):
    """The random weights, made once by the parent: their making is no part of a worker's start-up
    or memory."""
    sys.path.insert(0, HERE)
    from tests.weights import random_vgg19_arrays, save_params
    global WEIGHTS
    WEIGHTS = os.path.join(folder, 'vgg19.params')
    save_params(WEIGHTS, random_vgg19_arrays())


def run_worker(*arguments):
    started = time.time()
    command = [sys.executable, __file__, '--process-start', repr(started), '--params', WEIGHTS] + \
        [str(a) for a in arguments]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if result.returncode != 0:
        return {'error': (result.stderr.strip().splitlines() or ['exit %d' % result.returncode])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_port(size, epochs, dtype='float32', save_image=None):
    return run_worker('--worker', '%dx%d' % size, '--epochs', epochs, '--dtype', dtype,
                      *(['--save-image', save_image] if save_image else []))


def bf16_effect(size, epochs):
    """A float32 and a bfloat16 run from the same seed: how far apart their results are."""
    import numpy as np
    with tempfile.TemporaryDirectory() as folder:
        images = [os.path.join(folder, dtype + '.npy') for dtype in ('float32', 'bfloat16')]
        for dtype, image in zip(('float32', 'bfloat16'), images):
            run = run_port(size, epochs - 1, dtype, image)
            if 'error' in run:
                return run
        fp32, bf16 = [np.load(image).astype(np.float64) for image in images]
        losses = run_worker('--loss-worker', '%dx%d' % size, '--epochs', epochs, '--images', ','.join(images))
    if 'error' in losses:
        return losses
    loss32, loss16 = losses['losses']
    return {'size': '%dx%d' % size, 'epochs': epochs,
            'image_relative_difference': float(np.linalg.norm(bf16 - fp32) / np.linalg.norm(fp32)),
            'max_pixel_difference': float(np.abs(bf16 - fp32).max()),
            'loss_float32_result': loss32, 'loss_bfloat16_result': loss16,
            'loss_relative_difference': (loss16 - loss32) / loss32}


def ensure_peer_environment():
    python = os.path.join(PEER_VENV, 'bin', 'python')
    if not os.path.exists(python):
        print('creating %s with torch==2.13.0 for the peer ...' % PEER_VENV, flush=True)
        subprocess.run([sys.executable, '-m', 'venv', PEER_VENV], check=True)
        subprocess.run([python, '-m', 'pip', 'install', '--quiet', 'torch==2.13.0', 'numpy'], check=True)
    return python


def run_peer(python, size, epochs):
    w, h = size
    result = subprocess.run([python, PEER, '--height', str(h), '--width', str(w), '--epochs', str(epochs)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return {'error': (result.stderr.strip().splitlines() or ['exit %d' % result.returncode])[-1]}
    words = result.stdout.split()  # "torch s/epoch <median> threads <n>"
    return {'s_per_epoch': float(words[2]), 'threads': int(words[4])}


# ---------------------------------------------------------------- the table

def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='300x200,600x400,1200x800', help='WxH,WxH,...')
    parser.add_argument('--epochs', type=int, default=5, help='timed epochs per size, after one warm-up')
    parser.add_argument('--no-peer', action='store_true', help='skip the PyTorch peer')
    parser.add_argument('--no-bf16', action='store_true', help='skip the --dtype bfloat16 rows')
    parser.add_argument('--bf16-check-size', default='300x200', help='WxH of the float32/bfloat16 comparison')
    parser.add_argument('--bf16-check-epochs', type=int, default=100, help='epochs of the comparison runs')
    parser.add_argument('--json', default=os.path.join(HERE, 'output', 'bench.json'), help='where to write the figures')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--process-start', type=float, help=argparse.SUPPRESS)
    parser.add_argument('--dtype', default='float32', help=argparse.SUPPRESS)
    parser.add_argument('--save-image', help=argparse.SUPPRESS)
    parser.add_argument('--loss-worker', help=argparse.SUPPRESS)
    parser.add_argument('--images', help=argparse.SUPPRESS)
    parser.add_argument('--params', help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(port_worker(parse_size(args.worker), args.epochs, args.process_start, args.params,
                                     args.dtype, args.save_image)))
        return
    if args.loss_worker:
        print(json.dumps(loss_worker(parse_size(args.loss_worker), args.epochs, args.images.split(','), args.params)))
        return

    sizes = [parse_size(text) for text in args.sizes.split(',')]
    peer_python = None if args.no_peer else ensure_peer_environment()
    weights_folder = tempfile.TemporaryDirectory()
    make_weights(weights_folder.name)
    print('machine: %s, %d CPUs usable, %s; random weights (not VGG-19)'
          % (platform.processor() or platform.machine(), len(os.sched_getaffinity(0)), cpu_model()), flush=True)
    rows = []
    for size in sizes:
        port = run_port(size, args.epochs)
        peer = run_peer(peer_python, size, args.epochs) if peer_python else {}
        rows.append({'size': '%dx%d' % size, 'port': port, 'peer': peer})
        print_row(rows[-1], flush=True)
        if not args.no_bf16:
            rows.append({'size': '%dx%d' % size, 'dtype': 'bfloat16', 'port': run_port(size, args.epochs, 'bfloat16'),
                         'peer': peer})
            print_row(rows[-1], flush=True)
    effect = None
    if not args.no_bf16:
        effect = bf16_effect(parse_size(args.bf16_check_size), args.bf16_check_epochs)
        print_effect(effect)
    report = {'machine': cpu_model(), 'cpus': len(os.sched_getaffinity(0)), 'weights': 'random (tests/weights.py)',
              'epochs_timed': args.epochs, 'rows': rows, 'bfloat16_effect': effect}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, 'w') as out:
        json.dump(report, out, indent=2)
    print('wrote %s' % args.json)


def print_effect(effect):
    if 'error' in effect:
        print('bfloat16 effect: not measured: %s' % effect['error'], flush=True)
        return
    print('bfloat16 effect (%s, %d epochs, same seed): final image differs from float32 by %.2g relative '
          '(max %.2f in pixel units); float32 loss of the results: %.5g (float32 run) vs %.5g (bfloat16 run), %+.2g '
          'relative' % (effect['size'], effect['epochs'], effect['image_relative_difference'],
                        effect['max_pixel_difference'], effect['loss_float32_result'],
                        effect['loss_bfloat16_result'], effect['loss_relative_difference']), flush=True)


def print_row(row, flush=False):
    port, peer = row['port'], row['peer']
    label = row['size'] + (' bf16' if row.get('dtype') == 'bfloat16' else '')
    if 'error' in port:
        print('%-14s port failed: %s' % (label, port['error']), flush=flush)
        return
    ratio = '%.2f' % (port['s_per_epoch'] / peer['s_per_epoch']) if 's_per_epoch' in peer else '-'
    print('%-14s port %6.2f s/epoch (%5.1f GFLOP/s, %s threads)  peer %s s/epoch  port/peer %s  '
          'start-up %.1f s (to the end of epoch 0: %.1f s)  peak %.0f MB'
          % (label, port['s_per_epoch'], port['gflop_per_epoch'] / port['s_per_epoch'], port['threads'],
             '%.2f' % peer['s_per_epoch'] if 's_per_epoch' in peer else '-', ratio,
             port['start_up_s'], port['start_to_first_epoch_s'], port['peak_rss_mb']), flush=flush)




if __name__ == '__main__':
    main()
