"""Import MXNet, or say in one line how to install it.

The original example fell back to a source checkout's python folder; today
MXNet 1.9.1 comes from PyPI (the CPU build `mxnet`, the GPU build `mxnet-cu112`).

Threads: when OMP_NUM_THREADS is unset, MXNet runs oneDNN on half the logical
CPUs (src/engine/openmp.cc assumes hyper-threading), so on a machine without SMT
half of it idles. We set OMP_NUM_THREADS to the CPUs this process may use before
MXNet loads; an explicit OMP_NUM_THREADS is kept.
"""
import os
import sys

import gpu_build


def usable_cpu_count():
    """The CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


if os.environ.get('OMP_NUM_THREADS'):
    THREADS, THREADS_SOURCE = os.environ['OMP_NUM_THREADS'], 'OMP_NUM_THREADS'
else:
    THREADS, THREADS_SOURCE = str(usable_cpu_count()), 'the CPUs this process may use'
    os.environ['OMP_NUM_THREADS'] = THREADS

# MXNet announces each executor's subgraph backend on stderr ("Subgraph backend MKLDNN is activated"):
# noise to a user, so off unless asked for
os.environ.setdefault('MXNET_SUBGRAPH_VERBOSE', '0')

gpu_build.preload_cuda_libraries()  # the GPU build only: its CUDA libraries, from the nvidia-* wheels

try:
    import mxnet as mx  # noqa: F401
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
    # libmxnet.so itself failed to load: a library the GPU build needs that gpu_build.py does not know
    sys.exit('error: cannot load MXNet\'s library (%s): reinstall with `make clean run`, or choose the CPU '
             'build with `NSTYLE_BUILD=cpu make clean run`' % error)
