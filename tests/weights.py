"""The seeded random VGG-19 weights the golden run of the original used (recipe in
tests/golden/README.md), saved in the real file format: never the real weights."""
import numpy as np

CONV_CHANNELS = [('conv1_1', 3, 64), ('conv1_2', 64, 64),
                 ('conv2_1', 64, 128), ('conv2_2', 128, 128),
                 ('conv3_1', 128, 256), ('conv3_2', 256, 256), ('conv3_3', 256, 256), ('conv3_4', 256, 256),
                 ('conv4_1', 256, 512), ('conv4_2', 512, 512), ('conv4_3', 512, 512), ('conv4_4', 512, 512),
                 ('conv5_1', 512, 512)]


def random_vgg19_arrays(seed=0):
    """{'arg:<layer>_weight': He-normal W, 'arg:<layer>_bias': zeros}, one RandomState for all layers."""
    rng = np.random.RandomState(seed)
    arrays = {}
    for name, cin, cout in CONV_CHANNELS:
        arrays['arg:%s_weight' % name] = rng.normal(0, np.sqrt(2 / (cin * 9)), (cout, cin, 3, 3)).astype('float32')
        arrays['arg:%s_bias' % name] = np.zeros((cout,), dtype='float32')
    return arrays


def save_params(path, arrays):
    import mxnet as mx
    mx.nd.save(str(path), {key: mx.nd.array(value, dtype=value.dtype) for key, value in arrays.items()})
