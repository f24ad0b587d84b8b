"""What happens after every epoch, whatever the optimiser: the NaN guard, the checkpoint, the
progress line, --print-epochs, the callback, and the check for Ctrl-C."""
import collections
import logging
import os
import time

from neural_style.files import images
from neural_style.errors import NstyleError
from neural_style.machine import return_freed_memory
from neural_style.cli.signals import stop_if_interrupted

# Where a run's images go and who hears of them: final.jpg's path, the content colours the written
# images take (--original-colors) or None, the caller's callback or None, and the list Ctrl-C marks.
RunOutput = collections.namedtuple('RunOutput', ['final_fn', 'colors_from', 'callback', 'interrupted'])


def duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return '%dm%02ds' % (minutes, seconds) if minutes else '%ds' % seconds


def log_losses(epoch, losses):
    """--print-epochs: the named losses of an epoch and their sum."""
    logging.info('epoch %d: losses: %s, total %.7g', epoch,
                 ', '.join('%s %.7g' % (name, value) for name, value in losses), sum(value for _, value in losses))


class EpochReporter:
    """One optimisation stage's epochs first_epoch ... first_epoch + num_epochs - 1 (epochs are
    numbered across --multires stages, so that checkpoints never overwrite each other)."""

    def __init__(self, args, output, first_epoch, num_epochs):
        self.args, self.output = args, output
        self.first_epoch, self.last_epoch = first_epoch, first_epoch + num_epochs
        self.last_checkpoint = None
        self.start_time = time.time()

    def check_interrupted(self, epochs_done):
        stop_if_interrupted(self.output.interrupted, epochs_done, self.output.final_fn)

    def check_finite(self, finite, epoch, what, advice):
        """The NaN guard: stop without writing final.jpg, and say which checkpoint is the last good one."""
        if not finite:
            raise NstyleError('the %s became NaN or infinite at epoch %d: stopped without writing %s '
                              '(last good checkpoint: %s); try %s'
                              % (what, epoch, self.output.final_fn, self.last_checkpoint or 'none was written', advice))

    def epoch_done(self, epoch, eps, img, losses):
        """After `epoch` epochs (counted from the run's start): the checkpoint every --save-epochs with
        its progress line, the losses every --print-epochs, then the callback. losses() gives the
        epoch's named losses (weighted_losses); it is called only when they are logged."""
        return_freed_memory()  # so that the resident set does not creep up epoch by epoch
        args = self.args
        cbdata = {'eps': eps, 'epoch': epoch}
        named = None
        if epoch % args.save_epochs == 0:
            outfn = os.path.join(args.output_dir, 'e_%d.jpg' % epoch)
            npimg = img.asnumpy()
            images.SaveImage(npimg, outfn, args.remove_noise, self.output.colors_from)
            self.last_checkpoint = outfn
            named = losses()
            self.log_progress(epoch, named)
            cbdata.update(filename=outfn, img=npimg)
        if args.print_epochs and epoch % args.print_epochs == 0:
            log_losses(epoch, named or losses())
        if self.output.callback:
            self.output.callback(cbdata)

    def log_progress(self, epoch, named):
        """Content and style loss (named[:2]: content, then style or mrf), elapsed time, and time left at most."""
        (_, content), (style_name, style) = named[:2]
        elapsed = time.time() - self.start_time
        left = elapsed / (epoch - self.first_epoch) * (self.last_epoch - epoch)
        logging.info('epoch %d: content loss %.4g, %s loss %.4g, %s elapsed, at most %s left',
                     epoch, content, style_name, style, duration(elapsed), duration(left))
