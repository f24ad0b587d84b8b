"""Instance normalisation of a batch of N images as one BatchNorm with the batch's statistics: the
batch folded into one image of N*C channels around it (generators.networks.instance_norm_of_images,
onepass.layers.instance_norm with images=N). Each image of the batch must come out as it does alone:
against an independent numpy instance normalisation of numpy's convolution, and against N runs of
one image. Random weights throughout."""
import numpy as np
import pytest

import mxnet as mx  # noqa: E402  (after conftest, which makes it importable)

from test_johnson_inference import numpy_conv, numpy_instance_norm, random_johnson_params

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
