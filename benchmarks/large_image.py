"""Benchmark: the time and peak memory of turning a large photo into a small network input
(PreprocessContentImage at --max-long-edge 64), each in a fresh process.

    python benchmarks/large_image.py                          # 6000x4000 JPEG and PNG, this tree
    python benchmarks/large_image.py --size 10000x10000 --projects /work/main,.

--projects: project trees to compare side by side (another checkout's neural_style/). Prints;
asserts nothing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

# Peak memory: VmHWM, the child's own (ru_maxrss would carry over this parent's peak).
CHILD = '''
import sys, time
sys.path.insert(0, sys.argv[1])
from neural_style.files import images


def peak_mb():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith('VmHWM:'))


before = peak_mb()
start = time.time()
images.PreprocessContentImage(sys.argv[2], 64)
print(time.time() - start, before, peak_mb())
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='6000x4000', help='WxH of the test photo')
    parser.add_argument('--projects', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    options = parser.parse_args()
    w, h = map(int, options.size.split('x'))
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    pixels = np.stack([127 + 100 * np.sin(x / w * 6), 127 + 100 * np.cos(y / h * 5),
                       127 + 100 * np.sin((x + y) / (w + h) * 9)], axis=2).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        paths = {'jpg': os.path.join(folder, 'large.jpg'), 'png': os.path.join(folder, 'large.png')}
        Image.fromarray(pixels).save(paths['jpg'], quality=95)
        Image.fromarray(pixels).save(paths['png'], compress_level=1)
        del pixels, x, y
        print('%dx%d to a long edge of 64:' % (w, h))
        for project in options.projects.split(','):
            for kind, path in paths.items():
                out = subprocess.run([sys.executable, '-c', CHILD, os.path.abspath(project), path],
                                     capture_output=True, text=True, check=True).stdout.split()
                print('  %-24s %s: %6.2f s, peak memory %5.0f MB (%3.0f MB after the imports)'
                      % (project, kind.upper(), float(out[0]), float(out[2]), float(out[1])))
    with open('/proc/cpuinfo') as f:
        print(next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '?'))


if __name__ == '__main__':
    main()
