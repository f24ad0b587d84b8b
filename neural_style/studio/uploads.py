"""Images the page sends: written to the studio's folder, then checked from their header alone (an
image, and one that fits in memory) before anything decodes them, with the command line's one-line
messages (neural_style.files.images), naming the file as the user knows it. No MXNet."""
import os
import re

from neural_style.errors import NstyleError
from neural_style.files.images import image_size, read_rgb_image
from neural_style.machine import available_bytes

PREVIEW_EDGE = 512
# A decoded image is h*w*3 bytes, and the resizes after it make float64 copies: 8 bytes per value
DECODE_BYTES_PER_PIXEL = 3 * 8


def safe_name(name):
    """The upload's file name without folders or odd characters (kept for the messages)."""
    name = re.sub(r'[^A-Za-z0-9._-]+', '_', os.path.basename(name or 'upload')).lstrip('.')
    return name[-100:] or 'upload'


def check_image(path, role, shown_as, memory=None):
    """(h, w) of the image at path, read from its header; an NstyleError in the command line's words
    when it is no image, or is too large to decode in memory (Pillow's decompression-bomb limit, or
    more than the memory available). role: 'content image' or 'style image'; shown_as: the name the
    user gave the file, which the messages use instead of the studio's own path."""
    try:
        h, w = image_size(path, role)
        memory = available_bytes() if memory is None else memory
        if memory is not None and h * w * DECODE_BYTES_PER_PIXEL > memory:
            raise NstyleError('%s %s: not enough memory to decode it (%dx%d); resize it first' % (role, path, w, h))
        return h, w
    except NstyleError as error:
        raise NstyleError(str(error).replace(path, shown_as)) from None


def write_preview(path, preview_path, role, shown_as):
    """A PNG the page can show whatever the upload's format (TIFF, 16-bit, CMYK ...), long edge at
    most PREVIEW_EDGE: decoded at a reduced size where the format allows (neural_style.files.images)."""
    from PIL import Image
    try:
        pixels = read_rgb_image(path, role, long_edge=PREVIEW_EDGE)
    except NstyleError as error:  # a truncated file, a layout no tool reads
        raise NstyleError(str(error).replace(path, shown_as)) from None
    img = Image.fromarray(pixels)
    img.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE), Image.Resampling.LANCZOS)
    img.save(preview_path)
    return pixels.shape[:2]
