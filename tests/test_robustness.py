"""Nothing lost, whatever happens (issue 16), through the real command line: stop signals at a
known epoch, two runs racing for one folder, a failing run after --overwrite, phone photos with
an EXIF orientation, huge images, sizes beyond this machine's memory, numbers beyond float32,
weights in other float types, spreadsheet CSV files, closed pipes, and messages that name the
real cause. Tiny runs (--max-long-edge 32) on the seeded random weights of conftest."""
import csv
import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image
from skimage import transform

import conftest
from conftest import PROJECT, assert_no_results, assert_one_line_error, describe, run_nstyle
from weights import save_params

TIMEOUT = 120


def base_args(out_dir, vgg_params, small, epochs=1):
    """conftest's, seeded (a test's own --seed after it wins)."""
    return conftest.base_args(out_dir, vgg_params, small, epochs) + ['--seed', 0]


def decoded(path):
    """The pixels of a whole JPEG file (not half of one)."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9', path
    with Image.open(path) as img:
        assert img.format == 'JPEG'
        return np.asarray(img.convert('RGB'))


class Running:
    """`python SCRIPT ARGS` in the background, its stderr read line by line (wait_for)."""

    def __init__(self, args, script='nstyle.py', stdout=None, env=None):
        self.proc = subprocess.Popen([sys.executable, os.path.join(PROJECT, script)] + [str(a) for a in args],
                                     cwd=PROJECT, env=dict(os.environ, PYTHONUNBUFFERED='1', **(env or {})),
                                     stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines, self.stderr = queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text):
        """Block until a line of stderr contains text (queue.Empty fails the test instead of hanging)."""
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            assert line is not None, 'ended before %r:\n%s' % (text, ''.join(self.stderr)[-3000:])
            self.stderr.append(line)
            if text in line:
                return line

    def finish(self):
        """(exit status, the whole stderr)."""
        try:
            status = self.proc.wait(timeout=TIMEOUT)
            while True:
                line = self.lines.get(timeout=TIMEOUT)
                if line is None:
                    break
                self.stderr.append(line)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return status, ''.join(self.stderr)


# ---------------------------------------------------------------- stop signals

@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGHUP], ids=['SIGTERM', 'SIGHUP'])
def test_a_stop_signal_finishes_the_epoch_saves_final_and_exits_128_plus_it(tmp_path, small, vgg_params, signum):
    out = tmp_path / 'out'
    run = Running(base_args(out, vgg_params, small, epochs=100000) + ['--stop-eps', 0, '--save-epochs', 1000])
    run.wait_for('epoch 2, relative change')
    run.proc.send_signal(signum)
    status, stderr = run.finish()
    assert status == 128 + signum, stderr[-3000:]
    assert 'Traceback' not in stderr and 'error:' not in stderr
    match = re.search(r'interrupted after (\d+) epochs \(%s\): saving the current image as (\S+)'
                      % signal.Signals(signum).name, stderr)
    assert match and int(match.group(1)) >= 3, stderr[-3000:]  # epochs 0, 1 and 2 were done before it
    assert match.group(2) == str(out / 'final.jpg')
    assert stderr.strip().splitlines()[-1] == 'nstyle.py: interrupted by %s' % signal.Signals(signum).name
    assert decoded(out / 'final.jpg').shape == (21, 32, 3)  # 60x90 at a long edge of 32
    # no lock file, no temporary left; beside final.jpg the note that it is not a finished result
    assert sorted(os.listdir(out)) == ['final.jpg', 'interrupted.txt']
    assert (out / 'interrupted.txt').read_text().startswith('final.jpg holds the image after %s of at most 100000 '
                                                            'epochs: this run was interrupted.' % match.group(1))


def blocked_stdout():
    """A pipe whose buffer is already full: the child blocks at its first print, which nstyle.py
    reaches while binding the loss executor, inside the epoch loop's signal handling but before
    the first epoch. Returns (read end, write end)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b'x' * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    return read_end, write_end


def wait_until_writing(pid):
    """Until the process's main thread waits in a write to a pipe (its wchan)."""
    for _ in range(TIMEOUT * 20):
        with open('/proc/%d/wchan' % pid) as f:
            if 'pipe_write' in f.read():
                return
        time.sleep(0.05)
    raise AssertionError('process %d never blocked on its stdout' % pid)


def test_ctrl_c_before_the_first_epoch_saves_no_starting_noise(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    read_end, write_end = blocked_stdout()
    try:
        run = Running(base_args(out, vgg_params, small, epochs=5), stdout=write_end)
        os.close(write_end)
        wait_until_writing(run.proc.pid)
        run.proc.send_signal(signal.SIGINT)
        with os.fdopen(read_end, 'rb') as drain:  # let it go on: it stops at the first epoch's check
            threading.Thread(target=drain.read, daemon=True).start()
            status, stderr = run.finish()
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    assert status == 130, stderr[-3000:]
    assert 'interrupted before the first epoch (SIGINT): nothing to save' in stderr
    assert 'Traceback' not in stderr and 'epoch 0, relative change' not in stderr
    assert sorted(os.listdir(out)) == []  # no final.jpg of noise that would block the next run


def fake_slow_mxnet(folder):
    """An `mxnet` package that announces itself on stderr and then takes a minute to import."""
    package = folder / 'mxnet'
    package.mkdir()
    (package / '__init__.py').write_text('import sys, time\nprint("importing mxnet", file=sys.stderr, flush=True)\n'
                                         'time.sleep(60)\n')
    return str(folder)


@pytest.mark.parametrize('script, args', [
    ('nstyle.py', ['--gpu', '-1', '--output_dir', '{tmp}/out']),
    ('compare.py', [os.path.join(PROJECT, 'input', 'IMG_4343.jpg'), '--reference',
                    os.path.join(PROJECT, 'input', 'starry_night.jpg')]),
    ('reproduce_chapter.py', ['--quick', '--figures', '13-1', '--output-dir', '{tmp}/out']),
], ids=['nstyle.py', 'compare.py', 'reproduce_chapter.py'])
def test_ctrl_c_while_mxnet_imports_is_one_quiet_line(tmp_path, script, args):
    """A run's flags (--help no longer loads MXNet): the tool loads MXNet, which takes a minute."""
    args = [arg.replace('{tmp}', str(tmp_path)) for arg in args]
    run = Running(args, script=script, env={'PYTHONPATH': fake_slow_mxnet(tmp_path)})
    run.wait_for('importing mxnet')
    run.proc.send_signal(signal.SIGINT)
    status, stderr = run.finish()
    assert status == 130
    assert stderr.splitlines() == ['importing mxnet', '%s: interrupted while loading MXNet' % script]


# ---------------------------------------------------------------- one run a folder

def test_a_second_run_into_a_busy_folder_is_refused_and_a_dead_runs_lock_is_taken_over(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    first = Running(base_args(out, vgg_params, small, epochs=100000) + ['--stop-eps', 0, '--save-epochs', 1000])
    try:
        first.wait_for('epoch 1, relative change')  # it holds the folder now
        second = run_nstyle(base_args(out, vgg_params, small), timeout=TIMEOUT)
        message = assert_one_line_error(second)
        assert ('--output_dir %s is in use by another run (PID %d on %s since ' % (out, first.proc.pid,
                                                                                   socket.gethostname())) in message
        assert 'wait for it to end or choose another --output_dir' in message
        first.proc.kill()  # kill -9: it cannot release its lock, and leaves the lock file behind
        first.finish()
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    assert os.listdir(out) == ['.nstyle.lock']
    third = run_nstyle(base_args(out, vgg_params, small), timeout=TIMEOUT)
    assert third.returncode == 0, describe(third)
    assert re.search(r'took over the lock of a run that ended without releasing it \(PID %d on ' % first.proc.pid,
                     third.stderr)
    assert decoded(out / 'final.jpg').shape == (21, 32, 3)
    assert sorted(os.listdir(out)) == ['final.jpg']


def test_two_runs_started_together_into_one_folder_one_wins(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    runs = [Running(base_args(out, vgg_params, small, epochs=3) + ['--seed', seed]) for seed in (1, 2)]
    results = [run.finish() for run in runs]
    statuses = sorted(status for status, _ in results)
    assert statuses == [0, 1], results
    loser = next(stderr for status, stderr in results if status == 1)
    assert re.search(r'nstyle.py: error: --output_dir \S+ (is in use by another run \((PID \d+|starting up\))|already holds results '
                     r'of an earlier run \(final.jpg\))', loser), loser[-2000:]
    assert sorted(os.listdir(out)) == ['final.jpg']


def test_batch_rows_into_one_folder_are_refused_before_any_work(tmp_path, small, vgg_params):
    jobs = tmp_path / 'jobs.csv'
    jobs.write_text('content,style,output\n%s,%s,%s\n%s,%s,%s\n%s,%s,%s/\n' % (
        small['content'], small['style'], tmp_path / 'a', small['content'], small['style'], tmp_path / 'b',
        small['content'], small['style'], tmp_path / 'a'))
    proc = run_nstyle(base_args(tmp_path / 'unused', vgg_params, small) + ['--jobs', jobs], timeout=TIMEOUT)
    message = assert_one_line_error(proc)
    assert 'lines 2 and 4 both write into %s/; give each job its own output folder' % (tmp_path / 'a') in message
    assert sorted(os.listdir(tmp_path)) == ['jobs.csv']


# ---------------------------------------------------------------- --overwrite

def earlier_run(out):
    out.mkdir()
    earlier = {'final.jpg': b'\xff\xd8 the final image of an earlier run \xff\xd9',
               'e_50.jpg': b'\xff\xd8 a checkpoint of an earlier run \xff\xd9'}
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    return earlier


def test_a_failing_run_after_overwrite_leaves_the_earlier_results_byte_identical(tmp_path, small, vgg_params):
    out = tmp_path / 'out'
    earlier = earlier_run(out)
    proc = run_nstyle(base_args(out, vgg_params, small, epochs=5) + ['--overwrite', '--lr', '1e30', '--save-epochs', 1],
                      timeout=TIMEOUT)
    message = assert_one_line_error(proc)
    new_dir = 'unfinished-run.%s' % re.search(r'unfinished-run\.(\d+)', message).group(1)
    assert 'NaN or infinite at epoch 1' in message
    assert 'last good checkpoint: %s' % (out / new_dir / 'e_1.jpg') in message
    for name, data in earlier.items():
        assert (out / name).read_bytes() == data
    assert sorted(os.listdir(out)) == sorted(list(earlier) + [new_dir])
    assert os.listdir(out / new_dir) == ['e_1.jpg']  # the failed run's last good checkpoint, apart

    # the same with success: the earlier results give way to the new ones only now
    proc = run_nstyle(base_args(out, vgg_params, small, epochs=2) + ['--overwrite', '--save-epochs', 1],
                      timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    assert sorted(os.listdir(out)) == ['e_1.jpg', 'e_2.jpg', 'final.jpg', new_dir]
    assert decoded(out / 'final.jpg').shape == (21, 32, 3)


def _folder_named_like_a_result(out):
    (out / 'e_3.jpg').mkdir()
    return 'e_3.jpg is a folder, not an earlier result'


def _read_only_result(out):
    os.chmod(out / 'final.jpg', 0o444)
    return 'final.jpg is read-only; --overwrite will not remove it: make it writable'


@pytest.mark.parametrize('make', [_folder_named_like_a_result, _read_only_result], ids=['folder', 'read-only'])
def test_an_entry_overwrite_cannot_remove_is_refused_before_anything_is_touched(tmp_path, small, vgg_params, make):
    out = tmp_path / 'out'
    earlier = earlier_run(out)
    needle = make(out)
    before = sorted(os.listdir(out))
    proc = run_nstyle(base_args(out, vgg_params, small) + ['--overwrite'], timeout=TIMEOUT)
    assert needle in assert_one_line_error(proc)
    assert sorted(os.listdir(out)) == before
    for name, data in earlier.items():
        assert (out / name).read_bytes() == data
    assert 'epoch 0' not in proc.stderr


# ---------------------------------------------------------------- images as people have them

def upright_test_image(h, w):
    """An image whose orientation shows: red top-left quarter, blue bottom edge, smooth elsewhere."""
    y, x = np.mgrid[0:h, 0:w]
    pixels = np.stack([60 + 120 * x // w, 60 + 120 * y // h, np.full((h, w), 90)], axis=2).astype(np.uint8)
    pixels[:h // 2, :w // 2] = (230, 20, 20)
    pixels[-h // 6:] = (20, 20, 230)
    return pixels


def save_with_orientation(path, upright, orientation):
    """A JPEG whose stored pixels a viewer must turn by EXIF orientation 6 (90 degrees clockwise) or
    8 (90 counter-clockwise) to show `upright`."""
    stored = np.rot90(upright, 1 if orientation == 6 else -1)  # the inverse of the viewer's turn
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=95, exif=exif)


@pytest.mark.parametrize('orientation', [6, 8])
def test_a_rotated_phone_photo_comes_out_upright(tmp_path, small, vgg_params, orientation):
    upright = upright_test_image(90, 60)  # tall as a viewer shows it, stored wide
    photo = tmp_path / 'phone.jpg'
    save_with_orientation(photo, upright, orientation)
    with Image.open(photo) as img:
        assert img.size == (90, 60)  # the file itself is wide
    out = tmp_path / 'out'
    args = base_args(out, vgg_params, small, epochs=0) + ['--content-image', photo, '--init', 'content',
                                                           '--remove-noise', 0]
    proc = run_nstyle(args, timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    result = decoded(out / 'final.jpg').astype(float)
    assert result.shape == (32, 21, 3)  # upright: tall
    expected = transform.resize(upright.astype(float), (32, 21), preserve_range=True)
    assert np.abs(result - expected).mean() < 6  # the starting image is the content: JPEG twice, resized
    turned = transform.resize(np.rot90(upright, 2).astype(float), (32, 21), preserve_range=True)
    assert np.abs(result - turned).mean() > 30  # upside down would be far off

    # compare.py reads through the same reader: the photo against its upright PNG is the same picture
    reference = tmp_path / 'upright.png'
    Image.fromarray(upright).save(reference)
    proc = subprocess.run([sys.executable, os.path.join(PROJECT, 'compare.py'), str(photo), '--reference',
                           str(reference), '--json', '--vgg-params', vgg_params, '--content-image', str(reference),
                           '--style-image', small['style']], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)['extra']['scores']['ssim'] > 0.9


def smooth_large_image(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([127 + 100 * np.sin(x / w * 6), 127 + 100 * np.cos(y / h * 5),
                     127 + 100 * np.sin((x + y) / (w + h) * 9)], axis=2).astype(np.uint8)


# The child's own peak resident memory: VmHWM of /proc/self/status, which starts afresh at exec.
# (resource.getrusage's ru_maxrss does not: Linux carries the parent's peak over into the child,
# and this test's parent has just held the large image.)
MEASURE = '''
import sys
sys.path.insert(0, sys.argv[1])
from neural_style.files import images
import numpy as np


def peak_bytes():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmHWM:'))


before = peak_bytes()
sample = images.PreprocessContentImage(sys.argv[2], 64)
after = peak_bytes()
np.save(sys.argv[3], sample)
print(after - before)
'''


@pytest.mark.parametrize('extension, bound_mb', [('jpg', 40), ('png', 140)])
def test_a_large_photo_becomes_a_small_input_within_a_memory_bound(tmp_path, extension, bound_mb):
    """A 6000x4000 photo (24 megapixels; 576 MB as the float64 image the old reader resized) to a
    64-pixel input. JPEG: decoded at 1/8 by its decoder, under 40 MB. PNG: decoded whole (72 MB of
    8-bit RGB, which no format-independent reader avoids), then reduced, under 140 MB. Measured
    in a child process: the growth of its peak resident memory over the call (the old reader's
    grew by 1.2 GB on both, in a minute: benchmarks/large_image.py)."""
    h, w = 4000, 6000
    pixels = smooth_large_image(h, w)
    path = str(tmp_path / ('large.' + extension))
    Image.fromarray(pixels).save(path, **({'quality': 95} if extension == 'jpg' else {'compress_level': 1}))
    sample_path = str(tmp_path / 'sample.npy')
    proc = subprocess.run([sys.executable, '-c', MEASURE, PROJECT, path, sample_path], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    grown = int(proc.stdout.strip())
    assert grown < bound_mb * 2**20, 'peak memory grew by %.0f MB' % (grown / 2**20)
    sample = np.load(sample_path)
    assert sample.shape == (1, 3, 42, 64)
    # the same as the whole image resized, independently: 8-bit pixels to floats, anti-aliased resize
    expected = transform.resize(pixels.astype(float) / 255, (42, 64)) * 256 - np.array([123.68, 116.779, 103.939])
    assert np.abs(sample[0].transpose(1, 2, 0) - expected).mean() < 2


def png_header_only(path, w, h):
    """A PNG file that declares w x h pixels (its pixel data is cut off): enough for a decoder's
    first look, which is where the size limit is checked."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(b'\0' * 100)) + chunk(b'IEND', b''))


def test_an_image_beyond_the_decoders_limit_is_named_with_its_size_and_the_fix(tmp_path, small, vgg_params):
    huge = tmp_path / 'huge.png'
    png_header_only(huge, 20000, 20000)
    limit = 2 * Image.MAX_IMAGE_PIXELS
    proc = run_nstyle(base_args(tmp_path / 'out', vgg_params, small) + ['--style-image', huge], timeout=TIMEOUT)
    message = assert_one_line_error(proc)
    assert '--style-image %s: the image is too large to decode (20000x20000, 400 megapixels' % huge in message
    assert "Pillow's limit against decompression bombs is %.0f megapixels" % (limit / 1e6) in message
    # the size it suggests is within the limit
    w, h = map(int, re.search(r'resize it first, to (\d+)x(\d+) or less', message).groups())
    assert w * h <= limit and w * h > 0.9 * limit
    assert not os.path.exists(tmp_path / 'out')


def mem_available():
    with open('/proc/meminfo') as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith('MemAvailable:'))


@pytest.mark.parametrize('flags, needle', [
    (['--max-long-edge', 100000], '--max-long-edge 100000: a 100000x66666 image needs about'),
    (['--max-long-edge', 2000, '--style-scale', 60], '--max-long-edge 2000 with --style-scale 60: a 2000x1333 image'),
    (['--multires', '300,100000'], '--multires (its long edge 100000): a 100000x66666 image'),
], ids=['max-long-edge', 'style-scale', 'multires'])
def test_a_size_beyond_this_machines_memory_is_refused_before_allocating(tmp_path, small, vgg_params, flags, needle):
    out = tmp_path / 'out'
    proc = run_nstyle(base_args(out, vgg_params, small) + flags, timeout=TIMEOUT)
    message = assert_one_line_error(proc)
    assert needle in message
    assert 'this machine has available; the largest long edge that fits is about' in message
    # refused before any image was decoded, any weight loaded or any folder made
    assert 'load the content image' not in proc.stderr and 'running on the CPU' not in proc.stderr
    assert not out.exists()
    # the largest edge it names fits the memory available, by the measured cost (README): 400 MiB,
    # 3400 bytes a content pixel, 1000 a style pixel (the style image at scale^2 the content's pixels)
    edge = int(re.search(r'the largest long edge that fits is about (\d+)', message).group(1))
    scale = flags[flags.index('--style-scale') + 1] if '--style-scale' in flags else 1
    per_pixel = 3400 + (1000 * scale ** 2 if scale != 1 else 0)
    pixels = edge * int(edge * 60 / 90)
    assert 400 * 2**20 + per_pixel * pixels <= 1.1 * mem_available()
    assert 400 * 2**20 + per_pixel * (1.2 * edge) ** 2 * 60 / 90 > 0.9 * mem_available()


def test_the_memory_estimate_against_hand_computed_bytes(tmp_path):
    """The estimate a run is refused by, for a 600x400 content image and 2 GiB available, with the
    measured costs written out: 400 MiB = 419,430,400 bytes, 3400 bytes a content pixel, 1000 a
    style pixel."""
    from types import SimpleNamespace
    from neural_style.errors import NstyleError
    from neural_style.gatys.memory import check_sizes_fit
    Image.new('RGB', (600, 400)).save(tmp_path / 'content.png')
    Image.new('RGB', (60, 40)).save(tmp_path / 'style.png')
    settings = SimpleNamespace(content_image=str(tmp_path / 'content.png'), style_image=str(tmp_path / 'style.png'),
                               style_scale=1, optimizer='nag', lbfgs_num_correction=10)
    # 600x400 = 240,000 pixels: 419,430,400 + 3400 * 240,000 = 1,235,430,400 bytes
    check_sizes_fit(settings, [600], '--max-long-edge', (1235430400, 'a test machine'))
    with pytest.raises(NstyleError) as refused:
        check_sizes_fit(settings, [600], '--max-long-edge', (1235430399, 'a test machine'))
    assert str(refused.value).startswith('--max-long-edge 600: a 600x400 image needs about 1.24 GB of memory '
                                         '(measured: 3.4 kB a pixel), more than the 1.24 GB a test machine has '
                                         'available; the largest long edge that fits is about ')
    # 2 GiB = 2,147,483,648 bytes; long edge 1000: 1000x666 = 666,000 pixels,
    # 419,430,400 + 3400 * 666,000 = 2,683,830,400 bytes. The largest edge that fits: 873
    # (873x582 = 508,086 pixels: 2,146,922,800 bytes; 874x582 = 508,668: 2,148,901,600, too many)
    with pytest.raises(NstyleError) as refused:
        check_sizes_fit(settings, [300, 1000], '--multires', (2 * 2**30, 'a test machine'))
    assert str(refused.value) == ('--multires (its long edge 1000): a 1000x666 image needs about 2.68 GB of memory '
                                  '(measured: 3.4 kB a pixel), more than the 2.15 GB a test machine has available; '
                                  'the largest long edge that fits is about 873')
    # --style-scale 2: the style image has 4 times the content's pixels, 3400 + 4 * 1000 = 7400 bytes a
    # pixel; at 600: 419,430,400 + 7400 * 240,000 = 2,195,430,400 bytes, more than 2 GiB. The largest
    # edge: where edge * (edge * 2/3) pixels fit, sqrt((2,147,483,648 - 419,430,400) / 7400 * 1.5) = 591.85
    # (rounded down; 592x394, truncated, would still fit: 2,145,465,600 bytes)
    settings.style_scale = 2
    with pytest.raises(NstyleError) as refused:
        check_sizes_fit(settings, [600], '--max-long-edge', (2 * 2**30, 'a test machine'))
    assert str(refused.value) == ('--max-long-edge 600 with --style-scale 2: a 600x400 image needs about 2.2 GB of '
                                  'memory (measured: 3.4 kB a pixel), more than the 2.15 GB a test machine has '
                                  'available; the largest long edge that fits is about 591 (or lower --style-scale)')


def test_a_runs_pictures_read_the_content_header_once_and_check_memory_before_decoding(tmp_path, monkeypatch):
    """read_pictures with memory: the content's header read once for both the memory check and the
    original's size line; a size too large is refused before any image is decoded."""
    from neural_style.errors import NstyleError
    from neural_style.files import images
    from neural_style.gatys.run import read_pictures
    from neural_style.gatys.settings import GatysSettings
    Image.new('RGB', (600, 400)).save(tmp_path / 'content.png')
    Image.new('RGB', (60, 40)).save(tmp_path / 'style.png')
    settings = GatysSettings(content_image=str(tmp_path / 'content.png'), style_image=str(tmp_path / 'style.png'),
                             max_long_edge=600)
    headers, decoded = [], []
    monkeypatch.setattr(images, 'image_size', lambda path, flag, read=images.image_size: headers.append(path) or
                        read(path, flag))
    monkeypatch.setattr(images, 'read_rgb_image', lambda path, *rest, read=images.read_rgb_image: decoded.append(path)
                        or read(path, *rest))
    pictures = read_pictures(settings, memory=(1235430400, 'a test machine'))  # 600x400 just fits
    assert pictures.content[1].shape == (400, 600, 3)
    assert headers.count(settings.content_image) == 1 and decoded == [settings.content_image, settings.style_image]
    headers.clear(), decoded.clear()
    with pytest.raises(NstyleError, match='^--max-long-edge 600: a 600x400 image needs about 1.24 GB'):
        read_pictures(settings, memory=(1235430399, 'a test machine'))
    assert headers.count(settings.content_image) == 1 and decoded == []


def test_the_memory_estimate_counts_the_lbfgs_history(tmp_path):
    """With --optimizer lbfgs the estimate adds scipy's L-BFGS-B work array, float64, 2mn + 5n + 11m^2 +
    8m values for n = 3 values a pixel and m corrections (scipy.optimize._lbfgsb_py): for 600x400 and
    m = 20, n = 720,000: 28,800,000 + 3,600,000 + 4,400 + 160 = 32,404,560 values, 259,236,480 bytes,
    on top of NAG's 1,235,430,400."""
    from types import SimpleNamespace
    from neural_style.errors import NstyleError
    from neural_style.gatys.memory import check_sizes_fit
    Image.new('RGB', (600, 400)).save(tmp_path / 'content.png')
    Image.new('RGB', (60, 40)).save(tmp_path / 'style.png')
    settings = SimpleNamespace(content_image=str(tmp_path / 'content.png'), style_image=str(tmp_path / 'style.png'),
                               style_scale=1, optimizer='lbfgs', lbfgs_num_correction=20)
    check_sizes_fit(settings, [600], '--max-long-edge', (1235430400 + 259236480, 'a test machine'))
    with pytest.raises(NstyleError) as refused:
        check_sizes_fit(settings, [600], '--max-long-edge', (1235430400 + 259236479, 'a test machine'))
    assert str(refused.value).startswith('--max-long-edge 600: a 600x400 image needs about 1.49 GB of memory '
                                         "(measured: 3.4 kB a pixel, and L-BFGS's history), more than")
    # a history that alone outweighs the run is named as the cause
    settings.lbfgs_num_correction = 10 ** 8
    with pytest.raises(NstyleError) as refused:
        check_sizes_fit(settings, [600], '--max-long-edge', (16 * 2**30, 'a test machine'))
    assert str(refused.value).startswith('--lbfgs-num-correction 100000000: L-BFGS would keep about ')


def test_a_huge_lbfgs_history_is_refused_in_one_line(small, vgg_params, tmp_path):
    """The command line refuses a history no machine holds before any work, and writes nothing
    (it used to end in numpy's MemoryError inside scipy)."""
    out = tmp_path / 'out'
    result = run_nstyle(base_args(out, vgg_params, small, epochs=2) +
                        ['--optimizer', 'lbfgs', '--lbfgs-num-correction', 100000000], timeout=TIMEOUT)
    assert_one_line_error(result, '--lbfgs-num-correction 100000000: L-BFGS would keep about ')
    assert_no_results(out)


# ---------------------------------------------------------------- numbers, weights, files, pipes

@pytest.mark.parametrize('flag, value', [('--lr', '1e39'), ('--style-weight', '1e-50'), ('--tv-weight', '4e38'),
                                         ('--style-blend-weights', '1,1e39')])
def test_a_number_beyond_float32_is_refused_in_one_line(tmp_path, small, vgg_params, run_tool, flag, value):
    import nstyle
    proc = run_tool(nstyle.main, base_args(tmp_path / 'out', vgg_params, small) + [flag, value])
    assert_one_line_error(proc, flag, "float32's range", code=2)
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('dtype', ['float16', 'float64'])
def test_weights_in_another_float_type_give_the_float32_result(tmp_path, small, weight_arrays, dtype):
    """Weights stored as float16 (or float64) run as those values in float32: the same result as a
    float32 file holding the same values."""
    stored = {key: value.astype(dtype) for key, value in weight_arrays.items()}
    same_in_float32 = {key: value.astype('float32') for key, value in stored.items()}
    save_params(tmp_path / 'other.params', stored)
    save_params(tmp_path / 'float32.params', same_in_float32)
    logs = {}
    for name in ('other', 'float32'):
        proc = run_nstyle(base_args(tmp_path / name, str(tmp_path / ('%s.params' % name)), small, epochs=2),
                          timeout=TIMEOUT)
        assert proc.returncode == 0, describe(proc)
        logs[name] = proc.stderr
    assert 'weights stored as %s, converted to float32' % dtype in logs['other']
    assert 'converted to float32' not in logs['float32']
    assert (tmp_path / 'other' / 'final.jpg').read_bytes() == (tmp_path / 'float32' / 'final.jpg').read_bytes()


def test_weights_that_mean_something_else_in_float32_are_refused(tmp_path, small, weight_arrays):
    arrays = dict(weight_arrays)
    arrays['arg:conv2_1_weight'] = weight_arrays['arg:conv2_1_weight'].astype('float64') * 1e40
    save_params(tmp_path / 'huge.params', arrays)
    message = assert_one_line_error(run_nstyle(base_args(tmp_path / 'out', tmp_path / 'huge.params', small),
                                        timeout=TIMEOUT))
    assert 'conv2_1_weight (float64) holds values that are not finite in float32' in message
    arrays['arg:conv2_1_weight'] = (weight_arrays['arg:conv2_1_weight'] * 100).astype('int32')
    save_params(tmp_path / 'int.params', arrays)
    message = assert_one_line_error(run_nstyle(base_args(tmp_path / 'out', tmp_path / 'int.params', small),
                                        timeout=TIMEOUT))
    assert 'stores conv2_1_weight as int32, not floating point' in message
    assert not (tmp_path / 'out').exists()


def test_a_jobs_file_saved_by_a_spreadsheet_runs(tmp_path, small, vgg_params):
    """UTF-8 with a byte order mark, ';' between the cells (a comma is the decimal mark there),
    CRLF line ends."""
    rows = ['content;style;output;options'] + ['%s;%s;%s;%s' % (small['content'], small['style'], tmp_path / name,
                                                                options)
                                               for name, options in (('a', ''), ('b', '--save-epochs 1'))]
    jobs = tmp_path / 'jobs.csv'
    jobs.write_bytes(b'\xef\xbb\xbf' + '\r\n'.join(rows).encode() + b'\r\n')
    proc = run_nstyle(base_args(tmp_path / 'unused', vgg_params, small) + ['--jobs', jobs], timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    assert 'jobs: 2 of 2 done' in proc.stderr
    assert decoded(tmp_path / 'a' / 'final.jpg').shape == decoded(tmp_path / 'b' / 'final.jpg').shape == (21, 32, 3)
    assert sorted(os.listdir(tmp_path / 'b')) == ['e_1.jpg', 'final.jpg']  # its options cell was read


def closed_pipe_run(args):
    """`python ARGS | head -0`, the reader gone before the first byte: (exit status, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable] + [str(arg) for arg in args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=TIMEOUT, cwd=PROJECT)
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path, small, vgg_params):
    """`view_checkpoints.py DIR | head`, `compare.py --json | head`: the work done (the contact
    sheet written), then exit 141 (128 + SIGPIPE) and nothing on stderr: no traceback, no
    "Exception ignored" at exit."""
    run = tmp_path / 'run'
    run.mkdir()
    Image.open(small['content']).save(run / 'final.jpg')
    status, stderr = closed_pipe_run([os.path.join(PROJECT, 'view_checkpoints.py'), run])
    assert (status, stderr) == (141, '')
    assert Image.open(run / 'contact_sheet.png').format == 'PNG'
    status, stderr = closed_pipe_run([os.path.join(PROJECT, 'compare.py'), small['content'], '--reference',
                                      small['content'], '--content-image', small['content'], '--style-image',
                                      small['style'], '--vgg-params', vgg_params, '--json'])
    assert (status, stderr) == (141, '')


# ---------------------------------------------------------------- messages name the real cause

@pytest.mark.parametrize('flags, needle', [
    (['--content-image', '/dev/null'], '--content-image /dev/null: is a device file, not a regular file'),
    (['--vgg-params', '/dev/null'], 'VGG-19 weights /dev/null is a device file, not a regular file'),
    (['--vgg-params', '{tmp}'], 'VGG-19 weights {tmp} is a folder'),
    (['--jobs', '{tmp}'], '--jobs {tmp}: is a folder'),
    (['--init', '{tmp}'], '--init {tmp} is a folder'),
], ids=['device-image', 'device-weights', 'folder-weights', 'folder-jobs', 'folder-init'])
def test_a_file_that_is_not_a_regular_file_is_named_for_what_it_is(tmp_path, small, vgg_params, flags, needle):
    flags = [flag.replace('{tmp}', str(tmp_path)) for flag in flags]
    message = assert_one_line_error(run_nstyle(base_args(tmp_path / 'out', vgg_params, small) + flags, timeout=TIMEOUT))
    assert needle.replace('{tmp}', str(tmp_path)) in message
    assert 'no such file' not in message and 'not found' not in message


@pytest.mark.parametrize('flag, value, needle', [
    ('--multires', '300,abc,600', "item 2, 'abc', is not a whole number"),
    ('--multires', '300,600:x', "item 2, '600:x', is not EDGE:EPOCHS in whole numbers"),
    ('--style-blend-weights', '1,2,x', "got '1,2,x': item 3, 'x', is not a number"),
])
def test_a_bad_number_list_names_the_bad_number(tmp_path, small, vgg_params, run_tool, flag, value, needle):
    import nstyle
    proc = run_tool(nstyle.main, base_args(tmp_path / 'out', vgg_params, small) + [flag, value])
    assert_one_line_error(proc, flag, needle, code=2)
    assert len(proc.stderr.strip().splitlines()) == 1


def test_thousands_of_failed_jobs_end_in_one_readable_line_and_a_failures_file(tmp_path, small, vgg_params):
    count = 1500
    jobs = tmp_path / 'jobs.csv'
    with open(jobs, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['content', 'style', 'output'])
        for number in range(count):
            writer.writerow([tmp_path / ('missing_%d.jpg' % number), small['style'], tmp_path / ('out_%d' % number)])
    proc = run_nstyle(base_args(tmp_path / 'unused', vgg_params, small) + ['--jobs', jobs], timeout=TIMEOUT * 3)
    assert proc.returncode == 1, describe(proc)
    summary = proc.stderr.strip().splitlines()[-1]
    assert len(summary) < 800, summary
    assert 'jobs: 0 of %d done' % count in summary and '%d failed: job 1 (line 2: --content-image' % count in summary
    assert 'and %d more; every failed row with its error is in %s' % (count - 3, tmp_path / 'jobs.failed.csv') in summary
    with open(tmp_path / 'jobs.failed.csv', newline='') as f:
        failed = list(csv.DictReader(f))
    assert [row['content'] for row in failed] == [str(tmp_path / ('missing_%d.jpg' % n)) for n in range(count)]
    assert all('no such file' in row['error'] for row in failed)
