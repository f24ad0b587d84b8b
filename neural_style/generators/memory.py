"""Will the generators' run fit in memory? Estimated before anything is allocated, in the style of
gatys/memory.py, so that a huge --size, --long-edge, training --size or a video's --max-long-edge is
one line at once instead of a MemoryError, a segfault or heap corruption in MXNet. No MXNet.

Measured roughly (peak resident memory, the chain of four generators, which is the larger of the
two kinds, float32 on the CPU; see docs/notes/robust.md): a forward pass costs about 3.3 kB a pixel
over a fixed ~0.4 GB (Python, MXNet, the weights), a training step of the chain with VGG-19's
perceptual loss about 11 kB a pixel of the batch over ~0.6 GB. Rounded up."""
from neural_style.errors import NstyleError
from neural_style.machine import available_bytes

INFERENCE_BYTES_PER_PIXEL = 4000
INFERENCE_FIXED_BYTES = 500 * 2**20
TRAINING_BYTES_PER_PIXEL = 14000
TRAINING_FIXED_BYTES = 700 * 2**20


def inference_bytes(pixels):
    """The estimated peak memory of the generators bound for an image of this many pixels."""
    return INFERENCE_FIXED_BYTES + INFERENCE_BYTES_PER_PIXEL * pixels


def training_bytes(pixels, batch_size=1):
    """The estimated peak memory of training on batches of batch_size images of this many pixels."""
    return TRAINING_FIXED_BYTES + TRAINING_BYTES_PER_PIXEL * pixels * batch_size


def gigabytes(count):
    return '%.3g GB' % (count / 1e9) if count < 1e12 else '%.3g TB' % (count / 1e12)


def check_fits(needed, flag, what, advice, memory=None):
    """A one-line NstyleError when `needed` bytes are more than this machine has available (memory:
    (bytes, where in words) to check against another budget, such as a GPU's)."""
    available, where = memory or (available_bytes(), 'this machine')
    if available is None or needed <= available:
        return
    raise NstyleError('%s: %s needs about %s of memory, more than the %s %s has available; %s'
                      % (flag, what, gigabytes(needed), gigabytes(available), where, advice))
