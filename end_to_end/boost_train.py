"""Train feed-forward generators for one style (the original end_to_end example's boost_train.py,
made a tool): after training, end_to_end/boost_inference.py stylises an image in one forward pass.

    python end_to_end/boost_train.py --data-dir photos/ --style-image input/starry_night.jpg
    python end_to_end/boost_train.py --generator johnson --data-dir photos/ --style-image input/starry_night.jpg

--generator v3chain (default): the original's chain of four generators and its training, values and
log lines; checkpoints <model-dir>/<k>/v3_<epoch:04d>-<image:07d>.params every --save-every images
counting from image 0. --generator johnson: Johnson et al.'s network, trained end to end with Adam;
checkpoints <model-dir>/johnson_<epoch:04d>-<image:07d>.params. Both also save at the end and on Ctrl-C.
"""
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project root

import model_vgg19  # noqa: E402  (its layer names; MXNet loads at its first use)
from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE, POSITIVE_INT  # noqa: E402
from neural_style.cli.report import Phases, hold_stdout, make_report  # noqa: E402
from neural_style.cli.tool import OneLineErrorParser, run_cli  # noqa: E402
from neural_style.generators import checkpoints  # noqa: E402
from neural_style.generators.settings import TrainingSettings  # noqa: E402

# The flags whose default depends on --generator: the original's values for its chain; for Johnson's
# network those of Johnson et al. 2016 (Adam, lr 1e-3, batch 4, 256x256, 2 epochs of COCO, no clipping)
# and content at relu2_2, as they chose it (docs/end_to_end.md says why).
DEFAULTS = {
    checkpoints.V3CHAIN: dict(size=384, epochs=3, lr=1e-4, momentum=0.9, wd=5e-3, clip_gradient=5.0, clip_norm=0.05,
                              batch_size=1, content_layer='relu4_2'),
    checkpoints.JOHNSON: dict(size=256, epochs=2, lr=1e-3, momentum=None, wd=0.0, clip_gradient=0.0, clip_norm=0.0,
                              batch_size=4, content_layer='relu2_2'),
}


def momentum(text):
    """SGD's momentum: in [0, 1); 1 or more makes the steps grow without end (divergence)."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a number in [0, 1), got %r' % text) from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError('%s: SGD\'s momentum must be in [0, 1) (at 1 or more the steps grow '
                                         'without end); the original used 0.9' % text)
    return value


def get_args(arglist=None):
    parser = OneLineErrorParser(description='train feed-forward generators for one style (end_to_end)')
    parser.add_argument('--data-dir', required=True, help='a folder of training images (jpg/png)')
    parser.add_argument('--style-image', required=True, help='the style image')
    parser.add_argument('--generator', choices=checkpoints.KINDS, default=checkpoints.V3CHAIN,
                        help='v3chain: the original\'s four generators (default); johnson: Johnson et al.\'s network')
    parser.add_argument('--vgg-params', default=model_vgg19.DEFAULT_PARAMS,
                        help='the VGG-19 weights (./download.sh fetches them)')
    parser.add_argument('--size', type=POSITIVE_INT, default=None,
                        help='the side of the square crops trained on (default: 384 v3chain, 256 johnson)')
    parser.add_argument('--epochs', type=POSITIVE_INT, default=None, help='passes over the data (default 3 / 2)')
    parser.add_argument('--batch-size', type=POSITIVE_INT, default=None,
                        help='images per update: johnson only (default 4); the chain trains on one at a time')
    parser.add_argument('--model-dir', default='model', help='where the checkpoints go')
    parser.add_argument('--init-model', default=None,
                        help='start from the newest checkpoint of this folder; the --model-dir itself resumes there')
    parser.add_argument('--style-weight', type=NON_NEGATIVE, default=1.2, help='the weight of the style loss')
    parser.add_argument('--content-weight', type=NON_NEGATIVE, default=10, help='the weight of the content loss')
    parser.add_argument('--content-layer', choices=model_vgg19.RELU_LAYERS, default=None,
                        help='the VGG-19 layer whose features the result keeps (default relu4_2 / relu2_2)')
    parser.add_argument('--tv-weight', type=NON_NEGATIVE, default=0.01,
                        help='the weight of the TV (smoothness) gradient; 0 disables it')
    parser.add_argument('--lr', type=POSITIVE, default=None, help='the learning rate (default 1e-4 SGD / 1e-3 Adam)')
    parser.add_argument('--momentum', type=momentum, default=None, help='SGD\'s momentum (v3chain, default 0.9)')
    parser.add_argument('--wd', type=NON_NEGATIVE, default=None, help='weight decay (default 5e-3 / 0)')
    parser.add_argument('--clip-gradient', type=NON_NEGATIVE, default=None,
                        help='clip each parameter gradient element to +-this (default 5 / 0); 0 disables it')
    parser.add_argument('--clip-norm', type=NON_NEGATIVE, default=None,
                        help='scale each output gradient down to a norm of at most this times its size '
                             '(default 0.05 / 0); 0 disables it')
    parser.add_argument('--save-every', type=POSITIVE_INT, default=1000,
                        help='save a checkpoint every n images, counting from image 0 (and at the end)')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed the shuffle, the crops and the initial weights (default: unseeded)')
    parser.add_argument('--gpu', type=int, default=0,
                        help='which GPU to use, -1 means the CPU; without a usable GPU the run warns and '
                             'continues on the CPU')
    parser.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32',
                        help='VGG-19\'s convolutions in bfloat16 (CPUs with AVX512-BF16); the generators stay float32')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report on stdout when the training ends (the one shape of every tool, '
                             'each epoch\'s mean losses; docs/running.md)')
    args = parser.parse_args(arglist)
    for name, value in DEFAULTS[args.generator].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return TrainingSettings.from_values(vars(args))


def main(arglist=None):
    args = get_args(arglist)
    logging.basicConfig(level=logging.INFO, format='%(asctime)-15s %(message)s')
    return run_cli(lambda: train(args), 'boost_train.py')


def train(args):
    """The training; with --json the Report."""
    phases = Phases()
    if args.json:
        hold_stdout()
    from neural_style.generators.train_on_folder import train_generators  # MXNet loads here, not for --help
    phases.done('startup')
    record = {}
    status = train_generators(args, record)
    phases.done('training')
    if not args.json:
        return status
    inputs = {'data_dir': args.data_dir, 'style_image': args.style_image, 'vgg_params': args.vgg_params}
    if args.init_model:
        inputs['init_model'] = args.init_model
    return make_report('boost_train.py', inputs, {'model_dir': args.model_dir, 'checkpoints': record['checkpoints']},
                       args, phases, record['losses'], gpu=args.gpu)


if __name__ == '__main__':
    sys.exit(main())
