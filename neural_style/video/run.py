"""A video's whole run (stylize_video.py is its command line): the clip read frame by frame at the
working size, each frame stylised (video/frame_methods.py: by optimisation with the temporal term,
or by the generators; on a Ray cluster with --ray), the finished frames written at once into the
frames folder (resumable), and the video of the frames done."""
import dataclasses
import importlib
import json
import logging
import os
import sys
import time

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from neural_style.video import on_ray
from neural_style.dtype_choice import settled
from neural_style.errors import Interrupted, NstyleError
from neural_style.files.images import size_at_long_edge
from neural_style.files.output_folder import held_folder
from neural_style.long_work import AtOnce, stop_signals_between_epochs
from neural_style.mxnet_runtime import context_for
from neural_style.video import clips as video_io
from neural_style.video import flow as flows
from neural_style.video import frames_folder
from neural_style.video.frame_methods import (FramesByGenerators, FramesByOnePass, FramesByOptimisation,
                                              flow_between_frames, in_turn)
from neural_style.video.temporal import masked_mse

# settings that do not change the frames: a rerun with other values of these still resumes
# nstyle.py's settings that stylize_video.py has no flag for (its NOT_FOR_VIDEO): not in run.json
NOT_VIDEO_FLAGS = ('content_image', 'output_dir', 'save_epochs', 'remove_noise', 'multires', 'preset', 'size')
NOT_SETTINGS = ('output', 'overwrite', 'json', 'print_epochs', 'verbose', 'frames', 'gpu', 'no_audio', 'fps', 'ray',
                'cpus_per_job', 'gpus_per_job')


def working_size(size, long_edge, multiple=1, min_side=1, what='the model'):
    """(h, w) of the frames as stylised: the long edge --max-long-edge (nstyle.py's rule), each side
    rounded down to a multiple of `multiple` (the generators need one). A side under min_side (what
    the method needs) is an error, not a silently enlarged frame."""
    w, h = size
    working = size_at_long_edge((h, w), long_edge, multiple)
    if min(working) < max(min_side, multiple, 1):
        raise NstyleError('--max-long-edge %d: the %dx%d frames would be stylised at %dx%d, smaller than the %d '
                          'pixels a side %s needs; raise --max-long-edge' % (long_edge, w, h, working[1], working[0],
                                                                           max(min_side, multiple), what))
    return working


def method_needs(args):
    """(side multiple, smallest side, in words) of the frames for the chosen method."""
    if args.method == 'end_to_end':
        from neural_style.generators import checkpoints, networks as generators
        kind = checkpoints.find_kind(args.model_dir)
        return generators.SIDE_MULTIPLE[kind], generators.SIDE_MULTIPLE[kind], 'the %s generator' % kind
    if args.method in ('multistyle', 'arbitrary', 'wct', 'adain'):  # pads to its strides; WCT's relu5_1: 16
        return 1, 16, 'stylize.py\'s network'
    model = importlib.import_module('model_' + args.model)
    min_side = model.min_input_side(list(args.style_layers) + list(args.content_layers))
    if getattr(args, 'style_loss', 'gram') == 'mrf':  # as gatys/loss.py's rule: MRF patches need more
        from neural_style.gatys import mrf
        min_side = max(min_side, mrf.min_input_side(model, list(args.mrf_layers), args.mrf_patch_size))
    return 1, min_side, 'the style and content layers'


def frame_bounds(args, clip):
    start, stop = args.frames or (0, None)
    if start >= clip.count:
        raise NstyleError('--frames %d:%s starts after the end: INPUT %s has %d frames (0 to %d)'
                          % (start, '' if stop is None else stop, args.input, clip.count, clip.count - 1))
    return start, clip.count if stop is None else min(stop, clip.count)


def run_settings(args, clip, size):
    """What run.json records: the flags that change the frames, the input, the first frame and the
    size, and what the frames depend on (frames_folder.depends_on: the input's and the model's
    files), so that a resume never mixes frames of a replaced clip or of another checkpoint."""
    settings = {key: value for key, value in sorted(dataclasses.asdict(args).items())
                if key not in NOT_SETTINGS and key not in NOT_VIDEO_FLAGS}
    settings.update(input=os.path.abspath(args.input), first_frame=(args.frames or (0, None))[0], size=list(size))
    settings['depends_on'] = frames_folder.depends_on(args, clip)
    return json.loads(json.dumps(settings))  # as read back: tuples become lists


def check_output_outside_input(args, layout):
    """The frames folder may not be the input folder nor inside it (its frames would become input
    frames), and the video may not be the input file."""
    source = os.path.realpath(args.input)
    frames_dir = os.path.realpath(layout.frames_dir)
    if os.path.isdir(args.input) and (frames_dir == source or frames_dir.startswith(source + os.sep)):
        raise NstyleError('--output %s: its frames would go into %s, inside INPUT %s; choose an --output outside '
                          'the input folder' % (args.output, layout.frames_dir, args.input))
    if layout.video and os.path.realpath(layout.video) == source:
        raise NstyleError('--output %s is INPUT itself; choose another --output' % args.output)


def check_video_fits(args, clip):
    """The frames' run checked against this machine's memory before anything is allocated: a
    decoded input frame, the working frames, and the method's own estimate (gatys/memory.py's for
    the optimisation, generators/memory.py's for the generators)."""
    from neural_style.gatys.memory import run_bytes
    from neural_style.generators.memory import check_fits, inference_bytes
    h, w = args.size
    frames = 8 * clip.size[0] * clip.size[1] * 3 + 16 * h * w * 3 * 8  # a decoded frame as floats; flow fields
    method = inference_bytes(h * w) if args.method == 'end_to_end' else run_bytes(h * w, args.style_scale)
    check_fits(frames + method, '--max-long-edge %d' % args.max_long_edge,
                      'stylising %dx%d frames' % (w, h), 'lower --max-long-edge')


def make_stylizer(args, first_frame, dev, method_settings=None, styles=None):
    """The frames' stylizer for args.method; method_settings, styles: what the API gives as arrays
    (a one-pass MethodSettings; the optimisation's style images), instead of args' files."""
    if args.method in ('multistyle', 'arbitrary', 'wct', 'adain'):
        return FramesByOnePass(args, method_settings)
    if args.method == 'end_to_end':
        return FramesByGenerators(args.model_dir, args.dtype, args.original_colors, first_frame.shape[:2], dev)
    return FramesByOptimisation(args, args.temporal_weight, args.input, importlib.import_module('model_' + args.model),
                                first_frame, dev, styles)


class Progress:
    """The frames loop's bookkeeping: the seconds of the frames stylised by this run, the temporal
    error of each consecutive pair, and the frames finished."""

    def __init__(self):
        self.seconds, self.errors, self.last_done = [], [], None
        self.ran_out = False  # the input ended before the frames asked for (a truncated file)


def stylize_frames(args, clip, layout, stylizer, bounds):
    """Stylise frames start ... stop - 1 (those already finished are read back); returns a Progress
    and the stop signal (Ctrl-C, SIGTERM, SIGHUP) that ended the loop, or None."""
    start, stop = bounds
    done = frames_folder.finished_count(layout, start, stop)
    progress = Progress()
    want_error = args.json
    # the optical flow: for the temporal term (the optimisation with a temporal weight), a one-pass
    # network's blend with the previous result, and the error --json reports; a finished frame is read back
    warps = flow_between_frames(args)

    def needs_flow(index):
        return want_error or (warps and index >= start + done)

    def result(index, frame, previous):
        """A finished frame read back, or the frame stylised and written."""
        if index < start + done:
            output = frames_folder.read_frame(layout, index)
            if output.shape != frame.shape:
                raise NstyleError('--output %s: frame %d is %dx%d, not the run\'s %dx%d; pass --overwrite to '
                                  'start again' % (layout.frames_dir, index, output.shape[1], output.shape[0],
                                                   frame.shape[1], frame.shape[0]))
            return output
        began = time.time()
        output = stylizer.stylize(index, frame, previous)
        frames_folder.write_frame(layout, index, output)
        progress.seconds.append(time.time() - began)
        bar.update(1)  # the progress bar of the `with` below
        return output

    # at_once: a third Ctrl-C (second SIGTERM) drops the frame in progress; frames are written whole
    with stop_signals_between_epochs(at_once=True) as interrupted, logging_redirect_tqdm(), \
            tqdm(total=stop - start, initial=done, unit='frame', desc='stylize', file=sys.stderr,
                 dynamic_ncols=True) as bar:
        stylizer.at_once = AtOnce(interrupted)  # an optimising stylizer checks it each epoch
        if done:
            logging.info('resuming after frame %d (%d finished)', start + done - 1, done)
        frames = ((index, video_io.resized_frame(raw, args.size))
                  for index, raw in video_io.read_frames(clip, start, stop))
        for index, output, previous in in_turn(frames, result, needs_flow):
            if previous is not None and want_error:
                warped = flows.warp(previous.output, previous.backward)
                progress.errors.append(masked_mse(output, warped, previous.mask))
            progress.last_done = index
            if interrupted:
                logging.warning('interrupted: stopping after frame %d', index)
                break
        else:
            progress.ran_out = (progress.last_done if progress.last_done is not None else start - 1) < stop - 1
    return progress, interrupted.signum


def stylize_frames_on_ray(args, clip, layout, bounds):
    """--ray: the frames side by side on the cluster's workers (video/on_ray.py); the video is that of the
    frames finished one after the other from the first (no temporal error: it needs the frames in turn).
    A frame that failed ends the run with an error, after that video."""
    done = on_ray.stylize_frames(args, clip, layout, bounds)
    progress = Progress()
    progress.seconds, progress.last_done = done.seconds, done.last_done
    if done.failed and progress.last_done is not None and layout.video:
        write_result_video(args, clip, layout, (bounds[0], progress.last_done))
    if done.failed and progress.last_done is None:  # not one frame done: nothing to resume
        raise NstyleError('--ray: %d frames failed (frame %d first, see above); no frame is done'
                          % (len(done.failed), done.failed[0]))
    if done.failed:
        raise NstyleError('--ray: %d frames failed (frame %d first, see above); the frames up to %s are done: run '
                          'again to resume' % (len(done.failed), done.failed[0], progress.last_done))
    return progress, done.interrupted or None  # the stop signal that ended it (SIGINT, SIGTERM, SIGHUP)


def write_result_video(args, clip, layout, bounds):
    """OUT's video of the finished frames start ... last, at the input's frame rate, with its audio."""
    start, last = bounds
    count = last - start + 1
    audio = None
    if clip.audio and not args.no_audio:
        audio = (clip.path, start / clip.fps, count / clip.fps)
    frames = (frames_folder.read_frame(layout, index) for index in range(start, last + 1))
    video_io.write_video(layout.video, frames, clip.fps, audio)
    logging.info('wrote %s: %d frames at %g fps%s', layout.video, count, clip.fps, ' with audio' if audio else '')


def stylize_video(args):
    """The whole run; returns the report (--json's object). Raises NstyleError for problems the
    user can fix, KeyboardInterrupt after writing the video of the frames done."""
    layout = frames_folder.output_layout(args.output)
    clip = video_io.open_clip(args.input, 'INPUT', args.fps)
    bounds = frame_bounds(args, clip)
    check_output_outside_input(args, layout)
    multiple, min_side, what = method_needs(args)
    args = dataclasses.replace(args, size=working_size(clip.size, args.max_long_edge, multiple, min_side, what))
    check_video_fits(args, clip)  # before the first frame is decoded or resized
    stylizer = None
    if args.ray is None:  # with --ray the workers load the generators; the driver checks them first
        args = settled(args)  # --dtype auto: this machine's choice
        dev = context_for(args.gpu, args.dtype)
        first_frame = video_io.resized_frame(next(video_io.read_frames(clip, bounds[0], bounds[0] + 1))[1],
                                             args.size)
        stylizer = make_stylizer(args, first_frame, dev)  # reads the style and the weights: fails before any write
    # one run at a time into a frames folder: a second would interleave its frames with this one's
    with held_folder(layout.frames_dir, '--output'):
        frames_folder.prepare(layout, run_settings(args, clip, args.size), args.overwrite)
        try:
            if stylizer is None:
                progress, stop_signal = stylize_frames_on_ray(args, clip, layout, bounds)
            else:
                progress, stop_signal = stylize_frames(args, clip, layout, stylizer, bounds)
        except BaseException:
            frames_folder.forget_empty_run(layout)  # no frame done: no run.json to resume from
            raise
        if progress.last_done is None:  # stopped or failed before its first frame: nothing to resume
            frames_folder.forget_empty_run(layout)
            if stop_signal is not None:
                raise Interrupted(stop_signal)
            raise NstyleError('INPUT %s: none of its frames %d to %d could be read; give another video'
                              % (args.input, bounds[0], bounds[1] - 1))
        if stop_signal is None and progress.last_done < bounds[1] - 1 and clip.kind == 'video' and \
                progress.ran_out:  # a truncated clip (read_frames said so): its readable frames are the run
            bounds = (bounds[0], progress.last_done + 1)
        complete = stop_signal is None and progress.last_done == bounds[1] - 1
        replacing = os.path.isdir(os.path.join(layout.frames_dir, frames_folder.EARLIER_RUN))
        # the video of the frames done, also after a stop; but an earlier run's video that --overwrite
        # replaces stays until this run is complete
        if layout.video and progress.last_done is not None and (complete or not replacing):
            write_result_video(args, clip, layout, (bounds[0], progress.last_done))
        if complete:
            frames_folder.finish_overwrite(layout)
        elif replacing:
            logging.warning('--overwrite: this run is not complete, so the earlier run\'s results stay (its video, '
                            'its frames in %s); run again to resume', os.path.join(layout.frames_dir,
                                                                                  frames_folder.EARLIER_RUN))
    if stop_signal is not None:
        raise Interrupted(stop_signal)  # exit 128 + the signal, after the video of the frames done
    return {
        'output': layout.video or layout.frames_dir, 'frames_dir': layout.frames_dir, 'method': args.method,
        'frames': progress.last_done - bounds[0] + 1, 'stylized_now': len(progress.seconds),
        'size': list(args.size), 'fps': clip.fps,
        'seconds_per_frame': float(np.mean(progress.seconds)) if progress.seconds else None,
        'temporal_error': float(np.mean(progress.errors)) if progress.errors else None,
    }
