"""Where an optimisation starts (--init): the original's noise, the content image, or an image file."""
from neural_style.mxnet_runtime import mx

from neural_style.files.images import pixels_to_network, read_rgb_image


def read_init_image(args):
    """The pixels of --init PATH (read before any work, so that a bad file fails fast), else None."""
    if args.init in ('noise', 'content'):
        return None
    multires = getattr(args, 'multires', None)
    long_edge = max(edge for edge, _ in multires) if multires else args.max_long_edge
    return read_rgb_image(args.init, '--init', long_edge)  # a large one decoded reduced


def initial_image(args, content_np, init_pixels, dev):
    """The image the optimisation starts from: the original's uniform noise in [-0.1, 0.1], the
    content image as the network sees it, or an image file's pixels resized to the content's size."""
    if args.init == 'content':
        return mx.nd.array(content_np, ctx=dev)
    if init_pixels is not None:
        return mx.nd.array(pixels_to_network(init_pixels, content_np.shape[2:]), ctx=dev)
    img = mx.nd.zeros(content_np.shape, ctx=dev)
    if args.seed is not None:
        mx.random.seed(args.seed)
    img[:] = mx.rnd.uniform(-0.1, 0.1, img.shape)
    return img
