"""Shared fixtures: the project on sys.path, the seeded random VGG-19 weights in the
real file format (the real weights cannot be downloaded here), and a CLI runner."""
import os
import subprocess
import sys

import pytest

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(PROJECT, 'tests')
sys.path.insert(0, PROJECT)
sys.path.insert(0, TESTS)

import find_mxnet  # noqa: E402,F401  (the GPU build's CUDA libraries load before a test imports mxnet)
from weights import random_vgg19_arrays, save_params  # noqa: E402

CONTENT = os.path.join(PROJECT, 'input', 'IMG_4343.jpg')
STYLE = os.path.join(PROJECT, 'input', 'starry_night.jpg')


@pytest.fixture(scope='session')
def weight_arrays():
    return random_vgg19_arrays(seed=0)


@pytest.fixture(scope='session')
def vgg_params(tmp_path_factory, weight_arrays):
    """Path of a weights file made by the golden run's recipe (random, not the real weights)."""
    path = tmp_path_factory.mktemp('model') / 'vgg19.params'
    save_params(path, weight_arrays)
    return str(path)


@pytest.fixture(scope='session')
def params(vgg_params):
    import model_vgg19
    return model_vgg19.load_params(vgg_params)


def run_nstyle(args, cwd=PROJECT, timeout=300):
    """Run `python nstyle.py ARGS` as a user would; returns the CompletedProcess (text)."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + [str(a) for a in args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def record_nag_steps(monkeypatch, take):
    """take(weight, grad) at every NAG step, before the step: the list of what it returned."""
    import mxnet as mx
    seen = []
    original_update = mx.optimizer.NAG.update

    def update(self, index, weight, grad, state):
        seen.append(take(weight, grad))
        return original_update(self, index, weight, grad, state)

    monkeypatch.setattr(mx.optimizer.NAG, 'update', update)
    return seen


def epoch_lines(log):
    """The original's per-epoch log lines, as (epoch, relative change)."""
    import re
    return [(int(m.group(1)), float(m.group(2)))
            for m in re.finditer(r'epoch (\d+), relative change (\S+)', log)]


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked `gpu` when MXNet sees no GPU (the CPU build never does)."""
    gpu_tests = [item for item in items if item.get_closest_marker('gpu')]
    if not gpu_tests:
        return
    import mxnet as mx  # noqa: E402  (find_mxnet, above, made it importable)
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        count = 0
    if count == 0:
        for item in gpu_tests:
            item.add_marker(pytest.mark.skip(reason='needs a GPU that MXNet sees (this MXNet sees none)'))
