"""The project's one error type, and the interruption every tool ends on. No MXNet."""
import logging
import signal


class NstyleError(Exception):
    """A problem the user can fix: reported as one line, with what to do."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, or a stop signal treated as it (SIGTERM from a scheduler or `timeout`, SIGHUP from a
    closed terminal): the command ends with exit status 128 + the signal's number."""

    def __init__(self, signum=signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, 'SIGHUP') else [])


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
