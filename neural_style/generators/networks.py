"""The feed-forward generators of the end_to_end example, as symbols: the original's gen_v4 and
gen_v3 and their chain of four (g0 = v4, g1 = v3, g2 = v3, g3 = v4), and Johnson et al.'s
transformer network (Johnson, Alahi, Fei-Fei 2016, "Perceptual Losses for Real-Time Style
Transfer"). Every generator maps a network image (1, 3, h, w) to one of the same size.

The original's layers have MXNet's automatic names (convolution0_weight, batchnorm0_gamma ...),
numbered across the four generators in build order: chain_symbols builds them in that order inside
a fresh NameManager, so that its parameters have the names of the published files."""
from neural_style.files.images import MEAN_RGB
from neural_style.mxnet_runtime import mx
from neural_style.onepass.layers import instance_norm, reflect_conv

CHAIN = ('v4', 'v3', 'v3', 'v4')  # the original's g0 ... g3
JOHNSON = 'johnson'
# The side of an input must be a multiple of this: gen_v3 halves it three times and crops its
# deconvolutions to h/4 and h/2; Johnson's network halves it twice and doubles it back.
SIDE_MULTIPLE = {'v3chain': 8, JOHNSON: 4}


def _conv_bn_leaky(data, num_filter, kernel, stride, no_bias=False):
    pad = (kernel[0] // 2, kernel[1] // 2)
    x = mx.sym.Convolution(data, num_filter=num_filter, kernel=kernel, stride=stride, pad=pad, no_bias=no_bias)
    x = mx.sym.BatchNorm(x, fix_gamma=False)
    return mx.sym.LeakyReLU(x, act_type='leaky')


def _to_blended_image(tanh_out, data):
    """The original's last step: tanh in [-1, 1] to pixels in [0, 256], the mean colour removed
    (one slice per channel, as the original), then 0.4 of that and 0.6 of the input."""
    raw = tanh_out * 128 + 128
    channels = mx.sym.SliceChannel(raw, num_outputs=3)
    centred = mx.sym.Concat(*[channels[i] - float(MEAN_RGB[i]) for i in range(3)])
    return 0.4 * centred + 0.6 * data


def gen_v4(prefix):
    """Seven stride-1 convolutions, each BatchNorm + LeakyReLU but the last (BatchNorm + tanh);
    the last two without bias."""
    data = mx.sym.Variable('%s_data' % prefix)
    x = data
    for num_filter, kernel, no_bias in ((48, 5, False), (32, 5, False), (64, 3, False), (32, 5, False),
                                        (48, 5, False), (32, 5, True)):
        x = _conv_bn_leaky(x, num_filter, (kernel, kernel), (1, 1), no_bias)
    x = mx.sym.Convolution(x, num_filter=3, kernel=(3, 3), pad=(1, 1), no_bias=True)
    x = mx.sym.BatchNorm(x, fix_gamma=False)
    return _to_blended_image(mx.sym.Activation(data=x, act_type='tanh'), data)


def _deconv(data, num_filter, crop_hw):
    """7x7 stride-2 deconvolution (no bias) cropped at offset (1, 1) to crop_hw, BatchNorm, LeakyReLU."""
    x = mx.sym.Deconvolution(data, num_filter=num_filter, kernel=(7, 7), stride=(2, 2), pad=(2, 2), no_bias=True)
    x = mx.sym.Crop(x, offset=(1, 1), h_w=crop_hw, num_args=1)
    x = mx.sym.BatchNorm(x, fix_gamma=False)
    return mx.sym.LeakyReLU(x, act_type='leaky')


def gen_v3(prefix, im_hw):
    """Encoder-decoder: three 5x5 stride-2 convolutions (64, 128, 256), each followed by a 3x3 one
    (48, 96, 192); two deconvolutions back up, each added to the encoder map of its size; a last
    8x8 stride-2 deconvolution to 3 channels + BatchNorm + tanh. im_hw: the input's (h, w)."""
    data = mx.sym.Variable('%s_data' % prefix)
    conv1 = _conv_bn_leaky(data, 64, (5, 5), (2, 2))
    conv1_1 = _conv_bn_leaky(conv1, 48, (3, 3), (1, 1))
    conv2 = _conv_bn_leaky(conv1_1, 128, (5, 5), (2, 2))
    conv2_1 = _conv_bn_leaky(conv2, 96, (3, 3), (1, 1))
    conv3 = _conv_bn_leaky(conv2_1, 256, (5, 5), (2, 2))
    conv3_1 = _conv_bn_leaky(conv3, 192, (3, 3), (1, 1))
    deconv1 = _deconv(conv3_1, 128, (int(im_hw[0] / 4), int(im_hw[1] / 4))) + conv2
    conv4_1 = _conv_bn_leaky(deconv1, 160, (3, 3), (1, 1))
    deconv2 = _deconv(conv4_1, 64, (int(im_hw[0] / 2), int(im_hw[1] / 2))) + conv1
    conv5_1 = _conv_bn_leaky(deconv2, 96, (3, 3), (1, 1))
    x = mx.sym.Deconvolution(conv5_1, num_filter=3, kernel=(8, 8), stride=(2, 2), pad=(3, 3), no_bias=True)
    x = mx.sym.BatchNorm(x, fix_gamma=False)
    return _to_blended_image(mx.sym.Activation(x, act_type='tanh'), data)


def chain_symbols(im_hw):
    """The four generators g0 ... g3 as separate symbols (inputs g0_data ... g3_data), built in the
    original's order so that their parameters have the original's names."""
    with mx.name.NameManager():
        return [gen_v4('g%d' % k) if kind == 'v4' else gen_v3('g%d' % k, im_hw) for k, kind in enumerate(CHAIN)]


def chain_symbol(im_hw):
    """The whole chain as one symbol with input g0_data: a group of the four stages' outputs, each
    stage fed the previous one's output (for inference)."""
    symbols = chain_symbols(im_hw)
    outputs = [symbols[0]]
    for k in range(1, len(symbols)):
        outputs.append(symbols[k](**{'g%d_data' % k: outputs[-1]}))
    return mx.sym.Group(outputs)


# ---------------------------------------------------------------- Johnson et al.'s transformer network

# InstanceNorm's default epsilon; the BatchNorm that stands in for it must use the same.
INSTANCE_NORM_EPS = 1e-3


def instance_norm_of_one_image(x, name):
    """Instance normalisation of a batch of ONE image as a BatchNorm with the batch's statistics
    (use_global_stats=False), which equal the image's own: onepass.layers.instance_norm, shared
    with the one-pass networks. MXNet 1.9's CPU InstanceNorm is a plain loop; its BatchNorm runs in
    oneDNN, about twice as fast over Johnson's whole network at 512x512 (docs/performance.md), and
    the reshape before it hands it a plain NCHW copy of the conv's blocked output, on which oneDNN's
    BatchNorm does not stall 2 threads (onepass.layers.instance_norm). The same gamma and beta names
    as InstanceNorm(name=name), so the trained weights load unchanged; its moving_mean/moving_var
    are never read (bind them to zeros and ones).
    Two conditions, both kept by stylizer.bind_stylizer: the executor must run forward(is_train=True)
    (otherwise BatchNorm uses the moving statistics), and be bound with some gradient (with
    grad_req 'null' everywhere MXNet 1.9 runs oneDNN's inference BatchNorm after a oneDNN
    convolution even in training mode: the moving statistics again)."""
    return instance_norm(x, mx.sym.Variable(name + '_gamma'), mx.sym.Variable(name + '_beta'), name,
                         eps=INSTANCE_NORM_EPS)


def instance_norm_of_images(x, name, channels, images):
    """Instance normalisation of a batch of `images` images of `channels` channels as one BatchNorm
    with the batch's statistics (instance_norm_of_one_image, with its two conditions): the batch
    folded into one image of N*C channels around it, gamma and beta tiled (onepass.layers.instance_norm),
    so that each image gets its own statistics, as N runs of one image would; the same parameter names."""
    if images == 1:
        return instance_norm_of_one_image(x, name)
    gamma = mx.sym.Variable(name + '_gamma', shape=(channels,))  # not inferred through the tiling
    beta = mx.sym.Variable(name + '_beta', shape=(channels,))
    return instance_norm(x, gamma, beta, name, eps=INSTANCE_NORM_EPS, images=images)


def _conv_in(x, name, num_filter, kernel, stride=1, one_image=False, images=1):
    """Reflection padding, convolution, instance normalisation (as instance_norm_of_images' BatchNorm
    where one_image: a batch of `images` images)."""
    x = reflect_conv(x, name, num_filter, kernel, stride, no_bias=False)
    if one_image:
        return instance_norm_of_images(x, name + '_in', num_filter, images)
    return mx.sym.InstanceNorm(x, name=name + '_in', eps=INSTANCE_NORM_EPS)


def _relu(x):
    return mx.sym.Activation(x, act_type='relu')


def johnson(prefix='johnson', one_image=False, images=1):
    """9x9 conv 32, 3x3 stride-2 convs 64 and 128, five residual blocks of 128, two nearest x2
    upsamplings each followed by a 3x3 conv (64, 32), a 9x9 conv to 3 channels; reflection
    padding, instance normalisation and ReLU throughout (no ReLU at the end of a residual
    branch). The last convolution's output is the image as the network sees it (pixels minus the
    mean colour), unbounded, as in today's implementations (the PyTorch example's): a tanh there
    saturates early in training. Names: <prefix>_*. one_image=True: for inference on batches of
    one image, the normalisations are instance_norm_of_one_image's BatchNorms (same parameters,
    plus unused moving statistics); with images=N, instance_norm_of_images' for batches of N."""
    data = mx.sym.Variable('data')
    x = _relu(_conv_in(data, prefix + '_conv1', 32, 9, one_image=one_image, images=images))
    x = _relu(_conv_in(x, prefix + '_conv2', 64, 3, stride=2, one_image=one_image, images=images))
    x = _relu(_conv_in(x, prefix + '_conv3', 128, 3, stride=2, one_image=one_image, images=images))
    for block in range(1, 6):
        name = '%s_res%d' % (prefix, block)
        branch = _relu(_conv_in(x, name + '_conv1', 128, 3, one_image=one_image, images=images))
        x = x + _conv_in(branch, name + '_conv2', 128, 3, one_image=one_image, images=images)
    for name, num_filter in (('_up1', 64), ('_up2', 32)):
        x = mx.sym.UpSampling(x, scale=2, sample_type='nearest', num_args=1)
        x = _relu(_conv_in(x, prefix + name, num_filter, 3, one_image=one_image, images=images))
    # for inference the 32->3 conv runs as a 32->16 one (onepass.layers.reflect_conv): oneDNN's direct
    # kernel, not its slow gemm convolution; training keeps the plain conv
    return reflect_conv(x, prefix + '_out', 3, 9, no_bias=False, in_channels=32 if one_image else None)
