"""One training step of the generators (end_to_end), on one image (the chain) or a batch (Johnson's).

The original's chain (boost_train.py): forward the four generators in turn, each from the previous
one's output; the perceptual loss's input gradient at each stage's output; then from the last stage
to the first, grad += that stage's loss gradient + the TV gradient of its output, clipped to a global
norm, and that generator alone takes a backward pass and an SGD update with it. So each generator
gets its own and all later stages' gradients, never back-propagated through the later generators.

Johnson's network is trained end to end: the gradient at its output goes back through it."""
import collections

import numpy as np

from neural_style.gatys.losses import TVTerm
from neural_style.mxnet_runtime import mx

# What every update uses: the optimiser and its settings (Module.init_optimizer's), the TV weight, the
# global clip of the output gradient's norm, per input element (None: off).
TrainSettings = collections.namedtuple('TrainSettings', ['optimizer', 'optimizer_params', 'tv_weight',
                                                         'clip_norm'])
# What a step reports: the last stage's weighted (content, style, tv) losses, and per generator the
# norm of its input gradient per input element (the original's "Data Norm"; None for Johnson's).
StepResult = collections.namedtuple('StepResult', ['losses', 'data_norms'])


def bind_module(symbol, data_name, shape, dev, inputs_need_grad):
    module = mx.mod.Module(symbol=symbol, data_names=(data_name,), label_names=None, context=dev)
    module.bind(data_shapes=[(data_name, shape)], for_training=True, inputs_need_grad=inputs_need_grad)
    module.init_params(initializer=mx.init.Xavier(magnitude=2.))  # the original's; replaced when loading
    return module


def clipped(grad, clip_norm):
    """grad scaled down in place to a global L2 norm of at most clip_norm (None: unchanged)."""
    if clip_norm is not None:
        norm = mx.nd.norm(grad).asscalar()
        if norm > clip_norm:
            grad[:] *= clip_norm / norm
    return grad


class TVGradient:
    """The TV term (gatys.losses.TVTerm) on a generator's output, copied into an array of its own."""

    def __init__(self, shape, dev, tv_weight):
        self.term = TVTerm(mx.nd.zeros(shape, dev), tv_weight) if tv_weight > 0 else None

    def __call__(self, output):
        if self.term is None:
            return None
        output.copyto(self.term.image)
        return self.term.gradient()

    def energy(self):
        return self.term.energy() if self.term is not None else 0.0


class GeneratorTrainer:
    """The generators of one kind, bound for training at one input shape (n, 3, h, w).
    symbols: [(symbol, its input's name)], the chain's four or Johnson's one."""

    def __init__(self, symbols, shape, dev, settings):
        self.shape, self.dev, self.settings = tuple(shape), dev, settings
        chain = len(symbols) > 1
        self.modules = [bind_module(symbol, data_name, self.shape, dev, inputs_need_grad=chain)
                        for symbol, data_name in symbols]
        for module in self.modules:
            module.init_optimizer(optimizer=settings.optimizer, optimizer_params=settings.optimizer_params)
        self.tv = TVGradient((1,) + self.shape[1:], dev, settings.tv_weight)

    def set_params(self, arg_params, aux_params):
        """Each module takes its own arrays from the union of all generators' (the keys are distinct)."""
        for module in self.modules:
            symbol = module.symbol
            module.set_params({name: arg_params[name] for name in symbol.list_arguments() if name in arg_params},
                              {name: aux_params[name] for name in symbol.list_auxiliary_states()})

    def output_gradient(self, loss, output):
        """The loss's and the TV term's gradient at one (1, 3, h, w) output, and the losses."""
        grad = loss.input_gradient(output).copyto(self.dev)
        tv_grad = self.tv(output)
        if tv_grad is not None:
            grad += tv_grad
        return grad, loss.losses() + (self.tv.energy(),)

    def chain_step(self, loss, content):
        """The original's step on one image (1, 3, h, w), its content target already set."""
        data = mx.nd.array(content, ctx=self.dev)
        stage_grads = []
        for module in self.modules:
            module.forward(mx.io.DataBatch([data], [0]), is_train=True)
            data = module.get_outputs()[0].copyto(self.dev)
            stage_grads.append(loss.input_gradient(data).copyto(self.dev))
        content_loss, style_loss = loss.losses()  # the last stage's
        tv_loss = 0.0
        grad = mx.nd.zeros(self.shape, self.dev)
        for k in range(len(self.modules) - 1, -1, -1):
            tv_grad = self.tv(self.modules[k].get_outputs()[0])
            if tv_grad is None:
                grad += stage_grads[k]
            else:
                grad += stage_grads[k] + tv_grad  # summed first, as the original
            if k == len(self.modules) - 1:
                tv_loss = self.tv.energy()
            clipped(grad, self.settings.clip_norm)
            self.modules[k].backward([grad])
            self.modules[k].update()
        size = float(np.prod(self.shape))
        norms = [mx.nd.norm(module.get_input_grads()[0]).asscalar() / size for module in self.modules]
        return StepResult((content_loss, style_loss, tv_loss), norms)

    def batch_step(self, loss, contents):
        """Johnson's network on a batch (n, 3, h, w): its outputs' gradients, one image at a time
        through the (batch-1) perceptual loss, then one backward pass and update."""
        module = self.modules[0]
        module.forward(mx.io.DataBatch([mx.nd.array(contents, ctx=self.dev)], [0]), is_train=True)
        outputs = module.get_outputs()[0]
        grads, totals = [], np.zeros(3)
        for i in range(self.shape[0]):
            loss.set_content(contents[i:i + 1])
            grad, losses = self.output_gradient(loss, outputs[i:i + 1])
            grads.append(grad)
            totals += losses
        grad = clipped(mx.nd.concat(*grads, dim=0), self.settings.clip_norm)
        module.backward([grad])
        module.update()
        return StepResult(tuple(totals / self.shape[0]), None)
