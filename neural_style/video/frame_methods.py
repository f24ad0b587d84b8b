"""Stylising a video's frames one after another: by optimisation, each later frame starting from the
previous result warped by the optical flow and held near it by the temporal term (Ruder, Dosovitskiy
& Brox 2016), or with end_to_end's trained generators. Both take the frames at the working size,
8-bit (h, w, 3), and return the result likewise."""
import argparse
import collections
import contextlib
import io

from neural_style.mxnet_runtime import mx

from neural_style.video import flow as flows
from neural_style.files import images
from neural_style.gatys.initial import initial_image, read_init_image
from neural_style.gatys.loss import build_loss, load_network, stage_inputs
from neural_style.gatys.optimise import optimize
from neural_style.gatys.reporter import EpochReporter, RunOutput
from neural_style.video.temporal import TemporalTerm

# The frame before: its stylised result, and the current frame's backward flow onto it (computed
# from the INPUT frames) with its consistency mask.
Previous = collections.namedtuple('Previous', ['output', 'backward', 'mask'])


def frame_args(args, index):
    """args for frame `index`: with --seed, each frame its own seed (seed + index), so that frames
    started from noise get different noise (the baseline's flicker) and a resumed run draws the same."""
    seed = None if args.seed is None else args.seed + index
    return argparse.Namespace(**dict(vars(args), seed=seed))


class OptimizingStylizer:
    """nstyle.py's optimisation per frame. The style targets' images are read once; each frame binds
    its loss (the executors are reused: same graph, same size) with the frame as the content."""

    def __init__(self, args, model_module, first_frame, dev):
        self.args = args
        self.name = 'INPUT %s' % args.input
        self.inputs = stage_inputs(args, model_module, max(first_frame.shape[:2]), '--max-long-edge',
                                   (self.name, first_frame))
        self.init_pixels = read_init_image(args)
        self.net = load_network(args, model_module, dev, {'executors': collections.OrderedDict()})
        # the per-frame reporter writes no checkpoints: the finished frame is the result
        self.reporter_args = argparse.Namespace(**dict(vars(args), save_epochs=args.max_num_epochs + 1))

    def loss_for(self, frame):
        # every frame has the first one's size, which passed the model's minimum (hence min_side 1)
        content = images.content_network_image(frame, max(frame.shape[:2]), 1, '--max-long-edge', self.name)
        with contextlib.redirect_stdout(io.StringIO()):  # build_loss prints the original's head gradients
            return build_loss(self.args, self.net, self.inputs._replace(content=content)), content

    def stylize(self, index, frame, previous):
        """The result of frame `index`; previous: a Previous, or None for the first frame."""
        args = self.args
        loss, content = self.loss_for(frame)
        if previous is not None and args.temporal_weight > 0:
            warped = images.pixels_to_network(flows.warp(previous.output, previous.backward), frame.shape[:2])
            loss.terms.append(TemporalTerm(loss.model_executor.data, warped, previous.mask, args.temporal_weight))
            img = mx.nd.array(warped, ctx=self.net.dev)
        else:  # the first frame, or every frame of the baseline (--temporal-weight 0): nstyle.py's --init
            img = initial_image(frame_args(args, index), content, self.init_pixels, self.net.dev)
        reporter = EpochReporter(self.reporter_args, RunOutput('frame %d' % index, None, None, []), 0,
                                 args.max_num_epochs)
        optimize(args, loss, img, reporter)
        pixels = images.PostprocessImage(img.asnumpy())
        return images.original_colors(pixels, frame) if args.original_colors else pixels


class GeneratorStylizer:
    """end_to_end's generators, bound once at the working size: a forward pass per frame."""

    def __init__(self, args, size, dev):
        from neural_style.generators.inference import load_stylizer
        self.stylizer = load_stylizer(args.model_dir, size, dev, dtype=args.dtype)
        self.original_colors = args.original_colors

    def stylize(self, index, frame, previous):
        pixels = self.stylizer.stylize(frame)[-1]
        return images.original_colors(pixels, frame) if self.original_colors else pixels
