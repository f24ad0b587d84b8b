"""Ctrl-C while a tool starts (MXNet takes seconds to load): one line, not a traceback. No MXNet."""
import contextlib
import sys


@contextlib.contextmanager
def quiet_ctrl_c_while_importing():
    """Around a script's imports (MXNet takes seconds to load): Ctrl-C there ends the command with
    one line and exit 130, not a traceback from inside the import machinery."""
    try:
        yield
    except KeyboardInterrupt:
        print('%s: interrupted while starting' % (sys.argv[0].rsplit('/', 1)[-1] or 'python'), file=sys.stderr)
        raise SystemExit(130) from None
