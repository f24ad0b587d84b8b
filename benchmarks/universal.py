"""Benchmark: universal style transfer (neural_style/universal), in one run on one machine.

    python benchmarks/universal.py                  # all three parts; prints a table, writes output/universal.json
    python benchmarks/universal.py --size 256 --memory-size 512 --repeats 2   # quicker

1. The transforms against the same transforms in plain numpy (the authors' formulas in float64, as
   test_universal.py's reference): the features of a --size image at each level (relu1_1: 64 x size^2,
   ... relu5_1: 512 x (size/16)^2), ours and numpy's interleaved, the minimum of --repeats each: ratio.
2. The whole WCT pass at --size x --size (content and style), per level (encode both, WCT, decode),
   the minimum of --repeats, and the five levels together.
3. The peak resident memory of the whole five-level pass at --memory-size (content and style), in a
   fresh process, beside that process's memory before the pass.

Networks are seeded RANDOM (the real ones cannot be downloaded here): a pass costs the same with the
authors' weights. Asserts nothing.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'benchmarks'))
sys.path.insert(0, os.path.join(HERE, 'tests'))

import numpy as np  # noqa: E402

from machine import cpu_model  # noqa: E402
from universal_reference import reference_wct as numpy_wct  # noqa: E402

CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}


def numpy_adain(content, style, epsilon=1e-5):
    c = content.reshape(content.shape[0], -1).astype(np.float64)
    s = style.reshape(style.shape[0], -1).astype(np.float64)
    normalised = (c - c.mean(1, keepdims=True)) / np.sqrt(c.var(1, keepdims=True) + epsilon)
    return (normalised * s.std(1, keepdims=True) + s.mean(1, keepdims=True)).reshape(content.shape)


def timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def transform_ratios(size, repeats):
    from neural_style.universal import transforms
    rng = np.random.RandomState(0)
    rows = []
    for level, channels in CHANNELS.items():
        side = size // 2 ** (level - 1)
        content = np.maximum(rng.normal(size=(channels, side, side)), 0).astype(np.float32)
        style = np.maximum(rng.normal(size=(channels, side, side)) + 0.2, 0).astype(np.float32)
        for name, ours, peer in (('wct', transforms.wct, numpy_wct), ('adain', transforms.adain, numpy_adain)):
            ours_times, peer_times = [], []
            for _ in range(repeats):  # interleaved: a busy moment slows both
                ours_times.append(timed(ours, content, style))
                peer_times.append(timed(peer, content, style))
            rows.append({'transform': name, 'level': level, 'shape': [channels, side, side],
                         'ours_s': min(ours_times), 'numpy_s': min(peer_times),
                         'ratio_numpy_over_ours': min(peer_times) / min(ours_times)})
            print('%-5s relu%d_1 %4dx%4dx%4d: ours %.4f s, numpy %.4f s, numpy/ours %.2f'
                  % (name, level, channels, side, side, min(ours_times), min(peer_times),
                     rows[-1]['ratio_numpy_over_ours']), flush=True)
    return rows


def pass_per_level(size, repeats):
    from neural_style.universal import stylize
    rng = np.random.RandomState(1)
    content = rng.rand(size, size, 3).astype(np.float32) * 255
    style = rng.rand(size, size, 3).astype(np.float32) * 255
    weights = stylize.random_weights('wct', 5, seed=0)
    rows = []
    for level in (5, 4, 3, 2, 1):
        settings = stylize.UniversalSettings('wct', 1.0, [level])
        seconds = min(timed(stylize.stylize_universal, content, [style], None, settings, weights)
                      for _ in range(repeats))
        rows.append({'level': level, 'seconds': seconds})
        print('WCT pass at %dx%d, level %d (encode content and style, WCT, decode): %.3f s'
              % (size, size, level, seconds), flush=True)
    whole = min(timed(stylize.stylize_universal, content, [style], None, stylize.UniversalSettings(), weights)
                for _ in range(repeats))
    print('WCT pass at %dx%d, five levels: %.3f s' % (size, size, whole), flush=True)
    return rows, whole


MEMORY_CHILD = r'''
import resource, sys, json
import numpy as np
from neural_style.universal import stylize
size = int(sys.argv[1])
weights = stylize.random_weights('wct', 5, seed=0)
rng = np.random.RandomState(2)
content = rng.rand(size, size, 3).astype(np.float32) * 255
style = rng.rand(size, size, 3).astype(np.float32) * 255
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stylize.stylize_universal(content, [style], weights=weights)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({'before_mb': before / 1024, 'peak_mb': after / 1024}))
'''


def peak_memory(size):
    env = dict(os.environ, PYTHONPATH=HERE)
    out = subprocess.run([sys.executable, '-c', MEMORY_CHILD, str(size)], env=env, capture_output=True, text=True,
                         check=True, cwd=HERE)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    print('peak memory of the five-level WCT pass at %dx%d: %.0f MB (%.0f MB before the pass: MXNet, the weights)'
          % (size, size, found['peak_mb'], found['before_mb']), flush=True)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--memory-size', type=int, default=1024)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--output', default=os.path.join(HERE, 'output', 'universal.json'))
    args = parser.parse_args()
    print('CPU: %s, %d cores; weights: RANDOM (seeded)' % (cpu_model(), os.cpu_count()), flush=True)
    result = {'cpu': cpu_model(), 'cores': os.cpu_count(), 'size': args.size, 'repeats': args.repeats,
              'transforms': transform_ratios(args.size, args.repeats)}
    result['pass_levels'], result['pass_whole_s'] = pass_per_level(args.size, args.repeats)
    result['memory'] = dict(peak_memory(args.memory_size), size=args.memory_size)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w') as f:
        json.dump(result, f, indent=1)
    print('wrote %s' % args.output)


if __name__ == '__main__':
    main()
