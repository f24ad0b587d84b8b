"""The networks of universal style transfer, as MXNet symbols: the normalised VGG-19 encoders of Li et al.
and Huang & Belongie, cut at relu1_1 ... relu5_1, and the decoders that mirror them.

Encoder of level N (1..5): RGB in [0, 1], shaped (B, 3, H, W) -> 'preprocess' (a 1x1 convolution: the
authors' own first layer, which turns [0, 1] RGB into what VGG-19 expects) -> VGG-19's layers up to
conv N_1 (our model_vgg19 names: conv1_1, conv1_2, pool1, ...), each 3x3 convolution behind a
reflection padding of 1 and followed by a ReLU, max pooling 2x2 (ceil mode) between the blocks.
Its output is relu N_1.

Decoder of level N: relu N_1 features -> the same convolutions in reverse order, each inverting one of
the encoder's (inv_conv N_1 ... inv_conv1_1, channels swapped), reflection padding before each, a ReLU
after each but the last, and a nearest-neighbour 2x upsampling where the encoder pooled. Its output is
RGB in [0, 1] (not clipped), with sides rounded up to a multiple of 2^(N-1): crop_to() cuts it back.
These are the shapes of the authors' Torch7 files (vgg_normalised_convN_1.t7, feature_invertor_convN_1.t7,
and AdaIN's vgg_normalised.t7 and decoder.t7, its decoder being level 4's).
"""
import os

import numpy as np

from model_vgg19 import LAYERS

LEVELS = (1, 2, 3, 4, 5)
ADAIN_LEVEL = 4  # AdaIN works on relu4_1
ENCODER_FILE = 'encoder%d.params'  # a weights folder: model/wct/encoder1.params ... decoder5.params
DECODER_FILE = 'decoder%d.params'
# what preprocess does for the project's model/vgg19.params (RGB, pixels * 255 minus the ImageNet mean)
MEAN_RGB = np.array([123.68, 116.779, 103.939])


def check_level(level):
    if level not in LEVELS:
        raise ValueError('level must be one of %s, got %r' % (LEVELS, level))


def encoder_layers(level):
    """[(name, in channels, out channels) or 'poolN'] of the encoder up to conv<level>_1."""
    check_level(level)
    layers, channels_in = [], 3
    for layer in LAYERS:
        if isinstance(layer, str):
            layers.append(layer)
            continue
        name, channels = layer
        layers.append((name, channels_in, channels))
        channels_in = channels
        if name == 'conv%d_1' % level:
            return layers
    raise AssertionError('model_vgg19.LAYERS ends before conv%d_1' % level)


def decoder_layers(level):
    """[(inv_<conv name>, in channels, out channels) or 'upsample'] of level's decoder, coarse to fine."""
    layers = []
    for layer in reversed(encoder_layers(level)):
        if isinstance(layer, str):
            layers.append('upsample')
        else:
            name, channels_in, channels_out = layer
            layers.append(('inv_' + name, channels_out, channels_in))
    return layers


def param_shapes(level, part):
    """{name_weight: shape, name_bias: shape} of an 'encoder' or 'decoder' of this level."""
    convolutions = [layer for layer in (encoder_layers(level) if part == 'encoder' else decoder_layers(level))
                    if not isinstance(layer, str)]
    shapes = {}
    if part == 'encoder':
        shapes.update({'preprocess_weight': (3, 3, 1, 1), 'preprocess_bias': (3,)})
    for name, channels_in, channels_out in convolutions:
        shapes[name + '_weight'] = (channels_out, channels_in, 3, 3)
        shapes[name + '_bias'] = (channels_out,)
    return shapes


def reflect_conv(mx, x, name, channels):
    """A 3x3 convolution behind a reflection padding of 1 (the authors' SpatialReflectionPadding)."""
    x = mx.sym.pad(x, mode='reflect', pad_width=(0, 0, 0, 0, 1, 1, 1, 1), name=name + '_pad')
    return mx.sym.Convolution(x, name=name, num_filter=channels, kernel=(3, 3), pad=(0, 0), workspace=1024)


def encoder_symbol(level, data=None):
    """relu<level>_1 of RGB [0, 1] input 'data' (B, 3, H, W)."""
    return encoder_relus(level, data)[-1]


def encoder_relus(level, data=None):
    """[relu1_1, relu2_1, ..., relu<level>_1] of RGB [0, 1] input 'data' (B, 3, H, W): the AdaIN style loss's."""
    from neural_style.mxnet_runtime import mx
    x = mx.sym.Variable('data') if data is None else data
    x = mx.sym.Convolution(x, name='preprocess', num_filter=3, kernel=(1, 1))
    taps = []
    for layer in encoder_layers(level):
        if isinstance(layer, str):
            x = mx.sym.Pooling(x, name=layer, kernel=(2, 2), stride=(2, 2), pool_type='max',
                               pooling_convention='full')
        else:
            name, _, channels = layer
            x = mx.sym.Activation(reflect_conv(mx, x, name, channels), act_type='relu',
                                  name=name.replace('conv', 'relu'))
            if name.endswith('_1'):
                taps.append(x)
    return taps


def decoder_symbol(level, features=None):
    """RGB [0, 1] (unclipped) of relu<level>_1 features 'features' (B, C, h, w)."""
    from neural_style.mxnet_runtime import mx
    x = mx.sym.Variable('features') if features is None else features
    layers = decoder_layers(level)
    for index, layer in enumerate(layers):
        if layer == 'upsample':
            x = mx.sym.UpSampling(x, scale=2, sample_type='nearest', num_args=1, name='up%d' % index)
            continue
        name, _, channels = layer
        x = reflect_conv(mx, x, name, channels)
        if index < len(layers) - 1:
            x = mx.sym.Activation(x, act_type='relu', name=name + '_relu')
    return x


def random_params(level, part, seed):
    """Seeded He-normal weights (zero biases) of an 'encoder' or 'decoder' of this level, float32 numpy.
    Never mistaken for real ones: they are what the tests and --random-weights use. The encoder's
    preprocess is the fixed map of the project's VGG-19 (pixels * 255 minus the ImageNet mean)."""
    rng = np.random.RandomState(seed)
    params = {}
    for name, shape in sorted(param_shapes(level, part).items()):
        if name.endswith('_bias'):
            params[name] = np.zeros(shape, np.float32)
        elif name == 'preprocess_weight':
            params.update(vgg19_preprocess())
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            params[name] = rng.normal(0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
    if part == 'decoder':  # the encoder's preprocess scales [0, 1] by 255: its inverse's last layer starts /255
        params['inv_conv1_1_weight'] /= 255.0
    return params


def vgg19_preprocess():
    """The 1x1 convolution that turns RGB [0, 1] into the input of the project's model/vgg19.params."""
    return {'preprocess_weight': (255 * np.eye(3)).reshape(3, 3, 1, 1).astype(np.float32),
            'preprocess_bias': (-MEAN_RGB).astype(np.float32)}


def encoder_from_vgg19(vgg19_arrays, level):
    """The encoder's weights from the project's VGG-19 weights ({'conv1_1_weight': array, ...}, numpy or
    NDArray; an 'arg:' prefix is dropped): its convolutions and the fixed preprocess."""
    arrays = {key[len('arg:'):] if key.startswith('arg:') else key: value for key, value in vgg19_arrays.items()}
    params = vgg19_preprocess()
    for name in param_shapes(level, 'encoder'):
        if name.startswith('preprocess'):
            continue
        value = arrays[name]
        params[name] = (value.asnumpy() if hasattr(value, 'asnumpy') else np.asarray(value)).astype(np.float32)
    return params


def check_params(params, level, part, source):
    """A ValueError naming source unless params hold exactly this network's arrays with their shapes."""
    problems = []
    for name, shape in sorted(param_shapes(level, part).items()):
        if name not in params:
            problems.append('%s missing' % name)
        elif tuple(params[name].shape) != shape:
            problems.append('%s has shape %s, expected %s' % (name, tuple(params[name].shape), shape))
    if problems:
        raise ValueError('%s is not the %s of level %d (%s)' % (source, part, level, '; '.join(problems[:4])))


def save_params(path, params):
    """Write {name: numpy array} as an MXNet .params file (arg: prefix), through a temporary name."""
    from neural_style.mxnet_runtime import mx
    temporary = '%s.tmp%d' % (path, os.getpid())
    mx.nd.save(temporary, {'arg:' + name: mx.nd.array(value, dtype='float32') for name, value in params.items()})
    os.replace(temporary, path)


def load_params(path, level, part):
    """{name: float32 numpy array} of an .params file, checked against the network's shapes."""
    from neural_style.mxnet_runtime import mx
    try:
        saved = mx.nd.load(path)
    except mx.base.MXNetError:
        raise ValueError('%s is not an MXNet .params file' % path) from None
    if not isinstance(saved, dict):
        raise ValueError('%s holds unnamed arrays, not the %s of level %d' % (path, part, level))
    params = {(key[4:] if key.startswith(('arg:', 'aux:')) else key): value.asnumpy().astype(np.float32)
              for key, value in saved.items()}
    check_params(params, level, part, path)
    return params


def crop_to(image, height, width):
    """A decoder's output (B, 3, H', W'), H' >= height, cut to (B, 3, height, width)."""
    return image[:, :, :height, :width]


class BoundNetwork:
    """A symbol with fixed weights, bound for inference once per input shape: __call__(array) -> numpy."""

    def __init__(self, symbol, input_name, params, ctx=None):
        from neural_style.mxnet_runtime import mx
        self.mx = mx
        self.symbol, self.input_name = symbol, input_name
        self.ctx = ctx or mx.cpu()
        self.params = {name: mx.nd.array(value, ctx=self.ctx) for name, value in params.items()}
        self.executors = {}

    def executor(self, shape):
        if shape not in self.executors:
            args = dict(self.params)
            args[self.input_name] = self.mx.nd.zeros(shape, ctx=self.ctx)
            missing = [name for name in self.symbol.list_arguments() if name not in args]
            if missing:
                raise ValueError('weights missing for %s' % ', '.join(missing))
            self.executors = {shape: self.symbol.bind(self.ctx, args={name: args[name]
                                                                      for name in self.symbol.list_arguments()},
                                                      grad_req='null')}  # one shape at a time: memory
        return self.executors[shape]

    def __call__(self, batch):
        batch = np.asarray(batch, np.float32)
        executor = self.executor(batch.shape)
        executor.arg_dict[self.input_name][:] = batch
        return executor.forward(is_train=False)[0].asnumpy()


def bound_encoder(level, params, ctx=None):
    check_params(params, level, 'encoder', 'the encoder weights')
    return BoundNetwork(encoder_symbol(level), 'data', params, ctx)


def bound_decoder(level, params, ctx=None):
    check_params(params, level, 'decoder', 'the decoder weights')
    return BoundNetwork(decoder_symbol(level), 'features', params, ctx)


def encoder_taps_channels(level):
    """[(relu k_1, channels)] for k = 1 ... level: what encoder_relus gives."""
    return [(name.replace('conv', 'relu'), channels) for layer in encoder_layers(level)
            if not isinstance(layer, str) for name, _, channels in [layer] if name.endswith('_1')]
