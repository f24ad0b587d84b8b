"""Benchmark: the memory one pixel of the content image costs a run, for neural_style/memory.py.

    python benchmarks/memory_per_pixel.py                 # square images of 256 and 512 pixels a side
    python benchmarks/memory_per_pixel.py --edges 256,768

Each size is one epoch of nstyle.py in a fresh process (random weights in the real file format,
tests/weights.py: the same memory as the real VGG-19), its peak resident memory read from
os.wait4; the cost of a pixel is the slope between the sizes, the fixed part (imports, weights)
the intercept. Then once more with --style-scale 2 at the smallest size: what a style image of
that many times the content's pixels adds. Prints; asserts nothing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'tests'))


def peak_rss(args, folder):
    """Peak resident bytes of `python nstyle.py ARGS` (one epoch), from the kernel's rusage."""
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'nstyle.py')] + args, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        sys.exit('nstyle.py failed: ' + proc.stderr.read()[-2000:])
    return usage.ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--edges', default='256,512', help='sides of the square content images')
    options = parser.parse_args()
    edges = [int(edge) for edge in options.edges.split(',')]
    from weights import random_vgg19_arrays, save_params
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, 'vgg19.params')
        save_params(weights, random_vgg19_arrays(seed=0))
        image = os.path.join(folder, 'square.png')
        rng = np.random.RandomState(0)
        Image.fromarray(rng.randint(0, 256, (max(edges), max(edges), 3)).astype(np.uint8)).save(image)

        def run(edge, *extra):
            out = tempfile.mkdtemp(dir=folder)
            return peak_rss(['--gpu', '-1', '--max-num-epochs', '1', '--max-long-edge', str(edge), '--content-image',
                             image, '--style-image', image, '--vgg-params', weights, '--output_dir', out] + list(extra),
                            folder)

        peaks = [run(edge) for edge in edges]
        for edge, peak in zip(edges, peaks):
            print('%dx%d: peak %.0f MB' % (edge, edge, peak / 2**20))
        slope, intercept = np.polyfit([edge * edge for edge in edges], peaks, 1)
        print('per content pixel: %.0f bytes; fixed: %.0f MB' % (slope, intercept / 2**20))
        scaled = run(edges[0], '--style-scale', '2')
        print('%dx%d with --style-scale 2: peak %.0f MB, %.0f bytes per style pixel beyond the content\'s'
              % (edges[0], edges[0], scaled / 2**20, (scaled - peaks[0]) / (4 * edges[0] ** 2)))
        with open('/proc/cpuinfo') as f:
            print(next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '?'),
                  '(OMP_NUM_THREADS=%s)' % os.environ.get('OMP_NUM_THREADS', 'unset'))


if __name__ == '__main__':
    main()
