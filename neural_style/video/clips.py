"""Video in and out through imageio-ffmpeg, which ships its own ffmpeg binary (no system ffmpeg):
a clip is a video file or a folder of frame images; frames are 8-bit RGB (h, w, 3). No MXNet."""
import collections
import itertools
import os
import re
import subprocess

import numpy as np
from PIL import Image

from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image
from neural_style.files.output_folder import write_atomically

FRAME_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v')

# A clip to read: its path, 'video' or 'folder', frames per second, number of frames, (w, h), the
# audio codec of a video's first audio track (None when it has none), and a folder's frame files.
Clip = collections.namedtuple('Clip', ['path', 'kind', 'fps', 'count', 'size', 'audio', 'files'])


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


def stream_kinds(path):
    """The kinds of the file's streams as ffmpeg's header names them ('Video', 'Audio', ...); [] when
    ffmpeg cannot read the file."""
    header = subprocess.run([ffmpeg_exe(), '-hide_banner', '-i', path], capture_output=True, text=True,
                            errors='replace').stderr
    return re.findall(r'^\s*Stream #\S+.*?: (\w+):', header, flags=re.MULTILINE)


def open_video(path, flag):
    import imageio_ffmpeg
    kinds = stream_kinds(path)
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
    reader = imageio_ffmpeg.read_frames(clip.path)
    try:
        w, h = next(reader)['size']
        for index, data in enumerate(reader):
            if index >= stop:
                break
            if index >= start:
                yield index, np.frombuffer(data, np.uint8).reshape(h, w, 3)
    finally:
        reader.close()  # ends the ffmpeg process


def resized_frame(pixels, size):
    """8-bit (h, w, 3) pixels at size (h, w), 8-bit again (as the frames are stylised and compared)."""
    if pixels.shape[:2] == tuple(size):
        return pixels
    from skimage import img_as_ubyte, transform
    return img_as_ubyte(transform.resize(pixels, size, anti_aliasing=True))


def write_video(path, frames, fps, audio=None):
    """Write the (h, w, 3) uint8 frames as an H.264 video at `fps`, atomically. audio: None, or
    (source file, start second, seconds) whose first audio track is copied in (re-encoded as AAC
    where the container cannot hold it as it is)."""
    import imageio_ffmpeg
    frames = iter(frames)  # read one at a time: a long clip's frames need not fit in memory
    first = next(frames)
    h, w = first.shape[:2]

    def write(temporary):
        silent = temporary + '.video' + os.path.splitext(path)[1]
        # macro_block_size 2: H.264 in yuv420p needs even sides; a larger block would rescale small clips
        writer = imageio_ffmpeg.write_frames(silent, (w, h), fps=fps, quality=9, macro_block_size=2,
                                             ffmpeg_log_level='error')
        try:
            writer.send(None)
            for frame in itertools.chain([first], frames):
                writer.send(np.ascontiguousarray(frame))
        finally:
            writer.close()
        try:
            if audio is None:
                os.replace(silent, temporary)
            else:
                mux_audio(silent, audio, temporary)
        finally:
            if os.path.exists(silent):
                os.remove(silent)
    write_atomically(path, write)


def mux_audio(video, audio, output):
    """output: video's picture with the first audio track of audio's (file, start, seconds)."""
    source, start, seconds = audio
    for codec in ('copy', 'aac'):  # copy keeps the sound as it was; aac where the container refuses it
        command = [ffmpeg_exe(), '-y', '-v', 'error', '-i', video, '-ss', '%.6f' % start, '-t', '%.6f' % seconds,
                   '-i', source, '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', codec, output]
        if subprocess.run(command, capture_output=True).returncode == 0:
            return
    raise NstyleError('cannot copy the audio of %s into %s (ffmpeg failed); pass --no-audio to leave it out'
                      % (source, output))

