"""Pre- and post-processing against numpy, input conversions, and the atomic image writer."""
import os

import numpy as np
import pytest
from PIL import Image
from skimage import img_as_ubyte, io
from skimage.restoration import denoise_tv_chambolle

from conftest import CONTENT
from neural_style.errors import NstyleError
from neural_style.files import images
from neural_style.files.images import PostprocessImage, PreprocessContentImage, PreprocessStyleImage, SaveImage

MEAN = np.array([123.68, 116.779, 103.939])


def gradient_image(h, w):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) % 256], axis=2).astype(np.uint8)


def save_png(tmp_path, name, pixels, mode=None):
    path = str(tmp_path / name)
    Image.fromarray(pixels, mode=mode).save(path) if mode else Image.fromarray(pixels).save(path)
    return path


def test_content_at_its_own_size_is_x256_minus_mean_in_chw(tmp_path):
    pixels = gradient_image(20, 30)
    path = save_png(tmp_path, 'c.png', pixels)
    sample = PreprocessContentImage(path, 30)  # long edge already 30: resize changes nothing
    expected = (pixels / 255.0 * 256 - MEAN).transpose(2, 0, 1)[np.newaxis]
    assert sample.shape == (1, 3, 20, 30)
    np.testing.assert_allclose(sample, expected, atol=1e-9)


def test_content_size_is_truncated_not_rounded():
    # 1000x1500 to a long edge of 128: 1000 * 128/1500 = 85.33 -> 85 (the golden run's 85x128)
    assert PreprocessContentImage(CONTENT, 128).shape == (1, 3, 85, 128)
    # 1000 * 599/1500 = 399.33 -> 399, and the long edge 1500 * 599/1500 stays 599
    assert PreprocessContentImage(CONTENT, 599).shape == (1, 3, 399, 599)


def test_shrunk_to_long_edge_rounds_and_never_enlarges():
    """The one-pass photos' rule, unlike the content's above: 100x37 to long edge 40 is 40x15
    (37 * 0.4 = 14.8, rounded), a Lanczos resize by PIL; a smaller image, or no long edge, is
    returned as it is; a side never drops to 0 (1000x1 to 10: 10x1)."""
    pixels = np.random.RandomState(0).randint(0, 256, (37, 100, 3)).astype(np.uint8)
    shrunk = images.shrunk_to_long_edge(pixels, 40)
    assert shrunk.shape == (15, 40, 3) and shrunk.dtype == np.uint8
    np.testing.assert_array_equal(shrunk, np.asarray(Image.fromarray(pixels).resize((40, 15), Image.LANCZOS)))
    assert images.shrunk_to_long_edge(pixels, 100) is pixels and images.shrunk_to_long_edge(pixels, None) is pixels
    assert images.shrunk_to_long_edge(np.zeros((1, 1000, 3), np.uint8), 10).shape == (1, 10, 3)


def test_content_is_resized_up_as_well(tmp_path):
    path = save_png(tmp_path, 'small.png', gradient_image(10, 16))
    assert PreprocessContentImage(path, 64).shape == (1, 3, 40, 64)


def test_style_is_stretched_to_the_content_size(tmp_path):
    colour = np.array([200, 40, 90], dtype=np.uint8)
    path = save_png(tmp_path, 's.png', np.tile(colour, (50, 13, 1)))  # tall style, wide content
    sample = PreprocessStyleImage(path, (1, 3, 24, 36))
    assert sample.shape == (1, 3, 24, 36)
    expected = colour / 255.0 * 256 - MEAN
    np.testing.assert_allclose(sample[0], np.broadcast_to(expected[:, None, None], (3, 24, 36)), atol=1e-9)


def test_postprocess_inverts_preprocess_exactly(tmp_path):
    # v -> v*256/255 - mean -> + mean -> truncated: v again (255 -> 256 is clipped to 255)
    pixels = gradient_image(17, 23)
    pixels[0, 0] = [255, 255, 255]
    pixels[0, 1] = [0, 0, 0]
    path = save_png(tmp_path, 'c.png', pixels)
    sample = PreprocessContentImage(path, 23).astype(np.float32)
    out = PostprocessImage(sample)
    assert out.dtype == np.uint8 and out.shape == (17, 23, 3)
    np.testing.assert_array_equal(out, pixels)
    assert sample.max() > 255 - MEAN.min()  # the 255s did go above 255 before clipping


def test_postprocess_clips_and_truncates():
    img = np.zeros((1, 3, 1, 4), dtype=np.float32)
    img[0, :, 0, :] = (np.array([-500.0, 0.0, 10.7, 900.0]) - MEAN[:, None])
    out = PostprocessImage(img)
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 10, 255])
    np.testing.assert_array_equal(out[0, :, 0], out[0, :, 1])
    assert img[0, 0, 0, 3] == np.float32(900.0 - MEAN[0])  # the caller's array is not modified


@pytest.mark.parametrize('mode', ['L', 'RGBA', 'P', 'I;16', 'LA'])
def test_other_image_kinds_become_8bit_rgb(tmp_path, mode):
    rgb = gradient_image(12, 18)
    if mode == 'L':
        pixels = rgb[:, :, 0]
        expected = np.repeat(pixels[:, :, None], 3, axis=2)
        path = save_png(tmp_path, 'x.png', pixels, 'L')
    elif mode == 'I;16':
        pixels = (rgb[:, :, 0].astype(np.uint16) * 257 + 100)
        expected = np.repeat((pixels >> 8).astype(np.uint8)[:, :, None], 3, axis=2)  # 16 -> 8 bits
        path = str(tmp_path / 'x.png')
        Image.fromarray(pixels).save(path)
    elif mode in ('RGBA', 'LA'):
        alpha = np.zeros((12, 18), np.uint8)
        alpha[:, 6:12], alpha[:, 12:] = 128, 255
        colour = rgb if mode == 'RGBA' else rgb[:, :, :1]
        pixels = np.concatenate([colour, alpha[:, :, None]], axis=2)
        blended = np.round(colour * (alpha[:, :, None] / 255) + 255 * (1 - alpha[:, :, None] / 255))
        expected = np.broadcast_to(blended, (12, 18, 3)).astype(np.uint8)  # onto white
        expected_left = np.full((12, 6, 3), 255)
        np.testing.assert_array_equal(expected[:, :6], expected_left)
        path = save_png(tmp_path, 'x.png', pixels, mode)
    else:  # palette
        image = Image.fromarray(rgb).quantize(16)
        path = str(tmp_path / 'x.png')
        image.save(path)
        expected = np.asarray(image.convert('RGB'))
    img = images.read_rgb_image(path, '--content-image')
    assert img.dtype == np.uint8 and img.shape == (12, 18, 3)
    np.testing.assert_array_equal(img, expected)


def test_save_image_denoises_only_when_asked(tmp_path):
    rng = np.random.RandomState(1)
    img = (rng.uniform(-120, 130, (1, 3, 16, 24))).astype(np.float32)
    plain, denoised = str(tmp_path / 'plain.png'), str(tmp_path / 'denoised.png')
    SaveImage(img, plain)
    SaveImage(img, denoised, remove_noise=0.02)
    expected_plain = PostprocessImage(img)
    np.testing.assert_array_equal(io.imread(plain), expected_plain)
    expected_denoised = img_as_ubyte(denoise_tv_chambolle(expected_plain, weight=0.02, channel_axis=-1))
    np.testing.assert_array_equal(io.imread(denoised), expected_denoised)
    assert np.abs(expected_denoised.astype(int) - expected_plain).max() > 10
    assert sorted(os.listdir(tmp_path)) == ['denoised.png', 'plain.png']


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / 'final.jpg'
    target.write_bytes(b'earlier result')

    def write_half_then_fail(path, data):
        with open(path, 'wb') as half:
            half.write(data[:10])
        raise OSError(28, 'No space left on device')

    from neural_style.files import output_folder
    monkeypatch.setattr(output_folder, 'write_bytes', write_half_then_fail)  # what write_image_atomically calls
    with pytest.raises(NstyleError, match='cannot write .*final.jpg: no space left on the device; free some space'):
        SaveImage(np.zeros((1, 3, 4, 4), np.float32), str(target))
    assert target.read_bytes() == b'earlier result'
    assert os.listdir(tmp_path) == ['final.jpg']
