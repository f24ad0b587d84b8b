"""Convert the authors' Torch7 models to our .params (no Torch needed: torchfile reads the .t7 format).

    WCT (Li et al.):       vgg_normalised_conv{1..5}_1.t7, feature_invertor_conv{1..5}_1.t7
                           -> <out>/encoder{1..5}.params, <out>/decoder{1..5}.params
    AdaIN (Huang et al.):  vgg_normalised.t7 (the whole normalised VGG-19), decoder.t7
                           -> <out>/encoder4.params, <out>/decoder4.params

A model is an nn.Sequential (possibly nested) of SpatialConvolution, SpatialReflectionPadding, ReLU,
SpatialMaxPooling and SpatialUpSamplingNearest. Its convolutions are matched in order to our network of
networks.py, and the file is refused unless every shape, every padding and every pooling agrees: a
model that does something else must not be run as if it were this one.

    python -m neural_style.universal.torch7 wct models/ model/wct
    python -m neural_style.universal.torch7 adain models/ model/adain
"""
import os
import sys

import numpy as np

from . import networks

CONVOLUTIONS = (b'nn.SpatialConvolution', b'cudnn.SpatialConvolution', b'nn.SpatialConvolutionMM')
PADDINGS = (b'nn.SpatialReflectionPadding',)
RELUS = (b'nn.ReLU', b'cudnn.ReLU')
POOLINGS = (b'nn.SpatialMaxPooling', b'cudnn.SpatialMaxPooling')
UPSAMPLINGS = (b'nn.SpatialUpSamplingNearest',)
CONTAINERS = (b'nn.Sequential', b'nn.Concat')  # Concat would be refused below: not a chain

WCT_ENCODER = 'vgg_normalised_conv%d_1.t7'
WCT_DECODER = 'feature_invertor_conv%d_1.t7'
ADAIN_ENCODER = 'vgg_normalised.t7'
ADAIN_DECODER = 'decoder.t7'


class ConversionError(ValueError):
    """A .t7 file that is not the model it should be; the message names the file."""


def read_t7(path):
    import torchfile
    try:
        return torchfile.load(path)
    except Exception as error:  # torchfile raises whatever the bytes lead it to: struct, index, value errors
        raise ConversionError('%s is not a readable Torch7 file (%s: %s)' % (path, type(error).__name__, error)) \
            from None


def type_name(module):
    return module.torch_typename() if hasattr(module, 'torch_typename') else None


def flat_modules(module, path):
    """The chain of leaf modules of a (nested) nn.Sequential, in order."""
    name = type_name(module)
    if name == b'nn.Sequential':
        children = module.modules or []
        return [leaf for child in children for leaf in flat_modules(child, path)]
    if name is None:
        raise ConversionError('%s: expected Torch7 nn modules, found %s' % (path, type(module).__name__))
    if name in CONTAINERS:
        raise ConversionError('%s: %s is not a chain of layers; not a model of these papers'
                              % (path, name.decode(errors='replace')))
    return [module]


def as_float32(array, what):
    array = np.asarray(array)
    if array.dtype.kind != 'f':
        raise ConversionError('%s is %s, not floating point' % (what, array.dtype))
    return np.ascontiguousarray(array, dtype=np.float32)


def layer_ops(modules, path):
    """[('conv', weight, bias, padded) | ('pool',) | ('up',)] of a chain; ReLUs are implied (checked by
    position in match()), reflection paddings of 1 attach to the convolution after them."""
    ops, padded = [], False
    for index, module in enumerate(modules):
        name = type_name(module)
        where = '%s, module %d (%s)' % (path, index + 1, name.decode(errors='replace'))
        if name in PADDINGS:
            if [module.pad_l, module.pad_r, module.pad_t, module.pad_b] != [1, 1, 1, 1]:
                raise ConversionError('%s: a reflection padding other than 1' % where)
            padded = True
        elif name in CONVOLUTIONS:
            k_h, k_w = module.kH, module.kW
            if (module.dH, module.dW) != (1, 1) or (module.padH or 0, module.padW or 0) != (0, 0):
                raise ConversionError('%s: a stride or zero padding these networks do not have' % where)
            weight = as_float32(module.weight, where + ' weight')
            shape = (module.nOutputPlane, module.nInputPlane, k_h, k_w)
            if weight.size != np.prod(shape):
                raise ConversionError('%s: weight of %d values, expected %s' % (where, weight.size, shape))
            bias = module.bias
            bias = np.zeros(shape[0], np.float32) if bias is None else as_float32(bias, where + ' bias')
            ops.append(('conv', weight.reshape(shape), bias.reshape(-1), padded))
            padded = False
        elif name in RELUS:
            ops.append(('relu',))
        elif name in POOLINGS:
            if (module.kH, module.kW, module.dH, module.dW) != (2, 2, 2, 2):
                raise ConversionError('%s: a pooling other than 2x2 stride 2' % where)
            ops.append(('pool',))
        elif name in UPSAMPLINGS:
            if module.scale_factor not in (2, None):
                raise ConversionError('%s: an upsampling by other than 2' % where)
            ops.append(('up',))
        else:
            raise ConversionError('%s: a layer these networks do not have' % where)
    if padded:
        raise ConversionError('%s: ends with a padding' % path)
    return ops


def expected_ops(level, part):
    """What our network of this level does, in the same terms as layer_ops."""
    if part == 'encoder':
        ops = [('conv', 'preprocess', (3, 3, 1, 1), False)]
        for layer in networks.encoder_layers(level):
            if isinstance(layer, str):
                ops.append(('pool',))
            else:
                name, channels_in, channels_out = layer
                ops += [('conv', name, (channels_out, channels_in, 3, 3), True), ('relu',)]
        return ops
    ops = []
    layers = networks.decoder_layers(level)
    for index, layer in enumerate(layers):
        if layer == 'upsample':
            ops.append(('up',))
        else:
            name, channels_in, channels_out = layer
            ops.append(('conv', name, (channels_out, channels_in, 3, 3), True))
            if index < len(layers) - 1:
                ops.append(('relu',))
    return ops


def match(ops, level, part, path, prefix_only=False):
    """{our name_weight/_bias: array}: the file's layers against ours, op by op. prefix_only: the file may
    go on beyond (AdaIN's vgg_normalised.t7 holds the whole VGG-19; the encoder stops at relu4_1)."""
    wanted = expected_ops(level, part)
    if len(ops) < len(wanted) or (not prefix_only and len(ops) != len(wanted)):
        raise ConversionError('%s has %d layers (convolutions, ReLUs, poolings, upsamplings), the %s of level %d '
                              '%s %d: not this model' % (path, len(ops), part, level,
                                                         'needs at least' if prefix_only else 'has', len(wanted)))
    params = {}
    for position, (got, want) in enumerate(zip(ops, wanted), 1):
        if got[0] != want[0]:
            raise ConversionError('%s: layer %d is a %s where the %s of level %d has a %s'
                                  % (path, position, got[0], part, level, want[0]))
        if got[0] != 'conv':
            continue
        _, weight, bias, padded = got
        _, name, shape, wants_padding = want
        if weight.shape != shape:
            raise ConversionError('%s: convolution %s has shape %s, expected %s' % (path, name, weight.shape, shape))
        if padded != wants_padding:
            raise ConversionError('%s: convolution %s is %s a reflection padding, expected %s'
                                  % (path, name, 'behind' if padded else 'without', 'one' if wants_padding else 'none'))
        params[name + '_weight'], params[name + '_bias'] = weight, bias
    networks.check_params(params, level, part, path)
    return params


def convert_file(path, level, part, prefix_only=False):
    """{name: float32 array} of one .t7 model, matched to our encoder or decoder of this level."""
    return match(layer_ops(flat_modules(read_t7(path), path), path), level, part, path, prefix_only)


def conversions(method):
    """[(source file name, level, part, prefix_only, our file name)] of a method's released files."""
    if method == 'wct':
        return ([(WCT_ENCODER % level, level, 'encoder', False, networks.ENCODER_FILE % level)
                 for level in networks.LEVELS] +
                [(WCT_DECODER % level, level, 'decoder', False, networks.DECODER_FILE % level)
                 for level in networks.LEVELS])
    if method == 'adain':
        level = networks.ADAIN_LEVEL
        return [(ADAIN_ENCODER, level, 'encoder', True, networks.ENCODER_FILE % level),
                (ADAIN_DECODER, level, 'decoder', False, networks.DECODER_FILE % level)]
    raise ValueError('unknown method %r' % method)


def convert(method, source_dir, output_dir):
    """Convert every released file of method ('wct' or 'adain') in source_dir into output_dir; all are
    read and checked before the first is written. Returns the written paths."""
    converted = []
    for source, level, part, prefix_only, target in conversions(method):
        path = os.path.join(source_dir, source)
        if not os.path.isfile(path):
            raise ConversionError('%s not found: the %s models are %s' % (
                path, method, ', '.join(name for name, *_ in conversions(method))))
        converted.append((os.path.join(output_dir, target), convert_file(path, level, part, prefix_only)))
    os.makedirs(output_dir, exist_ok=True)
    for target, params in converted:
        networks.save_params(target, params)
    return [target for target, _ in converted]


def main(arglist=None):
    from neural_style.errors import NstyleError
    from neural_style.cli.tool import OneLineErrorParser, run_cli
    parser = OneLineErrorParser(description='convert the authors\' Torch7 models of WCT or AdaIN to .params')
    parser.add_argument('method', choices=['wct', 'adain'])
    parser.add_argument('source_dir', help='the folder of the .t7 files')
    parser.add_argument('output_dir', help='where the .params go (model/wct, model/adain)')

    def work():
        args = parser.parse_args(arglist)
        try:
            for path in convert(args.method, args.source_dir, args.output_dir):
                print('wrote %s' % path)
        except ConversionError as error:
            raise NstyleError(str(error)) from None
    return run_cli(work, 'torch7.py')


if __name__ == '__main__':
    sys.exit(main())
