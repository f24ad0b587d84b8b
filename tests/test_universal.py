"""Universal style transfer (neural_style/universal): the WCT and AdaIN transforms against numpy, the
networks against a numpy forward pass, the Torch7 converter on .t7 files written here (the authors'
models cannot be downloaded on these machines), decoder training, the whole pass, reproduce_survey.py and
download.sh --adain. Every network here has seeded random weights, never the authors'."""
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

import t7_writer
from conftest import PROJECT
from universal_reference import reference_wct

from neural_style.long_work import StopFlag
from neural_style.universal import networks, transforms


# ---------------------------------------------------------------- references and checks, in numpy

def covariance(features):
    """Centred covariance over N - 1 of (C, H, W) features, float64: the independent reference."""
    matrix = np.asarray(features, np.float64).reshape(features.shape[0], -1)
    return np.cov(matrix)


def relative_frobenius(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def check_matches_style(result, style, tolerance=1e-4):
    """The assertion of the issue: the result's covariance and mean are the style's."""
    assert relative_frobenius(covariance(result), covariance(style)) <= tolerance
    style_mean = np.asarray(style, np.float64).reshape(style.shape[0], -1).mean(axis=1)
    result_mean = np.asarray(result, np.float64).reshape(result.shape[0], -1).mean(axis=1)
    assert np.abs(result_mean - style_mean).max() <= tolerance * (1 + np.abs(style_mean).max())


def correlated_features(rng, channels, height, width, offset=0.0):
    mixing = rng.normal(size=(channels, channels))
    return (mixing @ rng.normal(size=(channels, height * width))).reshape(channels, height, width) + offset


@pytest.fixture
def features():
    rng = np.random.RandomState(0)
    content = correlated_features(rng, 16, 20, 20, offset=3.0).astype(np.float32)
    style = correlated_features(rng, 16, 15, 20, offset=-1.0).astype(np.float32)
    return content, style


# ---------------------------------------------------------------- the transforms

def test_wct_gives_the_styles_covariance_and_mean(features):
    content, style = features
    check_matches_style(transforms.wct(content, style, 1.0), style)


def test_wct_on_relu_like_features_with_a_rank_deficient_style():
    """Non-negative sparse features (as after a ReLU), a style of rank 6 < 16 channels: its near-zero
    eigenvalues are dropped (the papers' epsilon), its covariance still comes out."""
    rng = np.random.RandomState(1)
    content = np.maximum(correlated_features(rng, 16, 24, 24), 0).astype(np.float32)
    style = np.maximum(rng.normal(size=(16, 6)) @ rng.normal(size=(6, 300)), 0).reshape(16, 15, 20)
    style = style.astype(np.float32)
    result = transforms.wct(content, style, 1.0)
    check_matches_style(result, style)
    assert np.abs(result - reference_wct(content, style)).max() <= 1e-4 * np.abs(result).max()


def test_wct_equals_the_authors_formula_in_numpy(features):
    content, style = features
    expected = reference_wct(content, style)
    assert np.abs(transforms.wct(content, style) - expected).max() <= 1e-4 * np.abs(expected).max()


def test_whitening_gives_the_identity_covariance(features):
    content, _ = features
    whitened = transforms.whiten(content)
    assert np.abs(covariance(whitened) - np.eye(content.shape[0])).max() <= 1e-4
    assert np.abs(whitened.reshape(16, -1).mean(axis=1)).max() <= 1e-4


def uncentred_wct(content, style):
    """A wrong WCT: Gram matrices (not centred) for the whitening and colouring, no means."""
    c = content.reshape(content.shape[0], -1).astype(np.float64)
    s = style.reshape(style.shape[0], -1).astype(np.float64)
    c_e, c_v = np.linalg.eigh(c @ c.T / (c.shape[1] - 1))
    s_e, s_v = np.linalg.eigh(s @ s.T / (s.shape[1] - 1))
    transform = (s_v * s_e ** 0.5) @ s_v.T @ (c_v * c_e ** -0.5) @ c_v.T
    return (transform @ c).reshape(content.shape)


def colour_only_wct(content, style):
    """Another wrong one: centred, coloured, but the style's mean never added."""
    return transforms.wct(content, style) - style.reshape(style.shape[0], -1).mean(axis=1)[:, None, None]


@pytest.mark.parametrize('wrong', [uncentred_wct, colour_only_wct])
def test_the_checks_reject_a_wrong_transform(features, wrong):
    content, style = features
    with pytest.raises(AssertionError):
        check_matches_style(wrong(content, style), style)


def test_adain_gives_the_styles_channel_means_and_stds(features):
    content, style = features
    result = transforms.adain(content, style, 1.0).astype(np.float64).reshape(16, -1)
    style64 = style.astype(np.float64).reshape(16, -1)
    assert np.abs(result.mean(axis=1) - style64.mean(axis=1)).max() <= 1e-4 * np.abs(style64).max()
    assert np.abs(result.std(axis=1) / style64.std(axis=1) - 1).max() <= 1e-4


def test_adain_check_rejects_unbiased_content_normalisation(features):
    """The same check fails for a wrong AdaIN (scaled by the style's variance, not its std)."""
    content, style = features
    c = content.reshape(16, -1).astype(np.float64)
    s = style.reshape(16, -1).astype(np.float64)
    normalised = (c - c.mean(1, keepdims=True)) / c.std(1, keepdims=True)
    wrong = normalised * s.var(1, keepdims=True) + s.mean(1, keepdims=True)
    assert np.abs(wrong.std(axis=1) / s.std(axis=1) - 1).max() > 1e-2


@pytest.mark.parametrize('transform', [transforms.wct, transforms.adain])
def test_alpha_blends_with_the_content(features, transform):
    content, style = features
    assert np.array_equal(transform(content, style, 0.0), content)
    full = transform(content, style, 1.0).astype(np.float64)
    half = transform(content, style, 0.3).astype(np.float64)
    assert np.allclose(half, 0.3 * full + 0.7 * content, rtol=0, atol=1e-4 * np.abs(full).max())
    with pytest.raises(ValueError):
        transform(content, style, 1.5)


@pytest.mark.parametrize('method', ['wct', 'adain'])
def test_style_interpolation_is_the_weighted_sum(features, method):
    content, style = features
    other = np.random.RandomState(5).normal(size=(16, 10, 10)).astype(np.float32) * 2 + 1
    single = {'wct': transforms.wct, 'adain': transforms.adain}[method]
    assert np.allclose(transforms.blend(method, content, [style, other], [1, 0]), single(content, style), atol=1e-5)
    mixed = transforms.blend(method, content, [style, other], [1, 3], alpha=0.5)
    expected = 0.5 * (0.25 * single(content, style) + 0.75 * single(content, other)) + 0.5 * content
    assert np.allclose(mixed, expected, atol=1e-4)
    with pytest.raises(ValueError):
        transforms.blend(method, content, [style, other], [0, 0])


def test_non_finite_features_are_refused(features):
    content, style = features
    content = content.copy()
    content[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        transforms.wct(content, style)


def test_the_transforms_import_without_mxnet():
    code = 'import sys; from neural_style import wct, adain; print("mxnet" in sys.modules, wct.__module__)'
    out = subprocess.run([sys.executable, '-c', code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['False', 'neural_style.universal.transforms']


# ---------------------------------------------------------------- the networks against numpy

def np_conv(x, weight, bias, reflect):
    """(C, H, W) -> (O, H, W) 3x3 (reflection-padded) or 1x1 convolution."""
    if weight.shape[2] == 3:
        x = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode='reflect' if reflect else 'constant')
    windows = sliding_window_view(x, weight.shape[2:], axis=(1, 2))  # (C, H, W, kh, kw)
    return np.einsum('chwij,ocij->ohw', windows, weight, optimize=True) + bias[:, None, None]


def np_encoder(x, params, level):
    x = np_conv(x, params['preprocess_weight'].astype(np.float64), params['preprocess_bias'], False)
    for layer in networks.encoder_layers(level):
        if isinstance(layer, str):
            c, h, w = x.shape
            x = x.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))
        else:
            x = np.maximum(np_conv(x, params[layer[0] + '_weight'].astype(np.float64), params[layer[0] + '_bias'],
                                   True), 0)
    return x


def np_decoder(x, params, level):
    layers = networks.decoder_layers(level)
    for index, layer in enumerate(layers):
        if layer == 'upsample':
            x = x.repeat(2, axis=1).repeat(2, axis=2)
        else:
            x = np_conv(x, params[layer[0] + '_weight'].astype(np.float64), params[layer[0] + '_bias'], True)
            x = np.maximum(x, 0) if index < len(layers) - 1 else x
    return x


def test_encoder_and_decoder_match_numpy():
    level = 2
    encoder = networks.random_params(level, 'encoder', 3)
    decoder = networks.random_params(level, 'decoder', 4)
    for params in (encoder, decoder):  # non-zero biases, so that they are checked too
        for name in params:
            if name.endswith('_bias') and name != 'preprocess_bias':
                params[name] = np.random.RandomState(len(name)).normal(size=params[name].shape).astype(np.float32)
    image = np.random.RandomState(6).rand(3, 8, 6).astype(np.float32)
    features = networks.bound_encoder(level, encoder)(image[None])[0]
    expected = np_encoder(image.astype(np.float64), encoder, level)
    assert features.shape == (128, 4, 3)
    assert np.abs(features - expected).max() <= 1e-4 * np.abs(expected).max()
    decoded = networks.bound_decoder(level, decoder)(features[None])[0]
    expected = np_decoder(features.astype(np.float64), decoder, level)
    assert decoded.shape == (3, 8, 6)
    assert np.abs(decoded - expected).max() <= 1e-4 * np.abs(expected).max()


# ---------------------------------------------------------------- the Torch7 converter

def t7_encoder(params, level, beyond=False):
    """The authors' layout of an encoder (vgg_normalised_convN_1.t7); beyond: on to conv5_1 as AdaIN's file."""
    modules = [t7_writer.conv(params['preprocess_weight'], params['preprocess_bias'], 1)]
    layers = networks.encoder_layers(level)
    if beyond:
        layers = layers + ['pool4', ('conv5_1', 512, 512)]
        rng = np.random.RandomState(9)
        params = dict(params, conv5_1_weight=rng.normal(size=(512, 512, 3, 3)).astype(np.float32),
                      conv5_1_bias=np.zeros(512, np.float32))
    for layer in layers:
        if isinstance(layer, str):
            modules.append(t7_writer.max_pool())
        else:
            modules += [t7_writer.reflection_pad(),
                        t7_writer.conv(params[layer[0] + '_weight'], params[layer[0] + '_bias'], 3), t7_writer.relu()]
    return t7_writer.sequential(modules)


def t7_decoder(params, level, padded=True):
    modules = []
    layers = networks.decoder_layers(level)
    for index, layer in enumerate(layers):
        if layer == 'upsample':
            modules.append(t7_writer.upsample())
            continue
        modules += ([t7_writer.reflection_pad()] if padded else []) + \
            [t7_writer.conv(params[layer[0] + '_weight'], params[layer[0] + '_bias'], 3)]
        if index < len(layers) - 1:
            modules.append(t7_writer.relu())
    return t7_writer.sequential(modules)


def with_random_biases(params, seed):
    rng = np.random.RandomState(seed)
    return {name: rng.normal(size=value.shape).astype(np.float32) if name.endswith('_bias') else value
            for name, value in params.items()}


def test_converter_reads_written_t7_files_back_exactly(tmp_path):
    from neural_style.universal import torch7
    level = 2
    encoder = with_random_biases(networks.random_params(level, 'encoder', 0), 1)
    decoder = with_random_biases(networks.random_params(level, 'decoder', 2), 3)
    t7_writer.save(tmp_path / 'enc.t7', t7_encoder(encoder, level))
    t7_writer.save(tmp_path / 'dec.t7', t7_decoder(decoder, level))
    for path, part, params in (('enc.t7', 'encoder', encoder), ('dec.t7', 'decoder', decoder)):
        converted = torch7.convert_file(str(tmp_path / path), level, part)
        assert sorted(converted) == sorted(params)
        for name, value in params.items():
            assert converted[name].dtype == np.float32 and np.array_equal(converted[name], value), name


def test_converter_refuses_what_is_not_the_model(tmp_path):
    from neural_style.universal import torch7
    decoder = networks.random_params(2, 'decoder', 2)
    t7_writer.save(tmp_path / 'dec.t7', t7_decoder(decoder, 2))
    with pytest.raises(torch7.ConversionError, match='layer'):
        torch7.convert_file(str(tmp_path / 'dec.t7'), 2, 'encoder')  # a decoder is no encoder
    with pytest.raises(torch7.ConversionError):
        torch7.convert_file(str(tmp_path / 'dec.t7'), 3, 'decoder')  # nor the decoder of another level
    t7_writer.save(tmp_path / 'zero_padded.t7', t7_decoder(decoder, 2, padded=False))
    with pytest.raises(torch7.ConversionError, match='reflection padding'):
        torch7.convert_file(str(tmp_path / 'zero_padded.t7'), 2, 'decoder')
    data = (tmp_path / 'dec.t7').read_bytes()
    (tmp_path / 'cut.t7').write_bytes(data[:len(data) // 2])
    with pytest.raises(torch7.ConversionError, match='not a readable Torch7 file'):
        torch7.convert_file(str(tmp_path / 'cut.t7'), 2, 'decoder')


def adain_t7_folder(folder):
    """AdaIN's two files, seeded random, in the authors' layout: (encoder params, decoder params)."""
    level = networks.ADAIN_LEVEL
    encoder = with_random_biases(networks.random_params(level, 'encoder', 10), 11)
    decoder = with_random_biases(networks.random_params(level, 'decoder', 12), 13)
    os.makedirs(folder, exist_ok=True)
    t7_writer.save(os.path.join(folder, 'vgg_normalised.t7'), t7_encoder(encoder, level, beyond=True))
    t7_writer.save(os.path.join(folder, 'decoder.t7'), t7_decoder(decoder, level))
    return encoder, decoder


def test_adain_models_convert_to_params_that_load_back_exactly(tmp_path):
    from neural_style.universal import torch7
    encoder, decoder = adain_t7_folder(tmp_path / 't7')
    written = torch7.convert('adain', str(tmp_path / 't7'), str(tmp_path / 'adain'))
    assert sorted(os.path.basename(path) for path in written) == ['decoder4.params', 'encoder4.params']
    for part, params in (('encoder', encoder), ('decoder', decoder)):
        loaded = networks.load_params(str(tmp_path / 'adain' / ('%s4.params' % part)), 4, part)
        assert all(np.array_equal(loaded[name], value) for name, value in params.items())


# ---------------------------------------------------------------- the whole pass

def test_stylize_universal_runs_the_levels_coarse_to_fine():
    from neural_style.universal import stylize
    rng = np.random.RandomState(7)
    content = rng.rand(20, 18, 3).astype(np.float32) * 255
    style = rng.rand(16, 16, 3).astype(np.float32) * 255
    weights = stylize.random_weights('wct', [2, 1], seed=3)
    result = stylize.stylize_universal(content, [style], settings=stylize.UniversalSettings('wct', 0.7, 2),
                                       weights=weights)
    image = content.transpose(2, 0, 1)[None] / 255
    for level in (2, 1):  # the pass written out with numpy networks and the reference WCT
        encoder, decoder = weights[level]
        content_features = np_encoder(image[0].astype(np.float64), encoder, level)
        style_features = np_encoder(style.transpose(2, 0, 1).astype(np.float64) / 255, encoder, level)
        mixed = 0.7 * reference_wct(content_features, style_features) + 0.3 * content_features
        image = np_decoder(mixed, decoder, level)[None, :, :20, :18]
    expected = np.clip(image[0].transpose(1, 2, 0) * 255, 0, 255)
    assert result.shape == (20, 18, 3) and result.dtype == np.float32
    assert np.abs(result - expected).max() <= 0.05  # of 255: float32 networks against float64 numpy


def test_missing_weights_say_how_to_get_them(tmp_path):
    from neural_style.universal import stylize
    pixels = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(stylize.WeightsMissing, match=r'download.sh --adain'):
        settings = stylize.UniversalSettings('adain', weights_dir=str(tmp_path))
        stylize.stylize_universal(pixels, [pixels], settings=settings)


# ---------------------------------------------------------------- training

def smooth_images(rng, count, size):
    y, x = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(count):
        a = rng.rand(3, 3)
        images.append(np.stack([np.clip(a[c, 0] * x + a[c, 1] * y + 0.3 * a[c, 2] + 0.1 * rng.rand(size, size), 0, 1)
                                for c in range(3)]))
    return np.stack(images).astype(np.float32)


# (method, level, the factor the loss must fall by in 20 Adam steps at lr 1e-5; measured on a Xeon: 28, 7.5, 2.4;
# on an AMD EPYC (Zen 4, AVX-512): 28.0, 11.8, 3.37, so each threshold holds there by x5.6, x4.7, x2.2)
@pytest.mark.parametrize('method, level, factor', [('wct', 1, 5), ('wct', 2, 2.5), ('adain', 4, 1.5)])
def test_a_few_training_steps_lower_the_decoders_loss(method, level, factor):
    from neural_style.universal import training
    rng = np.random.RandomState(0)
    config = training.TrainConfig(method, level, content_dir='', model_dir='', size=16, batch_size=4, lr=1e-5, seed=1)
    trainer = training.DecoderTrainer(config, networks.random_params(level, 'encoder', 0))
    contents, styles = smooth_images(rng, 4, 16), smooth_images(rng, 4, 16)
    inputs = trainer.targets(contents, styles if method == 'adain' else None)
    before = trainer.loss(inputs)
    for _ in range(20):
        trainer.step(inputs)
    assert trainer.loss(inputs) < before / factor


def numpy_training_loss(method, level, encoder, decoder, inputs, feature_weight=1.0, style_weight=1e-2):
    """The decoders' training losses written out in numpy float64 with the numpy networks above: WCT's
    pixel + feature reconstruction, AdaIN's content + style (channel means and stds at relu1_1 ... relu4_1)."""
    total = []
    for index, features in enumerate(inputs['features'].astype(np.float64)):
        decoded = np_decoder(features, decoder, level)
        if method == 'wct':
            total.append(np.mean((decoded - inputs['image'][index]) ** 2) +
                         feature_weight * np.mean((np_encoder(decoded, encoder, level) - features) ** 2))
            continue
        loss = np.mean((np_encoder(decoded, encoder, level) - features) ** 2)
        for k in range(1, level + 1):
            tap = np_encoder(decoded, encoder, k)
            tap = tap.reshape(tap.shape[0], -1)
            std = np.sqrt(tap.var(axis=1) + transforms.ADAIN_EPSILON)
            loss += style_weight * (np.mean((tap.mean(axis=1) - inputs['style_mean%d' % k][index]) ** 2) +
                                    np.mean((std - inputs['style_std%d' % k][index]) ** 2))
        total.append(loss)
    return np.mean(total)  # every image the same size: the mean over the batch's elements


@pytest.mark.parametrize('method, level, size', [('wct', 2, 8), ('adain', 4, 16)])
def test_the_training_loss_is_the_papers_loss_in_numpy(method, level, size):
    """DecoderTrainer.loss against numpy_training_loss on random inputs (seeded random networks); AdaIN's
    style weight raised so that its style term is a good part of the loss, not lost in the tolerance."""
    from neural_style.universal import training
    weights = dict(feature_weight=0.7, style_weight=30.0)
    config = training.TrainConfig(method, level, content_dir='', model_dir='', size=size, batch_size=2, seed=1,
                                  **weights)
    encoder = with_random_biases(networks.random_params(level, 'encoder', 0), 2)
    encoder['preprocess_bias'] = networks.vgg19_preprocess()['preprocess_bias']
    decoder = networks.random_params(level, 'decoder', 3)
    trainer = training.DecoderTrainer(config, encoder, decoder)
    rng = np.random.RandomState(4)
    # features large enough that the decoded image varies (the decoders' last layer starts / 255)
    inputs = {'features': np.abs(rng.normal(0, 100, size=trainer.feature_shape)).astype(np.float32)}
    if method == 'wct':
        inputs['image'] = rng.rand(2, 3, size, size).astype(np.float32)
    else:
        for k, (_, channels) in enumerate(networks.encoder_taps_channels(level), 1):
            inputs['style_mean%d' % k] = np.abs(rng.normal(0, 10, size=(2, channels))).astype(np.float32)
            inputs['style_std%d' % k] = np.abs(rng.normal(0, 10, size=(2, channels))).astype(np.float32)
    expected = numpy_training_loss(method, level, encoder, decoder, inputs, **weights)
    assert abs(trainer.loss(inputs) - expected) <= 1e-4 * expected
    # each term counts: without the feature (WCT) or style (AdaIN) term the loss is another
    alone = numpy_training_loss(method, level, encoder, decoder, inputs, feature_weight=0, style_weight=0)
    assert expected - alone > 0.1 * expected


def write_images(folder, count, size, seed):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    for index, image in enumerate(smooth_images(rng, count, size)):
        Image.fromarray((image.transpose(1, 2, 0) * 255).astype(np.uint8)).save(os.path.join(folder, '%d.png' % index))


def test_training_resumes_where_it_stopped(tmp_path):
    from neural_style.universal import training
    write_images(tmp_path / 'photos', 3, 20, 0)
    encoder = networks.random_params(1, 'encoder', 0)
    common = dict(method='wct', level=1, content_dir=str(tmp_path / 'photos'), size=16, batch_size=2, lr=1e-5,
                  save_every=3, seed=4)
    training.train(training.TrainConfig(model_dir=str(tmp_path / 'straight'), steps=6, **common), encoder, log=str)
    training.train(training.TrainConfig(model_dir=str(tmp_path / 'halves'), steps=3, **common), encoder, log=str)
    with pytest.raises(training.TrainingError, match='--resume'):
        training.train(training.TrainConfig(model_dir=str(tmp_path / 'halves'), steps=6, **common), encoder, log=str)
    losses = training.train(training.TrainConfig(model_dir=str(tmp_path / 'halves'), steps=6, resume=True, **common),
                            encoder, log=str)
    assert len(losses) == 3
    assert_same_decoders(tmp_path / 'straight', tmp_path / 'halves')


def assert_same_decoders(folder, other):
    """The level-1 decoders trained into two folders hold the same weights (to float32 rounding)."""
    first = networks.load_params(str(folder / 'decoder1.params'), 1, 'decoder')
    second = networks.load_params(str(other / 'decoder1.params'), 1, 'decoder')
    for name in first:
        assert np.allclose(first[name], second[name], rtol=0, atol=1e-6), name


class StopDuringStep(StopFlag):
    """A stop (as Ctrl-C's handler sets it) that arrives while the given step runs: the flag is read
    once after each step."""

    def __init__(self, step):
        super().__init__()
        self.reads, self.step = 0, step

    def __bool__(self):
        self.reads += 1
        if self.reads == self.step:
            self.set(signal.SIGINT)
        return super().__bool__()


def test_an_interrupted_training_saves_its_step_and_resumes_exactly(tmp_path):
    """Stopped during step 2 of 6, long before the first periodic save (save_every 100): step 2 is saved,
    and --resume runs steps 3 ... 6 to the weights of 6 steps straight."""
    from neural_style.errors import Interrupted
    from neural_style.universal import training
    write_images(tmp_path / 'photos', 3, 20, 0)
    encoder = networks.random_params(1, 'encoder', 0)
    common = dict(method='wct', level=1, content_dir=str(tmp_path / 'photos'), size=16, batch_size=2, lr=1e-5,
                  save_every=100, seed=4, steps=6)
    training.train(training.TrainConfig(model_dir=str(tmp_path / 'straight'), **common), encoder, log=str)
    lines = []
    with pytest.raises(Interrupted):
        training.train(training.TrainConfig(model_dir=str(tmp_path / 'stopped'), **common), encoder, log=lines.append,
                       stop=StopDuringStep(2))
    assert 'interrupted at step 2' in lines[-1] and '--resume' in lines[-1]
    losses = training.train(training.TrainConfig(model_dir=str(tmp_path / 'stopped'), resume=True, **common),
                            encoder, log=str)
    assert len(losses) == 4
    assert_same_decoders(tmp_path / 'straight', tmp_path / 'stopped')


def test_ctrl_c_stops_the_training_tool_after_a_saved_step(tmp_path):
    """python -m neural_style.universal.training, SIGINT once it has logged step 10: exit 130, one line on
    stderr, and the step it stopped after saved (the periodic save, every 1000, never came)."""
    import pickle
    write_images(tmp_path / 'photos', 3, 20, 0)
    networks.save_params(str(tmp_path / 'encoder1.params'), networks.random_params(1, 'encoder', 0))
    env = dict(os.environ, PYTHONPATH=PROJECT, PYTHONUNBUFFERED='1')
    process = subprocess.Popen([sys.executable, '-m', 'neural_style.universal.training', '--level', '1',
                                '--content-dir', str(tmp_path / 'photos'), '--encoder', str(tmp_path / 'encoder1.params'),
                                '--model-dir', str(tmp_path / 'decoders'), '--size', '16', '--batch-size', '2',
                                '--steps', '100000', '--save-every', '1000'],
                               cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if line.startswith('step 10:'):
                process.send_signal(signal.SIGINT)
                break
        rest, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGINT, stderr
    assert stderr.strip().count('\n') == 0 and 'interrupted' in stderr
    with open(tmp_path / 'decoders' / 'decoder1.state', 'rb') as f:
        step = pickle.load(f)['step']
    assert step >= 10 and 'interrupted at step %d' % step in rest
    assert networks.load_params(str(tmp_path / 'decoders' / 'decoder1.params'), 1, 'decoder')


# ---------------------------------------------------------------- the tools

def run_tool(args, env=None, cwd=PROJECT):
    full_env = dict(os.environ, PYTHONPATH=PROJECT, **(env or {}))
    return subprocess.run([sys.executable] + args, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=600)


def test_reproduce_survey_without_weights_says_so_in_one_line(tmp_path):
    out = run_tool(['reproduce_survey.py', '--weights-dir', str(tmp_path / 'none'),
                    '--output', str(tmp_path / 'survey.png')])
    assert out.returncode == 1
    assert out.stderr.count('\n') == 1 and '--random-weights' in out.stderr and 'download.sh --wct' in out.stderr
    assert not (tmp_path / 'survey.png').exists()


def test_reproduce_survey_with_random_weights_writes_a_labelled_montage(tmp_path):
    output = tmp_path / 'survey.png'
    out = run_tool(['reproduce_survey.py', '--random-weights', '--max-long-edge', '32', '--alphas', '0.5,1',
                    '--levels', '2', '--single-level', '1', '--output', str(output)])
    assert out.returncode == 0, out.stderr
    assert 'RANDOM' in out.stdout
    with Image.open(output) as sheet:
        assert sheet.format == 'PNG' and sheet.width > 64 and sheet.height > 3 * 20
    again = run_tool(['reproduce_survey.py', '--random-weights', '--output', str(output)])
    assert again.returncode == 1 and '--overwrite' in again.stderr


@pytest.fixture
def t7_server(tmp_path):
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield folder, 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(shutil.which('curl') is None and shutil.which('wget') is None, reason='no curl or wget')
def test_download_adain_converts_only_with_explicit_consent(tmp_path, t7_server):
    folder, url = t7_server
    encoder, decoder = adain_t7_folder(folder)
    project = tmp_path / 'project'
    project.mkdir()
    shutil.copy2(os.path.join(PROJECT, 'download.sh'), project / 'download.sh')
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('NSTYLE_') and 'proxy' not in key.lower()}
    env.update(NSTYLE_ADAIN_URL=url, NSTYLE_BASE_URL=url + '/missing', NSTYLE_PYTHON=sys.executable,
               PYTHONPATH=PROJECT)
    first = subprocess.run(['./download.sh', '--adain'], cwd=project, env=env, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 1
    assert 'UNVERIFIED' in first.stdout and 'NSTYLE_ALLOW_UNVERIFIED=1' in first.stderr
    assert not (project / 'model' / 'adain' / 'encoder4.params').exists()
    env['NSTYLE_ALLOW_UNVERIFIED'] = '1'
    second = subprocess.run(['./download.sh', '--adain'], cwd=project, env=env, capture_output=True, text=True,
                            timeout=300)
    assert 'wrote model/adain/encoder4.params' in second.stdout, second.stderr
    loaded = networks.load_params(str(project / 'model' / 'adain' / 'decoder4.params'), 4, 'decoder')
    assert all(np.array_equal(loaded[name], value) for name, value in decoder.items())


# the seeds: networks whose pictures are not saturated (AdaIN's with seed 3 gave one colour, 0 or 255)
@pytest.mark.parametrize('method,levels,seed', [('wct', 2, 3), ('adain', 5, 5)])
def test_stylize_py_method_is_the_universal_pass(tmp_path, method, levels, seed):
    """stylize.py --method wct|adain writes what stylize_universal gives for the same photo, two paintings
    weighted 3:1, alpha and levels (seeded random weights saved where --weights-dir points)."""
    import os
    import subprocess
    import sys

    from skimage import io

    from conftest import PROJECT
    from neural_style.universal import UniversalSettings, networks, stylize_universal
    from neural_style.universal.stylize import random_weights
    weights = random_weights(method, levels, seed=seed)
    for level, (encoder, decoder) in weights.items():
        networks.save_params(str(tmp_path / (networks.ENCODER_FILE % level)), encoder)
        networks.save_params(str(tmp_path / (networks.DECODER_FILE % level)), decoder)
    rng = np.random.RandomState(0)
    photo = rng.randint(0, 256, (24, 32, 3)).astype(np.uint8)
    painting = rng.randint(0, 256, (20, 20, 3)).astype(np.uint8)
    other = (np.arange(24 * 16 * 3).reshape(24, 16, 3) % 251).astype(np.uint8)  # unlike the first
    io.imsave(str(tmp_path / 'photo.png'), photo)
    io.imsave(str(tmp_path / 'painting.png'), painting)
    io.imsave(str(tmp_path / 'other.png'), other)
    flags = ['--levels', str(levels)] if method == 'wct' else []
    result = subprocess.run([sys.executable, os.path.join(PROJECT, 'stylize.py'), str(tmp_path / 'photo.png'),
                             '--method', method, '--style-image', '%s,%s' % (tmp_path / 'painting.png',
                                                                              tmp_path / 'other.png'),
                             '--style-weights', '3,1', '--alpha', '0.6',
                             '--weights-dir', str(tmp_path), '-o', str(tmp_path / 'out.png')] + flags,
                            capture_output=True, text=True, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    settings = UniversalSettings(method, 0.6, levels, str(tmp_path))
    paintings = [painting.astype(np.float32), other.astype(np.float32)]
    expected = stylize_universal(photo.astype(np.float32), paintings, [3, 1], settings)
    assert len(np.unique(np.round(expected))) > 50  # a picture, not a saturated one that any pass could give
    written = io.imread(str(tmp_path / 'out.png')).astype(np.float32)
    assert written.shape == expected.shape
    assert np.abs(written - np.clip(np.round(expected), 0, 255)).max() <= 1
    # the weights count: equal weights give another picture
    equal = stylize_universal(photo.astype(np.float32), paintings, None, settings)
    assert np.abs(written - np.clip(np.round(equal), 0, 255)).max() > 1
