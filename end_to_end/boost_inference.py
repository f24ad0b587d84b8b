"""Stylise images in one forward pass with trained generators (the original end_to_end example's
boost_inference.py, made a tool): the chain of four generators writes each stage's output as
out_0.jpg ... out_3.jpg (Johnson's network: out_0.jpg), denoised as the original's SaveImage, and
the crop they saw as content.jpg (compare.py's --content-image for them).

    python end_to_end/boost_inference.py --model-dir model/end_to_end --content-image input/IMG_4343.jpg
    python end_to_end/boost_inference.py --model-dir model/end_to_end --content-image photos/ --output-dir out/

A folder of images in gives OUT/<name>/out_k.jpg per image; the generators are bound once per size.
One image can come from stdin and its result (the last stage) go to stdout as PNG:

    cat photo.jpg | python end_to_end/boost_inference.py --model-dir M --content-image - --output-dir - > out.png
    python end_to_end/boost_inference.py --model-dir M --content-image photo.jpg --json   # one JSON report
"""
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project root

from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE_INT  # noqa: E402
from neural_style.cli.report import Phases, hold_stdout, make_report, release_stdout  # noqa: E402
from neural_style.cli.tool import OneLineErrorParser, run_cli  # noqa: E402
from neural_style.cluster import ray_cluster as cluster  # noqa: E402
from neural_style.generators.checkpoints import KINDS  # noqa: E402
from neural_style.generators.settings import InferenceSettings  # noqa: E402


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
    parser.add_argument('--content-image', required=True,
                        help='an image, or a folder of images (jpg/png); - reads one image from stdin')
    parser.add_argument('--output-dir', default='output/end_to_end',
                        help='where out_0.jpg ... go (for a folder of images: OUT/<image name>/out_k.jpg); - writes '
                             'one image\'s result (the last stage, denoised) on stdout as PNG, no files')
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
    parser.add_argument('--generator', choices=KINDS, default=None,
                        help='the generator the model folder must hold (default: whichever it holds)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace out_*.jpg and content.jpg of an earlier run in the output folder: they stay '
                             'until this run has written its own, then give way to them; without it such a run is '
                             'refused')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout (the one shape of every tool; docs/running.md); the '
                             'per-image lines go to stderr')
    cluster.add_cluster_flags(parser, 'the images, one job each,')
    args = parser.parse_args(arglist)
    if args.json and args.output_dir == '-':
        parser.error('--json writes its report on stdout: give --output-dir a folder, not -')
    if args.ray is not None and (args.json or args.output_dir == '-' or args.content_image == '-'):
        parser.error('--ray runs the images of a folder on a cluster; --json and - are for a run in this process')
    if args.output_dir == '-' and os.path.isdir(args.content_image):
        parser.error('--output-dir - writes one image on stdout; for a folder of images give a folder')
    return InferenceSettings.from_values(vars(args))


def main(arglist=None):
    args = get_args(arglist)
    logging.basicConfig(level=logging.INFO, format='%(asctime)-15s %(message)s')
    return run_cli(lambda: stylise(args), 'boost_inference.py')


def stylise(args):
    """The results written (--output-dir -: on stdout); with --json the Report."""
    phases = Phases()
    to_stdout = args.output_dir == '-'
    if args.json or to_stdout:
        hold_stdout()  # the per-image lines go to stderr: stdout holds the PNG or the report
    from neural_style.generators.stylise_images import stylise_images  # MXNet loads here, not for --help
    phases.done('startup')
    written = []
    status = stylise_images(args, written)
    phases.done('stylise')
    if to_stdout:
        from neural_style.files.images import write_png_to_stdout
        release_stdout()
        write_png_to_stdout(written[0][1])
    if not args.json:
        return status
    if os.path.isdir(args.content_image):
        inputs = {'content_images': [path for path, *_ in written]}
        outputs = {'results': [last for _, last, *_ in written]}
    else:
        inputs, outputs = {'content_image': args.content_image}, {'result': written[0][1]}
    inputs['model_dir'], outputs['folder'] = args.model_dir, args.output_dir
    images = [{'input': path, 'output': last, 'size': [size[1], size[0]], 'stages': stages}
              for path, last, size, stages, _ in written]
    return make_report('boost_inference.py', inputs, outputs, args, phases, gpu=args.gpu,
                       extra={'images': images, 'weights': {'model_dir': args.model_dir,
                                                           'checkpoints': sorted({used for *_, used in written})}})


if __name__ == '__main__':
    sys.exit(main())
