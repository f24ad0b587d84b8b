"""Flag types: each parses one flag's text or says in one line what it expected. No MXNet."""
import argparse
import math


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


# MXNet computes in float32: a number beyond its range would become inf there, and a positive one
# below its smallest (subnormal) value would become 0, silently.
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.401298464324817e-45
FLOAT32_RANGE = "float32's range (magnitudes %.2g ... %.3g), in which MXNet computes" % (FLOAT32_TINY, FLOAT32_MAX)


def in_float32(value):
    return abs(value) <= FLOAT32_MAX and (value == 0 or abs(value) >= FLOAT32_TINY)


def float32_flag(parse):
    """A float flag type that also refuses finite numbers float32 cannot hold (1e39, 1e-50)."""
    def parse_float32(text):
        value = parse(text)
        if not in_float32(value):
            raise argparse.ArgumentTypeError('%s is beyond %s' % (text, FLOAT32_RANGE))
        return value
    return parse_float32


FINITE = float32_flag(checked(float, math.isfinite, 'a finite number'))
NON_NEGATIVE = float32_flag(checked(float, lambda v: 0 <= v < math.inf, '>= 0 and finite'))
POSITIVE = float32_flag(checked(float, lambda v: 0 < v < math.inf, '> 0 and finite'))
POSITIVE_INT = checked(int, lambda v: v > 0, '> 0')
NON_NEGATIVE_INT = checked(int, lambda v: v >= 0, '>= 0')


def layer_names(text):
    names = [name.strip() for name in text.split(',')]
    if '' in names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError('expected comma-separated layer names, each once (such as '
                                         'relu1_1,relu2_1), got %r' % text)
    return names


def blend_weights(text):
    weights = []
    for position, part in enumerate(text.split(','), 1):
        try:
            weights.append(float(part))
        except ValueError:
            raise argparse.ArgumentTypeError('expected comma-separated numbers, one per style image (such as 3,7), '
                                             'got %r: item %d, %r, is not a number' % (text, position, part)) from None
    bad = [(position, weight) for position, weight in enumerate(weights, 1) if not 0 <= weight < math.inf]
    if bad:
        raise argparse.ArgumentTypeError('each weight must be >= 0 and finite, got %s (item %d)' % (text, bad[0][0]))
    beyond = [position for position, weight in enumerate(weights, 1) if not in_float32(weight)]
    if beyond:
        raise argparse.ArgumentTypeError('item %d of %s is beyond %s' % (beyond[0], text, FLOAT32_RANGE))
    if not any(weights):
        raise argparse.ArgumentTypeError('the weights must not all be 0, got %s' % text)
    return weights


def stages(text):
    """'300:500,600' -> [(300, 500), (600, None)]: long edges, coarse to fine, and their epoch budgets."""
    found = []
    for position, item in enumerate(text.split(','), 1):
        edge, _, epochs = item.strip().partition(':')
        try:
            stage = (int(edge), int(epochs) if epochs else None)
        except ValueError:
            raise argparse.ArgumentTypeError('expected long edges such as 300,600 or 300:500,600:200 '
                                             '(EDGE:EPOCHS), got %r: item %d, %r, is not %s' % (
                                                 text, position, item.strip(),
                                                 'EDGE:EPOCHS in whole numbers' if epochs else 'a whole number'
                                             )) from None
        if stage[0] <= 0 or (stage[1] is not None and stage[1] < 0):
            raise argparse.ArgumentTypeError('each long edge must be > 0 and each epoch budget >= 0, got %r '
                                             '(item %d, %r)' % (text, position, item.strip()))
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


# the one-pass networks' (stylize.py, stylize_video.py): the 26-style network's styles
NUM_STYLES = 26


def style_spec(text):
    """--style: an index (7) or a blend (3:0.5,12:0.5) -> ((index, weight), ...)."""
    pairs = []
    for part in text.split(','):
        index, _, weight = part.strip().partition(':')
        try:
            pair = (int(index), float(weight) if weight else 1.0)
        except ValueError:
            raise argparse.ArgumentTypeError('expected a style index (0 ... %d) or a blend such as 3:0.5,12:0.5, got %r'
                                             % (NUM_STYLES - 1, text)) from None
        if not 0 <= pair[0] < NUM_STYLES:
            raise argparse.ArgumentTypeError('no style %d: the styles are 0 ... %d (see --contact-sheet)'
                                             % (pair[0], NUM_STYLES - 1))
        if not 0 <= pair[1] < float('inf'):
            raise argparse.ArgumentTypeError('blend weights must be >= 0 and finite, got %r' % part)
        pairs.append(pair)
    if sum(weight for _, weight in pairs) <= 0:
        raise argparse.ArgumentTypeError('the blend weights of %r sum to 0; give at least one > 0' % text)
    return tuple(pairs)


def style_or_file(text):
    """stylize.py's --style: style_spec's pairs, or the path of a trained style file (FILE.params,
    from python -m neural_style.onepass.finetune) as a str."""
    return text if text.lower().endswith('.params') else style_spec(text)


def strength(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a number in [0, 1], got %r' % text) from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError('must be in [0, 1] (0: the photo, 1: the full style), got %s' % text)
    return value
