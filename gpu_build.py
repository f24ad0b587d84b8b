"""The GPU build of MXNet, mxnet-cu112 1.9.1: the GPUs it can drive.

The wheel carries GPU code for sm_50, 60, 70, 80 and 86 and no PTX: code for X.y
runs on X.z with z >= y, so it drives compute capability 5.x to 8.x and nothing
newer (H100 and H200 are 9.0). `gpu_decision()` says whether a GPU can be used.

No MXNet import here: pick_requirements.py uses this module before MXNet is installed.
"""
import ctypes

BUILD = 'mxnet-cu112'
BUILD_ARCHS = ((5, 0), (6, 0), (7, 0), (8, 0), (8, 6))

DRIVER_LIBRARY = 'libcuda.so.1'  # comes with the NVIDIA driver, not from PyPI


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
