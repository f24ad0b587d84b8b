"""Flag types, the one error type of the project, and the end of every command-line tool.
No MXNet here: tools that only parse flags or read images import this without loading it."""
import argparse
import math
import os
import sys


class NstyleError(Exception):
    """A problem the user can fix: reported as one line, with what to do."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line instead of the whole usage text."""

    def error(self, message):
        self.exit(2, '%s: error: %s (see %s -h)\n' % (self.prog, message, self.prog))


def checked(kind, test, requirement):
    """A flag type: kind(text), which must pass test(value), else argparse's one-line error."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('expected %s, got %r' % (kind.__name__, text)) from None
        if not test(value):
            raise argparse.ArgumentTypeError('must be %s, got %s' % (requirement, text))
        return value
    return parse


FINITE = checked(float, math.isfinite, 'a finite number')
NON_NEGATIVE = checked(float, lambda v: 0 <= v < math.inf, '>= 0 and finite')
POSITIVE = checked(float, lambda v: 0 < v < math.inf, '> 0 and finite')
POSITIVE_INT = checked(int, lambda v: v > 0, '> 0')
NON_NEGATIVE_INT = checked(int, lambda v: v >= 0, '>= 0')


def layer_names(text):
    names = [name.strip() for name in text.split(',')]
    if '' in names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError('expected comma-separated layer names, each once (such as '
                                         'relu1_1,relu2_1), got %r' % text)
    return names


def blend_weights(text):
    try:
        weights = [float(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated numbers, one per style image (such as 3,7), '
                                         'got %r' % text) from None
    if not all(0 <= weight < math.inf for weight in weights):
        raise argparse.ArgumentTypeError('each weight must be >= 0 and finite, got %s' % text)
    if not any(weights):
        raise argparse.ArgumentTypeError('the weights must not all be 0, got %s' % text)
    return weights


def stages(text):
    """'300:500,600' -> [(300, 500), (600, None)]: long edges, coarse to fine, and their epoch budgets."""
    found = []
    for item in text.split(','):
        edge, _, epochs = item.strip().partition(':')
        try:
            stage = (int(edge), int(epochs) if epochs else None)
        except ValueError:
            raise argparse.ArgumentTypeError('expected long edges such as 300,600 or 300:500,600:200 '
                                             '(EDGE:EPOCHS), got %r' % text) from None
        if stage[0] <= 0 or (stage[1] is not None and stage[1] < 0):
            raise argparse.ArgumentTypeError('each long edge must be > 0 and each epoch budget >= 0, got %r' % text)
        found.append(stage)
    if any(later[0] <= earlier[0] for earlier, later in zip(found, found[1:])):
        raise argparse.ArgumentTypeError('the long edges must grow, coarse to fine, got %r' % text)
    return found


def frame_range(text):
    """'A:B' -> (A, B): a video's frames A ... B-1, counted from 0 as Python slices are; 'A:' to the
    end (B None), ':B' from the start."""
    first, colon, stop = text.partition(':')
    try:
        bounds = (int(first) if first.strip() else 0, int(stop) if stop.strip() else None)
    except ValueError:
        bounds = None
    if not colon or bounds is None or bounds[0] < 0 or (bounds[1] is not None and bounds[1] <= bounds[0]):
        raise argparse.ArgumentTypeError('expected A:B, frames A to B-1 counted from 0 (such as 0:50, or 10: to the '
                                         'end), with 0 <= A < B, got %r' % text)
    return bounds


def run_cli(work, prog=None):
    """The end of every command-line tool: work() returns the exit status (None: 0); a problem the
    user can fix is one line on stderr and exit 1, Ctrl-C a quiet exit 130."""
    prog = prog or os.path.basename(sys.argv[0]) or 'nstyle.py'
    try:
        status = work()
    except NstyleError as error:
        print('%s: error: %s' % (prog, error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('%s: interrupted' % prog, file=sys.stderr)
        return 130
    return status or 0
