"""The building blocks the one-pass networks share, as mx.sym (imported lazily by the callers)."""
import numpy as np

from neural_style.mxnet_runtime import mx


def instance_norm(data, gamma, beta, name, eps=1e-5, images=1):
    """Instance normalisation of a (N, C, H, W) symbol of N = `images` images, scaled by gamma and
    shifted by beta (C,) symbols: per image and channel (x - mean) / sqrt(var + eps) * gamma + beta,
    over the image's H x W.

    It is BatchNorm with the batch's statistics (use_global_stats=False): for one image those are
    the instance's, and BatchNorm runs in oneDNN, about 3x faster on CPU than mx.sym.InstanceNorm.
    The executor must run forward(is_train=True) so that BatchNorm uses the batch statistics (the
    moving averages it then updates are never read). A batch of N > 1 images is folded into one
    image of N*C channels, (1, N*C, H, W), around the BatchNorm, with gamma and beta tiled N times:
    each image its own statistics, as N runs of one image (then gamma's and beta's shapes must be
    given at binding: MXNet does not infer them through the tiling).

    The reshape is there for one image too: it hands BatchNorm a plain NCHW copy of the conv's
    output, and oneDNN then runs its plain-layout BatchNorm. On the conv's blocked layout (nChw16c)
    oneDNN 2.4 runs a JIT BatchNorm that splits each channel block's pixels between the threads
    and meets them at spin barriers: with 2 threads on a loaded 2-core AMD EPYC (Zen 4) it took 30 ms
    where one thread took 0.2 ms (128 x 128 x 32), and the 26-style network 2.6x onnxruntime's time
    against 1.07x this way (docs/stylize.md, "On an AMD EPYC (Zen 4)")."""
    def batch_norm(x, gamma, beta):
        return mx.sym.BatchNorm(x, gamma=gamma, beta=beta,
                                moving_mean=mx.sym.Variable(name + '_moving_mean'),
                                moving_var=mx.sym.Variable(name + '_moving_var'),
                                eps=eps, momentum=0.9, fix_gamma=False, use_global_stats=False, name=name)
    folded = mx.sym.reshape(data, shape=(1, -1, 0, 0))  # (N, C, H, W) -> (1, N*C, H, W), image by image
    if images == 1:
        return batch_norm(folded, gamma, beta)
    normalised = batch_norm(folded, mx.sym.tile(gamma, reps=(images,)), mx.sym.tile(beta, reps=(images,)))
    return mx.sym.reshape(normalised, shape=(images, -1, 0, 0))


# oneDNN's fast direct convolutions work on blocks of 16 output channels; with fewer than this many
# (the last layers' RGB) it falls back to a gemm convolution 2-3x slower than computing 16 channels
NARROW_OUTPUT = 4
OUTPUT_BLOCK = 16


def reflect_conv(data, name, num_filter, kernel, stride=1, no_bias=True, in_channels=None):
    """A conv after reflection padding of kernel // 2 on each side (as both networks were trained).
    Given in_channels, a conv of at most NARROW_OUTPUT filters runs as one of OUTPUT_BLOCK with the
    weight (and the bias) padded by zero filters, then keeps its first num_filter channels (the same
    sums); the parameters keep their names and shapes."""
    pad = kernel // 2
    padded = mx.sym.pad(data, mode='reflect', pad_width=(0, 0, 0, 0, pad, pad, pad, pad)) if pad else data
    shape = dict(kernel=(kernel, kernel), stride=(stride, stride), no_bias=no_bias)
    if in_channels is None or num_filter > NARROW_OUTPUT:
        return mx.sym.Convolution(padded, name=name, num_filter=num_filter, **shape)

    def widened(param, filter_shape):  # the trained filters, then zero ones up to OUTPUT_BLOCK
        trained = mx.sym.Variable('%s_%s' % (name, param), shape=(num_filter,) + filter_shape)
        return mx.sym.concat(trained, mx.sym.zeros((OUTPUT_BLOCK - num_filter,) + filter_shape), dim=0)
    bias = {} if no_bias else {'bias': widened('bias', ())}
    wide = mx.sym.Convolution(padded, weight=widened('weight', (in_channels, kernel, kernel)), name=name,
                              num_filter=OUTPUT_BLOCK, **bias, **shape)
    return mx.sym.slice_axis(wide, axis=1, begin=0, end=num_filter)


def upsample2(data):
    """Nearest-neighbour upsampling by 2 (ONNX Resize nearest, asymmetric, floor: each pixel twice)."""
    return mx.sym.UpSampling(data, scale=2, sample_type='nearest')


def bind(symbol, params, input_shapes, grad_req='null'):
    """An executor of SYMBOL for the given input shapes with PARAMS (name -> numpy array) copied in;
    the aux states (BatchNorm's moving averages, unused) get zeros and ones. grad_req: MXNet's
    ('null', or {argument: 'write'} for the arguments trained)."""
    # MXNet's default oneDNN subgraph pass, applied to executors that compute no gradient, folds every
    # conv + BatchNorm pair with the moving averages: that would replace the instance statistics (off
    # by up to 0.99 on a 0-1 scale, measured). An executor that writes its inputs' gradient keeps the
    # graph as it is (the generators bind so too), so the inputs' gradient is asked for, never computed.
    if grad_req == 'null':
        grad_req = {name: 'write' if name in input_shapes else 'null' for name in symbol.list_arguments()}
    executor = symbol.simple_bind(mx.cpu(), grad_req=grad_req, **input_shapes)
    for name, array in executor.arg_dict.items():
        if name in params:
            if array.shape != params[name].shape:
                raise ValueError('%s: the weights hold %s, the network wants %s'
                                 % (name, params[name].shape, array.shape))
            array[:] = params[name]
    for name, array in executor.aux_dict.items():
        array[:] = 1 if name.endswith('_var') else 0
    return executor


def pad_to_multiple(image, multiple):
    """(1, C, H, W) reflect-padded at the bottom and right up to multiples of MULTIPLE."""
    h, w = image.shape[2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h or pad_w:
        image = np.pad(image, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode='reflect')
    return image


def to_network(pixels):
    """(H, W, 3) 0-255 -> (1, 3, H, W) float32 in [0, 1]."""
    return (np.asarray(pixels, np.float32) / 255.0).transpose(2, 0, 1)[np.newaxis].copy()


def from_network(output, h, w):
    """(1, 3, H', W') in [0, 1] -> (h, w, 3) float32 0-255, cropped to the photo's size."""
    return output[0, :, :h, :w].transpose(1, 2, 0) * np.float32(255)


class Runner:
    """A symbol bound for one input shape at a time, rebound when the shape changes."""

    def __init__(self, symbol, params, input_name):
        self.symbol, self.params, self.input_name = symbol, params, input_name
        self.shape, self.executor = None, None

    def __call__(self, image, **inputs):
        if image.shape != self.shape:
            self.executor = bind(self.symbol, self.params, {self.input_name: image.shape})
            self.shape = image.shape
        self.executor.arg_dict[self.input_name][:] = image
        for name, value in inputs.items():
            self.executor.arg_dict[name][:] = value
        # is_train=True: the BatchNorms use the image's own statistics (instance normalisation)
        return self.executor.forward(is_train=True)[0].asnumpy()
