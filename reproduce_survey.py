"""Redo the survey's experiment with universal style transfer (Li et al. 2017, WCT): a photo and a painting
(input/starry_night.jpg stands in for Picasso's La Muse), single-level WCT (relu5_1 only) beside the
multi-level coarse-to-fine pass (relu5_1 ... relu1_1), at alpha 0.2 ... 1, as one labelled PNG montage:

    ./download.sh --wct                                   # the authors' models, converted to model/wct
    python reproduce_survey.py                            # -> output/survey/wct_survey.png
    python reproduce_survey.py --random-weights --max-long-edge 128   # no models: the pipeline only
    python reproduce_survey.py --random-weights --json                # one JSON report on stdout

Without the converted models it stops with one line, unless --random-weights (seeded random networks,
labelled as such on the montage: they show the pipeline, never the survey's pictures).
"""
import argparse
import dataclasses
import os
import sys
from typing import Tuple

import numpy as np

from neural_style.errors import NstyleError
from neural_style.cli.report import Phases, hold_stdout, make_report
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.cli.flag_types import POSITIVE_INT
from neural_style.flag_values import FromFlags

DEFAULT_ALPHAS = (0.2, 0.4, 0.6, 0.8, 1.0)
RANDOM_LABEL = 'RANDOM seeded networks (seed %d), not the authors\' models: the pipeline, not the survey\'s pictures'


def alpha_list(text):
    try:
        alphas = [float(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated numbers in [0, 1], got %r' % text) from None
    if not all(0 <= alpha <= 1 for alpha in alphas):
        raise argparse.ArgumentTypeError('each alpha must be in [0, 1], got %r' % text)
    return alphas


def level_number(text):
    try:
        level = int(text)
    except ValueError:
        level = None
    if level not in (1, 2, 3, 4, 5):
        raise argparse.ArgumentTypeError('expected a level 1 ... 5 (relu<N>_1), got %r' % text)
    return level


@dataclasses.dataclass(frozen=True)
class SurveySettings(FromFlags):
    content_image: str = 'input/IMG_4343.jpg'
    style_image: str = 'input/starry_night.jpg'
    alphas: Tuple[float, ...] = DEFAULT_ALPHAS
    single_level: int = 5
    levels: int = 5
    max_long_edge: int = 512
    weights_dir: str = os.path.join('model', 'wct')
    random_weights: bool = False
    seed: int = 0
    output: str = os.path.join('output', 'survey', 'wct_survey.png')
    overwrite: bool = False
    json: bool = False


def get_args(arglist=None):
    parser = OneLineErrorParser(description='single-level vs multi-level WCT at several alphas, as one montage '
                                            '(the survey\'s experiment)')
    parser.add_argument('--content-image', default='input/IMG_4343.jpg', help='the photo')
    parser.add_argument('--style-image', default='input/starry_night.jpg',
                        help='the painting (the survey used Picasso\'s La Muse)')
    parser.add_argument('--alphas', type=alpha_list, default=list(DEFAULT_ALPHAS),
                        help='comma-separated style strengths (default 0.2,0.4,0.6,0.8,1)')
    parser.add_argument('--single-level', type=level_number, default=5,
                        help='the level of the single-level row (default 5: relu5_1 only)')
    parser.add_argument('--levels', type=level_number, default=5,
                        help='the multi-level row runs relu<levels>_1 ... relu1_1 (default 5)')
    parser.add_argument('--max-long-edge', type=POSITIVE_INT, default=512,
                        help='both images resized to this long edge at most (default 512, as the authors)')
    parser.add_argument('--weights-dir', default=os.path.join('model', 'wct'),
                        help='the converted models (./download.sh --wct)')
    parser.add_argument('--random-weights', action='store_true',
                        help='seeded random networks instead of the models (labelled on the montage)')
    parser.add_argument('--seed', type=int, default=0, help='the seed of --random-weights')
    parser.add_argument('--output', default=os.path.join('output', 'survey', 'wct_survey.png'),
                        help='the montage (PNG)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --output')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout (the one shape of every tool; docs/running.md); the '
                             'progress lines go to stderr')
    return SurveySettings.from_values(vars(parser.parse_args(arglist)))


def resized(pixels, long_edge):
    """uint8 pixels with their long edge at most long_edge (never enlarged), as float32 0 ... 255."""
    from neural_style.files.images import shrunk_to_long_edge
    return shrunk_to_long_edge(pixels, long_edge).astype(np.float32)


def reproduce(args):
    """The montage written; returns its path, or with --json the Report."""
    phases = Phases()
    if args.json:
        hold_stdout()
    if os.path.isdir(args.output):  # before any work: --overwrite replaces a file, never a folder
        raise NstyleError('--output %s is a folder; give a file name, such as %s'
                          % (args.output, os.path.join(args.output, 'wct_survey.png')))
    if os.path.exists(args.output) and not args.overwrite:
        raise NstyleError('--output %s already exists: pass --overwrite to replace it, or choose another --output'
                          % args.output)
    from PIL import Image

    import view_checkpoints
    from neural_style.files.images import read_rgb_image
    from neural_style.files.output_folder import write_error_words
    from neural_style.universal import stylize
    content = resized(read_rgb_image(args.content_image, '--content-image', args.max_long_edge), args.max_long_edge)
    style = resized(read_rgb_image(args.style_image, '--style-image', args.max_long_edge), args.max_long_edge)
    levels = sorted({args.single_level} | set(range(args.levels, 0, -1)), reverse=True)
    if args.random_weights:
        weights = stylize.random_weights('wct', levels, args.seed)
        source = RANDOM_LABEL % args.seed
    else:
        try:
            weights = stylize.load_weights('wct', levels, args.weights_dir)
        except ValueError as error:
            raise NstyleError('%s (or pass --random-weights to see the pipeline with random networks)' % error) \
                from None
        source = 'the models in %s' % args.weights_dir
    print('weights: %s' % source, flush=True)
    phases.done('images_and_weights')
    rows = [('single-level, relu%d_1' % args.single_level, [args.single_level]),
            ('multi-level, relu%d_1 ... relu1_1' % args.levels if args.levels > 1 else 'relu1_1',
             list(range(args.levels, 0, -1)))]
    panels = []
    columns = max(len(args.alphas), 2)
    blank = Image.new('RGB', (1, 1), 'white')
    panels += [('content', view_checkpoints.shrink(Image.fromarray(content.astype('uint8')))),
               ('style', view_checkpoints.shrink(Image.fromarray(style.astype('uint8'))))]
    panels += [('', blank)] * (columns - 2)
    for row_label, row_levels in rows:
        for alpha in args.alphas:
            settings = stylize.UniversalSettings('wct', alpha, row_levels)
            result = stylize.stylize_universal(content, [style], settings=settings, weights=weights)
            print('%s, alpha %g: done' % (row_label, alpha), flush=True)
            panels.append(('%s, alpha %g' % (row_label, alpha),
                           view_checkpoints.shrink(Image.fromarray(result.round().astype('uint8')))))
        panels += [('', blank)] * (columns - len(args.alphas))
    title = 'WCT (Li et al. 2017): single-level vs multi-level, alpha %s; weights: %s' % (
        ', '.join('%g' % alpha for alpha in args.alphas), source)
    sheet = view_checkpoints.montage(panels, columns, title)
    folder = os.path.dirname(args.output)
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise NstyleError('--output %s: cannot make its folder %s: %s'
                              % (args.output, folder, write_error_words(error))) from None
    view_checkpoints.write_png(args.output, sheet)
    print('wrote %s: %dx%d' % (args.output, sheet.width, sheet.height))
    if args.random_weights:
        print('note: %s' % source)
    phases.done('stylise_and_montage')
    if not args.json:
        return args.output
    inputs = {'content_image': args.content_image, 'style_image': args.style_image}
    if not args.random_weights:
        inputs['weights_dir'] = args.weights_dir
    return make_report('reproduce_survey.py', inputs, {'montage': args.output}, args, phases,
                       extra={'weights': source, 'montage_size': list(sheet.size),
                              'panels': len([label for label, _ in panels if label])})


def main(arglist=None):
    def work():
        result = reproduce(get_args(arglist))
        return result if not isinstance(result, str) else None
    return run_cli(work, 'reproduce_survey.py')


if __name__ == '__main__':
    sys.exit(main())
