"""Long work (an optimisation's epochs, a video's frames, a training's images, a batch's jobs): how
it stops without losing what it did, and how its time is told. No MXNet.

One stop mechanism: a StopFlag, set by a stop signal (stop_signals_between_epochs: Ctrl-C, SIGTERM
from a scheduler or `timeout`, SIGHUP from a closed terminal) or by a caller (the Python API, the
studio), and checked between epochs or frames; the work then saves what it has and ends with
errors.Interrupted (exit 128 + the signal)."""
import contextlib
import logging
import signal
import threading

from neural_style.errors import STOP_SIGNALS, Interrupted


class StopFlag:
    """The one way to stop a long run between epochs: set by a stop signal (cli/signals.py's
    stop_signals_between_epochs) or by a caller (the Python API, the studio), and checked by the
    loops before each epoch. The run then ends with Interrupted after saving what it has."""

    def __init__(self):
        self.signum = None

    def set(self, signum=signal.SIGINT):
        if self.signum is None:  # a second Ctrl-C only repeats the first: the save completes
            self.signum = signum

    def __bool__(self):
        return self.signum is not None

    def raise_stop(self, epochs_done, saved_as=None):
        """Interrupted, with the number of epochs done; the log says what the run saves (saved_as),
        or that nothing is saved before the first epoch: the starting image is no result."""
        name = signal.Signals(self.signum).name
        if epochs_done and saved_as:
            logging.warning('interrupted after %d epochs (%s): saving the current image as %s', epochs_done, name,
                            saved_as)
        elif not epochs_done:
            logging.warning('interrupted before the first epoch (%s): nothing to save', name)
        stop = Interrupted(self.signum)
        stop.epochs_done = epochs_done
        raise stop


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


def duration(seconds):
    """12s, 3m05s: a time for a log line."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    return '%dm%02ds' % (minutes, seconds) if minutes else '%ds' % seconds
