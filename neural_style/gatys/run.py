"""One Gatys run, as nstyle.py's train_nstyle was: the pictures read once (read_pictures), sized and
checked for each stage, the weights loaded, then each stage (one, or --multires's coarse to fine)
optimised from the image before it, and the result. `stylise` is arrays in, arrays out (the API and
the cluster's workers call it); `run_gatys` puts the files around it (the output folder, the
checkpoints, final.jpg). The epoch itself is in gatys/optimise.py."""
import logging
import os
import time

from neural_style.dtype_choice import settled
from neural_style.errors import NstyleError
from neural_style.files import images
from neural_style.gatys.loss import Pictures, build_loss, load_vgg, stage_inputs
from neural_style.gatys.memory import check_sizes_fit
from neural_style.gatys.optimise import Diverged, optimize
from neural_style.long_work import duration, stop_signals_between_epochs
from neural_style.machine import return_freed_memory
from neural_style.mxnet_runtime import available_memory, context_for, mx


def read_pictures(settings, content=None, memory=None):
    """The run's Pictures read from its files (--content-image, --style-image, --init), before any
    work, so that a bad file fails fast; a large one is decoded reduced to about the size it is used
    at. content: (name, pixels) of a content image already read (a video's frame) instead. memory:
    (bytes available, where), to refuse a run too large for it (gatys/memory.check_sizes_fit) from
    the images' headers, before any is decoded; None: no check."""
    long_edge = max(edge for edge, _ in settings.stages)
    if content is None:
        path = settings.content_image
        size = images.image_size(path, '--content-image')
        if memory is not None:
            check_sizes_fit(settings, [edge for edge, _ in settings.stages], settings.long_edge_flag, memory, size)
        logging.info('load the content image, size = %s', size)  # the original's
        content = ('--content-image %s' % path, images.read_rgb_image(path, '--content-image', long_edge))
    style_edge = max(1, int(round(long_edge * settings.style_scale)))
    styles = [(path, images.read_rgb_image(path, '--style-image', style_edge))
              for path in images.style_image_paths(settings.style_image)]
    init = None
    if settings.init not in ('noise', 'content'):
        init = images.read_rgb_image(settings.init, '--init', long_edge)
    return Pictures(content, styles, init)


def initial_image(settings, content_np, init_pixels, dev):
    """The image the optimisation starts from: the original's uniform noise in [-0.1, 0.1], the
    content image as the network sees it, or an image file's pixels resized to the content's size."""
    if settings.init == 'content':
        return mx.nd.array(content_np, ctx=dev)
    if init_pixels is not None:
        return mx.nd.array(images.pixels_to_network(init_pixels, content_np.shape[2:]), ctx=dev)
    img = mx.nd.zeros(content_np.shape, ctx=dev)
    if settings.seed is not None:
        mx.random.seed(settings.seed)
    img[:] = mx.rnd.uniform(-0.1, 0.1, img.shape)
    return img


class EpochWatch:
    """What happens around every epoch, for every optimiser (gatys/optimise.py's `watch`): the stop
    check before it; after it the checkpoint every --save-epochs with its progress line, the losses
    every --print-epochs, and the caller's callback. It keeps the latest image, so that a stopped run
    can still save it. keep(name, pixels) stores a checkpoint (e_N.jpg: its finished 8-bit pixels) and
    returns where it went; None: no checkpoints (a video's frames). record: a dict that gets the
    run's facts for nstyle.py --json: 'losses' (every epoch's named losses), 'checkpoints' (their
    paths), 'weights_loaded_at' (perf_counter when the watch was made: after the weights load),
    'targets_s' (the stages' targets, up to each start_stage) and 'optimisation_s' (the epochs)."""

    def __init__(self, settings, keep=None, callback=None, stop=None, final_name=None, record=None):
        self.settings, self.keep, self.callback = settings, keep, callback
        self.record = record
        self.final_name = final_name  # where a stopped run's image goes, for the log
        self.print_head_gradients = False  # nstyle.py's run prints them, as the original did
        self.stop = stop  # long_work.StopFlag, set by a stop signal or a caller
        self.colors_from = None  # the content's pixels at this stage's size, with --original-colors
        self.first_epoch = self.last_epoch = 0
        self.epochs_done, self.image = 0, None
        self.last_checkpoint = None
        self.start_time = time.time()
        self.phase_end = time.perf_counter()  # the end of the last phase timed (for record)
        if record is not None:
            record.update(losses=[], checkpoints=[], weights_loaded_at=self.phase_end, targets_s=0.0,
                          optimisation_s=0.0)

    def start_stage(self, first_epoch, num_epochs, image, colors_from, head_gradients):
        self.time_phase('targets_s')
        if self.print_head_gradients and first_epoch == 0:
            print(head_gradients)  # the original's own printout (nstyle.py's run): the loss weights
        self.first_epoch, self.last_epoch = first_epoch, first_epoch + num_epochs
        self.image, self.colors_from = image, colors_from
        self.start_time = time.time()

    def check_stop(self, epochs_done):
        if self.stop:
            self.stop.raise_stop(epochs_done, self.final_name)

    def epoch_done(self, epoch, eps, img, losses):
        """After `epoch` epochs (counted from the run's start). losses() gives the epoch's named
        losses (StyleLoss.named_losses); it is called only when they are logged or recorded."""
        self.time_phase('optimisation_s')
        return_freed_memory()  # so that the resident set does not creep up epoch by epoch
        self.epochs_done, self.image = epoch, img
        settings = self.settings
        cbdata = {'eps': eps, 'epoch': epoch}
        named = None
        if self.keep is not None and epoch % settings.save_epochs == 0:
            npimg = img.asnumpy()
            outfn = self.keep('e_%d.jpg' % epoch, images.finished_pixels(npimg, settings.remove_noise, self.colors_from))
            self.last_checkpoint = outfn
            named = losses()
            self.log_progress(epoch, named)
            cbdata.update(filename=outfn, img=npimg)
        if settings.print_epochs and epoch % settings.print_epochs == 0:
            named = named or losses()
            logging.info('epoch %d: losses: %s, total %.7g', epoch,
                         ', '.join('%s %.7g' % (name, value) for name, value in named), sum(v for _, v in named))
        if self.record is not None:
            named = named or losses()
            self.record['losses'].append(dict(named))
            self.record['checkpoints'] += [cbdata['filename']] if 'filename' in cbdata else []
        if self.callback:
            self.callback(cbdata)

    def time_phase(self, name):
        """With a record: the seconds since the last phase ended added to record[name]."""
        if self.record is not None:
            now = time.perf_counter()
            self.record[name] += now - self.phase_end
            self.phase_end = now

    def log_progress(self, epoch, named):
        """Content and style loss (named[:2]: content, then style or mrf), elapsed time, and time left at most."""
        (_, content), (style_name, style) = named[:2]
        elapsed = time.time() - self.start_time
        left = elapsed / (epoch - self.first_epoch) * (self.last_epoch - epoch)
        logging.info('epoch %d: content loss %.4g, %s loss %.4g, %s elapsed, at most %s left',
                     epoch, content, style_name, style, duration(elapsed), duration(left))


def optimise_stages(settings, inputs, init_pixels, net, watch):
    """Every stage's optimisation, arrays in and out: inputs are each stage's StageInputs
    (gatys/loss.py), the first stage starts from --init (init_pixels: its pixels, or None), each
    later one from the stage before, upsampled. Returns the final image as the network sees it,
    (1, 3, h, w); watch.colors_from then holds the colours its finished pixels take."""
    img = None
    epochs_done = 0
    for stage, ((edge, epochs), stage_input) in enumerate(zip(settings.stages, inputs)):
        content_np = stage_input.content
        if len(inputs) > 1:
            logging.info('stage %d of %d: long edge %d (%dx%d), up to %d epochs', stage + 1, len(inputs),
                         edge, content_np.shape[3], content_np.shape[2], epochs)
        loss = build_loss(settings, net, stage_input)
        if img is None:  # the first stage starts from --init, the others from the stage before
            img = initial_image(settings, content_np, init_pixels, net.dev)
            logging.info('start training arguments %s', settings)
        else:
            img = mx.nd.array(images.resized_network_image(img.asnumpy(), content_np.shape[2:]), ctx=net.dev)
        colors_from = images.PostprocessImage(content_np) if settings.original_colors else None  # the result's size
        watch.start_stage(epochs_done, epochs, img, colors_from, [x.asscalar() for x in loss.grad_array])
        try:
            epochs_done += optimize(settings, loss, img, (epochs_done, epochs), watch)
        except Diverged as diverged:
            raise NstyleError('%s: stopped without writing %s (last good checkpoint: %s); try %s'
                              % (diverged, getattr(watch, 'final_name', None) or 'a result',
                                 watch.last_checkpoint or 'none was written', diverged.advice)) from None
    return img


def model_module(settings):
    """model_<--model>.py: the network's symbols and weights (model_vgg19)."""
    import importlib
    return importlib.import_module('model_' + settings.model)


def sized_inputs(settings, module, pictures):
    """Every stage's StageInputs: the pictures at its size, checked against the layers chosen (a bad
    layer name, an image too small for them) before the weights load and any work starts."""
    return [stage_inputs(settings, module, edge, settings.long_edge_flag, pictures) for edge, _ in settings.stages]


def stylise(settings, pictures, net, watch, inputs=None):
    """The Gatys result of these Pictures, arrays in and out: every stage's inputs (sized_inputs,
    unless given), then the stages optimised. Returns the finished 8-bit (h, w, 3) pixels
    (final.jpg's: not denoised; with --original-colors the content's colours)."""
    inputs = inputs or sized_inputs(settings, net.module, pictures)
    img = optimise_stages(settings, inputs, pictures.init, net, watch)
    return images.finished_pixels(img.asnumpy(), 0, watch.colors_from)


def write_interrupted_note(run_dir, epochs_done, settings):
    """The note beside a stopped run's final.jpg: it holds the image after epochs_done epochs, not a
    finished result (a batch run again runs that row again; files/output_folder.INTERRUPTED_NOTE)."""
    from neural_style.files.output_folder import INTERRUPTED_NOTE, write_atomically
    text = ('final.jpg holds the image after %d of at most %d epochs: this run was interrupted. Run it again '
            'with --overwrite for the finished result; a batch (--jobs) run again runs this row again by itself.\n'
            % (epochs_done, sum(epochs for _, epochs in settings.stages)))

    def write(temporary):
        with open(temporary, 'w') as f:
            f.write(text)
    write_atomically(os.path.join(run_dir, INTERRUPTED_NOTE), write)


def run_gatys(settings, callback=None, stop=None, reuse=None, checkpoints=True, record=None):
    """nstyle.py's run: final.jpg and the checkpoints e_N.jpg in --output_dir (through
    files/output_folder's output_run: locked, --overwrite keeps the earlier results until this run's
    final.jpg exists). callback(dict) after every epoch: {'eps', 'epoch'}, plus 'filename' and 'img'
    (the image as the network sees it) on the epochs that saved a checkpoint. stop: an
    long_work.StopFlag that ends the run after the epoch it is in, saving final.jpg. reuse: a
    (loaded, executors) pair kept between runs (batch mode: gatys.loss.load_vgg's, the weights read
    once, the executors reused). checkpoints=False: final.jpg alone (the chapter's figures). record:
    a dict EpochWatch fills with the losses, checkpoints and phases' seconds (nstyle.py --json).
    Raises NstyleError for problems the user can fix; the stop's KeyboardInterrupt after saving final.jpg."""
    from neural_style.files.output_folder import output_run, write_image_atomically
    if settings.preset:
        from neural_style.cli.presets import describe_preset
        logging.info('--preset %s: %s (flags given explicitly win)', settings.preset, describe_preset(settings))
    settings = settled(settings)  # --dtype auto: this machine's choice
    dev = context_for(settings.gpu, settings.dtype)
    pictures = read_pictures(settings, memory=available_memory(dev))
    module = model_module(settings)
    inputs = sized_inputs(settings, module, pictures)
    net = load_vgg(settings, module, dev, *(reuse or (None, None)))
    if dev.device_type == 'cpu':
        from neural_style.mxnet_runtime import THREADS, THREADS_SOURCE
        logging.info('running on the CPU with %s threads (from %s)', THREADS, THREADS_SOURCE)
    with output_run(settings.output_dir, settings.overwrite) as run_dir, \
            stop_signals_between_epochs(stop) as stop:  # --overwrite: run_dir is a folder of its own
        def keep(name, pixels):
            path = os.path.join(run_dir, name)
            logging.info('save output to %s', path)
            write_image_atomically(path, pixels)
            return path
        final_fn = os.path.join(run_dir, 'final.jpg')
        watch = EpochWatch(settings, keep if checkpoints else None, callback, stop, final_fn, record)
        watch.print_head_gradients = True
        try:
            pixels = stylise(settings, pictures, net, watch, inputs)
        except KeyboardInterrupt:
            # Before the first epoch the image is the starting noise (or --init): no result to save.
            if watch.epochs_done:
                write_interrupted_note(run_dir, watch.epochs_done, settings)  # first: no final.jpg without it
                keep('final.jpg', images.finished_pixels(watch.image.asnumpy(), 0, watch.colors_from))
            raise
        keep('final.jpg', pixels)
