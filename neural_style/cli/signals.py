"""Stopping a run without losing it: Ctrl-C, SIGTERM (a batch scheduler, `timeout`) and SIGHUP (a
closed terminal) between epochs; the loop finishes the epoch it is in, then the run saves its
result. No MXNet."""
import contextlib
import signal
import sys
import threading

from neural_style.errors import STOP_SIGNALS, StopFlag


@contextlib.contextmanager
def stop_signals_between_epochs(stop=None):
    """While the loop runs, a stop signal (Ctrl-C, SIGTERM, SIGHUP) only sets the StopFlag this
    yields (`stop`, or a new one), and the loop stops at the next epoch. An exception raised at any
    point could land inside an NDArray's __del__, where Python swallows it, and the run would go on.
    Outside the main thread: nothing to install (the caller sets the flag itself)."""
    stop = StopFlag() if stop is None else stop
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.set(signum)) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def quiet_ctrl_c_while_importing():
    """Around a script's imports (MXNet takes seconds to load): Ctrl-C there ends the command with
    one line and exit 130, not a traceback from inside the import machinery."""
    try:
        yield
    except KeyboardInterrupt:
        print('%s: interrupted while starting' % (sys.argv[0].rsplit('/', 1)[-1] or 'python'), file=sys.stderr)
        raise SystemExit(130) from None
