"""Benchmark: flicker against --temporal-weight, and the optical flow methods, on the tests' synthetic
clip (a window panning across the sample photo; tests/clips.py). Weights are RANDOM (tests/weights.py),
not VGG-19: the numbers show the method's behaviour, not how good a style looks.

    python benchmarks/video_bench.py                                  # weights 0 (baseline), 1, 10, 100, 1000
    python benchmarks/video_bench.py --weights 0,100 --epochs 50 --frames 8
    python benchmarks/video_bench.py --flow-only
    python benchmarks/video_bench.py --save-clip input/pan.mp4        # only write the clip (with a tone)

For each temporal weight: stylize_video.py's run (in this process) on the clip with the same flags,
and per run the temporal error (stylize_video.py --json's: the masked MSE between each result and the
previous one warped by the input's flow, in 8-bit values squared), the seconds per frame, and the loss
the frames reach (content + style, weighted as in the gradient, mean over the frames). Weight 0 runs
with --init noise: the per-frame baseline. The flow part times skimage's optical_flow_tvl1 and
optical_flow_ilk on the clip's pairs and on a pair with an object moving over a still background, and
prints their largest error against the known shift. It asserts nothing.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [HERE, os.path.join(HERE, 'tests')]

import stylize_video  # noqa: E402
from clips import moving_square, panning_frames, save_frames, small_style, write_clip  # noqa: E402
from neural_style.video import flow as flows  # noqa: E402
from neural_style.video import frames_folder  # noqa: E402
from neural_style.files import images  # noqa: E402
from weights import random_vgg19_arrays, save_params  # noqa: E402


def frames_loss(stylizer, frames, outputs):
    """Mean over the frames of the content + style loss of each result, weighted as in the gradient."""
    losses = []
    for frame, output in zip(frames, outputs):
        loss, _ = stylizer.loss_for(frame)
        loss.executor.data[:] = images.pixels_to_network(output, output.shape[:2])
        loss.executor.executor.forward()
        losses.append(sum(value for _, value in loss.named_losses()[:2]))
    return float(np.mean(losses))


def run_weight(options, folder, weight):
    flags = [os.path.join(folder, 'clip'), '--output', os.path.join(folder, 'out_%g' % weight),
             '--style-image', os.path.join(folder, 'style.png'), '--vgg-params', os.path.join(folder, 'vgg19.params'),
             '--gpu', '-1', '--max-long-edge', str(max(options.window)), '--max-num-epochs', str(options.epochs),
             '--seed', '0', '--temporal-weight', str(weight), '--json', '--optimizer', options.optimizer]
    if weight == 0:
        flags += ['--init', 'noise']
    args = stylize_video.get_args(flags + options.extra)
    report = stylize_video.stylize_video(args)
    layout = frames_folder.output_layout(args.output)
    outputs = [frames_folder.read_frame(layout, t) for t in range(options.frames)]
    frames = panning_frames(options.frames, options.window)
    from neural_style.video.run import make_stylizer
    stylizer = make_stylizer(args, frames[0], find_mxnet_cpu())
    return report, frames_loss(stylizer, frames, outputs)


def find_mxnet_cpu():
    import mxnet as mx
    return mx.cpu()


def moving_object_pair(shift=(0, 3), size=(48, 64), corner=(16, 20)):
    """clips.moving_square's frames, the true backward flow, and where it is judged: away from the
    image's border and from the square's edges (where the flow is ambiguous)."""
    previous, current = moving_square(shift, size, corner)
    truth = np.zeros((2,) + size)
    top, left = corner[0] + shift[0], corner[1] + shift[1]
    truth[0][top:top + 16, left:left + 16], truth[1][top:top + 16, left:left + 16] = -shift[0], -shift[1]
    judged = np.zeros(size, bool)
    judged[4:-4, 4:-4] = True
    edge = np.zeros(size, bool)
    edge[top - 3 - shift[0]:top + 19, left - 3 - shift[1]:left + 19] = True
    edge[top + 3:top + 13, left + 3:left + 13] = False
    return previous, current, truth, judged & ~edge


def flow_benchmark(options):
    frames = panning_frames(options.frames, options.window)
    pairs = [('pan %dx%d' % options.window[::-1], frames[t], frames[t - 1], np.array(options.step, float)[:, None, None]
              * np.ones((2,) + options.window), np.pad(np.ones((options.window[0] - 8, options.window[1] - 8), bool), 4))
             for t in range(1, len(frames))]
    previous, current, truth, judged = moving_object_pair()
    pairs.append(('moving square', current, previous, truth, judged))
    print('%-16s %-6s %12s %16s' % ('clip', 'method', 'ms per flow', 'largest error px'))
    for method in sorted(flows.FLOW_METHODS):
        for label in sorted(set(p[0] for p in pairs)):
            chosen = [p for p in pairs if p[0] == label]
            began = time.perf_counter()
            errors = [np.abs(flows.optical_flow(cur, prev, method) - truth)[:, judged].max()
                      for _, cur, prev, truth, judged in chosen]
            ms = (time.perf_counter() - began) / len(chosen) * 1000
            print('%-16s %-6s %12.1f %16.2f' % (label, method, ms, max(errors)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--weights', default='0,1,10,100,1000', help='temporal weights; 0 is the baseline')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--frames', type=int, default=6)
    parser.add_argument('--optimizer', default='nag')
    parser.add_argument('--flow-only', action='store_true')
    parser.add_argument('--save-clip', metavar='PATH', help='write the clip as a video (10 fps, with a 440 Hz tone) '
                                                            'and stop')
    parser.add_argument('extra', nargs='*', help='more stylize_video.py flags (after --)')
    options = parser.parse_args()
    options.window, options.step = (32, 48), (1, 2)
    if options.save_clip:
        write_clip(options.save_clip, panning_frames(options.frames, options.window), fps=10,
                   audio_seconds=options.frames / 10)
        print('wrote %s: %d frames %dx%d at 10 fps, with audio' % (options.save_clip, options.frames,
                                                                   options.window[1], options.window[0]))
        return
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
               'unknown CPU')
    print('machine: %s, %d CPUs usable, OMP_NUM_THREADS=%s; random weights (not VGG-19)'
          % (cpu, len(os.sched_getaffinity(0)), os.environ.get('OMP_NUM_THREADS')))
    flow_benchmark(options)
    if options.flow_only:
        return
    with tempfile.TemporaryDirectory() as folder:
        save_frames(os.path.join(folder, 'clip'), panning_frames(options.frames, options.window))
        small_style(os.path.join(folder, 'style.png'))
        save_params(os.path.join(folder, 'vgg19.params'), random_vgg19_arrays(0))
        print('clip: %d frames %dx%d, pan %s px per frame; --optimizer %s, --max-num-epochs %d per frame %s'
              % (options.frames, options.window[1], options.window[0], options.step, options.optimizer,
                 options.epochs, ' '.join(options.extra)))
        print('%-16s %16s %10s %14s' % ('temporal weight', 'temporal error', 's/frame', 'frames\' loss'))
        for weight in [float(w) for w in options.weights.split(',')]:
            report, loss = run_weight(options, folder, weight)
            print('%-16s %16.3f %10.2f %14.4g' % ('%g%s' % (weight, ' (baseline)' if weight == 0 else ''),
                                                  report['temporal_error'], report['seconds_per_frame'], loss))


if __name__ == '__main__':
    main()
