"""Import MXNet, or say in one line how to install it.

The original example fell back to a source checkout's python folder; today
MXNet 1.9.1 comes from PyPI (the CPU build `mxnet`, the GPU build `mxnet-cu112`)."""
import sys

try:
    import mxnet as mx  # noqa: F401
except ImportError as error:
    sys.exit('error: cannot import mxnet (%s): install the pinned requirements with '
             '`pip install -r requirements.txt` (CPU build: pip install mxnet==1.9.1 "numpy<1.24")' % error)
except AttributeError as error:
    # mxnet 1.9.1 uses np.bool, which numpy 1.24 removed
    sys.exit('error: mxnet 1.9.1 does not work with numpy %s (%s): pip install "numpy<1.24"'
             % (getattr(sys.modules.get('numpy'), '__version__', '?'), error))
