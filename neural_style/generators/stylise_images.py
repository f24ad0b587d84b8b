"""The trained generators over one image or a folder of images (end_to_end/boost_inference.py is its
command line): each picture resized to cover and cropped to the size, one forward pass (bound
once per size), its stages denoised and written into its output folder (files/output_folder's
output_run: locked, --overwrite keeps the earlier results until the new ones are written); or,
with --ray, each picture a job on the cluster's workers."""
import functools
import logging
import os
import random
import re
import time

from skimage import img_as_ubyte

from neural_style.cluster import ray_cluster as cluster
from neural_style.generators import on_ray
from neural_style.errors import NstyleError
from neural_style.files import STDIO
from neural_style.files.images import denoised, read_rgb_image
from neural_style.files.output_folder import (ResultNames, check_output_dir, output_run, signals_held,
                                              write_image_atomically)
from neural_style.generators import checkpoints, crops
from neural_style.generators.inference import check_size, load_stylizer
from neural_style.mxnet_runtime import context_for

DEFAULT_SIZE = (480, 640)  # the original's dshape (1, 3, 480, 640): 480 high, 640 wide


def jobs(args):
    """[(image path, its output folder)]: one image, or each image of a folder (OUT/<its name>/).
    Two images of one name (a.jpg, a.png) would write into one folder: refused before any work."""
    if not os.path.isdir(args.content_image):
        return [(args.content_image, args.output_dir)]
    todo, seen = [], {}
    for path in crops.image_files(args.content_image, '--content-image'):
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in seen:
            raise NstyleError('--content-image %s: %s and %s would both write into %s; rename one'
                              % (args.content_image, os.path.basename(seen[stem]), os.path.basename(path),
                                 os.path.join(args.output_dir, stem)))
        seen[stem] = path
        todo.append((path, os.path.join(args.output_dir, stem)))
    return todo


def results_of(stages):
    """What the generators write into a folder (files/output_folder's ResultNames): content.jpg and
    out_0.jpg ... out_<stages-1>.jpg, the last one written last."""
    return ResultNames(re.compile(r'content\.jpg|out_\d+\.jpg'), 'out_%d.jpg' % (stages - 1))


def write_results(folder, overwrite, cropped, stages):
    """One picture's results, through the output folder every tool uses: locked, and with
    --overwrite the earlier results stay until these are all written, then give way to them."""
    with output_run(folder, overwrite, '--output-dir', results_of(len(stages))) as run_dir:
        # the crop the generators saw: compare.py's --content-image for these results
        images = [('content.jpg', cropped)] + [('out_%d.jpg' % k, stage) for k, stage in enumerate(stages)]
        done = []
        try:
            for name, pixels in images:
                write_image_atomically(os.path.join(run_dir, name), pixels)
                done.append(name)
        except BaseException:
            # a set of stages cut short (a full disk, a signal) is no result: the ones written go, so
            # that the folder holds all of this picture's stages or none (the earlier run's, with
            # --overwrite, stay where they were)
            with signals_held():
                for name in done:
                    os.remove(os.path.join(run_dir, name))
            raise
    return os.path.join(folder, 'out_%d.jpg' % (len(stages) - 1))


def stylise_images(args, written=None):
    """Every picture stylised and its results written. written: a list that gets, for each picture,
    (its path, its last stage's path, or with --output-dir - its pixels, not written, the size (h, w),
    the number of stages, the checkpoint used)."""
    written = [] if written is None else written
    kind = checkpoints.find_kind(args.model_dir)
    if args.generator is not None and args.generator != kind:
        raise NstyleError('--model-dir %s holds a %s generator, not %s; drop --generator or give another folder'
                          % (args.model_dir, kind, args.generator))
    if args.size is not None:
        check_size(kind, args.size)
        check_generators_fit(args.size, '--size %dx%d' % args.size, 'a smaller --size')
    todo = jobs(args)
    pictures = [(path, crops.read_or_skip(path, lambda p: read_rgb_image(p, '--content-image')), folder)
                for path, folder in todo]
    if len(todo) == 1 and pictures[0][1] is None:
        read_rgb_image(todo[0][0], '--content-image')  # its one-line error
    pictures = [picture for picture in pictures if picture[1] is not None]
    if not pictures:  # every image of the folder unreadable: nothing to do is a failure, not a success
        raise NstyleError('--content-image %s: none of its %d images could be read (see the warnings above); give '
                          'a folder of JPEG or PNG images' % (args.content_image, len(todo)))
    multiple = 8 if kind == checkpoints.V3CHAIN else 4
    sizes = [crops.long_edge_size(pixels.shape, args.long_edge, multiple, path) if args.long_edge
             else (args.size or DEFAULT_SIZE) for path, pixels, _ in pictures]
    if args.long_edge:
        largest = max(sizes, key=lambda size: size[0] * size[1])
        check_generators_fit(largest, '--long-edge %d' % args.long_edge, 'a lower --long-edge')
    for _, _, folder in pictures if args.output_dir != STDIO else []:  # an earlier run's results need --overwrite
        check_output_dir(folder, args.overwrite, '--output-dir', results_of(4 if kind == checkpoints.V3CHAIN else 1))
    rng = random.Random(args.seed) if args.seed is not None else None
    if args.ray is not None:
        return run_on_ray(args, [picture + (size,) for picture, size in zip(pictures, sizes)], rng)
    dev = context_for(args.gpu, args.dtype)
    stylizers = {}
    for (path, pixels, folder), size in zip(pictures, sizes):
        if size not in stylizers:  # bound once per size
            stylizers[size] = load_stylizer(args.model_dir, size, dev, args.checkpoint, args.dtype)
            logging.info('loaded %s checkpoint %s from %s, bound at %dx%d', kind, stylizers[size].checkpoint,
                         args.model_dir, size[0], size[1])
        stylizer = stylizers[size]
        cropped = img_as_ubyte(crops.cover_and_crop(pixels, size, rng))
        start = time.time()
        stages = stylizer.stylize(cropped)
        elapsed = time.time() - start
        finished = [denoised(stage, args.remove_noise) for stage in stages]
        last = finished[-1] if args.output_dir == STDIO else write_results(folder, args.overwrite, cropped, finished)
        written.append((path, last, size, len(stages), stylizers[size].checkpoint))
        if args.output_dir == STDIO:
            last = 'stdout'
        print('%s: %.0f ms (%dx%d, %d stages) -> %s' % (path, elapsed * 1000, size[1], size[0], len(stages), last))


def check_generators_fit(size, flag, advice):
    """The generators bound at size (h, w) checked against this machine's memory (generators/memory.py)."""
    from neural_style.generators.memory import check_fits, inference_bytes
    pixels = size[0] * size[1]
    check_fits(inference_bytes(pixels) + 24 * pixels * 3, flag,
               'a %dx%d image through the generators' % (size[1], size[0]), advice)


def denoised_stages(weight, stages, pixels):
    return [denoised(stage, weight) for stage in stages]


def run_on_ray(args, pictures, rng):
    """--ray: each picture (path, pixels, output folder, size) a job on the cluster's workers, which hold
    the generators and denoise; the crops are drawn here, in order, as without Ray, and the results
    written here. Returns the exit status."""
    if not pictures:
        return 0
    crops_sent = {}  # job name -> the crop it was sent: its content.jpg

    def prepare(job):
        _, pixels, _, size = job.data
        crops_sent[job.name] = img_as_ubyte(crops.cover_and_crop(pixels, size, rng))
        return crops_sent[job.name]

    def finish(job, result):
        stages, elapsed = result
        path, _, folder, size = job.data
        last = write_results(folder, args.overwrite, crops_sent.pop(job.name), stages)
        return '%.0f ms (%dx%d, %d stages) -> %s' % (elapsed * 1000, size[1], size[0], len(stages), last)

    jobs = [cluster.Job('image %d' % index, 'image %d of %d (%s)' % (index, len(pictures), picture[0]), picture[2],
                        picture) for index, picture in enumerate(pictures, start=1)]
    after = functools.partial(denoised_stages, args.remove_noise)  # on the workers: the time it takes is theirs
    return on_ray.run_images_on_ray(
        args, jobs, lambda ray: on_ray.StylizeOnWorker(on_ray.put_generators(ray, args, pictures[0][3]),
                                                              after),
        cluster.Driver(prepare, finish, log_each=True))
