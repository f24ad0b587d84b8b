"""Synthetic clips for the video tests and benchmarks/video_bench.py: a window panning across the
sample photo by a known shift per frame, as frame files or as a video with an audio track (made
with imageio-ffmpeg's own ffmpeg)."""
import os
import subprocess

import numpy as np
from skimage import io, transform

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(PROJECT, 'input', 'IMG_4343.jpg')
STYLE = os.path.join(PROJECT, 'input', 'starry_night.jpg')


def small_photo(size=(100, 150), path=PHOTO):
    """The sample photo at `size` (h, w), 8-bit."""
    return (transform.resize(io.imread(path), size, anti_aliasing=True) * 255).astype(np.uint8)


def panning_frames(count, window=(32, 48), step=(1, 2), origin=(20, 30), photo=None):
    """`count` frames (h, w, 3) uint8: the window (h, w) at origin + t * step (rows, cols) for frame t.
    Frame t is frame t-1 moved by -step, so frame t's backward flow (onto frame t-1) is +step."""
    photo = small_photo() if photo is None else photo
    h, w = window
    frames = []
    for t in range(count):
        row, col = origin[0] + t * step[0], origin[1] + t * step[1]
        assert row + h <= photo.shape[0] and col + w <= photo.shape[1], 'the window left the photo'
        frames.append(photo[row:row + h, col:col + w].copy())
    return frames


def moving_square(shift=(0, 3), size=(48, 64), corner=(16, 20)):
    """(frame t-1, frame t): a 16x16 square of smoothed random texture at `corner` (row, col) in frame
    t-1 and at corner + shift in frame t, over the still photo. Frame t's backward flow is -shift on
    the square, 0 on the background; the strip the square uncovers has no source in frame t-1."""
    from scipy import ndimage
    background = small_photo(size)
    noise = np.random.RandomState(0).uniform(0, 255, (16, 16, 3))
    square = np.clip(ndimage.gaussian_filter(noise, (1, 1, 0)) * 3 - 255, 0, 255).astype(np.uint8)
    frames = []
    for t in range(2):
        frame = background.copy()
        row, col = corner[0] + t * shift[0], corner[1] + t * shift[1]
        frame[row:row + 16, col:col + 16] = square
        frames.append(frame)
    return frames[0], frames[1]


def save_frames(folder, frames, name='in_%03d.png'):
    os.makedirs(str(folder), exist_ok=True)
    for t, frame in enumerate(frames):
        io.imsave(os.path.join(str(folder), name % t), frame, check_contrast=False)
    return str(folder)


def small_style(path, size=(40, 60)):
    """A small copy of the style image (resizing the full one costs a second a run)."""
    io.imsave(str(path), small_photo(size, STYLE), check_contrast=False)
    return str(path)


def write_clip(path, frames, fps, audio_seconds=None):
    """An H.264 video of the frames at fps (lossless: -qp 0, so that the frames read back are the
    ones given, up to the RGB-YUV conversion), with a 440 Hz AAC tone of audio_seconds when given."""
    import imageio_ffmpeg
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    h, w = frames[0].shape[:2]
    command = [ffmpeg, '-y', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '%dx%d' % (w, h),
               '-r', str(fps), '-i', '-']
    if audio_seconds:
        command += ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=%g' % audio_seconds, '-c:a', 'aac']
    command += ['-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p', str(path)]
    subprocess.run(command, input=np.ascontiguousarray(np.stack(frames)).tobytes(), check=True,
                   capture_output=True)
    return str(path)
