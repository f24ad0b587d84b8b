"""Images in and out, and the network's view of them: VGG-19 sees (1, 3, h, w) floats, the pixels
times 256 minus the ImageNet mean colour, as the original computed it. No MXNet."""
import logging
import os

import numpy as np
from PIL import Image
from skimage import color, img_as_ubyte, io, transform

from .flags import NstyleError
from .outputs import write_image_atomically

# ImageNet mean colour (R, G, B) that VGG-19 was trained with.
MEAN_RGB = np.array([123.68, 116.779, 103.939])


def read_rgb_image(path, flag):
    """Read an image as 8-bit RGB (h, w, 3): grayscale, alpha, palette, CMYK and
    16-bit inputs are converted (alpha is blended onto white)."""
    if os.path.isdir(path):
        raise NstyleError('%s %s is a folder; give an image file' % (flag, path))
    if not os.path.isfile(path):
        raise NstyleError('%s %s: no such file (relative paths start from %s)' % (flag, path, os.getcwd()))
    try:
        img = io.imread(path)
        if img.ndim == 3 and img.shape[2] == 4:
            with Image.open(path) as pil_img:
                if pil_img.mode == 'CMYK':
                    img = np.asarray(pil_img.convert('RGB'))
    except Exception as error:  # imageio and Pillow raise many kinds (OSError, ValueError, SyntaxError ...)
        reason = 'the file is truncated' if 'truncated' in str(error) else 'not an image format Pillow can decode'
        raise NstyleError('%s %s: cannot read it as an image (%s); give a JPEG or PNG file'
                          % (flag, path, reason)) from None
    if img.ndim == 2:
        img = img[:, :, np.newaxis]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4) or min(img.shape[:2]) < 1:
        raise NstyleError('%s %s: unsupported image layout %s; give a single RGB or grayscale image'
                          % (flag, path, img.shape))
    if img.dtype != np.uint8:
        try:
            img = img_as_ubyte(img)
        except ValueError as error:
            raise NstyleError('%s %s: unsupported pixel values (%s); give an 8- or 16-bit image'
                              % (flag, path, error)) from None
    if img.shape[2] in (2, 4):
        alpha = img[:, :, -1:] / 255.0
        img = np.round(img[:, :, :-1] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return img


def to_network_input(resized_img):
    """Floats in [0, 1] (h, w, 3) -> (1, 3, h, w), scaled by 256 as the original does, mean subtracted."""
    sample = np.asarray(resized_img) * 256
    sample = sample.transpose(2, 0, 1) - MEAN_RGB[:, np.newaxis, np.newaxis]
    return sample[np.newaxis]


def pixels_to_network(pixels, size):
    """8-bit pixels (h, w, 3), resized to size (h, w), as the network sees them: the inverse of
    PostprocessImage, which adds the mean and truncates. +0.5, the middle of a pixel value's interval,
    so that a written image read back is written back as the same pixels."""
    pixels = pixels.astype(np.float64)
    if pixels.shape[:2] != tuple(size):
        pixels = transform.resize(pixels, size, preserve_range=True)
    return (pixels + 0.5 - MEAN_RGB).transpose(2, 0, 1)[np.newaxis]


def resized_network_image(img, size):
    """A network image (1, 3, h, w) resized to size (h, w), bilinearly, in the network's values."""
    pixels = np.asarray(img)[0].transpose(1, 2, 0).astype(np.float64)
    pixels = transform.resize(pixels, size, preserve_range=True)
    return pixels.transpose(2, 0, 1)[np.newaxis]


def PreprocessContentImage(path, long_edge, min_side=1, long_edge_flag='--max-long-edge'):
    img = read_rgb_image(path, '--content-image')
    logging.info('load the content image, size = %s', img.shape[:2])
    factor = float(long_edge) / max(img.shape[:2])
    new_size = (int(img.shape[0] * factor), int(img.shape[1] * factor))
    if min(new_size) < min_side:
        raise NstyleError('--content-image %s: resized to %dx%d (%s %d), it is too small: the model '
                          'needs at least %d pixels on each side; raise %s or use a less elongated '
                          'image' % (path, new_size[1], new_size[0], long_edge_flag, long_edge, min_side,
                                     long_edge_flag))
    resized_img = transform.resize(img, new_size)
    logging.info('resize the content image to %s', new_size)
    return to_network_input(resized_img)


def PreprocessStyleImage(path, shape):
    """The style image, stretched to the (h, w) of `shape` (its aspect ratio is not kept): the
    content's, or --style-scale times it."""
    img = read_rgb_image(path, '--style-image')
    resized_img = transform.resize(img, (shape[2], shape[3]))
    return to_network_input(resized_img)


def style_image_paths(text):
    """--style-image: one path, or several separated by commas. A path that exists as given is
    one image, even with a comma in its name."""
    if ',' not in text or os.path.exists(text):
        return [text]
    paths = [path.strip() for path in text.split(',')]
    if '' in paths:
        raise NstyleError('--style-image %s: an empty name in the comma-separated list; give one path per '
                          'style image' % text)
    return paths


def style_blend(paths, weights):
    """The weight of each style image: --style-blend-weights normalised to sum 1, or equal."""
    if weights is None:
        return [1.0 / len(paths)] * len(paths)
    if len(weights) != len(paths):
        raise NstyleError('--style-blend-weights has %d weights for %d style images (--style-image %s); '
                          'give one weight per image' % (len(weights), len(paths), ','.join(paths)))
    largest = max(weights)
    scaled = [weight / largest for weight in weights]  # first to <= 1: a sum of huge weights stays finite
    return [weight / sum(scaled) for weight in scaled]


def style_image_size(content_size, scale, min_side):
    """The (h, w) the style images are stretched to: the content's (the original), or --style-scale
    times it, which must still reach the deepest style layer."""
    if scale == 1:
        return tuple(content_size)
    size = (int(round(content_size[0] * scale)), int(round(content_size[1] * scale)))
    if min(size) < min_side:
        raise NstyleError('--style-scale %g: the style image would be %dx%d, too small: the style layers need at '
                          'least %d pixels on each side; raise --style-scale (or --max-long-edge)'
                          % (scale, size[1], size[0], min_side))
    logging.info('resize the style image to %s (--style-scale %g)', size, scale)
    return size


def PostprocessImage(img):
    """(1, 3, h, w) network image -> (h, w, 3) uint8: add the mean back, clip, truncate."""
    img = np.array(img, dtype=np.float32).reshape(3, img.shape[2], img.shape[3])
    img += MEAN_RGB.astype(np.float32)[:, np.newaxis, np.newaxis]
    img = np.clip(img.transpose(1, 2, 0), 0, 255)
    return img.astype('uint8')


def original_colors(result, content):
    """The result's luminance with the content's chroma (Gatys et al. 2016, "Preserving Color in
    Neural Artistic Style Transfer"): Y of `result`, I and Q of `content`, both (h, w, 3) uint8.
    A colour outside RGB is clipped into it, which is all that moves the luminance."""
    yiq = color.rgb2yiq(content)
    yiq[..., 0] = color.rgb2yiq(result)[..., 0]
    return img_as_ubyte(np.clip(color.yiq2rgb(yiq), 0, 1))


def SaveImage(img, filename, remove_noise=0., colors_from=None):
    """Write the network image `img`, denoised if remove_noise != 0; colors_from: the content image
    (h, w, 3) uint8 at the image's size whose colours it takes (--original-colors), or None."""
    logging.info('save output to %s', filename)
    out = PostprocessImage(img)
    if remove_noise != 0.0:
        # imported here, at the first checkpoint: skimage.restoration imports scipy.stats and more, a
        # second of start-up that a run without denoising never needs
        from skimage.restoration import denoise_tv_chambolle
        # denoise_tv_chambolle returns floats in [0, 1]; JPEG wants 8 bits
        out = img_as_ubyte(denoise_tv_chambolle(out, weight=remove_noise, channel_axis=-1))
    if colors_from is not None:  # last, so that what is written has exactly the content's chroma
        out = original_colors(out, colors_from)
    write_image_atomically(filename, out)
