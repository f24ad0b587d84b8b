"""A video's frames on a Ray cluster (stylize_video.py --method end_to_end --ray): with the
generators the frames are independent, so every frame not finished yet is a job for
generators/on_ray.py's workers; this process reads the frames in order and writes each result into
the frames folder as it comes."""
import collections
import functools
import os
import signal

from neural_style.cluster import ray_cluster as cluster
from neural_style.errors import NstyleError
from neural_style.generators.on_ray import StylizeOnWorker, put_generators, run_images_on_ray


def frame_result(original_colors, stages, frame):
    """A video frame's result: the generators' last stage, with the frame's colours under --original-colors."""
    from neural_style.files.images import original_colors as with_colors_of
    return with_colors_of(stages[-1], frame) if original_colors else stages[-1]


# What stylize_frames did: the seconds of each frame stylised, the last frame of the unbroken
# run of finished ones from the first (None: none), whether Ctrl-C stopped it, the frames that failed.
FramesDone = collections.namedtuple('FramesDone', ['seconds', 'last_done', 'interrupted', 'failed'])


def stylize_frames(args, clip, layout, bounds):
    """Every frame from the first not finished yet to the end of bounds, a job each. Returns FramesDone."""
    from neural_style.video import clips as video_io
    from neural_style.video import frames_folder
    start, stop = bounds
    first = start + frames_folder.finished_count(layout, start, stop)
    frames = video_io.read_frames(clip, first, stop)
    seconds = []

    def prepare(job):  # called in frame order (a job run again keeps its payload): the reader only goes forward
        if clip.kind == 'folder':  # a frame file each: one unreadable file fails alone, not those after it
            index, raw = next(video_io.read_frames(clip, job.data, job.data + 1))
            return video_io.resized_frame(raw, args.size)
        index, raw = next(frames, (None, None))
        if index != job.data:
            raise NstyleError('INPUT %s: frame %d could not be read' % (args.input, job.data))
        return video_io.resized_frame(raw, args.size)

    def finish(job, result):
        output, elapsed = result
        frames_folder.write_frame(layout, job.data, output)
        seconds.append(elapsed)
        return frames_folder.frame_path(layout, job.data)

    jobs = [cluster.Job('frame %d' % index, 'frame %d' % index, None, index) for index in range(first, stop)]
    after = functools.partial(frame_result, args.original_colors)
    interrupted = False
    try:
        status = run_images_on_ray(args, jobs, lambda ray: StylizeOnWorker(put_generators(ray, args, args.size), after),
                                   cluster.Driver(prepare, finish, log_each=False))
    except KeyboardInterrupt as stopped:  # its signal (SIGINT, SIGTERM, SIGHUP) gives the exit status
        interrupted, status = getattr(stopped, 'signum', signal.SIGINT), 0
    finally:
        frames.close()
    done = frames_folder.finished_count(layout, start, stop)
    failed = [] if not status else [index for index in range(start + done, stop)
                                    if not os.path.isfile(frames_folder.frame_path(layout, index))]
    return FramesDone(seconds, start + done - 1 if done else None, interrupted, failed)
