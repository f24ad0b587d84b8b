"""Benchmark: the end_to_end generators, ours (MXNet) beside the PyTorch peer, in one run.

    python benchmarks/generators.py                       # 480x640 inference, training steps, the peer
    python benchmarks/generators.py --no-train --no-peer --repeats 10

Inference: milliseconds per image of the stylizer (neural_style.generators.inference, bound once, as
boost_inference.py runs it), median of --repeats after one warm-up, for the original's chain of four
generators and for Johnson et al.'s network, float32 and (where the CPU has AVX512-BF16) bfloat16
convolutions. Training: seconds per training image of one step (boost_train.py's: the chain at
384x384 one image a step, Johnson's network at 256x256 four images a step), median of --train-steps
after one warm-up. The peer (benchmarks/torch_generators.py, the same layers in PyTorch, inference
only) runs in .venv-torch with the same thread count. All weights are RANDOM (the generators' and
VGG-19's, tests/weights.py): a step costs the same as with trained ones. This asserts nothing.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
sys.path.insert(0, HERE)

from neural_style import mxnet_runtime  # noqa: E402
from neural_style.mxnet_runtime import mx  # noqa: E402
import numpy as np  # noqa: E402

PEER = os.path.join(HERE, 'benchmarks', 'torch_generators.py')
PEER_PYTHON = os.path.join(HERE, '.venv-torch', 'bin', 'python')


def random_params(kind, size):
    """Random (arg_params, aux_params) of the chain or Johnson's network at size (h, w)."""
    from neural_style.generators.checkpoints import expected_shapes
    from neural_style.generators.inference import training_symbols
    rng = np.random.RandomState(0)
    arg_params, aux_params = {}, {}
    for symbol, data_name in training_symbols(kind, size):
        for key, shape in expected_shapes(symbol, {data_name: (1, 3) + tuple(size)}).items():
            value = rng.uniform(0.5, 1.5, shape) if key.endswith('_var') else rng.normal(0, 0.05, shape)
            (arg_params if key.startswith('arg:') else aux_params)[key[4:]] = mx.nd.array(value)
    return arg_params, aux_params


def median_seconds(work, repeats):
    """(wall, CPU) seconds of work(), medians: on a shared machine the CPU time (all threads) is the
    figure other processes disturb least."""
    work()  # warm-up: oneDNN picks and caches its kernels
    walls, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


def inference_ms(kind, size, dtype, repeats):
    from neural_style.generators.inference import bind_stylizer
    stylizer = bind_stylizer(kind, random_params(kind, size), size, mx.cpu(), dtype)
    pixels = np.random.RandomState(1).uniform(0, 255, tuple(size) + (3,)).astype(np.uint8)
    return [seconds * 1000 for seconds in median_seconds(lambda: stylizer.stylize(pixels), repeats)]


def training_s_per_image(kind, vgg_params, dtype, steps):
    """One boost_train.py step's seconds per image, with its default size and batch."""
    import model_vgg19
    from neural_style.generators.training import GeneratorTrainer, TrainSettings
    from neural_style.files.images import PreprocessStyleImage
    from neural_style.gatys.loss import Vgg
    from neural_style.generators.perceptual_loss import LossWeights, PerceptualLoss
    from neural_style.generators.inference import training_symbols
    side, batch, layer = (384, 1, 'relu4_2') if kind == 'v3chain' else (256, 4, 'relu2_2')
    size = (side, side)
    net = Vgg(model_vgg19, model_vgg19.load_params(vgg_params), mx.cpu(), dtype, None)
    style = PreprocessStyleImage(os.path.join(HERE, 'input', 'starry_night.jpg'), (1, 3) + size)
    loss = PerceptualLoss(net, style, size, LossWeights(1.2, 10), layer)
    if kind == 'v3chain':
        settings = TrainSettings('sgd', {'learning_rate': 1e-4, 'momentum': 0.9, 'wd': 5e-3, 'clip_gradient': 5.0},
                                 0.01, 0.05 * 3 * side * side)
    else:
        settings = TrainSettings('adam', {'learning_rate': 1e-3}, 0.01, None)
    trainer = GeneratorTrainer(training_symbols(kind, size), (batch, 3) + size, mx.cpu(), settings)
    contents = np.random.RandomState(2).uniform(-120, 130, (batch, 3) + size)

    def step():
        if kind == 'v3chain':
            loss.set_content(contents)
            trainer.chain_step(loss, contents)
        else:
            trainer.batch_step(loss, contents)
        mx.nd.waitall()
    return [seconds / batch for seconds in median_seconds(step, steps)]


def peer_lines(python, size, repeats, dtypes):
    if not os.path.exists(python):
        return ['(no peer: %s is missing; python3 -m venv .venv-torch && .venv-torch/bin/pip install '
                'torch==2.13.0 numpy, or pass --peer-python)' % python]
    result = subprocess.run([python, PEER, '--height', str(size[0]), '--width', str(size[1]), '--repeats',
                             str(repeats), '--dtypes', ','.join(dtypes)], capture_output=True, text=True)
    if result.returncode != 0:
        return ['(peer failed: %s)' % (result.stderr.strip().splitlines() or ['exit %d' % result.returncode])[-1]]
    return result.stdout.strip().splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', default='480x640', help='HEIGHTxWIDTH of the inference timings')
    parser.add_argument('--repeats', type=int, default=5, help='timed inferences, after one warm-up')
    parser.add_argument('--train-steps', type=int, default=2, help='timed training steps, after one warm-up')
    parser.add_argument('--no-train', action='store_true')
    parser.add_argument('--no-peer', action='store_true')
    parser.add_argument('--no-bf16', action='store_true')
    parser.add_argument('--peer-python', default=PEER_PYTHON,
                        help='the Python with torch==2.13.0 (default: %(default)s)')
    args = parser.parse_args()
    from neural_style.mxnet_runtime import cpu_flags
    size = tuple(int(side) for side in args.size.split('x'))
    dtypes = ['float32'] + (['bfloat16'] if 'avx512_bf16' in cpu_flags() and not args.no_bf16 else [])
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
               'unknown CPU')
    print('CPU %s, %s threads (OMP_NUM_THREADS), %s cores visible; random weights' % (
        cpu, mxnet_runtime.THREADS, os.cpu_count()), flush=True)
    for kind in ('v3chain', 'johnson'):
        for dtype in dtypes:
            wall, cpu = inference_ms(kind, size, dtype, args.repeats)
            print('mxnet %s %s ms/image %.1f cpu-ms %.1f (%dx%d inference)'
                  % (kind, dtype, wall, cpu, size[1], size[0]), flush=True)
    if not args.no_peer:
        for line in peer_lines(args.peer_python, size, args.repeats, dtypes):
            print(line, flush=True)
    if not args.no_train:
        from tests.weights import random_vgg19_arrays, save_params
        with tempfile.TemporaryDirectory() as folder:
            vgg_params = os.path.join(folder, 'vgg19.params')
            save_params(vgg_params, random_vgg19_arrays())
            for kind in ('v3chain', 'johnson'):
                for dtype in dtypes:
                    wall, cpu = training_s_per_image(kind, vgg_params, dtype, args.train_steps)
                    print('mxnet %s training, VGG-19 %s: s/image %.2f cpu-s %.2f' % (kind, dtype, wall, cpu),
                          flush=True)


if __name__ == '__main__':
    main()
