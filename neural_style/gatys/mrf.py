"""The MRF style loss of Li & Wand ("Combining Markov Random Fields and Convolutional Neural
Networks for Image Synthesis", CVPR 2016; CNNMRF): instead of matching Gram matrices, every k x k
patch of the result's features is pulled towards its nearest style patch.

Per MRF layer, with Psi_i(x) the i-th k x k patch (stride 1) of the result's features F and Psi_j(s)
the style patches (sampled every --mrf-stride positions, pooled from all style images):

    NN(i) = argmax_j <Psi_i(x), Psi_j(s)> / (|Psi_i(x)| |Psi_j(s)|)      (normalised cross-correlation)
    E     = sum_i |Psi_i(x) - Psi_NN(i)(s)|^2                            (matches held fixed)

The correlations are one convolution with the normalised style patches as kernels (|Psi_i(x)| is
the same for every j, so it does not change the argmax), run in chunks of style patches so that
memory stays bounded. With the matches fixed, E regroups per feature position p:

    E = sum_p count_p (F_p - M_p)^2 + V

where count_p is the number of patches covering p, M_p the mean of the matched style values laid
over p (overlap-add divided by count) and V = sum_p sum_{i covering p} (Psi_NN(i)(s)_p - M_p)^2 the
spread of those values, a constant. So the loss executor gets three variables per layer (the
target M, the count, the constant V), refilled by `Rematcher` at the start of the epochs that
re-match; its gradient, 2 count_p (F_p - M_p), is that of E with the matches held fixed.
"""
import collections

import numpy as np

from neural_style.mxnet_runtime import mx

# The correlation map of a chunk of style patches holds at most this many floats (16 MiB): the
# chunk's kernel count is this divided by the number of result patches (at least one kernel). At
# 600x400 a re-matching raised the peak memory by 350 MB with 64 MiB maps, 240 MB with 16 or 4 MiB
# ones, and took about as long (measured).
MATCH_CHUNK_FLOATS = 1 << 22
# A style patch's norm, at least this: an all-zero patch (dead ReLUs) stays 0 and correlates 0 with all.
MIN_PATCH_NORM = 1e-8

# One MRF layer's style side: the normalised style patches as convolution kernels (N, C, k, k) and
# the raw patches laid out per offset inside the patch (k*k, N, C), both on the device.
StylePatches = collections.namedtuple('StylePatches', ['kernels', 'values'])


def target_name(i):
    return 'mrf_target_%d' % i


def count_name(i):
    return 'mrf_count_%d' % i


def spread_name(i):
    return 'mrf_spread_%d' % i


def loss_symbols(features, input_size):
    """E of each MRF layer (a (1,) output each), over the feature outputs of `features` for an
    input image of input_size (h, w)."""
    losses = []
    _, feature_shapes, _ = features.infer_shape(data=(1, 3) + tuple(input_size))
    for i, shape in enumerate(feature_shapes):
        difference = features[i] - mx.sym.Variable(target_name(i))
        count = mx.sym.Variable(count_name(i), shape=(1, 1) + tuple(shape[2:]))  # broadcast: shape inference needs it
        weighted = mx.sym.broadcast_mul(count, mx.sym.square(difference))
        losses.append(mx.sym.sum(weighted) + mx.sym.Variable(spread_name(i)))
    return mx.sym.Group(losses)


def min_input_side(model_module, layers, patch_size):
    """The smallest image side whose features at every MRF layer hold at least one k x k patch."""
    return max(model_module.min_input_side([layer]) * patch_size for layer in layers)


# ---------------------------------------------------------------- the style patches

def extract_patches(feature_map, patch_size, stride=1):
    """The k x k patches of a (C, H, W) array every `stride` positions, row by row: (N, C, k, k)."""
    windows = np.lib.stride_tricks.sliding_window_view(feature_map, (patch_size, patch_size), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]  # (C, rows, columns, k, k)
    return np.ascontiguousarray(windows.transpose(1, 2, 0, 3, 4)).reshape((-1,) + windows.shape[:1] + windows.shape[3:])


def style_patches(patches, ctx):
    """StylePatches of the pooled (N, C, k, k) float32 patches, on ctx."""
    norms = np.sqrt(np.sum(np.square(patches, dtype=np.float64), axis=(1, 2, 3)))
    kernels = patches / np.maximum(norms, MIN_PATCH_NORM).astype(np.float32)[:, None, None, None]
    n, c, k, _ = patches.shape
    values = patches.transpose(2, 3, 0, 1).reshape((k * k, n, c))
    return StylePatches(mx.nd.array(kernels, ctx=ctx), mx.nd.array(values, ctx=ctx))


# ---------------------------------------------------------------- matching

def chunk_size(feature_shape, patch_size):
    """How many style patches one correlation chunk takes at this feature size."""
    positions = (feature_shape[-2] - patch_size + 1) * (feature_shape[-1] - patch_size + 1)
    return max(1, MATCH_CHUNK_FLOATS // positions)


def nearest_patches(features, kernels, chunk=None):
    """NN(i) for every patch (stride 1) of features (1, C, H, W): a (H-k+1, W-k+1) float32 NDArray
    of indices into kernels (N, C, k, k), the normalised style patches, in chunks of at most
    `chunk` kernels (default: chunk_size). Ties go to the lowest index, whatever the chunking: the
    first chunk holding the maximum keeps it, and inside a chunk the lowest index among the
    positions equal to the chunk's maximum is taken. Every chunk is one convolution of the same
    number of kernels (the last padded with zeros, their output dropped): oneDNN computes a kernel's
    correlation with other rounding in a convolution of another width (measured: 1e-7 apart), so
    that equal patches in chunks of different widths would not tie."""
    count, _, k, _ = kernels.shape
    chunk = chunk or chunk_size(features.shape, k)
    chunks = -(-count // chunk)
    chunk = -(-count // chunks)  # as even as can be: the padding is less than one kernel per chunk
    best_value = best_index = None
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        # a copy, not a view: oneDNN's convolution reorders its weight array in place, which corrupts
        # the array a view belongs to (measured: wrong matches in the later chunks)
        weight = kernels[start:stop].copy()
        if stop - start < chunk:
            weight = mx.nd.concat(weight, mx.nd.zeros((chunk - (stop - start),) + weight.shape[1:], ctx=weight.context),
                                  dim=0)
        correlation = mx.nd.Convolution(features, weight=weight, kernel=(k, k), num_filter=chunk,
                                        no_bias=True)[0][:stop - start]  # (n, h, w)
        value = mx.nd.max(correlation, axis=0, keepdims=True)
        # lowest index at the maximum: the non-maxima get an index past the chunk's end, then the minimum
        positions = mx.nd.arange(start, stop, ctx=features.context).reshape((-1, 1, 1))
        below = mx.nd.broadcast_lesser(correlation, value)
        index = mx.nd.min(mx.nd.broadcast_add(below * (count + 1), positions), axis=0)
        value = value[0]
        if best_value is None:
            best_value, best_index = value, index
        else:
            better = value > best_value  # strictly: an earlier chunk wins a tie
            best_index = mx.nd.where(better, index, best_index)
            best_value = mx.nd.maximum(value, best_value)
    return best_index


def overlap_count(feature_shape, patch_size):
    """How many stride-1 patches cover each position of a (.., H, W) map: (1, 1, H, W) float32."""
    h, w = feature_shape[-2:]
    count = np.zeros((1, 1, h, w), dtype=np.float32)
    for dy in range(patch_size):
        for dx in range(patch_size):
            count[0, 0, dy:dy + h - patch_size + 1, dx:dx + w - patch_size + 1] += 1
    return count


def matched_values(values, index, offset):
    """The matched style patches' values at one offset inside the patch, laid out as (C, h, w)."""
    h, w = index.shape
    taken = mx.nd.take(values[offset], index.reshape((-1,)))  # (h*w, C)
    return taken.T.reshape((0, h, w))


def matched_target(values, index, count):
    """(M, V) of the matches `index`: M (1, C, H, W) the mean of the matched style values over each
    position, V (1,) the sum of their squared deviations from it. values: StylePatches.values."""
    kk, _, c = values.shape
    k = int(round(kk ** 0.5))
    h, w = index.shape
    total = mx.nd.zeros((c, h + k - 1, w + k - 1), ctx=values.context)
    for offset in range(kk):
        dy, dx = divmod(offset, k)
        total[:, dy:dy + h, dx:dx + w] += matched_values(values, index, offset)
    mean = mx.nd.broadcast_div(total, count[0])
    spread = mx.nd.zeros((1,), ctx=values.context)
    for offset in range(kk):
        dy, dx = divmod(offset, k)
        spread += mx.nd.sum(mx.nd.square(matched_values(values, index, offset) - mean[:, dy:dy + h, dx:dx + w]))
    return mean.expand_dims(0), spread


# ---------------------------------------------------------------- re-matching inside the loss executor

class Rematcher:
    """A hook of the loss executor (loss_setup.start_epoch runs it at the start of every epoch, the
    epoch's image in the executor): every `every` epochs it computes the MRF layers' features at
    that image, matches their patches and refills the targets. feature_executor: forward-only, on
    the loss executor's own image and weights, with the MRF layers' features as its outputs."""

    def __init__(self, feature_executor, arg_dict, styles, every=1):
        self.feature_executor, self.arg_dict, self.styles, self.every = feature_executor, arg_dict, styles, every
        self.epochs = 0

    def __call__(self):
        """Re-match if this epoch is one that does; returns whether it did (the loss changed)."""
        due = self.epochs % self.every == 0
        self.epochs += 1
        if due:
            self.rematch()
        return due

    def rematch(self):
        self.feature_executor.forward(is_train=False)
        for i, (features, style) in enumerate(zip(self.feature_executor.outputs, self.styles)):
            index = nearest_patches(features, style.kernels)
            mean, spread = matched_target(style.values, index, self.arg_dict[count_name(i)])
            mean.copyto(self.arg_dict[target_name(i)])
            spread.copyto(self.arg_dict[spread_name(i)])
