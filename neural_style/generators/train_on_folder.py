"""Training the feed-forward generators on a folder of images (end_to_end/boost_train.py is its
command line): the perceptual loss against one style image (generators/perceptual_loss.py), one
step at a time (generators/training.py), checkpoints into the model folder, resumable."""
import logging
import math
import os
import random

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import model_vgg19
from neural_style.errors import Interrupted, NstyleError
from neural_style.files.images import PreprocessStyleImage, image_size, read_rgb_image, to_network_input
from neural_style.files.output_folder import held_folder
from neural_style.gatys.loss import load_vgg
from neural_style.generators import checkpoints, crops
from neural_style.generators.inference import check_size, load_params, training_symbols
from neural_style.generators.perceptual_loss import LossWeights, PerceptualLoss
from neural_style.generators.training import GeneratorTrainer, TrainSettings
from neural_style.long_work import stop_signals_between_epochs
from neural_style.mxnet_runtime import context_for, mx


def check_args(args):
    size = (args.size, args.size)
    check_size(args.generator, size)
    min_side = model_vgg19.min_input_side(model_vgg19.STYLE_LAYERS + [args.content_layer])
    if args.size < min_side:
        raise NstyleError('--size %d: VGG-19\'s style layers need at least %d pixels' % (args.size, min_side))
    if args.generator == checkpoints.V3CHAIN and args.batch_size != 1:
        raise NstyleError('--batch-size %d: the chain trains on one image at a time, as the original (its '
                          'BatchNorm sees one image); use --generator johnson for batches' % args.batch_size)
    if args.generator == checkpoints.JOHNSON and args.momentum is not None:
        raise NstyleError('--momentum is SGD\'s, for --generator v3chain; johnson trains with Adam')
    from neural_style.generators.memory import check_fits, training_bytes
    check_fits(training_bytes(args.size * args.size, args.batch_size), '--size %d' % args.size,
               'training on %dx%d crops%s' % (args.size, args.size, ' in batches of %d' % args.batch_size
                                              if args.batch_size > 1 else ''), 'lower --size or --batch-size')


def train_settings(args):
    if args.generator == checkpoints.V3CHAIN:
        optimizer, params = 'sgd', {'learning_rate': args.lr, 'momentum': args.momentum, 'wd': args.wd}
    else:
        optimizer, params = 'adam', {'learning_rate': args.lr, 'wd': args.wd}
    if args.clip_gradient > 0:
        params['clip_gradient'] = args.clip_gradient
    size = args.batch_size * 3 * args.size * args.size
    return TrainSettings(optimizer, params, args.tv_weight, args.clip_norm * size if args.clip_norm > 0 else None)


def starting_point(args):
    """(params or None, first epoch, first image): --init-model's newest checkpoint; from the --model-dir
    itself the run resumes after it. A --model-dir with checkpoints is otherwise never overwritten."""
    # checkpoints of either kind: training one kind into a folder of the other would mix two models
    existing = [(kind, name) for kind in checkpoints.KINDS
                for name in checkpoints.list_checkpoints(args.model_dir, kind)] if os.path.isdir(args.model_dir) else []
    other = [name for kind, name in existing if kind != args.generator]
    if other:  # no resume can help: the folder is another model's
        raise NstyleError('--model-dir %s holds checkpoints of another generator (%s), not %s; choose another '
                          '--model-dir' % (args.model_dir, other[-1], args.generator))
    existing = [name for _, name in existing]
    resume = args.init_model is not None and os.path.realpath(args.init_model) == os.path.realpath(args.model_dir)
    if existing and not resume:
        raise NstyleError('--model-dir %s already holds checkpoints (%s); pass --init-model %s to resume, or choose '
                          'another --model-dir' % (args.model_dir, existing[-1], args.model_dir))
    if args.init_model is None:
        return None, 0, 0
    kind = checkpoints.find_kind(args.init_model, '--init-model')
    if kind != args.generator:
        raise NstyleError('--init-model %s holds a %s generator, not %s; pass --generator %s or another folder'
                          % (args.init_model, kind, args.generator, kind))
    names = checkpoints.list_checkpoints(args.init_model, kind)
    if not names:
        raise NstyleError('--init-model %s holds no complete %s checkpoint' % (args.init_model, kind))
    params = load_params(args.init_model, kind, names[-1], (args.size, args.size))
    logging.info('starting from %s of %s', names[-1], args.init_model)
    if not resume:
        return params, 0, 0
    epoch, image = checkpoints.parse_checkpoint_name(names[-1])
    return params, epoch, image + 1


class Run:
    """The training loop's state: where it is, what was saved, the progress bar."""

    def __init__(self, args, trainer, loss):
        self.args, self.trainer, self.loss = args, trainer, loss
        self.last_saved = None
        self.saved = []  # the paths of every checkpoint written
        self.rng = random.Random(args.seed)

    def save(self, epoch, image):
        name = checkpoints.checkpoint_name(self.args.generator, epoch, image)
        if name == self.last_saved:
            return
        if self.last_saved is None:  # the folder appears with the first checkpoint, never empty
            os.makedirs(self.args.model_dir, exist_ok=True)
            checkpoints.write_kind(self.args.model_dir, self.args.generator)
        paths = checkpoints.checkpoint_paths(self.args.model_dir, self.args.generator, name)
        for module, path in zip(self.trainer.modules, paths):
            checkpoints.save_module(module, path)
        self.last_saved = name
        self.saved += paths
        logging.info('saved %s', os.path.join(self.args.model_dir, '<k>' if len(paths) > 1 else '', name))

    def content(self, path):
        """The image at path as the network sees it, resized and cropped at random; None if unreadable."""
        pixels = crops.read_or_skip(path, lambda p: read_rgb_image(p, '--data-dir'))
        if pixels is None:
            return None
        return to_network_input(crops.cover_and_crop(pixels, (self.args.size, self.args.size), self.rng))

    def step(self, epoch, batch):
        """One update on batch [(image index, network image)]; the original's log lines; a checkpoint
        when an index is a multiple of --save-every."""
        args = self.args
        if args.generator == checkpoints.V3CHAIN:
            idx, content = batch[0]
            self.loss.set_content(content)
            result = self.trainer.chain_step(self.loss, content)
        else:
            result = self.trainer.batch_step(self.loss, np.concatenate([content for _, content in batch]))
        indices = [idx for idx, _ in batch]
        if not all(math.isfinite(value) for value in result.losses):
            raise NstyleError('the loss became NaN or infinite at epoch %d, image %d: stopped (last checkpoint: %s); '
                              'try a lower --lr' % (epoch, indices[-1], self.last_saved or 'none'))
        for idx in indices:
            if idx % 20 == 0:
                logging.info('Epoch %d: Image %d', epoch, idx)
                for norm in result.data_norms or []:
                    logging.info('Data Norm :%.5f', norm)
        if any(idx % args.save_every == 0 for idx in indices):
            self.save(epoch, indices[-1])
        return result


def epoch_order(files, seed, epoch):
    """The order of an epoch's images: drawn from the seed and the epoch alone, so that a run resumed
    in a later epoch trains on the same images as one that ran through (none twice, none left out)."""
    order = list(files)
    random.Random('%s/epoch %d' % (seed if seed is not None else 0, epoch)).shuffle(order)
    return order


def train_generators(args, record=None):
    """The training. record: a dict that gets 'losses' (each epoch's mean content, style and tv loss
    over its steps, as the progress bar shows them) and 'checkpoints' (the paths written)."""
    record = {} if record is None else record
    record.update(losses=[], checkpoints=[])
    check_args(args)
    files = crops.image_files(args.data_dir, '--data-dir')
    readable = [path for path in files if crops.read_or_skip(path, lambda p: image_size(p, '--data-dir'))]
    if not readable:
        raise NstyleError('--data-dir %s: none of its %d images could be read' % (args.data_dir, len(files)))
    if len(readable) < args.batch_size:  # before any work: else an epoch of reading with no update
        unreadable = len(files) - len(readable)
        raise NstyleError('--data-dir %s holds %d images, fewer than --batch-size %d%s; add images or lower '
                          '--batch-size' % (args.data_dir, len(readable), args.batch_size,
                                            ' (%d more files could not be read)' % unreadable if unreadable else ''))
    style_np = PreprocessStyleImage(args.style_image, (1, 3, args.size, args.size))
    params, first_epoch, first_image = starting_point(args)
    dev = context_for(args.gpu, args.dtype)
    net = load_vgg(args, model_vgg19, dev)
    if args.seed is not None:
        mx.random.seed(args.seed)  # the initial weights (Xavier)
    size = (args.size, args.size)
    trainer = GeneratorTrainer(training_symbols(args.generator, size), (args.batch_size, 3) + size, dev,
                               train_settings(args))
    if params is not None:
        trainer.set_params(*params)
    loss = PerceptualLoss(net, style_np, size, LossWeights(args.style_weight, args.content_weight), args.content_layer)
    logging.info('Dataset size: %d', len(files))
    run = Run(args, trainer, loss)
    record['checkpoints'] = run.saved
    total = (args.epochs - first_epoch) * len(files) - first_image
    epoch, idx = first_epoch, first_image - 1
    # one training at a time into a model folder: a second would interleave its checkpoints
    with held_folder(args.model_dir, '--model-dir'), \
            stop_signals_between_epochs() as interrupted, logging_redirect_tqdm(), \
            tqdm(total=max(total, 0), unit='img', dynamic_ncols=True) as bar:
        try:
            for epoch in range(first_epoch, args.epochs):
                order = epoch_order(files, args.seed, epoch)
                batch, read_any, steps = [], False, []
                for idx in range(first_image if epoch == first_epoch else 0, len(order)):
                    content = run.content(order[idx])
                    bar.update(1)
                    if content is None:
                        continue
                    read_any = True
                    batch.append((idx, content))
                    if len(batch) == args.batch_size:
                        result = run.step(epoch, batch)
                        steps.append(result.losses)
                        batch = []
                        bar.set_postfix_str('content %.4g, style %.4g, tv %.4g' % result.losses)
                    if interrupted:
                        raise Interrupted(interrupted.signum)  # exit 128 + the signal, after the checkpoint
                if steps:
                    record['losses'].append(dict(zip(('content', 'style', 'tv'), np.mean(steps, axis=0).tolist())))
                if not read_any and epoch == first_epoch and first_image == 0:
                    raise NstyleError('--data-dir %s: none of its %d images could be read' % (args.data_dir,
                                                                                              len(files)))
        except KeyboardInterrupt:
            logging.warning('interrupted at epoch %d, image %d: saving a checkpoint', epoch, idx)
            run.save(epoch, max(idx, 0))
            raise
        run.save(epoch, max(idx, 0))
    elapsed = bar.format_dict['elapsed']
    logging.info('trained on %d images in %.0f s (%.2f s per image)', bar.n, elapsed, elapsed / max(bar.n, 1))
