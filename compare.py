"""How close is a result to the original's? SSIM and PSNR against a reference image, and,
through VGG-19's features, each image's style distance to the style image and content
distance to the content image: the two terms the training minimises.

    python compare.py output/final.jpg
    python compare.py output/final.jpg --json --min-ssim 0.5
    python compare.py out/clip_frames --temporal clip.mp4      # a stylised video's flicker

--temporal INPUT judges a stylised video instead (RESULT: its video file or frames folder; INPUT the
video or folder it was made from): the temporal error, the mean over consecutive frame pairs of the
masked mean squared difference between result frame t and result frame t-1 warped by INPUT's optical
flow (8-bit values squared; stylize_video.py --json reports the same).

The reference defaults to the original's published result for the sample inputs
(input/reference/4343_starry_night.jpg, from dmlc/web-data, Apache-2.0). Every image is
resized to the reference's size first; the style image is stretched to it, as training does.
"""
import json
import os
import sys

from neural_style.cli.flag_types import checked
from neural_style.cli.tool import OneLineErrorParser, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.join(HERE, 'input', 'reference', '4343_starry_night.jpg')


def get_args(arglist=None):
    parser = OneLineErrorParser(
        description='compare a neural-style result with a reference: SSIM, PSNR, and the style and content '
                    'distances (VGG-19 features) of both to the style and content images')
    parser.add_argument('result', metavar='RESULT', help='the image to judge, e.g. output/final.jpg')
    parser.add_argument('--reference', default=DEFAULT_REFERENCE,
                        help='the image to compare with (default: the original\'s result for the sample inputs)')
    parser.add_argument('--content-image', default=os.path.join(HERE, 'input', 'IMG_4343.jpg'),
                        help='the content image of the run (default: the sample one)')
    parser.add_argument('--style-image', default=os.path.join(HERE, 'input', 'starry_night.jpg'),
                        help='the style image of the run (default: the sample one)')
    parser.add_argument('--vgg-params', default='model/vgg19.params',
                        help='the VGG-19 weights, as for nstyle.py')
    parser.add_argument('--json', action='store_true', help='print one JSON object instead of a table')
    parser.add_argument('--temporal', metavar='INPUT', default=None,
                        help='judge a stylised video: RESULT is its video or frames folder, INPUT the video or '
                             'folder of frames it was made from; prints the temporal error (flicker)')
    parser.add_argument('--min-ssim', type=checked(float, lambda v: -1 <= v <= 1, 'in [-1, 1]'),
                        help='exit with status 1 when the SSIM is below this')
    return parser.parse_args(arglist)


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
    from neural_style.scores import compare, temporal_report  # MXNet loads here, not for --help
    if args.temporal is not None:
        report = temporal_report(args)
        print(json.dumps(report, indent=2) if args.json else
              'temporal error  %.4f  (%s against the flow of %s: %d frames, %dx%d; 8-bit values squared)'
              % (report['temporal_error'], report['result'], report['input'], report['frames'], report['size'][1],
                 report['size'][0]))
        return 0
    report = compare(args)
    print(json.dumps(report, indent=2) if args.json else table(report))
    if args.min_ssim is not None and report['ssim'] < args.min_ssim:
        print('compare.py: SSIM %.4f is below --min-ssim %g' % (report['ssim'], args.min_ssim), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
