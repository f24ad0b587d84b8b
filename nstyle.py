"""Neural style transfer (Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic
Style", 2015) with MXNet's symbolic API: a port of MXNet's example/neural-style
to Python 3.11, mxnet 1.9.1 and current scikit-image, faithful to the original.

    python nstyle.py --content-image input/IMG_4343.jpg --style-image input/starry_night.jpg

The image is optimised directly: VGG-19 features of the content image (relu4_2)
and Gram matrices of the style image's features (relu1_1 ... relu5_1) are the
targets; each epoch takes one Nesterov step on the image along the gradient of
the weighted losses plus a Laplacian smoothness term (or an Adam step, or an
L-BFGS iteration: --optimizer). The parts live in the package neural_style/;
this file is the command line and the run, as the original's was.
"""
import importlib
import logging
import os
import sys

import find_mxnet  # makes `import mxnet` work (or says how to install it) and sets the thread count
import mxnet as mx

from neural_style.batch import run_jobs, without_jobs_flag
from neural_style.cluster import add_cluster_flags
from neural_style.device import context_for, pick_context  # noqa: F401  (pick_context: the tools' name for it)
from neural_style.flags import NstyleError, OneLineErrorParser, run_cli  # noqa: F401  (NstyleError: the tools' name)
from neural_style.images import (PostprocessImage, PreprocessContentImage, PreprocessStyleImage,  # noqa: F401
                                 SaveImage, pixels_to_network, read_rgb_image, resized_network_image)
from neural_style.initial import initial_image, read_init_image
from neural_style.interrupts import ctrl_c_between_epochs
from neural_style.loss_setup import build_loss, load_network, stage_inputs
from neural_style.losses import get_loss, get_tv_grad_executor, style_gram_symbol  # noqa: F401  (the original's names)
from neural_style.optimizers import DEFAULT_LR, optimize
from neural_style.outputs import prepare_output_dir
from neural_style.ray_batch import run_jobs_on_ray
from neural_style.reporter import EpochReporter, RunOutput
from neural_style.style_flags import add_style_flags, available_models, model_name  # noqa: F401  (the tools' names)


def get_args(arglist=None, parser_class=OneLineErrorParser):
    parser = parser_class(description='neural style: paint the content image in the style image\'s manner '
                                            '(Gatys et al. 2015), with MXNet')
    add_style_flags(parser)
    add_cluster_flags(parser, 'the rows of --jobs')
    args = parser.parse_args(arglist)  # None: sys.argv
    if args.lr is None:
        args.lr = DEFAULT_LR.get(args.optimizer)  # None with lbfgs, which has no learning rate
    return args


def train_nstyle(args, callback=None, cache=None):
    """Train a neural style network.
    Args are from argparse and control input, output, hyper-parameters.
    callback allows for display of training progress: it is called every epoch with
    {'eps', 'epoch'}, plus 'filename' and 'img' on epochs that saved a checkpoint ('img' is the
    optimised image, (1, 3, h, w) as the network sees it: with --original-colors, only the files
    written get the content's colours).
    cache: a dict kept between calls (batch mode) so that the weights are loaded once, and the
    executors are reused too when it holds an 'executors' OrderedDict.
    Raises NstyleError for problems the user can fix; KeyboardInterrupt after saving final.jpg.
    """
    model_module = importlib.import_module('model_' + args.model)
    dev = context_for(args.gpu, args.dtype)
    # (long edge, epochs) of each stage: one stage unless --multires
    stages = [(edge, args.max_num_epochs if epochs is None else epochs) for edge, epochs in args.multires or
              [(args.max_long_edge, args.max_num_epochs)]]

    # input: every stage's content and style images first, so that a bad image or size fails before any work
    long_edge_flag = '--multires' if args.multires else '--max-long-edge'
    inputs = [stage_inputs(args, model_module, edge, long_edge_flag) for edge, _ in stages]
    init_pixels = read_init_image(args)
    net = load_network(args, model_module, dev, cache)
    if dev.device_type == 'cpu':
        logging.info('running on the CPU with %s threads (from %s)', find_mxnet.THREADS, find_mxnet.THREADS_SOURCE)
    prepare_output_dir(args.output_dir, args.overwrite)

    final_fn = os.path.join(args.output_dir, 'final.jpg')
    img = colors_from = None
    epochs_done = 0
    with ctrl_c_between_epochs() as interrupted:
        try:
            for stage, ((edge, epochs), stage_input) in enumerate(zip(stages, inputs)):
                content_np = stage_input.content
                if len(stages) > 1:
                    logging.info('stage %d of %d: long edge %d (%dx%d), up to %d epochs', stage + 1, len(stages),
                                 edge, content_np.shape[3], content_np.shape[2], epochs)
                colors_from = PostprocessImage(content_np) if args.original_colors else None  # the result's size
                loss = build_loss(args, net, stage_input)
                if img is None:  # the first stage starts from --init, the others from the stage before
                    img = initial_image(args, content_np, init_pixels, dev)
                    logging.info('start training arguments %s', args)
                else:
                    img = mx.nd.array(resized_network_image(img.asnumpy(), content_np.shape[2:]), ctx=dev)
                reporter = EpochReporter(args, RunOutput(final_fn, colors_from, callback, interrupted), epochs_done,
                                         epochs)
                epochs_done += optimize(args, loss, img, reporter)
        except KeyboardInterrupt:
            if img is not None:  # a second Ctrl-C only sets the flag again: the save completes
                SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)
            raise
        SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)


def main(arglist=None):
    argv = sys.argv[1:] if arglist is None else [str(arg) for arg in arglist]
    args = get_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.ray is not None:
        return run_cli(lambda: run_jobs_on_ray(args, without_jobs_flag(argv), get_args, train_nstyle))
    if args.jobs is not None:
        return run_cli(lambda: run_jobs(args.jobs, without_jobs_flag(argv), get_args, train_nstyle))
    return run_cli(lambda: train_nstyle(args))


if __name__ == '__main__':
    sys.exit(main())
