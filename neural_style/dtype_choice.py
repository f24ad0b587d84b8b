"""--dtype auto: bfloat16 only where it measured faster on this CPU.

Whether oneDNN's bfloat16 convolutions pay depends on the CPU, not just on its flags: on an AMD EPYC
(Zen 4) an epoch took 0.51x the float32 time, on a Xeon with the same AVX512-BF16 flag 1.5x
(issue 25). So the choice is measured: a few of VGG-19's convolutions at the run's size, float32
against bfloat16, about a second, once per machine; the result is cached in
~/.cache/neural-style/ ($XDG_CACHE_HOME honoured), in one file per CPU model and MXNet version,
written atomically. A cache file that cannot be read or does not match is ignored and rewritten.

    dtype, reason = choose_dtype(mx.cpu(), (400, 600))   # ('bfloat16', 'bfloat16: measured 0.62x ...')
"""
import hashlib
import json
import os
import tempfile
import time

import numpy as np  # MXNet is imported inside the functions that run it

# bfloat16 must beat float32 by this much: a near tie is noise, and float32 is the exact one.
REQUIRED_SPEEDUP = 0.9
CACHE_VERSION = 1


def cpu_model_and_flags():
    """(model name, set of flags) of this CPU (machine.py reads them from /proc/cpuinfo)."""
    from neural_style.machine import cpu_flags, cpu_model
    return cpu_model(), cpu_flags()


def default_cache_dir():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'neural-style')


def cache_path(cache_dir, cpu_model, mxnet_version):
    key = hashlib.sha1(('%s|%s' % (cpu_model, mxnet_version)).encode()).hexdigest()[:16]
    return os.path.join(cache_dir, 'dtype-choice-%s.json' % key)


def read_cache(path, cpu_model, mxnet_version):
    """{size key: {'float32_s', 'bfloat16_s'}} of the file, or {} where it is missing, unreadable,
    or made for another CPU, MXNet or format."""
    try:
        with open(path) as f:
            cached = json.load(f)
        if (cached.get('version') != CACHE_VERSION or cached.get('cpu') != cpu_model
                or cached.get('mxnet') != mxnet_version):
            return {}
        sizes = cached['sizes']
        for timing in sizes.values():
            float(timing['float32_s']), float(timing['bfloat16_s'])
        return sizes
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_cache(path, cpu_model, mxnet_version, sizes):
    """The whole file, to a temporary name in the same folder first: never half written. A cache
    that cannot be written (read-only home) costs one more measurement next time, nothing else."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.dtype-choice-', suffix='.tmp')
        with os.fdopen(handle, 'w') as f:
            json.dump({'version': CACHE_VERSION, 'cpu': cpu_model, 'mxnet': mxnet_version, 'sizes': sizes}, f,
                      indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError:
        pass


def check_size(size):
    """The run's (h, w) as the cache knows it: sides rounded down to 8 (at least 8), so that nearby
    sizes share one measurement."""
    return tuple(max(8, side // 8 * 8) for side in size)


# The check's feature maps are bands of the run's: its full width, at most this many pixels, so
# that it stays near a second on 2 cores at any size (a pass at 600x400 is 9 GFLOP, not 35).
MAX_CHECK_PIXELS = 15000


def measure_convolutions(size, repeats=2):
    """(float32 seconds, bfloat16 seconds): the best of `repeats` forward passes, after one warm-up,
    of two of VGG-19's convolutions as they see an image of `size` (conv2_2: 128 channels at half its
    side, conv3_2: 256 at a quarter; bands of MAX_CHECK_PIXELS), each followed by its ReLU, the two
    number types interleaved so that a load spike hits both."""
    from neural_style.mxnet_runtime import mx
    from mxnet.contrib import amp
    def band(h, w):  # the width kept, the height cut to at most MAX_CHECK_PIXELS
        return max(1, min(h, MAX_CHECK_PIXELS // max(1, w))), max(1, w)
    half = mx.sym.Variable('half')
    quarter = mx.sym.Variable('quarter')
    outputs = []
    for data, channels in ((half, 128), (quarter, 256)):
        x = mx.sym.Convolution(data, num_filter=channels, kernel=(3, 3), pad=(1, 1), name='conv%d' % channels)
        outputs.append(mx.sym.Activation(x, act_type='relu'))
    float32 = mx.sym.Group(outputs)
    bfloat16 = amp.convert_symbol(float32, target_dtype='bfloat16', target_dtype_ops=['Convolution'],
                                  fp32_ops=[], conditional_fp32_ops=[], cast_optional_params=False)
    h, w = size
    shapes = {'half': (1, 128) + band(h // 2, w // 2), 'quarter': (1, 256) + band(h // 4, w // 4)}
    rng = np.random.RandomState(0)
    executors = []
    for symbol in (float32, bfloat16):
        arg_shapes = dict(zip(float32.list_arguments(), float32.infer_shape(**shapes)[0]))
        args = {name: mx.nd.array(rng.normal(0, 0.1, shape)) for name, shape in arg_shapes.items()}
        executors.append(symbol.bind(mx.cpu(), args={name: args[name] for name in symbol.list_arguments()},
                                     grad_req='null'))
    best = [float('inf'), float('inf')]
    for attempt in range(repeats + 1):
        for k, executor in enumerate(executors):
            start = time.perf_counter()
            for output in executor.forward(is_train=False):
                output.wait_to_read()
            if attempt:  # the first is the warm-up: oneDNN picks its kernels
                best[k] = min(best[k], time.perf_counter() - start)
    return best[0], best[1]


def choose_dtype(context, size=(400, 600), cache_dir=None, measure=measure_convolutions, mxnet_version=None,
                 cpu=None):
    """('float32' or 'bfloat16', one line for the log saying why). context: an mx.Context (or
    anything with .device_type); size: the run's (h, w). measure(size) -> (float32 s, bfloat16 s)
    and cpu = (model, flags) stand in for the timed check and /proc/cpuinfo in tests."""
    if getattr(context, 'device_type', 'cpu') != 'cpu':
        return 'float32', 'float32: MXNet 1.9 has bfloat16 kernels on the CPU only'
    model, flags = cpu if cpu is not None else cpu_model_and_flags()
    if 'avx512_bf16' not in flags:
        return 'float32', 'float32: this CPU (%s) has no AVX512-BF16, bfloat16 would be emulated' % model
    if mxnet_version is None:
        from neural_style.mxnet_runtime import mx
        mxnet_version = mx.__version__
    path = cache_path(cache_dir or default_cache_dir(), model, mxnet_version)
    sizes = read_cache(path, model, mxnet_version)
    key = '%dx%d' % check_size(size)
    if key in sizes:
        float32_s, bfloat16_s = float(sizes[key]['float32_s']), float(sizes[key]['bfloat16_s'])
        source = 'cached in %s' % path
    else:
        try:
            float32_s, bfloat16_s = measure(check_size(size))
        except RuntimeError as error:  # MXNetError: this build or CPU has no bfloat16 convolution after all
            return 'float32', 'float32: the bfloat16 check failed on this CPU (%s): %s' % (
                model, (str(error).strip().splitlines() or ['?'])[0])
        sizes[key] = {'float32_s': float32_s, 'bfloat16_s': bfloat16_s}
        write_cache(path, model, mxnet_version, sizes)
        source = 'measured now'
    ratio = bfloat16_s / float32_s
    dtype = 'bfloat16' if ratio < REQUIRED_SPEEDUP else 'float32'
    return dtype, '%s: bfloat16 convolutions took %.2fx the float32 time on this CPU (%s) at %s, %s' % (
        dtype, ratio, model, key, source)



def settled(settings):
    """The settings with --dtype auto replaced by this machine's choice (choose_dtype at the run's
    largest size), said in one log line; any other --dtype as it is."""
    if settings.dtype != 'auto':
        return settings
    import dataclasses
    import logging

    from neural_style.mxnet_runtime import pick_context
    edge = max(edge for edge, _ in settings.stages)
    dtype, reason = choose_dtype(pick_context(settings.gpu), (edge * 2 // 3, edge))
    logging.info('--dtype auto: %s', reason)
    return dataclasses.replace(settings, dtype=dtype)
