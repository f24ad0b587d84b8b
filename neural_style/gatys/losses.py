"""The loss symbols of Gatys et al. on VGG features: Gram matrices and their squared distances to
the style targets, the squared distance of the content features to theirs, and the total-variation
gradient executor. Names and graph as the original's."""
import numpy as np

from neural_style.mxnet_runtime import mx


def style_gram_symbol(input_size, style):
    """Gram matrix of each style output, and the scale its loss gradient is divided by."""
    _, output_shapes, _ = style.infer_shape(data=(1, 3, input_size[0], input_size[1]))
    gram_list = []
    grad_scale = []
    for i in range(len(style.list_outputs())):
        shape = output_shapes[i]
        # shape=, not the original's target_shape= (same reshape; target_shape prints a deprecation each time)
        x = mx.sym.Reshape(style[i], shape=(int(shape[1]), int(np.prod(shape[2:]))))
        # FullyConnected with the features as both data and weight computes x . x^T in one fast op
        gram = mx.sym.FullyConnected(x, x, no_bias=True, num_hidden=shape[1])
        gram_list.append(gram)
        grad_scale.append(np.prod(shape[1:]) * shape[1])
    return mx.sym.Group(gram_list), grad_scale


def feature_positions(style, size):
    """The number of positions (h * w) of each style output for an input of this size."""
    _, output_shapes, _ = style.infer_shape(data=(1, 3) + tuple(size))
    return [int(np.prod(shape[2:])) for shape in output_shapes]


def content_target_name(i):
    """The variable of content layer i's target: the original's name for the first."""
    return 'target_content_%d' % i if i else 'target_content'


def get_loss(gram, content):
    """Squared distances to the targets: one loss per Gram matrix, and the content loss (summed
    over the content layers). A None input (a loss of weight 0, not built) gives None."""
    gram_loss = []
    for i in range(len(gram.list_outputs()) if gram is not None else 0):
        gvar = mx.sym.Variable('target_gram_%d' % i)
        gram_loss.append(mx.sym.sum(mx.sym.square(gvar - gram[i])))
    content_loss = None
    if content is not None:
        content_losses = [mx.sym.sum(mx.sym.square(mx.sym.Variable(content_target_name(i)) - content[i]))
                          for i in range(len(content.list_outputs()))]
        content_loss = sum(content_losses[1:], content_losses[0])
    return (mx.sym.Group(gram_loss) if gram_loss else None), content_loss


def get_tv_grad_executor(img, ctx, tv_weight):
    """An executor bound on `img` itself whose output is the gradient of a total-variation
    smoothness term: each channel convolved with a Laplacian kernel, times tv_weight."""
    if tv_weight <= 0.0:
        return None
    nchannel = img.shape[1]
    simg = mx.sym.Variable('img')
    skernel = mx.sym.Variable('kernel')
    channels = mx.sym.SliceChannel(simg, num_outputs=nchannel)
    out = mx.sym.Concat(*[
        mx.sym.Convolution(data=channels[i], weight=skernel, num_filter=1, kernel=(3, 3), pad=(1, 1),
                           no_bias=True, stride=(1, 1))
        for i in range(nchannel)])
    kernel = mx.nd.array(np.array([[0, -1, 0],
                                   [-1, 4, -1],
                                   [0, -1, 0]]).reshape((1, 1, 3, 3)), ctx) / 8.0
    out = out * tv_weight
    return out.bind(ctx, args={'img': img, 'kernel': kernel})


class TVTerm:
    """The original's smoothness term on an image array (the loss executor's input, or a
    generator's output copied in): its gradient the Laplacian executor's output, its energy
    0.5 * sum(x * gradient), the energy whose gradient it is (the Laplacian is symmetric).
    The one definition of the TV term: the optimisation and the generators' training use it."""
    name = 'tv'

    def __init__(self, image, tv_weight):
        self.image = image
        self.executor = get_tv_grad_executor(image, image.context, tv_weight)

    def gradient(self):
        self.executor.forward()
        return self.executor.outputs[0]

    def energy(self):
        """After gradient() at the same image."""
        image = self.image.asnumpy().astype(np.float64)
        return 0.5 * float(np.sum(image * self.executor.outputs[0].asnumpy()))
