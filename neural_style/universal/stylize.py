"""The whole universal style transfer pass, arrays in, arrays out:

    WCT (Li et al. 2017), coarse to fine: for each level N of `levels` (5, 4, ..., 1 by default), encode
    the current image and the style images to relu N_1, WCT the image's features towards the styles'
    (blended by the style weights, then with the image's own features by alpha), decode: the decoded
    image is the next level's input. levels=(5,) is the single-level transfer.
    AdaIN (Huang & Belongie 2017): encode to relu4_1, AdaIN towards the styles, decode once.

Pixels are float32 H x W x 3 in 0 ... 255 in and out; the networks see RGB in [0, 1].
"""
import os

import numpy as np

from . import UniversalSettings, networks, transforms  # noqa: F401  (UniversalSettings: stylize's too)

METHODS = ('wct', 'adain')
DEFAULT_WEIGHTS_DIRS = {'wct': os.path.join('model', 'wct'), 'adain': os.path.join('model', 'adain')}


class WeightsMissing(ValueError):
    """The converted weights are not there; the message says how to get them."""


def level_list(method, levels):
    """The levels a pass runs, coarse to fine: an int N means N, N-1, ..., 1 (WCT); AdaIN is level 4 only."""
    if method not in METHODS:
        raise ValueError('unknown method %r; choose one of %s' % (method, ', '.join(METHODS)))
    if method == 'adain':
        return [networks.ADAIN_LEVEL]
    found = list(range(levels, 0, -1)) if isinstance(levels, (int, np.integer)) else list(levels)
    if not found or any(level not in networks.LEVELS for level in found):
        raise ValueError('levels must be 1 ... 5 or a list of levels from 1 ... 5, got %r' % (levels,))
    return found


def weight_paths(method, levels, weights_dir=None):
    """{level: (encoder path, decoder path)}: the converted files a pass reads (./download.sh --wct, --adain)."""
    weights_dir = weights_dir or DEFAULT_WEIGHTS_DIRS[method]
    return {level: tuple(os.path.join(weights_dir, pattern % level)
                         for pattern in (networks.ENCODER_FILE, networks.DECODER_FILE))
            for level in level_list(method, levels)}


_remembered = {}  # (encoder path, decoder path), absolute -> (encoder params, decoder params)


def remember(method, levels, weights_dir, weights):
    """WEIGHTS as load_weights(method, levels, weights_dir) gave them elsewhere: load_weights returns
    them from now on without reading the files (a Ray worker gets them from the driver; no shared
    filesystem, nothing read from the worker's disk)."""
    for level, paths in weight_paths(method, levels, weights_dir).items():
        _remembered[tuple(os.path.abspath(path) for path in paths)] = weights[level]


def load_weights(method, levels, weights_dir=None):
    """{level: (encoder params, decoder params)} from a folder of converted weights (./download.sh),
    or as remember() was handed them."""
    weights = {}
    for level, paths in weight_paths(method, levels, weights_dir).items():
        remembered = _remembered.get(tuple(os.path.abspath(path) for path in paths))
        if remembered is not None:
            weights[level] = remembered
            continue
        for path in paths:
            if not os.path.isfile(path):
                raise WeightsMissing('%s not found: run ./download.sh --%s to fetch and convert the authors\' '
                                     'models, or train decoders (python -m neural_style.universal.training)'
                                     % (path, method))
        weights[level] = tuple(networks.load_params(path, level, part) for path, part in zip(paths, ('encoder',
                                                                                                      'decoder')))
    return weights


def random_weights(method, levels, seed=0):
    """{level: (encoder params, decoder params)}, seeded random: for tests and --random-weights only."""
    return {level: (networks.random_params(level, 'encoder', seed + 2 * level),
                    networks.random_params(level, 'decoder', seed + 2 * level + 1))
            for level in level_list(method, levels)}


def to_network(pixels):
    pixels = np.asarray(pixels, np.float32)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError('expected pixels shaped (H, W, 3), got %s' % (pixels.shape,))
    return (pixels / 255.0).transpose(2, 0, 1)[None]


def to_pixels(image):
    return np.clip(image[0].transpose(1, 2, 0) * 255.0, 0, 255).astype(np.float32)


def stylize_universal(content_pixels, style_pixels_list, style_weights=None, settings=UniversalSettings(),
                      weights=None):
    """Stylise content_pixels (H x W x 3, float 0-255) with one or more styles (a list of H' x W' x 3
    pixel arrays, blended by style_weights, default equal) by settings.method ('wct' or 'adain'); alpha in
    [0, 1] blends the transformed features with the content's at every level. levels (WCT only): N runs
    relu N_1 ... relu1_1 coarse to fine; a list such as [5] runs just those. weights: {level: (encoder,
    decoder params)} (from load_weights or random_weights); when None they are loaded from
    settings.weights_dir (default model/wct or model/adain). Returns float32 H x W x 3 in 0 ... 255."""
    method, alpha, levels = settings.method, settings.alpha, settings.levels
    run_levels = level_list(method, levels)
    if not style_pixels_list:
        raise ValueError('expected at least one style image')
    transforms.check_alpha(alpha)
    transforms.normalised_weights(style_weights, len(style_pixels_list))  # refused before any work
    if weights is None:
        weights = load_weights(method, levels, settings.weights_dir)
    image = to_network(content_pixels)
    height, width = image.shape[2:]
    styles = [to_network(style) for style in style_pixels_list]
    for level in run_levels:
        encoder_params, decoder_params = weights[level]
        encoder = networks.bound_encoder(level, encoder_params)
        content_features = encoder(image)[0]
        style_features = [encoder(style)[0] for style in styles]
        del encoder  # its executors: one network in memory at a time
        mixed = transforms.blend(method, content_features, style_features, style_weights, alpha)
        decoder = networks.bound_decoder(level, decoder_params)
        image = networks.crop_to(decoder(mixed[None]), height, width)
        del decoder
    return to_pixels(image)
