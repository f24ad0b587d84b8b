"""Seeded random weights for stylize.py's pretrained networks (the 26-style network, the arbitrary-style
networks), written as ./download.sh --styles writes the converted ones: <name>.params (mx.nd.save) and
a manifest.json with their SHA-256, so that onepass/weights.py loads them as it loads the real ones.
NOT the pretrained weights: their pictures show the pipeline, not a style. Also the universal
networks' random weights (WCT, AdaIN) saved as ./download.sh --wct / --adain leaves them."""
import hashlib
import json
import os

import numpy as np


def argument_shapes(symbol, **input_shapes):
    arg_shapes, _, _ = symbol.infer_shape(**input_shapes)
    return {name: shape for name, shape in zip(symbol.list_arguments(), arg_shapes) if name not in input_shapes}


def random_arrays(shapes, seed, scale=0.1):
    rng = np.random.RandomState(seed)
    return {name: (rng.randn(*shape) * scale).astype(np.float32) for name, shape in sorted(shapes.items())}


def multistyle_arrays(seed):
    """{name: array} as convert_multistyle gives them: conv weights and the 26 styles' gamma/beta tables."""
    from neural_style.onepass import multistyle
    shapes = argument_shapes(multistyle.multistyle_symbol(), image=(1, 3, 64, 64))
    arrays = random_arrays({name: shape for name, shape in shapes.items() if name.endswith('_weight')}, seed)
    rng = np.random.RandomState(seed + 1)
    for layer in multistyle.LAYERS:
        channels = layer[2]
        # gammas near 1 and betas near 0, each style its own: the styles give different pictures
        arrays[layer[0] + '_gamma_table'] = (1 + 0.3 * rng.randn(multistyle.NUM_STYLES, channels)).astype(np.float32)
        arrays[layer[0] + '_beta_table'] = (0.3 * rng.randn(multistyle.NUM_STYLES, channels)).astype(np.float32)
    return arrays


def arbitrary_arrays(seed):
    """(predict, transform) {name: array} as convert_quantised gives them."""
    from neural_style.onepass import arbitrary
    predict = random_arrays(argument_shapes(arbitrary.style_predict_symbol(), style_image=(1, 3, 256, 256)), seed)
    shapes = argument_shapes(arbitrary.transform_symbol(), content=(1, 3, 64, 64))
    transform = random_arrays({name: shape for name, shape in shapes.items()
                               if not name.endswith(('_gamma', '_beta'))}, seed + 1)
    for name, channels in arbitrary.NORMALISED:
        for kind, centre in (('gamma', 1.0), ('beta', 0.0)):
            transform['%s_%s_weight' % (name, kind)] = random_arrays({'w': (channels, arbitrary.STYLE_DIM)},
                                                                     seed + 2, 0.05)['w']
            transform['%s_%s_bias' % (name, kind)] = np.full(channels, centre, np.float32)
    return predict, transform


def save_random_onepass_weights(folder, seed=0):
    """The three networks' random weights and their manifest in FOLDER (made); returns FOLDER as a str."""
    from neural_style.mxnet_runtime import mx
    from neural_style.onepass import weights
    os.makedirs(str(folder), exist_ok=True)
    predict, transform = arbitrary_arrays(seed + 10)
    manifest = {'package': weights.PACKAGE, 'version': weights.VERSION, 'wheel_sha256': weights.WHEEL_SHA256,
                'license': 'seeded random test weights, NOT the pretrained ones', 'files': {}}
    for name, arrays in (('multistyle26', multistyle_arrays(seed)), ('arbitrary_predict', predict),
                         ('arbitrary_transform', transform)):
        path = os.path.join(str(folder), name + '.params')
        mx.nd.save(path, {key: mx.nd.array(value, dtype='float32') for key, value in arrays.items()})
        with open(path, 'rb') as f:
            manifest['files'][name + '.params'] = {'sha256': hashlib.sha256(f.read()).hexdigest()}
    with open(os.path.join(str(folder), weights.MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    return str(folder)


def save_random_universal_weights(folder, method, seed=5, levels=5):
    """WCT's (levels relu N_1 ... relu1_1, five by default) or AdaIN's (relu4_1) seeded random encoders
    and decoders in FOLDER (made)."""
    from neural_style.universal import networks
    from neural_style.universal.stylize import random_weights
    os.makedirs(str(folder), exist_ok=True)
    for level, (encoder, decoder) in random_weights(method, levels, seed=seed).items():
        networks.save_params(os.path.join(str(folder), networks.ENCODER_FILE % level), encoder)
        networks.save_params(os.path.join(str(folder), networks.DECODER_FILE % level), decoder)
    return str(folder)
