"""What runs in the studio's worker processes (spawned: a fresh interpreter each, so that MXNet
never shares a process with the web server, several runs never share one MXNet, and a stopped or
failed run gives all its memory back). Messages go back to the server on a multiprocessing queue as
tuples: ('epoch', number, losses, seconds, total), then ('done', losses) or ('failed', message).
Every method's work is a call of neural_style.api (gatys, generate, stylize)."""
import logging
import os
import traceback

# checkpoints kept for the GIF and the live view: JPEG, as nstyle.py writes its e_N.jpg
CHECKPOINT = 'e_%d.jpg'
RESULT = 'result.png'
THUMBNAIL = 'style%d.png'  # the 26 styles' thumbnails


def write_image(path, pixels):
    from PIL import Image
    temporary = path + '.tmp' + os.path.splitext(path)[1]
    options = {'quality': 92} if path.endswith('.jpg') else {}
    Image.fromarray(pixels).save(temporary, **options)
    os.replace(temporary, path)  # the server never serves a half-written image


def run(job, messages, stop):
    """One run (job: a dict; see runs.Run.job) in this process, reporting on `messages`."""
    os.environ['OMP_NUM_THREADS'] = str(job['threads'])  # before MXNet loads (find_mxnet keeps it)
    logging.basicConfig(level=logging.WARNING)
    from neural_style import api
    from neural_style.errors import NstyleError
    folder = job['folder']

    def on_epoch(epoch):
        write_image(os.path.join(folder, CHECKPOINT % epoch.epoch), epoch.image)
        messages.put(('epoch', epoch.epoch, epoch.losses, epoch.seconds, epoch.epochs_total))

    try:
        if job['method'] == 'generators':
            image = api.generate(job['content'], job['model_dir'])
            losses = []
        elif 'api_method' in job:  # stylize.py's networks, one pass (app.ONE_PASS)
            image, losses = one_pass(job), []
        else:
            given = {name: value for name, value in job['settings'].items() if value is not None}
            settings = api.GatysSettings(**dict({'gpu': -1}, **given))  # the CPU unless a GPU is asked for
            result = api.gatys(job['content'], job['style'], settings, on_epoch, stop)
            image, losses = result.image, result.losses
        write_image(os.path.join(folder, RESULT), image)
        messages.put(('done', losses))
    except NstyleError as error:
        messages.put(('failed', str(error)))
    except MemoryError:
        messages.put(('failed', 'not enough memory for this run; choose a smaller long edge'))
    except Exception as error:  # a bug: the page gets one line, the server's log the traceback
        traceback.print_exc()
        messages.put(('failed', 'internal error: %s: %s' % (type(error).__name__, error)))


def one_pass(job):
    """The result of a one-pass run: api.stylize with the page's settings (app.checked_settings)."""
    from neural_style import api
    from neural_style.onepass.methods import chosen_style
    settings = job['settings']
    style = chosen_style(settings['pretrained_style']) if job['api_method'] == 'multistyle' else job['style']
    return api.stylize(job['content'], style, job['api_method'], strength=settings.get('strength', 1.0),
                       alpha=settings.get('alpha', 1.0), levels=settings.get('levels', 5),
                       weights_dir=job['weights_dir'], max_long_edge=settings['max_long_edge'])


def style_thumbnails(photo, long_edge, weights_dir, folder):
    """THUMBNAIL % N in folder: each of the 26 styles on the photo at long_edge (the page's style picker)."""
    from neural_style import api
    from neural_style.onepass.multistyle import NUM_STYLES
    os.makedirs(folder, exist_ok=True)
    for number in range(NUM_STYLES):
        write_image(os.path.join(folder, THUMBNAIL % number),
                    api.stylize(photo, number, weights_dir=weights_dir, max_long_edge=long_edge))


def weights_label(path):
    """How the page's footer names the weights at path (None: the default model/vgg19.params)."""
    import model_vgg19
    from neural_style.files.images import input_file_problem
    path = path or model_vgg19.DEFAULT_PARAMS
    problem = input_file_problem(model_vgg19.find_params(path))
    if problem:
        return {'usable': False, 'text': 'no VGG-19 weights at %s (%s): run ./download.sh, or start the studio '
                                         'with --vgg-params PATH' % (path, problem)}
    if model_vgg19.are_real_weights(path):
        return {'usable': True, 'text': 'VGG-19, the published weights (%s)' % path}
    return {'usable': True, 'text': 'random test weights, NOT VGG-19 (%s): the pictures show the pipeline, not a '
                                    'style' % path}


def compare_results(result, reference, content, style, vgg_params):
    """compare.py's report for two results of one content and style: SSIM and PSNR of `result`
    against `reference`, and each one's style and content distances."""
    import types

    import model_vgg19
    from neural_style.scores import compare
    args = types.SimpleNamespace(result=result, reference=reference, content_image=content, style_image=style,
                                 vgg_params=vgg_params or model_vgg19.DEFAULT_PARAMS)
    return compare(args)
