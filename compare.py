"""How close is a result to the original's? SSIM and PSNR against a reference image, and,
through VGG-19's features, each image's style distance to the style image and content
distance to the content image: the two terms the training minimises.

    python compare.py output/final.jpg
    python compare.py output/final.jpg --json --min-ssim 0.5
    nstyle.py --output_dir - ... | python compare.py -          # RESULT - : the image piped into stdin
    python compare.py out/clip_frames --temporal clip.mp4      # a stylised video's flicker

--temporal INPUT judges a stylised video instead (RESULT: its video file or frames folder; INPUT the
video or folder it was made from): the temporal error, the mean over consecutive frame pairs of the
masked mean squared difference between result frame t and result frame t-1 warped by INPUT's optical
flow (8-bit values squared; stylize_video.py --json reports the same). A result of stylize_video.py
is judged only against the clip its run.json records (another clip is refused); a video from
elsewhere must have INPUT's aspect ratio and frame count.

The reference defaults to the original's published result for the sample inputs
(input/reference/4343_starry_night.jpg, from dmlc/web-data, Apache-2.0). Every image is
resized to the reference's size first; the style image is stretched to it, as training does.
"""
import dataclasses
import os
import sys
from typing import Optional

from neural_style.cli.flag_types import checked
from neural_style.cli.report import Phases, hold_stdout, make_report
from neural_style.cli.tool import OneLineErrorParser, run_cli
from neural_style.flag_values import FromFlags

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.join(HERE, 'input', 'reference', '4343_starry_night.jpg')


@dataclasses.dataclass(frozen=True)
class CompareSettings(FromFlags):
    result: str
    reference: str
    content_image: str
    style_image: str
    vgg_params: str
    json: bool = False
    temporal: Optional[str] = None
    min_ssim: Optional[float] = None


def get_args(arglist=None):
    parser = OneLineErrorParser(
        description='compare a neural-style result with a reference: SSIM, PSNR, and the style and content '
                    'distances (VGG-19 features) of both to the style and content images')
    parser.add_argument('result', metavar='RESULT', help='the image to judge, e.g. output/final.jpg; - reads it from '
                                                         'stdin (a PNG or JPEG piped in)')
    parser.add_argument('--reference', default=DEFAULT_REFERENCE,
                        help='the image to compare with (default: the original\'s result for the sample inputs)')
    parser.add_argument('--content-image', default=os.path.join(HERE, 'input', 'IMG_4343.jpg'),
                        help='the content image of the run (default: the sample one)')
    parser.add_argument('--style-image', default=os.path.join(HERE, 'input', 'starry_night.jpg'),
                        help='the style image of the run (default: the sample one)')
    parser.add_argument('--vgg-params', default='model/vgg19.params',
                        help='the VGG-19 weights, as for nstyle.py')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report instead of a table (the one shape of every tool, the scores '
                             'under "extra"; docs/running.md)')
    parser.add_argument('--temporal', metavar='INPUT', default=None,
                        help='judge a stylised video: RESULT is its video or frames folder, INPUT the video or '
                             'folder of frames it was made from; prints the temporal error (flicker)')
    parser.add_argument('--min-ssim', type=checked(float, lambda v: -1 <= v <= 1, 'in [-1, 1]'),
                        help='exit with status 1 when the SSIM is below this')
    args = parser.parse_args(arglist)
    if args.temporal is not None and args.result == '-':
        parser.error('--temporal judges a video: give RESULT as its video file or frames folder, not -')
    return CompareSettings.from_values(vars(args))


def table(report):
    lines = ['result     %s' % report['result'],
             'reference  %s (%dx%d; the result, content and style images are resized to it)'
             % (report['reference'], report['size'][1], report['size'][0]),
             'weights    %s' % report['weights'],
             'SSIM       %.4f' % report['ssim'],
             'PSNR       %s' % ('identical' if report['psnr'] is None else '%.2f dB' % report['psnr']),
             '',
             '%-54s %10s %10s' % ('distance of', 'result', 'reference'),
             'to the style image %s:' % report['style_image'],
             '  Gram matrices, each divided by C*h*w*C as in training']
    for layer in report['style_distance']['result']:
        lines.append('%-54s %10.4g %10.4g' % ('    ' + layer, report['style_distance']['result'][layer],
                                              report['style_distance']['reference'][layer]))
    lines += ['to the content image %s:' % report['content_image'],
              '%-54s %10.4g %10.4g' % ('  relu4_2, sum of squares (before the content weight)',
                                       report['content_distance']['result'], report['content_distance']['reference'])]
    if report['weights'] != 'VGG-19':
        lines.append('note: random test weights (not VGG-19): the distances show the pipeline, not how close '
                     'the styles are')
    return '\n'.join(lines)


def main(arglist=None):
    # the flags inside run_cli too: `compare.py -h | head -1` ends quietly
    return run_cli(lambda: report_and_judge(get_args(arglist)), 'compare.py')


def report_and_judge(args):
    """The table (or --json's Report); exit status 1 when the SSIM is below --min-ssim."""
    phases = Phases()
    if args.json:
        hold_stdout()
    from neural_style.scores import compare, temporal_report  # MXNet loads here, not for --help
    if args.temporal is not None:
        report = temporal_report(args)
        phases.done('temporal_error')
        if args.json:
            return make_report('compare.py', {'result': args.result, 'temporal': args.temporal}, {}, args, phases,
                               extra={'scores': {key: report[key] for key in ('frames', 'size', 'temporal_error')}})
        print('temporal error  %.4f  (%s against the flow of %s: %d frames, %dx%d; 8-bit values squared)'
              % (report['temporal_error'], report['result'], report['input'], report['frames'], report['size'][1],
                 report['size'][0]))
        return 0
    report = compare(args)
    phases.done('scores')
    status = 0
    if args.min_ssim is not None and report['ssim'] < args.min_ssim:
        print('compare.py: SSIM %.4f is below --min-ssim %g' % (report['ssim'], args.min_ssim), file=sys.stderr)
        status = 1
    if not args.json:
        print(table(report))
        return status
    inputs = {role: getattr(args, role) for role in ('result', 'reference', 'content_image', 'style_image',
                                                     'vgg_params')}
    scores = {key: report[key] for key in ('size', 'ssim', 'psnr', 'style_distance', 'content_distance')}
    return make_report('compare.py', inputs, {}, args, phases, extra={'scores': scores, 'weights': report['weights']},
                       exit_status=status)


if __name__ == '__main__':
    sys.exit(main())
