"""find_mxnet: a clear one-line message with the install command when MXNet cannot be imported."""
import os
import subprocess
import sys

import pytest

from conftest import PROJECT


@pytest.mark.parametrize('failure,expected', [
    ("raise ImportError('No module named mxnet')", 'pip install -r requirements.txt'),
    ("raise AttributeError(\"module 'numpy' has no attribute 'bool'\")", 'pip install "numpy<1.24"'),
    ("raise OSError('libfoo.so.1: cannot open shared object file')", 'NSTYLE_BUILD=cpu make clean run'),
])
def test_a_broken_mxnet_gets_one_line_with_the_fix(tmp_path, failure, expected):
    fake = tmp_path / 'mxnet'
    fake.mkdir()
    (fake / '__init__.py').write_text(failure + '\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), PROJECT]))
    result = subprocess.run([sys.executable, '-c', 'import find_mxnet'], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error:') and expected in lines[0]
    assert 'Traceback' not in result.stderr


def test_the_real_mxnet_imports_through_it():
    result = subprocess.run([sys.executable, '-c', 'import find_mxnet, mxnet; print(mxnet.__version__)'],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == '1.9.1'


def threads_seen(env_threads=None, cpus=None):
    """What find_mxnet leaves in OMP_NUM_THREADS, in a fresh process (optionally pinned to `cpus`)."""
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    if env_threads is not None:
        env['OMP_NUM_THREADS'] = env_threads
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    result = subprocess.run([sys.executable, '-c', 'import os, find_mxnet; '
                             'print(os.environ["OMP_NUM_THREADS"], find_mxnet.THREADS, find_mxnet.THREADS_SOURCE)'],
                            cwd=PROJECT, env=env, capture_output=True, text=True, preexec_fn=pin)
    assert result.returncode == 0, result.stderr
    return result.stdout.split(maxsplit=2)


def test_threads_default_to_every_usable_cpu():
    usable = len(os.sched_getaffinity(0))
    assert threads_seen() == [str(usable), str(usable), 'the CPUs this process may use\n']


def test_threads_follow_the_cpu_affinity():
    assert threads_seen(cpus={min(os.sched_getaffinity(0))})[:2] == ['1', '1']


def test_an_explicit_omp_num_threads_is_kept():
    assert threads_seen(env_threads='3') == ['3', '3', 'OMP_NUM_THREADS\n']
