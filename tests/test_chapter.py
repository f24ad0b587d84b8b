"""reproduce_chapter.py --quick on tiny copies of the sample images and the seeded random weights:
every figure a montage of the expected panels, each run's image where its panel says."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import view_checkpoints
from conftest import PROJECT, STYLE, assert_one_line_error

LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']


def run_chapter(*args):
    return subprocess.run([sys.executable, os.path.join(PROJECT, 'reproduce_chapter.py')] + [str(a) for a in args],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def chapter(tmp_path_factory, vgg_params, small):
    """One quick run of every chapter figure at 32 pixels, 4 epochs, a checkpoint every 2 (figure 13-5 with two
    pairs); the MRF figure needs larger images (mrf_figure)."""
    folder = tmp_path_factory.mktemp('chapter')
    inputs = small
    out = folder / 'out'
    proc = run_chapter('--quick', '--gpu', '-1', '--max-long-edge', 32, '--max-num-epochs', 4, '--checkpoint-every', 2,
                       '--figures', '13-1,13-2,13-4,13-5', '--content-image', inputs['content'], '--style-image', inputs['style'],
                       '--pair', inputs['content'], inputs['style'], '--pair', inputs['style'], inputs['content'],
                       '--vgg-params', vgg_params, '--output-dir', out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def cells(sheet, labels, panel_sizes, columns):
    """The image in each cell of a montage, cut out where view_checkpoints.layout puts it."""
    panels = [(label, Image.new('RGB', size)) for label, size in zip(labels, panel_sizes)]
    cell_w, _, origins, (width, height) = view_checkpoints.layout(panels, columns, title='a title')
    assert sheet.height == height and sheet.width >= width
    return [np.asarray(sheet)[y:y + h, x + (cell_w - w) // 2:x + (cell_w - w) // 2 + w]
            for (x, y), (w, h) in zip(origins, panel_sizes)]


def pixels(path):
    return np.asarray(Image.open(path).convert('RGB'))


@pytest.mark.parametrize('figure,inputs,results,columns', [
    ('13-1', ['content'], [(layer, '13-1/%s/final.jpg' % layer) for layer in LAYERS], 6),
    ('13-2', ['style'], [(layer, '13-2/%s/final.jpg' % layer) for layer in LAYERS]
     + [('all five', '13-2/all_five/final.jpg')], 7),
    ('13-4', ['content', 'style'], [('e_2', '13-4/transfer/e_2.jpg'), ('e_4', '13-4/transfer/e_4.jpg'),
                                    ('final', '13-4/transfer/final.jpg')], 8),
])
def test_figure_montage_holds_each_runs_image_in_order(chapter, figure, inputs, results, columns):
    out, _ = chapter
    paths = [os.path.join(out, 'runs', name) for _, name in results]
    size = Image.open(paths[0]).size
    labels = inputs + [label for label, _ in results]
    got = cells(Image.open(out / ('figure_%s.png' % figure)), labels, [size] * len(labels), columns)
    for cell, path in zip(got[len(inputs):], paths):
        np.testing.assert_array_equal(cell, pixels(path))  # PNG keeps the run's pixels exactly
    for cell in got[:len(inputs)]:  # the inputs, resized to the results' size: not blank
        assert cell.std() > 5


def test_figure_13_5_is_one_row_per_pair_and_textures_keep_the_style_aspect(chapter):
    out, proc = chapter
    finals = [os.path.join(out, 'runs', '13-5', name, 'final.jpg') for name in ('pair_1_content_style', 'pair_2_style_content')]
    sizes = [Image.open(path).size for path in finals]
    assert sizes == [(32, 21), (32, 25)]  # conftest's 90x60 and 64x50 inputs at a long edge of 32
    sheet = Image.open(out / 'figure_13-5.png')
    got = cells(sheet, ['content', 'style', 'style weight 2'] * 2, [sizes[0]] * 3 + [sizes[1]] * 3, 3)
    np.testing.assert_array_equal(got[2], pixels(finals[0]))
    np.testing.assert_array_equal(got[5], pixels(finals[1]))
    assert Image.open(os.path.join(out, 'runs', '13-2', 'relu1_1', 'final.jpg')).size == (32, 25)
    assert Image.open(os.path.join(out, 'runs', '13-1', 'relu1_1', 'final.jpg')).size == (32, 21)


def test_output_says_random_weights_and_lists_the_figures(chapter):
    out, proc = chapter
    assert proc.stdout.splitlines()[0] == ("weights: random test weights (not VGG-19): the figures show the "
                                           "pipeline, not the chapter's pictures")
    for figure, panels in (('13-1', 6), ('13-2', 7), ('13-4', 5), ('13-5', 6)):
        assert 'wrote %s: %d panels' % (out / ('figure_%s.png' % figure), panels) in proc.stdout
    assert '[14/14] figure 13-5, pair 2, style + content: done in' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_mrf_figure_is_gram_beside_mrf_on_the_same_pair(tmp_path, vgg_params, small):
    """The MRF figure at 48 pixels (relu4_1 must hold a 3x3 patch): content, style, then the Gram
    and the MRF run of the same pair and seed, each panel that run's final image; the two differ."""
    inputs = small
    out = tmp_path / 'out'
    proc = run_chapter('--quick', '--gpu', '-1', '--max-long-edge', 48, '--max-num-epochs', 3, '--figures', 'mrf',
                       '--content-image', inputs['content'], '--style-image', inputs['style'],
                       '--vgg-params', vgg_params, '--output-dir', out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'wrote %s: 4 panels' % (out / 'figure_mrf.png') in proc.stdout
    finals = [out / 'runs' / 'mrf' / name / 'final.jpg' for name in ('Gram', 'MRF')]
    size = Image.open(finals[0]).size
    assert size == (48, 32)
    got = cells(Image.open(out / 'figure_mrf.png'), ['content', 'style', 'Gram', 'MRF'], [size] * 4, 4)
    for cell, path in zip(got[2:], finals):
        np.testing.assert_array_equal(cell, pixels(path))
    assert not np.array_equal(pixels(finals[0]), pixels(finals[1]))
    assert got[0].std() > 5 and got[1].std() > 5


def test_unknown_figure_and_missing_pair_image_get_one_line(tmp_path, vgg_params, run_tool):
    """In this process (reproduce_chapter.main)."""
    import reproduce_chapter
    proc = run_tool(reproduce_chapter.main, ['--figures', '13-3'], 'reproduce_chapter.py')
    assert proc.returncode == 2
    assert proc.stderr.strip() == ('reproduce_chapter.py: error: argument --figures: unknown figure 13-3; the figures '
                                   'are 13-1,13-2,13-4,13-5,mrf (see reproduce_chapter.py -h)')
    proc = run_tool(reproduce_chapter.main, ['--quick', '--figures', '13-5', '--pair', tmp_path / 'nope.jpg', STYLE,
                                             '--vgg-params', vgg_params, '--output-dir', tmp_path / 'out'],
                    'reproduce_chapter.py')
    assert_one_line_error(proc, '--pair %s: no such file' % (tmp_path / 'nope.jpg'), prog='reproduce_chapter.py')
    assert not (tmp_path / 'out').exists()


def test_real_weights_are_told_by_their_git_blob_id(tmp_path, vgg_params, monkeypatch):
    import model_vgg19
    assert not model_vgg19.are_real_weights(vgg_params)
    (tmp_path / 'vgg19.params').write_bytes(b'hello\n')
    monkeypatch.setattr(model_vgg19, 'REAL_PARAMS_BLOB_ID', 'ce013625030ba8dba906f756967f9e9ca394464a')  # of hello
    assert model_vgg19.are_real_weights(str(tmp_path / 'vgg19.params'))
