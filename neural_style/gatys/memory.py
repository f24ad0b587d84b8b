"""Will a size fit in memory? Estimated before anything is allocated, so that a huge
--max-long-edge, --style-scale or --multires edge is refused in one line at once, with the largest
size that fits, instead of failing deep in numpy or MXNet after a minute and gigabytes. No MXNet."""
import math

from neural_style.errors import NstyleError
from neural_style.files.images import image_size, size_at_long_edge, style_image_paths
from neural_style.machine import available_bytes

# Measured (benchmarks/memory_per_pixel.py, one epoch of nstyle.py, peak resident memory): each
# pixel of the content image costs this many bytes of VGG-19 activations, their gradients and
# oneDNN's buffers, on top of a fixed part (Python, MXNet, the weights): 3199 bytes and 335 MB
# between 256x256 and 512x512, 3344 between 600x400 and 1200x800 (docs/running.md); rounded up.
BYTES_PER_PIXEL = 3400
FIXED_BYTES = 400 * 2**20
# A style image at another size than the content's (--style-scale) gets an executor of its own,
# which only computes forward: 754 bytes a pixel measured at 512x512 (--style-scale 2); rounded up.
BYTES_PER_STYLE_PIXEL = 1000


def lbfgs_bytes(content_pixels, history):
    """scipy's L-BFGS-B work array for the image's 3 values a pixel with this many corrections
    (--lbfgs-num-correction): float64, 2mn + 5n + 11m^2 + 8m of them (scipy.optimize._lbfgsb_py)."""
    n, m = 3 * content_pixels, history
    return 8 * (2 * m * n + 5 * n + 11 * m * m + 8 * m)


def run_bytes(content_pixels, style_scale, lbfgs_history=0):
    """The estimated peak memory of a run whose content image has this many pixels; lbfgs_history:
    the corrections L-BFGS keeps (0: another optimiser)."""
    style = content_pixels * style_scale ** 2 if style_scale != 1 else 0
    history = lbfgs_bytes(content_pixels, lbfgs_history) if lbfgs_history else 0
    return FIXED_BYTES + BYTES_PER_PIXEL * content_pixels + BYTES_PER_STYLE_PIXEL * style + history


def largest_fitting_edge(size, style_scale, available, lbfgs_history=0):
    """The largest long edge whose run_bytes fits in `available` (the L-BFGS history's m-only terms,
    11m^2 + 8m, counted with the fixed part)."""
    h, w = size_at_long_edge(size, 1000000)
    pixels_per_edge_squared = h * w / 1e12  # pixels = this * edge ** 2
    per_pixel = BYTES_PER_PIXEL + (BYTES_PER_STYLE_PIXEL * style_scale ** 2 if style_scale != 1 else 0)
    fixed = FIXED_BYTES
    if lbfgs_history:
        per_pixel += lbfgs_bytes(1, lbfgs_history) - lbfgs_bytes(0, lbfgs_history)
        fixed += lbfgs_bytes(0, lbfgs_history)
    return max(0, int(math.sqrt(max(0, available - fixed) / per_pixel / pixels_per_edge_squared)))


def gigabytes(count):
    return '%.3g GB' % (count / 1e9) if count < 1e12 else '%.3g TB' % (count / 1e12)


def check_sizes_fit(args, long_edges, long_edge_flag, memory=None, size=None):
    """A one-line NstyleError when the largest of these long edges (one per stage) needs more memory
    than is available; only the images' headers are read. memory: (bytes available, where in words),
    device.available_memory's, default this machine's (available_bytes). size: the content's (h, w)
    when its header is read already (gatys/run.read_pictures)."""
    if (memory or (available_bytes(), None))[0] is None:
        return
    size = size or image_size(args.content_image, '--content-image')
    for path in style_image_paths(args.style_image):
        image_size(path, '--style-image')  # a bad or too large style image is named now too
    check_size_fits(size, args.style_scale, long_edges, long_edge_flag, memory, lbfgs_history(args))


def lbfgs_history(settings):
    """The corrections L-BFGS keeps in this run, 0 with another optimiser."""
    return settings.lbfgs_num_correction if settings.optimizer == 'lbfgs' else 0


def check_size_fits(size, style_scale, long_edges, long_edge_flag, memory=None, history=0):
    """check_sizes_fit for a content image of size (h, w) (the Python API's arrays have no header);
    history: lbfgs_history's."""
    available, where = memory or (available_bytes(), 'this machine')
    if available is None:
        return
    edge = max(long_edges)
    h, w = size_at_long_edge(size, edge)
    needed = run_bytes(h * w, style_scale, history)
    if needed <= available:
        return
    if history and lbfgs_bytes(h * w, history) > needed / 2:  # the history, not the image, is the bulk
        raise NstyleError('--lbfgs-num-correction %d: L-BFGS would keep about %s of history for a %dx%d image, '
                          'more than the %s %s has available with the rest of the run (%s); lower it (the '
                          'default is 10, --preset fast takes 20)'
                          % (history, gigabytes(lbfgs_bytes(h * w, history)), w, h, gigabytes(available), where,
                             gigabytes(needed)))
    largest = largest_fitting_edge(size, style_scale, available, history)
    what = ('%s %s' % (long_edge_flag, edge) if long_edge_flag != '--multires' else '--multires (its long edge %d)' % edge)
    scale = ' with --style-scale %g' % style_scale if style_scale != 1 else ''
    raise NstyleError('%s%s: a %dx%d image needs about %s of memory (measured: %.1f kB a pixel%s), more than the %s '
                      '%s has available; the largest long edge that fits is about %d%s'
                      % (what, scale, w, h, gigabytes(needed), BYTES_PER_PIXEL / 1e3,
                         ', and L-BFGS\'s history' if history else '', gigabytes(available), where,
                         largest, ' (or lower --style-scale)' if scale else ''))
