"""Johnson's network at inference: the stylizer's BatchNorm stand-ins for InstanceNorm
(generators.instance_norm_of_one_image, run in training mode for oneDNN's speed) give what instance
normalisation gives: against numpy after a convolution, and against MXNet's own InstanceNorm network
through the whole stylizer; and for a batch of N images, the batch folded to (1, N*C, H, W) around
the BatchNorm (generators.networks.instance_norm_of_images, onepass.layers.instance_norm with
images=N), each image as it comes out alone. Random weights throughout (never trained ones)."""
import numpy as np
import pytest

import mxnet as mx  # noqa: E402  (after conftest, which makes it importable)


def numpy_instance_norm(x, gamma, beta, eps=1e-3):
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma[None, :, None, None] + beta[None, :, None, None]


def numpy_conv(x, weight, bias):
    """Valid 2-D convolution of (1, cin, h, w) by (cout, cin, k, k), float64."""
    from numpy.lib.stride_tricks import sliding_window_view
    k = weight.shape[2]
    windows = sliding_window_view(x[0], (k, k), axis=(1, 2))  # (cin, h', w', k, k)
    return np.einsum('chwij,ocij->ohw', windows, weight)[np.newaxis] + bias[None, :, None, None]


def test_one_image_norm_after_a_convolution_is_instance_norm():
    """After a oneDNN convolution (whose output has oneDNN's blocked layout), bound as the stylizer
    binds (the input's gradient kept) and run in training mode: numpy's instance normalisation of
    numpy's convolution. With the mean far from zero, the moving statistics would be far off."""
    from neural_style.generators.networks import instance_norm_of_one_image
    rng = np.random.RandomState(0)
    channels, side = 32, 20
    x = rng.normal(50, 20, (1, 3, side, side))
    weight, bias = rng.normal(0, 0.2, (channels, 3, 3, 3)), rng.normal(0, 1, channels)
    gamma, beta = rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.5, channels)
    symbol = instance_norm_of_one_image(mx.sym.Convolution(mx.sym.Variable('data'), name='c', num_filter=channels,
                                                           kernel=(3, 3)), 'c_in')
    args = {'data': x, 'c_weight': weight, 'c_bias': bias, 'c_in_gamma': gamma, 'c_in_beta': beta}
    executor = symbol.bind(mx.cpu(), args={name: mx.nd.array(value) for name, value in args.items()},
                           args_grad={'data': mx.nd.zeros(x.shape)},
                           grad_req={name: 'write' if name == 'data' else 'null' for name in args},
                           aux_states={'c_in_moving_mean': mx.nd.zeros(channels),
                                       'c_in_moving_var': mx.nd.ones(channels)})
    ours = executor.forward(is_train=True)[0].asnumpy()
    expected = numpy_instance_norm(numpy_conv(x, weight, bias), gamma, beta)
    np.testing.assert_allclose(ours, expected, atol=2e-4 * np.abs(expected).max())


def random_johnson_params(size, seed=0):
    """(arg_params, aux_params) of Johnson's network as a checkpoint holds them: no aux arrays."""
    from neural_style.generators import networks as generators
    symbol = generators.johnson()
    rng = np.random.RandomState(seed)
    arg_params = {}
    for name, shape in zip(symbol.list_arguments(), symbol.infer_shape(data=(1, 3) + size)[0]):
        if name == 'data':
            continue
        value = (rng.uniform(0.5, 1.5, shape) if name.endswith('_gamma') else
                 rng.normal(0, 0.3, shape) if name.endswith('_beta') else rng.normal(0, 0.1, shape))
        arg_params[name] = mx.nd.array(value)
    return arg_params, {}


def test_the_stylizer_runs_johnsons_network_with_instance_norm():
    """The stylizer's output, image after image (its moving statistics change in training mode and
    must not matter), against Johnson's network with MXNet's InstanceNorm, bound plainly for inference."""
    from neural_style.generators import networks as generators
    from neural_style.files.images import to_network_input
    from neural_style.generators.inference import bind_stylizer
    from skimage import img_as_float
    size = (24, 32)
    params = random_johnson_params(size)
    stylizer = bind_stylizer('johnson', params, size, mx.cpu())
    reference = generators.johnson()
    args = dict(params[0], data=mx.nd.zeros((1, 3) + size))
    executor = reference.bind(mx.cpu(), args=args, grad_req='null')
    for seed in (1, 2, 3):
        pixels = np.random.RandomState(seed).uniform(0, 255, size + (3,)).astype(np.uint8)
        network_image = to_network_input(img_as_float(pixels))
        ours = stylizer.forward(network_image)[0].asnumpy()
        executor.arg_dict['data'][:] = network_image
        expected = executor.forward(is_train=False)[0].asnumpy()
        assert np.abs(expected).max() > 1  # not a degenerate network
        np.testing.assert_allclose(ours, expected, atol=1e-4 * np.abs(expected).max())


# ---------------------------------------------------------------- a batch of N images

IMAGES, CHANNELS, SIDE = 3, 16, 12


def conv_then(norm, images):
    """A 3x3 convolution of CHANNELS filters, then norm(conv, images): (symbol, numpy arguments, the
    numpy reference of every image)."""
    rng = np.random.RandomState(images)
    x = rng.normal(40, 20, (images, 3, SIDE, SIDE))  # a mean far from zero: moving statistics would be far off
    weight, bias = rng.normal(0, 0.2, (CHANNELS, 3, 3, 3)), rng.normal(0, 1, CHANNELS)
    gamma, beta = rng.uniform(0.5, 1.5, CHANNELS), rng.normal(0, 0.5, CHANNELS)
    conv = mx.sym.Convolution(mx.sym.Variable('data'), name='c', num_filter=CHANNELS, kernel=(3, 3))
    args = {'data': x, 'c_weight': weight, 'c_bias': bias, 'n_gamma': gamma, 'n_beta': beta}
    return norm(conv, images), args, gamma, beta


def run(symbol, args):
    """Bound as the stylizers bind (the input's gradient asked for), forward in training mode."""
    shapes = {name: value.shape for name, value in args.items()}
    executor = symbol.simple_bind(mx.cpu(), grad_req={name: 'write' if name == 'data' else 'null'
                                                      for name in symbol.list_arguments()}, **shapes)
    for name, value in args.items():
        executor.arg_dict[name][:] = value
    for name, array in executor.aux_dict.items():
        array[:] = 1 if name.endswith('_var') else 0
    return executor.forward(is_train=True)[0].asnumpy()


def generators_norm(conv, images):
    from neural_style.generators.networks import instance_norm_of_images
    return instance_norm_of_images(conv, 'n', CHANNELS, images)


def onepass_norm(conv, images, eps=1e-3):
    from neural_style.onepass.layers import instance_norm
    return instance_norm(conv, mx.sym.Variable('n_gamma'), mx.sym.Variable('n_beta'), 'n', eps=eps, images=images)


@pytest.mark.parametrize('norm', [generators_norm, onepass_norm], ids=['generators', 'onepass'])
def test_a_batch_is_normalised_image_by_image(norm):
    symbol, args, gamma, beta = conv_then(norm, IMAGES)
    ours = run(symbol, args)
    assert ours.shape == (IMAGES, CHANNELS, SIDE - 2, SIDE - 2)
    for k in range(IMAGES):
        expected = numpy_instance_norm(numpy_conv(args['data'][k:k + 1], args['c_weight'], args['c_bias']), gamma, beta)
        np.testing.assert_allclose(ours[k:k + 1], expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        # and as that image alone through the one-image graph
        single_symbol, _, _, _ = conv_then(norm, 1)
        alone = run(single_symbol, dict(args, data=args['data'][k:k + 1]))
        np.testing.assert_allclose(ours[k:k + 1], alone, rtol=1e-4, atol=1e-4 * np.abs(alone).max())


def test_johnsons_network_on_a_batch_is_its_images_one_by_one():
    from neural_style.generators import networks as generators
    size, images = (16, 24), 2
    arg_params, _ = random_johnson_params(size)
    frames = np.random.RandomState(5).uniform(-100, 100, (images, 3) + size)
    params = {name: value.asnumpy() for name, value in arg_params.items()}
    batch = run(generators.johnson(one_image=True, images=images), dict(params, data=frames))
    for k in range(images):
        alone = run(generators.johnson(one_image=True), dict(params, data=frames[k:k + 1]))
        np.testing.assert_allclose(batch[k:k + 1], alone, rtol=1e-4, atol=1e-4 * np.abs(alone).max())
