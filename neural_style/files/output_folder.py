"""Writing results: atomically (never a half-written file), into an output folder that one run
at a time may write (locked_folder), whose earlier results are never replaced unless the user
asked for it, and then only once the new result exists (output_run). No MXNet."""
import collections
import contextlib
import datetime
import errno
import fcntl
import io as io_module
import logging
import os
import re
import shutil
import signal
import socket
import stat
import sys
import time

from neural_style.errors import STOP_SIGNALS, NstyleError


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
        if isinstance(error, OSError):  # the result's name, not the temporary's; the cause in words
            raise NstyleError('cannot write %s: %s' % (filename, write_error_words(error))) from None
        raise


# errno of a failed write -> the cause in words and what to do
WRITE_ERRORS = {
    errno.ENOSPC: 'no space left on the device; free some space or choose another folder',
    errno.EDQUOT: 'the disk quota is used up; free some space or choose another folder',
    errno.EROFS: 'its folder is on a read-only file system; choose another folder',
    errno.EACCES: 'permission denied; choose a folder you can write',
    errno.EPERM: 'permission denied; choose a folder you can write',
    errno.EISDIR: 'it is a folder; give a file name',
    errno.ENOTDIR: 'a part of its path is a file, not a folder; choose another folder',
    errno.ENOENT: 'its folder does not exist; create it or choose another folder',
    errno.EEXIST: 'a file is in the way of a folder of its path; choose another folder',
}


def write_error_words(error):
    """Why a file could not be written, in words, and what to do (an OSError's errno)."""
    return WRITE_ERRORS.get(error.errno, '%s; choose another folder' % (error.strerror or error))


def write_image_atomically(filename, pixels):
    """The image encoded in memory, then its bytes written: a full disk fails our own write, not the
    encoder's file, which would raise again when garbage-collected ("Exception ignored ... Errno 28")."""
    from skimage import io  # here: the tools that only read images do not pay for its import
    encoded = io_module.BytesIO()
    io.imsave(encoded, pixels, check_contrast=False, extension=os.path.splitext(filename)[1].lower())
    write_atomically(filename, lambda temporary: write_bytes(temporary, encoded.getvalue()))


def write_bytes(path, data):
    with open(path, 'wb') as f:
        f.write(data)



LOCK_NAME = '.nstyle.lock'
# folder -> the holder line of the lock file a run left without releasing it (killed: kill -9, a
# crash), as acquire_lock found it; '' when the lock file was fresh
STALE_HOLDERS = {}
# What a tool writes into its output folder: the names of its results (a compiled pattern), and the
# one it writes last, which says the run is complete. nstyle.py's: e_N.jpg checkpoints, final.jpg.
ResultNames = collections.namedtuple('ResultNames', ['pattern', 'final'])
NSTYLE_RESULTS = ResultNames(re.compile(r'final\.jpg|e_\d+\.jpg|interrupted\.txt'), 'final.jpg')
# beside the final.jpg of a run that was stopped: that image is the one so far, not a finished result
INTERRUPTED_NOTE = 'interrupted.txt'


def lock_holder_text():
    """Who holds a lock, as its file says it: enough for the user to find the other run."""
    return 'PID %d on %s since %s UTC (%s)' % (os.getpid(), socket.gethostname(),
                                               datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S'),
                                               os.path.basename(sys.argv[0]) or 'python')


def read_holder(fd):
    return os.pread(fd, 1000, 0).decode('utf-8', 'replace').strip()


def holder_once_written(fd):
    """The holder's line; a run that took the lock a moment ago writes it just after, so give it
    half a second before saying only 'starting up'."""
    for _ in range(10):
        holder = read_holder(fd)
        if holder:
            return holder
        time.sleep(0.05)
    return ''


def acquire_lock(folder, flag):
    """The open, locked descriptor of folder's lock file. flock, not the file's existence, is the
    lock: the kernel releases it when its process dies however it dies (kill -9, a crash), so a
    lock file left behind is stale by construction, detected and taken over here."""
    path = os.path.join(folder, LOCK_NAME)
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise NstyleError('%s %s: cannot create its lock file %s (%s); choose another folder'
                              % (flag, folder, LOCK_NAME, error.strerror or error)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = holder_once_written(fd)
            os.close(fd)
            raise NstyleError('%s %s is in use by another run (%s); wait for it to end or choose another %s'
                              % (flag, folder, holder or 'starting up', flag)) from None
        try:  # a run that ends unlinks its lock file: the file locked must still be the one at `path`
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:
            os.close(fd)
            continue
        earlier = read_holder(fd)
        STALE_HOLDERS[os.path.realpath(folder)] = earlier
        if earlier:
            logging.warning('%s %s: took over the lock of a run that ended without releasing it (%s)',
                            flag, folder, earlier)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (lock_holder_text() + '\n').encode(), 0)
        except OSError as error:  # a full disk, a quota: the folder cannot take this run's results either
            os.close(fd)
            try:
                os.unlink(path)
            except OSError:
                pass
            raise NstyleError('%s %s: cannot write its lock file %s: %s'
                              % (flag, folder, LOCK_NAME, write_error_words(error))) from None
        return fd
    raise NstyleError('%s %s: its lock file %s keeps changing; is another run starting there?' % (flag, folder, LOCK_NAME))


@contextlib.contextmanager
def locked_folder(folder, flag='--output_dir'):
    """Hold `folder` (which must exist) for this run: a second run that asks for it meanwhile, in
    this process or another, on this machine or another sharing the folder, gets a one-line
    NstyleError naming this run (PID, host, start). For every tool that writes results into a
    folder: nstyle.py's --output_dir, end_to_end checkpoints, video frames, chapter figures."""
    fd = acquire_lock(folder, flag)
    try:
        yield
    finally:
        try:
            os.unlink(os.path.join(folder, LOCK_NAME))  # while still locked: see acquire_lock
        except OSError:
            pass
        os.close(fd)


@contextlib.contextmanager
def held_folder(folder, flag):
    """make_writable_folder, then locked_folder, for a tool whose results go straight into the folder
    (end_to_end checkpoints, video frames). A folder this made and left empty is removed again, so
    that a run that failed leaves nothing behind."""
    made = not os.path.exists(folder)
    try:
        with locked_folder(make_writable_folder(folder, flag), flag):
            yield folder
    except BaseException:
        if made and os.path.isdir(folder) and not os.listdir(folder):  # the lock file is gone by now
            os.rmdir(folder)
        raise


def make_writable_folder(output_dir, flag='--output_dir'):
    """Create the folder and make sure this process can write there; returns its path."""
    output_dir = output_dir or '.'  # the original joined '' + 'final.jpg': the working directory
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NstyleError('%s %s is a file, not a folder; choose another folder' % (flag, output_dir))
    try:
        os.makedirs(output_dir, exist_ok=True)
        probe = os.path.join(output_dir, '.nstyle-write-test.%d' % os.getpid())
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise NstyleError('%s %s: cannot write there (%s); choose another folder'
                          % (flag, output_dir, error.strerror or error)) from None
    return output_dir


def earlier_results(output_dir, results=NSTYLE_RESULTS):
    return sorted(name for name in os.listdir(output_dir) if results.pattern.fullmatch(name))


def check_removable(output_dir, names, flag='--output_dir'):
    """--overwrite will remove these entries once the new result exists: refuse now, before
    anything is touched, any that it could not or should not remove."""
    for name in names:
        path = os.path.join(output_dir, name)
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            raise NstyleError('%s %s: %s is a folder, not an earlier result; --overwrite will not remove it: '
                              'move it away or choose another %s' % (flag, output_dir, name, flag))
        # the mode bits, not os.access: root may remove anything, but a file made read-only says "keep"
        if not stat.S_ISLNK(mode) and not mode & stat.S_IWUSR:
            raise NstyleError('%s %s: %s is read-only; --overwrite will not remove it: make it writable '
                              '(chmod u+w) or move it away' % (flag, output_dir, name))


@contextlib.contextmanager
def signals_held():
    """Stop signals wait while the results are moved into place, so that the folder is never left
    half old, half new."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (AttributeError, ValueError):
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def replace_results(output_dir, new_dir, earlier, results=NSTYLE_RESULTS):
    """The new run's results (new_dir, holding its final one) take the place of the earlier ones."""
    new = earlier_results(new_dir, results)
    with signals_held():
        for name in sorted(set(earlier) - set(new)):
            os.remove(os.path.join(output_dir, name))
        for name in sorted(new, key=lambda name: name == results.final):  # the final one last
            os.replace(os.path.join(new_dir, name), os.path.join(output_dir, name))
        shutil.rmtree(new_dir, ignore_errors=True)
    logging.info('--overwrite: the %d results of the earlier run in %s are replaced by this run\'s',
                 len(earlier), output_dir)


@contextlib.contextmanager
def output_run(output_dir, overwrite, flag='--output_dir', results=NSTYLE_RESULTS):
    """The folder a run writes its results into (nstyle.py's: final.jpg, e_N.jpg; another tool's:
    its ResultNames), locked for the run. Earlier results there are refused without --overwrite.
    With it, they stay untouched while the run writes into a folder of its own inside (yielded
    instead); only once that holds the final result (also after an interruption that saved it) do
    its results replace the earlier ones. A run that fails leaves the earlier results as they were."""
    output_dir = make_writable_folder(output_dir, flag)
    with locked_folder(output_dir, flag):
        earlier = check_output_dir(output_dir, overwrite, flag, results)
        if not earlier:
            yield output_dir
            return
        check_removable(output_dir, earlier, flag)
        remove_killed_run(output_dir, flag)
        new_dir = os.path.join(output_dir, 'unfinished-run.%d' % os.getpid())
        os.makedirs(new_dir, exist_ok=True)
        logging.info('--overwrite: this run writes into %s; the earlier results stay until its %s exists',
                     new_dir, results.final)
        try:
            yield new_dir
        finally:
            if os.path.exists(os.path.join(new_dir, results.final)):
                replace_results(output_dir, new_dir, earlier, results)
            elif os.listdir(new_dir):
                logging.warning('%s: this run ended without its %s: the earlier results in %s are kept; what it wrote '
                                'is in %s', flag, results.final, output_dir, new_dir)
            else:
                os.rmdir(new_dir)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_killed_run(output_dir, flag):
    """What a run killed outright (kill -9, a crash) left in output_dir: its unfinished-run.<pid>/,
    removed. That run is known by the lock file it could not release (STALE_HOLDERS: its PID and
    host); its process must be gone. A run that failed and said so released its lock: its folder,
    which holds its last good checkpoint and which its error named, stays."""
    holder = re.match(r'PID (\d+) on (\S+) since', STALE_HOLDERS.get(os.path.realpath(output_dir)) or '')
    if not holder or holder.group(2) != socket.gethostname() or int(holder.group(1)) == os.getpid():
        return
    pid = int(holder.group(1))
    path = os.path.join(output_dir, 'unfinished-run.%d' % pid)
    if not os.path.isdir(path) or os.path.islink(path) or process_alive(pid):
        return
    shutil.rmtree(path, ignore_errors=True)
    logging.warning('%s %s: removed unfinished-run.%d, left by a run that was killed before it finished', flag,
                    output_dir, pid)


def check_output_dir(output_dir, overwrite, flag='--output_dir', results=NSTYLE_RESULTS):
    """output_run's refusals, touching nothing (a cluster's driver checks a job's folder before the
    job runs): the folder must not be a file nor hold an earlier run's results, unless overwrite.
    Returns those results' names."""
    output_dir = output_dir or '.'
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NstyleError('%s %s is a file, not a folder; choose another folder' % (flag, output_dir))
    earlier = earlier_results(output_dir, results) if os.path.isdir(output_dir) else []
    if earlier and not overwrite:
        raise NstyleError('%s %s already holds results of an earlier run (%s): pass --overwrite to '
                          'replace them, or choose another %s'
                          % (flag, output_dir, ', '.join(earlier[:3] + ['...'] * (len(earlier) > 3)), flag))
    return earlier
