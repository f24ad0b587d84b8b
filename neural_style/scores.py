"""How close a result is to a reference and to its inputs (compare.py is its command line; the
studio shows the same scores): SSIM and PSNR against the reference, the style distance (Gram
matrices of VGG-19's style layers) to the style image and the content distance (relu4_2) to the
content image; and a stylised video's temporal error against its input's flow."""
import re

import numpy as np
from skimage import transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import model_vgg19
from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image, to_network_input
from neural_style.gatys.losses import style_gram_symbol
from neural_style.mxnet_runtime import mx
from neural_style.video import clips as video_io
from neural_style.video import frames_folder
from neural_style.video.temporal import temporal_error

ASPECT_TOLERANCE = 0.05  # truncated sizes (600x400 -> 128x85) change the aspect ratio by well under this


def check_same_picture(flag, path, pixels, reference):
    """Sizes may differ; the aspect ratio must not (beyond truncation): else it is another picture."""
    (h, w), (ref_h, ref_w) = pixels.shape[:2], reference.shape[:2]
    if abs((w / h) / (ref_w / ref_h) - 1) > ASPECT_TOLERANCE:
        raise NstyleError('%s %s is %dx%d but the reference is %dx%d: not the same picture (the aspect '
                                 'ratios differ); give the matching --reference and --content-image'
                                 % (flag, path, w, h, ref_w, ref_h))


def feature_distances(images, content, style, params):
    """For each (h, w, 3) float image in `images` (all of one size): the Gram distance to `style` of
    each style layer, divided by C*h*w*C as the training's head gradients divide it, and the summed
    squared distance to `content`'s relu4_2 features (the content loss before its weight)."""
    size = content.shape[:2]
    style_symbol, content_symbol = model_vgg19.get_symbol()
    gram, gscale = style_gram_symbol(size, style_symbol)
    model = model_vgg19.get_executor(gram, content_symbol, size, mx.cpu(), params)

    def features(pixels):
        model.data[:] = to_network_input(pixels)
        model.executor.forward()
        return [x.asnumpy().astype(np.float64) for x in model.executor.outputs]

    target_grams = features(style)[:-1]
    target_content = features(content)[-1]
    distances = []
    for pixels in images:
        *grams, content_features = features(pixels)
        style_distance = {layer: float(np.sum((g - t) ** 2) / scale)
                          for layer, g, t, scale in zip(model_vgg19.STYLE_LAYERS, grams, target_grams, gscale)}
        style_distance['total'] = sum(style_distance.values())
        distances.append((style_distance, float(np.sum((content_features - target_content) ** 2))))
    return distances


def compare(args):
    """The report as a dict (the --json output)."""
    reference = read_rgb_image(args.reference, '--reference')
    result = read_rgb_image(args.result, 'RESULT')
    content = read_rgb_image(args.content_image, '--content-image')
    style = read_rgb_image(args.style_image, '--style-image')
    check_same_picture('RESULT', args.result, result, reference)
    check_same_picture('--content-image', args.content_image, content, reference)
    size = reference.shape[:2]
    if min(size) < model_vgg19.min_input_side(model_vgg19.STYLE_LAYERS):
        raise NstyleError('--reference %s is %dx%d: too small for VGG-19 (at least %d pixels a side); '
                                 'give a larger reference' % (args.reference, size[1], size[0],
                                                              model_vgg19.min_input_side(model_vgg19.STYLE_LAYERS)))
    try:
        params = model_vgg19.load_params(args.vgg_params)
        real_weights = model_vgg19.are_real_weights(args.vgg_params)
    except model_vgg19.WeightsError as error:
        raise NstyleError('--vgg-params: %s' % error) from None
    # floats in [0, 1] at the reference's size: what training feeds the network, and what SSIM compares
    reference, result, content, style = (transform.resize(img, size, anti_aliasing=True)
                                         for img in (reference, result, content, style))
    identical = np.array_equal(reference, result)  # then PSNR is infinite: reported as None
    (result_style, result_content), (reference_style, reference_content) = feature_distances(
        [result, reference], content, style, params)
    return {
        'result': args.result, 'reference': args.reference,
        'content_image': args.content_image, 'style_image': args.style_image,
        'size': list(size), 'weights': 'VGG-19' if real_weights else 'random test weights (not VGG-19)',
        'ssim': float(structural_similarity(reference, result, channel_axis=-1, data_range=1)),
        'psnr': None if identical else float(peak_signal_noise_ratio(reference, result, data_range=1)),
        'style_distance': {'result': result_style, 'reference': reference_style},
        'content_distance': {'result': result_content, 'reference': reference_content},
    }


SIDE_ROUNDING = 9  # pixels a stylised frame's short side may lose to rounding (the generators' multiple of 8, + 1)


def first_frame_made_from(args, result, source, numbered):
    """The index in --temporal of RESULT's first frame, once RESULT is known to be made from it. A
    result of stylize_video.py says what it was made from (its run.json's input: size and hash): another
    clip, or one changed since, is refused. A video from elsewhere must at least have as many frames
    as INPUT and its shape (its short side as INPUT's aspect ratio gives it, up to rounding)."""
    recorded = frames_folder.recorded_run(args.result)
    if recorded is not None:
        path, settings = recorded
        if settings['depends_on']['input'] != frames_folder.clip_identity(source):
            raise NstyleError('RESULT %s was made from %s (as %s records), not from --temporal %s (another clip, or '
                              'that one changed since); give --temporal the clip RESULT was made from'
                              % (args.result, settings.get('input', 'another clip'), path, args.temporal))
        return settings.get('first_frame') or 0
    (w, h), (input_w, input_h) = result.size, source.size
    short, expected = (h, w * input_h / input_w) if w >= h else (w, h * input_w / input_h)
    if abs(short - expected) > max(SIDE_ROUNDING, ASPECT_TOLERANCE * expected):
        raise NstyleError('RESULT %s is %dx%d but --temporal %s is %dx%d: not made from it (the aspect ratios '
                          'differ); give --temporal the clip RESULT was made from'
                          % (args.result, w, h, args.temporal, input_w, input_h))
    if not numbered and result.count != source.count:
        raise NstyleError('RESULT %s has %d frames but --temporal %s has %d: not made from it; give --temporal the '
                          'clip RESULT was made from (cut to the same frames)'
                          % (args.result, result.count, args.temporal, source.count))
    return 0


def temporal_report(args):
    """--temporal: the temporal error of RESULT against INPUT's flow. The frames of a frames folder of
    stylize_video.py (frame_NNNNNN.png) are matched to INPUT's frames by their numbers, others in order
    from INPUT's first frame; INPUT's frames are resized to RESULT's size."""
    result = video_io.open_clip(args.result, 'RESULT')
    source = video_io.open_clip(args.temporal, '--temporal')
    for flag, path, clip in (('RESULT', args.result, result), ('--temporal', args.temporal, source)):
        if clip.count < 2:  # the error is over consecutive pairs: one frame has none (it is not 0.0)
            raise NstyleError('%s %s has %d frame: the temporal error needs at least two consecutive frames; give '
                              'a video or a folder of frames' % (flag, path, clip.count))
    numbers = [re.fullmatch(r'frame_(\d+)\.png', name) for name in result.files or []]
    numbered = bool(numbers) and all(numbers)  # stylize_video.py's frames folder: matched by the numbers
    first = first_frame_made_from(args, result, source, numbered)
    indices = [int(m.group(1)) for m in numbers] if numbered else list(range(first, first + result.count))
    if indices != list(range(indices[0], indices[0] + len(indices))) or indices[-1] >= source.count:
        raise NstyleError('RESULT %s: its frames (%d to %d) are not consecutive frames of --temporal %s (%d frames); '
                          'give the INPUT it was made from' % (args.result, indices[0], indices[-1], args.temporal,
                                                               source.count))
    size = result.size[::-1]
    inputs = (video_io.resized_frame(pixels, size)
              for _, pixels in video_io.read_frames(source, indices[0], indices[-1] + 1, '--temporal'))
    outputs = (pixels for _, pixels in video_io.read_frames(result, 0, result.count, 'RESULT'))
    return {'result': args.result, 'input': args.temporal, 'frames': len(indices), 'size': list(size),
            'temporal_error': temporal_error(inputs, outputs)}
