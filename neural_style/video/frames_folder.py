"""Where a stylised video goes: OUT.mp4 and its frames folder OUT_frames/ (or only the folder OUT
when it has no extension). Every finished frame is a PNG there, written atomically, and run.json
records the settings, so that a rerun with the same settings resumes after the last finished
frame; another run's frames are never replaced without --overwrite. No MXNet."""
import collections
import hashlib
import json
import logging
import os
import re
import shutil

from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image
from neural_style.files.output_folder import signals_held, write_atomically, write_image_atomically
from neural_style.video.clips import VIDEO_EXTENSIONS

SETTINGS_FILE = 'run.json'
FRAME_NAME = 'frame_%06d.png'  # by the frame's 0-based index in the input

# The video file to write (None: frames only) and the folder of the frames.
Layout = collections.namedtuple('Layout', ['video', 'frames_dir'])


def output_layout(output):
    """The Layout of --output: a video file (its extension one of VIDEO_EXTENSIONS) or a folder
    (no extension), checked against what is already there."""
    extension = os.path.splitext(output.rstrip('/'))[1].lower()
    if extension and extension not in VIDEO_EXTENSIONS:
        raise NstyleError('--output %s: not a video file (%s) nor a folder (no extension); give OUT.mp4 or a '
                          'folder' % (output, ', '.join(VIDEO_EXTENSIONS)))
    if not extension:
        if os.path.exists(output) and not os.path.isdir(output):
            raise NstyleError('--output %s is a file, not a folder; give a folder or a video file such as '
                              'OUT.mp4' % output)
        return Layout(None, output)
    if os.path.isdir(output):
        raise NstyleError('--output %s is a folder, not a video file; choose another name' % output)
    return Layout(output, os.path.splitext(output)[0] + '_frames')


def frame_path(layout, index):
    return os.path.join(layout.frames_dir, FRAME_NAME % index)


def earlier_results(layout):
    """The names of what an earlier run left: frames, its settings, the video."""
    names = []
    if os.path.isdir(layout.frames_dir):
        names = sorted(name for name in os.listdir(layout.frames_dir)
                       if re.fullmatch(r'frame_\d+\.png', name) or name == SETTINGS_FILE)
    if layout.video and os.path.exists(layout.video):
        names.append(os.path.basename(layout.video))
    return names


HASHED_BYTES = 2**20  # a file's identity: its size and the hash of its first MB (a clip is read whole elsewhere)


def file_identity(path):
    """{'bytes': size, 'sha256_first_mb': ...}: enough to tell a replaced file from the same one."""
    with open(path, 'rb') as f:
        head = f.read(HASHED_BYTES)
    return {'bytes': os.path.getsize(path), 'sha256_first_mb': hashlib.sha256(head).hexdigest()}


def folder_identity(folder, names):
    """A frames folder's identity: its frames' names and sizes, and the first and last frames' contents."""
    listing = hashlib.sha256()
    for name in names:
        listing.update(('%s %d\n' % (name, os.path.getsize(os.path.join(folder, name)))).encode())
    return {'frames': len(names), 'sha256_names_and_sizes': listing.hexdigest(),
            'first': file_identity(os.path.join(folder, names[0])),
            'last': file_identity(os.path.join(folder, names[-1]))}


def clip_identity(clip):
    """What run.json records of the input clip (a video file or a folder of frames) as 'input'."""
    return folder_identity(clip.path, clip.files) if clip.kind == 'folder' else file_identity(clip.path)


def depends_on(args, clip):
    """What a video run's frames depend on beyond its flags, as run.json records it: the input's
    files, the style images and the weights (VGG-19's, or the generators' checkpoint files)."""
    found = {'input': clip_identity(clip)}
    if args.method == 'end_to_end':
        from neural_style.generators import checkpoints
        kind = checkpoints.find_kind(args.model_dir)
        name = checkpoints.pick_checkpoint(args.model_dir, kind)
        found['model'] = {'kind': kind, 'checkpoint': name,
                          'files': [file_identity(path) for path in checkpoints.checkpoint_paths(args.model_dir, kind, name)]}
    else:
        from neural_style.files.images import style_image_paths
        import model_vgg19
        found['style'] = [file_identity(path) for path in style_image_paths(args.style_image) if os.path.isfile(path)]
        try:
            found['model'] = file_identity(model_vgg19.find_params(args.vgg_params))
        except model_vgg19.WeightsError:
            pass  # the stylizer, made before, has said so already
    return found


def changed_settings(earlier, settings):
    """The names of what differs between an earlier run.json and this run's settings, the files it
    depends on first ('the input file', 'the model' ...), for the error that refuses the resume."""
    if earlier is None:
        return ['run.json (missing or unreadable)']
    words = {'input': 'the input (INPUT\'s file changed)', 'model': 'the model (its weights files changed)',
             'style': 'the style images (their files changed)'}
    depends, earlier_depends = settings.get('depends_on', {}), earlier.get('depends_on', {})
    changed = [words.get(key, key) for key in sorted(set(depends) | set(earlier_depends))
               if depends.get(key) != earlier_depends.get(key)]
    changed += ['--' + key.replace('_', '-') for key in sorted(set(settings) | set(earlier))
                if key != 'depends_on' and settings.get(key) != earlier.get(key)]
    return changed


def read_settings(layout):
    try:
        with open(os.path.join(layout.frames_dir, SETTINGS_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def recorded_run(result):
    """(path of run.json, its settings) of a result of stylize_video.py: a frames folder, or a video
    OUT.mp4 beside its OUT_frames/; None for a video or folder from elsewhere (or an unreadable run.json)."""
    if os.path.isdir(result):
        frames_dir = result
    elif os.path.splitext(result)[1].lower() in VIDEO_EXTENSIONS:
        frames_dir = os.path.splitext(result)[0] + '_frames'
    else:
        return None
    settings = read_settings(Layout(None, frames_dir))
    if not isinstance(settings, dict) or 'input' not in settings.get('depends_on', {}):
        return None
    return os.path.join(frames_dir, SETTINGS_FILE), settings


EARLIER_RUN = 'earlier-run'  # inside the frames folder: an earlier run's frames, kept until this run ends


def prepare(layout, settings, overwrite):
    """Make the frames folder ready for a run with these settings (a JSON-able dict). The earlier
    results stay when they are this run's (same settings: it resumes); else they are refused, or
    with --overwrite kept as every tool keeps them: the earlier frames move into EARLIER_RUN/ and
    the earlier video stays, until this run has written its own (finish_overwrite)."""
    earlier = earlier_results(layout)
    recorded = read_settings(layout)
    same_run = recorded == settings
    if earlier and overwrite:
        kept = os.path.join(layout.frames_dir, EARLIER_RUN)
        frames = [name for name in earlier if not (layout.video and name == os.path.basename(layout.video))]
        if os.path.isdir(kept):  # an earlier --overwrite that did not finish: its frames are not a result
            for name in frames:
                os.remove(os.path.join(layout.frames_dir, name))
        elif frames:
            os.makedirs(kept)
            for name in frames:
                os.replace(os.path.join(layout.frames_dir, name), os.path.join(kept, name))
            logging.info('--overwrite: the earlier run\'s frames are kept in %s until this run has written its %s',
                         kept, 'video' if layout.video else 'frames')
    elif earlier and not same_run:
        changed = changed_settings(recorded, settings)
        raise NstyleError('--output: %s already holds results of another run or other settings (%s; changed since: '
                          '%s): pass --overwrite to replace them, or choose another --output'
                          % (layout.frames_dir if os.path.isdir(layout.frames_dir) else layout.video,
                             ', '.join(earlier[:3] + ['...'] * (len(earlier) > 3)),
                             ', '.join(changed[:4] + ['...'] * (len(changed) > 4))))
    try:
        os.makedirs(layout.frames_dir, exist_ok=True)
    except OSError as error:
        raise NstyleError('--output: cannot create the frames folder %s (%s); choose another --output'
                          % (layout.frames_dir, error.strerror or error)) from None
    if not (earlier and same_run and not overwrite):
        write_atomically(os.path.join(layout.frames_dir, SETTINGS_FILE), lambda temporary: write_json(temporary, settings))


def forget_empty_run(layout):
    """A run that failed before its first frame leaves no run.json behind (nor the folder, when it
    is then empty): nothing of it is a result to resume. An --overwrite run that did so puts the
    earlier run's frames and run.json back from EARLIER_RUN/: the folder is as it was before it."""
    kept = os.path.join(layout.frames_dir, EARLIER_RUN)
    new_frames = [name for name in earlier_results(layout) if re.fullmatch(r'frame_\d+\.png', name)]
    if os.path.isdir(kept) and not new_frames:
        with signals_held():
            for name in os.listdir(kept):
                os.replace(os.path.join(kept, name), os.path.join(layout.frames_dir, name))
            os.rmdir(kept)
        logging.info('--overwrite: this run ended before its first frame; the earlier run\'s frames are back in %s',
                     layout.frames_dir)
        return
    if finished_count(layout, 0, 1) or earlier_frames(layout):
        return
    try:
        os.remove(os.path.join(layout.frames_dir, SETTINGS_FILE))
    except OSError:
        pass


def earlier_frames(layout):
    return [name for name in earlier_results(layout) if re.fullmatch(r'frame_\d+\.png', name)] or \
        os.path.isdir(os.path.join(layout.frames_dir, EARLIER_RUN))


def finish_overwrite(layout):
    """This run's results are complete (its video written, or its frames): the earlier run's kept
    frames go."""
    shutil.rmtree(os.path.join(layout.frames_dir, EARLIER_RUN), ignore_errors=True)


def write_json(path, settings):
    with open(path, 'w') as f:
        json.dump(settings, f, indent=1, sort_keys=True)


def finished_count(layout, start, stop):
    """How many frames from `start` on are finished, one after the other (a resumed run goes on after them)."""
    count = 0
    while start + count < stop and os.path.isfile(frame_path(layout, start + count)):
        count += 1
    return count


def write_frame(layout, index, pixels):
    write_image_atomically(frame_path(layout, index), pixels)


def read_frame(layout, index):
    return read_rgb_image(frame_path(layout, index), '--output')
