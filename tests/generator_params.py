"""The seeded random generator weights of the end_to_end golden runs (tests/golden/end_to_end/README.md),
in the original's layout DIR/<k>/v3_0002-0026000.params: random, never the published generators.

For file k and the i-th array of generator_arrays.json[k], RandomState(seed * 1000 + k * 100 + i) draws
it by its name's ending (He-normal weights, small biases, gammas near 1, betas near 0, moving means
N(0, 1), moving variances in [5, 15]), as float32."""
import json
import os

import numpy as np

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden', 'end_to_end')
DRAWS = [('_weight', lambda rs, s: rs.normal(0, np.sqrt(2.0 / np.prod(s[1:])), s)),
         ('_bias', lambda rs, s: rs.normal(0, 0.01, s)),
         ('_gamma', lambda rs, s: rs.uniform(0.8, 1.2, s)),
         ('_beta', lambda rs, s: rs.normal(0, 0.1, s)),
         ('_moving_mean', lambda rs, s: rs.normal(0, 1.0, s)),
         ('_moving_var', lambda rs, s: rs.uniform(0.5, 1.5, s) * 10)]


def generator_arrays():
    """[[(key, shape)] per generator file], in the order the original saved them."""
    with open(os.path.join(GOLDEN, 'generator_arrays.json')) as f:
        return [[(key, tuple(shape)) for key, shape in arrays] for arrays in json.load(f)]


def random_generator_arrays(seed):
    """[{key: float32 array} per generator k = 0..3]."""
    files = []
    for k, arrays in enumerate(generator_arrays()):
        drawn = {}
        for i, (key, shape) in enumerate(arrays):
            rs = np.random.RandomState(seed * 1000 + k * 100 + i)
            draw = next(f for ending, f in DRAWS if key.endswith(ending))
            drawn[key] = draw(rs, shape).astype(np.float32)
        files.append(drawn)
    return files


def save_generators(model_dir, files, name='v3_0002-0026000'):
    import mxnet as mx
    for k, arrays in enumerate(files):
        os.makedirs(os.path.join(str(model_dir), str(k)), exist_ok=True)
        mx.nd.save(os.path.join(str(model_dir), str(k), name + '.params'),
                   {key: mx.nd.array(value, dtype=np.float32) for key, value in arrays.items()})
