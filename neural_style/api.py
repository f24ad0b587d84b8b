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
import itertools
import threading
import time
from typing import Callable, Dict, List, Optional

import numpy as np

from neural_style.errors import NstyleError
from neural_style.gatys.settings import GatysSettings
from neural_style.long_work import StopFlag
from neural_style.onepass.methods import METHODS as ONE_PASS_METHODS

__all__ = ['GatysSettings', 'Epoch', 'Result', 'gatys', 'with_preset', 'generate', 'ONE_PASS', 'stylize',
           'one_pass_settings']

# the one-pass networks (onepass/methods.py, no MXNet at import): the 26-style network takes a style
# index or a blend of them, the others paintings
ONE_PASS = tuple(ONE_PASS_METHODS)


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
    dev = context_for(settings.gpu, settings.dtype)
    from neural_style.gatys.memory import check_size_fits, lbfgs_history
    from neural_style.mxnet_runtime import available_memory
    check_size_fits(pictures.content[1].shape[:2], settings.style_scale, [edge for edge, _ in settings.stages],
                    settings.long_edge_flag, available_memory(dev), lbfgs_history(settings))  # as nstyle.py: refused before allocating
    net = load_vgg(settings, model_module(settings), dev)
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


def is_pretrained_style(style):
    """An index of the 26 styles, or a {index: weight} blend of them (not a painting)."""
    return isinstance(style, dict) or (isinstance(style, (int, np.integer)) and not isinstance(style, bool))


# what onepass.methods.arguments_problem calls api.stylize's arguments
ARGUMENT_NAMES = {'method': 'method', 'style': 'style', 'paintings': 'a painting (an (h, w, 3) uint8 array or a path, '
                  'or a list of them)', 'alpha': 'alpha', 'levels': 'levels', 'style_weights': 'style_weights'}


def one_pass_settings(style=0, method=None, strength=1.0, alpha=1.0, levels=5, style_weights=None,
                      weights_dir=None):
    """(method, onepass MethodSettings) for api.stylize's arguments, every one checked (one-line
    NstyleErrors) and the method's weights loaded once, before any work."""
    from neural_style.onepass import multistyle
    from neural_style.onepass.methods import MethodSettings, arguments_problem, check_weights
    pretrained = is_pretrained_style(style)
    method = method or ('multistyle' if pretrained else 'arbitrary')
    if method not in ONE_PASS:
        raise NstyleError('method %r: choose one of %s' % (method, ', '.join(ONE_PASS)))
    if not 0 <= strength <= 1 or not 0 <= alpha <= 1:
        raise NstyleError('strength %s, alpha %s: each must be in [0, 1]' % (strength, alpha))
    if levels not in range(1, 6):
        raise NstyleError('levels %r: 1 ... 5' % (levels,))
    if pretrained and style_weights is not None:
        raise NstyleError('style_weights weigh paintings; a blend of the 26 styles is {index: weight}')
    given = () if pretrained else (style if isinstance(style, (list, tuple)) else [style])
    if not pretrained and not given:
        raise NstyleError('style: give at least one painting')
    style_weights = None if style_weights is None else tuple(float(weight) for weight in style_weights)
    problem = arguments_problem(method, len(given), alpha, levels, style_weights, ARGUMENT_NAMES)
    if problem:
        raise NstyleError(problem)
    paintings = ()
    if pretrained:
        try:
            multistyle.style_vector(style)
        except (ValueError, TypeError) as problem:
            raise NstyleError('style %r: %s' % (style, problem)) from None
    else:
        paintings = tuple(as_pixels(image, 'style %d' % i)[1].astype(np.float32) for i, image in enumerate(given, 1))
    settings = MethodSettings(style=style if pretrained else 0, style_pixels=paintings, style_weights=style_weights,
                              strength=strength, weights_dir=weights_dir, alpha=alpha, levels=levels)
    check_weights(method, settings)
    return method, settings


def stylize(content, style=0, method=None, strength=1.0, alpha=1.0, levels=5, style_weights=None, weights_dir=None,
            max_long_edge=None, original_colors=False) -> np.ndarray:
    """stylize.py's one-pass networks on one photo (an (h, w, 3) uint8 array or a path). style: one of
    the 26 pretrained styles (0 ... 25) or a blend {index: weight} (method multistyle, the default for
    these); or a painting, or a list of paintings blended by style_weights (method arbitrary, the
    default for these; or wct, adain). strength in [0, 1]: multistyle, the result mixed with the photo;
    arbitrary, the paintings' style vector with the photo's own. alpha in [0, 1] (wct, adain): the
    transformed features' share; levels 1 ... 5 (wct). weights_dir: the converted weights (default
    model/styles, model/wct or model/adain, made by ./download.sh --styles, --wct, --adain).
    max_long_edge: a larger photo is resized first (Lanczos), as stylize.py --max-long-edge does.
    original_colors: keep the photo's colours. Returns the result, (h, w, 3) uint8, the photo's size."""
    from neural_style.files.images import original_colors as keep_colors, read_rgb_image
    from neural_style.onepass.methods import METHODS, photo_at_long_edge, to_uint8
    method, settings = one_pass_settings(style, method, strength, alpha, levels, style_weights, weights_dir)
    if isinstance(content, str):
        name, pixels = 'content %s' % content, read_rgb_image(content, 'content', max_long_edge)
    else:
        name, pixels = as_pixels(content, 'content')
    photo = photo_at_long_edge(pixels, max_long_edge, name)
    result = to_uint8(METHODS[method](photo, settings))
    return keep_colors(result, to_uint8(photo)) if original_colors else result


VIDEO_METHODS = ONE_PASS + ('end_to_end', 'optimize')


def video(frames, method='multistyle', style=0, max_long_edge=None, original_colors=False, strength=1.0, alpha=1.0,
          levels=5, style_weights=None, weights_dir=None, model_dir=None, settings=GatysSettings(),
          temporal_weight=100.0, temporal_blend=0.5):
    """A video's frames stylised one after another, as stylize_video.py does, without files: frames,
    an iterable of (h, w, 3) uint8 arrays; returns a generator of the results, (h', w', 3) uint8, one
    per frame as it is read. The frames are resized to the first's size with the long edge
    max_long_edge (None: their own), each side a multiple of what the method needs.
    method: one of stylize's networks (multistyle, arbitrary, wct, adain; style and the options as
    api.stylize's), 'end_to_end' (the generators in model_dir), or 'optimize' (Gatys per frame with
    settings, a GatysSettings, each later frame started from the previous result warped by the
    optical flow and held near it by the temporal term of weight temporal_weight; style: a painting
    or a list of them); a one-pass method's frame is blended with the previous result warped onto it,
    temporal_blend its share where the flow is trusted (0: each frame alone). settings.gpu and dtype choose the device of end_to_end and optimize. The
    arguments are checked (one-line NstyleErrors) and a one-pass method's weights loaded here, before
    the first frame is read."""
    from neural_style.video.settings import VideoSettings
    if method not in VIDEO_METHODS:
        raise NstyleError('method %r: choose one of %s' % (method, ', '.join(VIDEO_METHODS)))
    method_settings = styles = None
    if method in ONE_PASS:
        method, method_settings = one_pass_settings(style, method, strength, alpha, levels, style_weights,
                                                    weights_dir)
    elif method == 'end_to_end' and not model_dir:
        raise NstyleError('method end_to_end: give model_dir, the generators\' folder')
    elif method == 'optimize':
        if is_pretrained_style(style):
            raise NstyleError('method optimize takes %s, not one of the 26 styles' % ARGUMENT_NAMES['paintings'])
        styles = [as_pixels(image, 'style %d' % i) for i, image in
                  enumerate(style if isinstance(style, (list, tuple)) else [style], 1)]
        if settings.preset:
            settings = with_preset(settings, settings.preset)
        if settings.multires:
            raise NstyleError('settings.multires: a video\'s frames are stylised at one size; leave it out')
    base = {field.name: getattr(settings, field.name) for field in dataclasses.fields(GatysSettings)}
    base.update(original_colors=original_colors or settings.original_colors)
    video_settings = VideoSettings(**base, input='frames', method=method, model_dir=model_dir,
                                   temporal_weight=temporal_weight, temporal_blend=temporal_blend)
    return _video_frames(iter(frames), video_settings, max_long_edge, method_settings, styles)


def _video_frames(frames, video_settings, max_long_edge, method_settings, styles):
    from neural_style.dtype_choice import settled
    from neural_style.mxnet_runtime import context_for
    from neural_style.video import clips, frame_methods
    from neural_style.video.run import make_stylizer, method_needs, working_size
    first = next(frames, None)
    if first is None:
        return
    _, first = as_pixels(first, 'frame 0')
    h, w = first.shape[:2]
    multiple, min_side, what = method_needs(video_settings)
    size = working_size((w, h), max_long_edge or max(h, w), multiple, min_side, what)
    args = dataclasses.replace(video_settings, size=size, max_long_edge=max(size))
    dev = None
    if args.method in ('end_to_end', 'optimize'):
        args = settled(args)
        dev = context_for(args.gpu, args.dtype)

    def resized():
        yield clips.resized_frame(first, size)
        for index, frame in enumerate(frames, 1):
            yield clips.resized_frame(as_pixels(frame, 'frame %d' % index)[1], size)

    sized = resized()
    first_sized = next(sized)
    stylizer = make_stylizer(args, first_sized, dev, method_settings, styles)
    yield from frame_methods.one_after_another(stylizer, itertools.chain([first_sized], sized),
                                               frame_methods.flow_between_frames(args))
