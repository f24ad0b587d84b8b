"""Will the generators' run fit in memory? Estimated before anything is allocated, in the style of
gatys/memory.py, so that a huge --size, --long-edge, training --size or a video's --max-long-edge is
one line at once instead of a MemoryError, a segfault or heap corruption in MXNet. No MXNet.

Measured roughly (peak resident memory of a process, the chain of four generators, float32 on the
CPU, on an Intel Xeon shared with other work): the chain bound and run once costs 0.91 GB at 256x256
and 2.85 GB at 512x512, so 9.85 kB a pixel over a fixed ~0.27 GB (Python, MXNet, the weights). Rounded
up here. Training (end_to_end/boost_train.py, the chain, batch 1, one epoch on 6 images, the seeded
random VGG-19): 0.49 GB at 64x64 and 1.09 GB at 192x192, so 18.3 kB a pixel over ~0.41 GB;
Johnson's network measured less (0.35 GB at 64x64). Rounded up."""
from neural_style.errors import NstyleError
from neural_style.gatys.memory import gigabytes
from neural_style.machine import available_bytes

INFERENCE_BYTES_PER_PIXEL = 11000
INFERENCE_FIXED_BYTES = 400 * 2**20
TRAINING_BYTES_PER_PIXEL = 20000
TRAINING_FIXED_BYTES = 500 * 2**20


def inference_bytes(pixels):
    """The estimated peak memory of the generators bound for an image of this many pixels."""
    return INFERENCE_FIXED_BYTES + INFERENCE_BYTES_PER_PIXEL * pixels


def training_bytes(pixels, batch_size=1):
    """The estimated peak memory of training on batches of batch_size images of this many pixels."""
    return TRAINING_FIXED_BYTES + TRAINING_BYTES_PER_PIXEL * pixels * batch_size


def check_fits(needed, flag, what, advice, memory=None):
    """A one-line NstyleError when `needed` bytes are more than this machine has available (memory:
    (bytes, where in words) to check against another budget, such as a GPU's)."""
    available, where = memory or (available_bytes(), 'this machine')
    if available is None or needed <= available:
        return
    raise NstyleError('%s: %s needs about %s of memory, more than the %s %s has available; %s'
                      % (flag, what, gigabytes(needed), gigabytes(available), where, advice))
