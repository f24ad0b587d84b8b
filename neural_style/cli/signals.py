"""Stopping a run without losing it: Ctrl-C, SIGTERM (a batch scheduler, `timeout`) and SIGHUP (a
closed terminal) between epochs; the loop finishes the epoch it is in, then the run saves its
result. No MXNet."""
import contextlib
import logging
import signal
import sys
import threading

from neural_style.errors import STOP_SIGNALS, Interrupted


@contextlib.contextmanager
def ctrl_c_between_epochs():
    """While the loop runs, a stop signal (Ctrl-C, SIGTERM, SIGHUP) only appends its number to the
    list this yields, and the loop stops at the next epoch. An exception raised at any point could
    land inside an NDArray's __del__, where Python swallows it, and the run would go on. Outside the
    main thread: nothing to install."""
    interrupted = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: interrupted.append(signum))
                for signum in STOP_SIGNALS}
    try:
        yield interrupted
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_if_interrupted(interrupted, epochs_done, final_fn):
    """Interrupted (a KeyboardInterrupt) between epochs when a stop signal marked `interrupted`
    (ctrl_c_between_epochs); the run then saves the current image as final_fn, unless no epoch
    was done: the starting image is no result, and a final.jpg of it would block the next run."""
    if interrupted:
        name = signal.Signals(interrupted[0]).name
        if epochs_done:
            logging.warning('interrupted after %d epochs (%s): saving the current image as %s', epochs_done, name,
                            final_fn)
        else:
            logging.warning('interrupted before the first epoch (%s): nothing to save', name)
        stop = Interrupted(interrupted[0])
        stop.epochs_done = epochs_done
        raise stop


@contextlib.contextmanager
def quiet_ctrl_c_while_importing():
    """Around a script's imports (MXNet takes seconds to load): Ctrl-C there ends the command with
    one line and exit 130, not a traceback from inside the import machinery."""
    try:
        yield
    except KeyboardInterrupt:
        print('%s: interrupted while starting' % (sys.argv[0].rsplit('/', 1)[-1] or 'python'), file=sys.stderr)
        raise SystemExit(130) from None
