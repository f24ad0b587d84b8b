"""The original's name for what makes `import mxnet` work: here MXNet comes from PyPI, and
neural_style/mxnet_runtime.py loads it with this project's settings (threads, the GPU build's
CUDA libraries, one line instead of a traceback when it cannot)."""
from neural_style.mxnet_runtime import THREADS, THREADS_SOURCE, mx  # noqa: F401
