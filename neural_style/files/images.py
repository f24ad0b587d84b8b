"""Images in and out, and the network's view of them: VGG-19 sees (1, 3, h, w) floats, the pixels
times 256 minus the ImageNet mean colour, as the original computed it. No MXNet."""
import io
import logging
import math
import os
import stat
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps
from skimage import color, img_as_ubyte, transform

from neural_style.errors import NstyleError
from neural_style.files import STDIO
from neural_style.files.output_folder import write_image_atomically

# ImageNet mean colour (R, G, B) that VGG-19 was trained with.
MEAN_RGB = np.array([123.68, 116.779, 103.939])

# Images up to this many pixels (a 16-megapixel photo) are decoded whole, as before: every result
# on them stays as it was. A larger one is decoded at a reduced size that keeps at least
# DECODE_MARGIN times the pixels per edge that it is resized to, so that the final anti-aliased
# resize still decides the result.
DECODE_WHOLE_PIXELS = 16000000
DECODE_MARGIN = 4


_STDIN = []  # stdin's bytes, read once: a run may read an image's size, then its pixels


def stdin_bytes(flag):
    """The bytes piped into stdin (read at the first call, the same after), or a one-line error:
    a terminal (nothing piped) or an empty pipe."""
    if not _STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise NstyleError('%s -: stdin is a terminal, nothing was piped in; pipe an image in (... %s - < photo.jpg) '
                              'or give a file' % (flag, flag))
        _STDIN.append(sys.stdin.buffer.read())
    if not _STDIN[0]:
        raise NstyleError('%s -: stdin is empty; pipe in a JPEG or PNG image (... %s - < photo.jpg)' % (flag, flag))
    return _STDIN[0]


def write_png_to_stdout(pixels):
    """(h, w, 3) uint8 pixels on stdout as one PNG (lossless: what a pipe's next command reads)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format='PNG')
    sys.stdout.buffer.write(buffer.getvalue())
    sys.stdout.flush()


def shown(path):
    """A path as messages name it: '-' is stdin."""
    return '- (stdin)' if path == STDIO else path


def path_mode(path, kind):
    """(st_mode, None) of path, or (None, why it cannot be looked at, in words); kind: what the
    caller wants there ('file' or 'folder'), as a missing one is named."""
    try:
        return os.stat(path).st_mode, None
    except FileNotFoundError:
        return None, 'no such %s (relative paths start from %s)' % (kind, os.getcwd())
    except NotADirectoryError:
        return None, 'no such %s: a part of the path before its last name is a file, not a folder' % kind
    except OSError as error:
        return None, 'cannot look at it (%s)' % (error.strerror or error)


def input_file_problem(path):
    """Why `path` cannot be read as an input file, in words (None when it can be): the real cause,
    so that a folder or a device is not reported as a missing file."""
    mode, problem = path_mode(path, 'file')
    if problem:
        return problem
    if stat.S_ISDIR(mode):
        return 'is a folder; give a file'
    if not stat.S_ISREG(mode):
        return 'is %s, not a regular file; give a file' % special_file_kind(mode)
    if not os.access(path, os.R_OK):
        return 'cannot read it (permission denied)'
    return None


def special_file_kind(mode):
    return ('a device file' if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            'a pipe' if stat.S_ISFIFO(mode) else 'a socket' if stat.S_ISSOCK(mode) else 'a special file')


def input_folder_problem(path):
    """Why `path` cannot be read as an input folder, in words (None when it can be): a file given
    for a folder is said to be a file, not "no such folder"."""
    mode, problem = path_mode(path, 'folder')
    if problem:
        return problem
    if not stat.S_ISDIR(mode):
        return 'is %s, not a folder' % ('a file' if stat.S_ISREG(mode) else special_file_kind(mode))
    if not os.access(path, os.R_OK | os.X_OK):
        return 'cannot read it (permission denied)'
    return None


def check_input_folder(path, flag, what_to_give, error=NstyleError):
    """The one check of every folder a tool reads (a folder of images, of frames, of checkpoints):
    '<flag> <path>: is a file, not a folder; <what_to_give>' and the like."""
    problem = input_folder_problem(path)
    if problem:
        raise error('%s: %s; %s' % (' '.join(part for part in (flag, path) if part), problem, what_to_give))


def check_image_file(path, flag):
    """A one-line NstyleError naming the real cause unless the path is a readable file (what the
    image is, reading tells)."""
    problem = input_file_problem(path)
    if problem == 'is a folder; give a file':
        raise NstyleError('%s %s is a folder; give an image file' % (flag, path))
    if problem:
        raise NstyleError('%s %s: %s' % (flag, path, problem))


def open_image(path, flag):
    """The image file opened by Pillow (its header read, no pixels decoded yet), or a one-line
    NstyleError that names the real cause."""
    if path == STDIO:
        source = io.BytesIO(stdin_bytes(flag))
    else:
        check_image_file(path, flag)
        source = path
    try:
        with warnings.catch_warnings():  # above Pillow's warning size, decoded reduced (read_rgb_image)
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            return Image.open(source)
    except Image.DecompressionBombError:
        raise NstyleError(too_large_message(path, flag)) from None
    except Exception:  # Pillow raises many kinds (UnidentifiedImageError, SyntaxError, ValueError ...)
        if path == STDIO:
            raise NstyleError('%s -: stdin: %d bytes that are not an image Pillow can decode; pipe in a JPEG or PNG '
                              'file' % (flag, len(_STDIN[0]))) from None
        raise NstyleError('%s %s: cannot read it as an image (not an image format Pillow can decode); give a JPEG '
                          'or PNG file' % (flag, path)) from None


def too_large_message(path, flag):
    """Pillow refuses to decode images above twice its MAX_IMAGE_PIXELS (a decompression-bomb guard)."""
    limit = 2 * Image.MAX_IMAGE_PIXELS
    try:
        # the size, from the header, without Pillow's check
        with (io.BytesIO(_STDIN[0]) if path == STDIO else open(path, 'rb')) as f:
            Image.MAX_IMAGE_PIXELS, saved = None, Image.MAX_IMAGE_PIXELS
            try:
                w, h = Image.open(f).size
            finally:
                Image.MAX_IMAGE_PIXELS = saved
        size = '%dx%d, %.0f megapixels' % (w, h, w * h / 1e6)
        factor = math.ceil(math.sqrt(w * h / limit) * 10) / 10
        target = '%dx%d' % (int(w / factor), int(h / factor))
    except Exception:
        size, target = 'size unknown', 'a smaller size'
    return ('%s %s: the image is too large to decode (%s; Pillow\'s limit against decompression bombs is %.0f '
            'megapixels); resize it first, to %s or less (e.g. `convert %s -resize %s smaller.jpg`)'
            % (flag, path, size, limit / 1e6, target, path, target))


def image_size(path, flag):
    """(h, w) of an image as a viewer shows it (EXIF orientation applied), from its header alone:
    fast whatever its size."""
    with open_image(path, flag) as img:
        w, h = img.size
        orientation = img.getexif().get(0x0112, 1)  # 5 ... 8: rotated by 90 or 270 degrees
    return (w, h) if orientation in (5, 6, 7, 8) else (h, w)


def decode(img, long_edge):
    """The decoded pixels of an opened image, upright (its EXIF orientation applied, as a viewer
    shows it). long_edge: the size the caller resizes it to, or None; a much larger image is then
    decoded at a reduced size (JPEG: by its decoder's scaling, 1/2 ... 1/8, in the decode itself;
    other formats: Image.reduce's box average after it), so that a 50-megapixel photo costs the
    memory and time of a small one."""
    full = max(img.size)
    keep = long_edge * DECODE_MARGIN if long_edge and img.size[0] * img.size[1] > DECODE_WHOLE_PIXELS else None
    if keep and full >= 2 * keep:  # JPEG (and MPO, some phones' JPEG): its decoder scales; others ignore it
        img.draft(img.mode, (math.ceil(img.size[0] * keep / full), math.ceil(img.size[1] * keep / full)))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        img.load()
    if keep and max(img.size) >= 2 * keep:
        try:
            img = img.reduce(max(img.size) // keep)
        except ValueError:  # a mode reduce does not support (I;16): decoded whole
            pass
    if max(img.size) < full:
        logging.info('decoded the image at %dx%d instead of its %d pixels on the long edge: at least %d times '
                     'the %d it is resized to', img.size[0], img.size[1], full, DECODE_MARGIN, long_edge)
    return ImageOps.exif_transpose(img)


def pixel_array(img):
    """np.asarray of an upright Pillow image, in a mode numpy holds as the image's values: a palette
    becomes its colours, CMYK and other colour spaces RGB, 16-bit grayscale uint16 (as imageio gave)."""
    if img.mode == 'P':
        img = img.convert(img.palette.mode if img.palette else 'RGB')
    elif img.mode == 'PA':
        img = img.convert('RGBA')
    elif img.mode in ('CMYK', 'YCbCr', 'LAB', 'HSV'):
        img = img.convert('RGB')
    elif img.mode == 'I' and img.format == 'PNG':
        img = img.convert('I;16')
    return np.asarray(img)


def read_rgb_image(path, flag, long_edge=None):
    """Read an image as 8-bit RGB (h, w, 3), upright as a viewer shows it (EXIF orientation):
    grayscale, alpha, palette, CMYK and 16-bit inputs are converted (alpha is blended onto white).
    long_edge: the long edge the caller will resize the image to (None: it keeps its size); an
    image many times larger is decoded at a reduced size (decode). path '-': the image piped into
    stdin (stdin_bytes). Every tool reads images here."""
    with open_image(path, flag) as opened:
        try:
            img = pixel_array(decode(opened, long_edge))
        except MemoryError:
            raise NstyleError('%s %s: not enough memory to decode it (%dx%d); resize it first'
                              % (flag, shown(path), opened.size[0], opened.size[1])) from None
        except Exception as error:  # Pillow raises many kinds (OSError, ValueError, SyntaxError ...)
            reason = 'the file is truncated' if 'truncated' in str(error) else 'not an image format Pillow can decode'
            raise NstyleError('%s %s: cannot read it as an image (%s); give a JPEG or PNG file'
                              % (flag, shown(path), reason)) from None
    if img.ndim == 2:
        img = img[:, :, np.newaxis]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4) or min(img.shape[:2]) < 1:
        raise NstyleError('%s %s: unsupported image layout %s; give a single RGB or grayscale image'
                          % (flag, shown(path), img.shape))
    if img.dtype != np.uint8:
        try:
            img = img_as_ubyte(img)
        except ValueError as error:
            raise NstyleError('%s %s: unsupported pixel values (%s); give an 8- or 16-bit image'
                              % (flag, shown(path), error)) from None
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
    size = image_size(path, '--content-image')  # the size it has, even when decoded reduced
    logging.info('load the content image, size = %s', size)
    new_size = content_size(size, long_edge, min_side, long_edge_flag, '--content-image %s' % path)
    img = read_rgb_image(path, '--content-image', long_edge)
    return resized_content(img, new_size)


def content_network_image(img, long_edge, min_side, long_edge_flag, name):
    """8-bit pixels (h, w, 3) already read (a video's frame) resized so that the long edge is
    long_edge, as the network sees them; name (such as 'frame 3') as content_size's."""
    return resized_content(img, content_size(img.shape[:2], long_edge, min_side, long_edge_flag, name))


def size_at_long_edge(size, long_edge, multiple=1):
    """(h, w) of an image of size (h, w) resized so that its long edge is long_edge, each side
    rounded down to a multiple of `multiple` (1: truncated, as the original did). The one rule of
    every tool: the content image, a video's frames, the generators' --long-edge, the memory check."""
    factor = float(long_edge) / max(size)
    return tuple(int(side * factor) // multiple * multiple for side in size)


def shrunk_to_long_edge(pixels, long_edge):
    """(h, w, 3) uint8 pixels with their long edge at most long_edge (None: as they are), each side
    rounded (at least 1), Lanczos; never enlarged: the one-pass networks' photos, reproduce_survey's
    images and view_checkpoints' panels. (The optimisation, the video and the generators size by
    size_at_long_edge, the original's truncation.)"""
    h, w = pixels.shape[:2]
    if not long_edge or max(h, w) <= long_edge:
        return pixels
    factor = long_edge / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


def content_size(size, long_edge, min_side, long_edge_flag, name):
    """The (h, w) of an image of this size with its long edge at long_edge; name (such as
    '--content-image PATH') and long_edge_flag are what the error of too small a result names."""
    new_size = size_at_long_edge(size, long_edge)
    if min(new_size) < min_side:
        raise NstyleError('%s: resized to %dx%d (%s %d), it is too small: the model '
                          'needs at least %d pixels on each side; raise %s or use a less elongated '
                          'image' % (name, new_size[1], new_size[0], long_edge_flag, long_edge, min_side,
                                     long_edge_flag))
    return new_size


def resized_content(img, new_size):
    resized_img = transform.resize(img, new_size)
    logging.info('resize the content image to %s', new_size)
    return to_network_input(resized_img)


def PreprocessStyleImage(path, shape):
    """The style image, stretched to the (h, w) of `shape` (its aspect ratio is not kept): the
    content's, or --style-scale times it."""
    img = read_rgb_image(path, '--style-image', max(shape[2], shape[3]))
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


def denoised(pixels, weight):
    """The original's TV-Chambolle denoising of (h, w, 3) uint8 pixels (--remove-noise; weight 0:
    unchanged), back to 8 bits: the checkpoints' and the generators' written images."""
    if weight == 0:
        return pixels
    # imported here, at the first use: skimage.restoration imports scipy.stats and more, a second of
    # start-up that a run without denoising never needs
    from skimage.restoration import denoise_tv_chambolle
    return img_as_ubyte(denoise_tv_chambolle(pixels, weight=weight, channel_axis=-1))  # floats in [0, 1] back


def finished_pixels(img, remove_noise=0., colors_from=None):
    """The 8-bit (h, w, 3) pixels a network image (1, 3, h, w) is written as: denoised if
    remove_noise != 0 (the checkpoints), then with colors_from's colours when given (--original-colors:
    the content image at the image's size), last, so that the result has exactly its chroma."""
    out = denoised(PostprocessImage(img), remove_noise)
    return original_colors(out, colors_from) if colors_from is not None else out


def SaveImage(img, filename, remove_noise=0., colors_from=None):
    """The original's name: write the network image `img` as finished_pixels gives it."""
    logging.info('save output to %s', filename)
    write_image_atomically(filename, finished_pixels(img, remove_noise, colors_from))
