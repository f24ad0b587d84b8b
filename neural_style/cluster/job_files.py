"""A job's files as bytes in memory, for workers on other machines (--ray): the driver reads the
job's input files and sends their bytes; the worker runs the job with its image reads served
from them and its image writes kept; the driver writes those. So the workers need no shared
filesystem, and the job runs the very code a local run does. No MXNet.

The reads and writes happen deep inside a run (every stage, every checkpoint), so the files of
the job running in this context are found through a context variable rather than a parameter
threaded through every reader and writer."""
import atexit
import contextlib
import contextvars
import io
import os
import shutil
import tempfile

from neural_style.errors import NstyleError

_ACTIVE = contextvars.ContextVar('neural_style_job_files', default=None)


def read_input_files(paths):
    """{path: the file's bytes} (on the driver); the paths must be readable files."""
    files = {}
    for path in paths:
        with open(path, 'rb') as f:
            files[path] = f.read()
    return files


@contextlib.contextmanager
def in_memory(inputs):
    """Within it, images are read from inputs ({path: bytes}) and written to the list it yields, as
    (path, pixels) in the order written; output folders are left to the driver."""
    outputs = []
    token = _ACTIVE.set((inputs, outputs))
    try:
        yield outputs
    finally:
        _ACTIVE.reset(token)


def active():
    """Whether a job's files are in memory here (then nothing is read from or written to the disk)."""
    return _ACTIVE.get() is not None


def exists(path):
    """Whether the driver sent this path (os.path.exists's question, asked of the job's files)."""
    return path in _ACTIVE.get()[0]


def opener(path):
    """A function that opens the path's bytes as a file object each time it is called, or None
    when no job's files are in memory (then read the disk)."""
    files = _ACTIVE.get()
    if files is None:
        return None
    if path not in files[0]:  # the driver sends every input a job names; a miss is a bug, said plainly
        raise NstyleError('%s was not sent to the worker with the job' % path)
    data = files[0][path]
    return lambda: io.BytesIO(data)


def keep_output(filename, pixels):
    """Keep an image written by the job (True), or False when no job's files are in memory."""
    files = _ACTIVE.get()
    if files is None:
        return False
    files[1].append((filename, pixels))
    return True


def read_folder_files(folder, paths):
    """{path relative to folder: bytes} of these files of folder (a model's files, to send to workers)."""
    return {os.path.relpath(path, folder): read_input_files([path])[path] for path in paths}


def local_folder(files):
    """A folder of this machine holding files ({relative path: bytes}): for loaders that read a model
    from a folder, on a worker that has no copy of it. Removed when the process ends normally."""
    folder = tempfile.mkdtemp(prefix='neural_style-model-')
    atexit.register(shutil.rmtree, folder, True)
    for name, data in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    return folder
