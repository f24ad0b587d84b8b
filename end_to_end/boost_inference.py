"""Stylise images in one forward pass with trained generators (the original end_to_end example's
boost_inference.py, made a tool): the chain of four generators writes each stage's output as
out_0.jpg ... out_3.jpg (Johnson's network: out_0.jpg), denoised as the original's SaveImage, and
the crop they saw as content.jpg (compare.py's --content-image for them).

    python end_to_end/boost_inference.py --model-dir model/end_to_end --content-image input/IMG_4343.jpg
    python end_to_end/boost_inference.py --model-dir model/end_to_end --content-image photos/ --output-dir out/

A folder of images in gives OUT/<name>/out_k.jpg per image; the generators are bound once per size.
"""
import functools
import logging
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project root

import find_mxnet  # noqa: E402,F401  (makes `import mxnet` work, or says how to install it)
from skimage import img_as_ubyte  # noqa: E402
from skimage.restoration import denoise_tv_chambolle  # noqa: E402

from neural_style.generators import checkpoints, crops
from neural_style.cluster import ray_cluster as cluster, ray_inference  # noqa: E402
from neural_style.mxnet_runtime import context_for  # noqa: E402
from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE_INT  # noqa: E402
from neural_style.errors import NstyleError
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.files.images import read_rgb_image  # noqa: E402
from neural_style.files.output_folder import write_image_atomically  # noqa: E402
from neural_style.generators.inference import check_size, load_stylizer  # noqa: E402

DEFAULT_SIZE = (480, 640)  # the original's dshape (1, 3, 480, 640): 480 high, 640 wide


def image_size(text):
    """'480x640' -> (480, 640): height x width, as the original's dshape."""
    import argparse
    try:
        height, width = (int(part) for part in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError('expected HEIGHTxWIDTH such as 480x640, got %r' % text) from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError('both sides must be > 0, got %r' % text)
    return height, width


def get_args(arglist=None):
    parser = OneLineErrorParser(description='stylise images with trained feed-forward generators (end_to_end)')
    parser.add_argument('--model-dir', required=True,
                        help='the generators\' folder: <k>/v3_*.params for the original\'s chain (./download.sh '
                             'puts the published one in model/end_to_end), or johnson_*.params')
    parser.add_argument('--checkpoint', default=None,
                        help='which checkpoint, such as v3_0002-0026000 (default: that one when the folder has it, '
                             'as the original, else the newest)')
    parser.add_argument('--content-image', required=True, help='an image, or a folder of images (jpg/png)')
    parser.add_argument('--output-dir', default='output/end_to_end',
                        help='where out_0.jpg ... go (for a folder of images: OUT/<image name>/out_k.jpg)')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--size', type=image_size, default=None,
                      help='HEIGHTxWIDTH the image is resized to cover and cropped to (default 480x640, the '
                           'original\'s); both multiples of 8 (the chain) or 4 (Johnson\'s network)')
    size.add_argument('--long-edge', type=POSITIVE_INT, default=None,
                      help='instead of --size: keep each image\'s aspect, its long edge this many pixels')
    parser.add_argument('--seed', type=int, default=None,
                        help='crop where Python\'s random draws with this seed, as the original did (default: '
                             'the centre)')
    parser.add_argument('--gpu', type=int, default=0,
                        help='which GPU to use, -1 means the CPU; without a usable GPU the run warns and '
                             'continues on the CPU')
    parser.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32',
                        help='the (de)convolutions\' number type: bfloat16 is faster on CPUs with AVX512-BF16 '
                             'and changes the result slightly')
    parser.add_argument('--remove-noise', type=NON_NEGATIVE, default=0.02,
                        help='the weight of the TV-Chambolle denoising of each written image (the original\'s '
                             '0.02); 0 disables it')
    parser.add_argument('--generator', choices=checkpoints.KINDS, default=None,
                        help='the generator the model folder must hold (default: whichever it holds)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace out_*.jpg and content.jpg of an earlier run in the output folder')
    cluster.add_cluster_flags(parser, 'the images, one job each,')
    return parser.parse_args(arglist)


def denoised(pixels, weight):
    """The original's SaveImage: TV-Chambolle denoising, back to 8 bits."""
    if weight == 0:
        return pixels
    return img_as_ubyte(denoise_tv_chambolle(pixels, weight=weight, channel_axis=-1))


def jobs(args):
    """[(image path, its output folder)]: one image, or each image of a folder."""
    if os.path.isdir(args.content_image):
        return [(path, os.path.join(args.output_dir, os.path.splitext(os.path.basename(path))[0]))
                for path in crops.image_files(args.content_image, '--content-image')]
    return [(args.content_image, args.output_dir)]


def check_outputs(folders, stages, overwrite):
    """Refuse to replace an earlier run's images unless --overwrite."""
    names = ['out_%d.jpg' % k for k in range(stages)] + ['content.jpg']
    earlier = [os.path.join(folder, name) for folder in folders for name in names
               if os.path.exists(os.path.join(folder, name))]
    if earlier and not overwrite:
        raise NstyleError('--output-dir %s already holds %s of an earlier run: pass --overwrite to replace them, '
                          'or choose another --output-dir' % (os.path.dirname(earlier[0]) or '.', earlier[0]))


def run(args):
    kind = checkpoints.find_kind(args.model_dir)
    if args.generator is not None and args.generator != kind:
        raise NstyleError('--model-dir %s holds a %s generator, not %s; drop --generator or give another folder'
                          % (args.model_dir, kind, args.generator))
    if args.size is not None:
        check_size(kind, args.size)
    todo = jobs(args)
    pictures = [(path, crops.read_or_skip(path, lambda p: read_rgb_image(p, '--content-image')), folder)
                for path, folder in todo]
    if len(todo) == 1 and pictures[0][1] is None:
        read_rgb_image(todo[0][0], '--content-image')  # its one-line error
    pictures = [picture for picture in pictures if picture[1] is not None]
    multiple = 8 if kind == checkpoints.V3CHAIN else 4
    sizes = [crops.long_edge_size(pixels.shape, args.long_edge, multiple, path) if args.long_edge
             else (args.size or DEFAULT_SIZE) for path, pixels, _ in pictures]
    check_outputs([folder for _, _, folder in pictures], 4 if kind == checkpoints.V3CHAIN else 1, args.overwrite)
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
        os.makedirs(folder, exist_ok=True)
        # the crop the generators saw: compare.py's --content-image for these results
        write_image_atomically(os.path.join(folder, 'content.jpg'), cropped)
        for k, stage in enumerate(stages):
            write_image_atomically(os.path.join(folder, 'out_%d.jpg' % k), denoised(stage, args.remove_noise))
        print('%s: %.0f ms (%dx%d, %d stages) -> %s' % (path, elapsed * 1000, size[1], size[0], len(stages),
                                                      os.path.join(folder, 'out_%d.jpg' % (len(stages) - 1))))


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
        os.makedirs(folder, exist_ok=True)
        write_image_atomically(os.path.join(folder, 'content.jpg'), crops_sent.pop(job.name))
        for k, stage in enumerate(stages):
            write_image_atomically(os.path.join(folder, 'out_%d.jpg' % k), stage)
        return '%.0f ms (%dx%d, %d stages) -> %s' % (elapsed * 1000, size[1], size[0], len(stages),
                                                     os.path.join(folder, 'out_%d.jpg' % (len(stages) - 1)))

    jobs = [cluster.Job('image %d' % index, 'image %d of %d (%s)' % (index, len(pictures), picture[0]), picture[2],
                        picture) for index, picture in enumerate(pictures, start=1)]
    after = functools.partial(denoised_stages, args.remove_noise)  # on the workers: the time it takes is theirs
    return ray_inference.run_images_on_ray(
        args, jobs, lambda ray: ray_inference.StylizeOnWorker(ray_inference.put_generators(ray, args, pictures[0][3]),
                                                              after),
        cluster.Driver(prepare, finish, log_each=True))


def main(arglist=None):
    args = get_args(arglist)
    logging.basicConfig(level=logging.INFO, format='%(asctime)-15s %(message)s')
    return run_cli(lambda: run(args), 'boost_inference.py')


if __name__ == '__main__':
    sys.exit(main())
