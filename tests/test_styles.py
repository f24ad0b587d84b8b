"""The style options: several style images blended (--style-image a,b with --style-blend-weights),
--style-scale, --original-colors and --pooling. Each is off by default, and the default run is
the original's (test_golden holds it); here runs with an option at its neutral value are
compared byte for byte with it."""
import io as bytes_io
import json
import os

import mxnet as mx
import numpy as np
import pytest
from PIL import Image
from skimage import color, io

import model_vgg19
import nstyle
from neural_style.errors import NstyleError
from neural_style.files import images
from neural_style.gatys import loss as loss_setup
from neural_style.gatys.losses import style_gram_symbol
from neural_style.gatys.run import read_pictures
from conftest import CONTENT, STYLE, assert_clean_failure, base_args, numpy_conv3x3_relu, numpy_gram

RUN = ['--gpu', '-1', '--max-long-edge', '64', '--seed', '0', '--max-num-epochs', '4', '--save-epochs', '2',
       '--stop-eps', '0', '--content-image', CONTENT]
RESULT_SIZE = (42, 64)  # 1000x1500 content, long edge 64
TARGET_SIZE = (64, 96)  # for the targets computed directly


@pytest.fixture(scope='module')
def second_style(tmp_path_factory):
    """A second style image, unlike the first: diagonal colour stripes."""
    y, x = np.mgrid[:60, :80]
    stripes = np.zeros((60, 80, 3), np.uint8)
    stripes[..., 0] = np.where((x + y) // 6 % 2, 230, 20)
    stripes[..., 1] = np.where((x - y) // 9 % 2, 180, 60)
    stripes[..., 2] = (x * 3) % 256
    path = tmp_path_factory.mktemp('styles') / 'stripes.png'
    Image.fromarray(stripes).save(path)
    return str(path)


def train(out_dir, vgg_params, *flags):
    """A small seeded run: (the callback's data per epoch, {file name: bytes} of what it wrote)."""
    calls = []
    args = nstyle.get_args(RUN + ['--vgg-params', vgg_params, '--output_dir', str(out_dir)] + list(flags))
    nstyle.train_nstyle(args, callback=calls.append)
    return calls, {name: (out_dir / name).read_bytes() for name in sorted(os.listdir(out_dir))}


@pytest.fixture(scope='module')
def default_run(tmp_path_factory, vgg_params):
    return train(tmp_path_factory.mktemp('default'), vgg_params, '--style-image', STYLE)


def assert_same_run(run, reference):
    calls, files = run
    reference_calls, reference_files = reference
    assert [c['eps'] for c in calls] == [c['eps'] for c in reference_calls]
    assert len(calls) == 4 and sorted(files) == ['e_2.jpg', 'e_4.jpg', 'final.jpg']
    for call, reference_call in zip(calls, reference_calls):
        assert np.array_equal(call.get('img'), reference_call.get('img'))
    assert files == reference_files


def targets(params, style_images, blend, style_size=TARGET_SIZE, size=TARGET_SIZE):
    """The Gram targets compute_targets builds for a result of `size` from these style images
    (paths), stretched to `style_size`."""
    style, _ = model_vgg19.get_symbol()
    gram, _ = style_gram_symbol(size, style)
    style_nps = [images.PreprocessStyleImage(path, (1, 3) + tuple(style_size)) for path in style_images]
    net = loss_setup.Vgg(model_vgg19, params, mx.cpu(), "float32", None)
    inputs = loss_setup.StageInputs(np.zeros((1, 3) + tuple(size)), style_nps, blend)
    grams, contents = loss_setup.compute_targets(net, (style, gram, None), inputs)
    assert contents == []
    return [g.asnumpy() for g in grams]


# ---------------------------------------------------------------- several style images

def test_style_image_paths_split_on_commas_unless_the_path_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'a,b.png').write_bytes(b'')
    assert images.style_image_paths('a,b.png') == ['a,b.png']  # one image with a comma in its name
    assert images.style_image_paths('a.png,b.png') == ['a.png', 'b.png']
    assert images.style_image_paths('a.png, b.png') == ['a.png', 'b.png']
    assert images.style_image_paths('x.png') == ['x.png']
    with pytest.raises(NstyleError, match='^--style-image a.png,,b.png: an empty name'):
        images.style_image_paths('a.png,,b.png')


def test_blend_weights_are_normalised_to_sum_1():
    assert images.style_blend(['a'], None) == [1.0]
    assert images.style_blend(['a', 'b', 'c'], None) == [1 / 3] * 3
    assert images.style_blend(['a', 'b'], [3, 7]) == pytest.approx([0.3, 0.7], rel=1e-15)
    assert images.style_blend(['a', 'b'], [1, 0]) == [1.0, 0.0]
    assert images.style_blend(['a', 'b'], [1e308, 1e308]) == [0.5, 0.5]  # no overflow to inf
    with pytest.raises(NstyleError, match='^--style-blend-weights has 3 weights for 2 style images'):
        images.style_blend(['a', 'b'], [1, 2, 3])
    assert nstyle.get_args(['--style-blend-weights', '3,7']).style_blend_weights == (3.0, 7.0)  # frozen settings: a tuple


def test_blended_targets_are_the_weighted_sums_of_the_single_ones(params, second_style):
    first = targets(params, [STYLE], [1.0])
    second = targets(params, [second_style], [1.0])
    even = targets(params, [STYLE, second_style], images.style_blend([STYLE, second_style], [1, 1]))
    three_seven = targets(params, [STYLE, second_style], images.style_blend([STYLE, second_style], [3, 7]))
    assert len(even) == len(three_seven) == 5
    for a, b, got_even, got_three_seven in zip(first, second, even, three_seven):
        assert np.abs(a - b).max() > 0.1 * np.abs(a).max()  # two different styles
        np.testing.assert_array_equal(got_even, (a + b) / 2)  # halves are exact in float32: no rounding apart
        np.testing.assert_allclose(got_three_seven, 0.3 * a + 0.7 * b, rtol=1e-5, atol=1e-6 * np.abs(a).max())
    # and against numpy: the Gram of one image's features
    features = model_vgg19.get_executor(*model_vgg19.get_symbol(), TARGET_SIZE, mx.cpu(), params)
    features.data[:] = images.PreprocessStyleImage(second_style, (1, 3) + TARGET_SIZE)
    features.executor.forward()
    for got, feature in zip(second, features.style):
        expected = numpy_gram(feature.asnumpy()[0].astype(np.float64))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_weights_1_0_give_exactly_the_single_style_run(tmp_path, vgg_params, second_style, default_run):
    run = train(tmp_path, vgg_params, '--style-image', '%s,%s' % (STYLE, second_style), '--style-blend-weights', '1,0')
    assert_same_run(run, default_run)
    # while an even blend is another run
    even = train(tmp_path / 'even', vgg_params, '--style-image', '%s,%s' % (STYLE, second_style))
    assert [c['eps'] for c in even[0]] != [c['eps'] for c in default_run[0]]


def test_the_run_fills_in_the_blended_targets(tmp_path, vgg_params, params, second_style):
    args = nstyle.get_args(RUN + ['--vgg-params', vgg_params, '--output_dir', str(tmp_path), '--style-image',
                                  '%s,%s' % (STYLE, second_style), '--style-blend-weights', '3,7'])
    content_np, style_nps, blend = inputs = loss_setup.stage_inputs(args, model_vgg19, args.max_long_edge, '--max-long-edge',
                                                                    read_pictures(args))
    assert [s.shape for s in style_nps] == [content_np.shape] * 2 and blend == pytest.approx([0.3, 0.7])
    loss = loss_setup.build_loss(args, loss_setup.Vgg(model_vgg19, params, mx.cpu(), "float32", None), inputs)
    first, second = (targets(params, [path], [1.0], RESULT_SIZE, RESULT_SIZE) for path in (STYLE, second_style))
    for i, (a, b) in enumerate(zip(first, second)):
        np.testing.assert_allclose(loss.executor.arg_dict['target_gram_%d' % i].asnumpy(), 0.3 * a + 0.7 * b,
                                   rtol=1e-5, atol=1e-6 * np.abs(a).max())


# ---------------------------------------------------------------- --style-scale

def test_style_size_is_scale_times_the_contents():
    assert images.style_image_size((64, 96), 0.5, 16) == (32, 48)
    assert images.style_image_size((42, 64), 2.0, 16) == (84, 128)
    assert images.style_image_size((100, 100), 0.29, 16) == (29, 29)  # rounded, not 28 from 28.999...
    assert images.style_image_size((42, 64), 1.0, 16) == (42, 64)
    with pytest.raises(NstyleError, match=r'^--style-scale 0.3: the style image would be 19x13, too small: '
                                                 r'.* at least 16 pixels on each side; raise --style-scale'):
        images.style_image_size((42, 64), 0.3, 16)


def test_half_scale_targets_are_the_half_size_grams_times_the_positions_ratio(params, tmp_path):
    flat = tmp_path / 'flat.png'
    Image.fromarray(np.tile(np.array([200, 40, 90], np.uint8), (50, 70, 1))).save(flat)
    half_size = (TARGET_SIZE[0] // 2, TARGET_SIZE[1] // 2)
    full = targets(params, [str(flat)], [1.0])
    half = targets(params, [str(flat)], [1.0], style_size=half_size)
    # against numpy: the Gram of the half-size image's features, times 4 (a quarter of the positions
    # at every layer: 32x48 against 64x96, ... 2x3 against 4x6 at relu5_1)
    features = model_vgg19.get_executor(*model_vgg19.get_symbol(), half_size, mx.cpu(), params)
    features.data[:] = images.PreprocessStyleImage(str(flat), (1, 3) + half_size)
    features.executor.forward()
    for got, feature in zip(half, features.style):
        expected = 4 * numpy_gram(feature.asnumpy()[0].astype(np.float64))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    # A flat colour has the same statistics at any size, but for the zero padding at the borders: so
    # the scaled Grams match the full-size ones where the borders are a small part (measured: within
    # 2.1% and 6.2% at relu1_1 and relu2_1), where unscaled they would be a quarter of them.
    for layer, tolerance in ((0, 0.03), (1, 0.07)):
        assert half[layer].sum() / full[layer].sum() == pytest.approx(1, abs=tolerance)


def record_executor_sizes(monkeypatch):
    sizes = []
    original = model_vgg19.get_executor

    def get_executor(style, content, input_size, *rest, **options):
        sizes.append(tuple(input_size))
        return original(style, content, input_size, *rest, **options)

    monkeypatch.setattr(model_vgg19, 'get_executor', get_executor)
    return sizes


def test_half_scale_run_takes_the_grams_on_a_half_size_style_image(tmp_path, vgg_params, monkeypatch, default_run):
    sizes = record_executor_sizes(monkeypatch)
    resized = []
    original_resize = images.transform.resize

    def resize(img, size, *rest, **kwargs):
        resized.append(tuple(size))
        return original_resize(img, size, *rest, **kwargs)

    monkeypatch.setattr(images.transform, 'resize', resize)
    run = train(tmp_path, vgg_params, '--style-image', STYLE, '--style-scale', '0.5')
    assert resized == [RESULT_SIZE, (21, 32)]  # the content, then the style at half its size
    assert sizes == [RESULT_SIZE, (21, 32), RESULT_SIZE]  # targets: content's, style's; then the loss
    assert [c['eps'] for c in run[0]] != [c['eps'] for c in default_run[0]]


def test_scale_1_is_the_default_run(tmp_path, vgg_params, monkeypatch, default_run):
    sizes = record_executor_sizes(monkeypatch)
    run = train(tmp_path, vgg_params, '--style-image', STYLE, '--style-scale', '1')
    assert sizes == [RESULT_SIZE, RESULT_SIZE]  # no executor for another size
    assert_same_run(run, default_run)


# ---------------------------------------------------------------- --original-colors

def test_original_colors_takes_luminance_of_the_result_and_chroma_of_the_content():
    rng = np.random.RandomState(11)
    result = rng.randint(0, 256, (30, 40, 3)).astype(np.uint8)
    content = rng.randint(0, 256, (30, 40, 3)).astype(np.uint8)
    out = images.original_colors(result, content)
    assert out.dtype == np.uint8 and out.shape == (30, 40, 3)
    wanted = np.concatenate([color.rgb2yiq(result)[..., :1], color.rgb2yiq(content)[..., 1:]], axis=2)
    in_rgb = np.all((color.yiq2rgb(wanted) >= 0) & (color.yiq2rgb(wanted) <= 1), axis=2)
    assert in_rgb.mean() > 0.6  # measured 68%; the others are clipped into RGB
    # where the colour exists in RGB, only rounding to 8 bits (half a step per channel) moves it:
    # at most 0.5/255 times the largest sum of absolute YIQ coefficients (1.192, for I)
    error = np.abs(color.rgb2yiq(out) - wanted)[in_rgb]
    assert error.max() <= 1.192 * 0.5 / 255 + 1e-12
    assert np.abs(color.rgb2yiq(result) - wanted)[in_rgb][:, 1:].mean() > 50 * error.max()  # far apart before


def decode(jpeg_bytes):
    return np.asarray(Image.open(bytes_io.BytesIO(jpeg_bytes)).convert('RGB'))


def block_means(channel, block=8):
    """Means over 8x8 blocks: what JPEG's subsampled, quantised chroma keeps."""
    h, w = channel.shape[0] // block * block, channel.shape[1] // block * block
    return channel[:h, :w].reshape(h // block, block, w // block, block, -1).mean(axis=(1, 3))


def test_written_images_keep_the_contents_colours(tmp_path, vgg_params, default_run):
    calls, files = train(tmp_path, vgg_params, '--style-image', STYLE, '--original-colors')
    # the optimisation and the callback's images are those of the run without the option
    assert [c['eps'] for c in calls] == [c['eps'] for c in default_run[0]]
    assert all(np.array_equal(c.get('img'), d.get('img')) for c, d in zip(calls, default_run[0]))
    assert files['final.jpg'] != default_run[1]['final.jpg']

    content = images.PostprocessImage(images.PreprocessContentImage(CONTENT, 64))
    result = images.PostprocessImage(calls[-1]['img'])  # final.jpg is the last image, not denoised
    # what is written is the recoloured image, through the same JPEG encoder
    io.imsave(str(tmp_path / 'expected.jpg'), images.original_colors(result, content), check_contrast=False)
    assert files['final.jpg'] == (tmp_path / 'expected.jpg').read_bytes()

    # and in the files (checkpoints denoised first): the content's chroma, measured over 8x8 blocks
    # 0.0087 off at most (0.032 on average without the option), and the luminance of the image
    # without the option (0.0012 off on average; 0.0021 from the unencoded result)
    for written, plain in ((files['final.jpg'], default_run[1]['final.jpg']),
                           (files['e_4.jpg'], default_run[1]['e_4.jpg'])):
        yiq, plain_yiq = color.rgb2yiq(decode(written)), color.rgb2yiq(decode(plain))
        chroma_error = np.abs(block_means(yiq[..., 1:] - color.rgb2yiq(content)[..., 1:]))
        plain_chroma_error = np.abs(block_means(plain_yiq[..., 1:] - color.rgb2yiq(content)[..., 1:]))
        assert chroma_error.max() < 0.015 and plain_chroma_error.mean() > 0.02
        assert np.abs(yiq[..., 0] - plain_yiq[..., 0]).mean() < 0.005
    assert np.abs(color.rgb2yiq(decode(files['final.jpg']))[..., 0] - color.rgb2yiq(result)[..., 0]).mean() < 0.005


# ---------------------------------------------------------------- --pooling

def pooling_types(symbol):
    return [node['attrs']['pool_type'] for node in json.loads(symbol.tojson())['nodes'] if node['op'] == 'Pooling']


def test_pooling_is_average_by_default_and_max_when_asked():
    assert pooling_types(mx.sym.Group(list(model_vgg19.get_symbol()))) == ['avg'] * 4
    assert pooling_types(mx.sym.Group(list(model_vgg19.get_symbol(pooling='avg')))) == ['avg'] * 4
    assert pooling_types(mx.sym.Group(list(model_vgg19.get_symbol(pooling='max')))) == ['max'] * 4
    with pytest.raises(ValueError, match="unknown pooling 'min'; choose one of avg, max"):
        model_vgg19.get_symbol(pooling='min')
    assert nstyle.get_args([]).pooling == 'avg'


def numpy_pool(x, kind):
    """(C, h, w) -> (C, h//2, w//2): 2x2 windows, stride 2."""
    c, h, w = x.shape
    windows = x[:, :h // 2 * 2, :w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2)
    return windows.max(axis=(2, 4)) if kind == 'max' else windows.mean(axis=(2, 4))


@pytest.mark.parametrize('pooling', ['avg', 'max'])
def test_relu2_1_is_conv_relu_of_the_pooled_relu1_2(params, weight_arrays, pooling):
    image = np.random.RandomState(12).uniform(-100, 100, (1, 3, 13, 18)).astype(np.float32)
    features = {}
    for kind in ('avg', 'max'):
        style, _ = model_vgg19.get_symbol(['relu1_2', 'relu2_1'], [], pooling=kind)
        executor = model_vgg19.get_executor(style, None, image.shape[2:], mx.cpu(), params)
        executor.data[:] = image
        executor.executor.forward()
        features[kind] = [x.asnumpy()[0].astype(np.float64) for x in executor.style]
    relu1_2, relu2_1 = features[pooling]
    assert relu2_1.shape == (128, 6, 9)
    expected = numpy_conv3x3_relu(numpy_pool(relu1_2, pooling), weight_arrays['arg:conv2_1_weight'].astype(np.float64),
                                  weight_arrays['arg:conv2_1_bias'].astype(np.float64))
    np.testing.assert_allclose(relu2_1, expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(features['avg'][0], features['max'][0])  # before the first pooling
    assert np.abs(features['avg'][1] - features['max'][1]).mean() > 0.1 * np.abs(features['avg'][1]).mean()


def test_pooling_max_run_builds_max_pooling_graphs(tmp_path, vgg_params, monkeypatch, default_run):
    graphs = []
    original = model_vgg19.get_executor

    def get_executor(style, content, *rest, **options):
        graphs.append(pooling_types(mx.sym.Group([s for s in (style, content) if s is not None])))
        return original(style, content, *rest, **options)

    monkeypatch.setattr(model_vgg19, 'get_executor', get_executor)
    run = train(tmp_path, vgg_params, '--style-image', STYLE, '--pooling', 'max')
    assert graphs == [['max'] * 4, ['max'] * 4]  # the targets' and the loss's
    assert [c['eps'] for c in run[0]] != [c['eps'] for c in default_run[0]]


# ---------------------------------------------------------------- bad inputs through the CLI

def missing_second_style(style, second):
    missing = os.path.join(os.path.dirname(style), 'missing.jpg')
    return ['--style-image', '%s,%s' % (style, missing)], 1, ['--style-image %s: no such file' % missing]


BAD_STYLE_OPTIONS = {  # name: (style image, second style image) -> (flags, exit code, needles)
    'missing-second-style': missing_second_style,
    'weights-count': lambda style, second: (
        ['--style-image', '%s,%s' % (style, second), '--style-blend-weights', '1,2,3'], 1,
        ['--style-blend-weights has 3 weights for 2 style images', 'give one weight per image']),
    'negative-weight': lambda style, second: (
        ['--style-blend-weights', '1,-1'], 2,
        ['argument --style-blend-weights: each weight must be >= 0 and finite, got 1,-1']),
    'nan-weight': lambda style, second: (['--style-blend-weights', 'nan,1'], 2,
                                         ['--style-blend-weights', '>= 0 and finite']),
    'zero-weights': lambda style, second: (['--style-blend-weights', '0,0'], 2,
                                           ['--style-blend-weights', 'must not all be 0']),
    'not-a-number': lambda style, second: (['--style-blend-weights', '1,x'], 2,
                                           ['--style-blend-weights', 'expected comma-separated numbers']),
    'scale-0': lambda style, second: (['--style-scale', '0'], 2,
                                      ['argument --style-scale: must be > 0 and finite, got 0']),
    'scale-too-small': lambda style, second: (
        ['--style-scale', '0.3'], 1,
        ['--style-scale 0.3: the style image would be 10x6, too small', 'at least 16 pixels', 'raise --style-scale']),
    'pooling': lambda style, second: (['--pooling', 'min'], 2, ["argument --pooling: invalid choice: 'min'"]),
}


@pytest.mark.parametrize('case', sorted(BAD_STYLE_OPTIONS))
def test_bad_style_options_get_one_line(tmp_path, small, vgg_params, second_style, run_tool, case):  # noqa: F811
    flags, code, needles = BAD_STYLE_OPTIONS[case](str(small['style']), second_style)
    out = tmp_path / 'out'
    proc = run_tool(nstyle.main, base_args(out, vgg_params, small) + flags)
    assert_clean_failure(proc, code, needles, out)
