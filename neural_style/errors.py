"""The project's one error type, and the interruption every tool ends on. No MXNet."""
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

