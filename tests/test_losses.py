"""The Gram matrices, losses, input gradient and TV gradient against independent numpy."""
import mxnet as mx
import numpy as np
import pytest

import model_vgg19
from neural_style.gatys.losses import get_loss, get_tv_grad_executor, style_gram_symbol
from conftest import numpy_conv3x3_relu, numpy_laplacian

SIZE = (24, 32)  # the smallest sizes keep relu5_1 at least 1x2


def features(params, image):
    """The style and content ReLU outputs of VGG-19 for one (1, 3, h, w) image, as numpy."""
    model = model_vgg19.get_executor(*model_vgg19.get_symbol(), image.shape[2:], mx.cpu(), params)
    model.data[:] = image
    model.executor.forward()
    return [x.asnumpy() for x in model.style], model.content.asnumpy()


def numpy_grams(style_features):
    return [f.reshape(f.shape[1], -1) @ f.reshape(f.shape[1], -1).T for f in style_features]


@pytest.fixture(scope='module')
def image():
    return np.random.RandomState(3).uniform(-100, 100, (1, 3) + SIZE).astype(np.float32)


def test_feature_shapes_follow_four_average_poolings(params, image):
    style, content = features(params, image)
    h, w = SIZE
    assert [f.shape for f in style] == [(1, 64, h, w), (1, 128, h // 2, w // 2), (1, 256, h // 4, w // 4),
                                        (1, 512, h // 8, w // 8), (1, 512, h // 16, w // 16)]
    assert content.shape == (1, 512, h // 8, w // 8)


def test_first_layer_is_conv_relu_with_the_files_weights(params, image, weight_arrays):
    style, _ = features(params, image)
    expected = numpy_conv3x3_relu(image[0].astype(np.float64), weight_arrays['arg:conv1_1_weight'].astype(np.float64),
                                  weight_arrays['arg:conv1_1_bias'].astype(np.float64))
    np.testing.assert_allclose(style[0][0], expected, rtol=1e-4, atol=1e-3)


def test_fully_connected_gram_is_x_times_x_transposed_and_gscale(params, image):
    style, content = model_vgg19.get_symbol()
    gram, gscale = style_gram_symbol(SIZE, style)
    executor = model_vgg19.get_executor(gram, content, SIZE, mx.cpu(), params)
    executor.data[:] = image
    executor.executor.forward()
    style_features, _ = features(params, image)
    for got, expected in zip(executor.style, numpy_grams(style_features)):
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    h, w = SIZE
    assert gscale == [64 * h * w * 64, 128 * (h // 2) * (w // 2) * 128, 256 * (h // 4) * (w // 4) * 256,
                      512 * (h // 8) * (w // 8) * 512, 512 * (h // 16) * (w // 16) * 512]


def loss_executor(params, targets_from):
    """The training loss executor with targets taken from another image's features."""
    style, content = model_vgg19.get_symbol()
    gram, gscale = style_gram_symbol(SIZE, style)
    style_loss, content_loss = get_loss(gram, content)
    executor = model_vgg19.get_executor(style_loss, content_loss, SIZE, mx.cpu(), params)
    target_style, target_content = features(params, targets_from)
    target_grams = numpy_grams(target_style)
    for i, target in enumerate(target_grams):
        executor.arg_dict['target_gram_%d' % i][:] = target
    executor.arg_dict['target_content'][:] = target_content
    return executor, gscale, target_grams, target_content


def test_losses_against_numpy(params, image):
    target_image = np.random.RandomState(4).uniform(-100, 100, image.shape).astype(np.float32)
    executor, _, target_grams, target_content = loss_executor(params, target_image)
    executor.data[:] = image
    executor.executor.forward()
    style_features, content_features = features(params, image)
    for got, gram, target in zip(executor.style, numpy_grams(style_features), target_grams):
        expected = np.sum((target.astype(np.float64) - gram) ** 2)
        assert got.asscalar() == pytest.approx(expected, rel=1e-3)
    expected_content = np.sum((target_content.astype(np.float64) - content_features) ** 2)
    assert executor.content.asscalar() == pytest.approx(expected_content, rel=1e-4)
    assert expected_content > 0


def test_input_gradient_matches_finite_differences(params, image):
    target_image = np.random.RandomState(5).uniform(-100, 100, image.shape).astype(np.float32)
    executor, gscale, _, _ = loss_executor(params, target_image)
    weights = [1.0 / s for s in gscale] + [10.0]  # the training head gradients (style 1, content 10)

    def total_loss(x):
        executor.data[:] = x
        executor.executor.forward()
        return sum(w * out.asnumpy().astype(np.float64)[0] for w, out in zip(weights, executor.executor.outputs))

    executor.data[:] = image
    executor.executor.forward()
    executor.executor.backward([mx.nd.array([w]) for w in weights])
    gradient = executor.data_grad.asnumpy().astype(np.float64)
    rng = np.random.RandomState(6)
    for _ in range(3):
        direction = rng.normal(size=image.shape)
        direction /= np.linalg.norm(direction)
        step = 0.5
        numeric = (total_loss(image + step * direction) - total_loss(image - step * direction)) / (2 * step)
        assert np.sum(gradient * direction) == pytest.approx(numeric, rel=2e-2)
    # and one pixel at a time, where the gradient is largest
    index = np.unravel_index(np.argmax(np.abs(gradient)), image.shape)
    bump = np.zeros(image.shape)
    bump[index] = 0.5
    numeric = (total_loss(image + bump) - total_loss(image - bump)) / 1.0
    assert gradient[index] == pytest.approx(numeric, rel=2e-2)


def test_tv_executor_is_the_laplacian_and_follows_the_image():
    rng = np.random.RandomState(7)
    img = mx.nd.array(rng.uniform(-50, 50, (1, 3, 9, 13)))
    executor = get_tv_grad_executor(img, mx.cpu(), 0.01)
    executor.forward()
    np.testing.assert_allclose(executor.outputs[0].asnumpy(), 0.01 * numpy_laplacian(img.asnumpy()),
                               rtol=1e-5, atol=1e-6)
    # bound on img itself: an update of img in place is seen by the next forward
    img[:] = rng.uniform(-50, 50, img.shape)
    executor.forward()
    np.testing.assert_allclose(executor.outputs[0].asnumpy(), 0.01 * numpy_laplacian(img.asnumpy()),
                               rtol=1e-5, atol=1e-6)
    assert get_tv_grad_executor(img, mx.cpu(), 0.0) is None
    assert get_tv_grad_executor(img, mx.cpu(), -1.0) is None


def test_weights_beyond_conv5_1_are_not_kept(tmp_path):
    """The published file holds conv5_2 to conv5_4 too (28 MB no run uses): they are read, not
    kept; the arrays kept are the file's own values."""
    from weights import random_vgg19_arrays, save_params
    arrays = random_vgg19_arrays()
    rng = np.random.RandomState(1)
    for name in ('conv5_2', 'conv5_3', 'conv5_4'):
        arrays['arg:%s_weight' % name] = rng.normal(0, 0.01, (512, 512, 3, 3)).astype('float32')
        arrays['arg:%s_bias' % name] = np.zeros(512, 'float32')
    path = str(tmp_path / 'vgg19.params')
    save_params(path, arrays)
    params = model_vgg19.load_params(path)
    assert sorted(params) == sorted(key[len('arg:'):] for key in random_vgg19_arrays())
    for name, value in params.items():
        np.testing.assert_array_equal(value.asnumpy(), arrays['arg:' + name])
