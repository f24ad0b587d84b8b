"""The Python API: every tool's work as functions on arrays, with no files unless the caller asks.

    import numpy as np
    from neural_style import api
    from neural_style.gatys.settings import GatysSettings

    result = api.gatys('input/IMG_4343.jpg', 'input/starry_night.jpg',
                       GatysSettings(max_long_edge=300, max_num_epochs=200),
                       on_epoch=lambda epoch: print(epoch.epoch, epoch.losses))
    result.image          # (h, w, 3) uint8, final.jpg's pixels
    result.losses         # one {name: value} per epoch: content, style (or mrf), tv

Images are (h, w, 3) uint8 arrays, or paths (read as the command-line tools read them). The
command-line tools are thin layers over the same functions (gatys/run.py, generators/, video/)."""
import dataclasses
import threading
import time
from typing import Callable, Dict, List, Optional

import numpy as np

from neural_style.errors import NstyleError
from neural_style.gatys.settings import GatysSettings
from neural_style.long_work import StopFlag

__all__ = ['GatysSettings', 'Epoch', 'Result', 'gatys', 'with_preset', 'generate']


@dataclasses.dataclass(frozen=True)
class Epoch:
    """What on_epoch receives after every epoch of the optimisation."""
    epoch: int            # epochs done, counted across --multires stages
    image: np.ndarray     # the current image, (h, w, 3) uint8, as final.jpg would hold it now
    losses: Dict[str, float]  # weighted as in the gradient: content, style (or mrf), tv
    seconds: float        # since the optimisation started
    epochs_total: int     # the budget of epochs, for a progress bar or an ETA


@dataclasses.dataclass(frozen=True)
class Result:
    image: np.ndarray                 # (h, w, 3) uint8
    losses: List[Dict[str, float]]    # one dict per epoch, as Epoch.losses
    stopped: bool = False             # True when `stop` ended the run early (the image is the last epoch's)


def with_preset(settings, name):
    """The settings with preset `name`'s values (cli/presets.py) wherever they still have the
    defaults: a preset is an overlay, and a value set explicitly wins, as on the command line."""
    from neural_style.cli.presets import PRESETS
    defaults = GatysSettings()
    changes = {flag: value for flag, value in PRESETS[name].items() if getattr(settings, flag) == getattr(defaults, flag)}
    if 'optimizer' in changes and settings.lr == defaults.lr:
        from neural_style.gatys.settings import DEFAULT_LR
        changes['lr'] = DEFAULT_LR.get(changes['optimizer'])
    return dataclasses.replace(settings, preset=name, **changes)


def as_pixels(image, what):
    """(name for messages, (h, w, 3) uint8 pixels) of an array or a path."""
    from neural_style.files.images import read_rgb_image
    if isinstance(image, str):
        return '%s %s' % (what, image), read_rgb_image(image, what)
    pixels = np.asarray(image)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise NstyleError('%s: expected an (h, w, 3) uint8 array or a path, got %s %s'
                          % (what, pixels.dtype, pixels.shape))
    return what, pixels


class ApiWatch:
    """The optimisation's watch (gatys/optimise.py) for the API: on_epoch with the current image,
    the losses of every epoch, and `stop` (a threading.Event) checked between epochs."""

    def __init__(self, settings, on_epoch, stop):
        from neural_style.gatys.run import EpochWatch
        self.epochs = EpochWatch(settings)  # the stage bounds, the latest image and the colours
        self.on_epoch, self.stop = on_epoch, stop
        self.losses, self.start = [], time.time()
        self.total = sum(epochs for _, epochs in settings.stages)

    def start_stage(self, first_epoch, num_epochs, image, colors_from, head_gradients):
        self.epochs.start_stage(first_epoch, num_epochs, image, colors_from, head_gradients)

    def check_stop(self, epochs_done):
        if self.stop is not None and self.stop.is_set():
            flag = StopFlag()
            flag.set()
            flag.raise_stop(epochs_done, 'the result')

    def epoch_done(self, epoch, eps, img, losses):
        from neural_style.files.images import finished_pixels
        self.epochs.epoch_done(epoch, eps, img, losses)
        self.losses.append(dict(losses()))
        if self.on_epoch is not None:
            self.on_epoch(Epoch(epoch, finished_pixels(img.asnumpy(), 0, self.epochs.colors_from), self.losses[-1],
                                time.time() - self.start, self.total))

    @property
    def last_checkpoint(self):
        return None

    @property
    def colors_from(self):
        return self.epochs.colors_from


def gatys(content, style, settings=GatysSettings(), on_epoch: Optional[Callable[[Epoch], None]] = None,
          stop: Optional[threading.Event] = None) -> Result:
    """Gatys et al.'s optimisation of `content` in the manner of `style` (an image, or a list of
    images blended by settings.style_blend_weights), as nstyle.py runs it with these settings
    (settings.content_image, style_image and output_dir are not used). on_epoch(Epoch) after
    every epoch; stop: an Event that ends the run after the epoch it is in (the result is then
    the last epoch's image). Raises NstyleError for problems a user can fix."""
    from neural_style.gatys.loss import Pictures, load_vgg
    from neural_style.gatys.run import model_module, stylise
    from neural_style.mxnet_runtime import context_for
    if settings.preset:
        settings = with_preset(settings, settings.preset)
    styles = style if isinstance(style, (list, tuple)) else [style]
    pictures = Pictures(as_pixels(content, 'content'),
                        [as_pixels(image, 'style %d' % i) for i, image in enumerate(styles, 1)], None)
    if settings.init not in ('noise', 'content'):
        pictures = pictures._replace(init=as_pixels(settings.init, '--init')[1])
    from neural_style.dtype_choice import settled
    settings = settled(settings)  # --dtype auto: this machine's choice
    net = load_vgg(settings, model_module(settings), context_for(settings.gpu, settings.dtype))
    watch = ApiWatch(settings, on_epoch, stop)
    try:
        image = stylise(settings, pictures, net, watch)
    except KeyboardInterrupt:
        if stop is None or not stop.is_set() or watch.epochs.image is None or not watch.epochs.epochs_done:
            raise
        from neural_style.files.images import finished_pixels
        return Result(finished_pixels(watch.epochs.image.asnumpy(), 0, watch.colors_from), watch.losses, True)
    return Result(image, watch.losses)


def generate(content, model_dir, size=None, long_edge=640, checkpoint=None, dtype='float32', gpu=-1):
    """end_to_end's trained generators (--model-dir) on one image, one forward pass. size (h, w):
    the image resized to cover it and cropped at the centre (the original's 480x640 is one); None:
    its aspect kept, the long edge `long_edge`, each side rounded down to the generator's multiple
    (boost_inference.py --long-edge). Returns the result (the last stage), (h, w, 3) uint8."""
    from skimage import img_as_ubyte

    from neural_style.generators import checkpoints, crops
    from neural_style.generators.inference import load_stylizer
    from neural_style.generators.networks import SIDE_MULTIPLE
    from neural_style.mxnet_runtime import context_for
    name, pixels = as_pixels(content, 'content')
    if size is None:
        size = crops.long_edge_size(pixels.shape, long_edge, SIDE_MULTIPLE[checkpoints.find_kind(model_dir)], name)
    stylizer = load_stylizer(model_dir, tuple(size), context_for(gpu, dtype), checkpoint, dtype)
    return stylizer.stylize(img_as_ubyte(crops.cover_and_crop(pixels, tuple(size))))[-1]
