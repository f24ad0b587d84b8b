"""Universal style transfer: one set of networks for any style, by feature transforms.

    transforms  wct, adain, whiten, blend (several styles): numpy on (C, H, W) features  (no MXNet)
    networks    the normalised VGG-19 encoders (relu1_1 ... relu5_1) and mirrored decoders, as mx.sym
    stylize     the whole pass: stylize_universal(content, styles, weights, method, alpha, levels)
    torch7      the authors' Torch7 models -> our .params (torchfile; no Torch)
    training    training the decoders on a folder of images, resumable

Li et al. 2017, "Universal Style Transfer via Feature Transforms" (WCT); Huang & Belongie 2017,
"Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization" (AdaIN).
"""
from .transforms import adain, blend, wct, whiten  # noqa: F401  (numpy only)


def stylize_universal(*args, **kwargs):
    """See neural_style.universal.stylize.stylize_universal (imported here lazily: it loads MXNet)."""
    from .stylize import stylize_universal as run
    return run(*args, **kwargs)
