"""A video's whole run (stylize_video.py is its command line): the clip read frame by frame at the
working size, each frame stylised (video/frame_methods.py: by optimisation with the temporal term,
or by the generators; on a Ray cluster with --ray), the finished frames written at once into the
frames folder (resumable), and the video of the frames done."""
import dataclasses
import importlib
import json
import logging
import os
import signal
import sys
import time

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from neural_style.cluster import ray_inference
from neural_style.dtype_choice import settled
from neural_style.errors import Interrupted, NstyleError
from neural_style.files.images import size_at_long_edge
from neural_style.files.output_folder import held_folder
from neural_style.long_work import stop_signals_between_epochs
from neural_style.mxnet_runtime import context_for
from neural_style.video import clips as video_io
from neural_style.video import flow as flows
from neural_style.video import frames_folder
from neural_style.video.frame_methods import FramesByGenerators, FramesByOnePass, FramesByOptimisation, Previous
from neural_style.video.temporal import masked_mse

# settings that do not change the frames: a rerun with other values of these still resumes
# nstyle.py's settings that stylize_video.py has no flag for (its NOT_FOR_VIDEO): not in run.json
NOT_VIDEO_FLAGS = ('content_image', 'output_dir', 'save_epochs', 'remove_noise', 'multires', 'preset', 'size')
NOT_SETTINGS = ('output', 'overwrite', 'json', 'print_epochs', 'verbose', 'frames', 'gpu', 'no_audio', 'fps', 'ray',
                'cpus_per_job', 'gpus_per_job')


def working_size(size, long_edge, multiple=1):
    """(h, w) of the frames as stylised: the long edge --max-long-edge (nstyle.py's rule), each side
    rounded down to a multiple of `multiple` (the generators need one)."""
    w, h = size
    return tuple(max(multiple, side) for side in size_at_long_edge((h, w), long_edge, multiple))


def frame_bounds(args, clip):
    start, stop = args.frames or (0, None)
    if start >= clip.count:
        raise NstyleError('--frames %d:%s starts after the end: INPUT %s has %d frames (0 to %d)'
                          % (start, '' if stop is None else stop, args.input, clip.count, clip.count - 1))
    return start, clip.count if stop is None else min(stop, clip.count)


def run_settings(args, clip, size):
    """What run.json records: the flags that change the frames, the input, the first frame and the size."""
    settings = {key: value for key, value in sorted(dataclasses.asdict(args).items())
                if key not in NOT_SETTINGS and key not in NOT_VIDEO_FLAGS}
    settings.update(input=os.path.abspath(args.input), first_frame=(args.frames or (0, None))[0], size=list(size))
    return json.loads(json.dumps(settings))  # as read back: tuples become lists


def generator_multiple(args):
    from neural_style.generators import checkpoints
    from neural_style.generators import networks as generators
    return generators.SIDE_MULTIPLE[checkpoints.find_kind(args.model_dir)]


def make_stylizer(args, first_frame, dev):
    if args.method in ('multistyle', 'arbitrary', 'wct', 'adain'):
        return FramesByOnePass(args)
    if args.method == 'end_to_end':
        return FramesByGenerators(args.model_dir, args.dtype, args.original_colors, first_frame.shape[:2], dev)
    return FramesByOptimisation(args, args.temporal_weight, args.input, importlib.import_module('model_' + args.model),
                                first_frame, dev)


class Progress:
    """The frames loop's bookkeeping: the seconds of the frames stylised by this run, the temporal
    error of each consecutive pair, and the frames finished."""

    def __init__(self):
        self.seconds, self.errors, self.last_done = [], [], None


def stylize_frames(args, clip, layout, stylizer, bounds):
    """Stylise frames start ... stop - 1 (those already finished are read back); returns a Progress
    and the stop signal (Ctrl-C, SIGTERM, SIGHUP) that ended the loop, or None."""
    start, stop = bounds
    done = frames_folder.finished_count(layout, start, stop)
    progress = Progress()
    want_error = args.json
    previous_in = previous_out = None
    with stop_signals_between_epochs() as interrupted, logging_redirect_tqdm(), \
            tqdm(total=stop - start, initial=done, unit='frame', desc='stylize', file=sys.stderr,
                 dynamic_ncols=True) as bar:
        if done:
            logging.info('resuming after frame %d (%d finished)', start + done - 1, done)
        for index, raw in video_io.read_frames(clip, start, stop):
            began = time.time()
            frame = video_io.resized_frame(raw, args.size)
            finished = index < start + done
            backward = mask = None
            # the optical flow: for the temporal term (the optimisation with a temporal weight) and for
            # the error --json reports; a forward pass per frame needs none
            warps = args.method == 'optimize' and args.temporal_weight > 0
            if previous_in is not None and (want_error or (warps and not finished)):
                backward, mask = flows.flow_and_mask(frame, previous_in)
            if finished:
                output = frames_folder.read_frame(layout, index)
                if output.shape != frame.shape:
                    raise NstyleError('--output %s: frame %d is %dx%d, not the run\'s %dx%d; pass --overwrite to '
                                      'start again' % (layout.frames_dir, index, output.shape[1], output.shape[0],
                                                       frame.shape[1], frame.shape[0]))
            else:
                output = stylizer.stylize(index, frame,
                                          None if previous_in is None else Previous(previous_out, backward, mask))
                frames_folder.write_frame(layout, index, output)
                progress.seconds.append(time.time() - began)
                bar.update(1)
            if backward is not None and want_error:
                progress.errors.append(masked_mse(output, flows.warp(previous_out, backward), mask))
            previous_in, previous_out, progress.last_done = frame, output, index
            if interrupted:
                logging.warning('interrupted: stopping after frame %d', index)
                break
    return progress, interrupted.signum


def stylize_frames_on_ray(args, clip, layout, bounds):
    """--ray: the frames side by side on the cluster's workers (ray_inference); the video is that of the
    frames finished one after the other from the first (no temporal error: it needs the frames in turn).
    A frame that failed ends the run with an error, after that video."""
    done = ray_inference.stylize_frames_on_ray(args, clip, layout, bounds)
    progress = Progress()
    progress.seconds, progress.last_done = done.seconds, done.last_done
    if done.failed and progress.last_done is not None and layout.video:
        write_result_video(args, clip, layout, (bounds[0], progress.last_done))
    if done.failed:
        raise NstyleError('--ray: %d frames failed (frame %d first, see above); the frames up to %s are done: run '
                          'again to resume' % (len(done.failed), done.failed[0], progress.last_done))
    return progress, signal.SIGINT if done.interrupted else None  # Ctrl-C there: Ray's own handling


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
    args = dataclasses.replace(args, size=working_size(clip.size, args.max_long_edge,
                                                       generator_multiple(args) if args.method == 'end_to_end' else 1))
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
        if stylizer is None:
            progress, stop_signal = stylize_frames_on_ray(args, clip, layout, bounds)
        else:
            progress, stop_signal = stylize_frames(args, clip, layout, stylizer, bounds)
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
