"""Optical flow between frames (scikit-image), warping by it, and where it can be trusted (the
forward-backward consistency check of Ruder, Dosovitskiy & Brox 2016). No MXNet.

A flow is a float array (2, h, w): the row and the column displacement. flow = optical_flow(a, b)
maps frame a onto frame b: b sampled at (row + flow[0], col + flow[1]) looks like a there, so
warp(b, flow) ~ a. The backward flow of frame t is optical_flow(frame t, frame t-1): warp(anything
of frame t-1, it) lines it up with frame t."""
import numpy as np
from scipy import ndimage
from skimage import color, registration

# Ruder et al.'s thresholds (their consistencyChecker): a pixel is unreliable where the forward and the
# backward flow do not cancel out, |b + f|^2 > 0.01 (|b|^2 + |f|^2) + 0.5 (in pixels^2), or on a
# motion boundary, |grad b_row|^2 + |grad b_col|^2 > 0.01 |b|^2 + 0.002.
CANCEL_RELATIVE, CANCEL_ABSOLUTE = 0.01, 0.5
BOUNDARY_RELATIVE, BOUNDARY_ABSOLUTE = 0.01, 0.002

# TV-L1 (Zach et al. 2007): on the benchmark's clips (benchmarks/flow_bench.py) it kept the flow
# within 0.1 px of the truth where iterative Lucas-Kanade (ilk) was off by pixels on the edges of a
# moving object and in flat areas, at a cost far below one frame's optimisation.
FLOW_METHODS = {'tvl1': registration.optical_flow_tvl1, 'ilk': registration.optical_flow_ilk}
DEFAULT_FLOW_METHOD = 'tvl1'


def gray(pixels):
    """(h, w, 3) uint8 -> (h, w) floats in [0, 1]: the flow is computed on luminance."""
    return color.rgb2gray(pixels) if pixels.ndim == 3 else pixels.astype(np.float64)


def optical_flow(frame_a, frame_b, method=DEFAULT_FLOW_METHOD):
    """The flow (2, h, w) that maps frame_a onto frame_b (see the module's docstring)."""
    return FLOW_METHODS[method](gray(frame_a), gray(frame_b)).astype(np.float64)


def sample_positions(flow):
    rows, cols = np.meshgrid(np.arange(flow.shape[1]), np.arange(flow.shape[2]), indexing='ij')
    return rows + flow[0], cols + flow[1]


def warp(image, flow):
    """image (h, w) or (h, w, c), sampled bilinearly at each pixel's position plus the flow (the
    edge pixels continue outside the image; consistency_mask marks those pixels 0)."""
    rows, cols = sample_positions(flow)
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return ndimage.map_coordinates(image, [rows, cols], order=1, mode='nearest')
    return np.stack([ndimage.map_coordinates(image[..., c], [rows, cols], order=1, mode='nearest')
                     for c in range(image.shape[2])], axis=-1)


def inside(flow):
    """Where the flow points into the other frame (else there is nothing to warp from)."""
    rows, cols = sample_positions(flow)
    return (rows >= 0) & (rows <= flow.shape[1] - 1) & (cols >= 0) & (cols <= flow.shape[2] - 1)


def consistency_mask(backward, forward):
    """(h, w) of 1.0 where frame t's backward flow can be trusted, 0.0 where not: it points out of
    frame t-1, the forward flow (t-1 -> t) at its target does not bring it back (disocclusion), or
    it is on a motion boundary."""
    forward_there = np.stack([warp(forward[0], backward), warp(forward[1], backward)])
    cancel = np.sum((backward + forward_there) ** 2, axis=0)
    cancels = cancel <= CANCEL_RELATIVE * (np.sum(backward ** 2, axis=0) + np.sum(forward_there ** 2, axis=0)) \
        + CANCEL_ABSOLUTE
    gradient = sum(np.sum(np.square(np.gradient(component)), axis=0) for component in backward)
    smooth = gradient <= BOUNDARY_RELATIVE * np.sum(backward ** 2, axis=0) + BOUNDARY_ABSOLUTE
    return (inside(backward) & cancels & smooth).astype(np.float64)


def flow_and_mask(frame, previous, method=DEFAULT_FLOW_METHOD):
    """Frame t's backward flow (onto frame t-1) and its consistency mask, from the two input frames."""
    backward = optical_flow(frame, previous, method)
    forward = optical_flow(previous, frame, method)
    return backward, consistency_mask(backward, forward)
