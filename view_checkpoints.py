"""The checkpoints of a run as files: what the original's checkpoint-viewer.ipynb showed,
e_N.jpg in numeric order and then final.jpg, as a labelled contact sheet (PNG) and an
animated GIF, both written into the run's folder.

    python view_checkpoints.py output/
    python view_checkpoints.py output/ --json      # one JSON report: what was read and written
"""
import dataclasses
import math
import os
import re
import sys

from neural_style.cli.signals import quiet_ctrl_c_while_importing

with quiet_ctrl_c_while_importing():  # scikit-image takes a second or two to load
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from neural_style.cli.flag_types import POSITIVE_INT
    from neural_style.cli.report import Phases, hold_stdout, make_report
    from neural_style.cli.tool import OneLineErrorParser, run_cli
    from neural_style.errors import NstyleError
    from neural_style.files.images import check_input_folder, read_rgb_image, shrunk_to_long_edge
    from neural_style.files.output_folder import write_atomically, write_image_atomically

PANEL_LONG_EDGE = 300  # contact-sheet panels are shrunk to this; the GIF keeps the full size
GAP = 4
FONT = ImageFont.load_default(size=13)
TEXT_HEIGHT = 17
CHECKPOINT_MS, FINAL_MS = 500, 2000  # GIF frame durations: the result stays longer


def checkpoints(folder):
    """[(label, path)]: e_N.jpg by N (e_10 after e_9), then final.jpg."""
    check_input_folder(folder, '', 'give the --output_dir of a run (the folder of its e_N.jpg and final.jpg)')
    numbered = sorted((int(m.group(1)), name) for name in os.listdir(folder)
                      for m in [re.fullmatch(r'e_(\d+)\.jpg', name)] if m)
    found = [('e_%d' % epoch, os.path.join(folder, name)) for epoch, name in numbered]
    if os.path.isfile(os.path.join(folder, 'final.jpg')):
        found.append(('final', os.path.join(folder, 'final.jpg')))
    if not found:
        raise NstyleError('%s holds no e_N.jpg or final.jpg: give the --output_dir of a run of nstyle.py'
                                 % folder)
    return found


def shrink(img, long_edge=PANEL_LONG_EDGE):
    """The PIL image with its long edge at most long_edge (never enlarged)."""
    return Image.fromarray(shrunk_to_long_edge(np.asarray(img), long_edge))


def text_width(text):
    return math.ceil(FONT.getlength(text))


def cell_size(panels):
    """As wide as the widest image or label, as high as the tallest image plus a label line."""
    return (max([img.width for _, img in panels] + [text_width(label) for label, _ in panels]),
            max(img.height for _, img in panels) + TEXT_HEIGHT)


def layout(panels, columns, title=None, cell=None):
    """Where each labelled panel goes: (cell width, cell height, [(x, y) of each cell], sheet size)."""
    cell_w, cell_h = cell or cell_size(panels)
    top = GAP + (TEXT_HEIGHT + GAP if title else 0)
    origins = [(GAP + (i % columns) * (cell_w + GAP), top + (i // columns) * (cell_h + GAP))
               for i in range(len(panels))]
    rows = math.ceil(len(panels) / columns)
    width = max(GAP + min(columns, len(panels)) * (cell_w + GAP), 2 * GAP + text_width(title or ''))
    return cell_w, cell_h, origins, (width, top + rows * (cell_h + GAP))


def montage(panels, columns, title=None, cell=None):
    """[(label, PIL image)] in rows of `columns` on white, each image centred in its cell over its
    label; a title line above when given. `cell`: the cell size, when not the panels' own."""
    cell_w, cell_h, origins, size = layout(panels, columns, title, cell)
    sheet = Image.new('RGB', size, 'white')
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((GAP, GAP), title, fill='black', font=FONT)
    for (label, img), (x, y) in zip(panels, origins):
        sheet.paste(img, (x + (cell_w - img.width) // 2, y))
        draw.text((x + (cell_w - text_width(label)) // 2, y + cell_h - TEXT_HEIGHT + 1), label,
                  fill='black', font=FONT)
    return sheet


def write_png(filename, sheet):
    write_image_atomically(filename, np.asarray(sheet))


def write_gif(filename, frames, durations):
    """An animated GIF that loops forever; `durations` in milliseconds, one per frame."""
    write_atomically(filename, lambda temporary: frames[0].save(
        temporary, format='GIF', save_all=True, append_images=frames[1:], duration=durations, loop=0))


@dataclasses.dataclass(frozen=True)
class ViewSettings:
    output_dir: str
    columns: int = 5
    json: bool = False


# what view() wrote: the two files, the contact sheet's (w, h), and the GIF's (w, h) and frame count
Views = dataclasses.make_dataclass('Views', ['sheet_path', 'gif_path', 'sheet_size', 'gif_size', 'frames',
                                             'checkpoints'], frozen=True)


def view(folder, columns=5):
    """Write <folder>/contact_sheet.png and <folder>/checkpoints.gif; returns their paths."""
    views = write_views(folder, columns)
    return views.sheet_path, views.gif_path


def write_views(folder, columns=5):
    """view()'s work: the Views written."""
    found = checkpoints(folder)
    images = [(label, Image.fromarray(read_rgb_image(path, 'checkpoint'))) for label, path in found]
    sheet_path = os.path.join(folder, 'contact_sheet.png')
    sheet = montage([(label, shrink(img)) for label, img in images], columns,
                    title='checkpoints of %s: e_N.jpg, then final.jpg' % folder)
    write_png(sheet_path, sheet)
    cell = cell_size(images)  # one for all frames: a GIF's frames have one size
    frames = [montage([panel], 1, cell=cell) for panel in images]
    gif_path = os.path.join(folder, 'checkpoints.gif')
    write_gif(gif_path, frames, [FINAL_MS if label == 'final' else CHECKPOINT_MS for label, _ in images])
    return Views(sheet_path, gif_path, sheet.size, frames[0].size, len(frames), [path for _, path in found])


def main(arglist=None):
    # the flags inside run_cli too: `view_checkpoints.py -h | head -1` ends quietly
    return run_cli(lambda: view_and_report(parse(arglist)), 'view_checkpoints.py')


def view_and_report(settings):
    """The views written and their paths printed, or with --json the Report."""
    phases = Phases()
    if settings.json:
        hold_stdout()
    views = write_views(settings.output_dir, settings.columns)
    phases.done('views')
    if not settings.json:
        print('wrote %s\nwrote %s' % (views.sheet_path, views.gif_path))
        return None
    return make_report('view_checkpoints.py', {'checkpoints': views.checkpoints},
                       {'contact_sheet': views.sheet_path, 'gif': views.gif_path}, settings, phases,
                       extra={'contact_sheet_size': list(views.sheet_size), 'gif_size': list(views.gif_size),
                              'gif_frames': views.frames})


def parse(arglist):
    """The ViewSettings of the command line."""
    parser = OneLineErrorParser(
        description='write a labelled contact sheet (contact_sheet.png) and an animated GIF (checkpoints.gif) of '
                    'the checkpoints e_N.jpg of a run, in numeric order, then final.jpg')
    parser.add_argument('output_dir', help='the --output_dir of a run of nstyle.py')
    parser.add_argument('--columns', type=POSITIVE_INT, default=5,
                        help='panels per row of the contact sheet')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON report (the one shape of every tool; docs/running.md) instead of the '
                             'paths written')
    args = parser.parse_args(arglist)
    return ViewSettings(args.output_dir, args.columns, args.json)


if __name__ == '__main__':
    sys.exit(main())
