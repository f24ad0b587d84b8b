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
from neural_style import cuda_build as gpu_build
from neural_style.mxnet_runtime import pick_context

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


# ---------------------------------------------------------------- the CUDA libraries of the wheels

# What each library needs, as far as the wheels show (their dynamic string tables; cuDNN 8's
# documented dependencies): a stand-in library gets the same, so loading them checks the order.
NEEDS = {
    'libcublas.so.11': ['libcublasLt.so.11', 'libcuda.so.1'],
    'libcudnn_ops_infer.so.8': ['libcublas.so.11', 'libcublasLt.so.11'],
    'libcudnn_ops_train.so.8': ['libcudnn_ops_infer.so.8'],
    'libcudnn_cnn_infer.so.8': ['libcudnn_ops_infer.so.8'],
    'libcudnn_cnn_train.so.8': ['libcudnn_ops_infer.so.8', 'libcudnn_ops_train.so.8', 'libcudnn_cnn_infer.so.8'],
    'libcudnn_adv_infer.so.8': ['libcudnn_ops_infer.so.8'],
    'libcudnn_adv_train.so.8': ['libcudnn_ops_infer.so.8', 'libcudnn_ops_train.so.8', 'libcudnn_adv_infer.so.8'],
    'libcufft.so.10': ['libcuda.so.1'],
    'libcusolver.so.11': ['libcublas.so.11', 'libcublasLt.so.11'],
    'libnccl.so.2': ['libcuda.so.1'],
}


def fake_site_packages(root, skip=(), real=False):
    """site-packages/nvidia/<folder>/lib/<soname> for every library; real=True compiles them."""
    for folder, soname, _ in gpu_build.CUDA_LIBRARIES:
        if soname in skip:
            continue
        lib = os.path.join(str(root), 'nvidia', folder, 'lib')
        if real:
            compile_library(lib, soname, needed=NEEDS.get(soname, ()))
        else:
            os.makedirs(lib, exist_ok=True)
            open(os.path.join(lib, soname), 'w').close()
    return str(root)


def test_every_library_is_found_in_load_order(tmp_path):
    root = fake_site_packages(tmp_path / 'site-packages')
    found = gpu_build.find_cuda_libraries([str(tmp_path / 'elsewhere'), root])
    assert [soname for soname, _, _ in found] == [soname for _, soname, _ in gpu_build.CUDA_LIBRARIES]
    assert all(path == os.path.join(root, 'nvidia', folder, 'lib', soname)
               for (soname, path, _), (folder, _, _) in zip(found, gpu_build.CUDA_LIBRARIES))
    # each library comes after what it needs
    order = [soname for soname, _, _ in found]
    for soname, needs in NEEDS.items():
        assert all(order.index(need) < order.index(soname) for need in needs if need in order), soname


def test_a_missing_library_is_named_with_the_pip_command(tmp_path):
    root = fake_site_packages(tmp_path, skip={'libcudnn.so.8'})
    found = dict((soname, (path, package)) for soname, path, package in gpu_build.find_cuda_libraries([root]))
    assert found['libcudnn.so.8'] == (None, 'nvidia-cudnn-cu11')
    assert found['libcudart.so.11.0'][0] is not None
    assert gpu_build.missing_library_message('libcudnn.so.8', 'nvidia-cudnn-cu11') == (
        'error: the GPU build of MXNet (mxnet-cu112) needs libcudnn.so.8, which is not installed: '
        'pip install "nvidia-cudnn-cu11==8.9.6.50" (or pip install -r requirements-cu112.txt; '
        'NSTYLE_BUILD=cpu make run switches to the CPU build)')


def load_in_a_subprocess(root, driver_folder):
    """gpu_build.load_cuda_libraries on the tree at `root`, in a fresh process whose loader path
    holds only `driver_folder` (where libcuda.so.1 may be); returns (its message, loaded paths)."""
    code = ('from neural_style import cuda_build as gpu_build\n'
            'print(gpu_build.load_cuda_libraries(gpu_build.find_cuda_libraries([%r])))\n'
            'print(open("/proc/self/maps").read())\n' % root)
    env = dict(os.environ, LD_LIBRARY_PATH=driver_folder, PYTHONPATH=PROJECT)
    result = subprocess.run([sys.executable, '-c', code], env=env, cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    message, maps = result.stdout.split('\n', 1)
    return message, maps


def test_the_libraries_load_in_dependency_order_without_a_loader_path(tmp_path):
    root = fake_site_packages(tmp_path / 'site', real=True)
    message, maps = load_in_a_subprocess(root, fake_driver(str(tmp_path / 'driver')).rsplit('/', 1)[0])
    assert message == 'None'
    for folder, soname, _ in gpu_build.CUDA_LIBRARIES:
        assert os.path.join(root, 'nvidia', folder, 'lib', soname) in maps, soname


def test_a_missing_library_stops_the_loading_with_its_name(tmp_path):
    root = fake_site_packages(tmp_path / 'site', skip={'libcublasLt.so.11'}, real=True)
    message, _ = load_in_a_subprocess(root, fake_driver(str(tmp_path / 'driver')).rsplit('/', 1)[0])
    assert message.startswith('error: the GPU build of MXNet (mxnet-cu112) needs libcublasLt.so.11')
    assert 'pip install "nvidia-cublas-cu11==11.11.3.6"' in message


def test_without_the_driver_the_message_says_so(tmp_path):
    root = fake_site_packages(tmp_path / 'site')
    message, _ = load_in_a_subprocess(root, str(tmp_path / 'no-driver'))
    assert message == gpu_build.driver_missing_message()
    assert 'NVIDIA driver is not (libcuda.so.1 not found)' in message


def test_the_cpu_build_loads_no_cuda_library():
    if gpu_build.is_gpu_build():
        pytest.skip('MXNet here is the GPU build')
    code = 'import find_mxnet, mxnet; print(open("/proc/self/maps").read())'
    result = subprocess.run([sys.executable, '-c', code], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '/nvidia/' not in result.stdout and 'libcuda' not in result.stdout


# ---------------------------------------------------------------- the requirements files

def pins(name):
    with open(os.path.join(PROJECT, name)) as f:
        return dict(line.split('#')[0].strip().split('==') for line in f if line.split('#')[0].strip())


def test_both_builds_pin_the_same_versions_of_everything_else():
    cpu, gpu = pins('requirements.txt'), pins('requirements-cu112.txt')
    assert cpu.pop('mxnet') == '1.9.1' and gpu.pop('mxnet-cu112') == '1.9.1'
    cuda = {name: gpu.pop(name) for name in list(gpu) if name.startswith('nvidia-')}
    assert gpu == cpu
    assert sorted(cuda) == sorted({package for _, _, package in gpu_build.CUDA_LIBRARIES})
    assert cuda['nvidia-cudnn-cu11'].startswith('8.')  # libcudnn.so.8; the 9.x wheels have libcudnn.so.9


# ---------------------------------------------------------------- which build `make` installs

def fake_bin(tmp_path, smi_script=None):
    """A PATH holding only a stand-in nvidia-smi (or nothing)."""
    folder = tmp_path / 'bin'
    folder.mkdir()
    if smi_script is not None:
        smi = folder / 'nvidia-smi'
        smi.write_text('#!/bin/sh\n' + smi_script)
        smi.chmod(0o755)
    return str(folder)


def pick(tmp_path, smi_script=None, build=None):
    env = dict(os.environ, PATH=fake_bin(tmp_path, smi_script))
    env.pop('NSTYLE_BUILD', None)
    if build is not None:
        env['NSTYLE_BUILD'] = build
    return subprocess.run([sys.executable, 'pick_requirements.py'], cwd=PROJECT, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize('smi_script,build,expected,note', [
    (None, None, 'requirements.txt', None),  # no NVIDIA driver: CI, most laptops
    ('echo 8.6', None, 'requirements-cu112.txt', 'GPU compute capability 8.6: installing the GPU build'),
    ('echo 5.0', None, 'requirements-cu112.txt', 'GPU compute capability 5.0: installing the GPU build'),
    ('echo 9.0', None, 'requirements.txt', 'GPU compute capability 9.0, which mxnet-cu112 has no code for'),
    ('echo 3.7', None, 'requirements.txt', 'GPU compute capability 3.7, which mxnet-cu112 has no code for'),
    ('printf "9.0\\n8.9\\n"', None, 'requirements-cu112.txt', 'GPU compute capability 9.0, 8.9: installing'),
    ('echo "Field \\"compute_cap\\" is not a valid field to query." >&2; exit 2', None, 'requirements.txt',
     'nvidia-smi cannot report'),
    ('exit 0', None, 'requirements.txt', 'nvidia-smi lists no GPU'),
    ('echo 8.6', 'cpu', 'requirements.txt', None),
    (None, 'gpu', 'requirements-cu112.txt', None),
    ('echo 9.0', 'gpu', 'requirements-cu112.txt', None),
])
def test_the_requirements_file_follows_the_gpu(tmp_path, smi_script, build, expected, note):
    result = pick(tmp_path, smi_script, build)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + '\n'
    if note is None:
        assert result.stderr == ''
    else:
        assert result.stderr.startswith('note: ') and note in result.stderr and result.stderr.count('\n') == 1


def test_a_bad_override_is_one_clear_line(tmp_path):
    result = pick(tmp_path, build='cuda')
    assert result.returncode == 1 and result.stdout == ''
    assert result.stderr == ('error: NSTYLE_BUILD=cuda: use NSTYLE_BUILD=gpu or NSTYLE_BUILD=cpu, or leave it unset '
                             'to choose by the GPU that nvidia-smi reports\n')


@pytest.mark.parametrize('smi_script,build,installs,removes', [
    (None, None, 'requirements.txt', 'mxnet-cu112'),
    ('echo 8.6', None, 'requirements-cu112.txt', 'mxnet'),
    ('echo 9.0', None, 'requirements.txt', 'mxnet-cu112'),
    ('echo 8.6', 'cpu', 'requirements.txt', 'mxnet-cu112'),
])
def test_make_installs_the_chosen_build_and_removes_the_other(tmp_path, smi_script, build, installs, removes):
    make = shutil.which('make')
    if make is None:
        pytest.skip('needs make')
    env = dict(os.environ, PATH=fake_bin(tmp_path, smi_script))
    env.pop('NSTYLE_BUILD', None)
    if build:
        env['NSTYLE_BUILD'] = build
    venv = str(tmp_path / 'venv')
    result = subprocess.run([make, '-n', 'test', 'VENV=' + venv, 'PYTHON=' + sys.executable], cwd=PROJECT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '-m pip install --quiet -r %s\n' % installs in result.stdout
    assert '-m pip uninstall --quiet --yes %s;' % removes in result.stdout
    assert 'touch %s/installed.%s\n' % (venv, installs) in result.stdout


# ---------------------------------------------------------------- on a GPU (skipped without one)

@pytest.mark.gpu
def test_the_gpu_build_loaded_its_libraries_from_the_wheels():
    if not gpu_build.is_gpu_build():
        pytest.skip('MXNet here is not the GPU build')
    code = 'import find_mxnet, mxnet; print(open("/proc/self/maps").read())'
    env = {key: value for key, value in os.environ.items() if key != 'LD_LIBRARY_PATH'}
    result = subprocess.run([sys.executable, '-c', code], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for folder, soname, _ in gpu_build.CUDA_LIBRARIES:
        assert re.search(r'/nvidia/%s/lib/%s\n' % (folder, re.escape(soname)), result.stdout), soname


@pytest.mark.gpu
def test_pick_context_follows_the_capability_of_gpu_0():
    import mxnet as mx
    info = gpu_build.gpu_info(0)
    assert info is not None, 'the driver cannot be asked about GPU 0'
    expected = mx.gpu(0) if gpu_build.runs_on(info[1]) else mx.cpu()
    assert pick_context(0) == expected


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
