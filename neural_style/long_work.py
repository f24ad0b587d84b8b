"""Long work (an optimisation's epochs, a video's frames, a training's images, a batch's jobs): how
it stops without losing what it did, and how its time is told. No MXNet.

One stop mechanism: a StopFlag, set by a stop signal (stop_signals_between_epochs: Ctrl-C, SIGTERM
from a scheduler or `timeout`, SIGHUP from a closed terminal) or by a caller (the Python API, the
studio), and checked between epochs or frames; the work then saves what it has and ends with
errors.Interrupted (exit 128 + the signal). Where a unit of work can be dropped whole (a video's
frame: written only once finished, atomically), a repeated signal (a third Ctrl-C, a second SIGTERM
or SIGHUP: a scheduler about to kill) ends it at once: the frame in progress is dropped, the
finished ones stay. Not inside an epoch or a training step, whose weights or image change in place."""
import contextlib
import logging
import signal
import threading

from neural_style.errors import STOP_SIGNALS, Interrupted


class StopFlag:
    """The one way to stop a long run between epochs: set by a stop signal (cli/signals.py's
    stop_signals_between_epochs) or by a caller (the Python API, the studio), and checked by the
    loops before each epoch. The run then ends with Interrupted after saving what it has."""

    # how many of a signal end the work at once instead of after the epoch or frame in progress:
    # a second Ctrl-C is often an impatient repeat, a third means it; a scheduler's second SIGTERM
    # comes shortly before its kill -9
    AT_ONCE_AFTER = {signal.SIGINT: 3, signal.SIGTERM: 2, getattr(signal, 'SIGHUP', -1): 2}

    def __init__(self, at_once=False):
        self.signum = None
        self.received = []  # every stop signal, in order
        self.at_once = at_once  # a repeated signal raises (AT_ONCE_AFTER): the work in progress can be dropped

    def set(self, signum=signal.SIGINT):
        if self.signum is None:  # a second Ctrl-C only repeats the first: the save completes
            self.signum = signum

    def signal_received(self, signum):
        """A stop signal arrived: set the flag; raise Interrupted at once when this signal came
        often enough (AT_ONCE_AFTER) that the user will not wait for the epoch or frame to end."""
        self.set(signum)
        self.received.append(signum)
        if self.at_once and not self.at_once_now():  # say how to stop at once (Python sees signals that
            # arrive during one long MXNet call as one: each press counts once it is acknowledged here)
            left = self.AT_ONCE_AFTER.get(signum, 2) - self.received.count(signum)
            logging.warning('%s: stopping after the work in progress; %d more to stop at once',
                            signal.Signals(signum).name, left)
        if self.at_once_now():
            logging.warning('%s %d times: stopping at once; the work in progress is dropped, what was finished is '
                            'kept', signal.Signals(signum).name, self.received.count(signum))
            raise Interrupted(signum)

    def at_once_now(self):
        """A stop signal came often enough to end the work at once (with at_once)."""
        return self.at_once and any(self.received.count(signum) >= self.AT_ONCE_AFTER.get(signum, 2)
                                    for signum in set(self.received))

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


class AtOnce:
    """The stop an inner loop checks (an EpochWatch's, each epoch of a video's frame): true only once
    a repeated signal asks to end at once. The handler's own raise could be swallowed by an
    NDArray's __del__; this check at the next epoch is the one that always comes."""

    def __init__(self, flag):
        self.flag = flag

    def __bool__(self):
        return self.flag.at_once_now()

    def raise_stop(self, epochs_done, saved_as=None):
        raise Interrupted(self.flag.signum)


@contextlib.contextmanager
def stop_signals_between_epochs(stop=None, at_once=False):
    """While the loop runs, a stop signal (Ctrl-C, SIGTERM, SIGHUP) only sets the StopFlag this
    yields (`stop`, or a new one), and the loop stops at the next epoch. An exception raised at any
    point could land inside an NDArray's __del__, where Python swallows it, and the run would go on;
    so only a repeated signal raises, and only with at_once (StopFlag.signal_received: a loop whose
    unit in progress can be dropped whole); should that one be swallowed, the flag still stops the
    loop at the next unit. Outside the main thread: nothing to install (the caller sets the flag)."""
    stop = StopFlag(at_once) if stop is None else stop
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.signal_received(signum))
                for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def duration(seconds):
    """12s, 3m05s: a time for a log line."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    return '%dm%02ds' % (minutes, seconds) if minutes else '%ds' % seconds
