"""Benchmark: would the stylizers gain from running video frames in batches? A batch of N frames
(default 4, 640x480) through one executor against the same frames one at a time, for Johnson's
network (generators.networks.johnson(one_image=True, images=N)) and the 26-style one-pass network
(onepass.layers.instance_norm with images=N): the instance normalisations as BatchNorms over the
batch folded to (1, N*C, H, W), so that each frame keeps its own statistics. Both ways alternate,
--repeats times after a warm-up; the best of each counts. Prints the seconds, the ratio and the
largest difference between the two outputs. RANDOM weights (a forward pass costs the same). This
asserts nothing.

    python benchmarks/batch_frames.py --repeats 5
"""
import argparse
import functools
import os
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


def random_arguments(symbol, input_name, shape, rng):
    import numpy as np
    shapes = dict(zip(symbol.list_arguments(), symbol.infer_shape(**{input_name: shape})[0]))
    return {name: (rng.uniform(0.5, 1.5, s) if name.endswith('_gamma') else rng.normal(0, 0.1, s)).astype(np.float32)
            for name, s in shapes.items() if name != input_name}


def bind(symbol, input_name, shape, params):
    """Bound as the stylizers bind: the input's gradient asked for, never computed."""
    from neural_style.mxnet_runtime import mx
    shapes = dict({name: value.shape for name, value in params.items()}, **{input_name: shape})
    executor = symbol.simple_bind(mx.cpu(), grad_req={name: 'write' if name == input_name else 'null'
                                                      for name in symbol.list_arguments()}, **shapes)
    for name, value in params.items():
        executor.arg_dict[name][:] = value
    for name, array in executor.aux_dict.items():
        array[:] = 1 if name.endswith('_var') else 0
    return executor


def networks(images):
    """[(name, one-image symbol, batch symbol, input name, frames' value range)]."""
    from neural_style.generators import networks as generators
    from neural_style.onepass import layers, multistyle
    one_at_a_time = multistyle.multistyle_symbol()
    real = layers.instance_norm
    layers.instance_norm = functools.partial(real, images=images)  # what multistyle_symbol builds with
    try:
        batched = multistyle.multistyle_symbol()
    finally:
        layers.instance_norm = real
    return [("Johnson's network", generators.johnson(one_image=True), generators.johnson(one_image=True, images=images),
             'data', (-120, 120)),
            ('26-style one-pass network', one_at_a_time, batched, 'image', (0, 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', default='640x480', help='WxH')
    parser.add_argument('--images', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    options = parser.parse_args()
    import numpy as np
    from neural_style.machine import cpu_model
    from neural_style.mxnet_runtime import THREADS
    w, h = (int(x) for x in options.size.lower().split('x'))
    n = options.images
    print('%dx%d, %d frames, RANDOM weights; %s, %s threads' % (w, h, n, cpu_model(), THREADS))
    for name, single, batch, input_name, (low, high) in networks(n):
        rng = np.random.RandomState(0)
        params = random_arguments(single, input_name, (1, 3, h, w), rng)
        frames = rng.uniform(low, high, (n, 3, h, w)).astype(np.float32)
        one, many = bind(single, input_name, (1, 3, h, w), params), bind(batch, input_name, (n, 3, h, w), params)

        def one_at_a_time():
            outputs = []
            for k in range(n):
                one.arg_dict[input_name][:] = frames[k:k + 1]
                outputs.append(one.forward(is_train=True)[0].asnumpy())
            return np.concatenate(outputs)

        def in_a_batch():
            many.arg_dict[input_name][:] = frames
            return many.forward(is_train=True)[0].asnumpy()
        first, batched = one_at_a_time(), in_a_batch()  # also the warm-up
        times = {one_at_a_time: [], in_a_batch: []}
        for _ in range(options.repeats):
            for work in times:
                start = time.perf_counter()
                work()
                times[work].append(time.perf_counter() - start)
        alone, together = min(times[one_at_a_time]), min(times[in_a_batch])
        print('%-26s %d one at a time %.3f s, one batch %.3f s: batch/one-at-a-time %.2f; largest difference %.2g '
              '(of outputs up to %.3g)' % (name, n, alone, together, together / alone,
                                           np.abs(first - batched).max(), np.abs(first).max()))


if __name__ == '__main__':
    main()
