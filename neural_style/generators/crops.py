"""Images for the feed-forward generators, which see one fixed size: resized to cover it and
cropped (the original's end_to_end PreprocessContentImage: resize to the short edge, crop at random),
and the image files of a folder. No MXNet."""
import logging
import os

from skimage import img_as_float, transform

from neural_style.errors import NstyleError
from neural_style.files.images import check_input_folder, size_at_long_edge

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')


def cover_and_crop(img, size, rng=None):
    """uint8 (h, w, 3) -> floats in [0, 1] of exactly size (h, w): resized (keeping its aspect) so that
    it covers size, as the original's resize to the short edge does for any image at least as wide as
    size, then cropped at the centre, or where rng (a random.Random) draws as the original did."""
    factor = max(size[0] / img.shape[0], size[1] / img.shape[1])
    new_size = (max(size[0], int(img.shape[0] * factor)), max(size[1], int(img.shape[1] * factor)))
    resized = transform.resize(img, new_size) if new_size != img.shape[:2] else img_as_float(img)
    extra_h, extra_w = new_size[0] - size[0], new_size[1] - size[1]
    if rng is None:
        top, left = extra_h // 2, extra_w // 2
    else:
        top, left = rng.randint(0, extra_h), rng.randint(0, extra_w)
    return resized[top:top + size[0], left:left + size[1]]


def long_edge_size(shape, long_edge, multiple, path):
    """The (h, w) an image of shape (h, w, ...) gets with --long-edge: its aspect kept, each side
    rounded down to a multiple of `multiple` (what the generator needs)."""
    size = size_at_long_edge(shape[:2], long_edge, multiple)
    if min(size) < multiple:
        raise NstyleError('%s is %dx%d: at --long-edge %d its short side is under the %d pixels the generator '
                          'needs; raise --long-edge, use --size, or crop the image' % (path, shape[1], shape[0],
                                                                                   long_edge, multiple))
    return size


def image_files(folder, flag):
    """The jpg/png files of a folder, sorted; none is an NstyleError."""
    check_input_folder(folder, flag, 'give a folder of images')
    names = sorted(name for name in os.listdir(folder)
                   if name.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, name)))
    if not names:
        raise NstyleError('%s %s holds no images (.jpg, .jpeg or .png); give a folder of images' % (flag, folder))
    return [os.path.join(folder, name) for name in names]


def read_or_skip(path, read):
    """read(path), or None with a warning when the file is not a readable image."""
    try:
        return read(path)
    except NstyleError as error:
        logging.warning('skipping %s: %s', path, str(error).split(': ', 1)[-1])
        return None
