"""Ctrl-C between epochs: the loop finishes the epoch it is in, then the run saves its result."""
import contextlib
import logging
import signal
import threading


@contextlib.contextmanager
def ctrl_c_between_epochs():
    """While the loop runs, Ctrl-C only marks the list it yields, and the loop stops at the next
    epoch. A KeyboardInterrupt raised at any point could land inside an NDArray's __del__, where
    Python swallows it, and the run would go on. Outside the main thread: nothing to install."""
    interrupted = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_if_interrupted(interrupted, epochs_done, final_fn):
    """KeyboardInterrupt between epochs when Ctrl-C marked `interrupted` (ctrl_c_between_epochs);
    the run then saves the current image as final_fn."""
    if interrupted:
        logging.warning('interrupted after %d epochs: saving the current image as %s', epochs_done, final_fn)
        raise KeyboardInterrupt
