"""The loss a feed-forward generator is trained with (end_to_end): VGG-19's style loss against one
style image's Gram matrices and its content loss against each training image's features, for one
image size, bound once; as the original's loss module (basic.get_loss_module), on the shared VGG
(model_vgg19) and loss symbols (losses)."""
import collections

from neural_style.gatys.loss import style_grams
from neural_style.gatys.losses import get_loss, style_gram_symbol
from neural_style.mxnet_runtime import mx

# The weights of the two losses (the head gradients: style_weight / gscale per style layer, content_weight).
LossWeights = collections.namedtuple('LossWeights', ['style', 'content'])


class PerceptualLoss:
    """VGG-19 style and content losses of (1, 3, h, w) network images and their input gradient.
    net: gatys.loss.Vgg; style_np: the style image at `size`; content_layer: the ReLU whose
    features the generated image must keep (the original's relu4_2)."""

    def __init__(self, net, style_np, size, weights, content_layer='relu4_2'):
        model = net.module
        with mx.name.NameManager():
            style, content = model.get_symbol(model.STYLE_LAYERS, [content_layer], pooling='avg')
            gram, gscale = style_gram_symbol(size, style)
            style_loss, content_loss = get_loss(gram, content)
        style_executor = model.get_executor(gram, None, size, net.dev, net.params, dtype=net.dtype)
        targets = style_grams(style_executor, style_np)
        del style_executor  # as the original, which freed its style module before training
        self.content_executor = model.get_executor(None, content, size, net.dev, net.params, dtype=net.dtype)
        self.executor = model.get_executor(style_loss, content_loss, size, net.dev, net.params, dtype=net.dtype)
        for i, target in enumerate(targets):
            target.copyto(self.executor.arg_dict['target_gram_%d' % i])
        self.loss_weights = [float(weights.style) / scale for scale in gscale] + [float(weights.content)]
        self.head_grads = [mx.nd.ones((1,), net.dev) * weight for weight in self.loss_weights]

    def set_content(self, network_image):
        """The content target: this image's features at the content layer."""
        self.content_executor.data[:] = network_image
        self.content_executor.executor.forward()
        self.content_executor.content.copyto(self.executor.arg_dict['target_content'])

    def input_gradient(self, network_image):
        """The gradient of the weighted losses with respect to the image (the executor's own
        array: copy it before the next call)."""
        self.executor.data[:] = network_image
        self.executor.executor.forward(is_train=True)
        self.executor.executor.backward(self.head_grads)
        return self.executor.data_grad

    def losses(self):
        """(content, style) of the last input_gradient's image, weighted as in the gradient."""
        values = [weight * float(output.asnumpy()[0])
                  for weight, output in zip(self.loss_weights, self.executor.executor.outputs)]
        return values[-1], sum(values[:-1])
