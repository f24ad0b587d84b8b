"""Stylising images with trained generators: load a model folder's checkpoint, bind it once for
one image size, then run any number of images through it.

    stylizer = load_stylizer('model/end_to_end', (480, 640), mx.cpu())
    stages = stylizer.stylize(pixels)  # uint8 (480, 640, 3) in; one uint8 image per generator stage out
"""
import numpy as np
from skimage import img_as_float

from neural_style.errors import NstyleError
from neural_style.files.images import PostprocessImage, to_network_input
from neural_style.generators import checkpoints
from neural_style.generators import networks as generators
from neural_style.mxnet_runtime import mx


def check_size(kind, size, flag='--size'):
    """The generators need each side a positive multiple of generators.SIDE_MULTIPLE[kind]."""
    multiple = generators.SIDE_MULTIPLE[kind]
    if len(size) != 2 or min(size) < multiple or any(side % multiple for side in size):
        near = [max(multiple, side // multiple * multiple) for side in size]
        raise NstyleError('%s %dx%d: the %s generator needs both sides multiples of %d (at least %d), such as %dx%d'
                          % (flag, size[0], size[1], kind, multiple, multiple, near[0], near[1]))


def inference_symbol(kind, size):
    """(symbol, name of its input): the chain's four stages as one group, or Johnson's network."""
    if kind == checkpoints.V3CHAIN:
        return generators.chain_symbol(size), 'g0_data'
    return generators.johnson(one_image=True), 'data'


def training_symbols(kind, size):
    """[(symbol, name of its input)] per generator: the chain's four, or Johnson's one."""
    if kind == checkpoints.V3CHAIN:
        return [(symbol, 'g%d_data' % k) for k, symbol in enumerate(generators.chain_symbols(size))]
    return [(generators.johnson(), 'data')]


def load_params(model_dir, kind, name, size):
    """(arg_params, aux_params) of checkpoint `name`, all generators' together (the chain's keys are
    distinct across its four files), each file checked against its generator's symbol."""
    arg_params, aux_params = {}, {}
    symbols = training_symbols(kind, size)
    for k, (path, (symbol, data_name)) in enumerate(zip(checkpoints.checkpoint_paths(model_dir, kind, name), symbols)):
        what = ("Johnson's network" if kind == generators.JOHNSON
                else "the original's generator %d (gen_%s)" % (k, generators.CHAIN[k]))
        shapes = checkpoints.expected_shapes(symbol, {data_name: (1, 3) + tuple(size)})
        args, auxs = checkpoints.load_checked(path, shapes, what)
        arg_params.update(args)
        aux_params.update(auxs)
    return arg_params, aux_params


def bfloat16_generator(symbol):
    """The symbol with its convolutions in bfloat16 (oneDNN's AVX512-BF16 kernels); the rest stays
    float32: the normalisations, and the deconvolutions, whose Crop has no bfloat16 kernel."""
    from mxnet.contrib import amp
    return amp.convert_symbol(symbol, target_dtype='bfloat16', target_dtype_ops=['Convolution'],
                              fp32_ops=['BatchNorm', 'InstanceNorm'], conditional_fp32_ops=[],
                              cast_optional_params=False)


class Stylizer:
    """A generator bound for one image size (h, w): stylize() runs an image through every stage."""

    def __init__(self, executor, data_name, kind, size):
        self.executor, self.data_name = executor, data_name
        self.kind, self.size = kind, tuple(size)
        # Johnson's network normalises with BatchNorms that must see the batch's statistics: training
        # mode. It has no dropout nor any other layer that training mode changes. The chain's
        # BatchNorms use their moving statistics: inference mode, as the original.
        self.is_train = kind == generators.JOHNSON

    def forward(self, network_image):
        """The stages' outputs as the network sees images ((1, 3, h, w) float32 NDArrays)."""
        self.executor.arg_dict[self.data_name][:] = network_image
        return self.executor.forward(is_train=self.is_train)

    def stylize(self, pixels):
        """uint8 (h, w, 3) of exactly self.size -> one uint8 (h, w, 3) image per stage, the last the
        result. Pixels to the network as the original's preprocessing: p / 255 * 256 - mean."""
        if pixels.shape != self.size + (3,):
            raise NstyleError('the image is %dx%d but the generator is bound for %dx%d (h x w); resize or crop '
                              'it first' % (pixels.shape[0], pixels.shape[1], self.size[0], self.size[1]))
        outputs = [output.asnumpy() for output in self.forward(to_network_input(img_as_float(pixels)))]
        for k, output in enumerate(outputs):  # NaN would be written as black: a broken model, not a picture
            if not np.isfinite(output).all():
                raise NstyleError('the %s generator%s of checkpoint %s gives NaN or infinite values%s: its weights '
                                  'are broken (a diverged training?); give another --model-dir or checkpoint'
                                  % (self.kind, '' if len(outputs) == 1 else ' chain', getattr(self, 'checkpoint', '?'),
                                     '' if len(outputs) == 1 else ' from stage %d on' % k))
        return [PostprocessImage(output) for output in outputs]


def bind_stylizer(kind, params, size, dev, dtype='float32'):
    """A Stylizer for (arg_params, aux_params) of generator `kind` at size (h, w)."""
    check_size(kind, size)
    symbol, data_name = inference_symbol(kind, size)
    if dtype == 'bfloat16':
        symbol = bfloat16_generator(symbol)
    arg_params, aux_params = params
    args = {name: value.as_in_context(dev) for name, value in arg_params.items()}
    args[data_name] = mx.nd.zeros((1, 3) + tuple(size), ctx=dev)
    aux = {name: value.as_in_context(dev) for name, value in aux_params.items()}
    for name, shape in zip(symbol.list_auxiliary_states(), symbol.infer_shape(**{data_name: (1, 3) + tuple(size)})[2]):
        if name not in aux:  # Johnson's stand-ins for InstanceNorm: moving statistics never read
            aux[name] = (mx.nd.zeros if name.endswith('_moving_mean') else mx.nd.ones)(shape, ctx=dev)
    # Bound with the input's gradient, as the original's modules were (it bound them for training): MXNet
    # then runs the same oneDNN kernels, and the outputs agree with the original's bit for bit. Bound for
    # inference only, the last bits differ, and a truncated pixel flips now and then (a JPEG block by up to 9).
    # Johnson's network needs that gradient too: see generators.instance_norm_of_one_image.
    grad_req = {name: 'write' if name == data_name else 'null' for name in args}
    try:
        executor = symbol.bind(dev, args=args, args_grad={data_name: mx.nd.zeros_like(args[data_name])},
                               aux_states=aux, grad_req=grad_req)
    except mx.base.MXNetError as error:
        raise NstyleError('cannot bind the %s generator at %dx%d: %s' % (kind, size[0], size[1],
                                                                          str(error).splitlines()[0])) from None
    return Stylizer(executor, data_name, kind, size)


def load_stylizer(model_dir, size, dev, checkpoint=None, dtype='float32'):
    """The generator(s) of model_dir's checkpoint (default: the original's v3_0002-0026000 when
    there, else the newest), bound once at size (h, w) on dev."""
    kind = checkpoints.find_kind(model_dir)
    check_size(kind, size)
    name = checkpoints.pick_checkpoint(model_dir, kind, checkpoint)
    stylizer = bind_stylizer(kind, load_params(model_dir, kind, name, size), size, dev, dtype)
    stylizer.checkpoint = name
    return stylizer
