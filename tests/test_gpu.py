"""The GPU build: which GPUs it can drive, its CUDA libraries, and which build `make` installs.

Everything but the tests marked `gpu` runs without a GPU: capabilities are faked, the wheels'
folders are fake trees, the NVIDIA driver and nvidia-smi are tiny stand-ins.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import CONTENT, PROJECT, STYLE, epoch_lines, run_nstyle
import gpu_build

ARCHS_TEXT = 'sm_50, sm_60, sm_70, sm_80, sm_86: compute capability 5.x to 8.x'


# ---------------------------------------------------------------- which GPUs it can drive

@pytest.mark.parametrize('capability', [(5, 0), (5, 2), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (8, 9)])
def test_a_gpu_the_build_has_code_for_is_used(capability):
    assert gpu_build.gpu_decision(0, 1, ('Some GPU', capability)) == (True, None)


@pytest.mark.parametrize('name,capability', [('Tesla K80', (3, 7)), ('Tesla K40', (3, 5)),
                                             ('NVIDIA H100 80GB HBM3', (9, 0)), ('NVIDIA B200', (10, 0))])
def test_a_gpu_without_code_in_the_build_gets_one_line_and_the_cpu(name, capability):
    usable, message = gpu_build.gpu_decision(0, 1, (name, capability))
    assert not usable
    assert message == ('--gpu 0: %s has compute capability %d.%d, which this MXNet build (mxnet-cu112) has no '
                       'code for (it has %s); running on the CPU (pass --gpu -1 to choose the CPU, or use a GPU '
                       'it supports)' % ((name,) + capability + (ARCHS_TEXT,)))


@pytest.mark.parametrize('gpu,count', [(0, 0), (1, 1), (3, 2)])
def test_a_gpu_mxnet_does_not_see_keeps_the_old_warning(gpu, count):
    # tests/test_cli_errors.py checks this text on the CPU build
    assert gpu_build.gpu_decision(gpu, count, ('NVIDIA GeForce RTX 3090', (8, 6))) == (
        False, '--gpu %d: no usable GPU (this MXNet sees %d); running on the CPU (pass --gpu -1 to choose the CPU)'
        % (gpu, count))


def test_an_unknown_capability_leaves_it_to_mxnet():
    assert gpu_build.gpu_decision(1, 2, None) == (True, None)


def test_the_second_gpu_is_judged_by_its_own_capability():
    assert gpu_build.gpu_decision(1, 2, ('NVIDIA A100', (8, 0))) == (True, None)
    assert not gpu_build.gpu_decision(1, 2, ('NVIDIA H200', (9, 0)))[0]


def test_no_ptx_means_no_newer_major_and_no_lower_minor():
    archs = ((7, 5),)
    assert gpu_build.runs_on((7, 5), archs) and gpu_build.runs_on((7, 9), archs)
    assert not gpu_build.runs_on((7, 0), archs) and not gpu_build.runs_on((8, 0), archs)


# ---------------------------------------------------------------- the driver, asked through ctypes

def compile_library(folder, soname, source='', needed=()):
    """A real shared library named `soname` (so ctypes can load it) that needs the `needed` sonames."""
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        pytest.skip('needs a C compiler to make stand-in libraries')
    os.makedirs(folder, exist_ok=True)
    c_file = os.path.join(folder, soname + '.c')
    with open(c_file, 'w') as f:
        f.write(source or 'int %s_stub(void) { return 0; }\n' % re.sub(r'\W', '_', soname))
    stubs = []
    for dep in needed:  # link against a throwaway copy of each dependency, so it becomes DT_NEEDED
        stub_dir = os.path.join(folder, '.link')
        os.makedirs(stub_dir, exist_ok=True)
        stub = os.path.join(stub_dir, dep)
        if not os.path.exists(stub):
            subprocess.run([cc, '-shared', '-fPIC', '-x', 'c', '-', '-o', stub, '-Wl,-soname,' + dep],
                           input='int stub_%s(void) { return 0; }\n' % re.sub(r'\W', '_', dep),
                           text=True, check=True)
        stubs.append(stub)
    path = os.path.join(folder, soname)
    subprocess.run([cc, '-shared', '-fPIC', c_file, '-o', path, '-Wl,-soname,' + soname, '-Wl,--no-as-needed']
                   + stubs, check=True)
    return path


FAKE_DRIVER = textwrap.dedent('''
    #include <string.h>
    int cuInit(unsigned flags) { return FAIL_INIT; }
    int cuDeviceGet(int *device, int ordinal) { if (ordinal > 1) return 101; *device = ordinal; return 0; }
    int cuDeviceGetAttribute(int *value, int attribute, int device) {
        if (attribute == 75) { *value = device == 0 ? 9 : 8; return 0; }
        if (attribute == 76) { *value = device == 0 ? 0 : 6; return 0; }
        return 1;
    }
    int cuDeviceGetName(char *name, int len, int device) {
        strncpy(name, device == 0 ? "NVIDIA H100 80GB HBM3" : "NVIDIA GeForce RTX 3090", len); return 0;
    }
''')


def fake_driver(folder, fail_init=False):
    return compile_library(folder, 'libcuda.so.1', FAKE_DRIVER.replace('FAIL_INIT', '3' if fail_init else '0'))


def test_gpu_info_asks_the_driver(tmp_path):
    driver = fake_driver(str(tmp_path))
    assert gpu_build.gpu_info(0, driver) == ('NVIDIA H100 80GB HBM3', (9, 0))
    assert gpu_build.gpu_info(1, driver) == ('NVIDIA GeForce RTX 3090', (8, 6))
    assert gpu_build.gpu_info(2, driver) is None  # no such device


def test_gpu_info_without_a_working_driver_is_none(tmp_path):
    assert gpu_build.gpu_info(0, str(tmp_path / 'libcuda.so.1')) is None
    assert gpu_build.gpu_info(0, fake_driver(str(tmp_path), fail_init=True)) is None


# ---------------------------------------------------------------- on a GPU (skipped without one)

@pytest.mark.gpu
def test_pick_context_follows_the_capability_of_gpu_0():
    import mxnet as mx
    import nstyle
    info = gpu_build.gpu_info(0)
    assert info is not None, 'the driver cannot be asked about GPU 0'
    expected = mx.gpu(0) if gpu_build.runs_on(info[1]) else mx.cpu()
    assert nstyle.pick_context(0) == expected


@pytest.mark.gpu
def test_a_run_with_gpu_0_uses_it_or_says_why_not(tmp_path, vgg_params):
    args = ['--max-long-edge', 48, '--max-num-epochs', 5, '--save-epochs', 100, '--seed', 0,
            '--content-image', CONTENT, '--style-image', STYLE, '--vgg-params', vgg_params]
    on_gpu = run_nstyle(args + ['--gpu', 0, '--output_dir', tmp_path / 'gpu'])
    on_cpu = run_nstyle(args + ['--gpu', -1, '--output_dir', tmp_path / 'cpu'])
    assert on_gpu.returncode == 0 and on_cpu.returncode == 0, on_gpu.stderr[-3000:] + on_cpu.stderr[-3000:]
    assert os.path.exists(tmp_path / 'gpu' / 'final.jpg')
    warnings = [line for line in (on_gpu.stdout + on_gpu.stderr).splitlines() if '--gpu 0' in line]
    name, capability = gpu_build.gpu_info(0)
    if gpu_build.runs_on(capability):
        assert warnings == []
        # the same run as on the CPU, up to the rounding of cuDNN's and oneDNN's kernels
        gpu_log, cpu_log = epoch_lines(on_gpu.stdout + on_gpu.stderr), epoch_lines(on_cpu.stdout + on_cpu.stderr)
        assert [e for e, _ in gpu_log] == [e for e, _ in cpu_log] == list(range(5))
        assert all(abs(g - c) <= 1e-3 * abs(c) + 1e-6 for (_, g), (_, c) in zip(gpu_log, cpu_log))
    else:
        assert len(warnings) == 1 and 'compute capability %d.%d' % capability in warnings[0]
        assert 'running on the CPU' in warnings[0]
