"""compare.py: SSIM and PSNR against a reference, and the style and content distances through
VGG-19 (the seeded random weights here), on tiny copies of the sample images."""
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

import compare
from conftest import CONTENT, PROJECT, STYLE

REFERENCE = os.path.join(PROJECT, 'input', 'reference', '4343_starry_night.jpg')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """48x32 copies of the reference and the content image, a 96x64 one of the reference, a 40x30 style."""
    folder = tmp_path_factory.mktemp('compare')
    paths = {}
    for name, source, size in (('reference', REFERENCE, (48, 32)), ('content', CONTENT, (48, 32)),
                               ('big_reference', REFERENCE, (96, 64)), ('style', STYLE, (40, 30)),
                               ('portrait', CONTENT, (32, 48))):
        paths[name] = str(folder / (name + '.png'))
        with Image.open(source) as img:
            img.convert('RGB').resize(size, Image.Resampling.LANCZOS).save(paths[name])
    return paths


def run_compare(*args):
    return subprocess.run([sys.executable, os.path.join(PROJECT, 'compare.py')] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=120)


def test_the_original_result_is_shipped():
    with Image.open(REFERENCE) as img:
        assert img.size == (600, 400)
    assert compare.DEFAULT_REFERENCE == REFERENCE


def test_an_image_against_itself(images, vgg_params):
    same = images['reference']
    proc = run_compare(same, '--reference', same, '--content-image', same, '--style-image', same,
                       '--vgg-params', vgg_params, '--json', '--min-ssim', 1)
    assert proc.returncode == 0, proc.stderr
    full = json.loads(proc.stdout)
    assert full['inputs'] == {'result': same, 'reference': same, 'content_image': same, 'style_image': same,
                              'vgg_params': vgg_params} and full['outputs'] == {} and full['losses'] == []
    assert full['settings']['min_ssim'] == 1 and full['machine']['mxnet'] == '1.9.1'
    report = dict(full['extra']['scores'], weights=full['extra']['weights'])
    assert report['ssim'] == 1.0 and report['psnr'] is None  # identical: PSNR is infinite
    assert report['size'] == [32, 48]
    assert report['weights'] == 'random test weights (not VGG-19)'
    for image in ('result', 'reference'):
        assert report['content_distance'][image] == 0
        assert report['style_distance'][image] == {'relu1_1': 0, 'relu2_1': 0, 'relu3_1': 0, 'relu4_1': 0,
                                                   'relu5_1': 0, 'total': 0}


def test_a_different_image_scores_lower_and_fails_min_ssim(images, vgg_params):
    # a larger copy of the reference is resized to it: close, but not identical
    common = ['--content-image', images['content'], '--style-image', images['style'], '--vgg-params', vgg_params]
    proc = run_compare(images['big_reference'], '--reference', images['reference'], '--json', *common)
    assert proc.returncode == 0, proc.stderr
    near = json.loads(proc.stdout)['extra']['scores']
    assert 0.8 < near['ssim'] < 1 and near['psnr'] > 20

    proc = run_compare(images['content'], '--reference', images['reference'], '--min-ssim', 0.9, *common)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith('compare.py: SSIM 0.')
    assert 'below --min-ssim 0.9' in proc.stderr
    table = proc.stdout
    ssim = float(table.split('SSIM')[1].split()[0])
    assert ssim < near['ssim']
    assert 'random test weights (not VGG-19)' in table
    # the result here is the content image itself: its content distance (first column) is 0, the reference's is not
    content_row = [line for line in table.splitlines() if line.strip().startswith('relu4_2')][0].split()
    assert float(content_row[-2]) == 0 and float(content_row[-1]) > 0
    total_row = [line for line in table.splitlines() if line.strip().startswith('total')][0].split()
    assert float(total_row[1]) > 0 and float(total_row[2]) > 0


@pytest.mark.parametrize('case,needles', [
    ('missing-result', ['compare.py: error: RESULT', 'no such file']),
    ('missing-reference', ['compare.py: error: --reference', 'no such file']),
    ('other-aspect', ['compare.py: error: RESULT', 'is 32x48 but the reference is 48x32', 'not the same picture']),
    ('other-content', ['compare.py: error: --content-image', 'not the same picture']),
    ('no-weights', ['compare.py: error: --vgg-params', 'not found', './download.sh']),
])
def test_bad_inputs_get_one_line(images, vgg_params, tmp_path, capsys, case, needles):
    args = {'result': images['reference'], '--reference': images['reference'], '--content-image': images['content'],
            '--style-image': images['style'], '--vgg-params': vgg_params}
    key, value = {'missing-result': ('result', tmp_path / 'nothing.jpg'),
                  'missing-reference': ('--reference', tmp_path / 'nothing.jpg'),
                  'other-aspect': ('result', images['portrait']),
                  'other-content': ('--content-image', images['portrait']),
                  'no-weights': ('--vgg-params', tmp_path / 'vgg19.params')}[case]
    args[key] = str(value)
    argv = [args.pop('result')] + [str(x) for pair in args.items() for x in pair]
    assert compare.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == '' and len(err.strip().splitlines()) == 1
    for needle in needles:
        assert needle in err
