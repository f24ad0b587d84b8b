"""Stylising a video's frames one after another: by optimisation, each later frame starting from the
previous result warped by the optical flow and held near it by the temporal term (Ruder, Dosovitskiy
& Brox 2016), or with end_to_end's trained generators. Both take the frames at the working size,
8-bit (h, w, 3), and return the result likewise."""
import collections
import dataclasses

from neural_style.files import images
from neural_style.gatys.loss import build_loss, load_vgg, stage_inputs
from neural_style.gatys.optimise import optimize
from neural_style.gatys.run import EpochWatch, initial_image, read_pictures
from neural_style.mxnet_runtime import mx
from neural_style.video import flow as flows
from neural_style.video.temporal import TemporalTerm

# The frame before: its stylised result, and the current frame's backward flow onto it (computed
# from the INPUT frames) with its consistency mask.
Previous = collections.namedtuple('Previous', ['output', 'backward', 'mask'])


def frame_settings(settings, index):
    """settings for frame `index`: with --seed, each frame its own seed (seed + index), so that frames
    started from noise get different noise (the baseline's flicker) and a resumed run draws the same."""
    return dataclasses.replace(settings, seed=None if settings.seed is None else settings.seed + index)


class FramesByOptimisation:
    """nstyle.py's optimisation per frame (gatys/), its temporal term added to the loss. The style
    targets' images are read once; each frame binds its loss (the executors are reused: same graph,
    same size) with the frame as the content. settings: a GatysSettings; name: the input, for messages."""

    at_once = None  # long_work.AtOnce of the frames loop's stop flag (video/run.py sets it)

    def __init__(self, settings, temporal_weight, name, model_module, first_frame, dev, styles=None):
        """styles: the style images already read, [(name, pixels)] (the API's arrays); None: read
        from settings.style_image's files."""
        self.settings, self.temporal_weight = settings, temporal_weight
        self.name = 'INPUT %s' % name
        if styles is None:
            pictures = read_pictures(settings, content=(self.name, first_frame))
        else:
            from neural_style.gatys.loss import Pictures
            pictures = Pictures((self.name, first_frame), list(styles), None)
        self.inputs = stage_inputs(settings, model_module, max(first_frame.shape[:2]), '--max-long-edge', pictures)
        self.init_pixels = pictures.init
        self.net = load_vgg(settings, model_module, dev, executors=collections.OrderedDict())

    def loss_for(self, frame):
        # every frame has the first one's size, which passed the model's minimum (hence min_side 1)
        content = images.content_network_image(frame, max(frame.shape[:2]), 1, '--max-long-edge', self.name)
        return build_loss(self.settings, self.net, self.inputs._replace(content=content)), content

    def stylize(self, index, frame, previous):
        """The result of frame `index`; previous: a Previous, or None for the first frame."""
        settings = self.settings
        loss, content = self.loss_for(frame)
        if previous is not None and self.temporal_weight > 0:
            warped = images.pixels_to_network(flows.warp(previous.output, previous.backward), frame.shape[:2])
            loss.add_term(TemporalTerm(loss.image, warped, previous.mask, self.temporal_weight))
            img = mx.nd.array(warped, ctx=self.net.dev)
        else:  # the first frame, or every frame of the baseline (--temporal-weight 0): nstyle.py's --init
            img = initial_image(frame_settings(settings, index), content, self.init_pixels, self.net.dev)
        # the frame's watch writes no checkpoints (the finished frame is the result); the frames loop
        # holds the stop signals and checks them between frames, its epochs only a repeated one (at_once)
        optimize(settings, loss, img, (0, settings.max_num_epochs), EpochWatch(settings, stop=self.at_once))
        pixels = images.PostprocessImage(img.asnumpy())
        return images.original_colors(pixels, frame) if settings.original_colors else pixels


class FramesByGenerators:
    """end_to_end's generators, bound once at the working size: a forward pass per frame."""

    def __init__(self, model_dir, dtype, original_colors, size, dev):
        from neural_style.generators.inference import load_stylizer
        self.stylizer = load_stylizer(model_dir, size, dev, dtype=dtype)
        self.original_colors = original_colors

    def stylize(self, index, frame, previous):
        pixels = self.stylizer.stylize(frame)[-1]
        return images.original_colors(pixels, frame) if self.original_colors else pixels


class FramesByOnePass:
    """stylize.py's networks (onepass/methods.py: multistyle, arbitrary, wct, adain), one forward pass a
    frame; the paintings are read and the weights checked once, before any frame is written."""

    def __init__(self, settings, method_settings=None):
        """settings: a VideoSettings (its method, original_colors and, without method_settings, the
        flags that make them); method_settings: a MethodSettings already made (the API's arrays)."""
        import numpy as np

        from neural_style.onepass.methods import METHODS, MethodSettings, check_weights, chosen_style
        if method_settings is None:
            paintings = () if settings.method == 'multistyle' else tuple(
                images.read_rgb_image(path, '--style-image').astype(np.float32)
                for path in images.style_image_paths(settings.style_image))
            method_settings = MethodSettings(style=chosen_style(settings.style or ((0, 1.0),)), style_pixels=paintings,
                                             style_weights=settings.style_blend_weights, strength=settings.strength,
                                             weights_dir=settings.weights_dir, alpha=settings.alpha,
                                             levels=settings.levels)
        self.settings = method_settings
        check_weights(settings.method, self.settings)  # before any frame is written
        self.method, self.original_colors = METHODS[settings.method], settings.original_colors
        self.temporal_blend = settings.temporal_blend

    def stylize(self, index, frame, previous):
        import numpy as np

        from neural_style.onepass.methods import to_uint8
        pixels = to_uint8(self.method(frame.astype(np.float32), self.settings))
        pixels = images.original_colors(pixels, frame) if self.original_colors else pixels
        if previous is not None and previous.backward is not None and self.temporal_blend > 0:
            pixels = blended_with_previous(pixels, previous, self.temporal_blend)
        return pixels


def blended_with_previous(pixels, previous, share):
    """A forward pass's frame held near the previous result (the flicker of a network run a frame at a
    time: its small changes of the input change the strokes): where the consistency mask trusts the
    optical flow, (1 - share) * this frame's result + share * the previous result warped onto it;
    elsewhere (disocclusions, motion boundaries, the edges) this frame's result alone. Along the
    flow, an exponential moving average of the results; the same flow and mask as the temporal term."""
    import numpy as np

    from neural_style.onepass.methods import to_uint8
    warped = flows.warp(previous.output, previous.backward)
    weight = share * previous.mask[..., np.newaxis]
    return to_uint8((1 - weight) * pixels + weight * warped)


def flow_between_frames(settings):
    """Whether each frame needs the optical flow onto the one before: the optimisation's temporal term,
    or a one-pass method's blend with the previous result."""
    if settings.method == 'optimize':
        return settings.temporal_weight > 0
    from neural_style.onepass.methods import METHODS  # the one-pass networks, by name
    return settings.method in METHODS and settings.temporal_blend > 0


def in_turn(indexed_frames, result, needs_flow):
    """The frames' loop: for each (index, frame) in turn (frames: (h, w, 3) uint8 of one size), its
    output = result(index, frame, previous), yielded as (index, output, previous). previous: None
    for the first frame, else a Previous of the frame before's output and, where needs_flow(index),
    this frame's backward flow onto it and its mask (the temporal term's, the temporal error's)."""
    previous_in = previous_out = None
    for index, frame in indexed_frames:
        previous = None
        if previous_in is not None:
            backward, mask = flows.flow_and_mask(frame, previous_in) if needs_flow(index) else (None, None)
            previous = Previous(previous_out, backward, mask)
        output = result(index, frame, previous)
        previous_in, previous_out = frame, output
        yield index, output, previous


def one_after_another(stylizer, frames, warps):
    """Each frame's result in turn (warps: the temporal term's optical flow is computed, the
    optimisation with a temporal weight): the API's loop. run.py's stylize_frames is the same loop
    with the frames folder, resuming and the temporal error."""
    for _, output, _ in in_turn(enumerate(frames), stylizer.stylize, lambda index: warps):
        yield output
