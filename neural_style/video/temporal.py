"""Temporal consistency (Ruder, Dosovitskiy & Brox 2016): the loss term that keeps a frame's result
close to the previous result warped onto it, where the flow is reliable, and the temporal error
that measures the flicker of a finished clip."""
import numpy as np

from neural_style.mxnet_runtime import mx
from neural_style.video import flow as flows


class TemporalTerm:
    """weight/2 * sum(mask * (x - warped)^2) on the loss executor's image x (network values, (1, 3,
    h, w)); its gradient weight * mask * (x - warped). Per pixel and unnormalised like the TV term's
    gradient, so that a weight means the same at every image size: the clipped VGG-19 gradient of
    the NAG loop is about 1 per pixel, and weight 1 pulls back a pixel 1 unit off with that force."""
    name = 'temporal'

    def __init__(self, image, warped, mask, weight):
        """image: the loss executor's input NDArray; warped: the previous result warped onto this
        frame, (1, 3, h, w) network values; mask: (h, w) in [0, 1], consistency_mask's."""
        self.image = image
        self.weighted_mask = mx.nd.array(weight * np.broadcast_to(mask, warped.shape[1:])[np.newaxis],
                                         ctx=image.context, dtype=image.dtype)
        self.warped = mx.nd.array(warped, ctx=image.context, dtype=image.dtype)

    def gradient(self):
        return self.weighted_mask * (self.image - self.warped)

    def energy(self):
        difference = (self.image - self.warped).asnumpy().astype(np.float64)
        return 0.5 * float(np.sum(self.weighted_mask.asnumpy() * difference ** 2))


def masked_mse(frame, warped_previous, mask):
    """The mean of the squared difference over the mask's pixels (and the colour channels), in
    8-bit pixel values squared; 0 where the mask is all 0."""
    weights = np.broadcast_to(mask[..., np.newaxis], frame.shape)
    total = weights.sum()
    if total == 0:
        return 0.0
    difference = frame.astype(np.float64) - warped_previous
    return float(np.sum(weights * difference ** 2) / total)


def pair_error(inputs, outputs, method=flows.DEFAULT_FLOW_METHOD):
    """The masked MSE of output t against output t-1 warped by the INPUT's backward flow, for
    inputs = (frame t-1, frame t) and outputs likewise, all (h, w, 3) uint8 of one size."""
    backward, mask = flows.flow_and_mask(inputs[1], inputs[0], method)
    return masked_mse(outputs[1], flows.warp(outputs[0], backward), mask)


def temporal_error(input_frames, output_frames, method=flows.DEFAULT_FLOW_METHOD):
    """The flicker of a stylised clip: the mean over consecutive frame pairs of pair_error (8-bit
    pixel values squared; 0 for a clip of one frame). The two sequences are iterables of (h, w, 3)
    uint8 frames of one size, read one at a time."""
    errors, previous = [], None
    for frame_in, frame_out in zip(input_frames, output_frames):
        if previous is not None:
            errors.append(pair_error((previous[0], frame_in), (previous[1], frame_out), method))
        previous = (frame_in, frame_out)
    return float(np.mean(errors)) if errors else 0.0
