"""Setting up a Gatys run's loss at one image size (gatys/optimise.py's StyleLoss): the weights
loaded once, the images read and checked, the content and style targets computed by a first
executor, then the loss executor bound with them and the image-space terms (TV) beside it."""
import collections
import os

import numpy as np

from neural_style.errors import NstyleError
from neural_style.files import images
from neural_style.gatys import mrf
from neural_style.gatys.losses import TVTerm, content_target_name, feature_positions, get_loss, style_gram_symbol
from neural_style.gatys.optimise import StyleLoss
from neural_style.machine import return_freed_memory
from neural_style.mxnet_runtime import mx

# The model's module (model_vgg19), its weights on the device `dev`, the number type of its
# convolutions, and the executors kept for reuse: an OrderedDict in batch mode and for a video's
# frames (binding allocates the activations), None for a single run.
Vgg = collections.namedtuple('Vgg', ['module', 'params', 'dev', 'dtype', 'executors'])
# The pictures of a run, 8-bit (h, w, 3) pixels: the content image as (name for messages, pixels),
# the style images likewise, and --init's pixels or None. Read once (gatys/run.py's read_pictures,
# or given by a caller of the API, or sent to a cluster's worker), so everything after is arrays.
Pictures = collections.namedtuple('Pictures', ['content', 'styles', 'init'])
# One size's inputs: the content image and the style images as the network sees them, and each
# style image's blend weight.
StageInputs = collections.namedtuple('StageInputs', ['content', 'styles', 'blend'])


def load_vgg(settings, model_module, dev, loaded=None, executors=None):
    """The Vgg of a run: the weights of --vgg-params, read once per path when the caller keeps
    `loaded` (a dict: batch mode, a cluster's worker, which puts the weights it was sent there)."""
    loaded = {} if loaded is None else loaded
    key = params_key(model_module, settings.vgg_params)
    if key not in loaded:
        try:
            loaded[key] = model_module.load_params(settings.vgg_params)
        except model_module.WeightsError as error:
            raise NstyleError('--vgg-params: %s' % error) from None
    return Vgg(model_module, loaded[key], dev, settings.dtype, executors)


def params_key(model_module, vgg_params):
    """Where `loaded` keeps the weights of this file."""
    return (model_module.__name__, os.path.abspath(vgg_params))


def chosen_layers(settings, model_module):
    """The style and content layers this run computes: a loss of weight 0 is left out, with the
    layers only it needs. With both weights 0 the content branch stays, so that there is a graph
    (its gradient is 0: the update is the TV gradient alone). With --style-loss mrf the style layers
    are --mrf-layers, weighted by --mrf-weight."""
    style_flag, style_names, style_weight = (('--mrf-layers', settings.mrf_layers, settings.mrf_weight) if settings.uses_mrf else
                                             ('--style-layers', settings.style_layers, settings.style_weight))
    for flag, names in (('--content-layers', settings.content_layers), (style_flag, style_names)):
        try:
            model_module.check_layers(names)
        except ValueError as error:
            raise NstyleError('%s: %s (model %s)' % (flag, error, settings.model)) from None
    style_layers = list(style_names) if style_weight > 0 else []
    content_layers = list(settings.content_layers) if settings.content_weight > 0 or not style_layers else []
    return style_layers, content_layers


def stage_inputs(settings, model_module, long_edge, long_edge_flag, pictures):
    """The content image at this long edge and the style images as the network sees them, checked:
    the image must reach the deepest chosen layer, the style images the deepest style layer (with
    --style-loss mrf: hold a k x k patch there). pictures: the run's Pictures (8-bit pixels)."""
    style_layers, content_layers = chosen_layers(settings, model_module)
    style_min_side = model_module.min_input_side(style_layers) if style_layers else 1
    if style_layers and settings.uses_mrf:
        style_min_side = mrf.min_input_side(model_module, style_layers, settings.mrf_patch_size)
    min_side = max(model_module.min_input_side(style_layers + content_layers), style_min_side)
    name, content_pixels = pictures.content
    content = images.content_network_image(content_pixels, long_edge, min_side, long_edge_flag, name)
    blend = images.style_blend([name for name, _ in pictures.styles], settings.style_blend_weights)
    size = images.style_image_size(content.shape[2:], settings.style_scale, style_min_side)
    styles = [images.to_network_input(images.transform.resize(pixels, size)) for _, pixels in pictures.styles]
    return StageInputs(content, styles, blend)


def bound_executor(net, outputs, size):
    """net.module.get_executor(*outputs, ...). When net keeps executors (batch mode, a video) it is
    reused when a job before bound the same graph at the same size: binding allocates the
    activations. The last few stay, so that memory stays bounded; a single run keeps none (the
    target executor is freed before the loss executor binds). The target executor is bound with the
    input's gradient too, though it only runs forward: bound without (grad_req 'null'), its second
    forward pass (a second style image) gave wrong Gram matrices (tests/test_styles.py), and it
    saved no memory (benchmarks/memory.py: oneDNN's buffers, not MXNet's plan, dominate)."""
    executors = net.executors
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


def build_loss(settings, net, inputs):
    """The StyleLoss of one size, its targets filled in. With --style-loss mrf the style losses are
    the MRF layers' (gatys/mrf.py): their targets are filled by the Rematcher hook (start_epoch) on
    the epochs that re-match."""
    size = inputs.content.shape[2:]
    style_layers, content_layers = chosen_layers(settings, net.module)
    use_mrf = settings.uses_mrf and bool(style_layers)
    # model: a first executor computes the targets, then the loss executor replaces it
    with mx.name.NameManager():  # the same automatic names each time, so that executors can be reused
        style, content = net.module.get_symbol(style_layers, content_layers, pooling=settings.pooling)
        gram, gscale = style_gram_symbol(size, style) if style is not None and not use_mrf else (None, [])
    style_array, content_array = compute_targets(net, (style, gram, content), inputs)
    return_freed_memory()  # the target executor's activations, before the loss executor allocates its own
    # the style patches before the loss executor is bound: the executor that computes them is gone by then
    style_patches = mrf_style_patches(settings, net, style, inputs) if use_mrf else None

    with mx.name.NameManager():
        style_loss, content_loss = get_loss(gram, content)
        if use_mrf:
            style_loss = mrf.loss_symbols(style, size)
    executor = bound_executor(net, (style_loss, content_loss), size)

    # head gradients: the weight of each loss (a Gram loss is scaled down by its Gram's size)
    if use_mrf:
        loss_weights = [float(settings.mrf_weight)] * len(style_layers)
    else:
        loss_weights = [float(settings.style_weight) / gscale[i] for i in range(len(style_array))]
    style_count = len(loss_weights)
    if content_loss is not None:
        loss_weights.append(float(settings.content_weight))
    for i, target in enumerate(style_array):
        target.copyto(executor.arg_dict['target_gram_%d' % i])
    for i, target in enumerate(content_array):
        target.copyto(executor.arg_dict[content_target_name(i)])
    terms = [TVTerm(executor.data, settings.tv_weight)] if settings.tv_weight > 0 else []
    if not use_mrf:
        return StyleLoss(executor, loss_weights, style_count, terms)
    return StyleLoss(executor, loss_weights, style_count, terms, style_name='mrf',
                     hooks=(mrf_rematcher(settings, net, style, executor, style_patches),))


def mrf_style_patches(settings, net, style, inputs):
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
            patches.append(mrf.extract_patches(features.asnumpy()[0], settings.mrf_patch_size, settings.mrf_stride))
    return [mrf.style_patches(np.concatenate(patches), net.dev) for patches in pooled]


def mrf_rematcher(settings, net, style, model_executor, styles):
    """The loss executor's re-matching hook: the style patches (mrf_style_patches), the count of
    patches over each position filled in once, and a forward-only executor of the MRF features on
    the loss executor's own image and weights (sharing its memory: it runs just before the loss
    executor's forward)."""
    symbol = net.module.bfloat16_convolutions(style) if net.dtype == 'bfloat16' else style
    feature_executor = symbol.bind(net.dev, args={name: model_executor.arg_dict[name]
                                                  for name in symbol.list_arguments()},
                                   grad_req='null', shared_exec=model_executor.executor)
    for i, shape in enumerate(style.infer_shape(data=model_executor.data.shape)[1]):
        model_executor.arg_dict[mrf.count_name(i)][:] = mrf.overlap_count(shape, settings.mrf_patch_size)
    return mrf.Rematcher(feature_executor, model_executor.arg_dict, styles, settings.mrf_rematch_every)
