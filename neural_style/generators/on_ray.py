"""The generators on a Ray cluster's workers (--ray on end_to_end/boost_inference.py, and on
stylize_video.py --method end_to_end through video/on_ray.py): each image or frame is a job
(cluster/ray_cluster.py). The driver reads (and crops) the images and writes the results; a worker
holds the generators, bound once per size, and receives the checkpoint's weights from the driver
once, as arrays (no shared filesystem, no copy of the model left on the worker's disk)."""
import collections
import time

from neural_style.cluster import ray_cluster as cluster

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
