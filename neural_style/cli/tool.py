"""The end of every command-line tool: one line for a problem the user can fix, quiet exits for
stop signals and closed pipes, and a parser whose errors are one line. No MXNet."""
import argparse
import os
import signal
import sys

from neural_style.cli.report import Report, release_stdout, write_report
from neural_style.errors import STOP_SIGNALS, Interrupted, NstyleError


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line instead of the whole usage text."""

    def error(self, message):
        self.exit(2, '%s: error: %s (see %s -h)\n' % (self.prog, message, self.prog))


def raise_interrupted(signum, frame):
    raise Interrupted(signum)


def quiet_broken_pipe():
    """Output piped into a command that stopped reading (`| head`): the rest goes nowhere, and
    Python's final flush of stdout must not fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (a test's StringIO)
        pass


def run_cli(work, prog=None):
    """The end of every command-line tool: work() returns the exit status (None: 0); a problem the
    user can fix is one line on stderr and exit 1; Ctrl-C, SIGTERM and SIGHUP a quiet exit 128 +
    the signal (130 for Ctrl-C); output into a closed pipe a quiet exit 141 (128 + SIGPIPE).
    work() may parse the flags too, so that `-h | head -1` ends quietly. --json: work() returns a
    cli/report.py Report, written here as the one JSON document on stdout (its exit_status the
    exit status); on an error stdout holds nothing (what went to it meanwhile went to stderr)."""
    prog = prog or os.path.basename(sys.argv[0]) or 'nstyle.py'
    previous = {}
    if threading_is_main():
        for signum in STOP_SIGNALS:  # outside the epoch loop, each stops the command as Ctrl-C does
            previous[signum] = signal.signal(signum, raise_interrupted)
    try:
        status = work()
        if isinstance(status, Report):
            write_report(status)
            status = status.exit_status
        sys.stdout.flush()  # a closed pipe shows here, inside, and not in Python's exit
    except NstyleError as error:
        print('%s: error: %s' % (prog, error), file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, 'signum', signal.SIGINT)
        print('%s: interrupted%s' % (prog, '' if signum == signal.SIGINT else ' by ' + signal.Signals(signum).name),
              file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        quiet_broken_pipe()
        return 128 + 13
    finally:
        release_stdout()  # held by a --json tool (cli/report.py); a failed one's stdout stays empty
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status or 0


def threading_is_main():
    import threading
    return threading.current_thread() is threading.main_thread()

