"""Nothing lost, round 2 (issue 23): the video, generator and Ray tools under bad input, faults, full
disks and signals, each through its command line with the failure injected, asserting what is on
disk afterwards. Tiny clips (tests/clips.py) and the seeded random generators and VGG-19 weights
(tests/generator_params.py, conftest): never the published models.

One test (or a few) per class of the issue:
1 broken output reported as success   2 earlier results lost or mixed   3 silent or misleading results
4 tracebacks instead of one line      5 Ray                              6 left from the last round"""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from clips import panning_frames, save_frames, small_style, write_clip
from conftest import PROJECT

TIMEOUT = 300
VIDEO = os.path.join(PROJECT, 'stylize_video.py')
INFER = os.path.join(PROJECT, 'end_to_end', 'boost_inference.py')
TRAIN = os.path.join(PROJECT, 'end_to_end', 'boost_train.py')
COMPARE = os.path.join(PROJECT, 'compare.py')
NSTYLE = os.path.join(PROJECT, 'nstyle.py')
SURVEY = os.path.join(PROJECT, 'reproduce_survey.py')


def run(script, args, timeout=TIMEOUT, env=None, preexec_fn=None):
    environment = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    return subprocess.run([sys.executable, script] + [str(arg) for arg in args], cwd=PROJECT, env=environment,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def one_line_error(proc, code=1):
    """The last stderr line of a run that failed as it should: exit `code`, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    return proc.stderr.strip().splitlines()[-1]


def snapshot(folder):
    """{relative path: bytes} of every file under folder: what is on disk, to compare before and after."""
    found = {}
    for root, _, files in os.walk(str(folder)):
        for name in files:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                found[os.path.relpath(path, str(folder))] = f.read()
    return found


@pytest.fixture(scope='module')
def media(tmp_path_factory):
    """A 6-frame 48x32 clip at 10 fps with a tone (mp4), the same frames as a folder, a small style,
    the seeded random generators (seed 1) and another set (seed 2)."""
    from generator_params import random_generator_arrays, save_generators
    folder = tmp_path_factory.mktemp('media')
    frames = panning_frames(6)
    found = {'frames': save_frames(folder / 'frames', frames), 'frame_pixels': frames,
             'clip': write_clip(folder / 'clip.mp4', frames, 10, audio_seconds=0.6),
             'reversed': write_clip(folder / 'reversed.mp4', frames[::-1], 10, audio_seconds=0.6),
             'style': small_style(folder / 'style.png'),
             'generators': str(folder / 'generators'), 'other_generators': str(folder / 'other_generators')}
    save_generators(found['generators'], random_generator_arrays(1))
    save_generators(found['other_generators'], random_generator_arrays(2))
    return found


def by_generators(media, source, output, *extra):
    return [source, '--method', 'end_to_end', '--model-dir', media['generators'], '--output', output, '--gpu', '-1',
            '--max-long-edge', '48'] + list(extra)


def mounted_tmpfs(folder, options, cases):
    """A tmpfs mounted on `folder` with these mount options (root only), unmounted after; the test is
    skipped where it cannot be mounted."""
    folder.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(folder)], capture_output=True).returncode:
        pytest.skip('cannot mount a tmpfs here (needs root): the %s cases are not run' % cases)
    yield folder
    subprocess.run(['umount', '-l', str(folder)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 kB tmpfs."""
    yield from mounted_tmpfs(tmp_path / 'tiny_disk', 'size=256k', 'full-disk')


def fill(folder, leave):
    """Fill the disk of folder but `leave` bytes."""
    stats = os.statvfs(str(folder))
    with open(os.path.join(str(folder), 'filler'), 'wb') as f:
        f.write(b'\0' * max(0, stats.f_bavail * stats.f_frsize - leave))


def written_video(path):
    from neural_style.video.clips import open_video, probe
    return open_video(str(path), 'video'), probe(str(path))[1]


# 1. Success reported for broken output ------------------------------------------------------------

def test_a_video_a_full_disk_cuts_short_is_never_put_in_place_and_the_earlier_one_stays(media, tiny_disk):
    """The frames are done (a resume); the disk then has room for the lock but not the video: exit 1,
    'no space left' (not '--no-audio'), the earlier video byte-identical, no temporary file left."""
    out = tiny_disk / 'a.mp4'
    proc = run(VIDEO, by_generators(media, media['clip'], out, '--frames', '0:3'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    earlier = out.read_bytes()
    fill(tiny_disk, 8192)
    message = one_line_error(run(VIDEO, by_generators(media, media['clip'], out, '--frames', '0:3')))
    assert 'no space left' in message and '--no-audio' not in message and str(out) in message
    assert out.read_bytes() == earlier
    assert sorted(os.listdir(str(tiny_disk))) == ['a.mp4', 'a_frames', 'filler']
    assert sorted(os.listdir(str(tiny_disk / 'a_frames'))) == ['frame_000000.png', 'frame_000001.png',
                                                                'frame_000002.png', 'run.json']


def test_a_webm_video_holds_a_video_stream_with_every_frame(media, tmp_path):
    """.webm, as the README lists it: VP9 (H.264 cannot go there), read back with the project's reader."""
    out = tmp_path / 'w.webm'
    proc = run(VIDEO, by_generators(media, media['clip'], out, '--frames', '0:3'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    clip, kinds = written_video(out)
    assert clip.count == 3 and 'Video' in kinds and 'Audio' in kinds
    from neural_style.video.clips import read_frames
    from skimage import io
    def blocks(pixels):  # 2x2 means: yuv420p keeps a colour per 2x2 block (measured: 2 to 3 levels off)
        return pixels.astype(float).reshape(16, 2, 24, 2, 3).mean(axis=(1, 3))
    for index, pixels in read_frames(clip, 0, 3):  # lossy, but the frames it was given, in order
        frame = io.imread(str(tmp_path / 'w_frames' / ('frame_%06d.png' % index)))
        assert np.abs(blocks(pixels) - blocks(frame)).mean() < 6


def nan_generators(media, folder):
    from generator_params import random_generator_arrays, save_generators
    arrays = random_generator_arrays(1)
    key = sorted(arrays[2])[0]
    arrays[2][key] = np.full_like(arrays[2][key], np.nan)
    save_generators(folder, arrays)
    return str(folder)


def test_generators_giving_nan_are_an_error_not_black_pictures(media, tmp_path):
    broken = nan_generators(media, tmp_path / 'nan')
    message = one_line_error(run(INFER, ['--model-dir', broken, '--content-image', os.path.join(media['frames'],
                                         'in_000.png'), '--output-dir', tmp_path / 'out', '--size', '32x48',
                                         '--gpu', '-1']))
    assert 'NaN' in message
    assert not os.path.exists(tmp_path / 'out') or snapshot(tmp_path / 'out') == {}
    # the video tool: no frame, no video, and no run.json to "resume" from
    message = one_line_error(run(VIDEO, [media['frames'], '--method', 'end_to_end', '--model-dir', broken, '--output',
                                         tmp_path / 'v.mp4', '--gpu', '-1', '--max-long-edge', '48']))
    assert 'NaN' in message
    assert not os.path.exists(tmp_path / 'v.mp4') and not os.path.exists(tmp_path / 'v_frames')


def test_a_folder_where_no_image_can_be_read_is_an_error(media, tmp_path):
    folder = tmp_path / 'broken'
    folder.mkdir()
    for name in ('a.jpg', 'b.png'):
        (folder / name).write_bytes(b'not an image')
    message = one_line_error(run(INFER, ['--model-dir', media['generators'], '--content-image', folder,
                                         '--output-dir', tmp_path / 'out', '--gpu', '-1']))
    assert 'none of its 2 images could be read' in message
    assert not os.path.exists(tmp_path / 'out')


def test_training_with_a_batch_larger_than_the_readable_images_is_refused_before_any_work(media, tmp_path):
    data = tmp_path / 'data'
    save_frames(data, media['frame_pixels'][:2])
    (data / 'zz_broken.png').write_bytes(b'broken')
    message = one_line_error(run(TRAIN, ['--data-dir', data, '--style-image', media['style'], '--generator',
                                         'johnson', '--batch-size', 3, '--size', 16, '--model-dir',
                                         tmp_path / 'model', '--gpu', '-1']))
    assert 'holds 2 images, fewer than --batch-size 3 (1 more files could not be read)' in message
    assert not os.path.exists(tmp_path / 'model')


# 2. Earlier results lost or mixed ------------------------------------------------------------------

def test_a_resume_refuses_frames_of_a_replaced_clip_or_another_checkpoint(media, tmp_path):
    source = tmp_path / 'in.mp4'
    source.write_bytes(open(media['clip'], 'rb').read())
    out = tmp_path / 'r'
    args = by_generators(media, source, out, '--frames', '0:1')
    assert run(VIDEO, args).returncode == 0
    done = snapshot(out)
    source.write_bytes(open(media['reversed'], 'rb').read())  # another clip under the same name
    message = one_line_error(run(VIDEO, args))
    assert 'changed since: the input' in message and '--overwrite' in message
    assert snapshot(out) == done
    source.write_bytes(open(media['clip'], 'rb').read())
    model = tmp_path / 'model'  # the same folder name, a newer checkpoint's weights in it
    subprocess.run(['cp', '-r', media['generators'], str(model)], check=True)
    args = by_generators(media, source, tmp_path / 'm', '--frames', '0:1')
    args[args.index('--model-dir') + 1] = model
    assert run(VIDEO, args).returncode == 0
    done = snapshot(tmp_path / 'm')
    subprocess.run(['cp', '-r', os.path.join(media['other_generators'], '.'), str(model)], check=True)
    message = one_line_error(run(VIDEO, args))
    assert 'changed since: the model' in message
    assert snapshot(tmp_path / 'm') == done


def test_the_output_may_not_be_inside_the_input_folder(media, tmp_path):
    frames = save_frames(tmp_path / 'frames', media['frame_pixels'][:2])
    before = snapshot(frames)
    for output in (frames, os.path.join(frames, 'styled'), os.path.join(frames, 'styled.mp4')):
        message = one_line_error(run(VIDEO, by_generators(media, frames, output)))
        assert 'inside INPUT' in message
    assert snapshot(frames) == before


def test_each_epoch_trains_on_the_same_images_however_the_run_got_there():
    """A run resumed in epoch 2 draws epoch 2's order as one that ran through epochs 0 and 1 did:
    the order depends on the seed and the epoch only (each image once an epoch)."""
    from neural_style.generators.train_on_folder import epoch_order
    files = ['img%02d.jpg' % k for k in range(12)]
    through = [epoch_order(files, 7, epoch) for epoch in range(3)]
    resumed = epoch_order(files, 7, 2)
    assert resumed == through[2]
    assert all(sorted(order) == files for order in through)
    assert through[0] != through[1] and epoch_order(files, 8, 2) != resumed


# 3. Silent or misleading results -------------------------------------------------------------------

def test_a_truncated_clip_says_how_many_frames_it_read_of_those_announced(media, tmp_path):
    import imageio_ffmpeg
    whole = tmp_path / 'whole.mkv'
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-v', 'error', '-y', '-i', media['clip'], '-c', 'copy',
                    str(whole)], check=True)
    cut = tmp_path / 'cut.mkv'
    data = whole.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    proc = run(VIDEO, by_generators(media, cut, tmp_path / 't.mp4', '--json'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    read = re.search(r'only (\d+) frames could be decoded of the about 6 its header announces', proc.stderr)
    assert read and 0 < int(read.group(1)) < 6
    report = json.loads(proc.stdout)
    clip, _ = written_video(tmp_path / 't.mp4')
    assert report['extra']['frames'] == clip.count == int(read.group(1))


@pytest.mark.parametrize('flags, needle', [
    (['--style-weight', '3'], '--style-weight is not used by --method end_to_end'),
    (['--vgg-params', 'missing.params'], '--vgg-params is not used by --method end_to_end'),
    (['--temporal-weight', '10'], '--temporal-weight is not used by --method end_to_end'),
])
def test_flags_the_generators_do_not_use_are_refused(media, tmp_path, flags, needle):
    message = one_line_error(run(VIDEO, by_generators(media, media['frames'], tmp_path / 'o') + flags), code=2)
    assert needle in message
    assert not os.path.exists(tmp_path / 'o')


def test_mrf_flags_without_the_mrf_loss_are_refused(media, tmp_path):
    message = one_line_error(run(VIDEO, [media['frames'], '--output', tmp_path / 'o', '--mrf-weight', '2']), code=2)
    assert '--mrf-weight is not used without --style-loss mrf' in message
    assert not os.path.exists(tmp_path / 'o')


@pytest.mark.parametrize('case', ['still image', 'long edge 1', 'model file', 'compare one frame'])
def test_inputs_that_cannot_make_a_video_are_one_line_errors(media, tmp_path, case):
    still = os.path.join(media['frames'], 'in_000.png')
    if case == 'still image':
        message = one_line_error(run(VIDEO, by_generators(media, still, tmp_path / 'o.mp4')))
        assert 'is a still image, not a video; give a video or a folder of frames' in message
    elif case == 'long edge 1':
        args = by_generators(media, media['frames'], tmp_path / 'o.mp4')
        args[args.index('--max-long-edge') + 1] = '1'
        assert 'smaller than the 8 pixels a side' in one_line_error(run(VIDEO, args))
    elif case == 'model file':
        args = by_generators(media, media['frames'], tmp_path / 'o.mp4')
        args[args.index('--model-dir') + 1] = still
        assert 'is a file, not a folder' in one_line_error(run(VIDEO, args))
    else:
        one_frame = save_frames(tmp_path / 'one', media['frame_pixels'][:1])
        message = one_line_error(run(COMPARE, [one_frame, '--temporal', media['frames']]))
        assert 'needs at least two consecutive frames' in message
        message = one_line_error(run(COMPARE, [media['frames'], '--temporal', still]))
        assert 'is a still image' in message
    assert not os.path.exists(tmp_path / 'o.mp4') and not os.path.exists(tmp_path / 'o_frames')


@pytest.mark.parametrize('tool, args', [
    ('boost_train', ['--data-dir', '{file}', '--style-image', '{style}', '--model-dir', '{out}', '--gpu', '-1']),
    ('boost_inference', ['--content-image', '{style}', '--model-dir', '{file}', '--output-dir', '{out}', '--gpu', '-1']),
    ('view_checkpoints', ['{file}']),
])
def test_a_file_given_for_a_folder_is_said_to_be_a_file(media, tmp_path, tool, args):
    """Every folder a tool reads has one check (files/images.check_input_folder): an existing file is
    "is a file, not a folder", not "no such folder"; nothing is written."""
    photo = os.path.join(media['frames'], 'in_000.png')
    script = {'boost_train': TRAIN, 'boost_inference': INFER,
              'view_checkpoints': os.path.join(PROJECT, 'view_checkpoints.py')}[tool]
    args = [arg.format(file=photo, style=media['style'], out=tmp_path / 'out') for arg in args]
    message = one_line_error(run(script, args))
    flag = '' if tool == 'view_checkpoints' else args[args.index(photo) - 1] + ' '
    assert '%s%s: is a file, not a folder; give ' % (flag, photo) in message and 'no such' not in message
    assert os.listdir(tmp_path) == []


def temporal_score(result, clip):
    proc = run(COMPARE, [result, '--temporal', clip, '--json'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)['extra']['scores']


def test_compare_temporal_refuses_a_result_made_from_another_clip(media, tmp_path):
    """A result of stylize_video.py (frames 1 to 3 of the clip, seeded random generators) is scored
    against its own clip only: its run.json names the input by size and hash, so another clip of the
    same size and length (the clip reversed) is refused, for the video and for its frames folder. A
    result without a record is checked for its shape and length."""
    out = tmp_path / 'v.mp4'
    assert run(VIDEO, by_generators(media, media['clip'], out, '--frames', '1:4')).returncode == 0
    for result in (out, tmp_path / 'v_frames'):
        message = one_line_error(run(COMPARE, [result, '--temporal', media['reversed']]))
        assert message.startswith('compare.py: error: RESULT %s was made from %s ' % (result, media['clip']))
        assert 'not from --temporal %s' % media['reversed'] in message and 'give --temporal the clip' in message
    assert temporal_score(tmp_path / 'v_frames', media['clip'])['frames'] == 3
    # the video's frames against the clip's frames 1 to 3 (its run.json's first frame)
    import imageio_ffmpeg
    from neural_style.video.temporal import temporal_error
    reader = imageio_ffmpeg.read_frames(str(out))
    h, w = next(reader)['size'][::-1]
    decoded = [np.frombuffer(data, np.uint8).reshape(h, w, 3) for data in reader]
    by_video = temporal_score(out, media['clip'])
    assert by_video['frames'] == len(decoded) == 3
    assert by_video['temporal_error'] == pytest.approx(temporal_error(media['frame_pixels'][1:4], decoded), rel=0.02)
    # without a record (a video from elsewhere): the shape and the length must agree
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    subprocess.run(['cp', str(out), str(elsewhere / 'v.mp4')], check=True)
    message = one_line_error(run(COMPARE, [elsewhere / 'v.mp4', '--temporal', media['clip']]))
    assert 'has 3 frames but --temporal %s has 6: not made from it' % media['clip'] in message
    portrait = save_frames(tmp_path / 'portrait', [np.ascontiguousarray(frame.transpose(1, 0, 2))
                                                   for frame in media['frame_pixels']])
    message = one_line_error(run(COMPARE, [media['frames'], '--temporal', portrait]))
    assert 'is 48x32 but --temporal %s is 32x48: not made from it' % portrait in message
    assert temporal_score(media['frames'], media['clip'])['frames'] == 6


# 4. Tracebacks instead of one line -----------------------------------------------------------------

@pytest.mark.parametrize('tool, flags, needle', [
    ('video', ['--max-long-edge', '100000'], '--max-long-edge 100000: stylising'),
    ('infer', ['--size', '80000x80000'], '--size 80000x80000: a 80000x80000 image'),
    ('infer', ['--long-edge', '100000'], '--long-edge 100000: a '),
    ('train', ['--size', '40000'], '--size 40000: training on 40000x40000 crops'),
])
def test_a_size_beyond_memory_is_refused_before_allocating(media, tmp_path, tool, flags, needle):
    if tool == 'video':
        args = by_generators(media, media['frames'], tmp_path / 'o.mp4')
        del args[args.index('--max-long-edge'):args.index('--max-long-edge') + 2]
        proc = run(VIDEO, args + flags)
    elif tool == 'infer':
        proc = run(INFER, ['--model-dir', media['generators'], '--content-image', media['frames'], '--output-dir',
                           tmp_path / 'o', '--gpu', '-1'] + flags)
    else:
        proc = run(TRAIN, ['--data-dir', media['frames'], '--style-image', media['style'], '--model-dir',
                           tmp_path / 'o', '--gpu', '-1'] + flags)
    message = one_line_error(proc)
    assert needle in message and 'of memory, more than the' in message
    assert not os.path.exists(tmp_path / 'o') and not os.path.exists(tmp_path / 'o.mp4')


def address_space_limit(gigabytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (gigabytes * 2**30, gigabytes * 2**30))
    return limit


def test_under_ulimit_v_the_generators_size_is_refused_not_a_crash(media, tmp_path):
    """`ulimit -v` (RLIMIT_AS) counts in what this process may still allocate."""
    proc = run(INFER, ['--model-dir', media['generators'], '--content-image', media['frames'], '--output-dir',
                       tmp_path / 'o', '--gpu', '-1', '--size', '2400x2400'], preexec_fn=address_space_limit(6))
    message = one_line_error(proc)
    assert '--size 2400x2400' in message and 'of memory' in message
    assert not os.path.exists(tmp_path / 'o')


@pytest.mark.parametrize('script', [NSTYLE, TRAIN])
def test_under_ulimit_v_the_optimisation_and_training_sizes_are_refused_not_a_crash(media, tmp_path, vgg_params,
                                                                                   script):
    """Under a 3 GB address space nstyle.py at 1200 px (3.7 GB estimated) and training on 3000 px crops
    are refused from the estimate, in one line and before anything is written (they were a segfault
    and heap corruption)."""
    out = tmp_path / 'o'
    if script == NSTYLE:
        flags, needle = ['--max-long-edge', '1200', '--output_dir', out, '--max-num-epochs', '1'], '--max-long-edge 1200'
    else:
        flags, needle = ['--data-dir', media['frames'], '--style-image', media['style'], '--model-dir', out,
                         '--size', '3000'], '--size 3000'
    message = one_line_error(run(script, flags + ['--vgg-params', vgg_params], preexec_fn=address_space_limit(3)))
    assert needle in message and 'of memory' in message and 'available' in message
    assert not os.path.exists(out)


@pytest.mark.parametrize('script, flags, needle', [
    (TRAIN, ['--momentum', '50'], "argument --momentum: 50: SGD's momentum must be in [0, 1)"),
    (VIDEO, ['--fps', '1e-30'], 'argument --fps: 1e-30 frames per second: give a rate between'),
])
def test_numbers_that_cannot_work_are_refused_by_the_flag_checks(media, tmp_path, script, flags, needle):
    base = ([media['frames'], '--output', tmp_path / 'o'] if script == VIDEO else
            ['--data-dir', media['frames'], '--style-image', media['style'], '--model-dir', tmp_path / 'o'])
    assert needle in one_line_error(run(script, base + flags), code=2)
    assert not os.path.exists(tmp_path / 'o')


def test_a_full_disk_at_the_lock_file_is_one_line_and_leaves_nothing(media, tiny_disk):
    fill(tiny_disk, 0)
    message = one_line_error(run(INFER, ['--model-dir', media['generators'], '--content-image',
                                         os.path.join(media['frames'], 'in_000.png'), '--output-dir',
                                         tiny_disk / 'out', '--size', '32x48', '--gpu', '-1']))
    assert 'no space left' in message or 'No space left' in message
    assert sorted(os.listdir(str(tiny_disk))) in (['filler'], ['filler', 'out'])
    assert not os.path.exists(tiny_disk / 'out') or os.listdir(str(tiny_disk / 'out')) == []


def test_a_full_disk_at_a_training_checkpoint_is_one_line_and_leaves_no_partial_file(media, tiny_disk, vgg_params):
    """Johnson's network's checkpoint (a few MB) cannot fit on the 256 kB disk."""
    model = tiny_disk / 'model'
    message = one_line_error(run(TRAIN, ['--data-dir', media['frames'], '--style-image', media['style'],
                                         '--generator', 'johnson', '--batch-size', 1, '--size', 16, '--epochs', 1,
                                         '--save-every', 1000, '--model-dir', model, '--vgg-params', vgg_params,
                                         '--gpu', '-1', '--seed', 0]))
    assert 'no space left' in message and 'cannot write the checkpoint' in message
    assert [name for name in os.listdir(str(model)) if name.endswith('.params') or '.tmp' in name] == []


@pytest.fixture
def read_only_disk(tmp_path):
    """A read-only tmpfs (root ignores a folder's permissions)."""
    yield from mounted_tmpfs(tmp_path / 'read_only', 'ro,size=64k', 'read-only')


def survey_into(output, *extra):
    """reproduce_survey.py's smallest montage (seeded random WCT networks), written atomically as stylize.py's results are."""
    return run(SURVEY, ['--random-weights', '--max-long-edge', 16, '--alphas', '1', '--levels', 1, '--single-level', 1,
                        '--output', output] + list(extra))


def test_an_output_that_cannot_be_written_names_it_the_cause_and_what_to_do(media, tmp_path, tiny_disk, read_only_disk):
    """One line naming the result (never the temporary file beside it), the cause in words and the
    remedy; nothing left where it failed."""
    message = one_line_error(survey_into(read_only_disk / 'survey.png'))
    assert message == ('reproduce_survey.py: error: cannot write %s: its folder is on a read-only file system; '
                       'choose another folder' % (read_only_disk / 'survey.png'))
    assert os.listdir(str(read_only_disk)) == []
    fill(tiny_disk, 0)
    message = one_line_error(survey_into(tiny_disk / 'survey.png'))
    assert message == ('reproduce_survey.py: error: cannot write %s: no space left on the device; free some space or '
                       'choose another folder' % (tiny_disk / 'survey.png'))
    assert os.listdir(str(tiny_disk)) == ['filler']
    in_the_way = tmp_path / 'a_file'
    in_the_way.write_bytes(b'kept')
    message = one_line_error(survey_into(in_the_way / 'survey.png'))
    assert message.startswith('reproduce_survey.py: error: --output %s: cannot make its folder %s: a file is in the way'
                              % (in_the_way / 'survey.png', in_the_way)) and 'choose another folder' in message
    assert in_the_way.read_bytes() == b'kept'


def test_overwrite_never_replaces_a_folder_given_as_the_output(tmp_path):
    folder = tmp_path / 'survey.png'
    folder.mkdir()
    (folder / 'kept.txt').write_text('kept')
    proc = survey_into(folder, '--overwrite')
    assert one_line_error(proc) == ('reproduce_survey.py: error: --output %s is a folder; give a file name, such as %s'
                                    % (folder, folder / 'wct_survey.png'))
    assert proc.stdout == ''  # refused before any work
    assert snapshot(tmp_path) == {'survey.png/kept.txt': b'kept'}


def test_boost_inference_into_a_read_only_folder_or_a_file_is_one_line_and_changes_nothing(media, tmp_path,
                                                                                         read_only_disk):
    """--output-dir on a read-only file system, or naming an existing file: one line saying what to do,
    and the file (or the read-only folder) as it was."""
    photo = os.path.join(media['frames'], 'in_000.png')
    base = ['--model-dir', media['generators'], '--content-image', photo, '--size', '32x48', '--gpu', '-1']
    message = one_line_error(run(INFER, base + ['--output-dir', read_only_disk / 'out']))
    assert 'cannot write there' in message and 'choose another folder' in message
    assert os.listdir(str(read_only_disk)) == []
    in_the_way = tmp_path / 'results'
    in_the_way.write_bytes(b'kept')
    message = one_line_error(run(INFER, base + ['--output-dir', in_the_way]))
    assert 'is a file, not a folder' in message
    assert in_the_way.read_bytes() == b'kept'


# 5. Ray ----------------------------------------------------------------------------------------------

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.parametrize('address', ['127.0.0.1:%d', 'ray://127.0.0.1:%d'])
def test_an_unreachable_cluster_is_one_line_at_once(media, tmp_path, address):
    """RAY_ADDRESS to a port nobody listens on: one line (the subprocess's timeout is the bound, not Ray's
    minutes of retries); ray:// needs Ray's client extra."""
    pytest.importorskip('ray')
    env = {'RAY_ADDRESS': address % free_port()}
    message = one_line_error(run(INFER, ['--model-dir', media['generators'], '--content-image', media['frames'],
                                         '--output-dir', tmp_path / 'o', '--gpu', '-1', '--size', '32x48',
                                         '--ray'], timeout=120, env=env))
    assert message.startswith('boost_inference.py: error: --ray %s' % env['RAY_ADDRESS'])
    assert 'cannot reach the cluster' in message or "Ray's client extra" in message
    assert not os.path.exists(tmp_path / 'o')


def test_one_failing_row_under_ray_gives_the_failure_summary_and_file(tmp_path, vgg_params):
    pytest.importorskip('ray')
    jobs = tmp_path / 'jobs.csv'
    jobs.write_text('content,style,output\n%s,missing_style.jpg,%s\n' % (os.path.join(PROJECT, 'input',
                                                                                     'IMG_4343.jpg'), tmp_path / 'o'))
    proc = run(NSTYLE, ['--jobs', jobs, '--ray', '--vgg-params', vgg_params, '--gpu', '-1', '--max-num-epochs', 1,
                        '--max-long-edge', 32], timeout=240)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'no Ray worker is left' not in proc.stderr
    assert re.search(r'1 failed: job 1 \(line 2: --style-image', proc.stderr)
    failed = (tmp_path / 'jobs.failed.csv').read_text().splitlines()
    assert failed[0] == 'content,style,output,error' and 'missing_style.jpg' in failed[1]


@pytest.mark.parametrize('stop', [signal.SIGTERM, signal.SIGHUP], ids=['SIGTERM', 'SIGHUP'])
def test_sigterm_under_ray_ends_with_143_and_leaves_no_run_json(media, tmp_path, stop):
    """SIGTERM (or SIGHUP, which exited 130) to a --ray video run as its cluster starts: one line, exit
    128 + the signal, no run.json (no frame was done)."""
    pytest.importorskip('ray')
    out = tmp_path / 'v.mp4'
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    process = subprocess.Popen([sys.executable, VIDEO] + [str(arg) for arg in by_generators(
        media, media['frames'], out, '--ray', '--cpus-per-job', '1')], cwd=PROJECT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(lambda: process.stderr.read(1), '')), daemon=True)
    reader.start()
    deadline = time.time() + 200
    while time.time() < deadline and 'jobs' not in ''.join(seen) and process.poll() is None:
        time.sleep(0.1)  # the bar of the jobs: Ray is up, its workers starting
    process.send_signal(stop)
    process.wait(timeout=120)
    reader.join(timeout=10)
    err = ''.join(seen)
    assert process.returncode == 128 + stop, err[-2000:]
    assert err.strip().splitlines()[-1] == 'stylize_video.py: interrupted by %s' % stop.name
    assert not os.path.exists(tmp_path / 'v_frames' / 'run.json') or \
        any(name.startswith('frame_') for name in os.listdir(str(tmp_path / 'v_frames')))


# 6. Left from the last round -------------------------------------------------------------------------

def test_overwrite_removes_the_unfinished_folder_a_killed_run_left(media, tmp_path):
    """kill -9 during an --overwrite run leaves unfinished-run.<pid>/ and its lock file naming that PID:
    the next --overwrite run removes that folder (its process is gone). The folder of a run that failed
    and said so (its lock released, its last checkpoint named in its error) stays."""
    import socket
    out = tmp_path / 'out'
    image = os.path.join(media['frames'], 'in_000.png')
    args = ['--model-dir', media['generators'], '--content-image', image, '--output-dir', out, '--size', '32x48',
            '--gpu', '-1']
    assert run(INFER, args).returncode == 0
    killed, failed = subprocess.Popen(['true']), subprocess.Popen(['true'])
    killed.wait()
    failed.wait()
    for pid in (killed.pid, failed.pid):
        (out / ('unfinished-run.%d' % pid)).mkdir()
        (out / ('unfinished-run.%d' % pid) / 'out_0.jpg').write_bytes(b'half')
    (out / '.nstyle.lock').write_text('PID %d on %s since 2026-01-01 00:00:00 UTC (boost_inference.py)\n'
                                      % (killed.pid, socket.gethostname()))
    proc = run(INFER, args + ['--overwrite'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(str(out))) == ['content.jpg', 'out_0.jpg', 'out_1.jpg', 'out_2.jpg', 'out_3.jpg',
                                            'unfinished-run.%d' % failed.pid]


def test_a_huge_png_is_refused_from_its_header_under_a_small_address_space(media, tmp_path):
    """A PNG that declares 30000x30000 pixels (2.7 GB decoded) under `ulimit -v` 3 GB: refused from its
    header, in one line, before any decoding (decoding would fail for memory or crash)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    folder = tmp_path / 'huge'
    folder.mkdir()
    with open(folder / 'huge.png', 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 30000, 30000, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(b'\0' * 100)) + chunk(b'IEND', b''))
    proc = run(INFER, ['--model-dir', media['generators'], '--content-image', folder / 'huge.png', '--output-dir',
                       tmp_path / 'o', '--gpu', '-1', '--size', '32x48'], preexec_fn=address_space_limit(3))
    message = one_line_error(proc)
    assert 'too large to decode (30000x30000' in message
    assert not os.path.exists(tmp_path / 'o')


def test_an_unquoted_comma_in_a_jobs_row_is_refused_before_any_work(tmp_path, vgg_params):
    """Three columns and a fourth cell: the comma of an option split it, which would silently drop its end."""
    jobs = tmp_path / 'jobs.csv'
    content = os.path.join(PROJECT, 'input', 'IMG_4343.jpg')
    jobs.write_text('content,style,output,options\n%s,%s,%s,--style-blend-weights 1,2\n'
                    % (content, content, tmp_path / 'o'))
    message = one_line_error(run(NSTYLE, ['--jobs', jobs, '--vgg-params', vgg_params, '--gpu', '-1']))
    assert 'line 2: 5 cells but the header names 4 columns' in message and 'quoted' in message
    assert not os.path.exists(tmp_path / 'o')


def test_a_batch_run_again_skips_the_rows_it_finished_and_fails_none_of_them(media, tmp_path, vgg_params):
    """An interrupted batch run again: the row whose final.jpg is there is skipped (kept byte for
    byte), not reported failed; the others run."""
    done, todo = tmp_path / 'done', tmp_path / 'todo'
    done.mkdir()
    (done / 'final.jpg').write_bytes(open(os.path.join(media['frames'], 'in_001.png'), 'rb').read())
    earlier = snapshot(done)
    jobs = tmp_path / 'jobs.csv'
    image = os.path.join(media['frames'], 'in_000.png')
    jobs.write_text('content,style,output\n%s,%s,%s\n%s,%s,%s\n' % (image, media['style'], done, image,
                                                                    media['style'], todo))
    proc = run(NSTYLE, ['--jobs', jobs, '--vgg-params', vgg_params, '--gpu', '-1', '--max-num-epochs', 1,
                        '--max-long-edge', 32])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'skipped, %s already holds its final.jpg' % done in proc.stderr and 'failed' not in proc.stderr
    assert snapshot(done) == earlier and os.path.isfile(todo / 'final.jpg')
    assert not os.path.exists(tmp_path / 'jobs.failed.csv')


def test_a_batch_run_again_runs_the_row_that_was_interrupted_again(media, tmp_path, vgg_params):
    """A row whose run was stopped holds final.jpg (the image so far) and interrupted.txt: the batch
    run again runs that row again, replacing both, and reports nothing failed."""
    stopped = tmp_path / 'stopped'
    stopped.mkdir()
    planted = open(os.path.join(media['frames'], 'in_001.png'), 'rb').read()
    (stopped / 'final.jpg').write_bytes(planted)
    (stopped / 'interrupted.txt').write_text('final.jpg holds the image after 1 of at most 2 epochs\n')
    jobs = tmp_path / 'jobs.csv'
    jobs.write_text('content,style,output\n%s,%s,%s\n' % (os.path.join(media['frames'], 'in_000.png'),
                                                          media['style'], stopped))
    proc = run(NSTYLE, ['--jobs', jobs, '--vgg-params', vgg_params, '--gpu', '-1', '--max-num-epochs', 1,
                        '--max-long-edge', 32])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'holds the result of an interrupted run' in proc.stderr and 'failed' not in proc.stderr
    assert 'interrupted.txt' not in os.listdir(stopped)
    with Image.open(stopped / 'final.jpg') as img:
        final = np.asarray(img)
    assert (stopped / 'final.jpg').read_bytes() != planted and final.shape[2] == 3 and max(final.shape[:2]) == 32
    assert not os.path.exists(tmp_path / 'jobs.failed.csv')


def test_under_ray_one_damaged_frame_fails_alone_and_the_intact_ones_after_it_are_done(media, tmp_path):
    """Frame 2's file is cut after its header (its size reads, its pixels do not): under --ray it fails
    alone; frames 3 to 5 are read and stylised all the same."""
    pytest.importorskip('ray')
    frames = save_frames(tmp_path / 'frames', media['frame_pixels'])
    damaged = os.path.join(frames, 'in_002.png')
    data = open(damaged, 'rb').read()
    with open(damaged, 'wb') as f:
        f.write(data[:len(data) // 3])
    out = tmp_path / 'v'
    message = one_line_error(run(VIDEO, by_generators(media, frames, out, '--ray'), timeout=300))
    assert '1 frames failed (frame 2 first' in message
    assert sorted(name for name in os.listdir(str(out)) if name.startswith('frame_')) == \
        ['frame_%06d.png' % index for index in (0, 1, 3, 4, 5)]


def started_with_stderr(script, args):
    """A tool started as a user would, its stderr gathered as it comes: (process, list of characters)."""
    process = subprocess.Popen([sys.executable, script] + [str(arg) for arg in args], cwd=PROJECT,
                               env=dict(os.environ, PYTHONUNBUFFERED='1'), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    seen = []
    threading.Thread(target=lambda: seen.extend(iter(lambda: process.stderr.read(1), '')), daemon=True).start()
    return process, seen


@pytest.mark.parametrize('signum, times', [(signal.SIGTERM, 2), (signal.SIGINT, 3)], ids=['SIGTERM x2', 'SIGINT x3'])
def test_a_repeated_stop_signal_ends_a_video_at_once_dropping_only_the_frame_in_progress(media, tmp_path, vgg_params,
                                                                                        signum, times):
    """A frame of 100000 epochs (far beyond the subprocess's timeout): the first signal waits for the
    frame, the repeated one (a scheduler's second SIGTERM, a third Ctrl-C) ends the run at once, exit
    128 + the signal; no frame was finished, so no frame, no run.json, no temporary file, no video."""
    out = tmp_path / 'v.mp4'
    process, seen = started_with_stderr(VIDEO, [media['frames'], '--vgg-params', vgg_params, '--gpu', '-1',
                                                '--max-long-edge', '32', '--max-num-epochs', '100000', '--output', out])
    try:
        deadline = time.time() + 200
        while time.time() < deadline and 'stylize:' not in ''.join(seen) and process.poll() is None:
            time.sleep(0.1)  # the frames' bar: the loop runs, its signal handlers installed
        name = signal.Signals(signum).name
        for left in range(times - 1, 0, -1):  # each signal once the run said it saw the one before
            process.send_signal(signum)
            while time.time() < deadline and '%s: stopping after the work in progress; %d more' % (name, left) \
                    not in ''.join(seen) and process.poll() is None:
                time.sleep(0.1)
        process.send_signal(signum)
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail('the run did not end: %s' % ''.join(seen)[-1500:])
    finally:
        process.kill()  # a run the signals did not end must not go on computing after the test
    err = ''.join(seen)
    assert process.returncode == 128 + signum, err[-2000:]
    assert '%s %d times: stopping at once' % (name, times) in err and 'Traceback' not in err
    assert err.strip().splitlines()[-1].startswith('stylize_video.py: interrupted')
    assert sorted(os.listdir(str(tmp_path))) == []  # neither v_frames/ (no frame done) nor v.mp4 nor a .tmp


def test_an_lbfgs_memory_beyond_the_machines_is_refused_before_any_work(media, tmp_path, vgg_params):
    """10^11 corrections of a 32x21 image (about 8.8e23 bytes of history) are refused in one line before
    the targets (was scipy's 'Maximum allowed dimension exceeded' traceback), nothing written."""
    m = 10 ** 11
    message = one_line_error(run(NSTYLE, ['--content-image', os.path.join(media['frames'], 'in_000.png'),
                                          '--style-image', media['style'], '--vgg-params', vgg_params, '--gpu', '-1',
                                          '--optimizer', 'lbfgs', '--lbfgs-num-correction', m, '--max-long-edge', 32,
                                          '--output_dir', tmp_path / 'o']))
    assert message.startswith('nstyle.py: error: --lbfgs-num-correction 100000000000: ') and 'lower it' in message
    assert not os.path.exists(tmp_path / 'o')


def test_an_overwrite_run_that_fails_before_its_first_frame_leaves_the_earlier_run_as_it_was(media, tmp_path):
    """A finished 2-frame video, then --overwrite with NaN generators (fails at frame 0): the video,
    its frames and its run.json byte-identical, no earlier-run/ left, and the first command run again
    resumes it (nothing refused, nothing redone)."""
    out = tmp_path / 'v.mp4'
    args = by_generators(media, media['clip'], out, '--frames', '0:2')
    assert run(VIDEO, args).returncode == 0
    earlier = snapshot(tmp_path)
    broken = by_generators(media, media['clip'], out, '--frames', '0:2', '--overwrite')
    broken[broken.index('--model-dir') + 1] = nan_generators(media, tmp_path.parent / (tmp_path.name + '_nan'))
    assert 'NaN' in one_line_error(run(VIDEO, broken))
    assert snapshot(tmp_path) == earlier
    def frame_times():
        return {name: os.stat(str(tmp_path / 'v_frames' / name)).st_mtime_ns
                for name in ('frame_000000.png', 'frame_000001.png')}
    before = frame_times()
    again = run(VIDEO, args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert frame_times() == before  # resumed: its frames read back, not stylised again


# Round 2 of the audit: boost_inference and boost_train cases the table had no test for ---------------

def infer_args(model_dir, image, out, *extra):
    return ['--model-dir', model_dir, '--content-image', image, '--output-dir', out, '--size', '32x48',
            '--gpu', '-1'] + list(extra)


CHAIN_RESULTS = ['content.jpg', 'out_0.jpg', 'out_1.jpg', 'out_2.jpg', 'out_3.jpg']


def test_a_full_disk_midway_through_the_stages_leaves_no_incomplete_set(media, tiny_disk, tmp_path):
    """A 4-stage chain writes 5 images (about one 4 kB tmpfs page each, after the lock file's): with room
    for 1 ... 5 pages the run fails at content.jpg, out_0.jpg ... out_3.jpg in turn. Each failure is one
    line and leaves none of that picture's stages (before the fix: content.jpg, out_0.jpg ... stayed,
    looking like a result); with room for all it succeeds with the whole set."""
    image = os.path.join(media['frames'], 'in_000.png')
    failed_at = []
    for pages in range(1, 7):
        out = tiny_disk / ('out%d' % pages)
        fill(tiny_disk, pages * 4096)
        proc = run(INFER, infer_args(media['generators'], image, out))
        os.remove(str(tiny_disk / 'filler'))
        if proc.returncode == 0:
            assert sorted(os.listdir(str(out))) == CHAIN_RESULTS
            continue
        message = one_line_error(proc)
        assert 'no space left on the device; free some space' in message, message
        failed_at.append(re.search(r'cannot write \S+/(\w+\.jpg)', message).group(1))
        assert not os.path.exists(out) or os.listdir(str(out)) == [], (pages, os.listdir(str(out)))
    assert len(failed_at) >= 3 and set(failed_at) <= set(CHAIN_RESULTS), failed_at
    # --overwrite into a full disk: the earlier results stay byte for byte, nothing of the new run is left
    out = tiny_disk / 'earlier'
    assert run(INFER, infer_args(media['generators'], image, out)).returncode == 0
    before = snapshot(out)
    fill(tiny_disk, 2 * 4096)
    message = one_line_error(run(INFER, infer_args(media['other_generators'], image, out, '--overwrite')))
    assert 'no space left on the device; free some space' in message
    assert snapshot(out) == before and sorted(os.listdir(str(out))) == CHAIN_RESULTS


def test_two_runs_into_one_folder_at_once_one_wins_and_its_results_are_intact(media, tmp_path):
    """Item 2b: two runs (different models) started together into one folder: one exits 0, the other
    fails in one line (the folder is in use, or already holds the winner's results), and the folder
    holds exactly the winner's results, byte for byte those of the same run made alone."""
    image = os.path.join(media['frames'], 'in_000.png')
    out = tmp_path / 'out'
    environment = dict(os.environ, PYTHONUNBUFFERED='1')
    procs = [subprocess.Popen([sys.executable, INFER] + [str(a) for a in infer_args(model, image, out)], cwd=PROJECT,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for model in (media['generators'], media['other_generators'])]
    finished = [proc.communicate(timeout=TIMEOUT) + (proc.returncode,) for proc in procs]
    codes = sorted(code for _, _, code in finished)
    assert codes == [0, 1], [(code, err[-1000:]) for _, err, code in finished]
    winner = [index for index, (_, _, code) in enumerate(finished) if code == 0][0]
    loser_err = finished[1 - winner][1]
    assert 'Traceback' not in loser_err
    last = loser_err.strip().splitlines()[-1]
    assert 'in use by another run' in last or 'already holds results' in last, last
    alone = tmp_path / 'alone'
    model = (media['generators'], media['other_generators'])[winner]
    assert run(INFER, infer_args(model, image, alone)).returncode == 0
    assert snapshot(out) == snapshot(alone) and sorted(snapshot(out)) == CHAIN_RESULTS


@pytest.fixture(scope='module')
def johnson_model(tmp_path_factory, media, vgg_params):
    """A Johnson network trained one epoch on the clip's frames (random VGG-19 weights, seed 0): a model of the other kind."""
    folder = tmp_path_factory.mktemp('johnson')
    proc = run(TRAIN, ['--data-dir', media['frames'], '--style-image', media['style'], '--vgg-params', vgg_params,
                       '--generator', 'johnson', '--size', 16, '--batch-size', 1, '--epochs', 1, '--seed', 0,
                       '--model-dir', folder / 'model', '--gpu', '-1'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return str(folder / 'model')


def test_overwrite_with_a_one_stage_model_leaves_no_stage_of_the_earlier_chain(media, tmp_path, johnson_model):
    """Item 2c: a chain's run (content.jpg, out_0..3.jpg) replaced with --overwrite by a Johnson net's
    (content.jpg, out_0.jpg): out_1..3.jpg of the earlier run go, the new files are the new run's."""
    image = os.path.join(media['frames'], 'in_000.png')
    out, alone = tmp_path / 'out', tmp_path / 'alone'
    assert run(INFER, infer_args(media['generators'], image, out)).returncode == 0
    proc = run(INFER, infer_args(johnson_model, image, out, '--overwrite'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert run(INFER, infer_args(johnson_model, image, alone)).returncode == 0
    assert sorted(os.listdir(str(out))) == ['content.jpg', 'out_0.jpg']
    assert snapshot(out) == snapshot(alone)


def test_two_images_of_one_name_are_refused_before_anything_is_written(media, tmp_path):
    """Item 2d: a.jpg and a.png would both write OUT/a/: refused in one line naming both, nothing written."""
    folder = tmp_path / 'photos'
    folder.mkdir()
    pixels = np.asarray(Image.open(os.path.join(media['frames'], 'in_000.png')).convert('RGB'))
    Image.fromarray(pixels).save(str(folder / 'a.jpg'))
    Image.fromarray(pixels).save(str(folder / 'a.png'))
    Image.fromarray(pixels).save(str(folder / 'b.png'))
    message = one_line_error(run(INFER, infer_args(media['generators'], folder, tmp_path / 'out')))
    assert 'a.jpg and a.png' in message and 'rename one' in message, message
    assert not os.path.exists(tmp_path / 'out') or snapshot(tmp_path / 'out') == {}


def test_training_another_kind_into_a_folder_holding_a_chain_leaves_the_chain_as_it_was(media, tmp_path,
                                                                                          vgg_params):
    """Item 2g: a Johnson net trained with --model-dir a folder holding the v3 chain is refused in one
    line (before: with advice to pass --init-model, itself refused then), and so is resuming from that
    chain as a Johnson net; the chain's files stay byte for byte."""
    import shutil
    chain = tmp_path / 'chain'
    shutil.copytree(media['generators'], str(chain))
    before = snapshot(chain)
    common = ['--data-dir', media['frames'], '--style-image', media['style'], '--vgg-params', vgg_params,
              '--generator', 'johnson', '--size', 16, '--batch-size', 1, '--epochs', 1, '--seed', 0,
              '--model-dir', chain, '--gpu', '-1']
    for extra in ([], ['--init-model', chain]):  # no advice to "resume" from another kind of model
        message = one_line_error(run(TRAIN, common + extra))
        assert 'holds checkpoints of another generator (v3_0002-0026000), not johnson; choose another --model-dir' \
            in message, message
    assert snapshot(chain) == before


def files_under(folder):
    return {os.path.join(root, name): os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(str(folder)) for name in names}


def test_a_generator_run_under_ray_leaves_no_copy_of_the_model_in_the_temp_folder(media, tmp_path, request):
    """Item 5f: the workers get the generators through Ray's object store, not as files: after a --ray
    run over two images the temp folder (TMPDIR) holds Ray's own session folder only, no .params file
    and nothing the size of the model (the seeded random chain is as large as the published one)."""
    pytest.importorskip('ray')
    model_bytes = sum(files_under(media['generators']).values())
    import shutil
    import tempfile
    temp = tempfile.mkdtemp(prefix='nl', dir='/tmp')  # short: Ray's socket paths under it must fit 107 bytes
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))
    photos = tmp_path / 'photos'
    photos.mkdir()
    for name in ('in_000.png', 'in_001.png'):
        Image.open(os.path.join(media['frames'], name)).save(str(photos / name))
    proc = run(INFER, infer_args(media['generators'], photos, tmp_path / 'out', '--ray', '--cpus-per-job', '1'),
               env={'TMPDIR': str(temp)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(str(tmp_path / 'out'))) == ['in_000', 'in_001']
    assert set(os.listdir(str(temp))) <= {'ray'}, os.listdir(str(temp))
    left = files_under(temp)
    assert not [path for path in left if path.endswith('.params')]
    assert max(left.values(), default=0) < model_bytes / 4, sorted(left.items(), key=lambda item: -item[1])[:3]


def test_a_ray_video_run_where_every_frame_fails_leaves_no_run_to_resume(media, tmp_path):
    """Item 5g: a --ray video run whose every frame fails (NaN generators) is one line saying no frame is
    done, and leaves no frames folder, run.json nor video behind (nothing to "resume")."""
    pytest.importorskip('ray')
    broken = nan_generators(media, tmp_path / 'nan')
    out = tmp_path / 'v.mp4'
    message = one_line_error(run(VIDEO, [media['frames'], '--method', 'end_to_end', '--model-dir', broken, '--output',
                                         out, '--gpu', '-1', '--max-long-edge', '48', '--ray', '--cpus-per-job', '1']))
    assert re.search(r'--ray: 6 frames failed \(frame \d first, see above\); no frame is done$', message), message
    assert sorted(os.listdir(str(tmp_path))) == ['nan']


def test_a_local_ray_under_a_long_temp_folder_is_one_line_naming_the_path(media, tmp_path):
    """Ray puts its sockets under TMPDIR; past 107 bytes it cannot start (an OSError and a traceback
    before): one line naming the path and RAY_TMPDIR, nothing written."""
    pytest.importorskip('ray')
    temp = tmp_path / ('t' * max(1, 110 - len(str(tmp_path))))
    temp.mkdir()
    message = one_line_error(run(INFER, infer_args(media['generators'], media['frames'], tmp_path / 'out', '--ray'),
                                 env={'TMPDIR': str(temp)}))
    assert message.startswith('boost_inference.py: error: --ray: cannot start a local Ray (') and \
        str(temp) in message and 'RAY_TMPDIR' in message, message
    assert not os.path.exists(tmp_path / 'out')
