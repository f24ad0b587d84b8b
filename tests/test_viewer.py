"""view_checkpoints.py: the checkpoints of a run in numeric order, then final.jpg, as a
labelled contact sheet and an animated GIF (the original's checkpoint-viewer notebook, as files)."""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import PROJECT, assert_one_line_error

# the run's files, written out of order, each a plain colour
COLOURS = {'e_9.jpg': (220, 30, 30), 'e_10.jpg': (30, 200, 30), 'e_2.jpg': (30, 30, 220), 'final.jpg': (230, 220, 30)}
ORDER = ['e_2.jpg', 'e_9.jpg', 'e_10.jpg', 'final.jpg']


def run_viewer(*args):
    return subprocess.run([sys.executable, os.path.join(PROJECT, 'view_checkpoints.py')] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=120)


def near(pixels, colour):
    return np.abs(pixels.astype(int) - colour).max(axis=-1) < 40


def test_contact_sheet_and_gif_put_e_10_after_e_9_and_final_last(tmp_path):
    for name, colour in COLOURS.items():
        Image.new('RGB', (24, 16), colour).save(tmp_path / name, quality=95)
    (tmp_path / 'notes.txt').write_text('not a checkpoint')
    proc = run_viewer(tmp_path, '--columns', 4)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['wrote', str(tmp_path / 'contact_sheet.png'), 'wrote', str(tmp_path / 'checkpoints.gif')]

    # contact sheet: one row of four panels, left to right in numeric order
    sheet = np.asarray(Image.open(tmp_path / 'contact_sheet.png').convert('RGB'))
    centres = []
    for name in ORDER:
        ys, xs = np.nonzero(near(sheet, COLOURS[name]))
        assert len(xs) >= 20 * 12, name  # the whole panel is there, at its size
        assert xs.max() - xs.min() == 23 and ys.max() - ys.min() == 15, name
        centres.append(xs.mean())
    assert centres == sorted(centres)
    assert sheet.shape[0] < 2 * 16 + 60  # one row (with its labels and the title)

    # GIF: one frame a checkpoint, same order, the result shown longest, looping
    gif = Image.open(tmp_path / 'checkpoints.gif')
    assert gif.n_frames == 4 and gif.info['loop'] == 0
    durations = []
    for index, name in enumerate(ORDER):
        gif.seek(index)
        frame = np.asarray(gif.convert('RGB'))
        assert near(frame, COLOURS[name]).sum() >= 20 * 12, name
        durations.append(gif.info['duration'])
    assert durations == [500, 500, 500, 2000]


def test_missing_or_empty_folder_gets_one_line(tmp_path, run_tool):
    import view_checkpoints
    for folder, needle in ((tmp_path / 'nowhere', 'no such folder'), (tmp_path, 'holds no e_N.jpg or final.jpg')):
        proc = run_tool(view_checkpoints.main, [folder], 'view_checkpoints.py')
        message = assert_one_line_error(proc, needle, prog='view_checkpoints.py')
        assert proc.stderr.strip() == message and message.startswith('view_checkpoints.py: error: %s' % folder)
    assert os.listdir(tmp_path) == []  # nothing written, no folder made
