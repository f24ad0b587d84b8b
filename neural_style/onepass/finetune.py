"""A new style for the 26-style network: its conv weights stay, and only a new row of gamma and
beta per normalised layer is trained (Dumoulin et al.: a style is its normalisation parameters),
with the project's perceptual loss (VGG-19 style + content, neural_style/perceptual_loss.py) and
Adam. Arrays in, arrays out: the photos and the painting as (h, w, 3) 0-255 arrays, already at the
training size; the result is {'<layer>_gamma': (C,), '<layer>_beta': (C,)}, which
stylize_multistyle's network takes as it takes style_norm's."""
import numpy as np

from neural_style.onepass import multistyle

MEAN_RGB = np.array([123.68, 116.779, 103.939], np.float32)  # VGG-19's, as neural_style.files.images


def network_image(pixels_or_unit, scale=1.0):
    """(h, w, 3) 0-255 (scale 1) or (1, 3, h, w) 0-1 (scale 255) -> VGG's (1, 3, h, w) input."""
    array = np.asarray(pixels_or_unit, np.float32)
    if array.ndim == 3:
        array = array.transpose(2, 0, 1)[np.newaxis]
    return array * scale - MEAN_RGB[:, None, None]


def trainable_names():
    return ['%s_%s' % (layer[0], kind) for layer in multistyle.LAYERS for kind in ('gamma', 'beta')]


class StyleTrainer:
    """The 26-style network bound at one size with gradients for its gammas and betas only, and the
    perceptual loss of one painting (net: gatys.loss.Vgg, the VGG-19 weights)."""

    def __init__(self, params, net, style_pixels, size, loss_weights, start_style=None):
        from neural_style.generators.perceptual_loss import PerceptualLoss
        from .layers import bind
        self.size = tuple(size)
        start = multistyle.style_norm(params, start_style) if start_style is not None else {
            name: params[name + '_table'].mean(axis=0) for name in trainable_names()}
        self.norm = {name: value.astype(np.float32).copy() for name, value in start.items()}
        grad_req = {name: ('write' if name in self.norm else 'null')
                    for name in multistyle.multistyle_symbol().list_arguments()}
        self.executor = bind(multistyle.multistyle_symbol(), dict(params, **self.norm), {'image': (1, 3) + self.size},
                             grad_req)
        self.loss = PerceptualLoss(net, network_image(style_pixels), self.size, loss_weights)
        self.moments = {name: (np.zeros_like(v), np.zeros_like(v)) for name, v in self.norm.items()}
        self.steps = 0

    def loss_and_gradients(self, content_pixels):
        """(content loss, style loss) of the network's output for this photo, and d(their sum) /
        d(each gamma and beta)."""
        from neural_style.mxnet_runtime import mx
        self.loss.set_content(network_image(content_pixels))
        self.executor.arg_dict['image'][:] = np.asarray(content_pixels, np.float32).transpose(2, 0, 1)[np.newaxis] / 255
        for name, value in self.norm.items():
            self.executor.arg_dict[name][:] = value
        output = self.executor.forward(is_train=True)[0]
        image_grad = self.loss.input_gradient(mx.nd.array(network_image(output.asnumpy(), 255)))
        self.executor.backward([image_grad * 255])  # the VGG input is 255 * output - mean
        return self.loss.losses(), {name: self.executor.grad_dict[name].asnumpy() for name in self.norm}

    def step(self, content_pixels, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        """One Adam step on one photo; returns its (content, style) losses before the step."""
        losses, grads = self.loss_and_gradients(content_pixels)
        self.steps += 1
        for name, grad in grads.items():
            m, v = self.moments[name]
            m[:] = beta1 * m + (1 - beta1) * grad
            v[:] = beta2 * v + (1 - beta2) * grad * grad
            m_hat, v_hat = m / (1 - beta1 ** self.steps), v / (1 - beta2 ** self.steps)
            self.norm[name] -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        return losses


def train_style(trainer, photos, steps, learning_rate=0.01):
    """A new style's gammas and betas: STEPS Adam steps of a StyleTrainer over PHOTOS in turn (each
    (h, w, 3) 0-255, at the trainer's size). Returns (norm, the (content, style) losses of each step)."""
    history = [trainer.step(photos[i % len(photos)], learning_rate) for i in range(steps)]
    return trainer.norm, history
