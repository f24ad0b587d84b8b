"""--optimizer adam: Adam's steps against numpy, and the loop's contract (log, checkpoints,
callback, Ctrl-C, NaN) as NAG has it. All on the seeded random weights
of conftest, at a 32-pixel long edge."""
import os
import re
import signal

import mxnet as mx
import numpy as np
import pytest
from PIL import Image
from skimage import io

import nstyle
from conftest import CONTENT, STYLE, epoch_lines


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    """Small copies of the sample images: resizing the 1500x1000 original costs a second a run."""
    folder = tmp_path_factory.mktemp('inputs')
    paths = {}
    for role, source, size in (('content', CONTENT, (96, 64)), ('style', STYLE, (64, 50))):
        paths[role] = str(folder / ('%s.jpg' % role))
        with Image.open(source) as img:
            img.convert('RGB').resize(size, Image.Resampling.LANCZOS).save(paths[role], quality=95)
    return paths


def args_for(small, vgg_params, out_dir, *extra):
    return nstyle.get_args(['--gpu', '-1', '--max-long-edge', '32', '--seed', '0', '--stop-eps', '0',
                            '--content-image', small['content'], '--style-image', small['style'],
                            '--vgg-params', vgg_params, '--output_dir', str(out_dir)] + list(extra))


def record_final_image(monkeypatch):
    """The float image train_nstyle saves as final.jpg (the JPEG rounds it)."""
    finals = []
    original_save = nstyle.SaveImage

    def save(img, filename, remove_noise=0.):
        if os.path.basename(filename) == 'final.jpg':
            finals.append(np.array(img))
        original_save(img, filename, remove_noise)

    monkeypatch.setattr(nstyle, 'SaveImage', save)
    return finals


# ---------------------------------------------------------------- Adam

@pytest.mark.parametrize('lr_flags,lr', [([], 5.0), (['--lr', '2'], 2.0)], ids=['default-lr', 'lr-2'])
def test_adam_steps_are_numpy_adam_steps(small, vgg_params, tmp_path, monkeypatch, lr_flags, lr):
    steps = []
    original_update = mx.optimizer.Adam.update

    def update(self, index, weight, grad, state):
        before = weight.asnumpy().astype(np.float64)
        original_update(self, index, weight, grad, state)
        steps.append((before, grad.asnumpy().astype(np.float64), weight.asnumpy()))

    monkeypatch.setattr(mx.optimizer.Adam, 'update', update)
    monkeypatch.setattr(mx.optimizer.NAG, 'update', lambda *a: pytest.fail('NAG used'))
    args = args_for(small, vgg_params, tmp_path, '--optimizer', 'adam', '--max-num-epochs', '4', *lr_flags)
    assert args.lr == lr
    nstyle.train_nstyle(args)
    assert len(steps) == 4
    mean = variance = 0
    for t, (weight, grad, new_weight) in enumerate(steps, 1):
        grad = grad + 0.0001 * weight  # weight decay, as NAG has it
        mean = 0.9 * mean + 0.1 * grad
        variance = 0.999 * variance + 0.001 * grad ** 2
        step = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * mean / (np.sqrt(variance) + 1e-8)
        np.testing.assert_allclose(new_weight, weight - step, rtol=1e-5, atol=1e-4)
        assert np.abs(step).max() > 0.5 * lr  # Adam's steps are about lr a pixel, unlike NAG's


def test_default_lr_depends_on_the_optimizer():
    assert nstyle.get_args([]).lr == 0.001
    assert nstyle.get_args(['--optimizer', 'nag']).lr == 0.001
    assert nstyle.get_args(['--optimizer', 'adam']).lr == 5.0
    assert nstyle.get_args(['--optimizer', 'adam', '--lr', '0.001']).lr == 0.001


# ---------------------------------------------------------------- the loop's contract, all optimizers

@pytest.mark.parametrize('optimizer', ['adam'])
def test_log_checkpoints_callback_and_final_as_nag(small, vgg_params, tmp_path, caplog, optimizer):
    calls = []
    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '30',
                    '--save-epochs', '3')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args, callback=calls.append)
    epochs = len(calls)
    assert epochs == 30
    logged = epoch_lines(caplog.text)
    assert [e for e, _ in logged] == list(range(epochs))
    np.testing.assert_allclose([eps for _, eps in logged], [c['eps'] for c in calls], rtol=0, atol=1e-6)  # %f
    assert [c['epoch'] for c in calls] == list(range(1, epochs + 1))
    saved = ['e_%d.jpg' % e for e in range(3, epochs + 1, 3)]
    assert sorted(os.listdir(tmp_path)) == sorted(saved + ['final.jpg'])
    for call in calls:
        assert set(call) == ({'eps', 'epoch', 'filename', 'img'} if call['epoch'] % 3 == 0 else {'eps', 'epoch'})
        assert 0 < call['eps'] <= 1
    assert len(re.findall(r'epoch \d+: content loss .* style loss', caplog.text)) == len(saved)
    # final.jpg is the last image, not denoised
    last = [c for c in calls if 'img' in c][-1]
    if last['epoch'] == epochs:
        io.imsave(str(tmp_path / 'expected.jpg'), nstyle.PostprocessImage(last['img']), check_contrast=False)
        assert (tmp_path / 'final.jpg').read_bytes() == (tmp_path / 'expected.jpg').read_bytes()


@pytest.mark.parametrize('optimizer', ['adam'])
def test_ctrl_c_stops_after_the_epoch_and_saves_its_image(small, vgg_params, tmp_path, caplog, monkeypatch,
                                                          optimizer):
    finals = record_final_image(monkeypatch)
    calls = []

    def press_ctrl_c_at_epoch_2(data):
        calls.append(data)
        if data['epoch'] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # only marks the run: epoch 3 never starts

    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '30',
                    '--save-epochs', '2')
    with caplog.at_level('INFO'), pytest.raises(KeyboardInterrupt):
        nstyle.train_nstyle(args, callback=press_ctrl_c_at_epoch_2)
    assert [c['epoch'] for c in calls] == [1, 2]
    assert 'interrupted after 2 epochs' in caplog.text
    assert sorted(os.listdir(tmp_path)) == ['e_2.jpg', 'final.jpg']
    np.testing.assert_array_equal(finals[0], calls[1]['img'])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize('optimizer', ['adam'])
def test_nan_stops_without_final(small, vgg_params, tmp_path, optimizer):
    # a head gradient of 1e38 overflows float32 in the backward pass: the image is no longer finite
    # at the first epoch
    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '5',
                    '--content-weight', '1e38')
    with pytest.raises(nstyle.NstyleError, match='NaN or infinite at epoch 0: stopped without writing .*final.jpg'):
        nstyle.train_nstyle(args)
    assert os.listdir(tmp_path) == []

