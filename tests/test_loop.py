"""The optimisation loop of train_nstyle: clipping, stopping, checkpoints, callback, seeding."""
import os

import numpy as np
import pytest
from skimage import img_as_ubyte, io
from skimage.restoration import denoise_tv_chambolle

import nstyle
from neural_style.files import images
import conftest
from conftest import CONTENT, STYLE, epoch_lines, numpy_laplacian, record_nag_steps, run_nstyle

# Golden run of the original with these flags: epochs 0, 1, 2 change by 0.897, 0.574, 0.431.
SMALL = ['--gpu', '-1', '--max-long-edge', '128', '--seed', '0',
         '--content-image', CONTENT, '--style-image', STYLE]


def args_for(tmp_path, vgg_params, *extra):
    return conftest.args_for(SMALL, tmp_path, vgg_params, *extra)


def record_updates(monkeypatch):
    """The gradients the optimiser receives, epoch by epoch (as numpy)."""
    return record_nag_steps(monkeypatch, lambda weight, grad: grad.asnumpy())


@pytest.mark.parametrize('content_weight,clipped', [(1e6, True), (1e-9, False)])
def test_gradient_is_clipped_to_3hw_only_when_above(tmp_path, vgg_params, monkeypatch, content_weight, clipped):
    seen = record_updates(monkeypatch)
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '3', '--tv-weight', '0', '--stop-eps', '0',
                    '--style-weight', '1e-9', '--content-weight', str(content_weight))
    nstyle.train_nstyle(args)
    clip_norm = 3 * 85 * 128
    norms = [np.linalg.norm(g.astype(np.float64)) for g in seen]
    assert len(norms) == 3
    if clipped:
        np.testing.assert_allclose(norms, clip_norm, rtol=1e-4)
    else:
        assert all(0 < n < clip_norm / 100 for n in norms)


def test_tv_gradient_is_added_to_the_update(tmp_path, vgg_params, monkeypatch):
    seen = record_nag_steps(monkeypatch, lambda weight, grad: (grad.asnumpy(), weight.asnumpy()))
    # content and style weights 0: the update is the TV gradient alone, 0.5 * Laplacian(img)
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '2', '--tv-weight', '0.5', '--stop-eps', '0',
                    '--style-weight', '0', '--content-weight', '0')
    nstyle.train_nstyle(args)
    assert len(seen) == 2
    for grad, img in seen:
        np.testing.assert_allclose(grad, 0.5 * numpy_laplacian(img), rtol=1e-4, atol=1e-6)


def test_checkpoints_callback_and_final(tmp_path, vgg_params):
    calls = []
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '7', '--save-epochs', '3', '--stop-eps', '0')
    nstyle.train_nstyle(args, callback=calls.append)
    assert sorted(os.listdir(tmp_path)) == ['e_3.jpg', 'e_6.jpg', 'final.jpg']
    assert [c['epoch'] for c in calls] == [1, 2, 3, 4, 5, 6, 7]
    for call in calls:
        expected_keys = {'eps', 'epoch', 'filename', 'img'} if call['epoch'] % 3 == 0 else {'eps', 'epoch'}
        assert set(call) == expected_keys
        assert 0 < call['eps'] < 1
    assert calls[2]['filename'] == os.path.join(str(tmp_path), 'e_3.jpg')
    assert calls[2]['img'].shape == (1, 3, 85, 128)
    # checkpoints are denoised (weight 0.02), written as the same JPEG encoder writes the expectation
    for call in (calls[2], calls[5]):
        expected = img_as_ubyte(denoise_tv_chambolle(images.PostprocessImage(call['img']), weight=0.02,
                                                     channel_axis=-1))
        io.imsave(str(tmp_path / 'expected.jpg'), expected, check_contrast=False)
        assert open(call['filename'], 'rb').read() == (tmp_path / 'expected.jpg').read_bytes()
    assert io.imread(str(tmp_path / 'final.jpg')).shape == (85, 128, 3)


def test_final_equals_the_undenoised_last_image(tmp_path, vgg_params):
    calls = []
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '4', '--save-epochs', '4', '--stop-eps', '0')
    nstyle.train_nstyle(args, callback=calls.append)
    io.imsave(str(tmp_path / 'expected.jpg'), images.PostprocessImage(calls[-1]['img']), check_contrast=False)
    assert (tmp_path / 'final.jpg').read_bytes() == (tmp_path / 'expected.jpg').read_bytes()


def test_stop_rule_writes_no_checkpoint_on_the_stopping_epoch(tmp_path, vgg_params, caplog):
    calls = []
    # relative changes 0.897, 0.574, 0.431: below 0.5 at epoch 2, whose checkpoint e_3 would be due
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '10', '--save-epochs', '3', '--stop-eps', '0.5')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args, callback=calls.append)
    assert [c['epoch'] for c in calls] == [1, 2]
    assert sorted(os.listdir(tmp_path)) == ['final.jpg']
    assert 'eps < args.stop_eps, training finished' in caplog.text
    assert [e for e, _ in epoch_lines(caplog.text)] == [0, 1, 2]


def test_zero_epochs_saves_the_initial_noise(tmp_path, vgg_params):
    nstyle.train_nstyle(args_for(tmp_path, vgg_params, '--max-num-epochs', '0'))
    final = io.imread(str(tmp_path / 'final.jpg')).astype(float)
    # uniform(-0.1, 0.1) around the mean colour: R 123.68, G 116.779, B 103.939, truncated
    np.testing.assert_allclose(final.reshape(-1, 3).mean(axis=0), [123, 116, 103], atol=1.5)


def test_progress_log_at_checkpoints(tmp_path, vgg_params, caplog):
    calls = []
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '4', '--save-epochs', '2', '--stop-eps', '0')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args, callback=calls.append)
    progress = [line for line in caplog.text.splitlines() if 'content loss' in line]
    assert len(progress) == 2
    assert 'epoch 2: content loss' in progress[0] and 'style loss' in progress[0]
    assert 'elapsed' in progress[0] and 'left' in progress[0]


def test_seeded_runs_repeat_exactly_and_other_seeds_differ(tmp_path, vgg_params):
    runs = []
    for name, seed in [('a', ['--seed', '0']), ('b', ['--seed', '0']), ('c', ['--seed', '1'])]:
        flags = [f for f in SMALL if f not in ('--seed', '0')] + seed
        result = run_nstyle(flags + ['--vgg-params', vgg_params, '--output_dir', tmp_path / name,
                                     '--max-num-epochs', '4', '--save-epochs', '2'])
        assert result.returncode == 0, result.stderr
        expected_threads = os.environ.get('OMP_NUM_THREADS') or str(len(os.sched_getaffinity(0)))
        assert 'running on the CPU with %s threads' % expected_threads in result.stderr
        images = {f: (tmp_path / name / f).read_bytes() for f in ('e_2.jpg', 'e_4.jpg', 'final.jpg')}
        runs.append((epoch_lines(result.stderr), images))
    assert len(runs[0][0]) == 4
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_ctrl_c_stops_at_the_next_epoch_and_saves_final(tmp_path, vgg_params, caplog):
    import signal
    calls = []

    def press_ctrl_c_at_epoch_2(data):
        calls.append(data['epoch'])
        if data['epoch'] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # only marks the run: epoch 2 finishes, epoch 3 never starts

    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN in a background job
    args = args_for(tmp_path, vgg_params, '--max-num-epochs', '10', '--save-epochs', '100', '--stop-eps', '0')
    with caplog.at_level('INFO'), pytest.raises(KeyboardInterrupt):
        nstyle.train_nstyle(args, callback=press_ctrl_c_at_epoch_2)
    assert calls == [1, 2]
    assert 'interrupted after 2 epochs' in caplog.text
    assert sorted(os.listdir(tmp_path)) == ['final.jpg', 'interrupted.txt']
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back
