"""Writing results: atomically (never a half-written file) and into an output folder whose
earlier results are never replaced unless the user asked for it. No MXNet."""
import logging
import os
import re

from . import job_files
from .flags import NstyleError


def write_atomically(filename, write):
    """write(temporary) to a temporary name in the same folder, then rename: never a half-written file."""
    folder, name = os.path.split(filename)
    temporary = os.path.join(folder, '.%s.%d.tmp%s' % (name, os.getpid(), os.path.splitext(name)[1]))
    try:
        write(temporary)
        os.replace(temporary, filename)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError):
            raise NstyleError('cannot write %s: %s' % (filename, error)) from None
        raise


def write_image_atomically(filename, pixels):
    if job_files.keep_output(filename, pixels):  # a job on a cluster's worker: the driver writes it
        return
    from skimage import io  # here: the tools that only read images do not pay for its import
    write_atomically(filename, lambda temporary: io.imsave(temporary, pixels, check_contrast=False))


def prepare_output_dir(output_dir, overwrite):
    """Create the folder, make sure it is writable, and refuse to replace an earlier run's results.
    In a job on a cluster's worker (job_files) nothing: the driver does it when it writes the results."""
    if job_files.active():
        return
    output_dir = output_dir or '.'  # the original joined '' + 'final.jpg': the working directory
    earlier = check_output_dir(output_dir, overwrite)
    try:
        os.makedirs(output_dir, exist_ok=True)
        probe = os.path.join(output_dir, '.nstyle-write-test.%d' % os.getpid())
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise NstyleError('--output_dir %s: cannot write there (%s); choose another folder'
                          % (output_dir, error.strerror or error)) from None
    if earlier:  # --overwrite: no checkpoint of the earlier run stays mixed in with this run's
        logging.info('--overwrite: removing %d results of an earlier run from %s', len(earlier), output_dir)
        for name in earlier:
            os.remove(os.path.join(output_dir, name))


def check_output_dir(output_dir, overwrite):
    """prepare_output_dir's refusals, touching nothing: the folder must not be a file nor hold an earlier
    run's results (unless overwrite). Returns those results' names (to remove with overwrite)."""
    output_dir = output_dir or '.'
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NstyleError('--output_dir %s is a file, not a folder; choose another folder' % output_dir)
    earlier = sorted(name for name in os.listdir(output_dir) if re.fullmatch(r'final\.jpg|e_\d+\.jpg', name)) \
        if os.path.isdir(output_dir) else []
    if earlier and not overwrite:
        raise NstyleError('--output_dir %s already holds results of an earlier run (%s): pass --overwrite to '
                          'replace them, or choose another --output_dir'
                          % (output_dir, ', '.join(earlier[:3] + ['...'] * (len(earlier) > 3))))
    return earlier
