"""--optimizer adam and lbfgs, and --print-epochs: the L-BFGS objective against finite differences
and numpy, L-BFGS against NAG on one budget, Adam's steps against numpy, and the loop's contract
(log, checkpoints, callback, Ctrl-C, NaN) for the new optimizers. All on the seeded random weights
of conftest, at a 32-pixel long edge."""
import os
import re
import signal

import mxnet as mx
import numpy as np
import pytest
from scipy import optimize as scipy_optimize
from skimage import io

import model_vgg19
import nstyle
from neural_style.errors import NstyleError
from neural_style.files import images
from neural_style.gatys import loss as loss_setup, optimise as optimizers
from neural_style.gatys.run import initial_image, read_pictures
import conftest
from conftest import epoch_lines, numpy_conv3x3_relu, numpy_laplacian


def args_for(small, vgg_params, out_dir, *extra):
    base = ['--gpu', '-1', '--max-long-edge', '32', '--seed', '0', '--stop-eps', '0',
            '--content-image', small['content'], '--style-image', small['style']]
    return conftest.args_for(base, out_dir, vgg_params, *extra)


def objective_for(args, params):
    """The function optimize_lbfgs minimises for these flags, built from the loss train_nstyle builds;
    also the preprocessed content and style images."""
    net = loss_setup.Vgg(model_vgg19, params, mx.cpu(), args.dtype, None)
    inputs = loss_setup.stage_inputs(args, model_vgg19, args.max_long_edge, '--max-long-edge', read_pictures(args))
    loss = loss_setup.build_loss(args, net, inputs)
    return optimizers.lbfgs_objective(loss), inputs.content, inputs.styles[0]


def record_final_image(monkeypatch):
    """The float image train_nstyle saves as final.jpg (the JPEG rounds it): the one finished
    without denoising (these runs keep --remove-noise's default 0.02 for their checkpoints)."""
    finals = []
    original = images.finished_pixels

    def finished(img, remove_noise=0., colors_from=None):
        if remove_noise == 0:
            finals.append(np.array(img))
        return original(img, remove_noise, colors_from)

    monkeypatch.setattr(images, 'finished_pixels', finished)
    return finals


def numpy_tv_energy(img, tv_weight):
    """0.5 * sum(x * tv_gradient(x)), the gradient being tv_weight * Laplacian / 8 (zero padding)."""
    return 0.5 * np.sum(img.astype(np.float64) * tv_weight * numpy_laplacian(img))


# ---------------------------------------------------------------- the L-BFGS objective

@pytest.mark.parametrize('flags', [[], ['--content-weight', '100', '--style-weight', '1e-3', '--tv-weight', '1'],
                                   ['--content-weight', '0', '--style-weight', '0', '--tv-weight', '1']],
                         ids=['default-weights', 'three-terms-alike', 'tv-alone'])
def test_lbfgs_gradient_matches_finite_differences(small, vgg_params, params, tmp_path, flags):
    objective, content_np, _ = objective_for(args_for(small, vgg_params, tmp_path, *flags), params)
    rng = np.random.RandomState(11)
    # near the content image, where f is 1e6 to 1e9 (three-terms-alike: content 1.6e5, style 9.4e5,
    # TV 2.5e5), float32's rounding of f stays far below the differences
    x = content_np.ravel() + rng.uniform(-20, 20, content_np.size)
    value, gradient, _ = objective(x)
    assert value > 0
    step = 0.5  # along unit directions over 3 * 21 * 32 pixels

    def central_difference(direction):
        return (objective(x + step * direction)[0] - objective(x - step * direction)[0]) / (2 * step)

    directions = rng.normal(size=(6, x.size))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    analytic = directions @ gradient
    numeric = np.array([central_difference(direction) for direction in directions])
    # over the 6 directions together: one of them may have a derivative near 0 (measured: relative
    # errors of 1.7e-3, 4.3e-3, 2.9e-4; f without its TV energy: 2.6e-2 and 1 for the last two)
    assert np.linalg.norm(analytic - numeric) < 2e-2 * np.linalg.norm(numeric)
    # along the gradient itself, where f changes most (measured: up to 1.2e-5; f without its TV
    # energy: 1.4e-2)
    assert np.linalg.norm(gradient) == pytest.approx(central_difference(gradient / np.linalg.norm(gradient)),
                                                     rel=1e-3)


def numpy_relu1_1(weight_arrays, img):
    """relu1_1 of one (1, 3, h, w) image as (64, h * w), in float64 numpy."""
    relu1_1 = numpy_conv3x3_relu(img[0].astype(np.float64), weight_arrays['arg:conv1_1_weight'].astype(np.float64),
                                 weight_arrays['arg:conv1_1_bias'].astype(np.float64))
    return relu1_1.reshape(64, -1)


def test_lbfgs_objective_equals_numpy(small, vgg_params, params, weight_arrays, tmp_path):
    args = args_for(small, vgg_params, tmp_path, '--content-layers', 'relu1_1', '--style-layers', 'relu1_1',
                    '--content-weight', '1e-3', '--style-weight', '1e-4', '--tv-weight', '0.5')  # terms alike
    objective, content_np, style_np = objective_for(args, params)
    x = np.random.RandomState(12).uniform(-50, 50, content_np.shape)
    value, _, (content, style, tv) = objective(x.ravel())

    features, content_features, style_features = (numpy_relu1_1(weight_arrays, image)
                                                  for image in (x, content_np, style_np))
    _, _, h, w = x.shape
    expected_content = 1e-3 * np.sum((features - content_features) ** 2)
    expected_style = 1e-4 / (64 * h * w * 64) * np.sum((features @ features.T - style_features @ style_features.T) ** 2)
    expected_tv = numpy_tv_energy(x, 0.5)
    assert content == pytest.approx(expected_content, rel=1e-4)
    assert style == pytest.approx(expected_style, rel=1e-3)
    assert tv == pytest.approx(expected_tv, rel=1e-5)
    assert value == pytest.approx(expected_content + expected_style + expected_tv, rel=1e-4)
    assert min(expected_content, expected_style, expected_tv) > 0.1 * value  # each term counts


def test_lbfgs_reaches_a_lower_objective_than_nag_on_the_same_budget(small, vgg_params, params, tmp_path,
                                                                     monkeypatch, caplog):
    finals = record_final_image(monkeypatch)
    backward_passes = []
    original_backward = mx.executor.Executor.backward

    def backward(self, *a, **k):
        backward_passes.append(1)
        return original_backward(self, *a, **k)

    monkeypatch.setattr(mx.executor.Executor, 'backward', backward)
    values = {}
    for optimizer in ('nag', 'lbfgs'):
        args = args_for(small, vgg_params, tmp_path / optimizer, '--optimizer', optimizer, '--max-num-epochs', '20')
        del backward_passes[:]
        caplog.clear()
        with caplog.at_level('INFO'):
            nstyle.train_nstyle(args)
        assert len(backward_passes) == 20  # one forward and backward per epoch, or per function evaluation
        objective, _, _ = objective_for(args, params)
        values[optimizer] = objective(finals[-1].astype(np.float64).ravel())[0]
    iterations = len(epoch_lines(caplog.text))
    assert 3 <= iterations < 20  # line searches take more than one evaluation at times
    assert 'L-BFGS stopped after %d iterations and 20 function evaluations: the budget of 20 function ' \
           'evaluations is spent' % iterations in caplog.text
    # measured: NAG 1.50e9, L-BFGS 1.89e8 (Adam 3.5e8)
    assert values['lbfgs'] < values['nag'] / 5


def test_lbfgs_stops_on_scipys_convergence_test(small, vgg_params, tmp_path, caplog, monkeypatch):
    finals = record_final_image(monkeypatch)
    # TV alone: a quadratic, smallest at 0 (the mean colour), which L-BFGS reaches long before the budget
    args = args_for(small, vgg_params, tmp_path, '--optimizer', 'lbfgs', '--max-num-epochs', '500',
                    '--content-weight', '0', '--style-weight', '0', '--tv-weight', '1')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args)
    stop = re.search(r'L-BFGS stopped after (\d+) iterations and (\d+) function evaluations: (.*)', caplog.text)
    assert stop and 'CONVERGENCE' in stop.group(3), caplog.text[-2000:]
    assert int(stop.group(2)) < 500 and len(epoch_lines(caplog.text)) == int(stop.group(1))
    initial = initial_image(args, np.zeros(finals[0].shape), None, mx.cpu()).asnumpy()
    assert numpy_tv_energy(finals[0], 1) < 1e-3 * numpy_tv_energy(initial, 1)


def test_lbfgs_with_zero_epochs_saves_the_initial_noise(small, vgg_params, tmp_path, monkeypatch, caplog):
    finals = record_final_image(monkeypatch)
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args_for(small, vgg_params, tmp_path, '--optimizer', 'lbfgs', '--max-num-epochs', '0'))
    assert 'L-BFGS stopped after 0 iterations and 0 function evaluations' in caplog.text
    assert np.abs(finals[0]).max() <= 0.1 and np.abs(finals[0]).max() > 0.09


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

@pytest.mark.parametrize('optimizer', ['adam', 'lbfgs'])
def test_log_checkpoints_callback_and_final_as_nag(small, vgg_params, tmp_path, caplog, optimizer):
    calls = []
    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '30',
                    '--save-epochs', '3')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args, callback=calls.append)
    epochs = len(calls)
    assert epochs >= 7 and (epochs == 30 or optimizer == 'lbfgs')
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
        io.imsave(str(tmp_path / 'expected.jpg'), images.PostprocessImage(last['img']), check_contrast=False)
        assert (tmp_path / 'final.jpg').read_bytes() == (tmp_path / 'expected.jpg').read_bytes()


@pytest.mark.parametrize('optimizer', ['adam', 'lbfgs'])
def test_ctrl_c_stops_after_the_epoch_and_saves_its_image(small, vgg_params, tmp_path, caplog, monkeypatch,
                                                          optimizer):
    finals = record_final_image(monkeypatch)
    calls = []

    def press_ctrl_c_at_epoch_2(data):
        calls.append(data)
        if data['epoch'] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # only marks the run: epoch 3 never starts

    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN in a background job
    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '30',
                    '--save-epochs', '2')
    with caplog.at_level('INFO'), pytest.raises(KeyboardInterrupt):
        nstyle.train_nstyle(args, callback=press_ctrl_c_at_epoch_2)
    assert [c['epoch'] for c in calls] == [1, 2]
    assert 'interrupted after 2 epochs' in caplog.text
    assert sorted(os.listdir(tmp_path)) == ['e_2.jpg', 'final.jpg', 'interrupted.txt']
    np.testing.assert_array_equal(finals[0], calls[1]['img'])
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back


@pytest.mark.parametrize('optimizer', ['adam', 'lbfgs'])
def test_nan_stops_without_final(small, vgg_params, tmp_path, optimizer):
    # a head gradient of 1e38 overflows float32 in the backward pass: the image (adam) or the loss
    # gradient (lbfgs) is no longer finite at the first epoch
    args = args_for(small, vgg_params, tmp_path, '--optimizer', optimizer, '--max-num-epochs', '5',
                    '--content-weight', '1e38')
    with pytest.raises(NstyleError, match='NaN or infinite at epoch 0: stopped without writing .*final.jpg'):
        nstyle.train_nstyle(args)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- --print-epochs

LOSS_LINE = re.compile(r'epoch (\d+): losses: content (\S+), style (\S+), tv (\S+), total (\S+)')


@pytest.mark.parametrize('optimizer', ['nag', 'adam', 'lbfgs'])
def test_print_epochs_logs_the_losses(small, vgg_params, params, tmp_path, caplog, monkeypatch, optimizer):
    """Every 3 epochs one line; its losses are those of the image the epoch's gradient was computed
    at: for nag and adam the image before the epoch's step, for lbfgs the iteration's image."""
    images_before_steps = []
    for step_optimizer in (mx.optimizer.NAG, mx.optimizer.Adam):
        def update(self, index, weight, grad, state, original=step_optimizer.update):
            images_before_steps.append(weight.asnumpy())
            return original(self, index, weight, grad, state)
        monkeypatch.setattr(step_optimizer, 'update', update)
    calls = []
    args = args_for(small, vgg_params, tmp_path / 'out', '--optimizer', optimizer, '--max-num-epochs', '30',
                    '--print-epochs', '3', '--save-epochs', '3', '--tv-weight', '0.5')
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args, callback=calls.append)
    epochs = len(epoch_lines(caplog.text))
    lines = LOSS_LINE.findall(caplog.text)
    assert [int(line[0]) for line in lines] == list(range(3, epochs + 1, 3)) and len(lines) >= 2

    objective, _, _ = objective_for(args, params)
    for epoch, content, style, tv, total in lines:
        epoch = int(epoch)
        image = images_before_steps[epoch - 1] if optimizer != 'lbfgs' else calls[epoch - 1]['img']
        expected_tv = numpy_tv_energy(image, 0.5)
        value, _, _ = objective(image.astype(np.float64).ravel())
        assert float(tv) == pytest.approx(expected_tv, rel=1e-5)
        assert float(content) + float(style) == pytest.approx(value - expected_tv, rel=1e-5)
        assert float(total) == pytest.approx(value, rel=1e-5)
        assert float(content) > 0 and float(style) > 0 and expected_tv > 0


def test_print_epochs_off_by_default(small, vgg_params, tmp_path, caplog):
    with caplog.at_level('INFO'):
        nstyle.train_nstyle(args_for(small, vgg_params, tmp_path, '--max-num-epochs', '3'))
    assert len(epoch_lines(caplog.text)) == 3 and not LOSS_LINE.search(caplog.text)


def test_lbfgs_num_correction_is_the_history_scipy_keeps(small, vgg_params, params, tmp_path):
    """The iterates of a run with --lbfgs-num-correction 3 are those of scipy's L-BFGS-B called
    directly on the same objective with maxcor=3, and not those of scipy's default history (10)."""
    calls = []
    args = args_for(small, vgg_params, tmp_path, '--optimizer', 'lbfgs', '--max-num-epochs', '25',
                    '--lbfgs-num-correction', '3', '--save-epochs', '1')
    nstyle.train_nstyle(args, callback=calls.append)
    ours = [call['img'].astype(np.float64).ravel() for call in calls]
    objective, content, _ = objective_for(args, params)
    start = initial_image(args, content, None, mx.cpu()).asnumpy().astype(np.float64).ravel()

    def direct(maxcor):
        iterates = []
        scipy_optimize.minimize(lambda x: objective(x)[:2], start, jac=True, method='L-BFGS-B',
                                callback=lambda x: iterates.append(x.copy()),
                                options={'maxcor': maxcor, 'maxiter': len(ours)})
        return iterates

    count = len(ours) - 1  # the last iteration may have been cut short by the budget
    assert count >= 6  # past the 3 remembered steps, where the two histories part
    for mine, theirs in zip(ours[:count], direct(3)):
        assert np.allclose(mine, theirs, rtol=1e-3, atol=1e-2 * np.abs(theirs).max())
    default_history = direct(10)[count - 1]
    assert not np.allclose(ours[count - 1], default_history, rtol=1e-3, atol=1e-2 * np.abs(default_history).max())
