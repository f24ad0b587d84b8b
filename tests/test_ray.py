"""--ray: a local Ray of 2 CPUs, started once for the module. Batch mode's results against batch mode
without Ray (the same bytes), a bad row that fails alone, a worker killed in the middle of a job (its
job runs again and finishes), Ctrl-C, Ray missing; end_to_end's folder inference, stylize_video.py
--method end_to_end and stylize.py's folders (the one-pass networks, WCT, AdaIN) against the same
without Ray."""
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import nstyle
from conftest import CONTENT, PROJECT, STYLE

SMALL = ['--gpu', '-1', '--max-long-edge', '32', '--content-image', CONTENT, '--style-image', STYLE]
END_TO_END = os.path.join(PROJECT, 'end_to_end')
WORKER_PREFIX = 'neural_style-worker-%d-' % os.getpid()  # the workers of a batch this process drives


@pytest.fixture(scope='module')
def local_ray():
    ray = pytest.importorskip('ray')
    # PYTHONPATH: the workers import the jobs' functions (nstyle, boost_inference) whatever the working folder
    ray.init(address='local', num_cpus=2, include_dashboard=False, object_store_memory=200 * 2 ** 20,
             logging_level='WARNING', runtime_env={'env_vars': {'PYTHONPATH': os.pathsep.join([PROJECT, END_TO_END])}})
    yield ray
    ray.shutdown()


def write_jobs(path, rows):
    path.write_text('content,style,output,options\n' + ''.join(','.join(row) + '\n' for row in rows))
    return str(path)


def batch_without_ray(argv):
    """Batch mode in its own process, on one thread like each worker (--cpus-per-job 1)."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + argv, cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=600)


def folder_bytes(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


@pytest.fixture(scope='module')
def both_batches(local_ray, tmp_path_factory, vgg_params):
    """Three seeded rows (two sizes, so that a worker binds executors for each), a row whose content
    image is missing, run by batch mode without Ray and by --ray. (Two rows into one folder are refused
    before any work, by both: test_two_rows_into_one_folder_are_refused_before_ray_starts.)"""
    tmp = tmp_path_factory.mktemp('batches')
    rows = [(CONTENT, STYLE, '{out}/a', '--seed 1'),
            (str(tmp / 'missing.jpg'), STYLE, '{out}/b', '--seed 2'),
            (CONTENT, STYLE, '{out}/c', '--seed 3 --style-weight 2 --max-long-edge 48'),
            (CONTENT, STYLE, '{out}/d', '--seed 4 --init content')]
    flags = SMALL + ['--vgg-params', vgg_params, '--max-num-epochs', '6', '--save-epochs', '3', '--lr', '3']
    for name in ('serial', 'ray'):
        (tmp / name).mkdir()
        write_jobs(tmp / name / 'jobs.csv', [row[:2] + (row[2].format(out=tmp / name),) + row[3:] for row in rows])
    serial = batch_without_ray(flags + ['--jobs', str(tmp / 'serial' / 'jobs.csv')])
    handler, root = ListHandler(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        status = nstyle.main(flags + ['--jobs', str(tmp / 'ray' / 'jobs.csv'), '--ray'])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    return tmp, serial, status, handler.records


class ListHandler(logging.Handler):
    """Keeps (level name, message) of each record (caplog is for one test; this batch serves two)."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append((record.levelname, record.getMessage()))


def test_seeded_rows_give_the_bytes_of_batch_mode_without_ray(both_batches):
    tmp, serial, status, log = both_batches
    assert serial.returncode == 1, serial.stderr[-2000:]  # the missing image
    for job in ('a', 'c', 'd'):
        ray_files, serial_files = folder_bytes(tmp / 'ray' / job), folder_bytes(tmp / 'serial' / job)
        assert sorted(ray_files) == ['e_3.jpg', 'e_6.jpg', 'final.jpg'] == sorted(serial_files)
        assert ray_files == serial_files, job
    finals = [(tmp / 'ray' / job / 'final.jpg').read_bytes() for job in ('a', 'c', 'd')]
    assert len(set(finals)) == 3  # three different jobs, not one result three times
    # nothing half-written: only the results in the folders
    assert not [name for job in ('a', 'c', 'd') for name in os.listdir(tmp / 'ray' / job) if name.startswith('.')]


def test_a_missing_image_fails_alone(both_batches):
    tmp, serial, status, log = both_batches
    jobs = tmp / 'ray' / 'jobs.csv'
    assert status == 1
    errors = [message for level, message in log if level == 'ERROR']
    assert errors == ['job 2 of 4 (%s line 3) failed: --content-image %s: no such file (relative paths start from %s)'
                      % (jobs, tmp / 'missing.jpg', os.getcwd())]
    for error in errors:  # as batch mode says them
        assert error.replace(str(tmp / 'ray'), str(tmp / 'serial')).replace(os.getcwd(), PROJECT) in serial.stderr
    # b: failed before its folder was made; its row, with its error, is in jobs.failed.csv as batch mode writes it
    assert sorted(os.listdir(tmp / 'ray')) == ['a', 'c', 'd', 'jobs.csv', 'jobs.failed.csv']
    assert (tmp / 'ray' / 'jobs.failed.csv').read_text().replace(str(tmp / 'ray'), str(tmp / 'serial')) == \
        (tmp / 'serial' / 'jobs.failed.csv').read_text()
    summary = [message for _, message in log if message.startswith('jobs: ')]
    assert len(summary) == 1 and summary[0].startswith('jobs: 3 of 4 done in ')
    serial_summary = next(line for line in serial.stderr.splitlines() if 'jobs: 3 of 4 done in ' in line)
    # the same words after the duration: '; 1 failed: job 2 (line 3: --content-image ...); every failed row ...'
    tail = summary[0].split(';', 1)[1]
    assert tail.startswith(' 1 failed: job 2 (line 3: --content-image ') and 'jobs.failed.csv' in tail
    assert serial_summary.endswith(tail.replace(str(tmp / 'ray'), str(tmp / 'serial')).replace(os.getcwd(), PROJECT))
    assert any(message.startswith('Ray cluster: 1 node, 2 CPUs, 0 GPUs: 2 workers of 1 CPU') for _, message in log)


def kill_the_worker_of(ray, job_label, min_step, killed):
    """In a thread: find the worker running the job (its status, answered while it works), wait until
    the job is past min_step epochs, and SIGKILL the worker's process; killed gets (pid, step)."""
    deadline = time.time() + 300
    while time.time() < deadline and not killed:
        for name in [name for name in ray.util.list_named_actors() if name.startswith(WORKER_PREFIX)]:
            try:
                status = ray.get(ray.get_actor(name).status.options(concurrency_group='status').remote(), timeout=10)
            except Exception:  # a worker of an earlier batch, gone, or one still starting
                continue
            if status['job'] and status['job'].startswith(job_label) and status['step'] >= min_step:
                os.kill(status['pid'], signal.SIGKILL)
                killed.append((status['pid'], status['step']))
                return
        time.sleep(0.2)


def test_a_worker_killed_during_a_job_and_the_job_run_again(local_ray, tmp_path, vgg_params, caplog):
    flags = SMALL + ['--vgg-params', vgg_params, '--max-num-epochs', '40', '--save-epochs', '20', '--stop-eps', '0']
    rows = [(CONTENT, STYLE, str(tmp_path / 'ray' / 'long'), '--seed 5'),
            (CONTENT, STYLE, str(tmp_path / 'ray' / 'other'), '--seed 6 --max-num-epochs 5')]
    jobs = write_jobs(tmp_path / 'jobs.csv', rows)
    killed = []
    killer = threading.Thread(target=kill_the_worker_of, args=(local_ray, 'job 1 of 2', 5, killed), daemon=True)
    killer.start()
    with caplog.at_level('INFO'):
        status = nstyle.main(flags + ['--jobs', jobs, '--ray'])
    killer.join(timeout=10)
    assert killed, 'the job ended before its worker could be killed'
    pid, step = killed[0]
    assert 5 <= step < 40  # in the middle of the job
    assert status == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == 'WARNING' and 'died' in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith('job 1 of 2 (%s line 2): its worker (pid %d) died' % (jobs, pid))
    assert warnings[0].endswith('the job starts again on another worker, attempt 2 of 3')
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # run again from the start, it finished with the result of an uninterrupted run
    serial_jobs = write_jobs(tmp_path / 'serial.csv', [(CONTENT, STYLE, str(tmp_path / 'serial' / 'long'), '--seed 5')])
    serial = batch_without_ray(flags + ['--jobs', serial_jobs])
    assert serial.returncode == 0, serial.stderr[-2000:]
    assert folder_bytes(tmp_path / 'ray' / 'long') == folder_bytes(tmp_path / 'serial' / 'long')
    assert sorted(os.listdir(tmp_path / 'ray' / 'other')) == ['final.jpg']
    assert 'jobs: 2 of 2 done in ' in caplog.text


def test_without_ray_installed_ray_is_one_line_that_says_how_to_install_it(tmp_path, vgg_params):
    hide = tmp_path / 'hide'
    hide.mkdir()
    (hide / 'sitecustomize.py').write_text("import sys\nsys.modules['ray'] = None  # `import ray` fails\n")
    jobs = write_jobs(tmp_path / 'jobs.csv', [(CONTENT, STYLE, str(tmp_path / 'out'), '')])
    env = dict(os.environ, PYTHONPATH=str(hide))
    proc = subprocess.run([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + SMALL +
                          ['--vgg-params', vgg_params, '--jobs', jobs, '--ray'], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('nstyle.py: error: --ray needs Ray, which cannot be imported here (')
    assert lines[0].endswith('pip install ray==2.60.0 (the version requirements.txt pins)')
    assert sorted(os.listdir(tmp_path)) == ['hide', 'jobs.csv']


def test_ctrl_c_keeps_what_finished_and_cancels_the_rest(tmp_path, vgg_params):
    """The command as a user runs it (its own local Ray): Ctrl-C once the first job's result is written."""
    rows = [(CONTENT, STYLE, str(tmp_path / 'a'), '--max-num-epochs 1'),
            (CONTENT, STYLE, str(tmp_path / 'b'), ''),
            (CONTENT, STYLE, str(tmp_path / 'c'), '')]
    jobs = write_jobs(tmp_path / 'jobs.csv', rows)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.Popen([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + SMALL +
                            ['--vgg-params', vgg_params, '--max-num-epochs', '100000', '--stop-eps', '0',
                             '--jobs', jobs, '--ray'], cwd=PROJECT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not (tmp_path / 'a' / 'final.jpg').exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == 'nstyle.py: interrupted'
    line = [line for line in err.replace('\r', '\n').splitlines() if 'interrupted: ' in line and 'kept' in line]
    assert len(line) == 1, err[-3000:]
    counts = re.search(r'interrupted: the results of the 1 finished jobs are kept; (\d) running and (\d) not started '
                       r'were cancelled$', line[0])
    assert counts and int(counts.group(1)) + int(counts.group(2)) == 2, line[0]
    assert sorted(os.listdir(tmp_path)) == ['a', 'jobs.csv']  # b and c: cancelled before any result came back
    assert os.listdir(tmp_path / 'a') == ['final.jpg']


def run_without_ray(script, flags):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, script] + [str(a) for a in flags], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='module')
def generators(tmp_path_factory):
    """The seeded random generators of the end_to_end tests (tests/generator_params.py), never the published."""
    from generator_params import random_generator_arrays, save_generators
    folder = tmp_path_factory.mktemp('generators')
    save_generators(folder, random_generator_arrays(1))
    return folder


def test_end_to_end_folder_inference_through_ray_equals_the_serial_one(local_ray, generators, tmp_path):
    """A folder of images through the generators, seeded crops: the same files with and without Ray."""
    import numpy as np
    from skimage import io, transform
    sys.path.insert(0, END_TO_END)
    import boost_inference
    (tmp_path / 'photos').mkdir()
    photo = io.imread(CONTENT)
    for index, (h, w) in enumerate([(60, 80), (90, 70), (64, 64)]):
        part = photo[index * 40:index * 40 + 300, index * 60:index * 60 + 300]
        io.imsave(tmp_path / 'photos' / ('p%d.png' % index), (transform.resize(part, (h, w)) * 255).astype(np.uint8))
    flags = ['--model-dir', generators, '--content-image', tmp_path / 'photos', '--size', '48x64', '--seed', '3',
             '--gpu', '-1']
    serial = run_without_ray(os.path.join(END_TO_END, 'boost_inference.py'), flags + ['--output-dir', tmp_path / 's'])
    assert serial.returncode == 0, serial.stderr[-2000:]
    assert boost_inference.main([str(a) for a in flags + ['--output-dir', tmp_path / 'ray', '--ray']]) == 0
    assert sorted(os.listdir(tmp_path / 'ray')) == ['p0', 'p1', 'p2'] == sorted(os.listdir(tmp_path / 's'))
    for name in ('p0', 'p1', 'p2'):
        files = folder_bytes(tmp_path / 'ray' / name)
        assert sorted(files) == ['content.jpg', 'out_0.jpg', 'out_1.jpg', 'out_2.jpg', 'out_3.jpg']
        assert files == folder_bytes(tmp_path / 's' / name), name
    # three different crops and results, not one three times
    assert len({(tmp_path / 'ray' / name / 'out_3.jpg').read_bytes() for name in ('p0', 'p1', 'p2')}) == 3


def test_video_end_to_end_frames_through_ray_equal_the_serial_ones(local_ray, generators, tmp_path):
    from clips import panning_frames, save_frames
    import stylize_video
    clip = save_frames(tmp_path / 'clip', panning_frames(5, step=(1, 2)))
    flags = [clip, '--method', 'end_to_end', '--model-dir', generators, '--gpu', '-1', '--max-long-edge', '48']
    serial = run_without_ray(os.path.join(PROJECT, 'stylize_video.py'), flags + ['--output', tmp_path / 's'])
    assert serial.returncode == 0, serial.stderr[-2000:]
    assert stylize_video.main([str(a) for a in flags + ['--output', tmp_path / 'ray', '--ray']]) == 0
    frames = sorted(name for name in os.listdir(tmp_path / 'ray') if name.endswith('.png'))
    assert len(frames) == 5 and frames == sorted(name for name in os.listdir(tmp_path / 's') if name.endswith('.png'))
    for name in frames:
        assert (tmp_path / 'ray' / name).read_bytes() == (tmp_path / 's' / name).read_bytes(), name
    # the settings the run records are the same: a run with --ray resumes one without, and the other way round
    assert (tmp_path / 'ray' / 'run.json').read_text() == (tmp_path / 's' / 'run.json').read_text().replace(
        str(tmp_path / 's'), str(tmp_path / 'ray'))


def test_two_rows_into_one_folder_are_refused_before_ray_starts(tmp_path, vgg_params):
    """As batch mode refuses them: one line naming both rows, before any work (no Ray, no folder)."""
    jobs = tmp_path / 'jobs.csv'
    write_jobs(jobs, [(CONTENT, STYLE, str(tmp_path / 'same'), '--seed 1'),
                      (CONTENT, STYLE, str(tmp_path / 'same'), '--seed 2')])
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, os.path.join(PROJECT, 'nstyle.py')] + SMALL +
                          ['--vgg-params', vgg_params, '--jobs', str(jobs), '--ray'], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        'nstyle.py: error: --jobs %s: lines 2 and 3 both write into %s; give each job its own output folder'
        % (jobs, tmp_path / 'same'))
    assert 'Traceback' not in proc.stderr and not (tmp_path / 'same').exists()


# ---- stylize.py --ray: the one-pass networks, seeded random weights (tests/onepass_weights.py) ---------------

@pytest.fixture(scope='module')
def onepass_folder(tmp_path_factory):
    """Seeded random weights of the one-pass networks, NOT the pretrained ones; and three photos of
    different sizes (a worker binds each size), parts of the sample photo."""
    import numpy as np
    from PIL import Image
    from onepass_weights import save_random_onepass_weights
    tmp = tmp_path_factory.mktemp('onepass')
    photo = Image.open(CONTENT).convert('RGB')
    (tmp / 'photos').mkdir()
    for index, (w, h) in enumerate([(64, 48), (40, 56), (48, 48)]):
        part = photo.crop((index * 60, index * 40, index * 60 + 300, index * 40 + 300)).resize((w, h), Image.LANCZOS)
        part.save(tmp / 'photos' / ('p%d.png' % index))
    assert len({np.asarray(Image.open(tmp / 'photos' / n)).shape for n in os.listdir(tmp / 'photos')}) == 3
    return tmp, save_random_onepass_weights(tmp / 'weights')


@pytest.fixture(scope='module')
def universal_weights(tmp_path_factory):
    """{method: folder}: WCT's (relu2_1, relu1_1) and AdaIN's seeded random encoders and decoders, NOT
    the authors' models, where ./download.sh --wct / --adain leaves them; 'paintings': two small
    pictures to take the style of (the sample painting and a part of the sample photo)."""
    from PIL import Image
    from onepass_weights import save_random_universal_weights
    tmp = tmp_path_factory.mktemp('universal')
    folders = {method: save_random_universal_weights(tmp / method, method, levels=levels)
               for method, levels in (('wct', 2), ('adain', 5))}
    Image.open(STYLE).convert('RGB').resize((64, 40), Image.LANCZOS).save(tmp / 'painting.png')
    Image.open(CONTENT).convert('RGB').crop((600, 200, 900, 500)).resize((36, 36), Image.LANCZOS).save(tmp / 'part.png')
    return dict(folders, paintings=(str(tmp / 'painting.png'), str(tmp / 'part.png')))


STYLE_FLAGS = {  # a folder's flags; PAINTING(S): universal_weights' paintings
    'multistyle': ['--style', '3:0.5,12:0.5', '--original-colors'],
    'arbitrary': ['--style-image', STYLE, '--strength', '0.7'],
    'wct': ['--method', 'wct', '--style-image', 'PAINTINGS', '--style-weights', '0.7,0.3', '--alpha', '0.8',
            '--levels', '2'],
    'adain': ['--method', 'adain', '--style-image', 'PAINTING', '--alpha', '0.6'],
}


def folder_flags(method, onepass_folder, universal_weights):
    """STYLE_FLAGS[method] with the paintings' paths, and --weights-dir the method's random weights."""
    paintings = universal_weights['paintings']
    named = {'PAINTINGS': ','.join(paintings), 'PAINTING': paintings[0]}
    return [named.get(flag, flag) for flag in STYLE_FLAGS[method]] + [
        '--weights-dir', universal_weights.get(method, onepass_folder[1])]


@pytest.mark.parametrize('method', sorted(STYLE_FLAGS))
def test_stylize_folder_through_ray_equals_the_serial_one(local_ray, onepass_folder, universal_weights, tmp_path,
                                                          method):
    """A folder through the 26-style network (a blend, the photos' colours), the arbitrary network (a
    painting), WCT (two levels, two pictures blended, alpha) and AdaIN: the same files with and without
    Ray; a damaged photo in the folder fails alone."""
    import shutil
    import stylize
    tmp, _ = onepass_folder
    flags = folder_flags(method, onepass_folder, universal_weights)
    serial = run_without_ray(os.path.join(PROJECT, 'stylize.py'), [tmp / 'photos', '-o', tmp_path / 's'] + flags)
    assert serial.returncode == 0, serial.stderr[-2000:]
    photos = tmp_path / 'photos'
    shutil.copytree(tmp / 'photos', photos)
    (photos / 'p1_damaged.jpg').write_bytes(b'not a JPEG')
    status = stylize.main([str(a) for a in [photos, '-o', tmp_path / 'ray'] + flags + ['--ray']])
    assert status == 1  # the damaged photo failed, the others are written
    written = sorted(os.listdir(tmp_path / 's'))
    assert len(written) == 3 and sorted(os.listdir(tmp_path / 'ray')) == written
    for name in written:
        assert (tmp_path / 'ray' / name).read_bytes() == (tmp_path / 's' / name).read_bytes(), name
    assert len({(tmp_path / 'ray' / name).read_bytes() for name in written}) == 3


@pytest.mark.parametrize('method', ['multistyle', 'wct', 'adain'])
def test_a_stylize_worker_uses_the_weights_it_is_sent(local_ray, onepass_folder, universal_weights, method):
    """The worker's arrays come from the driver: with --weights-dir naming a folder the worker does not
    have, it gives what a run here gives with the files."""
    import dataclasses
    import numpy as np
    from PIL import Image
    from neural_style.files.images import read_rgb_image
    from neural_style.onepass import methods
    from neural_style.onepass.on_ray import StylizeOnWorker, put_stylization
    tmp, _ = onepass_folder
    paintings = tuple(read_rgb_image(path, 'style').astype(np.float32) for path in universal_weights['paintings'])
    settings = {'multistyle': methods.MethodSettings(style={2: 1.0, 20: 3.0}),
                'wct': methods.MethodSettings(style_pixels=paintings, style_weights=(0.4, 0.6), alpha=0.7, levels=2),
                'adain': methods.MethodSettings(style_pixels=paintings[:1], alpha=0.5)}[method]
    settings = dataclasses.replace(settings, weights_dir=universal_weights.get(method, onepass_folder[1]))
    content = np.asarray(Image.open(tmp / 'photos' / 'p0.png'), np.float32)
    expected = methods.stylize_photo(content, method, settings)
    sent = put_stylization(local_ray, method, settings, methods.check_weights(method, settings), False, False)
    elsewhere = sent._replace(settings=dataclasses.replace(settings, weights_dir=str(tmp / 'not_on_this_worker')))
    result, seconds = StylizeOnWorker(elsewhere)({}, content, None)
    assert seconds >= 0 and np.array_equal(result, expected)


@pytest.mark.parametrize('flags, needle', [
    (['-', '--ray'], '--json and - are for a run in this process'),
    (['PHOTOS', '--ray', '--json'], '--json and - are for a run in this process'),
    (['PHOTOS', '--ray', '--gpus-per-job', '1'], '--gpus-per-job: the one-pass networks run on the CPU'),
])
def test_stylize_ray_refuses_what_runs_in_this_process(onepass_folder, run_tool, tmp_path, flags, needle):
    from conftest import assert_one_line_error
    import stylize
    tmp, _ = onepass_folder
    args = [str(tmp / 'photos') if a == 'PHOTOS' else a for a in flags] + ['-o', str(tmp_path / 'out')]
    assert_one_line_error(run_tool(stylize.main, args, 'stylize.py'), needle, code=2, prog='stylize.py')
    assert not (tmp_path / 'out').exists()
