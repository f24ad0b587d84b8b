"""VGG-19 up to relu5_1, as the neural-style example uses it: the symbol, its
pretrained weights and an executor that gives the gradient of its outputs with
respect to the input image (Simonyan & Zisserman 2014; Gatys et al. 2015)."""
import hashlib
import json
import logging
import os
from collections import namedtuple

import numpy as np

from neural_style.files.images import input_file_problem
from neural_style.lazy_mxnet import mx  # loads MXNet at its first use: --help reads the layer names only

ConvExecutor = namedtuple('ConvExecutor', ['executor', 'data', 'data_grad', 'style', 'content', 'arg_dict'])

# VGG-19's convolutions up to conv5_1 (3x3, pad 1, each followed by a ReLU) and
# its poolings between blocks. Gatys et al. replace the trained network's max pooling by average
# pooling (get_symbol's default); pooling='max' gives the network as trained.
LAYERS = [('conv1_1', 64), ('conv1_2', 64), 'pool1',
          ('conv2_1', 128), ('conv2_2', 128), 'pool2',
          ('conv3_1', 256), ('conv3_2', 256), ('conv3_3', 256), ('conv3_4', 256), 'pool3',
          ('conv4_1', 512), ('conv4_2', 512), ('conv4_3', 512), ('conv4_4', 512), 'pool4',
          ('conv5_1', 512)]
CONV_LAYERS = [layer for layer in LAYERS if isinstance(layer, tuple)]
RELU_LAYERS = [name.replace('conv', 'relu') for name, _ in CONV_LAYERS]  # the layers one can choose
STYLE_LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']
CONTENT_LAYER = 'relu4_2'
POOLING_TYPES = ('avg', 'max')

DEFAULT_PARAMS = 'model/vgg19.params'  # the original's path, relative to the working directory
PARAMS_SIZE_HINT = '~80 MB'
# git hash-object of the published weights (dmlc/web-data, mxnet/neural-style/model/vgg19.params)
REAL_PARAMS_BLOB_ID = '9dfbe2ed44e0e8914f9551888bf763e14c09c778'


class WeightsError(Exception):
    """The weights file is missing or unusable; the message says what to do."""


def get_symbol(style_layers=STYLE_LAYERS, content_layers=(CONTENT_LAYER,), pooling='avg'):
    """The VGG-19 feature symbol: (group of the style ReLUs, group of the content ReLUs),
    built only as deep as the deepest layer asked for; a group is None when it has no layer.
    pooling: 'avg' (Gatys et al., the original example) or 'max', between the blocks."""
    check_layers(list(style_layers) + list(content_layers))
    if pooling not in POOLING_TYPES:
        raise ValueError('unknown pooling %r; choose one of %s' % (pooling, ', '.join(POOLING_TYPES)))
    data = mx.sym.Variable('data')
    x, relus = data, {}
    for layer in layers_up_to(list(style_layers) + list(content_layers)):
        if isinstance(layer, str):
            x = mx.sym.Pooling(name=layer, data=x, pad=(0, 0), kernel=(2, 2), stride=(2, 2), pool_type=pooling)
            continue
        name, channels = layer
        x = mx.sym.Convolution(name=name, data=x, num_filter=channels, pad=(1, 1), kernel=(3, 3),
                               stride=(1, 1), no_bias=False, workspace=1024)
        relu_name = name.replace('conv', 'relu')
        x = relus[relu_name] = mx.sym.Activation(name=relu_name, data=x, act_type='relu')
    style = mx.sym.Group([relus[name] for name in style_layers]) if style_layers else None
    content = mx.sym.Group([relus[name] for name in content_layers]) if content_layers else None
    return style, content


def check_layers(relu_names):
    """A ValueError that lists the valid names when one of these is not a ReLU of the model."""
    unknown = [name for name in relu_names if name not in RELU_LAYERS]
    if unknown:
        raise ValueError('unknown layer %s; the layers are %s' % (', '.join(unknown), ', '.join(RELU_LAYERS)))


def layers_up_to(relu_names):
    """LAYERS up to the convolution of the deepest of these ReLUs: what they need, no more."""
    deepest = max(RELU_LAYERS.index(name) for name in relu_names)
    end = LAYERS.index(CONV_LAYERS[deepest])
    return LAYERS[:end + 1]


def min_input_side(relu_names):
    """The smallest input side that reaches the deepest of these ReLUs as a map of at least 1x1:
    each 2x2 pooling on the way halves it (16 for relu5_1, behind four poolings)."""
    return 2 ** sum(1 for layer in layers_up_to(relu_names) if isinstance(layer, str))


def find_params(path=DEFAULT_PARAMS):
    """Where the weights file is: a relative path is tried against the working
    directory, then beside this file (so the program runs from any folder)."""
    candidates = [path]
    if not os.path.isabs(path):
        candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), path))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    problem = input_file_problem(path)
    if os.path.exists(path) and problem:  # a folder, a device ...: say so, not "not found"
        raise WeightsError('VGG-19 weights %s %s (the weights are one file, ~80 MB, from ./download.sh)'
                           % (path, problem))
    raise WeightsError('VGG-19 weights %s not found: run ./download.sh to fetch them (%s), '
                       'or pass --vgg-params PATH' % (' or '.join(candidates), PARAMS_SIZE_HINT))


def load_params(path=DEFAULT_PARAMS):
    """Load and check the pretrained weights: {layer_weight/layer_bias: NDArray on the CPU}.
    Every convolution must be there with its shape: running on zeros would be silent garbage."""
    path = find_params(path)
    return checked_params(lambda: mx.nd.load(path), path)


def load_params_from_bytes(data, path):
    """load_params on the bytes of the file at path (read elsewhere: a cluster's driver sends them)."""
    return checked_params(lambda: mx.nd.load_frombuffer(data), path)


def checked_params(load, path):
    """The weights load() gives, checked (load_params); path names the file in the errors."""
    try:
        saved = load()
    except mx.base.MXNetError:
        raise WeightsError('%s is not an MXNet params file: run ./download.sh to fetch the VGG-19 weights (%s)'
                           % (path, PARAMS_SIZE_HINT)) from None
    if not isinstance(saved, dict):
        raise WeightsError('%s holds unnamed arrays, not VGG-19 weights (arg:conv1_1_weight ...): '
                           'run ./download.sh' % path)
    # the layers this model has (up to conv5_1) and no more: the published file also holds conv5_2 to
    # conv5_4, 28 MB that no run uses; dropped here, they are not resident during the run
    wanted = {name + suffix for name, _ in CONV_LAYERS for suffix in ('_weight', '_bias')}
    params = {key[len('arg:'):]: value for key, value in saved.items()
              if key.startswith('arg:') and key[len('arg:'):] in wanted}
    del saved
    convert_to_float32(path, params)
    problems, channels_in = [], 3
    for name, channels in CONV_LAYERS:
        for suffix, shape in (('_weight', (channels, channels_in, 3, 3)), ('_bias', (channels,))):
            if name + suffix not in params:
                problems.append('%s%s missing' % (name, suffix))
            elif params[name + suffix].shape != shape:
                problems.append('%s%s has shape %s, expected %s' % (name, suffix, params[name + suffix].shape, shape))
        channels_in = channels
    if problems:
        raise WeightsError('%s is not usable VGG-19 weights (%s): run ./download.sh to fetch them again'
                           % (path, ', '.join(problems)))
    return params


def convert_to_float32(path, params):
    """Weights stored in another float type (a float16 or float64 export) become float32 in place,
    which the network computes in: float16 converts exactly, float64 rounds without changing what
    the weights mean, unless a value lies beyond float32's range. Integer weights (quantised) or
    non-finite ones mean something else: refused."""
    converted_from = set()
    for name, value in params.items():
        dtype = np.dtype(value.dtype)
        if dtype == np.float32:
            continue
        if dtype.kind != 'f':
            raise WeightsError('%s stores %s as %s, not floating point: not usable VGG-19 weights; run ./download.sh'
                               % (path, name, dtype.name))
        converted = value.astype('float32')
        if not np.isfinite(converted.asnumpy()).all():
            raise WeightsError('%s: %s (%s) holds values that are not finite in float32 (NaN, inf, or beyond %.3g); '
                               'run ./download.sh' % (path, name, dtype.name, np.finfo(np.float32).max))
        params[name] = converted
        converted_from.add(dtype.name)
    if converted_from:
        logging.info('%s: weights stored as %s, converted to float32', path, ', '.join(sorted(converted_from)))


def are_real_weights(path=DEFAULT_PARAMS):
    """Whether the weights file is the published VGG-19 one, by its git blob id (the sha1 of
    "blob <size>", a zero byte, then the file): any other, such as the tests' random weights, is not."""
    path = find_params(path)
    digest = hashlib.sha1(b'blob %d\0' % os.path.getsize(path))
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest() == REAL_PARAMS_BLOB_ID


def get_executor(style, content, input_size, ctx, params=None, dtype='float32'):
    """Bind [style, content] on a (1, 3, h, w) input, with the input's gradient only.
    Either may be None (a loss of weight 0 is not built): then `style` is empty, or `content` None.
    `content` is the last output (the content loss, or the last content layer's features).
    `params`: weights from load_params (loaded from the default path when None).
    dtype 'bfloat16': the convolutions (and the ReLUs and poolings between them) compute in
    bfloat16; the weights, the input, its gradient and the Gram matrices (FullyConnected) and
    losses stay float32."""
    if params is None:
        params = load_params()
    out = mx.sym.Group([group for group in (style, content) if group is not None])
    if dtype == 'bfloat16':
        out = bfloat16_convolutions(out)
    arg_shapes, output_shapes, aux_shapes = out.infer_shape(data=(1, 3, input_size[0], input_size[1]))
    arg_names = out.list_arguments()
    arg_dict = {}
    for name, shape in zip(arg_names, arg_shapes):
        if name in params and params[name].context == ctx:
            arg_dict[name] = params[name]  # the weights themselves, never written: a copy would cost 80 MB
        else:
            arg_dict[name] = mx.nd.zeros(shape, ctx=ctx)
            if name in params:
                params[name].copyto(arg_dict[name])
            elif name != 'data':
                logging.debug('Skip argument %s', name)  # the loss targets, filled in by the caller (the original printed it)
    grad_dict = {'data': arg_dict['data'].copyto(ctx)}
    executor = out.bind(ctx=ctx, args=arg_dict, args_grad=grad_dict, grad_req='write')
    return ConvExecutor(executor=executor,
                        data=arg_dict['data'],
                        data_grad=grad_dict['data'],
                        style=executor.outputs[:len(style.list_outputs()) if style is not None else 0],
                        content=executor.outputs[-1] if content is not None else None,
                        arg_dict=arg_dict)


def bfloat16_convolutions(symbol):
    """The symbol with amp_cast nodes that run each Convolution in bfloat16 (MXNet's AMP; oneDNN's
    avx512_core_bf16 kernels on the CPU), and the ReLUs and poolings between them. FullyConnected,
    which computes the Gram matrices, is kept in float32: a Gram matrix sums h*w products, too many
    for bfloat16's 8-bit mantissa. So are the ReLUs whose features leave the network (feature_taps):
    their gradient is the sum of two branches, and MXNet sums bfloat16 gradients (add_n) slowly,
    0.1 s an epoch at 600x400 (measured), the float32 sum in a fifth of that."""
    from mxnet.contrib import amp
    return amp.convert_symbol(symbol, target_dtype='bfloat16', target_dtype_ops=['Convolution'],
                              fp32_ops=['FullyConnected'], conditional_fp32_ops=[],
                              excluded_sym_names=sorted(feature_taps(symbol)), cast_optional_params=False)


def feature_taps(symbol):
    """The names of the ReLUs whose output goes somewhere other than the next convolution or
    pooling: to a Gram matrix, a loss, or out of the graph."""
    graph = json.loads(symbol.tojson())
    nodes = graph['nodes']
    consumers = [(node['op'], source) for node in nodes for source, _, _ in node['inputs']]
    consumers += [('output', source) for source, _, _ in graph['heads']]
    return {nodes[source]['name'] for op, source in consumers
            if nodes[source]['op'] == 'Activation' and op not in ('Convolution', 'Pooling')}

