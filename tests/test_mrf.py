"""The MRF style loss (--style-loss mrf, neural_style/mrf.py) against independent numpy
computations: the nearest style patches by normalised cross-correlation (a brute force over every
pair, in float64), E = sum_i |Psi_i(x) - Psi_NN(i)(s)|^2 and its gradient with the matches fixed
(and finite differences), E = 0 for the style's own features, the whole loss of a run on the
seeded random weights (never the real VGG-19), and the flags' one-line errors through the CLI."""
import os

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

import model_vgg19
import nstyle
from conftest import CONTENT, STYLE, assert_clean_failure, run_nstyle
from neural_style import mxnet_runtime as device
from neural_style.gatys import loss as loss_setup, mrf
from neural_style.gatys.run import read_pictures

K = 3


# ---------------------------------------------------------------- numpy references

def numpy_patches(feature_map, k=K, stride=1):
    """(N, C*k*k) float64: the k x k patches of a (C, H, W) map, row by row, every `stride` positions."""
    c, h, w = feature_map.shape
    return np.array([feature_map[:, y:y + k, x:x + k].ravel()
                     for y in range(0, h - k + 1, stride) for x in range(0, w - k + 1, stride)], dtype=np.float64)


def numpy_nearest(feature_map, style_patches, k=K):
    """NN(i) of every stride-1 patch: the argmax of the normalised cross-correlation, first on ties."""
    patches = numpy_patches(feature_map, k)
    style = style_patches.reshape(len(style_patches), -1).astype(np.float64)
    style_norms = np.maximum(np.linalg.norm(style, axis=1), mrf.MIN_PATCH_NORM)
    ncc = patches @ style.T / style_norms / np.maximum(np.linalg.norm(patches, axis=1), 1e-30)[:, None]
    return np.argmax(ncc, axis=1)  # numpy takes the first maximum


def numpy_energy_and_gradient(feature_map, style_patches, nearest, k=K):
    """E and dE/dF (float64) for fixed matches, patch by patch."""
    c, h, w = feature_map.shape
    style = style_patches.reshape(len(style_patches), -1).astype(np.float64)
    energy, gradient, i = 0.0, np.zeros((c, h, w)), 0
    for y in range(h - k + 1):
        for x in range(w - k + 1):
            difference = feature_map[:, y:y + k, x:x + k].astype(np.float64) - style[nearest[i]].reshape(c, k, k)
            energy += np.sum(difference ** 2)
            gradient[:, y:y + k, x:x + k] += 2 * difference
            i += 1
    return energy, gradient


def mx_nearest(feature_map, style_patches, chunk=None):
    kernels = mrf.style_patches(style_patches, mx.cpu()).kernels
    return mrf.nearest_patches(mx.nd.array(feature_map[None]), kernels, chunk).asnumpy().astype(int).ravel()


def feature_loss_executor(feature_map, style_patches, every=1):
    """The MRF loss over a feature map given directly (the identity as the 'network'), bound like
    the run's: (executor, data, data gradient, Rematcher)."""
    c, h, w = feature_map.shape
    features = mx.sym.Group([mx.sym.identity(mx.sym.Variable('data'))])
    loss = mrf.loss_symbols(features, (h, w))
    data = mx.nd.array(feature_map[None])
    arg_shapes, _, _ = loss.infer_shape(data=(1, c, h, w))
    args = {name: mx.nd.zeros(shape) for name, shape in zip(loss.list_arguments(), arg_shapes)}
    args['data'] = data
    grad = mx.nd.zeros(data.shape)
    executor = loss.bind(mx.cpu(), args=args, args_grad={'data': grad}, grad_req={'data': 'write'})
    args[mrf.count_name(0)][:] = mrf.overlap_count((h, w), K)
    rematcher = mrf.Rematcher(features.bind(mx.cpu(), args={'data': data}, grad_req='null'), args,
                              [mrf.style_patches(style_patches, mx.cpu())], every)
    return executor, data, grad, rematcher


def random_maps(seed, style_shape=(5, 9, 11), result_shape=(5, 8, 10)):
    rng = np.random.RandomState(seed)
    return rng.randn(*style_shape).astype(np.float32), rng.randn(*result_shape).astype(np.float32)


# ---------------------------------------------------------------- matching

@pytest.mark.parametrize('chunk', [1, 7, 16, None])
@pytest.mark.parametrize('stride', [1, 2])
def test_nearest_patches_are_the_numpy_brute_force(chunk, stride):
    style, result = random_maps(1)
    patches = mrf.extract_patches(style, K, stride)
    np.testing.assert_array_equal(patches.reshape(len(patches), -1), numpy_patches(style, K, stride))
    expected = numpy_nearest(result, patches)
    np.testing.assert_array_equal(mx_nearest(result, patches, chunk), expected)


@pytest.mark.parametrize('chunk', [1, 3, 5, 8, None])
def test_ties_go_to_the_lowest_index_across_chunk_boundaries(chunk):
    """Exact ties: every style patch three times (copies 8 and 16 places on, so that a copy lies
    in the same chunk or in a later one), plus a multiple of each (same correlation once
    normalised); and a result patch of zeros, which correlates 0 with all. The brute force keeps
    the first maximum; so must the chunks."""
    style, result = random_maps(2, style_shape=(4, 5, 6), result_shape=(4, 6, 7))
    base = mrf.extract_patches(style, K, 2)  # 4 patches
    assert len(base) == 4
    patches = np.concatenate([base, base, base * 2, base, base]).astype(np.float32)  # 4 copies and a multiple
    result[:, :K, :K] = 0  # the first result patch is zero
    expected = numpy_nearest(result, patches)
    assert expected[0] == 0 and set(expected) <= set(range(4))  # the brute force picks the first copies
    # ties really are exact in float32: the copies' correlations equal the originals'
    kernels = mrf.style_patches(patches, mx.cpu()).kernels
    correlation = mx.nd.Convolution(mx.nd.array(result[None]), weight=kernels, kernel=(K, K), num_filter=len(patches),
                                    no_bias=True)[0].asnumpy()
    np.testing.assert_array_equal(correlation[4:8], correlation[:4])
    np.testing.assert_array_equal(mx_nearest(result, patches, chunk), expected)


def test_chunk_size_bounds_the_correlation_map():
    assert mrf.chunk_size((1, 256, 150, 100), 3) == mrf.MATCH_CHUNK_FLOATS // (148 * 98)
    assert mrf.chunk_size((1, 8, 10 ** 5, 10 ** 5), 3) == 1


# ---------------------------------------------------------------- the energy with the matches fixed

def test_energy_and_gradient_match_numpy_with_the_matches_fixed():
    style, result = random_maps(3)
    patches = mrf.extract_patches(style, K, 2)
    executor, data, grad, rematcher = feature_loss_executor(result, patches)
    rematcher()
    executor.forward(is_train=True)
    executor.backward(mx.nd.ones((1,)))
    energy, gradient = numpy_energy_and_gradient(result, patches, numpy_nearest(result, patches))
    np.testing.assert_allclose(executor.outputs[0].asnumpy()[0], energy, rtol=1e-5)
    np.testing.assert_allclose(grad.asnumpy()[0], gradient, rtol=1e-4, atol=1e-4)


def test_gradient_matches_finite_differences_with_the_matches_fixed():
    style, result = random_maps(4)
    patches = mrf.extract_patches(style, K, 1)
    executor, data, grad, rematcher = feature_loss_executor(result, patches)
    rematcher()  # once: the matches stay fixed below
    executor.forward(is_train=True)
    executor.backward(mx.nd.ones((1,)))
    analytic = grad.asnumpy()[0]
    rng = np.random.RandomState(0)
    step = 0.05  # E is quadratic in F for fixed matches: central differences are exact but for rounding
    for _ in range(12):
        index = tuple(rng.randint(n) for n in result.shape)
        values = []
        for sign in (1, -1):
            moved = result.copy()
            moved[index] += sign * step
            data[:] = moved[None]
            executor.forward(is_train=False)
            values.append(float(executor.outputs[0].asnumpy()[0]))
        np.testing.assert_allclose((values[0] - values[1]) / (2 * step), analytic[index], rtol=2e-3, atol=2e-2)


def test_rematch_every_keeps_the_matches_in_between():
    style, result = random_maps(5)
    patches = mrf.extract_patches(style, K, 1)
    executor, data, grad, rematcher = feature_loss_executor(result, patches, every=2)
    assert rematcher()  # epoch 0 matches at `result`
    moved = random_maps(6)[1]
    data[:] = moved[None]
    assert not rematcher()  # epoch 1 keeps them
    executor.forward()
    kept = numpy_energy_and_gradient(moved, patches, numpy_nearest(result, patches))[0]
    np.testing.assert_allclose(executor.outputs[0].asnumpy()[0], kept, rtol=1e-5)
    assert rematcher()  # epoch 2 matches at `moved`
    executor.forward()
    fresh = numpy_energy_and_gradient(moved, patches, numpy_nearest(moved, patches))[0]
    np.testing.assert_allclose(executor.outputs[0].asnumpy()[0], fresh, rtol=1e-5)
    assert fresh < kept


def test_the_styles_own_features_have_zero_energy():
    """Features made of the style's own patches (the style's features themselves, all patches
    sampled): every patch finds itself, and E is 0 up to float32 rounding."""
    style = np.maximum(random_maps(7)[0], 0)  # ReLU-like
    patches = mrf.extract_patches(style, K, 1)
    executor, data, grad, rematcher = feature_loss_executor(style, patches)
    rematcher()
    executor.forward()
    np.testing.assert_array_equal(mx_nearest(style, patches), np.arange(len(patches)))
    scale = np.sum(patches.astype(np.float64) ** 2)
    assert abs(executor.outputs[0].asnumpy()[0]) <= 1e-6 * scale


# ---------------------------------------------------------------- the loss of a run (random VGG-19 weights)

SIZE_FLAGS = ['--gpu', '-1', '--max-long-edge', '48', '--content-image', CONTENT]


@pytest.fixture(scope='module')
def second_style(tmp_path_factory):
    """A second style image unlike the first: colour stripes, another aspect ratio."""
    y, x = np.mgrid[:50, :80]
    stripes = np.stack([np.where((x + y) // 5 % 2, 230, 20), np.where((x - y) // 7 % 2, 180, 60), (x * 3) % 256], -1)
    path = tmp_path_factory.mktemp('styles') / 'stripes.png'
    Image.fromarray(stripes.astype(np.uint8)).save(path)
    return str(path)


def vgg_features(params, layers, image):
    """The features of these layers for a (1, 3, h, w) image, from a plain executor (not the loss's)."""
    style, _ = model_vgg19.get_symbol(layers, [], pooling='avg')
    executor = model_vgg19.get_executor(style, None, image.shape[2:], mx.cpu(), params)
    executor.data[:] = image
    executor.executor.forward()
    return [features.asnumpy()[0] for features in executor.style]


def test_the_runs_mrf_loss_is_numpy_over_the_vgg_features(vgg_params, params, second_style):
    """Two style images at --style-scale 0.75, stride 2: the logged mrf loss at a random image is
    --mrf-weight times the sum over both layers of E, with the style patches of both images pooled,
    and the rematch happens at the image the loss is evaluated at."""
    args = nstyle.get_args(SIZE_FLAGS + ['--vgg-params', vgg_params, '--style-loss', 'mrf', '--style-image',
                                         '%s,%s' % (STYLE, second_style), '--style-scale', '0.75',
                                         '--mrf-weight', '0.5', '--content-weight', '0'])
    net = loss_setup.load_vgg(args, model_vgg19, mx.cpu())
    inputs = loss_setup.stage_inputs(args, model_vgg19, 48, '--max-long-edge', read_pictures(args))
    loss = loss_setup.build_loss(args, net, inputs)
    image = np.random.RandomState(0).uniform(-20, 20, inputs.content.shape).astype(np.float32)
    loss.executor.data[:] = image
    assert loss.start_epoch()  # the first epoch re-matches, at this image
    loss.forward_backward()
    named = dict(loss.named_losses())
    assert list(dict(loss.named_losses())) == ['content', 'mrf', 'tv']

    expected = 0.0
    style_features = [vgg_features(params, args.mrf_layers, style) for style in inputs.styles]
    for layer, result in zip(args.mrf_layers, vgg_features(params, args.mrf_layers, image)):
        index = args.mrf_layers.index(layer)
        patches = np.concatenate([mrf.extract_patches(features[index], K, 2) for features in style_features])
        expected += numpy_energy_and_gradient(result, patches, numpy_nearest(result, patches))[0]
    assert inputs.styles[0].shape[2:] == (24, 36)  # 0.75 of the 32x48 content
    np.testing.assert_allclose(named['mrf'], 0.5 * expected, rtol=1e-4)
    assert named['content'] == 0


def test_the_input_gradient_is_that_of_the_loss_with_the_matches_fixed(vgg_params):
    """Through VGG-19: the image gradient along a random direction equals the central difference
    of the logged losses, the matches kept (only start_epoch re-matches)."""
    args = nstyle.get_args(SIZE_FLAGS + ['--vgg-params', vgg_params, '--style-loss', 'mrf', '--style-image', STYLE,
                                         '--tv-weight', '0'])
    net = loss_setup.load_vgg(args, model_vgg19, mx.cpu())
    loss = loss_setup.build_loss(args, net, loss_setup.stage_inputs(args, model_vgg19, 48, '--max-long-edge', read_pictures(args)))
    rng = np.random.RandomState(1)
    image = rng.uniform(-50, 50, loss.executor.data.shape).astype(np.float32)
    direction = rng.randn(*image.shape).astype(np.float32)
    loss.executor.data[:] = image
    loss.start_epoch()
    loss.forward_backward()
    slope = float(np.sum(loss.executor.data_grad.asnumpy().astype(np.float64) * direction))
    totals = []
    for sign in (1, -1):
        loss.executor.data[:] = image + sign * 0.01 * direction
        loss.executor.executor.forward()
        totals.append(sum(value for _, value in loss.named_losses()))
    np.testing.assert_allclose((totals[0] - totals[1]) / 0.02, slope, rtol=2e-3)


def test_the_style_image_itself_has_zero_mrf_loss(vgg_params):
    """The result made of the style's own patches, at the feature level: the style image as the
    image, every style patch sampled (stride 1): each patch matches itself, E = 0 (to rounding)."""
    args = nstyle.get_args(SIZE_FLAGS + ['--vgg-params', vgg_params, '--style-loss', 'mrf', '--style-image', STYLE,
                                         '--mrf-stride', '1', '--content-weight', '0'])
    net = loss_setup.load_vgg(args, model_vgg19, mx.cpu())
    inputs = loss_setup.stage_inputs(args, model_vgg19, 48, '--max-long-edge', read_pictures(args))
    loss = loss_setup.build_loss(args, net, inputs)
    loss.executor.data[:] = inputs.styles[0]
    loss.start_epoch()
    loss.forward_backward()
    scale = sum(np.sum(features.astype(np.float64) ** 2) * K * K
                for features in vgg_features(net.params, args.mrf_layers, inputs.styles[0]))
    assert scale > 0
    assert abs(dict(loss.named_losses())['mrf']) <= 1e-6 * scale


# ---------------------------------------------------------------- the command line

def cli_args(tmp_path, vgg_params, small, *flags):
    return ['--gpu', '-1', '--max-long-edge', '32', '--max-num-epochs', '2', '--content-image', small['content'],
            '--style-image', small['style'], '--vgg-params', vgg_params,
            '--output_dir', tmp_path / 'out'] + list(flags)


BAD_FLAGS = {
    'style-loss': (['--style-loss', 'patches'], 2, "argument --style-loss: invalid choice: 'patches'"),
    'patch-size': (['--style-loss', 'mrf', '--mrf-patch-size', '0'], 2, 'argument --mrf-patch-size: must be > 0'),
    'stride': (['--style-loss', 'mrf', '--mrf-stride', 'two'], 2, "argument --mrf-stride: expected int, got 'two'"),
    'weight': (['--style-loss', 'mrf', '--mrf-weight', '-1'], 2, 'argument --mrf-weight: must be >= 0 and finite'),
    'rematch': (['--style-loss', 'mrf', '--mrf-rematch-every', '0'], 2, 'argument --mrf-rematch-every: must be > 0'),
    'layers': (['--style-loss', 'mrf', '--mrf-layers', 'relu3_1,relu9_1'], 1, '--mrf-layers: unknown layer relu9_1'),
    'blend': (['--style-loss', 'mrf', '--style-blend-weights', '1'], 2,
              'argument --style-blend-weights: not used by --style-loss mrf'),
    # relu4_1 is 1/8 of the image: a 5x5 patch there needs 40 pixels a side, and 32x21 has not
    'too-small': (['--style-loss', 'mrf', '--mrf-patch-size', '5'], 1,
                  'needs at least 40 pixels on each side; raise --max-long-edge'),
}


@pytest.mark.parametrize('case', sorted(BAD_FLAGS))
def test_bad_mrf_flags_end_in_one_line(case, tmp_path, vgg_params, small, run_tool):
    import nstyle
    flags, code, needle = BAD_FLAGS[case]
    proc = run_tool(nstyle.main, cli_args(tmp_path, vgg_params, small, *flags))
    assert_clean_failure(proc, code, [needle], tmp_path / 'out')


def test_print_epochs_names_the_mrf_loss_with_every_optimiser_and_multires(tmp_path, vgg_params, small):
    """Texture synthesis (--content-weight 0) coarse to fine with L-BFGS, the matches kept through
    each stage: L-BFGS's line search makes every logged total lower than the one before in its
    stage, which holds only if the loss and its gradient agree through VGG-19. Then a transfer with
    Adam and --original-colors. Each --print-epochs line names the mrf loss; its total is the sum."""
    import re
    # relu4_1 (1/8) must hold a 3x3 patch: 24 pixels a side at least
    runs = [['--content-weight', '0', '--optimizer', 'lbfgs', '--multires', '36:20,48:15', '--mrf-rematch-every', '100'],
            ['--optimizer', 'adam', '--original-colors', '--mrf-rematch-every', '2', '--max-long-edge', '48']]
    for number, flags in enumerate(runs):
        args = cli_args(tmp_path / str(number), vgg_params, small, '--style-loss', 'mrf', '--print-epochs', '1',
                        '--seed', '0', *flags)
        proc = run_nstyle(args)
        assert proc.returncode == 0, proc.stderr[-2000:]
        stages = [re.findall(r'losses: content (\S+), mrf (\S+), tv (\S+), total (\S+)', stage)
                  for stage in re.split(r'stage \d of \d', proc.stderr)[1:] or [proc.stderr]]
        assert [len(lines) for lines in stages] == [len(re.findall(r'relative change', stage))
                                                     for stage in re.split(r'stage \d of \d', proc.stderr)[1:]
                                                     or [proc.stderr]]
        assert all(len(lines) >= 2 for lines in stages), proc.stderr[-2000:]
        for lines in stages:
            values = np.array(lines, dtype=np.float64)
            assert (values[:, 1] > 0).all()
            np.testing.assert_allclose(values[:, :3].sum(axis=1), values[:, 3], rtol=1e-6)
            if number == 0:
                assert (values[:, 0] == 0).all()
                assert (np.diff(values[:, 3]) < 0).all(), values[:, 3]
        assert os.path.exists(tmp_path / str(number) / 'out' / 'final.jpg')


def test_batch_mode_gives_the_single_runs_results(tmp_path, vgg_params, small, second_style):
    """Batch mode reuses the loss executor between jobs of one size: the MRF targets, counts and
    patches must be each job's own. Two jobs (the second with two style images pooled and another
    seed) against two single runs, byte for byte."""
    flags = ['--max-long-edge', '48', '--max-num-epochs', '3', '--save-epochs', '3', '--style-loss', 'mrf', '--seed', '0']
    second = ['--seed', '1', '--style-image', '%s,%s' % (small['style'], second_style), '--mrf-weight', '2']
    (tmp_path / 'jobs.csv').write_text('content,style,output,options\n%s,%s,%s,\n%s,%s,%s,"%s"\n' % (
        small['content'], small['style'], tmp_path / 'batch1',
        small['content'], small['style'], tmp_path / 'batch2', ' '.join(second)))
    proc = run_nstyle(cli_args(tmp_path, vgg_params, small, *flags, '--jobs', tmp_path / 'jobs.csv'))
    assert proc.returncode == 0 and 'jobs: 2 of 2 done' in proc.stderr, proc.stderr[-2000:]
    for name, extra in (('single1', []), ('single2', second)):
        single = run_nstyle(cli_args(tmp_path / name, vgg_params, small, *flags, *extra))
        assert single.returncode == 0, single.stderr[-2000:]
    for batch, single in (('batch1', 'single1'), ('batch2', 'single2')):
        for image in ('e_3.jpg', 'final.jpg'):
            assert (tmp_path / batch / image).read_bytes() == (tmp_path / single / 'out' / image).read_bytes()
    assert (tmp_path / 'batch1' / 'final.jpg').read_bytes() != (tmp_path / 'batch2' / 'final.jpg').read_bytes()


@pytest.mark.skipif('avx512_bf16' not in device.cpu_flags(),
                    reason='--dtype bfloat16 needs a CPU with AVX512-BF16')
def test_bfloat16_features_give_nearly_the_float32_loss(vgg_params):
    """--dtype bfloat16 computes the MRF features (the loss executor's and the re-matching's) with
    bfloat16 convolutions: the loss at an image stays within a few percent of float32's."""
    values = {}
    for dtype in ('float32', 'bfloat16'):
        args = nstyle.get_args(SIZE_FLAGS + ['--vgg-params', vgg_params, '--style-loss', 'mrf', '--style-image', STYLE,
                                             '--dtype', dtype])
        loss = loss_setup.build_loss(args, loss_setup.load_vgg(args, model_vgg19, mx.cpu()), loss_setup.stage_inputs(args, model_vgg19, 48, '--max-long-edge', read_pictures(args)))
        loss.executor.data[:] = np.random.RandomState(2).uniform(-50, 50, loss.executor.data.shape)
        loss.start_epoch()
        loss.forward_backward()
        values[dtype] = dict(loss.named_losses())
    for name in ('content', 'mrf'):
        np.testing.assert_allclose(values['bfloat16'][name], values['float32'][name], rtol=0.03)
