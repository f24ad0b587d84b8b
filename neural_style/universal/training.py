"""Training the decoders of universal style transfer on a folder of images, resumable.

    WCT (Li et al.): decoder N inverts encoder N: || I_o - I ||^2 + feature_weight * || enc(I_o) - enc(I) ||^2,
        I a crop of a training image, I_o = dec(enc(I)) (means over the elements, not sums).
    AdaIN (Huang & Belongie): t = AdaIN(enc(c), enc(s)) at relu4_1, the decoder's image g(t) is scored by
        || enc(g(t)) - t ||^2 + style_weight * sum over relu1_1 ... relu4_1 of the squared differences of
        each channel's mean and standard deviation from the style image's.

The encoder's weights stay fixed (the converted ones, or the project's VGG-19 with its fixed
preprocessing); only the decoder learns, with Adam. Every save_every steps, and at the end, the folder
gets decoder<N>.params (what stylize_universal loads) and decoder<N>.state (the step, Adam's state, the
random state): --resume continues from there, exactly where it stopped. Ctrl-C saves the step it
stops after, so that nothing since the last periodic save is lost.

    python -m neural_style.universal.training --method wct --level 1 --content-dir photos/ \
        --encoder model/vgg19.params --model-dir model/wct --steps 2000
"""
import dataclasses
import os
import pickle
import sys

import numpy as np

from neural_style.errors import Interrupted
from neural_style.long_work import stop_signals_between_epochs

from . import networks, transforms

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    method: str                  # 'wct' or 'adain'
    level: int                   # 1 ... 5 (WCT); AdaIN's is 4
    content_dir: str
    model_dir: str
    style_dir: str = None        # AdaIN only
    encoder: str = None          # a converted encoder<N>.params, or the project's model/vgg19.params
    size: int = 256              # side of the square training crops
    batch_size: int = 8
    steps: int = 1000
    lr: float = 1e-4
    feature_weight: float = 1.0  # WCT's lambda (the paper's 1)
    style_weight: float = 1e-2   # AdaIN's (train.lua's styleWeight; contentWeight 1)
    save_every: int = 500
    seed: int = 0
    resume: bool = False


class TrainingError(ValueError):
    """A problem with the training's inputs or folder; the message says what to do."""


def mean_squared(mx, a, b):
    return mx.sym.mean(mx.sym.square(a - b))


def channel_stats(mx, features):
    """(mean, std) of each channel of (B, C, H, W) features: (B, C) each; std = sqrt(biased var + 1e-5)."""
    mean = mx.sym.mean(features, axis=(2, 3), keepdims=True)
    variance = mx.sym.mean(mx.sym.square(mx.sym.broadcast_sub(features, mean)), axis=(2, 3))
    return mx.sym.reshape(mean, shape=(0, -1)), mx.sym.sqrt(variance + transforms.ADAIN_EPSILON)


def loss_symbol(method, level, feature_weight=1.0, style_weight=1e-2):
    """The scalar training loss of the decoder of this level, as a symbol. Its inputs: 'features' (the
    decoder's input); WCT: 'image' (the crop it should give back); AdaIN: 'style_mean<k>' and 'style_std<k>'
    (B, C_k) for relu k_1, k = 1 ... 4. Every other argument is a weight (the encoder's stay fixed)."""
    from neural_style.mxnet_runtime import mx
    features = mx.sym.Variable('features')
    decoded = networks.decoder_symbol(level, features)
    if method == 'wct':
        image = mx.sym.Variable('image')
        loss = mean_squared(mx, decoded, image) + feature_weight * mean_squared(
            mx, networks.encoder_symbol(level, decoded), features)
    else:
        relus = networks.encoder_relus(level, decoded)
        loss = mean_squared(mx, relus[-1], features)
        for k, relu in enumerate(relus, 1):
            mean, std = channel_stats(mx, relu)
            loss = loss + style_weight * (mean_squared(mx, mean, mx.sym.Variable('style_mean%d' % k)) +
                                          mean_squared(mx, std, mx.sym.Variable('style_std%d' % k)))
    return mx.sym.MakeLoss(loss, name='loss')


class DecoderTrainer:
    """One decoder, its loss bound for (batch, 3, size, size) crops, Adam; the encoder fixed."""

    def __init__(self, config, encoder_params, decoder_params=None, ctx=None):
        """config: a TrainConfig (its method, level, size, batch_size, lr, loss weights and seed)."""
        from neural_style.mxnet_runtime import mx
        self.mx = mx
        method, level, seed = config.method, config.level, config.seed
        batch_shape = (config.batch_size, 3, config.size, config.size)
        self.method, self.level = method, level
        self.ctx = ctx or mx.cpu()
        networks.check_params(encoder_params, level, 'encoder', 'the encoder weights')
        if decoder_params is None:
            decoder_params = networks.random_params(level, 'decoder', seed)
        networks.check_params(decoder_params, level, 'decoder', 'the decoder weights')
        self.decoder_names = sorted(decoder_params)
        batch, _, height, width = batch_shape
        if height % 2 ** (level - 1) or width % 2 ** (level - 1):
            raise TrainingError('training crops of %dx%d: level %d needs sides divisible by %d'
                                % (height, width, level, 2 ** (level - 1)))
        self.encoder_taps = networks.BoundNetwork(mx.sym.Group(networks.encoder_relus(level)), 'data',
                                                  encoder_params, self.ctx)
        self.feature_shape = tuple(mx.sym.Group(networks.encoder_relus(level)).infer_shape(data=batch_shape)[1][-1])
        symbol = loss_symbol(method, level, config.feature_weight, config.style_weight)
        shapes = {'features': self.feature_shape}
        if method == 'wct':
            shapes['image'] = batch_shape
        else:
            for k, (_, channels) in enumerate(networks.encoder_taps_channels(level), 1):
                shapes['style_mean%d' % k] = shapes['style_std%d' % k] = (batch, channels)
        grad_req = {name: 'write' if name in decoder_params else 'null' for name in symbol.list_arguments()}
        self.executor = symbol.simple_bind(self.ctx, grad_req=grad_req, **shapes)
        for name, value in list(encoder_params.items()) + list(decoder_params.items()):
            self.executor.arg_dict[name][:] = value
        self.optimizer = mx.optimizer.Adam(learning_rate=config.lr)
        self.updater = mx.optimizer.get_updater(self.optimizer)

    def targets(self, contents, styles=None):
        """The decoder's input and the loss's targets for a batch of crops (B, 3, size, size), [0, 1]."""
        content_taps = self.encoder_taps_of(contents)
        if self.method == 'wct':
            return {'features': content_taps[-1], 'image': contents}
        style_taps = self.encoder_taps_of(styles)
        adained = np.stack([transforms.adain(c, s) for c, s in zip(content_taps[-1], style_taps[-1])])
        found = {'features': adained}
        for k, taps in enumerate(style_taps, 1):
            mean, std = zip(*(transforms.channel_mean_std(tap, transforms.ADAIN_EPSILON) for tap in taps))
            found['style_mean%d' % k] = np.concatenate([m.T for m in mean]).astype(np.float32)
            found['style_std%d' % k] = np.concatenate([s.T for s in std]).astype(np.float32)
        return found

    def encoder_taps_of(self, batch):
        executor = self.encoder_taps.executor(tuple(batch.shape))
        executor.arg_dict['data'][:] = batch
        return [output.asnumpy() for output in executor.forward(is_train=False)]

    def set_inputs(self, inputs):
        for name, value in inputs.items():
            self.executor.arg_dict[name][:] = value

    def loss(self, inputs):
        """The loss of the current decoder on these inputs (no update)."""
        self.set_inputs(inputs)
        return float(self.executor.forward(is_train=False)[0].asnumpy())

    def step(self, inputs):
        """One Adam update on these inputs; returns the loss before it."""
        self.set_inputs(inputs)
        loss = float(self.executor.forward(is_train=True)[0].asnumpy())
        self.executor.backward()
        for index, name in enumerate(self.decoder_names):
            self.updater(index, self.executor.grad_dict[name], self.executor.arg_dict[name])
        return loss

    def decoder_params(self):
        return {name: self.executor.arg_dict[name].asnumpy() for name in self.decoder_names}

    def optimizer_state(self):
        return self.updater.get_states(dump_optimizer=True)  # with its step counts: Adam's bias correction

    def set_optimizer_state(self, state):
        self.updater.set_states(state)


def image_files(folder, flag):
    from neural_style.files.images import check_input_folder
    check_input_folder(folder, flag, 'give a folder of images', error=TrainingError)
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise TrainingError('%s %s holds no images (%s)' % (flag, folder, ', '.join(IMAGE_SUFFIXES)))
    return files


def random_crop(path, size, rng):
    """The image at path, its short side resized to size, a random size x size crop: (3, size, size) [0, 1]."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            img = img.convert('RGB')
            scale = size / min(img.size)
            img = img.resize((max(size, round(img.width * scale)), max(size, round(img.height * scale))),
                             Image.Resampling.BILINEAR)
    except (OSError, ValueError) as error:
        raise TrainingError('cannot read the training image %s (%s)' % (path, error)) from None
    left, top = rng.randint(0, img.width - size + 1), rng.randint(0, img.height - size + 1)
    pixels = np.asarray(img.crop((left, top, left + size, top + size)), np.float32) / 255.0
    return pixels.transpose(2, 0, 1)


def batch_of(files, config, rng):
    return np.stack([random_crop(files[rng.randint(len(files))], config.size, rng) for _ in range(config.batch_size)])


def encoder_params_of(config):
    """The fixed encoder: a converted encoder<N>.params, or the project's VGG-19 weights (then with the
    preprocessing that gives them their usual input)."""
    from neural_style.mxnet_runtime import mx
    path = config.encoder or os.path.join('model', 'wct' if config.method == 'wct' else 'adain',
                                          networks.ENCODER_FILE % config.level)
    if not os.path.isfile(path):
        raise TrainingError('encoder weights %s not found: give --encoder (a converted encoder<N>.params from '
                            './download.sh, or the project\'s model/vgg19.params)' % path)
    try:
        saved = mx.nd.load(path)
    except mx.base.MXNetError:
        raise TrainingError('--encoder %s is not an MXNet .params file' % path) from None
    names = {key.split(':', 1)[-1] for key in saved}
    try:
        if 'preprocess_weight' in names:
            return networks.load_params(path, config.level, 'encoder')
        return networks.encoder_from_vgg19(saved, config.level)
    except (KeyError, ValueError) as error:
        raise TrainingError('--encoder %s: not the weights of the level %d encoder (%s)'
                            % (path, config.level, error)) from None


def state_paths(config):
    return (os.path.join(config.model_dir, networks.DECODER_FILE % config.level),
            os.path.join(config.model_dir, 'decoder%d.state' % config.level))


def save_checkpoint(config, trainer, step, rng):
    params_path, state_path = state_paths(config)
    os.makedirs(config.model_dir, exist_ok=True)
    networks.save_params(params_path, trainer.decoder_params())
    state = {'step': step, 'optimizer': trainer.optimizer_state(), 'rng': rng.get_state(),
             'method': config.method, 'level': config.level}
    temporary = '%s.tmp%d' % (state_path, os.getpid())
    with open(temporary, 'wb') as f:
        pickle.dump(state, f)
    os.replace(temporary, state_path)


def load_checkpoint(config):
    """(decoder params, state) to resume from, or (None, None) for a fresh start; refuses to overwrite."""
    params_path, state_path = state_paths(config)
    exists = os.path.exists(params_path) or os.path.exists(state_path)
    if not config.resume:
        if exists:
            raise TrainingError('--model-dir %s already holds decoder%d: pass --resume to continue its training, or '
                                'choose another --model-dir' % (config.model_dir, config.level))
        return None, None
    if not os.path.isfile(state_path) or not os.path.isfile(params_path):
        raise TrainingError('--resume: %s and %s are needed to resume' % (params_path, state_path))
    with open(state_path, 'rb') as f:
        state = pickle.load(f)  # our own file, written by save_checkpoint
    if (state.get('method'), state.get('level')) != (config.method, config.level):
        raise TrainingError('--resume: %s is a %s level %s decoder\'s, not %s level %d' % (
            state_path, state.get('method'), state.get('level'), config.method, config.level))
    return networks.load_params(params_path, config.level, 'decoder'), state


def train(config, encoder_params=None, log=print, stop=None):
    """Train (or resume) the decoder of config; returns the losses of the steps run. A stop signal, or
    stop (a long_work.StopFlag a caller sets), ends the run after the current step: it is saved as the
    periodic checkpoints are, then errors.Interrupted is raised."""
    level = networks.ADAIN_LEVEL if config.method == 'adain' else config.level
    if level != config.level:
        raise TrainingError('AdaIN\'s decoder is level %d, not %d' % (level, config.level))
    contents = image_files(config.content_dir, '--content-dir')
    styles = image_files(config.style_dir, '--style-dir') if config.method == 'adain' else None
    decoder_params, state = load_checkpoint(config)
    encoder_params = encoder_params if encoder_params is not None else encoder_params_of(config)
    trainer = DecoderTrainer(config, encoder_params, decoder_params)
    rng = np.random.RandomState(config.seed)
    first = 0
    if state is not None:
        trainer.set_optimizer_state(state['optimizer'])
        rng.set_state(state['rng'])
        first = state['step']
        log('resuming at step %d' % first)
    losses = []
    # Ctrl-C (or SIGTERM, SIGHUP) only sets the flag: the step ends, is saved, and --resume goes on from it
    with stop_signals_between_epochs(stop) as stop:
        for step in range(first + 1, config.steps + 1):
            inputs = trainer.targets(batch_of(contents, config, rng),
                                     batch_of(styles, config, rng) if styles else None)
            losses.append(trainer.step(inputs))
            if not np.isfinite(losses[-1]):
                raise TrainingError('the loss became %s at step %d: try a lower --lr' % (losses[-1], step))
            if step % 10 == 0 or step == config.steps:
                log('step %d: loss %.5g' % (step, losses[-1]))
            stopping = bool(stop)
            if step % config.save_every == 0 or step == config.steps or stopping:
                save_checkpoint(config, trainer, step, rng)
            if stopping:
                log('interrupted at step %d: saved %s; run again with --resume to continue'
                    % (step, state_paths(config)[0]))
                raise Interrupted(stop.signum)
    return losses


def get_config(arglist=None):
    from neural_style.cli.flag_types import POSITIVE, POSITIVE_INT, NON_NEGATIVE
    from neural_style.cli.tool import OneLineErrorParser
    parser = OneLineErrorParser(description='train a decoder of universal style transfer (WCT or AdaIN)')
    parser.add_argument('--method', choices=['wct', 'adain'], default='wct')
    parser.add_argument('--level', type=int, choices=networks.LEVELS, default=None,
                        help='which decoder: relu<level>_1 (WCT 1 ... 5; AdaIN 4, the default)')
    parser.add_argument('--content-dir', required=True, help='a folder of training images')
    parser.add_argument('--style-dir', help='AdaIN: a folder of style images')
    parser.add_argument('--encoder', help='the fixed encoder: a converted encoder<N>.params or model/vgg19.params')
    parser.add_argument('--model-dir', required=True, help='where decoder<N>.params and decoder<N>.state go')
    parser.add_argument('--size', type=POSITIVE_INT, default=256)
    parser.add_argument('--batch-size', type=POSITIVE_INT, default=8)
    parser.add_argument('--steps', type=POSITIVE_INT, default=1000, help='the step to stop at (counting resumed ones)')
    parser.add_argument('--lr', type=POSITIVE, default=1e-4)
    parser.add_argument('--feature-weight', type=NON_NEGATIVE, default=1.0, help='WCT: the feature loss\'s weight')
    parser.add_argument('--style-weight', type=NON_NEGATIVE, default=1e-2, help='AdaIN: the style loss\'s weight')
    parser.add_argument('--save-every', type=POSITIVE_INT, default=500)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--resume', action='store_true', help='continue the training saved in --model-dir')
    args = parser.parse_args(arglist)
    level = args.level or (networks.ADAIN_LEVEL if args.method == 'adain' else 5)
    if args.method == 'adain' and not args.style_dir:
        parser.error('--method adain needs --style-dir')
    return TrainConfig(args.method, level, args.content_dir, args.model_dir, args.style_dir, args.encoder, args.size,
                       args.batch_size, args.steps, args.lr, args.feature_weight, args.style_weight, args.save_every,
                       args.seed, args.resume)


def main(arglist=None):
    from neural_style.errors import NstyleError
    from neural_style.cli.tool import run_cli

    def work():
        config = get_config(arglist)
        try:
            train(config)
        except (TrainingError, ValueError) as error:
            raise NstyleError(str(error)) from None
    return run_cli(work, 'training.py')


if __name__ == '__main__':
    sys.exit(main())
