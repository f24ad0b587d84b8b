"""nstyle.py's flags, defined once: nstyle.py's parser is made of them (with --preset and the
cluster's), and stylize_video.py's of those that apply to a video (add_style_flags's leave_out).
Parsing them gives a frozen GatysSettings (gatys/settings.py): nothing below sees argparse. No MXNet."""
import argparse
import glob
import os

from neural_style import PROJECT
from neural_style.cli.flag_types import (
    FINITE,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    blend_weights,
    checked,
    layer_names,
    stages,
)
from neural_style.cli.flags_used import given_flags, refuse_unused
from neural_style.cli.tool import OneLineErrorParser
from neural_style.files import STDIO
from neural_style.gatys.settings import DEFAULT_LR, GatysSettings

# the flags of the MRF style loss: used only with --style-loss mrf
MRF_FLAGS = ('mrf_layers', 'mrf_patch_size', 'mrf_stride', 'mrf_weight', 'mrf_rematch_every')


def available_models():
    return sorted(os.path.basename(path)[len('model_'):-len('.py')]
                  for path in glob.glob(os.path.join(PROJECT, 'model_*.py')))


def model_name(name):
    if name not in available_models():
        raise argparse.ArgumentTypeError('unknown model %r (no model_%s.py); available: %s'
                                         % (name, name, ', '.join(available_models())))
    return name


class LeavingOut:
    """A parser whose add_argument skips the flags named in leave_out."""

    def __init__(self, parser, leave_out):
        self.parser, self.leave_out = parser, set(leave_out)

    def add_argument(self, *names, **options):
        if not self.leave_out.intersection(names):
            return self.parser.add_argument(*names, **options)
        return None


def add_style_flags(parser, leave_out=()):
    """nstyle.py's flags, in its order, on parser, but for those named in leave_out (such as
    '--output_dir')."""
    parser = LeavingOut(parser, leave_out)
    parser.add_argument('--model', type=model_name, default='vgg19',
                        help='the pretrained model to use: model_<name>.py (available: %s)'
                             % ', '.join(available_models()))
    parser.add_argument('--content-image', type=str, default='input/IMG_4343.jpg',
                        help='the content image; - reads it from stdin (so may --style-image, one of them)')
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
    parser.add_argument('--dtype', choices=['float32', 'bfloat16', 'auto'], default='float32',
                        help='the convolutions\' number type: bfloat16 is faster on CPUs with AVX512-BF16 '
                             'instructions and changes the result slightly (refused elsewhere); auto: bfloat16 '
                             'only where a short timed check finds it faster on this CPU (cached per machine; '
                             'the presets\' default); float32, the default, gives the original\'s results')
    parser.add_argument('--output_dir', type=str, default='output/',
                        help='the folder for the checkpoints e_<epoch>.jpg and final.jpg (created if missing); - writes '
                             'the final image on stdout as PNG, without checkpoints')
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
                        help='replace the results of an earlier run in --output_dir (its final.jpg and e_*.jpg): '
                             'they stay until this run has written its final.jpg, then give way to this run\'s; '
                             'without it such a run is refused')
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
                             'row runs in turn, in this process (or on a Ray cluster: --ray), with the other '
                             'flags given here')
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
    parser.add_argument('--lbfgs-num-correction', type=POSITIVE_INT, default=10,
                        help='with --optimizer lbfgs: how many past steps L-BFGS remembers (scipy\'s maxcor, '
                             'neural-style\'s -lbfgs_num_correction); more take fewer evaluations to a result '
                             'and up to 2 x N copies of the image in float64 of memory (default: 10, scipy\'s)')
    parser.add_argument('--style-loss', choices=['gram', 'mrf'], default='gram',
                        help='the style loss: gram, the Gram matrices of --style-layers (Gatys et al., the '
                             'original); mrf, every k x k patch of the result\'s features at --mrf-layers pulled '
                             'towards its nearest style patch (Li & Wand 2016, CNNMRF): keeps local structures, '
                             'costs more per epoch')
    parser.add_argument('--mrf-layers', type=layer_names, default='relu3_1,relu4_1',
                        help='with --style-loss mrf: the ReLU outputs whose patches are matched, comma-separated '
                             '(replace --style-layers)')
    parser.add_argument('--mrf-patch-size', type=POSITIVE_INT, default=3,
                        help='with --style-loss mrf: the side of the feature patches')
    parser.add_argument('--mrf-stride', type=POSITIVE_INT, default=2,
                        help='with --style-loss mrf: take a style patch every n positions (1: every patch, '
                             'about n*n times the matching cost of n)')
    parser.add_argument('--mrf-weight', type=NON_NEGATIVE, default=1.0,
                        help='with --style-loss mrf: the weight of each MRF layer\'s loss (replaces --style-weight)')
    parser.add_argument('--mrf-rematch-every', type=POSITIVE_INT, default=1,
                        help='with --style-loss mrf: find the nearest style patches again every n loss '
                             'evaluations (epochs), keeping the matches in between')
    parser.add_argument('--print-epochs', type=NON_NEGATIVE_INT, default=0,
                        help='every n epochs log the content, style and TV losses (weighted as in the '
                             'gradient) and their sum; 0, the default, logs none')


def finish_style_args(parser, args):
    """After parsing: the checks between flags, and the defaults that depend on another flag."""
    if args.style_loss == 'mrf' and args.style_blend_weights is not None:
        parser.error('argument --style-blend-weights: not used by --style-loss mrf, which pools the patches of '
                     'all style images; leave it out')
    if args.lr is None:
        args.lr = DEFAULT_LR.get(args.optimizer)  # None with lbfgs, which has no learning rate
    return args


def check_stdio(parser, args):
    """'-': --content-image or --style-image read from stdin (one of them: stdin holds one image),
    --output_dir - writes the final image on stdout (PNG, no checkpoints), which --json's report
    would share: refused."""
    from_stdin = [flag for flag, piped in (('--content-image', args.content_image == STDIO),
                                           ('--style-image', STDIO in args.style_image.split(',')),
                                           ('--init', args.init == STDIO)) if piped]
    if len(from_stdin) > 1:
        parser.error('%s %s read -: stdin holds one image; give the others as files'
                     % (' and '.join(from_stdin), 'both' if len(from_stdin) == 2 else 'all'))
    if args.json and args.output_dir == STDIO:
        parser.error('--json writes its report on stdout: give --output_dir a folder, not -')
    if (args.json or args.output_dir == STDIO) and (args.jobs is not None or args.ray is not None):
        parser.error('--%s is for one run; with --jobs each row writes into its own output folder'
                     % ('json' if args.json else 'output_dir -'))


def gatys_parser(parser_class=OneLineErrorParser):
    """nstyle.py's parser: the style flags, --preset, and those of batch mode on a cluster."""
    from neural_style.cli.presets import PRESETS
    from neural_style.cluster.ray_cluster import add_cluster_flags
    parser = parser_class(description='neural style: paint the content image in the style image\'s manner '
                                      '(Gatys et al. 2015), with MXNet')
    add_style_flags(parser)
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout when the run ends (inputs, outputs, settings, '
                             'timings, the losses of every epoch, the machine; docs/running.md); the log and '
                             'the original\'s printouts go to stderr')
    add_cluster_flags(parser, 'the rows of --jobs')
    parser.add_argument('--preset', choices=sorted(PRESETS), default=None,
                        help='a named set of defaults: fast (--optimizer lbfgs --init content '
                             '--lbfgs-num-correction 20 --max-num-epochs 80) reaches the objective of the '
                             'original\'s default run several times sooner; any flag given explicitly wins')
    return parser


def parse_gatys_flags(argv, parser_class=OneLineErrorParser):
    """(GatysSettings, BatchSettings: batch mode's flags --jobs, --ray, --cpus-per-job, --gpus-per-job)."""
    from neural_style.cli.presets import preset_defaults
    from neural_style.cluster.batch import BatchSettings
    parser = gatys_parser(parser_class)
    # a preset changes the defaults, so the flags are read twice: for --preset, then with its defaults in place
    known, _ = parser.parse_known_args(argv)
    if known.preset:
        parser.set_defaults(**preset_defaults(known.preset))
    args = finish_style_args(parser, parser.parse_args(argv))
    if args.style_loss != 'mrf':  # given without it, they would be silently ignored
        refuse_unused(parser, given_flags(parser, argv), MRF_FLAGS, 'without --style-loss mrf')
    check_stdio(parser, args)
    return GatysSettings.from_values(vars(args)), BatchSettings.from_values(vars(args))


def get_args(arglist=None, parser_class=OneLineErrorParser):
    """The original's name: the GatysSettings of these flags (None: sys.argv)."""
    return parse_gatys_flags(arglist, parser_class)[0]
