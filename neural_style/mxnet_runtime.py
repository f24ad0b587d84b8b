"""MXNet, loaded once with this project's settings, and where a run computes (a usable GPU or the
CPU, whether bfloat16 pays).

Every module of the package takes MXNet from here (`from neural_style.mxnet_runtime import mx`), so
that these settings are in place before it loads; find_mxnet.py is the original's name for it.

The original example fell back to a source checkout's python folder; today
MXNet 1.9.1 comes from PyPI (the CPU build `mxnet`, the GPU build `mxnet-cu112`).

Threads: when OMP_NUM_THREADS is unset, MXNet runs oneDNN on half the logical
CPUs (src/engine/openmp.cc assumes hyper-threading), so on a machine without SMT
half of it idles. We set OMP_NUM_THREADS to the CPUs this process may use before
MXNet loads; an explicit OMP_NUM_THREADS is kept.

Start-up: `import mxnet` imports every part of MXNet, among them mxnet.contrib (its
quantization imports scipy.stats, its onnx part more), mxnet.test_utils (scipy.stats,
requests) and mxnet.gluon (requests), none of which a run uses; and MXNet's `import
distutils` pulls in all of setuptools through setuptools' distutils shim. Those parts
become LazyPackages that import the real module when first used (bfloat16's
mxnet.contrib.amp, say), and distutils is the standard library's: together about a fifth
of the import time (python -X importtime).
"""
import importlib
import importlib.util
import logging
import os
import sys
import types

from neural_style import cuda_build
from neural_style.errors import NstyleError
from neural_style.machine import available_bytes, cpu_flags, usable_cpu_count
from neural_style.mxnet_ops_cache import compiled_once

if os.environ.get('OMP_NUM_THREADS'):
    THREADS, THREADS_SOURCE = os.environ['OMP_NUM_THREADS'], 'OMP_NUM_THREADS'
else:
    THREADS, THREADS_SOURCE = str(usable_cpu_count()), 'the CPUs this process may use'
    os.environ['OMP_NUM_THREADS'] = THREADS

# MXNet announces each executor's subgraph backend on stderr ("Subgraph backend MKLDNN is activated"):
# noise to a user, so off unless asked for
os.environ.setdefault('MXNET_SUBGRAPH_VERBOSE', '0')

# One copy of MXNet's CPU temporary workspace instead of 4: the copies let operators run in parallel, but
# this port runs one operator at a time, and oneDNN's reorders of the 600x400 feature maps make each copy
# tens of MB (benchmarks/memory.py: 110 MB less at 600x400, the same numbers).
os.environ.setdefault('MXNET_CPU_TEMP_COPY', '1')


class LazyPackage(types.ModuleType):
    """A placeholder for one of MXNet's packages that the run does not need: its submodules import
    as usual (`from mxnet.contrib import amp` loads amp alone); any other attribute imports the
    real package first."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if self.__dict__.get('__path__'):
            try:
                return importlib.import_module('%s.%s' % (self.__name__, name))
            except ModuleNotFoundError:
                pass
        if '_real' not in self.__dict__:
            del sys.modules[self.__name__]
            self._real = importlib.import_module(self.__name__)
        return getattr(self._real, name)


def defer_unused_mxnet_parts():
    """Before `import mxnet`: LazyPackages for mxnet.contrib, mxnet.gluon and mxnet.test_utils
    (see the docstring). MXNet's operator registration fills mxnet.contrib.ndarray and
    mxnet.contrib.symbol (two empty namespaces) while it loads, so those two are made here."""
    spec = importlib.util.find_spec('mxnet')
    if spec is None or 'mxnet' in sys.modules:
        return
    root = os.path.dirname(spec.origin)
    for name, is_package in (('contrib', True), ('gluon', True), ('test_utils', False)):
        placeholder = LazyPackage('mxnet.' + name)
        if is_package:
            placeholder.__path__ = [os.path.join(root, name)]
        sys.modules[placeholder.__name__] = placeholder
    for name in ('ndarray', 'symbol'):
        namespace = types.ModuleType('mxnet.contrib.' + name)
        namespace.__all__ = []
        sys.modules[namespace.__name__] = namespace
        setattr(sys.modules['mxnet.contrib'], name, namespace)
    if 'distutils' not in sys.modules:
        try:
            import _distutils_hack  # setuptools' shim, installed by a .pth file
            _distutils_hack.remove_shim()
        except (ImportError, AttributeError):
            pass


cuda_build.preload_cuda_libraries()  # the GPU build only: its CUDA libraries, from the nvidia-* wheels
defer_unused_mxnet_parts()

try:
    with compiled_once():  # MXNet's operator functions compiled once per machine: half a second of its import
        import mxnet as mx
except KeyboardInterrupt:
    # Ctrl-C in the seconds MXNet takes to load: nothing was done yet, so one line, no traceback
    print('%s: interrupted while loading MXNet' % (os.path.basename(sys.argv[0]) or 'python'), file=sys.stderr)
    raise SystemExit(130) from None
except ImportError as error:
    sys.exit('error: cannot import mxnet (%s): install the pinned requirements with '
             '`pip install -r requirements.txt` (CPU build: pip install mxnet==1.9.1 "numpy<1.24")' % error)
except AttributeError as error:
    # mxnet 1.9.1 uses np.bool, which numpy 1.24 removed
    sys.exit('error: mxnet 1.9.1 does not work with numpy %s (%s): pip install "numpy<1.24"'
             % (getattr(sys.modules.get('numpy'), '__version__', '?'), error))
except OSError as error:
    # libmxnet.so itself failed to load: a library the GPU build needs that cuda_build.py does not know
    sys.exit('error: cannot load MXNet\'s library (%s): reinstall with `make clean run`, or choose the CPU '
             'build with `NSTYLE_BUILD=cpu make clean run`' % error)


# ---------------------------------------------------------------- where a run computes


def pick_context(gpu):
    """mx.gpu(gpu) when that GPU is usable, else the CPU, with a one-line warning."""
    if gpu < 0:
        return mx.cpu()
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        count = 0
    info = cuda_build.gpu_info(gpu) if gpu < count else None  # (name, compute capability) from the driver
    usable, warning = cuda_build.gpu_decision(gpu, count, info)
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
