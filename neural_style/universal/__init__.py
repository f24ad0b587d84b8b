"""Universal style transfer: one set of networks for any style, by feature transforms.

    transforms  wct, adain, whiten, blend (several styles): numpy on (C, H, W) features  (no MXNet)
    networks    the normalised VGG-19 encoders (relu1_1 ... relu5_1) and mirrored decoders, as mx.sym
    stylize     the whole pass: stylize_universal(content, styles, weights, UniversalSettings(method, alpha, levels))
    torch7      the authors' Torch7 models -> our .params (torchfile; no Torch)
    training    training the decoders on a folder of images, resumable

Li et al. 2017, "Universal Style Transfer via Feature Transforms" (WCT); Huang & Belongie 2017,
"Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization" (AdaIN).
"""
import dataclasses

from .transforms import adain, blend, wct, whiten  # noqa: F401  (numpy only)


@dataclasses.dataclass(frozen=True)
class UniversalSettings:
    """How a pass runs: built once at the command line's edge (--method, --alpha, --levels). No MXNet."""
    method: str = 'wct'      # 'wct' or 'adain'
    alpha: float = 1.0       # 1: the transformed features alone; 0: the content's
    levels: object = 5       # WCT: N runs relu N_1 ... relu1_1; a list such as [5] runs just those
    weights_dir: str = None  # default model/wct or model/adain


def stylize_universal(content_pixels, style_pixels_list, style_weights=None, settings=None, weights=None):
    """neural_style.universal.stylize.stylize_universal, imported on the first call (it loads MXNet).
    settings: a UniversalSettings (method, alpha, levels, weights_dir); None: WCT, alpha 1, five levels."""
    from . import stylize
    return stylize.stylize_universal(content_pixels, style_pixels_list, style_weights,
                                     settings or UniversalSettings(), weights)

