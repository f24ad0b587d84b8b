"""Neural style transfer (Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic
Style", 2015) with MXNet's symbolic API: a port of MXNet's example/neural-style
to Python 3.11, mxnet 1.9.1 and current scikit-image, faithful to the original.

    python nstyle.py --content-image input/IMG_4343.jpg --style-image input/starry_night.jpg

The image is optimised directly: VGG-19 features of the content image (relu4_2)
and Gram matrices of the style image's features (relu1_1 ... relu5_1) are the
targets; each epoch takes one Nesterov step on the image along the gradient of
the weighted losses plus a Laplacian smoothness term (or an Adam step, or an
L-BFGS iteration: --optimizer). The parts live in the package neural_style/;
this file is the command line and the run, as the original's was.
"""
import argparse
import glob
import importlib
import logging
import os
import sys

import find_mxnet  # makes `import mxnet` work (or says how to install it) and sets the thread count
import mxnet as mx

from neural_style.batch import run_jobs, without_jobs_flag
from neural_style.device import context_for, pick_context  # noqa: F401  (pick_context: the tools' name for it)
from neural_style.flags import (FINITE, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, NstyleError,
                                OneLineErrorParser, blend_weights, checked, layer_names, run_cli, stages)
from neural_style.images import (PostprocessImage, PreprocessContentImage, PreprocessStyleImage,  # noqa: F401
                                 SaveImage, pixels_to_network, read_rgb_image, resized_network_image)
from neural_style.interrupts import ctrl_c_between_epochs
from neural_style.loss_setup import build_loss, load_network, stage_inputs
from neural_style.losses import get_loss, get_tv_grad_executor, style_gram_symbol  # noqa: F401  (the original's names)
from neural_style.optimizers import DEFAULT_LR, optimize
from neural_style.outputs import prepare_output_dir
from neural_style.presets import PRESETS, describe_preset, preset_defaults
from neural_style.reporter import EpochReporter, RunOutput

HERE = os.path.dirname(os.path.abspath(__file__))


def available_models():
    return sorted(os.path.basename(path)[len('model_'):-len('.py')]
                  for path in glob.glob(os.path.join(HERE, 'model_*.py')))


def model_name(name):
    if name not in available_models():
        raise argparse.ArgumentTypeError('unknown model %r (no model_%s.py); available: %s'
                                         % (name, name, ', '.join(available_models())))
    return name


def get_args(arglist=None, parser_class=OneLineErrorParser):
    parser = parser_class(description='neural style: paint the content image in the style image\'s manner '
                                            '(Gatys et al. 2015), with MXNet')
    parser.add_argument('--model', type=model_name, default='vgg19',
                        help='the pretrained model to use: model_<name>.py (available: %s)'
                             % ', '.join(available_models()))
    parser.add_argument('--content-image', type=str, default='input/IMG_4343.jpg',
                        help='the content image')
    parser.add_argument('--style-image', type=str, default='input/starry_night.jpg',
                        help='the style image (stretched to the content image\'s size); several, '
                             'comma-separated, blend their styles (a path that exists as given is one image)')
    parser.add_argument('--stop-eps', type=FINITE, default=.005,
                        help='stop when the relative change of the image in one epoch is below this '
                             '(nag and adam; lbfgs has its own tests)')
    parser.add_argument('--content-weight', type=NON_NEGATIVE, default=10,
                        help='the weight of the content loss')
    parser.add_argument('--style-weight', type=NON_NEGATIVE, default=1,
                        help='the weight of the style loss')
    parser.add_argument('--tv-weight', type=FINITE, default=1e-2,
                        help='the magnitude of the total-variation (smoothness) gradient; <= 0 disables it')
    parser.add_argument('--max-num-epochs', type=NON_NEGATIVE_INT, default=1000,
                        help='the maximal number of epochs (one optimisation step each)')
    parser.add_argument('--max-long-edge', type=POSITIVE_INT, default=600,
                        help='resize the content image so that its long edge is this many pixels')
    parser.add_argument('--lr', type=POSITIVE, default=None,
                        help='the initial learning rate (default: %g with --optimizer nag, %g with adam; '
                             'lbfgs does not use it)' % (DEFAULT_LR['nag'], DEFAULT_LR['adam']))
    parser.add_argument('--gpu', type=int, default=0,
                        help='which GPU to use, -1 means the CPU; without a usable GPU the run '
                             'warns and continues on the CPU')
    parser.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32',
                        help='the convolutions\' number type: bfloat16 is faster on CPUs with AVX512-BF16 '
                             'instructions and changes the result slightly (refused elsewhere); float32, the '
                             'default, gives the original\'s results')
    parser.add_argument('--output_dir', type=str, default='output/',
                        help='the folder for the checkpoints e_<epoch>.jpg and final.jpg (created if missing)')
    parser.add_argument('--save-epochs', type=POSITIVE_INT, default=50,
                        help='save a checkpoint every n epochs')
    parser.add_argument('--remove-noise', type=NON_NEGATIVE, default=.02,
                        help='the weight of the TV-Chambolle denoising of the checkpoints; 0 disables it '
                             '(final.jpg is never denoised)')
    parser.add_argument('--lr-sched-delay', type=POSITIVE_INT, default=75,
                        help='how many epochs between decreases of the learning rate')
    parser.add_argument('--lr-sched-factor', type=checked(float, lambda v: 0 < v <= 1, 'in (0, 1]'), default=0.9,
                        help='the factor of each decrease of the learning rate')
    # Beyond the original:
    parser.add_argument('--seed', type=int, default=None,
                        help='seed MXNet\'s random generator before the initial noise is drawn, for a '
                             'reproducible run (default: unseeded, like the original)')
    parser.add_argument('--vgg-params', type=str, default='model/vgg19.params',
                        help='the VGG-19 weights (./download.sh fetches them); a relative path is tried '
                             'against the working directory, then beside model_vgg19.py')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the results of an earlier run in --output_dir (its final.jpg and e_*.jpg '
                             'are removed first); without it such a run is refused')
    parser.add_argument('--content-layers', type=layer_names, default='relu4_2',
                        help='the ReLU outputs whose features the result keeps, comma-separated (their '
                             'losses are summed)')
    parser.add_argument('--style-layers', type=layer_names, default='relu1_1,relu2_1,relu3_1,relu4_1,relu5_1',
                        help='the ReLU outputs whose Gram matrices make the style, comma-separated')
    parser.add_argument('--init', type=str, default='noise',
                        help="where the image starts: 'noise' (the original's uniform noise), 'content' (the "
                             "content image) or an image file, resized to the content's size (a checkpoint "
                             "e_N.jpg resumes a run)")
    parser.add_argument('--multires', type=stages, default=None,
                        help='coarse to fine: long edges, each optionally with its own epoch budget as '
                             'EDGE:EPOCHS (such as 300:500,600:200; a stage without one gets --max-num-epochs); '
                             'each stage starts from the previous one\'s result, upsampled. Replaces '
                             '--max-long-edge')
    parser.add_argument('--jobs', type=str, default=None,
                        help='batch mode: a CSV file whose header names the columns content, style, output and '
                             'optionally options (more flags for that row, such as "--style-weight 2"); each '
                             'row runs in turn, in this process, with the other flags given here')
    parser.add_argument('--style-blend-weights', type=blend_weights, default=None,
                        help='with several --style-image: how much of each style, comma-separated weights >= 0, '
                             'one per image, normalised to sum 1 (default: equal)')
    parser.add_argument('--style-scale', type=POSITIVE, default=1.0,
                        help='resize the style image to this times the content image\'s size before taking its '
                             'Gram matrices (larger: larger brush strokes); 1 stretches it to exactly the '
                             'content\'s size, as the original does')
    parser.add_argument('--original-colors', action='store_true',
                        help='keep the content image\'s colours: the written images (checkpoints and final.jpg) '
                             'get the result\'s luminance with the content\'s chroma (YIQ)')
    parser.add_argument('--pooling', choices=['avg', 'max'], default='avg',
                        help='the pooling between the network\'s blocks: avg (Gatys et al., the original) or '
                             'max (the network as trained)')
    parser.add_argument('--optimizer', choices=['nag', 'adam', 'lbfgs'], default='nag',
                        help='how the image is optimised: nag, the original\'s Nesterov steps (default); adam, '
                             'Adam steps in the same loop (same clipping, schedule and weight decay); lbfgs, '
                             'scipy\'s L-BFGS-B on the losses plus the TV energy, unclipped, --max-num-epochs '
                             'counting its function evaluations, each iteration logged as an epoch, stopping '
                             'on scipy\'s tests instead of --stop-eps')
    parser.add_argument('--print-epochs', type=NON_NEGATIVE_INT, default=0,
                        help='every n epochs log the content, style and TV losses (weighted as in the '
                             'gradient) and their sum; 0, the default, logs none')
    parser.add_argument('--preset', choices=sorted(PRESETS), default=None,
                        help='a named set of defaults: fast (--optimizer lbfgs --max-num-epochs 150) reaches the '
                             'objective of the original\'s default run several times sooner; any flag given '
                             'explicitly wins')

    # a preset changes the defaults, so the flags are read twice: for --preset (and the long edge its
    # defaults depend on), then with its defaults in place
    known, _ = parser.parse_known_args(arglist)
    if known.preset:
        parser.set_defaults(**preset_defaults(known.preset, known.max_long_edge))
    args = parser.parse_args(arglist)  # None: sys.argv
    if args.lr is None:
        args.lr = DEFAULT_LR.get(args.optimizer)  # None with lbfgs, which has no learning rate
    return args


def read_init_image(args):
    """The pixels of --init PATH (read before any work, so that a bad file fails fast), else None."""
    if args.init in ('noise', 'content'):
        return None
    return read_rgb_image(args.init, '--init')


def initial_image(args, content_np, init_pixels, dev):
    """The image the optimisation starts from: the original's uniform noise in [-0.1, 0.1], the
    content image as the network sees it, or an image file's pixels resized to the content's size."""
    if args.init == 'content':
        return mx.nd.array(content_np, ctx=dev)
    if init_pixels is not None:
        return mx.nd.array(pixels_to_network(init_pixels, content_np.shape[2:]), ctx=dev)
    img = mx.nd.zeros(content_np.shape, ctx=dev)
    if args.seed is not None:
        mx.random.seed(args.seed)
    img[:] = mx.rnd.uniform(-0.1, 0.1, img.shape)
    return img


def train_nstyle(args, callback=None, cache=None):
    """Train a neural style network.
    Args are from argparse and control input, output, hyper-parameters.
    callback allows for display of training progress: it is called every epoch with
    {'eps', 'epoch'}, plus 'filename' and 'img' on epochs that saved a checkpoint ('img' is the
    optimised image, (1, 3, h, w) as the network sees it: with --original-colors, only the files
    written get the content's colours).
    cache: a dict kept between calls (batch mode) so that the weights are loaded once, and the
    executors are reused too when it holds an 'executors' OrderedDict.
    Raises NstyleError for problems the user can fix; KeyboardInterrupt after saving final.jpg.
    """
    model_module = importlib.import_module('model_' + args.model)
    dev = context_for(args.gpu, args.dtype)
    # (long edge, epochs) of each stage: one stage unless --multires
    stages = [(edge, args.max_num_epochs if epochs is None else epochs) for edge, epochs in args.multires or
              [(args.max_long_edge, args.max_num_epochs)]]

    # input: every stage's content and style images first, so that a bad image or size fails before any work
    long_edge_flag = '--multires' if args.multires else '--max-long-edge'
    inputs = [stage_inputs(args, model_module, edge, long_edge_flag) for edge, _ in stages]
    init_pixels = read_init_image(args)
    net = load_network(args, model_module, dev, cache)
    if dev.device_type == 'cpu':
        logging.info('running on the CPU with %s threads (from %s)', find_mxnet.THREADS, find_mxnet.THREADS_SOURCE)
    prepare_output_dir(args.output_dir, args.overwrite)

    final_fn = os.path.join(args.output_dir, 'final.jpg')
    img = colors_from = None
    epochs_done = 0
    with ctrl_c_between_epochs() as interrupted:
        try:
            for stage, ((edge, epochs), stage_input) in enumerate(zip(stages, inputs)):
                content_np = stage_input.content
                if len(stages) > 1:
                    logging.info('stage %d of %d: long edge %d (%dx%d), up to %d epochs', stage + 1, len(stages),
                                 edge, content_np.shape[3], content_np.shape[2], epochs)
                colors_from = PostprocessImage(content_np) if args.original_colors else None  # the result's size
                loss = build_loss(args, net, stage_input)
                if img is None:  # the first stage starts from --init, the others from the stage before
                    img = initial_image(args, content_np, init_pixels, dev)
                    logging.info('start training arguments %s', args)
                    if args.preset:
                        logging.info('--preset %s: %s (flags given explicitly win)', args.preset, describe_preset(args))
                else:
                    img = mx.nd.array(resized_network_image(img.asnumpy(), content_np.shape[2:]), ctx=dev)
                reporter = EpochReporter(args, RunOutput(final_fn, colors_from, callback, interrupted), epochs_done,
                                         epochs)
                epochs_done += optimize(args, loss, img, reporter)
        except KeyboardInterrupt:
            if img is not None:  # a second Ctrl-C only sets the flag again: the save completes
                SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)
            raise
        SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)


def main(arglist=None):
    argv = sys.argv[1:] if arglist is None else [str(arg) for arg in arglist]
    args = get_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.jobs is not None:
        return run_cli(lambda: run_jobs(args.jobs, without_jobs_flag(argv), get_args, train_nstyle))
    return run_cli(lambda: train_nstyle(args))


if __name__ == '__main__':
    sys.exit(main())
