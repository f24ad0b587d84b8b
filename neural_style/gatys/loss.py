"""A run's loss for one image size: the weights loaded once, the content and style targets
computed by a first executor, then the loss executor bound with them and the head gradients that
weight its losses. `loss_for_size` is the whole sequence; train_nstyle, the benchmarks and the
tests all go through it (or through its two halves, stage_inputs and build_loss)."""
import collections
import os

from neural_style.mxnet_runtime import mx
import numpy as np

from neural_style.files import images
from neural_style.gatys import mrf
from neural_style.errors import NstyleError
from neural_style.machine import return_freed_memory
from neural_style.gatys.losses import (content_target_name, feature_positions, get_loss, get_tv_grad_executor, style_gram_symbol, tv_energy)

# The model, its weights and where it runs: what every executor of a run is bound with. cache: a dict
# kept between runs (batch mode) so that the weights load once; with an 'executors' OrderedDict in it
# the executors are reused too.
Network = collections.namedtuple('Network', ['module', 'params', 'dev', 'dtype', 'cache'])
# One size's inputs: the content image and the style images as the network sees them, and each
# style image's blend weight.
StageInputs = collections.namedtuple('StageInputs', ['content', 'styles', 'blend'])
# The bound loss: the VGG executor (its outputs: the style losses, then the content loss), the head
# gradients, the weight of each output, how many are style losses, and the image-space terms whose
# gradients are added to the VGG gradient (the TV term; the video's temporal term); then the hooks
# start_epoch runs (the MRF loss's re-matching) and the name the style losses are reported under
# ('style' for the Gram loss, 'mrf').
LossExecutor = collections.namedtuple('LossExecutor', ['model_executor', 'grad_array', 'loss_weights', 'style_count',
                                                       'terms', 'hooks', 'style_name'],
                                      defaults=((), 'style'))


def load_network(args, model_module, dev, cache=None):
    """The Network of a run: the weights of --vgg-params, loaded once per path and process."""
    cache = {} if cache is None else cache
    key = params_key(model_module, args.vgg_params)
    if key not in cache:
        try:
            cache[key] = model_module.load_params(args.vgg_params)
        except model_module.WeightsError as error:
            raise NstyleError('--vgg-params: %s' % error) from None
    return Network(model_module, cache[key], dev, args.dtype, cache)


def params_key(model_module, vgg_params):
    """Where a cache keeps the weights of this file (a cluster's worker puts those it was sent there)."""
    return ('params', model_module.__name__, os.path.abspath(vgg_params))


def chosen_layers(args, model_module):
    """The style and content layers this run computes: a loss of weight 0 is left out, with the
    layers only it needs. With both weights 0 the content branch stays, so that there is a graph
    (its gradient is 0: the update is the TV gradient alone). With --style-loss mrf the style layers
    are --mrf-layers, weighted by --mrf-weight."""
    style_flag, style_names, style_weight = (('--mrf-layers', args.mrf_layers, args.mrf_weight) if is_mrf(args) else
                                             ('--style-layers', args.style_layers, args.style_weight))
    for flag, names in (('--content-layers', args.content_layers), (style_flag, style_names)):
        try:
            model_module.check_layers(names)
        except ValueError as error:
            raise NstyleError('%s: %s (model %s)' % (flag, error, args.model)) from None
    style_layers = style_names if style_weight > 0 else []
    content_layers = args.content_layers if args.content_weight > 0 or not style_layers else []
    return style_layers, content_layers


def is_mrf(args):
    return args.style_loss == 'mrf'


def stage_inputs(args, model_module, long_edge, long_edge_flag='--max-long-edge', content_pixels=None):
    """The content image at this long edge and the style images, read and checked: the image must
    reach the deepest chosen layer, the style images the deepest style layer (with --style-loss mrf:
    hold a k x k patch there). content_pixels: (name, 8-bit (h, w, 3) pixels) of a content image
    already read (a video's frame), else --content-image."""
    style_layers, content_layers = chosen_layers(args, model_module)
    style_min_side = model_module.min_input_side(style_layers) if style_layers else 1
    if style_layers and is_mrf(args):
        style_min_side = mrf.min_input_side(model_module, style_layers, args.mrf_patch_size)
    min_side = max(model_module.min_input_side(style_layers + content_layers), style_min_side)
    if content_pixels is None:
        content = images.PreprocessContentImage(args.content_image, long_edge, min_side, long_edge_flag)
    else:
        content = images.content_network_image(content_pixels[1], long_edge, min_side, long_edge_flag,
                                                content_pixels[0])
    paths = images.style_image_paths(args.style_image)
    blend = images.style_blend(paths, args.style_blend_weights)
    size = images.style_image_size(content.shape[2:], args.style_scale, style_min_side)
    styles = [images.PreprocessStyleImage(path, shape=(1, 3) + size) for path in paths]
    return StageInputs(content, styles, blend)


def bound_executor(net, outputs, size):
    """net.module.get_executor(*outputs, ...). In batch mode (net.cache['executors'] exists) it is
    reused when a job before bound the same graph at the same size: binding allocates the
    activations. The last few stay, so that memory stays bounded; a single run keeps none (the
    target executor is freed before the loss executor binds). The target executor is bound with the
    input's gradient too, though it only runs forward: bound without (grad_req 'null'), its second
    forward pass (a second style image) gave wrong Gram matrices (tests/test_styles.py), and it
    saved no memory (benchmarks/memory.py: oneDNN's buffers, not MXNet's plan, dominate)."""
    executors = net.cache.get('executors')
    if executors is None:
        return net.module.get_executor(*outputs, size, net.dev, net.params, dtype=net.dtype)
    key = (tuple(x.tojson() if x is not None else None for x in outputs), tuple(size), str(net.dev), id(net.params),
           net.dtype)
    if key in executors:
        executors.move_to_end(key)
        return executors[key]
    executor = net.module.get_executor(*outputs, size, net.dev, net.params, dtype=net.dtype)
    executors[key] = executor
    while len(executors) > 3:  # a style-target, a content-target and a loss executor
        executors.popitem(last=False)
    return executor


def style_grams(model_executor, style_np):
    """The Gram matrices of one style image, copied to the CPU."""
    model_executor.data[:] = style_np
    model_executor.executor.forward()
    return [gram_matrix.copyto(mx.cpu()) for gram_matrix in model_executor.style]


def blended_style_targets(net, style, model_executor, inputs):
    """The blend-weighted sum of each style image's Gram matrices. Style images of another size than
    the content (--style-scale) get an executor bound at theirs."""
    size = tuple(inputs.content.shape[2:])
    targets, other_size_executor = [], None
    for weight, style_np in zip(inputs.blend, inputs.styles):
        style_size = tuple(style_np.shape[2:])
        if style_size == size:
            grams = style_grams(model_executor, style_np)
        else:
            if other_size_executor is None:
                with mx.name.NameManager():
                    style_size_gram = style_gram_symbol(style_size, style)[0]
                other_size_executor = bound_executor(net, (style_size_gram, None), style_size)
            grams = style_grams(other_size_executor, style_np)
            # A Gram matrix sums over its layer's positions, so it grows with the image. Times content
            # positions / style positions it is the Gram of a content-sized image with the same
            # statistics: comparable with the result's, and the loss's gscale stays right.
            ratios = [content_positions / style_positions for content_positions, style_positions
                      in zip(feature_positions(style, size), feature_positions(style, style_size))]
            grams = [gram_matrix * ratio for gram_matrix, ratio in zip(grams, ratios)]
        grams = [weight * gram_matrix for gram_matrix in grams]  # the default's weight 1.0 changes no bit
        targets = [total + g for total, g in zip(targets, grams)] if targets else grams
    return targets


def compute_targets(net, symbols, inputs):
    """Style targets: the blend-weighted sum of each style image's Gram matrices; content targets:
    the content image's features; copied to the CPU as the original does. symbols: (style, gram,
    content), the feature groups and the Gram matrices of style at the content's size (each may be
    None). One executor at the content's size computes both, as in the original."""
    style, gram, content = symbols
    if gram is None and content is None:  # MRF texture synthesis: no Gram and no content target
        return [], []
    model_executor = bound_executor(net, (gram, content), inputs.content.shape[2:])
    style_array = blended_style_targets(net, style, model_executor, inputs) if gram is not None else []
    content_array = []
    if content is not None:
        model_executor.data[:] = inputs.content
        model_executor.executor.forward()
        content_array = [x.copyto(mx.cpu()) for x in model_executor.executor.outputs[len(style_array):]]
    return style_array, content_array


class TVTerm:
    """The original's smoothness term, on the loss executor's image: its gradient the Laplacian
    executor's output, its energy 0.5 * sum(x * gradient)."""
    name = 'tv'

    def __init__(self, image, dev, tv_weight):
        self.image = image
        self.executor = get_tv_grad_executor(image, dev, tv_weight)

    def gradient(self):
        self.executor.forward()
        return self.executor.outputs[0]

    def energy(self):
        return tv_energy(self.image, self.executor)


def build_loss(args, net, inputs):
    """The loss executor with its targets filled in, and the head gradients that weight its losses.
    With --style-loss mrf the style losses are the MRF layers' (neural_style.gatys.mrf): their targets are
    filled by the executor's Rematcher hook (start_epoch) on the epochs that re-match."""
    size = inputs.content.shape[2:]
    style_layers, content_layers = chosen_layers(args, net.module)
    use_mrf = is_mrf(args) and bool(style_layers)
    # model: a first executor computes the targets, then the loss executor replaces it
    with mx.name.NameManager():  # the same automatic names each time, so that batch mode can reuse executors
        style, content = net.module.get_symbol(style_layers, content_layers, pooling=args.pooling)
        gram, gscale = style_gram_symbol(size, style) if style is not None and not use_mrf else (None, [])
    style_array, content_array = compute_targets(net, (style, gram, content), inputs)
    return_freed_memory()  # the target executor's activations, before the loss executor allocates its own
    # the style patches before the loss executor is bound: the executor that computes them is gone by then
    style_patches = mrf_style_patches(args, net, style, inputs) if use_mrf else None

    with mx.name.NameManager():
        style_loss, content_loss = get_loss(gram, content)
        if use_mrf:
            style_loss = mrf.loss_symbols(style, size)
    model_executor = bound_executor(net, (style_loss, content_loss), size)

    # head gradients: the weight of each loss (a Gram loss is scaled down by its Gram's size)
    if use_mrf:
        loss_weights = [float(args.mrf_weight)] * len(style_layers)
    else:
        loss_weights = [float(args.style_weight) / gscale[i] for i in range(len(style_array))]
    style_count = len(loss_weights)
    if content_loss is not None:
        loss_weights.append(float(args.content_weight))
    grad_array = [mx.nd.ones((1,), net.dev) * weight for weight in loss_weights]
    for i in range(len(style_array)):
        style_array[i].copyto(model_executor.arg_dict['target_gram_%d' % i])
    print([x.asscalar() for x in grad_array])  # the original's own printout of the head gradients
    for i in range(len(content_array)):
        content_array[i].copyto(model_executor.arg_dict[content_target_name(i)])
    terms = [TVTerm(model_executor.data, net.dev, args.tv_weight)] if args.tv_weight > 0 else []
    if not use_mrf:
        return LossExecutor(model_executor, grad_array, loss_weights, style_count, terms)
    return LossExecutor(model_executor, grad_array, loss_weights, style_count, terms,
                        hooks=(mrf_rematcher(args, net, style, model_executor, style_patches),), style_name='mrf')


def mrf_style_patches(args, net, style, inputs):
    """mrf.StylePatches of each MRF layer: the k x k patches, every --mrf-stride positions, of every
    style image's features at that layer, pooled (in the order of the images)."""
    executors, pooled = {}, [[] for _ in style.list_outputs()]
    for style_np in inputs.styles:
        style_size = tuple(style_np.shape[2:])
        if style_size not in executors:
            executors[style_size] = bound_executor(net, (style, None), style_size)
        executor = executors[style_size]
        executor.data[:] = style_np
        executor.executor.forward()
        for patches, features in zip(pooled, executor.style):
            patches.append(mrf.extract_patches(features.asnumpy()[0], args.mrf_patch_size, args.mrf_stride))
    return [mrf.style_patches(np.concatenate(patches), net.dev) for patches in pooled]


def mrf_rematcher(args, net, style, model_executor, styles):
    """The loss executor's re-matching hook: the style patches (mrf_style_patches), the count of
    patches over each position filled in once, and a forward-only executor of the MRF features on
    the loss executor's own image and weights (sharing its memory: it runs just before the loss
    executor's forward)."""
    symbol = net.module.bfloat16_convolutions(style) if net.dtype == 'bfloat16' else style
    feature_executor = symbol.bind(net.dev, args={name: model_executor.arg_dict[name]
                                                  for name in symbol.list_arguments()},
                                   grad_req='null', shared_exec=model_executor.executor)
    for i, shape in enumerate(style.infer_shape(data=model_executor.data.shape)[1]):
        model_executor.arg_dict[mrf.count_name(i)][:] = mrf.overlap_count(shape, args.mrf_patch_size)
    return mrf.Rematcher(feature_executor, model_executor.arg_dict, styles, args.mrf_rematch_every)


def loss_for_size(args, net, long_edge):
    """The whole set-up of a run's loss at one long edge: read the images, compute the targets, bind."""
    return build_loss(args, net, stage_inputs(args, net.module, long_edge))


# ---------------------------------------------------------------- evaluating the loss

def start_epoch(loss):
    """At the start of each epoch (an L-BFGS iteration), with its image in loss.model_executor.data:
    run the hooks (the MRF loss re-matches there on the epochs it re-matches). Returns whether the
    loss changed: an optimiser with memory of the loss (L-BFGS) must then start again."""
    changed = [hook() for hook in loss.hooks]  # every hook runs
    return any(changed)


def forward_backward(loss):
    """The losses and their input gradient at the image in loss.model_executor.data."""
    loss.model_executor.executor.forward()
    loss.model_executor.executor.backward(loss.grad_array)


def terms_gradient(loss):
    """The summed gradient of the image-space terms at the loss executor's image, or None."""
    gradients = [term.gradient() for term in loss.terms]
    return sum(gradients[1:], gradients[0]) if gradients else None


def content_and_style_losses(loss):
    """The content and the style loss of the loss executor's last forward pass, weighted as in the
    gradient (0 when not built), in float64. The first loss.style_count outputs are the style losses."""
    losses = [weight * float(output.asnumpy()[0])
              for weight, output in zip(loss.loss_weights, loss.model_executor.executor.outputs)]
    return sum(losses[loss.style_count:]), sum(losses[:loss.style_count])


def loss_names(loss):
    """The names weighted_losses gives: content, style (or mrf), tv (0 when off) and each other term's."""
    names = ['content', loss.style_name] + [term.name for term in loss.terms]
    return names if 'tv' in names else names[:2] + ['tv'] + names[2:]


def weighted_losses(loss):
    """[(name, loss)] (loss_names): weighted as in the gradient, in float64, after forward_backward
    and terms_gradient at the same image."""
    content, style = content_and_style_losses(loss)
    energies = {term.name: term.energy() for term in loss.terms}
    energies.update({'content': content, loss.style_name: style})
    return [(name, energies.get(name, 0.0)) for name in loss_names(loss)]
