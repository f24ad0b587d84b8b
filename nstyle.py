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
import csv
import glob
import importlib
import logging
import math
import os
import re
import shlex
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
from skimage import color, img_as_ubyte, io, transform
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
POSITIVE = _checked(float, lambda v: 0 < v < math.inf, '> 0 and finite')
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


def _blend_weights(text):
    try:
        weights = [float(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated numbers, one per style image (such as 3,7), '
                                         'got %r' % text) from None
    if not all(0 <= weight < math.inf for weight in weights):
        raise argparse.ArgumentTypeError('each weight must be >= 0 and finite, got %s' % text)
    if not any(weights):
        raise argparse.ArgumentTypeError('the weights must not all be 0, got %s' % text)
    return weights


def available_models():
    return sorted(os.path.basename(path)[len('model_'):-len('.py')]
                  for path in glob.glob(os.path.join(HERE, 'model_*.py')))


def _model_name(name):
    if name not in available_models():
        raise argparse.ArgumentTypeError('unknown model %r (no model_%s.py); available: %s'
                                         % (name, name, ', '.join(available_models())))
    return name


def get_args(arglist=None, parser_class=OneLineErrorParser):
    parser = parser_class(description='neural style: paint the content image in the style image\'s manner '
                                            '(Gatys et al. 2015), with MXNet')
    parser.add_argument('--model', type=_model_name, default='vgg19',
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
    parser.add_argument('--max-num-epochs', type=_checked(int, lambda v: v >= 0, '>= 0'), default=1000,
                        help='the maximal number of epochs (one optimisation step each)')
    parser.add_argument('--max-long-edge', type=_checked(int, lambda v: v > 0, '> 0'), default=600,
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
    parser.add_argument('--init', type=str, default='noise',
                        help="where the image starts: 'noise' (the original's uniform noise), 'content' (the "
                             "content image) or an image file, resized to the content's size (a checkpoint "
                             "e_N.jpg resumes a run)")
    parser.add_argument('--multires', type=_stages, default=None,
                        help='coarse to fine: long edges, each optionally with its own epoch budget as '
                             'EDGE:EPOCHS (such as 300:500,600:200; a stage without one gets --max-num-epochs); '
                             'each stage starts from the previous one\'s result, upsampled. Replaces '
                             '--max-long-edge')
    parser.add_argument('--jobs', type=str, default=None,
                        help='batch mode: a CSV file whose header names the columns content, style, output and '
                             'optionally options (more flags for that row, such as "--style-weight 2"); each '
                             'row runs in turn, in this process, with the other flags given here')
    parser.add_argument('--style-blend-weights', type=_blend_weights, default=None,
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
    parser.add_argument('--print-epochs', type=_checked(int, lambda v: v >= 0, '>= 0'), default=0,
                        help='every n epochs log the content, style and TV losses (weighted as in the '
                             'gradient) and their sum; 0, the default, logs none')

    args = parser.parse_args(arglist)  # None: sys.argv
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    return args


def _stages(text):
    """'300:500,600' -> [(300, 500), (600, None)]: long edges, coarse to fine, and their epoch budgets."""
    stages = []
    for item in text.split(','):
        edge, _, epochs = item.strip().partition(':')
        try:
            stage = (int(edge), int(epochs) if epochs else None)
        except ValueError:
            raise argparse.ArgumentTypeError('expected long edges such as 300,600 or 300:500,600:200 '
                                             '(EDGE:EPOCHS), got %r' % text) from None
        if stage[0] <= 0 or (stage[1] is not None and stage[1] < 0):
            raise argparse.ArgumentTypeError('each long edge must be > 0 and each epoch budget >= 0, got %r' % text)
        stages.append(stage)
    if any(later[0] <= earlier[0] for earlier, later in zip(stages, stages[1:])):
        raise argparse.ArgumentTypeError('the long edges must grow, coarse to fine, got %r' % text)
    return stages


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


def PreprocessContentImage(path, long_edge, min_side=1, long_edge_flag='--max-long-edge'):
    img = read_rgb_image(path, '--content-image')
    logging.info('load the content image, size = %s', img.shape[:2])
    factor = float(long_edge) / max(img.shape[:2])
    new_size = (int(img.shape[0] * factor), int(img.shape[1] * factor))
    if min(new_size) < min_side:
        raise NstyleError('--content-image %s: resized to %dx%d (%s %d), it is too small: the model '
                          'needs at least %d pixels on each side; raise %s or use a less elongated '
                          'image' % (path, new_size[1], new_size[0], long_edge_flag, long_edge, min_side,
                                     long_edge_flag))
    resized_img = transform.resize(img, new_size)
    logging.info('resize the content image to %s', new_size)
    return _to_network_input(resized_img)


def PreprocessStyleImage(path, shape):
    """The style image, stretched to the (h, w) of `shape` (its aspect ratio is not kept): the
    content's, or --style-scale times it."""
    img = read_rgb_image(path, '--style-image')
    resized_img = transform.resize(img, (shape[2], shape[3]))
    return _to_network_input(resized_img)


def style_image_paths(text):
    """--style-image: one path, or several separated by commas. A path that exists as given is
    one image, even with a comma in its name."""
    if ',' not in text or os.path.exists(text):
        return [text]
    paths = [path.strip() for path in text.split(',')]
    if '' in paths:
        raise NstyleError('--style-image %s: an empty name in the comma-separated list; give one path per '
                          'style image' % text)
    return paths


def style_blend(paths, weights):
    """The weight of each style image: --style-blend-weights normalised to sum 1, or equal."""
    if weights is None:
        return [1.0 / len(paths)] * len(paths)
    if len(weights) != len(paths):
        raise NstyleError('--style-blend-weights has %d weights for %d style images (--style-image %s); '
                          'give one weight per image' % (len(weights), len(paths), ','.join(paths)))
    largest = max(weights)
    scaled = [weight / largest for weight in weights]  # first to <= 1: a sum of huge weights stays finite
    return [weight / sum(scaled) for weight in scaled]


def style_image_size(content_size, scale, min_side):
    """The (h, w) the style images are stretched to: the content's (the original), or --style-scale
    times it, which must still reach the deepest style layer."""
    if scale == 1:
        return tuple(content_size)
    size = (int(round(content_size[0] * scale)), int(round(content_size[1] * scale)))
    if min(size) < min_side:
        raise NstyleError('--style-scale %g: the style image would be %dx%d, too small: the style layers need at '
                          'least %d pixels on each side; raise --style-scale (or --max-long-edge)'
                          % (scale, size[1], size[0], min_side))
    logging.info('resize the style image to %s (--style-scale %g)', size, scale)
    return size


def preprocess_style_images(args, content_shape, min_side):
    """Each style image at the style size, as network input, and its blend weight."""
    paths = style_image_paths(args.style_image)
    blend = style_blend(paths, args.style_blend_weights)
    size = style_image_size(content_shape[2:], args.style_scale, min_side)
    return [PreprocessStyleImage(path, shape=(1, 3) + size) for path in paths], blend


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


def original_colors(result, content):
    """The result's luminance with the content's chroma (Gatys et al. 2016, "Preserving Color in
    Neural Artistic Style Transfer"): Y of `result`, I and Q of `content`, both (h, w, 3) uint8.
    A colour outside RGB is clipped into it, which is all that moves the luminance."""
    yiq = color.rgb2yiq(content)
    yiq[..., 0] = color.rgb2yiq(result)[..., 0]
    return img_as_ubyte(np.clip(color.yiq2rgb(yiq), 0, 1))


def SaveImage(img, filename, remove_noise=0., colors_from=None):
    """Write the network image `img`, denoised if remove_noise != 0; colors_from: the content image
    (h, w, 3) uint8 at the image's size whose colours it takes (--original-colors), or None."""
    logging.info('save output to %s', filename)
    out = PostprocessImage(img)
    if remove_noise != 0.0:
        # denoise_tv_chambolle returns floats in [0, 1]; JPEG wants 8 bits
        out = img_as_ubyte(denoise_tv_chambolle(out, weight=remove_noise, channel_axis=-1))
    if colors_from is not None:  # last, so that what is written has exactly the content's chroma
        out = original_colors(out, colors_from)
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


def cpu_flags():
    """The instruction-set flags of the CPU, from /proc/cpuinfo (empty where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            return set(next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), []))
    except OSError:
        return set()


def check_bfloat16(dev):
    """--dtype bfloat16 needs oneDNN's bfloat16 kernels: the CPU, with AVX512-BF16 instructions
    (elsewhere oneDNN emulates them, slower than float32)."""
    if dev.device_type != 'cpu':
        raise NstyleError('--dtype bfloat16 runs on the CPU only (MXNet 1.9 has bfloat16 kernels in oneDNN, not '
                          'in CUDA): pass --gpu -1, or drop --dtype bfloat16')
    if 'avx512_bf16' not in cpu_flags():
        raise NstyleError('--dtype bfloat16: this CPU has no AVX512-BF16 instructions (avx512_bf16 is not in '
                          '/proc/cpuinfo), so bfloat16 would be emulated and slower than float32; use the default '
                          '--dtype float32')


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


def bound_executor(cache, model_module, outputs, size, dev, params, dtype):
    """model_module.get_executor(*outputs, ...). In batch mode (cache['executors'] exists) it is
    reused when a job before bound the same graph at the same size: binding allocates the
    activations. The last few stay, so that memory stays bounded; a single
    run keeps none (the target executor is freed before the loop, as in the original)."""
    executors = cache.get('executors')
    if executors is None:
        return model_module.get_executor(*outputs, size, dev, params, dtype=dtype)
    key = (tuple(x.tojson() if x is not None else None for x in outputs), tuple(size), str(dev), id(params), dtype)
    if key in executors:
        executors.move_to_end(key)
        return executors[key]
    executor = model_module.get_executor(*outputs, size, dev, params, dtype=dtype)
    executors[key] = executor
    while len(executors) > 3:  # a style-target, a content-target and a loss executor
        executors.popitem(last=False)
    return executor


def compute_targets(model_module, style, gram, content, size, dev, params, content_np, style_nps, blend, cache,
                    dtype):
    """Style targets: the blend-weighted sum of each style image's Gram matrices; content targets:
    the content image's features; copied to the CPU as the original does. `style` and `content` are
    the feature groups, `gram` the Gram matrices of `style` at `size` (each may be None). One executor
    at the content's `size` computes both, as in the original; style images of another size
    (--style-scale) get an executor bound at theirs."""
    model_executor = bound_executor(cache, model_module, (gram, content), size, dev, params, dtype)
    style_array = []
    if gram is not None:
        other_size_executor = None
        for weight, style_np in zip(blend, style_nps):
            style_size = tuple(style_np.shape[2:])
            if style_size == tuple(size):
                grams = style_grams(model_executor, style_np)
            else:
                if other_size_executor is None:
                    with mx.name.NameManager():
                        style_size_gram = style_gram_symbol(style_size, style)[0]
                    other_size_executor = bound_executor(cache, model_module, (style_size_gram, None), style_size,
                                                         dev, params, dtype)
                grams = style_grams(other_size_executor, style_np)
                # A Gram matrix sums over its layer's positions, so it grows with the image. Times content
                # positions / style positions it is the Gram of a content-sized image with the same
                # statistics: comparable with the result's, and the loss's gscale stays right.
                ratios = [content_positions / style_positions for content_positions, style_positions
                          in zip(feature_positions(style, size), feature_positions(style, style_size))]
                grams = [gram_matrix * ratio for gram_matrix, ratio in zip(grams, ratios)]
            grams = [weight * gram_matrix for gram_matrix in grams]  # the default's weight 1.0 changes no bit
            style_array = [total + g for total, g in zip(style_array, grams)] if style_array else grams

    content_array = []
    if content is not None:
        model_executor.data[:] = content_np
        model_executor.executor.forward()
        content_array = [x.copyto(mx.cpu()) for x in model_executor.executor.outputs[len(style_array):]]
    return style_array, content_array


def style_grams(model_executor, style_np):
    """The Gram matrices of one style image, copied to the CPU."""
    model_executor.data[:] = style_np
    model_executor.executor.forward()
    return [gram_matrix.copyto(mx.cpu()) for gram_matrix in model_executor.style]


def feature_positions(style, size):
    """The number of positions (h * w) of each style output for an input of this size."""
    _, output_shapes, _ = style.infer_shape(data=(1, 3) + tuple(size))
    return [int(np.prod(shape[2:])) for shape in output_shapes]


def build_loss(args, model_module, style_layers, content_layers, content_np, style_nps, blend, dev, params, cache):
    """The loss executor with its targets filled in, and the head gradients that weight its losses."""
    size = content_np.shape[2:]
    # model: a first executor computes the targets, then the loss executor replaces it
    with mx.name.NameManager():  # the same automatic names each time, so that batch mode can reuse executors
        style, content = model_module.get_symbol(style_layers, content_layers, pooling=args.pooling)
        gram, gscale = style_gram_symbol(size, style) if style is not None else (None, [])
    style_array, content_array = compute_targets(model_module, style, gram, content, size, dev, params,
                                                 content_np, style_nps, blend, cache, args.dtype)

    with mx.name.NameManager():
        style_loss, content_loss = get_loss(gram, content)
    model_executor = bound_executor(cache, model_module, (style_loss, content_loss), size, dev, params, args.dtype)

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
        h, w = content_np.shape[2:]
        pixels = init_pixels.astype(np.float64)
        if pixels.shape[:2] != (h, w):
            pixels = transform.resize(pixels, (h, w), preserve_range=True)
        # the inverse of PostprocessImage, which adds the mean and truncates: +0.5, the middle of a
        # pixel value's interval, so that a checkpoint read back is written back as the same pixels
        sample = (pixels + 0.5 - MEAN_RGB).transpose(2, 0, 1)[np.newaxis]
        return mx.nd.array(sample, ctx=dev)
    img = mx.nd.zeros(content_np.shape, ctx=dev)
    if args.seed is not None:
        mx.random.seed(args.seed)
    img[:] = mx.rnd.uniform(-0.1, 0.1, img.shape)
    return img


def upsampled(img, shape, dev):
    """The previous stage's image (in the network's values) resized to the next stage's shape."""
    pixels = img.asnumpy()[0].transpose(1, 2, 0).astype(np.float64)
    pixels = transform.resize(pixels, shape[2:], preserve_range=True)
    return mx.nd.array(pixels.transpose(2, 0, 1)[np.newaxis], ctx=dev)


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
    cache = {} if cache is None else cache
    model_module = importlib.import_module('model_' + args.model)
    dev = pick_context(args.gpu)
    if args.dtype == 'bfloat16':
        check_bfloat16(dev)
    style_layers, content_layers = chosen_layers(args, model_module)
    # (long edge, epochs) of each stage: one stage unless --multires
    stages = [(edge, args.max_num_epochs if epochs is None else epochs) for edge, epochs in args.multires or
              [(args.max_long_edge, args.max_num_epochs)]]

    # input: every stage's content and style images first, so that a bad image or size fails before any work
    min_side = model_module.min_input_side(style_layers + content_layers)
    long_edge_flag = '--multires' if args.multires else '--max-long-edge'
    content_nps = [PreprocessContentImage(args.content_image, edge, min_side, long_edge_flag) for edge, _ in stages]
    style_min_side = model_module.min_input_side(style_layers) if style_layers else 1
    style_inputs = [preprocess_style_images(args, content_np.shape, style_min_side) for content_np in content_nps]
    init_pixels = read_init_image(args)
    params = loaded_params(model_module, args.vgg_params, cache)
    if dev.device_type == 'cpu':
        logging.info('running on the CPU with %s threads (from %s)', find_mxnet.THREADS, find_mxnet.THREADS_SOURCE)
    prepare_output_dir(args.output_dir, args.overwrite)

    final_fn = os.path.join(args.output_dir, 'final.jpg')
    img = colors_from = None
    epochs_done = 0
    with ctrl_c_between_epochs() as interrupted:
        try:
            for stage, ((edge, epochs), content_np, (style_nps, blend)) in enumerate(
                    zip(stages, content_nps, style_inputs)):
                if len(stages) > 1:
                    logging.info('stage %d of %d: long edge %d (%dx%d), up to %d epochs', stage + 1, len(stages),
                                 edge, content_np.shape[3], content_np.shape[2], epochs)
                colors_from = PostprocessImage(content_np) if args.original_colors else None  # the result's size
                loss = build_loss(args, model_module, style_layers, content_layers, content_np, style_nps, blend,
                                  dev, params, cache)
                if img is None:  # the first stage starts from --init, the others from the stage before
                    img = initial_image(args, content_np, init_pixels, dev)
                    logging.info('start training arguments %s', args)
                else:
                    img = upsampled(img, content_np.shape, dev)
                optimize = optimize_lbfgs if args.optimizer == 'lbfgs' else optimize_steps
                epochs_done += optimize(args, loss, img, dev, callback, interrupted, final_fn, colors_from,
                                        first_epoch=epochs_done, num_epochs=epochs)
        except KeyboardInterrupt:
            if img is not None:  # a second Ctrl-C only sets the flag again: the save completes
                SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)
            raise
        SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)


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


def optimize_steps(args, loss, img, dev, callback, interrupted, final_fn, colors_from=None, first_epoch=0,
                   num_epochs=None):
    """The original's loop: a step of the optimizer (NAG, or Adam) per epoch on the clipped loss
    gradient plus the TV gradient, stopping when the image changes by less than --stop-eps.
    Updates img in place and returns the number of epochs done. Epochs are numbered from
    first_epoch (the epochs of earlier --multires stages), for the log, the checkpoints and the
    callback. colors_from: the content colours the checkpoints take (SaveImage), or None."""
    model_executor, grad_array = loss.model_executor, loss.grad_array
    optimizer = step_optimizer(args)
    optim_state = optimizer.create_state(0, img)

    old_img = img.copyto(dev)
    clip_norm = 1 * np.prod(img.shape)
    tv_grad_executor = get_tv_grad_executor(img, dev, args.tv_weight)
    last_checkpoint = None
    start_time = time.time()

    num_epochs = args.max_num_epochs if num_epochs is None else num_epochs
    max_num_epochs = first_epoch + num_epochs
    epochs_done = 0
    for e in range(first_epoch, max_num_epochs):
        stop_if_interrupted(interrupted, e, final_fn)
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
        epochs_done += 1
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
            SaveImage(npimg, outfn, args.remove_noise, colors_from)
            last_checkpoint = outfn
            log_progress(loss, e + 1, max_num_epochs, start_time, first_epoch)
            if callback:
                cbdata['filename'] = outfn
                cbdata['img'] = npimg
        if args.print_epochs and (e + 1) % args.print_epochs == 0:
            # the executors still hold the image this epoch's gradient was computed at (before its step)
            log_losses(e + 1, weighted_losses(loss, tv_grad_executor))
        if callback:
            callback(cbdata)
    return epochs_done


def content_and_style_losses(loss):
    """The content and the style loss of the loss executor's last forward pass, weighted as in the
    gradient (0 when not built), in float64. The first loss.style_count outputs are the style losses."""
    losses = [weight * float(output.asnumpy()[0])
              for weight, output in zip(loss.loss_weights, loss.model_executor.executor.outputs)]
    return sum(losses[loss.style_count:]), sum(losses[:loss.style_count])


def weighted_losses(loss, tv_grad_executor):
    """(content, style, TV) loss of the image in the loss executor's data, after its forward pass and
    the TV executor's on the same image, weighted as in the gradient, in float64. The TV loss is
    0.5 * sum(x * tv_gradient(x)): the TV executor's Laplacian is symmetric, so that is the energy
    whose gradient it computes."""
    tv = 0.0
    if tv_grad_executor is not None:
        image = loss.model_executor.data.asnumpy().astype(np.float64)
        tv = 0.5 * float(np.sum(image * tv_grad_executor.outputs[0].asnumpy()))
    return content_and_style_losses(loss) + (tv,)


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


def optimize_lbfgs(args, loss, img, dev, callback, interrupted, final_fn, colors_from=None, first_epoch=0,
                   num_epochs=None):
    """scipy's L-BFGS-B on the image's pixels (lbfgs_objective). An epoch is an L-BFGS iteration for
    the log, the checkpoints, --print-epochs and the callback, but --max-num-epochs counts function
    evaluations (one forward and backward each, the cost of a NAG epoch): a line search can take
    several per iteration. It stops at scipy's own tests (no more decrease of f, even in the line
    search, or a gradient of ~0) or when the budget is spent, not on --stop-eps: the change of one
    iteration jumps up and down by 10x (measured), so a small one says little. Sets img to each
    new iterate and returns the number of iterations. first_epoch, num_epochs (the budget),
    colors_from: as optimize_steps."""
    budget = args.max_num_epochs if num_epochs is None else num_epochs
    objective = lbfgs_objective(loss, dev, args.tv_weight)
    iterate = img.asnumpy().astype(np.float64).ravel()  # the last accepted image
    iteration, evaluations = first_epoch, 0
    evaluated = (None, None)  # the last evaluated x and its losses
    last_checkpoint = None
    start_time = time.time()

    def value_and_gradient(x):
        nonlocal evaluations, evaluated
        stop_if_interrupted(interrupted, iteration, final_fn)
        if evaluations == budget:  # scipy's maxfun lets the line search finish first
            raise StopLbfgs('the budget of %d function evaluations is spent' % budget)
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
            SaveImage(npimg, outfn, args.remove_noise, colors_from)
            last_checkpoint = outfn
            log_progress(loss, iteration, first_epoch + budget, start_time, first_epoch)
            cbdata.update(filename=outfn, img=npimg)
        if args.print_epochs and iteration % args.print_epochs == 0:
            log_losses(iteration, evaluated[1])
        if callback:
            callback(cbdata)

    try:
        result = scipy.optimize.minimize(value_and_gradient, iterate, jac=True, method='L-BFGS-B',
                                         callback=after_iteration,
                                         options={'maxfun': budget, 'maxiter': budget})
        reason = result.message
    except StopLbfgs as stop:
        reason = str(stop)
    logging.info('L-BFGS stopped after %d iterations and %d function evaluations: %s',
                 iteration - first_epoch, evaluations, reason)
    return iteration - first_epoch


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


def stop_if_interrupted(interrupted, epochs_done, final_fn):
    """KeyboardInterrupt between epochs when Ctrl-C marked `interrupted` (ctrl_c_between_epochs);
    train_nstyle then saves the current image as final.jpg."""
    if interrupted:
        logging.warning('interrupted after %d epochs: saving the current image as %s', epochs_done, final_fn)
        raise KeyboardInterrupt


def log_progress(loss, epoch, max_num_epochs, start_time, first_epoch=0):
    """Content and style loss (content_and_style_losses), elapsed time, and time left at most."""
    content, style = content_and_style_losses(loss)
    elapsed = time.time() - start_time
    left = elapsed / (epoch - first_epoch) * (max_num_epochs - epoch)
    logging.info('epoch %d: content loss %.4g, style loss %.4g, %s elapsed, at most %s left',
                 epoch, content, style, _duration(elapsed), _duration(left))


# ---------------------------------------------------------------- batch mode

JOB_COLUMNS = {'content': '--content-image', 'style': '--style-image', 'output': '--output_dir'}


def read_jobs(path):
    """The rows of a --jobs CSV file as (line number, {column: text}); the header must name the
    columns content, style and output, and may add options."""
    try:
        with open(path, newline='') as f:
            lines = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as error:
        raise NstyleError('--jobs %s: cannot read it (%s); give a CSV file with the header '
                          'content,style,output[,options]' % (path, getattr(error, 'strerror', None) or error)) from None
    except csv.Error as error:
        raise NstyleError('--jobs %s: not a CSV file (%s)' % (path, error)) from None
    header = [name.strip().lower() for name in lines[0]] if lines else []
    unknown = [name for name in header if name not in JOB_COLUMNS and name != 'options']
    if not lines or unknown or not set(JOB_COLUMNS) <= set(header):
        raise NstyleError('--jobs %s: the first line must name the columns content,style,output and optionally '
                          'options (found %s)' % (path, ','.join(header) or 'an empty file'))
    rows = [(number, dict(zip(header, (cell.strip() for cell in line))))
            for number, line in enumerate(lines[1:], start=2) if any(cell.strip() for cell in line)]
    if not rows:
        raise NstyleError('--jobs %s: no jobs below the header line' % path)
    return rows


class JobArgumentError(NstyleError):
    """A bad flag in a job's options: reported for that job, and the batch goes on."""


class JobArgumentParser(OneLineErrorParser):
    def error(self, message):
        raise JobArgumentError(message)


def without_jobs_flag(argv):
    """The command line without --jobs FILE: the flags every job shares."""
    shared, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--jobs':
            skip = True
        elif not arg.startswith('--jobs='):
            shared.append(arg)
    return shared


def job_args(shared_argv, row):
    """A job's flags: the shared ones, then the row's cells, then its options (the later wins)."""
    argv = list(shared_argv)
    for column, flag in JOB_COLUMNS.items():
        if row.get(column):
            argv += [flag, row[column]]
    try:
        argv += shlex.split(row.get('options') or '')
    except ValueError as error:
        raise JobArgumentError('options: %s' % error) from None
    if not row.get('output'):
        raise JobArgumentError('the output column is empty: give each job its own output folder')
    return get_args(argv, parser_class=JobArgumentParser)


def run_jobs(jobs_file, shared_argv):
    """Batch mode: each row of the CSV file in turn, in this process, with the weights loaded once and
    the executors reused while the size stays. A failed job is reported and the others go on.
    Returns the exit status: 0 when every job finished, 1 otherwise."""
    rows = read_jobs(jobs_file)
    cache = {'executors': collections.OrderedDict()}
    failed, start = [], time.time()
    for index, (line, row) in enumerate(rows, start=1):
        label = 'job %d of %d (%s line %d)' % (index, len(rows), jobs_file, line)
        job_start = time.time()
        try:
            args = job_args(shared_argv, row)
            logging.info('%s: %s in the style of %s -> %s', label, args.content_image, args.style_image,
                         args.output_dir)
            train_nstyle(args, cache=cache)
        except NstyleError as error:
            failed.append(index)
            logging.error('%s failed: %s', label, error)
            continue
        except KeyboardInterrupt:
            logging.error('%s interrupted: the jobs after it were not run', label)
            raise
        except Exception as error:  # an unexpected failure of one job (MXNet, memory ...) must not stop the others
            failed.append(index)
            logging.error('%s failed: %s: %s', label, type(error).__name__, (str(error).strip().splitlines() or [''])[0])
            continue
        logging.info('%s done in %s: %s', label, _duration(time.time() - job_start),
                     os.path.join(args.output_dir, 'final.jpg'))
    logging.info('jobs: %d of %d done in %s%s', len(rows) - len(failed), len(rows), _duration(time.time() - start),
                 '; failed: %s' % ', '.join('job %d' % i for i in failed) if failed else '')
    return 1 if failed else 0


def main(arglist=None):
    argv = sys.argv[1:] if arglist is None else [str(arg) for arg in arglist]
    args = get_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        if args.jobs is not None:
            return run_jobs(args.jobs, without_jobs_flag(argv))
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
