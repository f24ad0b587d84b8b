"""Stylise a video without flicker (Ruder, Dosovitskiy & Brox, "Artistic style transfer for
videos", 2016): each frame is optimised as nstyle.py optimises an image, but every frame after the
first starts from the previous result warped by the optical flow, and a temporal loss keeps it
close to that warped result wherever the flow is reliable (the forward-backward check).

    python stylize_video.py clip.mp4 --style-image input/starry_night.jpg --output out/clip.mp4
    python stylize_video.py frames/ --style-image S --output out/frames --temporal-weight 0   # per frame
    python stylize_video.py clip.mp4 --method end_to_end --model-dir model/end_to_end --output out/c.mp4

INPUT is a video file or a folder of frame images; OUT a video file (its frames also go into
OUT_frames/) or a folder. Finished frames are written at once; a rerun resumes after the last one;
Ctrl-C stops after the current frame and still writes the video of the frames done.
"""
import logging
import sys

from neural_style.cli.flag_types import NON_NEGATIVE, checked, frame_range, strength, style_spec
from neural_style.cli.gatys_flags import MRF_FLAGS, add_style_flags, finish_style_args
from neural_style.cli.report import Phases, hold_stdout, make_report
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.cluster import ray_cluster as cluster
from neural_style.video.settings import VideoSettings
from neural_style.cli.flags_used import given_flags, refuse_unused

# nstyle.py's flags that have no meaning for a video: the frames are the content, OUT the output,
# and a frame's result is written when it is finished (no checkpoints, no stages, no batches)
ONE_PASS = ['multistyle', 'arbitrary', 'wct', 'adain']  # stylize.py's networks (neural_style/onepass/methods.py)
NOT_FOR_VIDEO = ('--content-image', '--output_dir', '--save-epochs', '--remove-noise', '--multires', '--jobs')
# --temporal-weight's default: see docs/video.md (benchmarks/video_bench.py measures it)
DEFAULT_TEMPORAL_WEIGHT = 100.0
VIDEO_STOP_EPS = 0.0
# the style flags the generators use (--method end_to_end); the others are the optimisation's
GENERATOR_FLAGS = ('max_long_edge', 'gpu', 'dtype', 'original_colors', 'overwrite')
ONE_PASS_FLAGS = {'style', 'strength', 'alpha', 'levels', 'weights_dir', 'temporal_blend'}
MIN_FPS, MAX_FPS = 0.01, 1000.0  # what a container's time base holds; beyond, ffmpeg fails or writes nonsense


def frame_rate(text):
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a number of frames per second, got %r' % text) from None
    if not MIN_FPS <= value <= MAX_FPS:
        raise argparse.ArgumentTypeError('%s frames per second: give a rate between %g and %g' % (text, MIN_FPS,
                                                                                               MAX_FPS))
    return value

def get_args(arglist=None):
    parser = OneLineErrorParser(description='stylise a video without flicker: nstyle.py per frame, each frame '
                                            'started from the previous result warped by the optical flow and '
                                            'held near it by a temporal loss (Ruder et al. 2016), or end_to_end\'s '
                                            'generators per frame')
    parser.add_argument('input', metavar='INPUT', help='a video file, or a folder of frame images (in name order)')
    parser.add_argument('--output', required=True,
                        help='OUT.mp4 (or .mov, .mkv, ...): the video, its frames in OUT_frames/; or a folder '
                             '(no extension): the frames only')
    parser.add_argument('--method', choices=['optimize', 'end_to_end'] + ONE_PASS, default='optimize',
                        help='optimize: the optimisation of nstyle.py per frame (default); end_to_end: the '
                             'trained generators of --model-dir, one forward pass per frame; multistyle, '
                             'arbitrary, wct, adain: stylize.py\'s networks, one forward pass per frame '
                             '(--style N for multistyle, --style-image for the others)')
    parser.add_argument('--style', type=style_spec, default=None, metavar='N|N:W,...',
                        help='with --method multistyle: one of the 26 styles, or a blend such as 3:0.5,12:0.5')
    parser.add_argument('--strength', type=strength, default=1.0,
                        help='with --method multistyle or arbitrary: how much of the style (stylize.py\'s)')
    parser.add_argument('--alpha', type=checked(float, lambda v: 0 <= v <= 1, 'in [0, 1]'), default=1.0,
                        help='with --method wct or adain: how much of the style')
    parser.add_argument('--levels', type=checked(int, lambda v: 1 <= v <= 5, 'in 1 ... 5'), default=5,
                        help='with --method wct: the VGG-19 levels, relu N_1 ... relu1_1')
    parser.add_argument('--weights-dir', default=None,
                        help='with a one-pass --method: the converted weights (default: model/styles, model/wct, '
                             'model/adain)')
    parser.add_argument('--temporal-blend', type=checked(float, lambda v: 0 <= v < 1, 'in [0, 1)'), default=0.5,
                        help='with a one-pass --method: each frame\'s result blended with the previous result warped '
                             'onto it by the optical flow, where its consistency mask trusts the flow; this is the '
                             'previous result\'s share (default 0.5; 0: each frame on its own, flickering)')
    parser.add_argument('--model-dir', default=None,
                        help='with --method end_to_end: the folder of the trained generators')
    parser.add_argument('--temporal-weight', type=NON_NEGATIVE, default=DEFAULT_TEMPORAL_WEIGHT,
                        help='the weight of the temporal loss, per pixel: 0.5 * w * sum(mask * (x - warped)^2); '
                             'with 0 every frame is stylised on its own from --init (the flickering baseline) '
                             '(default %g)' % DEFAULT_TEMPORAL_WEIGHT)
    parser.add_argument('--frames', type=frame_range, default=None,
                        help='A:B: only frames A to B-1, counted from 0 (such as 0:50; 10: to the end)')
    parser.add_argument('--fps', type=frame_rate, default=25.0,
                        help='the frame rate of a folder of frames (a video keeps its own)')
    parser.add_argument('--no-audio', action='store_true', help='leave out the input video\'s audio track')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report at the end (the one shape of every tool; under "extra": frames, '
                             'size, fps, the temporal error; docs/running.md)')
    parser.add_argument('--verbose', action='store_true', help='log every epoch of every frame')
    before = {action.dest for action in parser._actions}
    add_style_flags(parser, leave_out=NOT_FOR_VIDEO)
    style_flags = {action.dest for action in parser._actions} - before
    cluster.add_cluster_flags(parser, 'the frames (with --method end_to_end; a job each)')
    # Every frame gets its whole --max-num-epochs: with nstyle.py's --stop-eps .005 a frame started from
    # the warped result before stops after its first epoch (NAG's first step from rest is tiny; measured
    # in docs/video.md), and what entered the picture is never stylised.
    parser.set_defaults(stop_eps=VIDEO_STOP_EPS)
    given = given_flags(parser, arglist)
    args = finish_style_args(parser, parser.parse_args(arglist))
    if args.method == 'end_to_end':
        refuse_unused(parser, given, style_flags - set(GENERATOR_FLAGS) | {'temporal_weight'} | ONE_PASS_FLAGS,
                      'by --method end_to_end (the generators hold their style; nothing is optimised)')
    elif args.method in ONE_PASS:
        refuse_unused(parser, given, style_flags - set(GENERATOR_FLAGS) - {'style_image', 'style_blend_weights'}
                      | {'temporal_weight', 'model_dir'},
                      'by --method %s (a forward pass of stylize.py\'s network; nothing is optimised)' % args.method)
    else:
        refuse_unused(parser, given, {'model_dir'} | ONE_PASS_FLAGS,
                      'by --method optimize (they are for the one-pass methods and --method end_to_end)')
        if args.style_loss != 'mrf':
            refuse_unused(parser, given, MRF_FLAGS, 'without --style-loss mrf')
    if args.method == 'end_to_end' and args.model_dir is None:
        parser.error('--method end_to_end needs --model-dir DIR (the trained generators)')
    if args.method in ONE_PASS and args.ray is not None:
        parser.error('--ray runs --method end_to_end only; the one-pass networks run here, a frame at a time')
    if args.style is not None and args.method != 'multistyle':
        parser.error('--style picks one of the 26 styles of --method multistyle; leave it out, or add --method '
                     'multistyle')
    if args.ray is not None and args.method != 'end_to_end':
        parser.error('--ray needs --method end_to_end: by optimisation each frame starts from the one before, '
                     'so the frames cannot run side by side')
    return VideoSettings.from_values(vars(args))



def video_report(args, report, phases):
    """--json's Report: video/run.py's summary of the run under "extra" (the per-frame epochs' losses
    are not collected: "losses" is [])."""
    inputs = {'input': args.input}
    if args.method == 'end_to_end':
        inputs['model_dir'] = args.model_dir
    elif args.method != 'multistyle':
        inputs['style_images'] = args.style_image.split(',')
    if args.method == 'optimize':
        inputs['vgg_params'] = args.vgg_params
    outputs = {'frames_folder': report['frames_dir']}
    if report['output'] != report['frames_dir']:
        outputs['video'] = report['output']
    extra = {key: report[key] for key in ('frames', 'stylized_now', 'size', 'fps', 'seconds_per_frame',
                                          'temporal_error')}
    return make_report('stylize_video.py', inputs, outputs, args, phases, extra=extra,
                       gpu=args.gpu if args.method in ('optimize', 'end_to_end') else None)


def main(arglist=None):
    args = get_args(None if arglist is None else [str(arg) for arg in arglist])
    logging.basicConfig(level=logging.INFO if args.verbose or args.print_epochs else logging.WARNING)

    def run():
        phases = Phases()
        if args.json:
            hold_stdout()
        from neural_style.video.run import stylize_video  # MXNet loads here, not for --help
        phases.done('startup')
        report = stylize_video(args)
        phases.done('frames')
        if args.json:
            return video_report(args, report, phases)
        print('%s: %d frames%s' % (report['output'], report['frames'],
                                   '' if report['seconds_per_frame'] is None
                                   else ', %.2f s/frame' % report['seconds_per_frame']), file=sys.stderr)
    return run_cli(run, 'stylize_video.py')


if __name__ == '__main__':
    sys.exit(main())
