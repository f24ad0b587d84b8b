"""Neural style transfer (Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic
Style", 2015) with MXNet's symbolic API: a port of MXNet's example/neural-style
to Python 3.11, mxnet 1.9.1 and current scikit-image, faithful to the original.

    python nstyle.py --content-image input/IMG_4343.jpg --style-image input/starry_night.jpg

The image is optimised directly: VGG-19 features of the content image (relu4_2)
and Gram matrices of the style image's features (relu1_1 ... relu5_1) are the
targets; each epoch takes one Nesterov step on the image along the gradient of
the weighted losses plus a Laplacian smoothness term (or an Adam step, or an
L-BFGS iteration: --optimizer). This file is the command line; the run is
neural_style/gatys/run.py and one epoch neural_style/gatys/optimise.py.

    cat photo.jpg | python nstyle.py --content-image - --output_dir - > result.png   (stdin, stdout: PNG)
    python nstyle.py --max-num-epochs 100 --json > report.json   (one JSON report; the log on stderr)
"""
import time

START = time.perf_counter()  # the report's start-up phase counts from here

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from neural_style.cli.gatys_flags import STDIO, parse_gatys_flags  # noqa: E402
from neural_style.cli.report import Phases, hold_stdout, make_report  # noqa: E402
from neural_style.cli.tool import run_cli  # noqa: E402


def get_args(arglist=None):
    """The original's: the run's settings from these flags (a frozen GatysSettings; None: sys.argv)."""
    return parse_gatys_flags(arglist)[0]


def train_nstyle(settings, callback=None, **options):
    """The original's name for one run (it optimises an image; it trains no network):
    neural_style.gatys.run.run_gatys."""
    from neural_style.gatys.run import run_gatys
    return run_gatys(settings, callback, **options)


def main(arglist=None):
    argv = sys.argv[1:] if arglist is None else [str(arg) for arg in arglist]
    return run_cli(lambda: run(argv))  # the flags too: `nstyle.py -h | head -1` ends quietly


def run(argv):
    phases = Phases(START)
    settings, batch = parse_gatys_flags(argv)  # --help and bad flags answer before MXNet loads
    if settings.json:
        hold_stdout()  # the original's printouts and the log go to stderr; stdout: the report alone
    logging.basicConfig(level=logging.INFO)
    if batch.ray is not None:
        from neural_style.cluster.ray_batch import run_jobs_on_ray
        return run_jobs_on_ray(batch, argv)
    if batch.jobs is not None:
        from neural_style.cluster.batch import run_jobs
        return run_jobs(batch.jobs, argv)
    if settings.output_dir == STDIO:
        return result_to_stdout(settings)
    if not settings.json:
        return train_nstyle(settings)
    from neural_style.gatys.run import run_gatys  # MXNet loads here
    phases.done('startup')
    record = {}  # EpochWatch's: the losses of every epoch, the checkpoints, the phases' seconds
    run_gatys(settings, record=record)
    return report(settings, phases, record)


def result_to_stdout(settings):
    """--output_dir -: the final image on stdout as PNG (lossless), no checkpoints: the Python API's
    run (neural_style/api.py: the same stylise as run_gatys, without files). Until then whatever
    would go to stdout goes to stderr, so that stdout holds the PNG alone."""
    from neural_style.cli.report import release_stdout
    hold_stdout()
    from neural_style import api
    from neural_style.files.images import write_png_to_stdout
    from neural_style.gatys.run import read_pictures
    pictures = read_pictures(settings)  # as a run into a folder reads them: the flags' names in its errors
    styles = [pixels for _, pixels in pictures.styles]
    image = api.gatys(pictures.content[1], styles if len(styles) > 1 else styles[0], settings).image
    release_stdout()
    write_png_to_stdout(image)


def report(settings, phases, record):
    """--json's Report of a finished run: record is what gatys/run.py's EpochWatch recorded."""
    from neural_style.files.images import style_image_paths
    import model_vgg19
    phases.done('pictures_and_weights', record['weights_loaded_at'])
    phases.done('stages')  # the epoch loop's phases, from the weights loaded to the end:
    stages_s = phases.seconds.pop('stages_s')
    phases.add('targets', record['targets_s'])
    phases.add('optimisation', record['optimisation_s'])
    phases.add('writing_and_rest', stages_s - record['targets_s'] - record['optimisation_s'])
    inputs = {'content_image': settings.content_image, 'style_images': style_image_paths(settings.style_image),
              'vgg_params': settings.vgg_params}
    if settings.init not in ('noise', 'content'):
        inputs['init'] = settings.init
    # --overwrite: the run wrote into a folder of its own, whose results then moved into --output_dir
    checkpoints = [os.path.join(settings.output_dir, os.path.basename(path)) for path in record['checkpoints']]
    outputs = {'final_image': os.path.join(settings.output_dir, 'final.jpg'), 'checkpoints_folder': settings.output_dir,
               'checkpoints': checkpoints}
    real = settings.model == 'vgg19' and model_vgg19.are_real_weights(settings.vgg_params)
    weights = 'VGG-19 (%s)' % settings.vgg_params if real else \
        'not the published VGG-19 (%s: the tests\' random weights, or another model\'s)' % settings.vgg_params
    return make_report('nstyle.py', inputs, outputs, settings, phases, record['losses'],
                       extra={'weights': weights, 'epochs': len(record['losses'])}, gpu=settings.gpu)


if __name__ == '__main__':
    sys.exit(main())
