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
"""
import logging
import sys

from neural_style.cli.gatys_flags import parse_gatys_flags
from neural_style.cli.tool import run_cli


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
    settings, batch = parse_gatys_flags(argv)  # --help and bad flags answer before MXNet loads
    logging.basicConfig(level=logging.INFO)
    if batch.ray is not None:
        from neural_style.cluster.ray_batch import run_jobs_on_ray
        return run_jobs_on_ray(batch, argv)
    if batch.jobs is not None:
        from neural_style.cluster.batch import run_jobs
        return run_jobs(batch.jobs, argv)
    return train_nstyle(settings)


if __name__ == '__main__':
    sys.exit(main())
