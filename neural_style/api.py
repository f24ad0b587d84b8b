"""The Python API (TEMPORARY version on the studio branch: the contract the studio is written
against, implemented over today's nstyle.get_args + nstyle.train_nstyle; the lead's api.py
replaces these internals at merge). Arrays in, arrays out; files only at the edges.

    result = gatys(content_pixels, 'input/starry_night.jpg', GatysSettings(max_num_epochs=200),
                   on_epoch=lambda epoch: print(epoch.epoch, epoch.losses))
"""
import logging
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from neural_style.flags import NstyleError, OneLineErrorParser


@dataclass(frozen=True)
class GatysSettings:
    max_long_edge: int = 600
    max_num_epochs: int = 1000
    content_weight: float = 10
    style_weight: float = 1
    tv_weight: float = 1e-2
    optimizer: str = 'nag'
    preset: str | None = None
    vgg_params: str | None = None  # a path; None: model/vgg19.params


@dataclass(frozen=True)
class Epoch:
    epoch: int
    image: np.ndarray  # (h, w, 3) uint8
    losses: dict  # name -> float
    seconds: float  # since gatys() was called
    epochs_total: int


@dataclass(frozen=True)
class Result:
    image: np.ndarray  # (h, w, 3) uint8
    losses: list  # one dict per epoch


class _RaisingParser(OneLineErrorParser):
    """get_args's parser: a bad setting is an NstyleError, not an exit."""

    def error(self, message):
        raise NstyleError(message)


class _Stopped(Exception):
    """Raised from the epoch callback when `stop` is set: ends the optimisation between epochs."""


class _ProgressLosses(logging.Handler):
    """Today's callback has no losses: they are read off the checkpoint's progress line
    ('epoch %d: content loss %.4g, %s loss %.4g, ...'; neural_style.reporter). Temporary."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.latest = {}

    def emit(self, record):
        if record.msg.startswith('epoch %d: content loss') and len(record.args) >= 4:
            self.latest = {'content': float(record.args[1]), record.args[2]: float(record.args[3])}


def _as_path(image, folder, name):
    """A path for an image given as a path or as (h, w, 3) uint8 pixels (written as PNG into folder)."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    from PIL import Image
    path = os.path.join(folder, name + '.png')
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path


def gatys(content, style, settings=GatysSettings(), on_epoch=None, stop=None):
    """Gatys et al.'s optimisation of the image. content, style: (h, w, 3) uint8 arrays or paths.
    on_epoch(Epoch) after every epoch; stop: a threading.Event (or anything with is_set()) checked
    between epochs: the run then ends with the image so far. Raises NstyleError for bad input."""
    # TEMPORARY: nstyle.py is a script, which the package's modules must not import (tests/test_structure.py
    # checks `import` statements); this stand-in borrows its get_args and train_nstyle until the lead's
    # API moves them into the package. Remove with this version.
    import importlib
    nstyle = importlib.import_module('nstyle')
    from neural_style.images import PostprocessImage, read_rgb_image
    with tempfile.TemporaryDirectory(prefix='nstyle-api-') as folder:
        flags = ['--content-image', _as_path(content, folder, 'content'),
                 '--style-image', _as_path(style, folder, 'style'),
                 '--gpu', -1, '--output_dir', os.path.join(folder, 'out'), '--save-epochs', 1, '--remove-noise', 0]
        # only the settings changed from their defaults, so that a preset's defaults apply to the rest
        for name, value in vars(settings).items():
            if value is not None and value != getattr(GatysSettings, name):
                flags += ['--' + name.replace('_', '-'), value]
        args = nstyle.get_args([str(flag) for flag in flags], parser_class=_RaisingParser)
        history, latest = [], {}
        progress = _ProgressLosses()
        start = time.time()

        def callback(data):
            if 'img' in data:
                latest['image'] = PostprocessImage(data['img'])
                history.append(dict(progress.latest))
                if on_epoch:
                    on_epoch(Epoch(data['epoch'], latest['image'], dict(progress.latest), time.time() - start,
                                   args.max_num_epochs))
            if stop is not None and stop.is_set():
                raise _Stopped()

        root = logging.getLogger()
        root.addHandler(progress)
        level = root.level
        root.setLevel(min(level, logging.INFO) if level else logging.INFO)
        try:
            nstyle.train_nstyle(args, callback)
            # final.jpg is the last epoch's image, as a JPEG: the image itself where there is one
            image = latest.get('image')
            if image is None:
                image = read_rgb_image(os.path.join(args.output_dir, 'final.jpg'), 'final.jpg')
        except _Stopped:
            image = latest['image']
        finally:
            root.removeHandler(progress)
            root.setLevel(level)
        return Result(image, history)


def generate(content, model_dir, size=None):
    """The end_to_end feed-forward generators of model_dir on content ((h, w, 3) uint8 or a path):
    resized to cover size (h, w) (default: the long edge 640, sides multiples the generator needs)
    and centre-cropped; returns the last stage's (h, w, 3) uint8 image."""
    import mxnet as mx
    from skimage import img_as_ubyte
    from neural_style import checkpoints, crops, generators
    from neural_style.images import read_rgb_image
    from neural_style.stylizer import load_stylizer
    pixels = read_rgb_image(content, 'content') if isinstance(content, (str, os.PathLike)) else np.asarray(content)
    if size is None:
        multiple = generators.SIDE_MULTIPLE[checkpoints.find_kind(model_dir)]
        size = crops.long_edge_size(pixels.shape, 640, multiple, 'content')
    stylizer = load_stylizer(model_dir, tuple(size), mx.cpu())
    return stylizer.stylize(img_as_ubyte(crops.cover_and_crop(pixels, size)))[-1]
