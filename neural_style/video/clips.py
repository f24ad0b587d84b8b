"""Video in and out through imageio-ffmpeg, which ships its own ffmpeg binary (no system ffmpeg):
a clip is a video file or a folder of frame images; frames are 8-bit RGB (h, w, 3). No MXNet."""
import collections
import itertools
import logging
import os
import re
import subprocess
from fractions import Fraction

import numpy as np
from PIL import Image

from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image
from neural_style.files.output_folder import write_atomically

FRAME_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v')

# A clip to read: its path, 'video' or 'folder', frames per second, number of frames, (w, h), the
# audio codec of a video's first audio track (None when it has none), a folder's frame files, and
# for a video of variable frame rate the ffmpeg output options that read it at a constant `fps`.
Clip = collections.namedtuple('Clip', ['path', 'kind', 'fps', 'count', 'size', 'audio', 'files', 'constant_rate'],
                              defaults=[None])


def natural_key(name):
    """'frame2.png' before 'frame10.png'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', name)]


def frame_files(folder):
    return sorted((name for name in os.listdir(folder)
                   if os.path.splitext(name)[1].lower() in FRAME_EXTENSIONS and not name.startswith('.')),
                  key=natural_key)


def ffmpeg_exe():
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def open_folder(path, flag, fps):
    files = frame_files(path)
    if not files:
        raise NstyleError('%s %s: a folder with no frame images (%s); give a video file or a folder of frames'
                          % (flag, path, ', '.join(FRAME_EXTENSIONS)))
    h, w = read_rgb_image(os.path.join(path, files[0]), flag).shape[:2]
    for name in files[1:]:  # the headers only: a frame of another size fails before any work
        try:
            with Image.open(os.path.join(path, name)) as image:
                size = image.size
        except OSError:
            size = read_rgb_image(os.path.join(path, name), flag).shape[1::-1]  # its one-line error
        if size != (w, h):
            raise NstyleError('%s %s: frame %s is %dx%d but the first frame (%s) is %dx%d; all frames must have one '
                              'size' % (flag, path, name, size[0], size[1], files[0], w, h))
    return Clip(path, 'folder', float(fps), len(files), (w, h), None, files)


def probe(path):
    """(the container format as ffmpeg names it, the kinds of the file's streams as its header names
    them: 'Video', 'Audio', ..., the first video stream's header line); (None, [], '') when ffmpeg
    cannot read the file."""
    header = subprocess.run([ffmpeg_exe(), '-hide_banner', '-i', path], capture_output=True, text=True,
                            errors='replace').stderr
    container = re.search(r'^Input #0, ([^,]+),', header, flags=re.MULTILINE)
    video = re.search(r'^\s*Stream #\S+.*?: Video:.*$', header, flags=re.MULTILINE)
    return (container.group(1) if container else None,
            re.findall(r'^\s*Stream #\S+.*?: (\w+):', header, flags=re.MULTILINE), video.group(0) if video else '')


def variable_frame_rate(video_stream):
    """A phone's clip often has a variable frame rate: ffmpeg's header then gives its average rate
    ("18.75 fps") and another guess of the base rate ("30 tbr"). Read as it is, such a clip comes out
    at the tbr with frames repeated, and a video written at the average rate would run slow against
    its audio. Returns the average rate when the two differ (the clip is then read at it, constant)."""
    rates = re.search(r'([\d.]+)(k?) fps, ([\d.]+)(k?) tbr', video_stream)
    if not rates:
        return None
    fps, tbr = (float(number) * (1000 if kilo else 1) for number, kilo in (rates.group(1, 2), rates.group(3, 4)))
    return fps if fps > 0 and abs(fps - tbr) > 0.01 * tbr else None


def constant_rate_count(path, options):
    """The number of frames ffmpeg gives when it reads the video with these output options (a decode)."""
    log = subprocess.run([ffmpeg_exe(), '-hide_banner', '-nostats', '-i', path, '-map', '0:v:0'] + list(options)
                         + ['-f', 'null', '-'], capture_output=True, text=True, errors='replace').stderr
    frames = re.findall(r'frame=\s*(\d+)', log)
    return int(frames[-1]) if frames else 0


def stream_kinds(path):
    """The kinds of the file's streams ('Video', 'Audio', ...); [] when ffmpeg cannot read the file."""
    return probe(path)[1]


def is_still_image(path, container):
    """A picture, not a video: ffmpeg reads one as a 1-frame video (image2, png_pipe, jpeg_pipe ...)."""
    return os.path.splitext(path)[1].lower() in FRAME_EXTENSIONS or \
        container is not None and (container == 'image2' or container.endswith('_pipe'))


def open_video(path, flag):
    import imageio_ffmpeg
    container, kinds, video_stream = probe(path)
    if is_still_image(path, container):
        raise NstyleError('%s %s is a still image, not a video; give a video or a folder of frames' % (flag, path))
    if kinds and 'Video' not in kinds:
        raise NstyleError('%s %s: the file has no video frames (only %s); give a video' % (
            flag, path, ', '.join(sorted(set(kind.lower() for kind in kinds)))))
    reader = imageio_ffmpeg.read_frames(path)
    try:
        meta = next(reader)
        count, _ = imageio_ffmpeg.count_frames_and_secs(path)
    except (RuntimeError, OSError, StopIteration, IndexError, ValueError) as error:
        reason = str(error).strip().splitlines()
        raise NstyleError('%s %s: not a video ffmpeg can read (%s); give a video file (such as .mp4) or a folder '
                          'of frames' % (flag, path, reason[-1][:120] if reason else type(error).__name__)) from None
    finally:
        reader.close()
    if count == 0:
        raise NstyleError('%s %s: the video has no frames; give another video' % (flag, path))
    announced = int(round(float(meta.get('duration') or 0) * float(meta['fps'] or 0)))
    if count < 0.9 * announced - 1:  # well under (an audio track may outlast the picture by a little)
        logging.warning('%s %s: only %d frames could be decoded of the about %d its header announces (%.2f s at %g '
                        'fps): the file is truncated or damaged; the result has those %d frames', flag, path, count,
                        announced, float(meta['duration']), float(meta['fps']), count)
    average = variable_frame_rate(video_stream)
    if average is not None:
        # the fps filter: for each time k / fps the frame nearest to it (ffmpeg's -r lags by up to 1.5 frames)
        constant_rate = ('-vf', 'fps=%s' % Fraction(average).limit_denominator(1001))
        count = constant_rate_count(path, constant_rate)
        logging.info('%s %s has a variable frame rate: read at a constant %g fps (%d frames), as its video will be '
                     'written', flag, path, average, count)
        return Clip(path, 'video', average, count, tuple(meta['size']), meta.get('audio_codec'), None, constant_rate)
    return Clip(path, 'video', float(meta['fps']) or 25.0, count, tuple(meta['size']), meta.get('audio_codec'), None)


def open_clip(path, flag='INPUT', folder_fps=25.0):
    """The Clip of a video file or a folder of frames (those frames per second), checked: it must
    hold at least one frame."""
    if os.path.isdir(path):
        return open_folder(path, flag, folder_fps)
    if not os.path.isfile(path):
        raise NstyleError('%s %s: no such file or folder (relative paths start from %s)' % (flag, path, os.getcwd()))
    return open_video(path, flag)


def read_frames(clip, start, stop, flag='INPUT'):
    """Frames start ... stop - 1 of the clip (0-based), as (index, pixels); all of the clip's size."""
    if clip.kind == 'folder':
        for index in range(start, stop):
            path = os.path.join(clip.path, clip.files[index])
            yield index, read_rgb_image(path, flag)  # its size was checked by open_folder
        return
    import imageio_ffmpeg
    reader = imageio_ffmpeg.read_frames(clip.path, output_params=list(clip.constant_rate or ()))
    read = 0
    try:
        w, h = next(reader)['size']
        for index, data in enumerate(reader):
            if index >= stop:
                break
            read = index + 1
            if index >= start:
                yield index, np.frombuffer(data, np.uint8).reshape(h, w, 3)
    finally:
        reader.close()  # ends the ffmpeg process
    if read < min(stop, clip.count):  # the file ends before what its header announced: said, not hidden
        logging.warning('%s %s: only %d of the %d frames its header announces could be read (the file is '
                        'truncated or damaged); the frames after %d are missing', flag, clip.path, read,
                        clip.count, read - 1)


def resized_frame(pixels, size):
    """8-bit (h, w, 3) pixels at size (h, w), 8-bit again (as the frames are stylised and compared)."""
    if pixels.shape[:2] == tuple(size):
        return pixels
    from skimage import img_as_ubyte, transform
    return img_as_ubyte(transform.resize(pixels, size, anti_aliasing=True))


# The encoder of each container: H.264 where it holds it, VP9 for .webm (which holds only VP8/VP9/AV1).
VIDEO_CODECS = {'.webm': ['-vcodec', 'libvpx-vp9', '-crf', '10', '-b:v', '0']}
H264 = ['-vcodec', 'libx264', '-crf', '5']  # imageio-ffmpeg's quality 9, as before
AUDIO_CODECS = {'.webm': ('libopus',)}  # what a container holds when its audio cannot be copied as it is


def free_bytes(folder):
    try:
        stats = os.statvfs(folder or '.')
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def disk_full(error_text, folder):
    """Did a write into folder fail because its disk is full? ffmpeg's words, or the space left."""
    free = free_bytes(folder)
    return 'No space left' in error_text or (free is not None and free < 64 * 1024)


def written_error(path, what, error_text):
    """The one line for a write that failed: a full disk says so (and not to leave the audio out)."""
    folder = os.path.dirname(os.path.abspath(path))
    if disk_full(error_text, folder):
        return 'cannot write %s: no space left on the device of %s; free some space or choose another --output' % (
            path, folder)
    last = [line for line in error_text.strip().splitlines() if line.strip()]
    return 'cannot write %s: ffmpeg failed %s (%s)' % (path, what, last[-1][:200] if last else 'no message')


def encode_frames(path, frames, fps, name=None):
    """The frames (h, w, 3) uint8, one at a time, into a silent video at path with ffmpeg; returns how
    many were sent. ffmpeg's exit status and its messages are checked: a failed encode is an error
    (naming `name`, the result the user asked for, default path)."""
    name = name or path
    import tempfile
    first = next(frames)
    h, w = first.shape[:2]
    command = [ffmpeg_exe(), '-y', '-f', 'rawvideo', '-vcodec', 'rawvideo', '-s', '%dx%d' % (w, h), '-pix_fmt', 'rgb24',
               '-r', str(Fraction(fps).limit_denominator()), '-i', '-', '-an']
    command += VIDEO_CODECS.get(os.path.splitext(path)[1].lower(), H264) + ['-pix_fmt', 'yuv420p']
    if w % 2 or h % 2:  # yuv420p needs even sides: as imageio-ffmpeg's macro_block_size 2 did
        command += ['-vf', 'scale=%d:%d' % (w + w % 2, h + h % 2)]
    command += ['-v', 'error', path]
    count = 0
    with tempfile.TemporaryFile() as messages:
        # its own session: Ctrl-C reaches this process, which stops after the frame, not ffmpeg
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=messages,
                                   start_new_session=True)
        try:
            for frame in itertools.chain([first], frames):
                if frame.shape[:2] != (h, w):
                    raise NstyleError('cannot write %s: frame %d is %dx%d, not %dx%d as the first'
                                      % (name, count, frame.shape[1], frame.shape[0], w, h))
                process.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
                count += 1
            process.stdin.close()
            status = process.wait()
        except BrokenPipeError:  # ffmpeg ended early: its messages say why
            status = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        messages.seek(0)
        text = messages.read().decode('utf-8', 'replace')
    if status != 0:
        raise NstyleError(written_error(name, 'to encode the frames', text))
    return count


def check_written_video(path, expected_frames, name):
    """The written file, read back with the project's reader before it replaces anything: it must hold
    a video stream with all the frames sent; else an NstyleError (name: the result's name)."""
    kinds = stream_kinds(path)
    if 'Video' not in kinds:
        raise NstyleError(written_error(name, 'to write a video stream', 'the written file has no video stream'))
    try:
        clip = open_video(path, name)
    except NstyleError as error:
        raise NstyleError(written_error(name, 'to write a readable video', str(error))) from None
    if clip.count != expected_frames:
        raise NstyleError(written_error(name, 'to write all the frames', 'the written file holds %d of the %d frames'
                                                                       % (clip.count, expected_frames)))


def write_video(path, frames, fps, audio=None):
    """Write the (h, w, 3) uint8 frames as a video at `fps` (H.264; VP9 in .webm), atomically: the file
    is read back and checked (a video stream, every frame) before it takes the name path. audio:
    None, or (source file, start second, seconds) whose first audio track is copied in (re-encoded
    where the container cannot hold it as it is)."""
    frames = iter(frames)  # read one at a time: a long clip's frames need not fit in memory

    def write(temporary):
        silent = temporary + '.video' + os.path.splitext(path)[1]
        try:
            count = encode_frames(silent, frames, fps, path)
            if audio is None:
                os.replace(silent, temporary)
            else:
                mux_audio(silent, audio, temporary, path)
        finally:
            if os.path.exists(silent):
                os.remove(silent)
        check_written_video(temporary, count, path)
    write_atomically(path, write)


def mux_audio(video, audio, output, name=None):
    """output: video's picture with the first audio track of audio's (file, start, seconds)."""
    source, start, seconds = audio
    messages = ''
    # copy keeps the sound as it was; re-encoded where the container refuses it
    for codec in ('copy',) + AUDIO_CODECS.get(os.path.splitext(output)[1].lower(), ('aac',)):
        command = [ffmpeg_exe(), '-y', '-v', 'error', '-i', video, '-ss', '%.6f' % start, '-t', '%.6f' % seconds,
                   '-i', source, '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', codec, output]
        done = subprocess.run(command, capture_output=True, text=True, errors='replace')
        if done.returncode == 0:
            return
        messages += done.stderr
        if disk_full(messages, os.path.dirname(os.path.abspath(output))):  # not the audio's fault
            raise NstyleError(written_error(name or output, 'to add the audio', messages))
    raise NstyleError('cannot copy the audio of %s into %s (ffmpeg failed); pass --no-audio to leave it out'
                      % (source, name or output))

