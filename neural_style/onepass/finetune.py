"""A new style for the 26-style network: its conv weights stay, and only a new row of gamma and
beta per normalised layer is trained (Dumoulin et al.: a style is its normalisation parameters),
with the project's perceptual loss (VGG-19 style + content, neural_style/perceptual_loss.py) and
Adam. Arrays in, arrays out: the photos and the painting as (h, w, 3) 0-255 arrays, already at the
training size; the result is {'<layer>_gamma': (C,), '<layer>_beta': (C,)}, which
stylize_multistyle's network takes as it takes style_norm's.

The command (its --help the reference; docs/stylize.md):

  python -m neural_style.onepass.finetune painting.jpg --photos photos/ -o model/styles/trained/mine.params
  stylize.py photo.jpg --style model/styles/trained/mine.params"""
import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from neural_style.errors import NstyleError
from neural_style.onepass import multistyle

MEAN_RGB = np.array([123.68, 116.779, 103.939], np.float32)  # VGG-19's, as neural_style.files.images


def network_image(pixels_or_unit, scale=1.0):
    """(h, w, 3) 0-255 (scale 1) or (1, 3, h, w) 0-1 (scale 255) -> VGG's (1, 3, h, w) input."""
    array = np.asarray(pixels_or_unit, np.float32)
    if array.ndim == 3:
        array = array.transpose(2, 0, 1)[np.newaxis]
    return array * scale - MEAN_RGB[:, None, None]


def trainable_names():
    return ['%s_%s' % (layer[0], kind) for layer in multistyle.LAYERS for kind in ('gamma', 'beta')]


class StyleTrainer:
    """The 26-style network bound at one size with gradients for its gammas and betas only, and the
    perceptual loss of one painting (net: gatys.loss.Vgg, the VGG-19 weights)."""

    def __init__(self, params, net, style_pixels, size, loss_weights, start_style=None):
        from neural_style.generators.perceptual_loss import PerceptualLoss
        from .layers import bind
        self.size = tuple(size)
        start = multistyle.style_norm(params, start_style) if start_style is not None else {
            name: params[name + '_table'].mean(axis=0) for name in trainable_names()}
        self.norm = {name: value.astype(np.float32).copy() for name, value in start.items()}
        grad_req = {name: ('write' if name in self.norm else 'null')
                    for name in multistyle.multistyle_symbol().list_arguments()}
        self.executor = bind(multistyle.multistyle_symbol(), dict(params, **self.norm), {'image': (1, 3) + self.size},
                             grad_req)
        self.loss = PerceptualLoss(net, network_image(style_pixels), self.size, loss_weights)
        self.moments = {name: (np.zeros_like(v), np.zeros_like(v)) for name, v in self.norm.items()}
        self.steps = 0

    def loss_and_gradients(self, content_pixels):
        """(content loss, style loss) of the network's output for this photo, and d(their sum) /
        d(each gamma and beta)."""
        from neural_style.mxnet_runtime import mx
        self.loss.set_content(network_image(content_pixels))
        self.executor.arg_dict['image'][:] = np.asarray(content_pixels, np.float32).transpose(2, 0, 1)[np.newaxis] / 255
        for name, value in self.norm.items():
            self.executor.arg_dict[name][:] = value
        output = self.executor.forward(is_train=True)[0]
        image_grad = self.loss.input_gradient(mx.nd.array(network_image(output.asnumpy(), 255)))
        self.executor.backward([image_grad * 255])  # the VGG input is 255 * output - mean
        return self.loss.losses(), {name: self.executor.grad_dict[name].asnumpy() for name in self.norm}

    def step(self, content_pixels, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        """One Adam step on one photo; returns its (content, style) losses before the step."""
        losses, grads = self.loss_and_gradients(content_pixels)
        self.steps += 1
        for name, grad in grads.items():
            m, v = self.moments[name]
            m[:] = beta1 * m + (1 - beta1) * grad
            v[:] = beta2 * v + (1 - beta2) * grad * grad
            m_hat, v_hat = m / (1 - beta1 ** self.steps), v / (1 - beta2 ** self.steps)
            self.norm[name] -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        return losses


def train_style(trainer, photos, steps, learning_rate=0.01):
    """A new style's gammas and betas: STEPS Adam steps of a StyleTrainer over PHOTOS in turn (each
    (h, w, 3) 0-255, at the trainer's size). Returns (norm, the (content, style) losses of each step)."""
    history = [trainer.step(photos[i % len(photos)], learning_rate) for i in range(steps)]
    return trainer.norm, history


# ---- a trained style's file: its gammas and betas (mx.nd.save), read by stylize.py --style FILE ------

STYLE_FILE_HINT = 'a style trained by python -m neural_style.onepass.finetune (a .params file)'


def save_style(path, norm):
    """The gammas and betas into PATH (mx.nd.save), written under a temporary name, then renamed."""
    from neural_style.files.output_folder import write_atomically
    from neural_style.mxnet_runtime import mx
    arrays = {name: mx.nd.array(norm[name], dtype='float32') for name in trainable_names()}
    write_atomically(path, lambda temporary: mx.nd.save(temporary, arrays))


def load_style(path, flag='--style'):
    """{'<layer>_gamma': (C,), ...} of a trained style file, every name and shape checked: a file that
    is missing, unreadable or another kind of .params is one line naming FLAG and the file."""
    from neural_style.mxnet_runtime import mx
    if not os.path.isfile(path):
        raise NstyleError('%s %s: no such file; give %s' % (flag, path, STYLE_FILE_HINT))
    try:
        norm = {name: value.asnumpy() for name, value in mx.nd.load(path).items()}
    except (mx.base.MXNetError, AttributeError):
        raise NstyleError('%s %s: cannot be read as %s' % (flag, path, STYLE_FILE_HINT)) from None
    expected = {'%s_%s' % (layer[0], kind): (layer[2],) for layer in multistyle.LAYERS for kind in ('gamma', 'beta')}
    shapes = {name: value.shape for name, value in norm.items()}
    if shapes != expected:
        raise NstyleError('%s %s: not %s (its arrays are not the 26-style network\'s gammas and betas)'
                          % (flag, path, STYLE_FILE_HINT))
    if not all(np.all(np.isfinite(value)) for value in norm.values()):
        raise NstyleError('%s %s: holds NaN or infinite values; train the style again' % (flag, path))
    return {name: value.astype(np.float32) for name, value in norm.items()}


# ---- the command --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinetuneConfig:
    painting: str
    photos: str
    output: str
    size: int
    steps: int
    learning_rate: float
    style_weight: float
    content_weight: float
    start_style: Optional[int]
    vgg_params: str
    weights_dir: Optional[str]
    overwrite: bool


def build_parser():
    from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE, POSITIVE_INT
    from neural_style.cli.tool import OneLineErrorParser
    parser = OneLineErrorParser(prog='python -m neural_style.onepass.finetune',
                                description='A new style for the 26-style network: only its gammas and betas are '
                                            'trained (the convolutions stay), with the perceptual loss (VGG-19) of '
                                            'one painting over a folder of photos. The result is a small file that '
                                            'stylize.py --style FILE uses.',
                                epilog=__doc__.split('\n\n')[-1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('painting', metavar='PAINTING', help='the style: any picture (resized to --size square)')
    parser.add_argument('--photos', required=True, metavar='FOLDER',
                        help='the training photos (JPEG, PNG ...), each cropped at the centre to --size square')
    parser.add_argument('-o', '--output', metavar='FILE.params',
                        help='the trained style (default: model/styles/trained/<painting name>.params)')
    parser.add_argument('--size', type=POSITIVE_INT, default=256, help='training size, pixels square (default 256)')
    parser.add_argument('--steps', type=POSITIVE_INT, default=200, help='Adam steps, one photo each (default 200)')
    parser.add_argument('--lr', type=POSITIVE, default=0.01, help='Adam\'s learning rate (default 0.01)')
    parser.add_argument('--style-weight', type=NON_NEGATIVE, default=1.2,
                        help='the style loss\'s weight (default 1.2, as the generators\' training)')
    parser.add_argument('--content-weight', type=NON_NEGATIVE, default=10.0,
                        help='the content loss\'s weight (default 10, as the generators\' training)')
    parser.add_argument('--start-style', type=int, choices=range(multistyle.NUM_STYLES), metavar='N',
                        help='start from style N\'s gammas and betas (default: the mean of the 26)')
    parser.add_argument('--vgg-params', default='model/vgg19.params',
                        help='VGG-19\'s weights for the loss (./download.sh; default model/vgg19.params)')
    parser.add_argument('--weights-dir', metavar='DIR',
                        help='the converted 26-style weights (default: model/styles, made by ./download.sh --styles)')
    parser.add_argument('--overwrite', action='store_true', help='replace the output file if it exists')
    return parser


def config_from_args(args):
    output = args.output or os.path.join(args.weights_dir or os.path.join('model', 'styles'), 'trained',
                                         os.path.splitext(os.path.basename(args.painting))[0] + '.params')
    return FinetuneConfig(args.painting, args.photos, output, args.size, args.steps, args.lr, args.style_weight,
                          args.content_weight, args.start_style, args.vgg_params, args.weights_dir, args.overwrite)


def training_photos(folder, size):
    """Every photo of FOLDER centre-cropped to (size, size), 0-255 float32; one line when there are none
    (the generators' training reads its --data-dir the same way)."""
    from neural_style.files.images import read_rgb_image
    from neural_style.generators.crops import cover_and_crop, image_files
    return [(cover_and_crop(read_rgb_image(path, '--photos'), (size, size)) * 255).astype(np.float32)
            for path in image_files(folder, '--photos')]


def check_output(config):
    if not config.output.lower().endswith('.params'):
        raise NstyleError('-o %s: name a .params file' % config.output)
    if os.path.exists(config.output) and not config.overwrite:
        raise NstyleError('%s exists; give --overwrite to replace it, or another -o' % config.output)
    os.makedirs(os.path.dirname(config.output) or '.', exist_ok=True)


def finetune(config, log=print):
    """Train the style of config, write it; returns the (content, style) losses of each step."""
    import logging
    from PIL import Image
    import model_vgg19
    from neural_style.files.images import read_rgb_image
    from neural_style.gatys.loss import Vgg
    from neural_style.generators.perceptual_loss import LossWeights
    from neural_style.mxnet_runtime import mx
    from neural_style.onepass import weights
    check_output(config)
    painting = read_rgb_image(config.painting, 'PAINTING')
    style = np.asarray(Image.fromarray(painting).resize((config.size, config.size), Image.LANCZOS), np.float32)
    photos = training_photos(config.photos, config.size)
    params = weights.load('multistyle26', config.weights_dir)
    try:
        vgg_params = model_vgg19.load_params(config.vgg_params)
    except model_vgg19.WeightsError as error:
        raise NstyleError('--vgg-params: %s' % error) from None
    if not model_vgg19.are_real_weights(config.vgg_params):  # never pass other weights off as VGG-19's
        logging.warning('--vgg-params %s is not the published VGG-19: the style it trains is not the painting\'s',
                        config.vgg_params)
    net = Vgg(model_vgg19, vgg_params, mx.cpu(), 'float32', None)
    trainer = StyleTrainer(params, net, style, (config.size, config.size),
                           LossWeights(config.style_weight, config.content_weight), config.start_style)
    history, start = [], time.time()
    for step in range(1, config.steps + 1):
        history.append(trainer.step(photos[(step - 1) % len(photos)], config.learning_rate))
        if not np.isfinite(sum(history[-1])):
            raise NstyleError('the loss became %s at step %d: try a lower --lr' % (sum(history[-1]), step))
        if step % 10 == 0 or step in (1, config.steps):
            log('step %d of %d: content loss %.4g, style loss %.4g (%.0f s)'
                % (step, config.steps, history[-1][0], history[-1][1], time.time() - start))
    save_style(config.output, trainer.norm)
    log('wrote %s: use it with stylize.py PHOTO --style %s' % (config.output, config.output))
    return history


def main(arglist=None):
    import logging
    from neural_style.cli.tool import run_cli

    def work():
        logging.basicConfig(level=logging.INFO, format='%(asctime)-15s %(message)s')
        finetune(config_from_args(build_parser().parse_args(arglist)), lambda line: print(line, file=sys.stderr))
    return run_cli(work, 'neural_style.onepass.finetune')


if __name__ == '__main__':
    sys.exit(main())
