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
import argparse
import importlib
import logging
import os
import sys

from neural_style.cli.signals import quiet_ctrl_c_while_importing

with quiet_ctrl_c_while_importing():  # MXNet and scikit-image take seconds to load
    from neural_style import mxnet_runtime
    from neural_style.mxnet_runtime import mx

    from neural_style.cluster.batch import run_jobs, without_jobs_flag
    from neural_style.cluster.ray_cluster import add_cluster_flags
    from neural_style.mxnet_runtime import available_memory, context_for, pick_context  # noqa: F401  (pick_context: tools')
    from neural_style.errors import NstyleError  # noqa: F401  (NstyleError: the tools')
    from neural_style.cli.tool import OneLineErrorParser, run_cli
    from neural_style.files.images import (PostprocessImage, PreprocessContentImage, PreprocessStyleImage, SaveImage, pixels_to_network, read_rgb_image, resized_network_image)
    from neural_style.gatys.initial import initial_image, read_init_image
    from neural_style.cli.signals import ctrl_c_between_epochs
    from neural_style.gatys.loss import build_loss, load_network, stage_inputs
    from neural_style.gatys.losses import get_loss, get_tv_grad_executor, style_gram_symbol  # noqa: F401  (the original's)
    from neural_style.gatys.memory import check_sizes_fit
    from neural_style.gatys.optimise import optimize
    from neural_style.files.output_folder import output_run
    from neural_style.cli.presets import PRESETS, describe_preset, preset_defaults
    from neural_style.cluster.ray_batch import run_jobs_on_ray
    from neural_style.gatys.reporter import EpochReporter, RunOutput
    from neural_style.cli.gatys_flags import add_style_flags, available_models, finish_style_args, model_name


def get_args(arglist=None, parser_class=OneLineErrorParser):
    parser = parser_class(description='neural style: paint the content image in the style image\'s manner '
                                            '(Gatys et al. 2015), with MXNet')
    add_style_flags(parser)
    add_cluster_flags(parser, 'the rows of --jobs')
    parser.add_argument('--preset', choices=sorted(PRESETS), default=None,
                        help='a named set of defaults: fast (--optimizer lbfgs --init content '
                             '--lbfgs-num-correction 20 --max-num-epochs 80) reaches the objective of the '
                             'original\'s default run several times sooner; any flag given explicitly wins')
    # a preset changes the defaults, so the flags are read twice: for --preset (and the long edge its
    # defaults depend on), then with its defaults in place
    known, _ = parser.parse_known_args(arglist)
    if known.preset:
        parser.set_defaults(**preset_defaults(known.preset, known.max_long_edge))
    return finish_style_args(parser, parser.parse_args(arglist))  # None: sys.argv


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
    check_sizes_fit(args, [edge for edge, _ in stages], long_edge_flag, available_memory(dev))
    inputs = [stage_inputs(args, model_module, edge, long_edge_flag) for edge, _ in stages]
    init_pixels = read_init_image(args)
    net = load_network(args, model_module, dev, cache)
    if dev.device_type == 'cpu':
        logging.info('running on the CPU with %s threads (from %s)', mxnet_runtime.THREADS, mxnet_runtime.THREADS_SOURCE)
    with output_run(args.output_dir, args.overwrite) as run_dir:
        run_args = argparse.Namespace(**dict(vars(args), output_dir=run_dir))  # --overwrite: a folder of its own
        optimize_stages(run_args, stages, inputs, (init_pixels, net, dev), callback)


def optimize_stages(args, stages, inputs, start, callback):
    """Every stage's optimisation, from the initial image (start: --init's pixels or None, the Network,
    the context), then final.jpg. A stop signal saves final.jpg once an epoch is done."""
    init_pixels, net, dev = start
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
                    if args.preset:
                        logging.info('--preset %s: %s (flags given explicitly win)', args.preset, describe_preset(args))
                else:
                    img = mx.nd.array(resized_network_image(img.asnumpy(), content_np.shape[2:]), ctx=dev)
                reporter = EpochReporter(args, RunOutput(final_fn, colors_from, callback, interrupted), epochs_done,
                                         epochs)
                epochs_done += optimize(args, loss, img, reporter)
        except KeyboardInterrupt as stop:
            # a second signal only marks the list again: the save completes. Before the first epoch
            # the image is the starting noise (or --init): no result to save.
            if img is not None and getattr(stop, 'epochs_done', epochs_done):
                SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)
            raise
        SaveImage(img.asnumpy(), final_fn, colors_from=colors_from)


def main(arglist=None):
    argv = sys.argv[1:] if arglist is None else [str(arg) for arg in arglist]
    return run_cli(lambda: run(argv))  # the flags too: `nstyle.py -h | head -1` ends quietly


def run(argv):
    args = get_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.ray is not None:
        return run_jobs_on_ray(args, without_jobs_flag(argv), get_args, train_nstyle)
    if args.jobs is not None:
        return run_jobs(args.jobs, without_jobs_flag(argv), get_args, train_nstyle)
    return train_nstyle(args)


if __name__ == '__main__':
    sys.exit(main())
