"""Neural style transfer (Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic
Style", 2015) with MXNet's symbolic API: a port of MXNet's example/neural-style
to Python 3.11, mxnet 1.9.1 and current scikit-image, faithful to the original.

    python nstyle.py --content-image input/IMG_4343.jpg --style-image input/starry_night.jpg

The image is optimised directly: VGG-19 features of the content image (relu4_2)
and Gram matrices of the style image's features (relu1_1 ... relu5_1) are the
targets; each epoch takes one Nesterov step on the image along the gradient of
the weighted losses plus a Laplacian smoothness term (or an Adam step, or an
L-BFGS iteration: --optimizer).
"""
import argparse
import collections
import contextlib
import glob
import importlib
import logging
import math
import os
import re
import signal
import sys
import threading
import time

import find_mxnet  # makes `import mxnet` work (or says how to install it) and sets the thread count
import gpu_build
import mxnet as mx
import numpy as np
import scipy.optimize
from PIL import Image
from skimage import img_as_ubyte, io, transform
from skimage.restoration import denoise_tv_chambolle

HERE = os.path.dirname(os.path.abspath(__file__))
# ImageNet mean colour (R, G, B) that VGG-19 was trained with.
MEAN_RGB = np.array([123.68, 116.779, 103.939])


class NstyleError(Exception):
    """A problem the user can fix: reported as one line, with what to do."""


# ---------------------------------------------------------------- flags

class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line instead of the whole usage text."""

    def error(self, message):
        self.exit(2, '%s: error: %s (see %s -h)\n' % (self.prog, message, self.prog))


def _checked(kind, test, requirement):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('expected %s, got %r' % (kind.__name__, text)) from None
        if not test(value):
            raise argparse.ArgumentTypeError('must be %s, got %s' % (requirement, text))
        return value
    return parse


FINITE = _checked(float, math.isfinite, 'a finite number')
NON_NEGATIVE = _checked(float, lambda v: 0 <= v < math.inf, '>= 0 and finite')
# --lr when not given. Adam moves each pixel by about lr per step whatever the gradient's scale, so
# on pixels of about +-128 it needs a far larger rate than NAG, whose step is lr times the gradient.
# 5 did best after 300 epochs (on the tests' random weights: 64 px of 1, 3, 10, 30; 128 px of 2, 5,
# 10), where 10, jcjohnson/neural-style's Adam rate on the same 0-255 scale, oscillated. L-BFGS has none.
DEFAULT_LR = {'nag': .001, 'adam': 5., 'lbfgs': .001}


def _layer_names(text):
    names = [name.strip() for name in text.split(',')]
    if '' in names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError('expected comma-separated layer names, each once (such as '
                                         'relu1_1,relu2_1), got %r' % text)
    return names


def available_models():
    return sorted(os.path.basename(path)[len('model_'):-len('.py')]
                  for path in glob.glob(os.path.join(HERE, 'model_*.py')))


def _model_name(name):
    if name not in available_models():
        raise argparse.ArgumentTypeError('unknown model %r (no model_%s.py); available: %s'
                                         % (name, name, ', '.join(available_models())))
    return name


def get_args(arglist=None):
    parser = OneLineErrorParser(description='neural style: paint the content image in the style image\'s manner '
                                            '(Gatys et al. 2015), with MXNet')
    parser.add_argument('--model', type=_model_name, default='vgg19',
                        help='the pretrained model to use: model_<name>.py (available: %s)'
                             % ', '.join(available_models()))
    parser.add_argument('--content-image', type=str, default='input/IMG_4343.jpg',
                        help='the content image')
    parser.add_argument('--style-image', type=str, default='input/starry_night.jpg',
                        help='the style image (stretched to the content image\'s size)')
    parser.add_argument('--stop-eps', type=FINITE, default=.005,
                        help='stop when the relative change of the image in one epoch is below this '
                             '(nag and adam; lbfgs has its own tests)')
    parser.add_argument('--content-weight', type=NON_NEGATIVE, default=10,
                        help='the weight of the content loss')
    parser.add_argument('--style-weight', type=NON_NEGATIVE, default=1,
                        help='the weight of the style loss')
    parser.add_argument('--tv-weight', type=FINITE, default=1e-2,
                        help='the magnitude of the total-variation (smoothness) gradient; <= 0 disables it')
    parser.add_argument('--max-num-epochs', type=_checked(int, lambda v: v >= 0, '>= 0'), default=1000,
                        help='the maximal number of epochs (one optimisation step each)')
    parser.add_argument('--max-long-edge', type=_checked(int, lambda v: v > 0, '> 0'), default=600,
                        help='resize the content image so that its long edge is this many pixels')
    parser.add_argument('--lr', type=_checked(float, lambda v: 0 < v < math.inf, '> 0 and finite'), default=None,
                        help='the initial learning rate (default: %g with --optimizer nag, %g with adam; '
                             'lbfgs does not use it)' % (DEFAULT_LR['nag'], DEFAULT_LR['adam']))
    parser.add_argument('--gpu', type=int, default=0,
                        help='which GPU to use, -1 means the CPU; without a usable GPU the run '
                             'warns and continues on the CPU')
    parser.add_argument('--output_dir', type=str, default='output/',
                        help='the folder for the checkpoints e_<epoch>.jpg and final.jpg (created if missing)')
    parser.add_argument('--save-epochs', type=_checked(int, lambda v: v > 0, '> 0'), default=50,
                        help='save a checkpoint every n epochs')
    parser.add_argument('--remove-noise', type=NON_NEGATIVE, default=.02,
                        help='the weight of the TV-Chambolle denoising of the checkpoints; 0 disables it '
                             '(final.jpg is never denoised)')
    parser.add_argument('--lr-sched-delay', type=_checked(int, lambda v: v > 0, '> 0'), default=75,
                        help='how many epochs between decreases of the learning rate')
    parser.add_argument('--lr-sched-factor', type=_checked(float, lambda v: 0 < v <= 1, 'in (0, 1]'), default=0.9,
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
    parser.add_argument('--content-layers', type=_layer_names, default='relu4_2',
                        help='the ReLU outputs whose features the result keeps, comma-separated (their '
                             'losses are summed)')
    parser.add_argument('--style-layers', type=_layer_names, default='relu1_1,relu2_1,relu3_1,relu4_1,relu5_1',
                        help='the ReLU outputs whose Gram matrices make the style, comma-separated')
    parser.add_argument('--optimizer', choices=['nag', 'adam', 'lbfgs'], default='nag',
                        help='how the image is optimised: nag, the original\'s Nesterov steps (default); adam, '
                             'Adam steps in the same loop (same clipping, schedule and weight decay); lbfgs, '
                             'scipy\'s L-BFGS-B on the losses plus the TV energy, unclipped, --max-num-epochs '
                             'counting its function evaluations, each iteration logged as an epoch, stopping '
                             'on scipy\'s tests instead of --stop-eps')
    parser.add_argument('--print-epochs', type=_checked(int, lambda v: v >= 0, '>= 0'), default=0,
                        help='every n epochs log the content, style and TV losses (weighted as in the '
                             'gradient) and their sum; 0, the default, logs none')

    args = parser.parse_args(arglist)  # None: sys.argv
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    return args


# ---------------------------------------------------------------- images

def read_rgb_image(path, flag):
    """Read an image as 8-bit RGB (h, w, 3): grayscale, alpha, palette, CMYK and
    16-bit inputs are converted (alpha is blended onto white)."""
    if os.path.isdir(path):
        raise NstyleError('%s %s is a folder; give an image file' % (flag, path))
    if not os.path.isfile(path):
        raise NstyleError('%s %s: no such file (relative paths start from %s)' % (flag, path, os.getcwd()))
    try:
        img = io.imread(path)
        if img.ndim == 3 and img.shape[2] == 4:
            with Image.open(path) as pil_img:
                if pil_img.mode == 'CMYK':
                    img = np.asarray(pil_img.convert('RGB'))
    except Exception as error:  # imageio and Pillow raise many kinds (OSError, ValueError, SyntaxError ...)
        reason = 'the file is truncated' if 'truncated' in str(error) else 'not an image format Pillow can decode'
        raise NstyleError('%s %s: cannot read it as an image (%s); give a JPEG or PNG file'
                          % (flag, path, reason)) from None
    if img.ndim == 2:
        img = img[:, :, np.newaxis]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4) or min(img.shape[:2]) < 1:
        raise NstyleError('%s %s: unsupported image layout %s; give a single RGB or grayscale image'
                          % (flag, path, img.shape))
    if img.dtype != np.uint8:
        try:
            img = img_as_ubyte(img)
        except ValueError as error:
            raise NstyleError('%s %s: unsupported pixel values (%s); give an 8- or 16-bit image'
                              % (flag, path, error)) from None
    if img.shape[2] in (2, 4):
        alpha = img[:, :, -1:] / 255.0
        img = np.round(img[:, :, :-1] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return img


def _to_network_input(resized_img):
    """Floats in [0, 1] (h, w, 3) -> (1, 3, h, w), scaled by 256 as the original does, mean subtracted."""
    sample = np.asarray(resized_img) * 256
    sample = sample.transpose(2, 0, 1) - MEAN_RGB[:, np.newaxis, np.newaxis]
    return sample[np.newaxis]


def PreprocessContentImage(path, long_edge, min_side=1):
    img = read_rgb_image(path, '--content-image')
    logging.info('load the content image, size = %s', img.shape[:2])
    factor = float(long_edge) / max(img.shape[:2])
    new_size = (int(img.shape[0] * factor), int(img.shape[1] * factor))
    if min(new_size) < min_side:
        raise NstyleError('--content-image %s: resized to %dx%d (--max-long-edge %d), it is too small: the model '
                          'needs at least %d pixels on each side; raise --max-long-edge or use a less elongated '
                          'image' % (path, new_size[1], new_size[0], long_edge, min_side))
    resized_img = transform.resize(img, new_size)
    logging.info('resize the content image to %s', new_size)
    return _to_network_input(resized_img)


def PreprocessStyleImage(path, shape):
    """The style image, stretched to the content's (h, w) of `shape` (its aspect ratio is not kept)."""
    img = read_rgb_image(path, '--style-image')
    resized_img = transform.resize(img, (shape[2], shape[3]))
    return _to_network_input(resized_img)


def PostprocessImage(img):
    """(1, 3, h, w) network image -> (h, w, 3) uint8: add the mean back, clip, truncate."""
    img = np.array(img, dtype=np.float32).reshape(3, img.shape[2], img.shape[3])
    img += MEAN_RGB.astype(np.float32)[:, np.newaxis, np.newaxis]
    img = np.clip(img.transpose(1, 2, 0), 0, 255)
    return img.astype('uint8')


def write_image_atomically(filename, pixels):
    write_atomically(filename, lambda temporary: io.imsave(temporary, pixels, check_contrast=False))


def write_atomically(filename, write):
    """write(temporary) to a temporary name in the same folder, then rename: never a half-written file."""
    folder, name = os.path.split(filename)
    temporary = os.path.join(folder, '.%s.%d.tmp%s' % (name, os.getpid(), os.path.splitext(name)[1]))
    try:
        write(temporary)
        os.replace(temporary, filename)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError):
            raise NstyleError('cannot write %s: %s' % (filename, error)) from None
        raise


def SaveImage(img, filename, remove_noise=0.):
    logging.info('save output to %s', filename)
    out = PostprocessImage(img)
    if remove_noise != 0.0:
        # denoise_tv_chambolle returns floats in [0, 1]; JPEG wants 8 bits
        out = img_as_ubyte(denoise_tv_chambolle(out, weight=remove_noise, channel_axis=-1))
    write_image_atomically(filename, out)


# ---------------------------------------------------------------- losses

def style_gram_symbol(input_size, style):
    """Gram matrix of each style output, and the scale its loss gradient is divided by."""
    _, output_shapes, _ = style.infer_shape(data=(1, 3, input_size[0], input_size[1]))
    gram_list = []
    grad_scale = []
    for i in range(len(style.list_outputs())):
        shape = output_shapes[i]
        x = mx.sym.Reshape(style[i], target_shape=(int(shape[1]), int(np.prod(shape[2:]))))
        # FullyConnected with the features as both data and weight computes x . x^T in one fast op
        gram = mx.sym.FullyConnected(x, x, no_bias=True, num_hidden=shape[1])
        gram_list.append(gram)
        grad_scale.append(np.prod(shape[1:]) * shape[1])
    return mx.sym.Group(gram_list), grad_scale


def content_target_name(i):
    """The variable of content layer i's target: the original's name for the first."""
    return 'target_content_%d' % i if i else 'target_content'


def get_loss(gram, content):
    """Squared distances to the targets: one loss per Gram matrix, and the content loss (summed
    over the content layers). A None input (a loss of weight 0, not built) gives None."""
    gram_loss = []
    for i in range(len(gram.list_outputs()) if gram is not None else 0):
        gvar = mx.sym.Variable('target_gram_%d' % i)
        gram_loss.append(mx.sym.sum(mx.sym.square(gvar - gram[i])))
    content_loss = None
    if content is not None:
        content_losses = [mx.sym.sum(mx.sym.square(mx.sym.Variable(content_target_name(i)) - content[i]))
                          for i in range(len(content.list_outputs()))]
        content_loss = sum(content_losses[1:], content_losses[0])
    return (mx.sym.Group(gram_loss) if gram_loss else None), content_loss


def get_tv_grad_executor(img, ctx, tv_weight):
    """An executor bound on `img` itself whose output is the gradient of a total-variation
    smoothness term: each channel convolved with a Laplacian kernel, times tv_weight."""
    if tv_weight <= 0.0:
        return None
    nchannel = img.shape[1]
    simg = mx.sym.Variable('img')
    skernel = mx.sym.Variable('kernel')
    channels = mx.sym.SliceChannel(simg, num_outputs=nchannel)
    out = mx.sym.Concat(*[
        mx.sym.Convolution(data=channels[i], weight=skernel, num_filter=1, kernel=(3, 3), pad=(1, 1),
                           no_bias=True, stride=(1, 1))
        for i in range(nchannel)])
    kernel = mx.nd.array(np.array([[0, -1, 0],
                                   [-1, 4, -1],
                                   [0, -1, 0]]).reshape((1, 1, 3, 3)), ctx) / 8.0
    out = out * tv_weight
    return out.bind(ctx, args={'img': img, 'kernel': kernel})


# ---------------------------------------------------------------- the run

def pick_context(gpu):
    """mx.gpu(gpu) when that GPU is usable, else the CPU, with a one-line warning."""
    if gpu < 0:
        return mx.cpu()
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        count = 0
    info = gpu_build.gpu_info(gpu) if gpu < count else None  # (name, compute capability) from the driver
    usable, warning = gpu_build.gpu_decision(gpu, count, info)
    if not usable:  # no such GPU, or one the build has no code for (H100, H200)
        logging.warning('%s', warning)
        return mx.cpu()
    return mx.gpu(gpu)


def prepare_output_dir(output_dir, overwrite):
    """Create the folder, make sure it is writable, and refuse to replace an earlier run's results."""
    output_dir = output_dir or '.'  # the original joined '' + 'final.jpg': the working directory
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NstyleError('--output_dir %s is a file, not a folder; choose another folder' % output_dir)
    try:
        os.makedirs(output_dir, exist_ok=True)
        probe = os.path.join(output_dir, '.nstyle-write-test.%d' % os.getpid())
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise NstyleError('--output_dir %s: cannot write there (%s); choose another folder'
                          % (output_dir, error.strerror or error)) from None
    earlier = sorted(name for name in os.listdir(output_dir) if re.fullmatch(r'final\.jpg|e_\d+\.jpg', name))
    if earlier and not overwrite:
        raise NstyleError('--output_dir %s already holds results of an earlier run (%s): pass --overwrite to '
                          'replace them, or choose another --output_dir'
                          % (output_dir, ', '.join(earlier[:3] + ['...'] * (len(earlier) > 3))))
    if earlier:  # --overwrite: no checkpoint of the earlier run stays mixed in with this run's
        logging.info('--overwrite: removing %d results of an earlier run from %s', len(earlier), output_dir)
        for name in earlier:
            os.remove(os.path.join(output_dir, name))


def chosen_layers(args, model_module):
    """The style and content layers this run computes: a loss of weight 0 is left out, with the
    layers only it needs. With both weights 0 the content branch stays, so that there is a graph
    (its gradient is 0: the update is the TV gradient alone)."""
    for flag, names in (('--content-layers', args.content_layers), ('--style-layers', args.style_layers)):
        try:
            model_module.check_layers(names)
        except ValueError as error:
            raise NstyleError('%s: %s (model %s)' % (flag, error, args.model)) from None
    style_layers = args.style_layers if args.style_weight > 0 else []
    content_layers = args.content_layers if args.content_weight > 0 or not style_layers else []
    return style_layers, content_layers


def _duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return '%dm%02ds' % (minutes, seconds) if minutes else '%ds' % seconds


LossExecutor = collections.namedtuple('LossExecutor', ['model_executor', 'grad_array', 'loss_weights', 'style_count'])


def loaded_params(model_module, path, cache):
    """The weights, loaded once per path and process (batch mode runs many jobs on them)."""
    key = ('params', model_module.__name__, os.path.abspath(path))
    if key not in cache:
        try:
            cache[key] = model_module.load_params(path)
        except model_module.WeightsError as error:
            raise NstyleError('--vgg-params: %s' % error) from None
    return cache[key]


def compute_targets(model_module, gram, content, size, dev, params, style_np, content_np):
    """Style targets (the Gram matrices of the style image) and content targets (the content
    image's features), computed on the CPU side as the original does."""
    model_executor = model_module.get_executor(gram, content, size, dev, params)
    style_array = []
    if gram is not None:
        model_executor.data[:] = style_np
        model_executor.executor.forward()
        for i in range(len(model_executor.style)):
            style_array.append(model_executor.style[i].copyto(mx.cpu()))

    content_array = []
    if content is not None:
        model_executor.data[:] = content_np
        model_executor.executor.forward()
        content_array = [x.copyto(mx.cpu()) for x in model_executor.executor.outputs[len(style_array):]]
    return style_array, content_array


def build_loss(args, model_module, style_layers, content_layers, content_np, style_np, dev, params):
    """The loss executor with its targets filled in, and the head gradients that weight its losses."""
    size = content_np.shape[2:]
    # model: a first executor computes the targets, then the loss executor replaces it
    style, content = model_module.get_symbol(style_layers, content_layers)
    gram, gscale = style_gram_symbol(size, style) if style is not None else (None, [])
    style_array, content_array = compute_targets(model_module, gram, content, size, dev, params,
                                                 style_np, content_np)

    style_loss, content_loss = get_loss(gram, content)
    model_executor = model_module.get_executor(style_loss, content_loss, size, dev, params)

    # head gradients: the weight of each loss (a style loss is scaled down by its Gram's size)
    loss_weights = [float(args.style_weight) / gscale[i] for i in range(len(style_array))]
    if content_loss is not None:
        loss_weights.append(float(args.content_weight))
    grad_array = [mx.nd.ones((1,), dev) * weight for weight in loss_weights]
    for i in range(len(style_array)):
        style_array[i].copyto(model_executor.arg_dict['target_gram_%d' % i])

    print([x.asscalar() for x in grad_array])
    for i in range(len(content_array)):
        content_array[i].copyto(model_executor.arg_dict[content_target_name(i)])
    return LossExecutor(model_executor, grad_array, loss_weights, len(style_array))


def initial_image(args, shape, dev):
    """The image the optimisation starts from: the original's uniform noise in [-0.1, 0.1]."""
    img = mx.nd.zeros(shape, ctx=dev)
    if args.seed is not None:
        mx.random.seed(args.seed)
    img[:] = mx.rnd.uniform(-0.1, 0.1, img.shape)
    return img


def train_nstyle(args, callback=None, cache=None):
    """Train a neural style network.
    Args are from argparse and control input, output, hyper-parameters.
    callback allows for display of training progress: it is called every epoch with
    {'eps', 'epoch'}, plus 'filename' and 'img' on epochs that saved a checkpoint.
    cache: a dict kept between calls (batch mode) so that the weights are loaded once.
    Raises NstyleError for problems the user can fix; KeyboardInterrupt after saving final.jpg.
    """
    cache = {} if cache is None else cache
    model_module = importlib.import_module('model_' + args.model)
    dev = pick_context(args.gpu)
    style_layers, content_layers = chosen_layers(args, model_module)

    # input
    content_np = PreprocessContentImage(args.content_image, args.max_long_edge,
                                        model_module.min_input_side(style_layers + content_layers))
    style_np = PreprocessStyleImage(args.style_image, shape=content_np.shape)
    params = loaded_params(model_module, args.vgg_params, cache)
    if dev.device_type == 'cpu':
        logging.info('running on the CPU with %s threads (from %s)', find_mxnet.THREADS, find_mxnet.THREADS_SOURCE)
    prepare_output_dir(args.output_dir, args.overwrite)

    loss = build_loss(args, model_module, style_layers, content_layers, content_np, style_np, dev, params)

    # train
    # initialize img with random noise
    img = initial_image(args, content_np.shape, dev)
    logging.info('start training arguments %s', args)
    final_fn = os.path.join(args.output_dir, 'final.jpg')
    with ctrl_c_between_epochs() as interrupted:
        try:
            if args.optimizer == 'lbfgs':
                optimize_lbfgs(args, loss, img, dev, callback, interrupted, final_fn)
            else:
                optimize_steps(args, loss, img, dev, callback, interrupted, final_fn)
        except KeyboardInterrupt:
            SaveImage(img.asnumpy(), final_fn)  # a second Ctrl-C only sets the flag again: the save completes
            raise
        SaveImage(img.asnumpy(), final_fn)


def step_optimizer(args):
    """The MXNet optimizer of --optimizer nag (the original's) or adam. Both get the same learning-rate
    schedule and weight decay, so that those flags mean the same for both."""
    lr = mx.lr_scheduler.FactorScheduler(step=args.lr_sched_delay, factor=args.lr_sched_factor)
    if args.optimizer == 'adam':
        return mx.optimizer.Adam(learning_rate=args.lr, wd=0.0001, lr_scheduler=lr)
    return mx.optimizer.NAG(
        learning_rate=args.lr,
        wd=0.0001,
        momentum=0.95,
        lr_scheduler=lr)


def optimize_steps(args, loss, img, dev, callback, interrupted, final_fn):
    """The original's loop: a step of the optimizer (NAG, or Adam) per epoch on the clipped loss
    gradient plus the TV gradient, stopping when the image changes by less than --stop-eps.
    Updates img in place."""
    model_executor, grad_array = loss.model_executor, loss.grad_array
    optimizer = step_optimizer(args)
    optim_state = optimizer.create_state(0, img)

    old_img = img.copyto(dev)
    clip_norm = 1 * np.prod(img.shape)
    tv_grad_executor = get_tv_grad_executor(img, dev, args.tv_weight)
    last_checkpoint = None
    start_time = time.time()

    for e in range(args.max_num_epochs):
        if interrupted:
            logging.warning('interrupted after %d epochs: saving the current image as %s', e, final_fn)
            raise KeyboardInterrupt
        img.copyto(model_executor.data)
        model_executor.executor.forward()
        model_executor.executor.backward(grad_array)
        gnorm = mx.nd.norm(model_executor.data_grad).asscalar()
        if gnorm > clip_norm:
            model_executor.data_grad[:] *= clip_norm / gnorm

        if tv_grad_executor is not None:
            tv_grad_executor.forward()
            optimizer.update(0, img, model_executor.data_grad + tv_grad_executor.outputs[0], optim_state)
        else:
            optimizer.update(0, img, model_executor.data_grad, optim_state)
        new_img = img
        eps = (mx.nd.norm(old_img - new_img) / mx.nd.norm(new_img)).asscalar()

        old_img = new_img.copyto(dev)
        logging.info('epoch %d, relative change %f', e, eps)
        if not np.isfinite(eps):
            raise NstyleError('the image became NaN or infinite at epoch %d: stopped without writing %s '
                              '(last good checkpoint: %s); try a smaller --lr or smaller loss weights'
                              % (e, final_fn, last_checkpoint or 'none was written'))
        if eps < args.stop_eps:
            logging.info('eps < args.stop_eps, training finished')
            break

        if callback:
            cbdata = {
                'eps': eps,
                'epoch': e + 1,
            }
        if (e + 1) % args.save_epochs == 0:
            outfn = os.path.join(args.output_dir, 'e_' + str(e + 1) + '.jpg')
            npimg = new_img.asnumpy()
            SaveImage(npimg, outfn, args.remove_noise)
            last_checkpoint = outfn
            log_progress(model_executor.executor.outputs, loss.loss_weights, loss.style_count, e + 1,
                         args.max_num_epochs, start_time)
            if callback:
                cbdata['filename'] = outfn
                cbdata['img'] = npimg
        if args.print_epochs and (e + 1) % args.print_epochs == 0:
            # the executors still hold the image this epoch's gradient was computed at (before its step)
            log_losses(e + 1, weighted_losses(loss, tv_grad_executor))
        if callback:
            callback(cbdata)


def weighted_losses(loss, tv_grad_executor):
    """(content, style, TV) loss of the image in the loss executor's data, after its forward pass and
    the TV executor's on the same image, weighted as in the gradient, in float64. The TV loss is
    0.5 * sum(x * tv_gradient(x)): the TV executor's Laplacian is symmetric, so that is the energy
    whose gradient it computes."""
    losses = [weight * float(output.asnumpy()[0])
              for weight, output in zip(loss.loss_weights, loss.model_executor.executor.outputs)]
    tv = 0.0
    if tv_grad_executor is not None:
        image = loss.model_executor.data.asnumpy().astype(np.float64)
        tv = 0.5 * float(np.sum(image * tv_grad_executor.outputs[0].asnumpy()))
    return sum(losses[loss.style_count:]), sum(losses[:loss.style_count]), tv


def log_losses(epoch, losses):
    content, style, tv = losses
    logging.info('epoch %d: losses: content %.7g, style %.7g, tv %.7g, total %.7g',
                 epoch, content, style, tv, content + style + tv)


def lbfgs_objective(loss, dev, tv_weight):
    """The function L-BFGS minimises, over the image's pixels as a flat float64 vector x:
    objective(x) -> (f, gradient, (content, style, TV)). f is the weighted losses plus the TV energy
    (weighted_losses), its gradient the loss executor's input gradient plus the TV gradient, not
    clipped: clipping would make f and its gradient disagree. MXNet computes in float32."""
    model_executor = loss.model_executor
    tv_grad_executor = get_tv_grad_executor(model_executor.data, dev, tv_weight)  # sees each x copied in

    def objective(x):
        model_executor.data[:] = x.reshape(model_executor.data.shape)
        model_executor.executor.forward()
        model_executor.executor.backward(loss.grad_array)
        gradient = model_executor.data_grad.asnumpy().astype(np.float64)
        if tv_grad_executor is not None:
            tv_grad_executor.forward()
            gradient += tv_grad_executor.outputs[0].asnumpy()
        losses = weighted_losses(loss, tv_grad_executor)
        return sum(losses), gradient.ravel(), losses
    return objective


class StopLbfgs(Exception):
    """Raised inside scipy's L-BFGS-B to stop it by a rule of ours; the message says which."""


def optimize_lbfgs(args, loss, img, dev, callback, interrupted, final_fn):
    """scipy's L-BFGS-B on the image's pixels (lbfgs_objective). An epoch is an L-BFGS iteration for
    the log, the checkpoints, --print-epochs and the callback, but --max-num-epochs counts function
    evaluations (one forward and backward each, the cost of a NAG epoch): a line search can take
    several per iteration. It stops at scipy's own tests (no more decrease of f, even in the line
    search, or a gradient of ~0) or when the budget is spent, not on --stop-eps: the change of one
    iteration jumps up and down by 10x (measured), so a small one says little. Sets img to each
    new iterate."""
    objective = lbfgs_objective(loss, dev, args.tv_weight)
    iterate = img.asnumpy().astype(np.float64).ravel()  # the last accepted image
    iteration = evaluations = 0
    evaluated = (None, None)  # the last evaluated x and its losses
    last_checkpoint = None
    start_time = time.time()

    def value_and_gradient(x):
        nonlocal evaluations, evaluated
        if interrupted:
            logging.warning('interrupted after %d epochs: saving the current image as %s', iteration, final_fn)
            raise KeyboardInterrupt
        if evaluations == args.max_num_epochs:  # scipy's maxfun lets the line search finish first
            raise StopLbfgs('--max-num-epochs %d function evaluations spent' % args.max_num_epochs)
        evaluations += 1
        value, gradient, losses = objective(x)
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            raise NstyleError('the loss became NaN or infinite at epoch %d: stopped without writing %s '
                              '(last good checkpoint: %s); try smaller loss weights'
                              % (iteration, final_fn, last_checkpoint or 'none was written'))
        evaluated = (x.copy(), losses)
        return value, gradient

    def after_iteration(x):
        nonlocal iterate, iteration, last_checkpoint
        eps = np.linalg.norm(x - iterate) / np.linalg.norm(x)
        iterate = x.copy()
        img[:] = x.reshape(img.shape)
        logging.info('epoch %d, relative change %f', iteration, eps)
        iteration += 1
        if not np.array_equal(evaluated[0], x):  # the losses logged below must be x's: L-BFGS-B accepts
            value_and_gradient(x)                # the point it evaluated last, but should it not, evaluate x
        cbdata = {'eps': eps, 'epoch': iteration}
        if iteration % args.save_epochs == 0:
            outfn = os.path.join(args.output_dir, 'e_%d.jpg' % iteration)
            npimg = img.asnumpy()
            SaveImage(npimg, outfn, args.remove_noise)
            last_checkpoint = outfn
            log_progress(loss.model_executor.executor.outputs, loss.loss_weights, loss.style_count, iteration,
                         args.max_num_epochs, start_time)
            cbdata.update(filename=outfn, img=npimg)
        if args.print_epochs and iteration % args.print_epochs == 0:
            log_losses(iteration, evaluated[1])
        if callback:
            callback(cbdata)

    try:
        result = scipy.optimize.minimize(value_and_gradient, iterate, jac=True, method='L-BFGS-B',
                                         callback=after_iteration,
                                         options={'maxfun': args.max_num_epochs, 'maxiter': args.max_num_epochs})
        reason = result.message
    except StopLbfgs as stop:
        reason = str(stop)
    logging.info('L-BFGS stopped after %d iterations and %d function evaluations: %s',
                 iteration, evaluations, reason)


@contextlib.contextmanager
def ctrl_c_between_epochs():
    """While the loop runs, Ctrl-C only marks the list it yields, and the loop stops at the next
    epoch. A KeyboardInterrupt raised at any point could land inside an NDArray's __del__, where
    Python swallows it, and the run would go on. Outside the main thread: nothing to install."""
    interrupted = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def log_progress(loss_outputs, loss_weights, style_count, epoch, max_num_epochs, start_time):
    """Content and style loss (weighted as in the gradient; 0 when not built), elapsed time, and time
    left at most. The first `style_count` outputs are the style losses."""
    losses = [weight * output.asscalar() for weight, output in zip(loss_weights, loss_outputs)]
    elapsed = time.time() - start_time
    left = elapsed / epoch * (max_num_epochs - epoch)
    logging.info('epoch %d: content loss %.4g, style loss %.4g, %s elapsed, at most %s left',
                 epoch, sum(losses[style_count:]), sum(losses[:style_count]), _duration(elapsed), _duration(left))


def main(arglist=None):
    args = get_args(arglist)
    logging.basicConfig(level=logging.INFO)
    try:
        train_nstyle(args)
    except NstyleError as error:
        print('%s: error: %s' % (os.path.basename(sys.argv[0]) or 'nstyle.py', error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('%s: interrupted' % os.path.basename(sys.argv[0]), file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
