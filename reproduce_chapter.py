"""Regenerate the figures of chapter 13 of 《深度学习与计算机视觉》, which runs this example,
as labelled PNG montages in output/chapter/:

  figure_13-1.png  the content image reconstructed from relu1_1 ... relu5_1 features alone
  figure_13-2.png  textures from the Gram matrices of relu1_1 ... relu5_1 alone, and of all five
  figure_13-4.png  the transfer's progression: a checkpoint every 30 epochs, then the final image
  figure_13-5.png  style weight 2 with other content/style pairs (--pair CONTENT STYLE)
  figure_mrf.png   beyond the chapter: the Gram loss beside the MRF loss (--style-loss mrf, Li & Wand
                   2016) on the same content and style

    python reproduce_chapter.py --quick       # small and few epochs: a first look
    python reproduce_chapter.py               # the example's size and epochs: hours on a CPU
    python reproduce_chapter.py --quick --json   # one JSON report on stdout (the progress on stderr)

Every run is a Gatys run (neural_style/gatys/run.py) with the flags it needs; its images stay in
output/chapter/runs/<figure>/<panel>/.
"""
import argparse
import dataclasses
import logging
import os
import re
import sys
import time
from typing import Optional, Tuple

from PIL import Image

import view_checkpoints
from neural_style.cli.flag_types import POSITIVE_INT
from neural_style.cli.gatys_flags import get_args as gatys_settings
from neural_style.cli.report import Phases, hold_stdout, make_report
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image
from neural_style.files.output_folder import locked_folder, make_writable_folder
from neural_style.flag_values import FromFlags
from neural_style.gatys.settings import GatysSettings

FIGURES = ['13-1', '13-2', '13-4', '13-5', 'mrf']
LAYERS = list(GatysSettings.style_layers)  # the original's style layers
# (max long edge, max epochs, checkpoint every): the example's defaults and the chapter's 30, or --quick
FULL = (600, 1000, 30)
QUICK = (96, 20, 5)
COLUMNS = {'13-1': 6, '13-2': 7, '13-4': 8, '13-5': 3, 'mrf': 4}
RANDOM_WEIGHTS = "random test weights (not VGG-19): the figures show the pipeline, not the chapter's pictures"


def _figure_list(text):
    figures = [name.strip() for name in text.split(',')]
    unknown = [name for name in figures if name not in FIGURES]
    if unknown:
        raise argparse.ArgumentTypeError('unknown figure %s; the figures are %s'
                                                % (', '.join(unknown), ','.join(FIGURES)))
    return figures


@dataclasses.dataclass(frozen=True)
class ChapterSettings(FromFlags):
    figures: Tuple[str, ...] = tuple(FIGURES)
    quick: bool = False
    max_long_edge: int = FULL[0]
    max_num_epochs: int = FULL[1]
    checkpoint_every: int = FULL[2]
    content_image: str = 'input/IMG_4343.jpg'
    style_image: str = 'input/starry_night.jpg'
    pair: Optional[Tuple[Tuple[str, str], ...]] = None  # figure 13-5's (content, style) pairs
    output_dir: str = 'output/chapter'
    vgg_params: str = GatysSettings.vgg_params
    gpu: int = 0
    seed: int = 0
    json: bool = False


def get_args(arglist=None):
    positive = POSITIVE_INT
    parser = OneLineErrorParser(
        description='regenerate the figures of chapter 13 (neural style) as labelled PNG montages')
    parser.add_argument('--figures', type=_figure_list, default=FIGURES,
                        help='which figures, comma-separated (default: all of %s)' % ','.join(FIGURES))
    parser.add_argument('--quick', action='store_true',
                        help='small images and few epochs (long edge %d, %d epochs, a checkpoint every %d): '
                             'a first look, and the tests' % QUICK)
    parser.add_argument('--max-long-edge', type=positive, help='image size (default %d, --quick %d)'
                                                               % (FULL[0], QUICK[0]))
    parser.add_argument('--max-num-epochs', type=positive, help='epochs of each run (default %d, --quick %d)'
                                                                % (FULL[1], QUICK[1]))
    parser.add_argument('--checkpoint-every', type=positive, help='epochs between the checkpoints of figure '
                                                                  '13-4 (default %d, --quick %d)' % (FULL[2], QUICK[2]))
    parser.add_argument('--content-image', default='input/IMG_4343.jpg', help='the content image')
    parser.add_argument('--style-image', default='input/starry_night.jpg', help='the style image')
    parser.add_argument('--pair', nargs=2, action='append', metavar=('CONTENT', 'STYLE'),
                        help='a content/style pair for figure 13-5; repeat for more (default: the two above)')
    parser.add_argument('--output-dir', default='output/chapter', help='where the figures go')
    parser.add_argument('--vgg-params', default=GatysSettings.vgg_params, help='the weights, as for nstyle.py')
    parser.add_argument('--gpu', type=int, default=0, help='GPU id, -1 for the CPU (as for nstyle.py)')
    parser.add_argument('--seed', type=int, default=0, help='seed of every run, so that figures repeat')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout (the one shape of every tool; docs/running.md): the '
                             'figures, the runs\' final images, the timings; the progress goes to stderr')
    args = parser.parse_args(arglist)
    for name, value in zip(('max_long_edge', 'max_num_epochs', 'checkpoint_every'), QUICK if args.quick else FULL):
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.pair = args.pair or [(args.content_image, args.style_image)]
    return ChapterSettings.from_values(vars(args))


def runs_of(figure, args):
    """[(panel label, nstyle flags)] of one figure; its flags come after the common ones, so they win."""
    if figure == '13-1':  # content alone, from one layer each
        return [(layer, ['--style-weight', '0', '--content-layers', layer]) for layer in LAYERS]
    if figure == '13-2':  # style alone; the style image is the canvas too, so that it keeps its aspect ratio
        texture = ['--content-weight', '0', '--content-image', args.style_image]
        return [(layer, texture + ['--style-layers', layer]) for layer in LAYERS] + [('all five', texture)]
    if figure == '13-4':
        return [('transfer', ['--save-epochs', str(args.checkpoint_every)])]
    if figure == 'mrf':  # the same run but for the style loss
        return [('Gram', []), ('MRF', ['--style-loss', 'mrf'])]
    return [('pair %d, %s + %s' % (number, short_name(content), short_name(style)),
             ['--style-weight', '2', '--content-image', content, '--style-image', style])
            for number, (content, style) in enumerate(args.pair, 1)]


def short_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def run_folder(args, figure, label):
    return os.path.join(args.output_dir, 'runs', figure, re.sub(r'\W+', '_', label))


def train(args, figure, label, flags, step):
    """One nstyle run with a one-line progress display (its log stays quiet: this tool leaves the
    logging level at warnings); checkpoints only where the figure shows them (--save-epochs)."""
    common = ['--gpu', str(args.gpu), '--max-long-edge', str(args.max_long_edge), '--max-num-epochs',
              str(args.max_num_epochs), '--seed', str(args.seed),
              '--vgg-params', args.vgg_params, '--content-image', args.content_image, '--style-image',
              args.style_image, '--output_dir', run_folder(args, figure, label), '--overwrite']
    prefix = '[%s] figure %s, %s:' % (step, figure, label)
    live = sys.stderr.isatty()  # a line that counts the epochs in a terminal; one line a run in a log
    start = time.time()

    def show(data):
        print('\r%s epoch %d/%d' % (prefix, data['epoch'], args.max_num_epochs), end='', file=sys.stderr, flush=True)

    from neural_style.gatys.run import run_gatys  # MXNet loads here, not for --help
    run_gatys(gatys_settings(common + flags), callback=show if live else None, checkpoints='--save-epochs' in flags)
    print('%s%s done in %.1f s%s' % ('\r' if live else '', prefix, time.time() - start, ' ' * 12 if live else ''),
          file=sys.stderr, flush=True)


def panel(path, flag, size=None):
    """(label-less) PIL image of a result or an input, at `size` (w, h) when given, shrunk for the montage."""
    img = Image.fromarray(read_rgb_image(path, flag, max(size) if size else None))
    if size is not None:
        img = img.resize(size, Image.Resampling.LANCZOS)
    return view_checkpoints.shrink(img)


def figure_panels(figure, args):
    """[(label, PIL image)] of a figure, from its runs' images (inputs first, at the results' size)."""
    results = [(label, panel(os.path.join(run_folder(args, figure, label), 'final.jpg'), 'result'))
               for label, _ in runs_of(figure, args)]
    size = results[0][1].size
    if figure == '13-1':
        return [('content', panel(args.content_image, '--content-image', size))] + results
    if figure == '13-2':
        return [('style', panel(args.style_image, '--style-image', size))] + results
    if figure == 'mrf':
        return [('content', panel(args.content_image, '--content-image', size)),
                ('style', panel(args.style_image, '--style-image', size))] + results
    if figure == '13-4':
        checkpoints = view_checkpoints.checkpoints(run_folder(args, figure, 'transfer'))
        return ([('content', panel(args.content_image, '--content-image', size)),
                 ('style', panel(args.style_image, '--style-image', size))]
                + [(label, panel(path, 'checkpoint')) for label, path in checkpoints])
    rows = []
    for (content, style), (_, result) in zip(args.pair, results):
        rows += [('content', panel(content, '--pair', result.size)), ('style', panel(style, '--pair', result.size)),
                 ('style weight 2', result)]
    return rows


TITLES = {'13-1': 'Figure 13-1: the content image reconstructed from one layer\'s features',
          '13-2': 'Figure 13-2: textures from the Gram matrices of one layer, and of all five',
          '13-4': 'Figure 13-4: the transfer, a checkpoint every %d epochs, then the final image',
          '13-5': 'Figure 13-5: style weight 2',
          'mrf': 'Gram matrices (Gatys et al.) beside MRF patches (Li & Wand), the same pair'}


def reproduce(args):
    """Every run, then the figures; returns their paths, or with --json the Report."""
    phases = Phases()
    if args.json:
        hold_stdout()
    import model_vgg19  # MXNet loads here, not for --help
    from neural_style.mxnet_runtime import pick_context
    try:
        real = model_vgg19.are_real_weights(args.vgg_params)
    except model_vgg19.WeightsError as error:
        raise NstyleError('--vgg-params: %s' % error) from None
    print('weights: %s' % ('VGG-19 (%s)' % args.vgg_params if real else RANDOM_WEIGHTS), flush=True)
    if pick_context(args.gpu).device_type == 'cpu':
        args = dataclasses.replace(args, gpu=-1)  # warned once here, not at every run
    # every input is read once now, so that a bad one stops the command before hours of runs
    for flag, path in [('--content-image', args.content_image), ('--style-image', args.style_image)] + \
            [('--pair', path) for pair in args.pair for path in pair]:
        read_rgb_image(path, flag, args.max_long_edge)
    # --output-dir is held for this command: a second one into the same folder is refused in one
    # line (each run's folder below is locked by its own run too)
    phases.done('startup_and_inputs')
    with locked_folder(make_writable_folder(args.output_dir, '--output-dir'), '--output-dir'):
        written = run_and_draw(args, real, phases)
    if not args.json:
        return written
    inputs = {'content_image': args.content_image, 'style_image': args.style_image,
              'pairs': [list(pair) for pair in args.pair], 'vgg_params': args.vgg_params}
    outputs = dict(('figure_%s' % figure, path) for figure, path in zip(args.figures, written))
    outputs['runs'] = [os.path.join(run_folder(args, figure, label), 'final.jpg')
                       for figure in args.figures for label, _ in runs_of(figure, args)]
    return make_report('reproduce_chapter.py', inputs, outputs, args, phases, gpu=args.gpu,
                       extra={'weights': 'VGG-19 (%s)' % args.vgg_params if real else RANDOM_WEIGHTS})


def run_and_draw(args, real, phases):
    """Every run of the figures, then the figures: their paths."""
    runs = [(figure, label, flags) for figure in args.figures for label, flags in runs_of(figure, args)]
    for number, (figure, label, flags) in enumerate(runs, 1):
        train(args, figure, label, flags, '%d/%d' % (number, len(runs)))
    phases.done('runs')
    written = []
    for figure in args.figures:
        title = TITLES[figure] % args.checkpoint_every if figure == '13-4' else TITLES[figure]
        title += '' if real else ' (random test weights, not VGG-19)'
        panels = figure_panels(figure, args)
        sheet = view_checkpoints.montage(panels, COLUMNS[figure], title)
        path = os.path.join(args.output_dir, 'figure_%s.png' % figure)
        view_checkpoints.write_png(path, sheet)
        print('wrote %s: %d panels, %dx%d' % (path, len(panels), sheet.width, sheet.height), flush=True)
        written.append(path)
    if not real:
        print('note: %s' % RANDOM_WEIGHTS)
    phases.done('figures')
    return written


def main(arglist=None):
    logging.basicConfig(level=logging.WARNING)
    # the flags inside run_cli too: `reproduce_chapter.py -h | head -1` ends quietly
    def work():
        result = reproduce(get_args(arglist))
        return result if not isinstance(result, list) else None
    return run_cli(work, 'reproduce_chapter.py')


if __name__ == '__main__':
    sys.exit(main())
