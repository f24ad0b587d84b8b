"""Feed-forward stylisation on a Ray cluster (--ray on end_to_end/boost_inference.py and on
stylize_video.py --method end_to_end): each image or frame is a job (cluster.py). The driver reads
(and crops) the images and writes the results; a worker holds the generators, bound once per size,
and receives the checkpoint's weights from the driver once, as arrays (no shared filesystem, no copy
of the model left on the worker's disk)."""
import collections
import signal
import functools
import os
import time

from neural_style.cluster import ray_cluster as cluster
from neural_style.errors import NstyleError

# The generators a worker binds: their kind, the ref of the checkpoint's weights (arg and aux
# params as {name: numpy array}), the checkpoint's name, and where and how they run (--gpu, --dtype).
Generators = collections.namedtuple('Generators', ['kind', 'weights', 'checkpoint', 'gpu', 'dtype'])


def put_generators(ray, args, size):
    """Generators for the workers: the weights of --model-dir's --checkpoint (default: load_stylizer's
    choice), loaded and checked here (at one of the sizes: a bad file is one error, not one per
    image), then put into the object store once."""
    from neural_style.generators import checkpoints
    from neural_style.generators import inference as stylizer
    model_dir = args.model_dir
    kind = checkpoints.find_kind(model_dir)
    name = checkpoints.pick_checkpoint(model_dir, kind, getattr(args, 'checkpoint', None))
    stylizer.check_size(kind, size)
    arg_params, aux_params = stylizer.load_params(model_dir, kind, name, size)
    weights = ray.put(tuple({key: value.asnumpy() for key, value in params.items()}
                            for params in (arg_params, aux_params)))
    gpu = 0 if args.gpus_per_job else -1  # the GPU Ray gives the worker, or the CPU
    return Generators(kind, weights, name, gpu, args.dtype)


class StylizeOnWorker:
    """What a worker runs for each image: its generator stages at the image's size (bound the first time
    that size comes, kept in the worker's state), then after(stages, pixels) -> what goes back."""

    def __init__(self, generators, after):
        self.generators, self.after = generators, after

    def __call__(self, state, pixels, progress):
        import ray

        from neural_style.generators.inference import bind_stylizer
        from neural_style.mxnet_runtime import context_for, mx
        generators = self.generators
        if 'weights' not in state:
            state['weights'] = tuple({key: mx.nd.array(value) for key, value in params.items()}
                                     for params in ray.get(generators.weights))
        stylizers = state.setdefault('stylizers', {})
        size = tuple(pixels.shape[:2])
        if size not in stylizers:
            dev = context_for(generators.gpu, generators.dtype)
            stylizers[size] = bind_stylizer(generators.kind, state['weights'], size, dev, generators.dtype)
        start = time.time()
        stages = stylizers[size].stylize(pixels)
        return self.after(stages, pixels), time.time() - start


def run_images_on_ray(args, jobs, generators_from, driver):
    """The jobs (one image or frame each) on the Ray cluster of --ray: generators_from(ray) -> the
    worker's function (StylizeOnWorker), driver: cluster.Driver. Returns the exit status."""
    resources = cluster.Resources(args.cpus_per_job, args.gpus_per_job)
    with cluster.ray_cluster(args.ray) as ray:
        return cluster.run_on_cluster(ray, jobs, generators_from(ray), driver, resources)


def frame_result(original_colors, stages, frame):
    """A video frame's result: the generators' last stage, with the frame's colours under --original-colors."""
    from neural_style.files.images import original_colors as with_colors_of
    return with_colors_of(stages[-1], frame) if original_colors else stages[-1]


# What stylize_frames_on_ray did: the seconds of each frame stylised, the last frame of the unbroken
# run of finished ones from the first (None: none), whether Ctrl-C stopped it, the frames that failed.
FramesDone = collections.namedtuple('FramesDone', ['seconds', 'last_done', 'interrupted', 'failed'])


def stylize_frames_on_ray(args, clip, layout, bounds):
    """stylize_video.py --method end_to_end --ray: every frame not finished yet is a job (with the
    generators the frames are independent); the driver reads them in order and writes each result
    into the frames folder as it comes. Returns FramesDone."""
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
