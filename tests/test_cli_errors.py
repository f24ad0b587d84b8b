"""Bad inputs through the real CLI: every one must end in ONE clear line, not a traceback.

The rule each case checks (assert_clean_failure): a non-zero exit code (2 for a bad flag,
which argparse reports; 1 for anything else); the last non-empty stderr line starts with
`nstyle.py: error:` and it is the only line of the run that contains `error:`; that line
names the file or flag concerned and says what to do; no `Traceback` anywhere; and nothing
lost or half-written: the output folder holds no final.jpg, no e_*.jpg and no temporary
file (it is empty or was never created), unless a case says otherwise.

Also here: the accepted inputs that used to be rough (grayscale, RGBA, palette and 16-bit
PNGs; --gpu 0 without a GPU; --overwrite) and Ctrl-C, which saves final.jpg and exits 130.
All runs are tiny (--max-long-edge 32, a few epochs) on the seeded random weights of conftest,
with small copies of the sample images (resizing the 1500x1000 original alone costs a second).
"""
import os
import queue
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from conftest import (CONTENT, LONG_EDGE, PROJECT, SMALL_CONTENT_SIZE, STYLE, assert_clean_failure, assert_no_results,  # noqa: F401
                      base_args, describe, run_nstyle)

TIMEOUT = 120


# ---------------------------------------------------------------- helpers

def expected_shape(h, w, long_edge=LONG_EDGE):
    """The resize rule of PreprocessContentImage: the long edge becomes long_edge, truncated."""
    factor = float(long_edge) / max(h, w)
    return (int(h * factor), int(w * factor), 3)


def content_shape(long_edge=LONG_EDGE):
    """What the small content image becomes."""
    w, h = SMALL_CONTENT_SIZE
    return expected_shape(h, w, long_edge)


def assert_jpeg(path, shape):
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9', path  # a whole JPEG, not half of one
    with Image.open(path) as img:
        assert img.format == 'JPEG'
        assert img.mode == 'RGB'
        pixels = np.asarray(img)
    assert pixels.shape == shape


def gradient_rgb(h, w):
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = (np.arange(w) * 255 // max(w - 1, 1))[np.newaxis, :]
    rgb[..., 1] = (np.arange(h) * 255 // max(h - 1, 1))[:, np.newaxis]
    rgb[..., 2] = (np.add.outer(np.arange(h), np.arange(w)) * 7 % 256).astype(np.uint8)
    return rgb


# ---------------------------------------------------------------- 1, 2: unreadable images

@pytest.mark.parametrize('flag', ['--content-image', '--style-image'])
def test_missing_image(tmp_path, small, vgg_params, flag):
    missing = tmp_path / 'no_such_image.jpg'
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + [flag, missing], timeout=TIMEOUT)
    assert_clean_failure(proc, 1, [flag, str(missing), 'no such file'], out)


def _text_file(path):
    path.write_text('this is a text file, not a picture\n')
    return ['cannot read it as an image (not an image format Pillow can decode)', 'give a JPEG or PNG file']


def _truncated_jpeg(path):
    data = open(CONTENT, 'rb').read()
    path.write_bytes(data[:len(data) // 2])
    return ['cannot read it as an image (the file is truncated)', 'give a JPEG or PNG file']


def _folder(path):
    path.mkdir()
    return ['is a folder', 'give an image file']


@pytest.mark.parametrize('make', [_text_file, _truncated_jpeg, _folder], ids=['text', 'truncated-jpeg', 'folder'])
def test_content_image_not_an_image(tmp_path, small, vgg_params, make):
    bad = tmp_path / 'x.jpg'
    needles = make(bad)
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + ['--content-image', bad], timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--content-image', str(bad)] + needles, out)


# ---------------------------------------------------------------- 3: weights

def _weights_missing(path, arrays):
    return ['VGG-19 weights', str(path), 'not found', './download.sh', '80 MB']


def _weights_random_bytes(path, arrays):
    path.write_bytes(np.random.RandomState(1).bytes(5000))
    return [str(path), 'not an MXNet params file', './download.sh']


def _weights_without_conv3_1(path, arrays):
    from weights import save_params
    arrays = dict(arrays)
    del arrays['arg:conv3_1_weight']
    save_params(path, arrays)
    return [str(path), 'conv3_1_weight missing', './download.sh']


def _weights_bad_bias_shape(path, arrays):
    from weights import save_params
    arrays = dict(arrays)
    arrays['arg:conv2_1_bias'] = np.zeros((64,), dtype='float32')
    save_params(path, arrays)
    return [str(path), 'conv2_1_bias has shape (64,), expected (128,)', './download.sh']


@pytest.mark.parametrize('make', [_weights_missing, _weights_random_bytes, _weights_without_conv3_1,
                                  _weights_bad_bias_shape],
                         ids=['missing', 'random-bytes', 'no-conv3_1_weight', 'bias-shape'])
def test_bad_weights(tmp_path, small, weight_arrays, make):
    params = tmp_path / 'vgg19.params'
    needles = make(params, weight_arrays)
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, params, small), timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--vgg-params'] + needles, out)


# ---------------------------------------------------------------- 4: too small after resizing

def test_long_edge_below_the_model_minimum(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + ['--max-long-edge', 8], timeout=TIMEOUT)
    h, w, _ = content_shape(8)
    assert_clean_failure(proc, 1, ['--content-image', 'resized to %dx%d' % (w, h), '--max-long-edge 8',
                                   'at least 16 pixels', 'raise --max-long-edge'], out)


def test_thin_image_becomes_too_small(tmp_path, small, vgg_params):
    thin = tmp_path / 'thin.png'
    Image.fromarray(gradient_rgb(10, 600)).save(thin)  # 600 wide, 10 high -> 100x1
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + ['--content-image', thin, '--max-long-edge', 100],
                      timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--content-image', str(thin), 'resized to 100x1', '--max-long-edge 100',
                                   'at least 16 pixels', 'raise --max-long-edge'], out)


# ---------------------------------------------------------------- 5: flags

FLAG_CASES = {
    'max-long-edge=0': (['--max-long-edge', '0'], ['argument --max-long-edge', 'must be > 0, got 0']),
    'max-long-edge=-5': (['--max-long-edge', '-5'], ['argument --max-long-edge', 'must be > 0, got -5']),
    'save-epochs=0': (['--save-epochs', '0'], ['argument --save-epochs', 'must be > 0, got 0']),
    'lr=0': (['--lr', '0'], ['argument --lr', 'must be > 0 and finite, got 0']),
    'lr=-1': (['--lr', '-1'], ['argument --lr', 'must be > 0 and finite, got -1']),
    'lr=inf': (['--lr', 'inf'], ['argument --lr', 'must be > 0 and finite, got inf']),
    'stop-eps=nan': (['--stop-eps', 'nan'], ['argument --stop-eps', 'must be a finite number, got nan']),
    'tv-weight=nan': (['--tv-weight', 'nan'], ['argument --tv-weight', 'must be a finite number, got nan']),
    'content-weight=-1': (['--content-weight', '-1'], ['argument --content-weight', 'must be >= 0 and finite']),
    'style-weight=inf': (['--style-weight', 'inf'], ['argument --style-weight', 'must be >= 0 and finite']),
    'remove-noise=inf': (['--remove-noise', 'inf'], ['argument --remove-noise', 'must be >= 0 and finite']),
    'lr=abc': (['--lr', 'abc'], ['argument --lr', 'expected float', "'abc'"]),
    'max-num-epochs=-1': (['--max-num-epochs', '-1'], ['argument --max-num-epochs', 'must be >= 0, got -1']),
    'lr-sched-factor=1.5': (['--lr-sched-factor', '1.5'], ['argument --lr-sched-factor', 'in (0, 1]', '1.5']),
    'lr-sched-delay=0': (['--lr-sched-delay', '0'], ['argument --lr-sched-delay', 'must be > 0, got 0']),
    'remove-noise=-1': (['--remove-noise', '-1'], ['argument --remove-noise', 'must be >= 0 and finite, got -1']),
    'model=vgg16': (['--model', 'vgg16'], ['argument --model', "'vgg16'", 'available: vgg19']),
    'optimizer=sgd': (['--optimizer', 'sgd'], ['argument --optimizer', "invalid choice: 'sgd'",
                                               "'nag', 'adam', 'lbfgs'"]),
    'print-epochs=-1': (['--print-epochs', '-1'], ['argument --print-epochs', 'must be >= 0, got -1']),
}


@pytest.mark.parametrize('case', list(FLAG_CASES))
def test_bad_flag(run_tool, tmp_path, small, vgg_params, case):
    """In this process: a bad flag ends in argparse, before MXNet loads or any folder is made."""
    import nstyle
    out = tmp_path / 'out'
    proc = run_tool(nstyle.main, base_args(out, vgg_params, small, epochs=0) + FLAG_CASES[case][0])
    message = assert_clean_failure(proc, 2, FLAG_CASES[case][1] + ['(see nstyle.py -h)'], out)
    assert 'usage:' not in proc.stderr, message


def test_flags_the_original_rejected_now_parse():
    import nstyle
    args = nstyle.get_args(['--model', 'vgg19', '--lr-sched-factor', '0.5'])
    assert args.model == 'vgg19'  # defect 1: --model vgg19 was refused
    assert args.lr_sched_factor == 0.5  # defect 2: a factor below 1 was refused
    assert nstyle.get_args(['--lr-sched-factor', '1']).lr_sched_factor == 1.0
    assert nstyle.get_args([]).model == 'vgg19'


# ---------------------------------------------------------------- 6, 7: the output folder

def test_output_dir_is_a_file(tmp_path, small, vgg_params):
    somefile = tmp_path / 'somefile'
    somefile.write_bytes(b'keep me\n')
    proc = run_nstyle(base_args(somefile, vgg_params, small), timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--output_dir', str(somefile), 'is a file, not a folder',
                                   'choose another folder'])
    assert somefile.read_bytes() == b'keep me\n'
    assert sorted(os.listdir(tmp_path)) == ['somefile']


def test_output_dir_below_a_file(tmp_path, small, vgg_params):
    somefile = tmp_path / 'somefile'
    somefile.write_bytes(b'keep me\n')
    out = somefile / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small), timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--output_dir', str(out), 'cannot write there', 'choose another folder'])
    assert somefile.read_bytes() == b'keep me\n'
    assert sorted(os.listdir(tmp_path)) == ['somefile']


def test_earlier_results_need_overwrite(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    out.mkdir()
    earlier = b'the result of an earlier run\n'
    (out / 'final.jpg').write_bytes(earlier)
    (out / 'e_50.jpg').write_bytes(earlier)
    (out / 'notes.txt').write_bytes(earlier)

    proc = run_nstyle(base_args(out, vgg_params, small), timeout=TIMEOUT)
    assert_clean_failure(proc, 1, ['--output_dir', str(out), 'already holds results of an earlier run',
                                   'e_50.jpg, final.jpg', 'pass --overwrite'], out,
                         allowed=['e_50.jpg', 'final.jpg', 'notes.txt'])
    assert (out / 'final.jpg').read_bytes() == earlier

    proc = run_nstyle(base_args(out, vgg_params, small) + ['--overwrite'], timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert 'error:' not in proc.stdout + proc.stderr
    assert (out / 'final.jpg').read_bytes() != earlier
    assert_jpeg(out / 'final.jpg', content_shape())
    # the earlier run's checkpoint is gone (not mixed in with this run's); other files stay
    assert sorted(os.listdir(out)) == ['final.jpg', 'notes.txt']
    assert (out / 'notes.txt').read_bytes() == earlier


# ---------------------------------------------------------------- 8: NaN

def test_image_becoming_nan_keeps_the_last_good_checkpoint(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small, epochs=5)
                      + ['--lr', '1e30', '--save-epochs', 1, '--seed', 0], timeout=TIMEOUT)
    message = assert_clean_failure(proc, 1, ['NaN or infinite', 'at epoch 1',
                                             'last good checkpoint: %s' % (out / 'e_1.jpg'),
                                             'smaller --lr'], out, allowed=['e_1.jpg'])
    assert 'stopped without writing %s' % (out / 'final.jpg') in message
    assert_jpeg(out / 'e_1.jpg', content_shape())
    assert not (out / 'final.jpg').exists() and not (out / 'e_2.jpg').exists()


# ---------------------------------------------------------------- 9: --gpu 0 without a GPU

def _gpu_count():
    try:
        import mxnet as mx
        return mx.context.num_gpus()
    except Exception:
        return 0


@pytest.mark.skipif(_gpu_count() > 0, reason='this MXNet sees a GPU: --gpu 0 would use it')
def test_gpu_without_a_gpu_warns_and_runs_on_the_cpu(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    args = base_args(out, vgg_params, small)
    args[args.index('--gpu') + 1] = '0'
    proc = run_nstyle(args, timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    text = proc.stdout + proc.stderr
    assert 'Traceback' not in text and 'error:' not in text
    warnings = [line for line in text.splitlines() if '--gpu 0' in line]
    assert len(warnings) == 1, describe(proc)
    assert warnings[0].startswith('WARNING') and 'running on the CPU' in warnings[0]
    assert '--gpu -1' in warnings[0]
    assert_jpeg(out / 'final.jpg', content_shape())
    assert sorted(os.listdir(out)) == ['final.jpg']


# ---------------------------------------------------------------- 10: image modes

def _image_l(h, w):
    return Image.fromarray(gradient_rgb(h, w)[..., 2])


def _image_rgba(h, w):
    rgba = np.dstack([gradient_rgb(h, w), (np.arange(w) * 255 // (w - 1)).astype(np.uint8)[np.newaxis, :]
                      .repeat(h, axis=0)])
    return Image.fromarray(rgba, 'RGBA')


def _image_p(h, w):
    return Image.fromarray(gradient_rgb(h, w)).convert('P')


def _image_i16(h, w):
    values = np.add.outer(np.arange(h) * 900, np.arange(w) * 500) % 65536
    return Image.fromarray(values.astype(np.uint16))


MODES = {'L': _image_l, 'RGBA': _image_rgba, 'P': _image_p, 'I;16': _image_i16}


@pytest.mark.parametrize('content_mode, style_mode, h, w', [
    ('L', 'RGBA', 40, 60),
    ('RGBA', 'P', 60, 40),
    ('P', 'I;16', 45, 70),
    ('I;16', 'L', 50, 50),
])
def test_image_modes_are_accepted(tmp_path, small, vgg_params, content_mode, style_mode, h, w):
    paths = {}
    for role, mode, size in (('content', content_mode, (h, w)), ('style', style_mode, (37, 53))):
        path = tmp_path / ('%s.png' % role)
        MODES[mode](*size).save(path)
        with Image.open(path) as img:
            assert img.mode == mode and img.size == size[::-1]  # the file really is in that mode
        paths[role] = path
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + ['--content-image', paths['content'],
                                                     '--style-image', paths['style']], timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert 'error:' not in proc.stdout + proc.stderr
    assert 'load the content image, size = (%d, %d)' % (h, w) in proc.stderr
    assert_jpeg(out / 'final.jpg', expected_shape(h, w))
    assert sorted(os.listdir(out)) == ['final.jpg']


# ---------------------------------------------------------------- 11: Ctrl-C

def test_ctrl_c_saves_final_and_exits_130(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    args = base_args(out, vgg_params, small, epochs=100000) + ['--stop-eps', 0, '--save-epochs', 1000]
    stdout_file = open(tmp_path / 'stdout.txt', 'w+')
    proc = subprocess.Popen([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + [str(a) for a in args],
                            cwd=PROJECT, env=dict(os.environ, PYTHONUNBUFFERED='1'),
                            stdout=stdout_file, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()

    def read_stderr():
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    stderr = []
    try:
        while True:
            line = lines.get(timeout=TIMEOUT)  # queue.Empty fails the test instead of hanging
            assert line is not None, 'ended before epoch 2:\n' + ''.join(stderr)
            stderr.append(line)
            if 'epoch 2, relative change' in line:
                break
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=TIMEOUT)
        reader.join(timeout=TIMEOUT)
        while True:
            line = lines.get(timeout=5)
            if line is None:
                break
            stderr.append(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stdout_file.seek(0)
        stdout = stdout_file.read()
        stdout_file.close()
    stderr = ''.join(stderr)
    assert returncode == 130, stderr[-3000:]
    assert 'Traceback' not in stdout + stderr
    assert 'error:' not in stdout + stderr
    match = re.search(r'interrupted after (\d+) epochs', stderr)
    assert match, stderr[-3000:]
    assert int(match.group(1)) >= 3  # epochs 0, 1 and 2 were done before the signal
    assert_jpeg(out / 'final.jpg', content_shape())
    assert sorted(os.listdir(out)) == ['final.jpg', 'interrupted.txt']  # the note: final.jpg is the image so far
