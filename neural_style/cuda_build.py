"""The GPU build of MXNet, mxnet-cu112 1.9.1: its CUDA libraries and the GPUs it can drive.

Its libmxnet.so needs the CUDA 11 runtime libraries, which PyPI publishes as the
nvidia-*-cu11 wheels; they land under site-packages/nvidia/*/lib, where the dynamic
loader does not look. `preload_cuda_libraries()` loads them by path, each after
what it needs, so that `import mxnet` then finds them already loaded.

The wheel carries GPU code for sm_50, 60, 70, 80 and 86 and no PTX: code for X.y
runs on X.z with z >= y, so it drives compute capability 5.x to 8.x and nothing
newer (H100 and H200 are 9.0). `gpu_decision()` says whether a GPU can be used.

No MXNet import here: pick_requirements.py uses this module before MXNet is installed.
"""
import ctypes
import importlib.metadata
import os
import re
import sys

BUILD = 'mxnet-cu112'
BUILD_ARCHS = ((5, 0), (6, 0), (7, 0), (8, 0), (8, 6))
GPU_REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'requirements-cu112.txt')

# (folder under nvidia/, soname, pip package), in load order: each after the ones it needs.
# libcudnn.so.8 and libnvrtc.so.11.2 dlopen their companions by soname, so those come first.
CUDA_LIBRARIES = [
    ('cuda_runtime', 'libcudart.so.11.0', 'nvidia-cuda-runtime-cu11'),
    ('cublas', 'libcublasLt.so.11', 'nvidia-cublas-cu11'),
    ('cublas', 'libcublas.so.11', 'nvidia-cublas-cu11'),
    ('cuda_nvrtc', 'libnvrtc-builtins.so.11.8', 'nvidia-cuda-nvrtc-cu11'),
    ('cuda_nvrtc', 'libnvrtc.so.11.2', 'nvidia-cuda-nvrtc-cu11'),
    ('cudnn', 'libcudnn_ops_infer.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn_ops_train.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn_cnn_infer.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn_cnn_train.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn_adv_infer.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn_adv_train.so.8', 'nvidia-cudnn-cu11'),
    ('cudnn', 'libcudnn.so.8', 'nvidia-cudnn-cu11'),
    ('cufft', 'libcufft.so.10', 'nvidia-cufft-cu11'),
    ('curand', 'libcurand.so.10', 'nvidia-curand-cu11'),
    ('cusolver', 'libcusolver.so.11', 'nvidia-cusolver-cu11'),
    ('nccl', 'libnccl.so.2', 'nvidia-nccl-cu11'),
    ('nvtx', 'libnvToolsExt.so.1', 'nvidia-nvtx-cu11'),
]
DRIVER_LIBRARY = 'libcuda.so.1'  # comes with the NVIDIA driver, not from PyPI


# ---------------------------------------------------------------- the CUDA libraries

def is_gpu_build():
    """True when the installed MXNet is mxnet-cu112 (the CPU build needs none of this)."""
    try:
        importlib.metadata.distribution(BUILD)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def find_cuda_libraries(roots=None):
    """[(soname, path or None, package)] in load order; None where no wheel under `roots`
    (folders holding nvidia/, by default sys.path) has the library."""
    roots = sys.path if roots is None else roots
    found = []
    for folder, soname, package in CUDA_LIBRARIES:
        paths = [os.path.join(root or '.', 'nvidia', folder, 'lib', soname) for root in roots]
        found.append((soname, next((path for path in paths if os.path.isfile(path)), None), package))
    return found


def pinned(package, requirements=GPU_REQUIREMENTS):
    """`package==version` as requirements-cu112.txt pins it (just the name if it is not there)."""
    try:
        with open(requirements) as lines:
            for line in lines:
                if re.match(re.escape(package) + r'==', line.strip()):
                    return line.split('#')[0].strip()
    except OSError:
        pass
    return package


def missing_library_message(soname, package):
    return ('error: the GPU build of MXNet (%s) needs %s, which is not installed: pip install "%s" '
            '(or pip install -r requirements-cu112.txt; NSTYLE_BUILD=cpu make run switches to the CPU build)'
            % (BUILD, soname, pinned(package)))


def driver_missing_message():
    return ('error: the GPU build of MXNet (%s) is installed but the NVIDIA driver is not (%s not found): '
            'install the NVIDIA driver, or switch to the CPU build with NSTYLE_BUILD=cpu make run'
            % (BUILD, DRIVER_LIBRARY))


def load_cuda_libraries(found):
    """dlopen each library (by path, or by soname where no wheel has it: a system CUDA may);
    returns None, or the one-line message for the first that cannot be loaded."""
    try:
        ctypes.CDLL(DRIVER_LIBRARY, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return driver_missing_message()
    for soname, path, package in found:
        try:
            ctypes.CDLL(path or soname, mode=ctypes.RTLD_GLOBAL)
        except OSError as error:
            if path is None:
                return missing_library_message(soname, package)
            return 'error: cannot load %s (%s): reinstall it with pip install --force-reinstall "%s"' % (
                path, error, pinned(package))
    return None


def preload_cuda_libraries():
    """Before `import mxnet`: load the GPU build's CUDA libraries from the nvidia-* wheels,
    so that no LD_LIBRARY_PATH is needed. Nothing to do for the CPU build."""
    if not is_gpu_build():
        return
    message = load_cuda_libraries(find_cuda_libraries())
    if message:
        sys.exit(message)


# ---------------------------------------------------------------- which GPUs it can drive

def runs_on(capability, archs=BUILD_ARCHS):
    """Code built for X.y runs on compute capability X.z with z >= y (no PTX: no other major)."""
    major, minor = capability
    return any(major == arch_major and minor >= arch_minor for arch_major, arch_minor in archs)


def describe_archs(archs=BUILD_ARCHS):
    """'sm_50, sm_60, sm_70, sm_80, sm_86: compute capability 5.x to 8.x'"""
    majors = sorted({major for major, _ in archs})
    return '%s: compute capability %d.x to %d.x' % (
        ', '.join('sm_%d%d' % arch for arch in archs), majors[0], majors[-1])


def gpu_decision(gpu, count, info=None, archs=BUILD_ARCHS):
    """Whether --gpu `gpu` can be used: (True, None), or (False, the one-line warning).
    `count`: how many GPUs MXNet sees; `info`: (name, (major, minor)) of that GPU as gpu_info()
    gives it, None when unknown (then MXNet is left to try)."""
    if gpu >= count:
        return False, ('--gpu %d: no usable GPU (this MXNet sees %d); running on the CPU '
                       '(pass --gpu -1 to choose the CPU)' % (gpu, count))
    if info is None or runs_on(info[1], archs):
        return True, None
    name, (major, minor) = info
    return False, ('--gpu %d: %s has compute capability %d.%d, which this MXNet build (%s) has no code for '
                   '(it has %s); running on the CPU (pass --gpu -1 to choose the CPU, or use a GPU it supports)'
                   % (gpu, name or 'this GPU', major, minor, BUILD, describe_archs(archs)))


def gpu_info(gpu, library=DRIVER_LIBRARY):
    """(name, (major, minor)) of GPU `gpu` as the NVIDIA driver reports it, or None when the
    driver cannot be asked. Numbered as MXNet numbers them (both honour CUDA_VISIBLE_DEVICES)."""
    try:
        cuda = ctypes.CDLL(library)
    except OSError:
        return None
    device, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    name = ctypes.create_string_buffer(256)
    # CUresult 0 is success; 75 and 76 are CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR and _MINOR
    if (cuda.cuInit(0) or cuda.cuDeviceGet(ctypes.byref(device), gpu)
            or cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, device)
            or cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)):
        return None
    if cuda.cuDeviceGetName(name, len(name), device):
        name.value = b''
    return name.value.decode(errors='replace') or None, (major.value, minor.value)
