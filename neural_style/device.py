"""Where MXNet runs: a usable GPU or the CPU, and whether bfloat16 pays on this CPU."""
import logging

import find_mxnet  # noqa: F401  (makes `import mxnet` work, or says how to install it)
import gpu_build
import mxnet as mx

from .flags import NstyleError
from .memory import available_bytes


def pick_context(gpu):
    """mx.gpu(gpu) when that GPU is usable, else the CPU, with a one-line warning."""
    if gpu < 0:
        return mx.cpu()
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        count = 0
    info = gpu_build.gpu_info(gpu) if gpu < count else None  # (name, compute capability) from the driver
    usable, warning = gpu_build.gpu_decision(gpu, count, info)
    if not usable:  # no such GPU, or one the build has no code for (H100, H200)
        logging.warning('%s', warning)
        return mx.cpu()
    return mx.gpu(gpu)


def available_memory(dev):
    """(bytes free where a run's arrays live, that place in words): the GPU's free memory on a GPU,
    else what this machine (or its container) has available; bytes None when unknown."""
    if dev.device_type == 'gpu':
        try:
            return mx.context.gpu_memory_info(dev.device_id)[0], 'GPU %d' % dev.device_id
        except mx.base.MXNetError:
            return None, 'GPU %d' % dev.device_id
    return available_bytes(), 'this machine'


def cpu_flags():
    """The instruction-set flags of the CPU, from /proc/cpuinfo (empty where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            return set(next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), []))
    except OSError:
        return set()


def check_bfloat16(dev):
    """--dtype bfloat16 needs oneDNN's bfloat16 kernels: the CPU, with AVX512-BF16 instructions
    (elsewhere oneDNN emulates them, slower than float32)."""
    if dev.device_type != 'cpu':
        raise NstyleError('--dtype bfloat16 runs on the CPU only (MXNet 1.9 has bfloat16 kernels in oneDNN, not '
                          'in CUDA): pass --gpu -1, or drop --dtype bfloat16')
    if 'avx512_bf16' not in cpu_flags():
        raise NstyleError('--dtype bfloat16: this CPU has no AVX512-BF16 instructions (avx512_bf16 is not in '
                          '/proc/cpuinfo), so bfloat16 would be emulated and slower than float32; use the default '
                          '--dtype float32')


def context_for(gpu, dtype):
    """The context of --gpu, checked for --dtype."""
    dev = pick_context(gpu)
    if dtype == 'bfloat16':
        check_bfloat16(dev)
    return dev
