"""The feature transforms of universal style transfer, on one image's features shaped (C, H, W), in numpy
(no MXNet, so that anyone can check them):

    wct     Li et al. 2017, "Universal Style Transfer via Feature Transforms": whiten the content's
            features (identity covariance), colour them with the style's covariance, add the style's mean
    adain   Huang & Belongie 2017, "Arbitrary Style Transfer in Real-time with Adaptive Instance
            Normalization": each channel takes the style's mean and standard deviation
    blend   several styles at once: the weighted sum of the transform towards each (the papers' style
            interpolation), then blended with the content by alpha

Both follow the authors' Torch7 code (test_wct.lua, lib/AdaptiveInstanceNormalization.lua) in what
changes numbers: the covariance divides by N - 1; eigenvalues <= 1e-5 are dropped, the same number from
the content's and the style's decomposition (the larger of the two counts); AdaIN normalises the content
by sqrt(biased variance + 1e-5) and scales by the style's biased standard deviation without epsilon.
"""
import numpy as np

WCT_EPSILON = 1e-5    # test_wct.lua: eigenvalues at or below it are dropped
ADAIN_EPSILON = 1e-5  # AdaptiveInstanceNormalization.lua: added to the content's variance
# Columns (pixels) per block of the float64 covariance sum: a float64 copy of every pixel at once
# would cost 8 bytes * C * H * W (512 MB for relu1_1 of a 1024x1024 image).
COVARIANCE_BLOCK = 1 << 16


def as_matrix(features, name):
    """(C, H, W) float array -> (C, H*W) float32 view or copy; a clear ValueError otherwise."""
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError('%s: expected features shaped (C, H, W), got shape %s' % (name, features.shape))
    if features.dtype.kind != 'f':
        raise ValueError('%s: expected floating-point features, got %s' % (name, features.dtype))
    matrix = features.reshape(features.shape[0], -1).astype(np.float32, copy=False)
    if not np.isfinite(matrix).all():  # LAPACK's eigh can loop for ever on NaN
        raise ValueError('%s: the features hold NaN or infinite values' % name)
    return matrix


def mean_and_covariance(matrix):
    """(C, N) -> (mean (C,) float64, covariance (C, C) float64 over N - 1), summed in float64 in blocks."""
    channels, count = matrix.shape
    if count < 2:
        raise ValueError('a covariance needs at least 2 positions, got %d' % count)
    mean = matrix.mean(axis=1, dtype=np.float64)
    covariance = np.zeros((channels, channels), np.float64)
    for start in range(0, count, COVARIANCE_BLOCK):
        block = matrix[:, start:start + COVARIANCE_BLOCK].astype(np.float64) - mean[:, None]
        covariance += block @ block.T
    return mean, covariance / (count - 1)


def small_eigenvalues(eigenvalues, epsilon=WCT_EPSILON):
    """How many of the ascending eigenvalues come before the first above epsilon (test_wct.lua's k - 1)."""
    above = np.nonzero(eigenvalues > epsilon)[0]
    return int(above[0]) if len(above) else len(eigenvalues)


def eigen(covariance):
    """Ascending eigenvalues and their eigenvectors of a symmetric matrix, in float64."""
    return np.linalg.eigh(covariance)


def power_of(eigenvalues, eigenvectors, power, dropped):
    """E D^power E^T over the eigenvalues after the first `dropped` (C x C, float64)."""
    values, vectors = eigenvalues[dropped:], eigenvectors[:, dropped:]
    return (vectors * values ** power) @ vectors.T


def whitening_matrix(covariance, dropped=None):
    """E_c D_c^-1/2 E_c^T: the linear map that gives centred features the identity covariance."""
    values, vectors = eigen(covariance)
    return power_of(values, vectors, -0.5, small_eigenvalues(values) if dropped is None else dropped)


def whiten(content):
    """The content's features whitened: centred, then mapped to the identity covariance. (C, H, W) float32."""
    matrix = as_matrix(content, 'content')
    mean, covariance = mean_and_covariance(matrix)
    whitened = whitening_matrix(covariance).astype(np.float32) @ (matrix - mean[:, None].astype(np.float32))
    return whitened.reshape(np.shape(content))


def wct_matrix(content_covariance, style_covariance):
    """The whole WCT as one C x C map of centred content features: E_s D_s^1/2 E_s^T E_c D_c^-1/2 E_c^T,
    both decompositions dropping the same number of small eigenvalues (test_wct.lua's k = max(k_c, k_s))."""
    content_values, content_vectors = eigen(content_covariance)
    style_values, style_vectors = eigen(style_covariance)
    dropped = max(small_eigenvalues(content_values), small_eigenvalues(style_values))
    colouring = power_of(style_values, style_vectors, 0.5, dropped)
    whitening = power_of(content_values, content_vectors, -0.5, dropped)
    return colouring @ whitening


def blended(transformed, content, alpha):
    """alpha * transformed + (1 - alpha) * content; alpha 0 gives the content itself, alpha 1 the transform."""
    check_alpha(alpha)
    if alpha == 1:
        return transformed
    if alpha == 0:
        return np.array(content, dtype=np.float32)
    return (alpha * transformed + (1 - alpha) * np.asarray(content, np.float32)).astype(np.float32)


def check_alpha(alpha):
    if not 0 <= alpha <= 1:
        raise ValueError('alpha must be in [0, 1], got %r' % (alpha,))


def wct_full(content, style):
    """The whitening and colouring transform at alpha 1: features with the style's mean and covariance."""
    content_matrix = as_matrix(content, 'content')
    style_matrix = as_matrix(style, 'style')
    if content_matrix.shape[0] != style_matrix.shape[0]:
        raise ValueError('content and style features have %d and %d channels' % (content_matrix.shape[0],
                                                                                   style_matrix.shape[0]))
    content_mean, content_covariance = mean_and_covariance(content_matrix)
    style_mean, style_covariance = mean_and_covariance(style_matrix)
    transform = wct_matrix(content_covariance, style_covariance).astype(np.float32)
    # the big product in float32: the map itself was computed in float64
    result = transform @ (content_matrix - content_mean[:, None].astype(np.float32))
    result += style_mean[:, None].astype(np.float32)
    return result.reshape(np.shape(content))


def wct(content, style, alpha=1.0):
    """Li et al.'s WCT of content features (C, H, W) towards style features (C, H', W'), blended with the
    content by alpha (1: all style, 0: the content unchanged). float32 (C, H, W)."""
    check_alpha(alpha)
    if alpha == 0:
        return np.array(content, dtype=np.float32)
    return blended(wct_full(content, style), content, alpha)


def channel_mean_std(features, epsilon=0.0):
    """Per channel: mean and sqrt(biased variance + epsilon), float64 (C, 1) each."""
    matrix = as_matrix(features, 'features')
    mean = matrix.mean(axis=1, dtype=np.float64)[:, None]
    variance = np.square(matrix - mean.astype(np.float32), dtype=np.float64).mean(axis=1)[:, None]
    return mean, np.sqrt(variance + epsilon)


def adain_full(content, style):
    """AdaIN at alpha 1: each content channel normalised, then given the style channel's mean and std."""
    content_matrix = as_matrix(content, 'content')
    if content_matrix.shape[0] != np.shape(style)[0]:
        raise ValueError('content and style features have %d and %d channels' % (content_matrix.shape[0],
                                                                                   np.shape(style)[0]))
    content_mean, content_std = channel_mean_std(content, ADAIN_EPSILON)
    style_mean, style_std = channel_mean_std(style)
    scale = (style_std / content_std).astype(np.float32)
    shift = (style_mean - content_mean * style_std / content_std).astype(np.float32)
    return (content_matrix * scale + shift).reshape(np.shape(content))


def adain(content, style, alpha=1.0):
    """Huang & Belongie's AdaIN of content features (C, H, W) towards style features (C, H', W'), blended
    with the content by alpha. float32 (C, H, W)."""
    check_alpha(alpha)
    if alpha == 0:
        return np.array(content, dtype=np.float32)
    return blended(adain_full(content, style), content, alpha)


TRANSFORMS = {'wct': wct_full, 'adain': adain_full}


def normalised_weights(weights, count):
    weights = np.asarray([1.0] * count if weights is None else weights, np.float64)
    if weights.shape != (count,):
        raise ValueError('expected %d style weights, got %d' % (count, weights.size))
    if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise ValueError('style weights must be >= 0, finite and not all 0, got %s' % weights.tolist())
    return weights / weights.sum()


def blend(method, content, styles, weights=None, alpha=1.0):
    """Style interpolation: sum_i w_i * transform(content, style_i) with the weights normalised to sum 1,
    then blended with the content by alpha. method: 'wct' or 'adain'. float32 (C, H, W)."""
    check_alpha(alpha)
    if method not in TRANSFORMS:
        raise ValueError('unknown method %r; choose one of %s' % (method, ', '.join(TRANSFORMS)))
    if not styles:
        raise ValueError('expected at least one style')
    weights = normalised_weights(weights, len(styles))
    if alpha == 0:
        return np.array(content, dtype=np.float32)
    mixed = sum(np.float32(weight) * TRANSFORMS[method](content, style)
                for weight, style in zip(weights, styles) if weight > 0)
    return blended(mixed.astype(np.float32), content, alpha)
