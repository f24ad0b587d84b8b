"""Layer choice: --content-layers / --style-layers, a network only as deep as they need, and
the losses of weight 0 left out. The default graph is the original's (test_golden holds its run)."""
import ast

import mxnet as mx
import numpy as np
import pytest

import model_vgg19
import nstyle
from neural_style.errors import NstyleError
from neural_style.gatys.losses import get_loss, style_gram_symbol
from conftest import CONTENT, STYLE, assert_one_line_error, numpy_conv3x3_relu, numpy_gram  # noqa: F401

SIZE = (12, 10)


def test_default_symbol_is_the_originals():
    style, content = model_vgg19.get_symbol()
    assert style.list_outputs() == ['relu%s_output' % n for n in ('1_1', '2_1', '3_1', '4_1', '5_1')]
    assert content.list_outputs() == ['relu4_2_output']
    arguments = mx.sym.Group([style, content]).list_arguments()
    assert arguments[0] == 'data' and arguments[-2:] == ['conv5_1_weight', 'conv5_1_bias']
    assert len(arguments) == 1 + 2 * 13


def test_network_is_only_as_deep_as_the_deepest_chosen_layer():
    style, content = model_vgg19.get_symbol(['relu1_1'], ['relu2_1'])
    assert mx.sym.Group([style, content]).list_arguments() == [
        'data', 'conv1_1_weight', 'conv1_1_bias', 'conv1_2_weight', 'conv1_2_bias', 'conv2_1_weight', 'conv2_1_bias']
    style, content = model_vgg19.get_symbol(['relu1_1'], [])
    assert content is None and style.list_arguments() == ['data', 'conv1_1_weight', 'conv1_1_bias']
    assert model_vgg19.get_symbol([], ['relu3_1'])[0] is None
    assert [model_vgg19.min_input_side([name]) for name in ('relu1_2', 'relu2_1', 'relu4_2', 'relu5_1')] == [1, 2, 8, 16]
    assert model_vgg19.min_input_side(model_vgg19.STYLE_LAYERS + [model_vgg19.CONTENT_LAYER]) == 16
    with pytest.raises(ValueError, match='unknown layer relu6_1; the layers are relu1_1, relu1_2, .*relu5_1'):
        model_vgg19.get_symbol(['relu6_1'])


def test_shallow_choice_against_numpy(params, weight_arrays):
    """Style relu1_1, content relu1_1 and relu1_2: features, Gram loss and the summed content loss."""
    rng = np.random.RandomState(8)
    image, target_image = (rng.uniform(-100, 100, (1, 3) + SIZE).astype(np.float32) for _ in range(2))
    w = {name: weight_arrays['arg:' + name].astype(np.float64) for name in
         ('conv1_1_weight', 'conv1_1_bias', 'conv1_2_weight', 'conv1_2_bias')}

    def numpy_features(x):
        relu1_1 = numpy_conv3x3_relu(x[0].astype(np.float64), w['conv1_1_weight'], w['conv1_1_bias'])
        return relu1_1, numpy_conv3x3_relu(relu1_1, w['conv1_2_weight'], w['conv1_2_bias'])

    style, content = model_vgg19.get_symbol(['relu1_1'], ['relu1_1', 'relu1_2'])
    gram, gscale = style_gram_symbol(SIZE, style)
    features = model_vgg19.get_executor(gram, content, SIZE, mx.cpu(), params)
    features.data[:] = image
    features.executor.forward()
    relu1_1, relu1_2 = numpy_features(image)
    got_gram, got_relu1_1, got_relu1_2 = [x.asnumpy() for x in features.executor.outputs]
    np.testing.assert_allclose(got_gram, numpy_gram(relu1_1), rtol=1e-4)
    np.testing.assert_allclose(got_relu1_1[0], relu1_1, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got_relu1_2[0], relu1_2, rtol=1e-4, atol=1e-2)
    assert gscale == [64 * SIZE[0] * SIZE[1] * 64]

    style_loss, content_loss = get_loss(gram, content)
    losses = model_vgg19.get_executor(style_loss, content_loss, SIZE, mx.cpu(), params)
    target_relu1_1, target_relu1_2 = numpy_features(target_image)
    losses.arg_dict['target_gram_0'][:] = numpy_gram(target_relu1_1)
    losses.arg_dict['target_content'][:] = target_relu1_1[np.newaxis]
    losses.arg_dict['target_content_1'][:] = target_relu1_2[np.newaxis]
    losses.data[:] = image
    losses.executor.forward()
    assert len(losses.style) == 1
    assert losses.style[0].asscalar() == pytest.approx(np.sum((numpy_gram(target_relu1_1) - numpy_gram(relu1_1)) ** 2),
                                                       rel=1e-3)
    expected_content = np.sum((target_relu1_1 - relu1_1) ** 2) + np.sum((target_relu1_2 - relu1_2) ** 2)
    assert losses.content.asscalar() == pytest.approx(expected_content, rel=1e-4)


def record_executors(monkeypatch):
    """The (style, content) symbols each get_executor call of train_nstyle receives."""
    seen = []
    original = model_vgg19.get_executor

    def get_executor(style, content, *rest, **options):
        seen.append((style, content))
        return original(style, content, *rest, **options)

    monkeypatch.setattr(model_vgg19, 'get_executor', get_executor)
    return seen


def arguments(symbol):
    return symbol.list_arguments() if symbol is not None else []


@pytest.mark.parametrize('zero', ['--style-weight', '--content-weight'])
def test_a_loss_of_weight_0_is_not_built(tmp_path, vgg_params, monkeypatch, capsys, zero):
    seen = record_executors(monkeypatch)
    args = nstyle.get_args(['--gpu', '-1', '--max-long-edge', '32', '--max-num-epochs', '2', '--seed', '0',
                            '--content-image', CONTENT, '--style-image', STYLE, '--vgg-params', vgg_params,
                            '--output_dir', str(tmp_path), zero, '0'])
    nstyle.train_nstyle(args)
    head_gradients = [ast.literal_eval(line) for line in capsys.readouterr().out.splitlines() if line[:1] == '[']
    (target_style, target_content), (loss_style, loss_content) = seen
    if zero == '--style-weight':  # content reconstruction: up to relu4_2, no Gram, no style target
        assert head_gradients == [[10.0]]
        assert target_style is None and loss_style is None
        names = arguments(loss_content)
        assert 'conv4_2_weight' in names and 'conv4_3_weight' not in names
        assert 'target_content' in names and not any(name.startswith('target_gram') for name in names)
    else:  # texture synthesis: no content branch, no content target
        assert len(head_gradients[0]) == 5 and 10.0 not in head_gradients[0]
        assert target_content is None and loss_content is None
        names = arguments(loss_style)
        assert 'target_gram_4' in names and 'conv5_1_weight' in names
        assert not any(name.startswith('target_content') for name in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['final.jpg']


def test_shallow_layers_run_on_images_too_small_for_relu5_1(tmp_path, vgg_params):
    # 12x8 after resizing: the default layers refuse it (16), relu2_1 and relu3_1 need only 4
    flags = ['--gpu', '-1', '--max-long-edge', '12', '--max-num-epochs', '2', '--content-image', CONTENT,
             '--style-image', STYLE, '--vgg-params', vgg_params, '--output_dir', str(tmp_path)]
    with pytest.raises(NstyleError, match='resized to 12x8 .* at least 16 pixels on each side'):
        nstyle.train_nstyle(nstyle.get_args(flags))
    nstyle.train_nstyle(nstyle.get_args(flags + ['--content-layers', 'relu2_1', '--style-layers', 'relu1_1,relu3_1']))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['final.jpg']
    with pytest.raises(NstyleError, match='resized to 3x2 .* at least 4 pixels on each side'):
        nstyle.train_nstyle(nstyle.get_args(flags + ['--max-long-edge', '3', '--content-layers', 'relu2_1',
                                                     '--style-layers', 'relu1_1,relu3_1', '--overwrite']))


@pytest.mark.parametrize('flags,code,message', [
    (['--style-layers', 'relu1_1,relu6_1'], 1,
     'nstyle.py: error: --style-layers: unknown layer relu6_1; the layers are relu1_1, relu1_2, relu2_1'),
    (['--content-layers', 'relu4_2,'], 2, "nstyle.py: error: argument --content-layers: expected comma-separated"),
])
def test_bad_layer_names_get_one_line(tmp_path, run_tool, flags, code, message):
    out = tmp_path / 'out'
    proc = run_tool(nstyle.main, ['--gpu', '-1', '--output_dir', out] + flags)
    assert assert_one_line_error(proc, code=code).startswith(message)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()


def test_more_bad_layer_names():
    args = nstyle.get_args(['--content-layers', 'conv4_2'])
    with pytest.raises(NstyleError, match='^--content-layers: unknown layer conv4_2; the layers are relu1_1'):
        nstyle.train_nstyle(args)
    for bad in ('relu1_1,relu1_1', '', 'relu1_1,,relu2_1'):
        with pytest.raises(SystemExit):
            nstyle.get_args(['--style-layers', bad])
