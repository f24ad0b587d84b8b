"""The parts every tool of this project shares (nstyle.py, end_to_end/, the video and
comparison tools), one role a module:

    flags       flag types, the one error type, the end of every CLI        (no MXNet)
    images      reading images (upright, large ones reduced), the network's
                pre- and post-processing                                    (no MXNet)
    outputs     atomic writes, the folder lock, --overwrite that keeps the
                earlier results until the new ones exist                    (no MXNet)
    interrupts  Ctrl-C, SIGTERM and SIGHUP between epochs; Ctrl-C at import (no MXNet)
    memory      will a size fit in memory: refused before allocating       (no MXNet)
    device      where MXNet runs: the context, the bfloat16 check
    losses      the loss symbols: Gram matrices, content, total variation
    mrf         the MRF style loss (--style-loss mrf): patch matching, its loss symbols
    loss_setup  the targets and the bound loss executor for one image size
    reporter    what happens after every epoch, for every optimiser
    optimizers  the NAG/Adam step loop and L-BFGS
    batch       batch mode (--jobs)
    job_files   a job's files as bytes in memory, for a cluster's workers     (no MXNet)
    cluster     jobs on a Ray cluster (--ray): workers, retries, the bar     (no MXNet)
    ray_batch   batch mode on a Ray cluster (--jobs FILE --ray)
    ray_inference  the generators on a Ray cluster: folders, video frames (--ray)
    style_flags nstyle.py's flags, defined once (stylize_video.py takes those that apply)
    initial     where an optimisation starts (--init)
    video_io    videos and folders of frames in and out (imageio-ffmpeg)    (no MXNet)
    flow        optical flow, warping, the forward-backward consistency mask (no MXNet)
    temporal    the temporal loss term and the temporal error (flicker)
    frames_folder    a stylised video's frames folder: settings, resuming    (no MXNet)
    frame_stylizers  frame after frame: by optimisation, or with the generators
    presets     --preset NAME: named sets of flag defaults (fast)            (no MXNet)
    heap        giving freed memory back to the system (malloc_trim)        (no MXNet)
    universal   universal style transfer (WCT, AdaIN): its transforms, networks, pass, training;
                `from neural_style import wct, adain` (numpy, no MXNet)

end_to_end (feed-forward generators):
    generators          the symbols: the original's gen_v4, gen_v3 and their chain; Johnson's network
    checkpoints         a model folder's checkpoints: names, kind, checked loading, atomic saving
    stylizer            load_stylizer(model_dir, size, dev) -> .stylize(pixels), bound once
    crops               resize-to-cover and crop, the images of a folder                 (no MXNet)
    perceptual_loss     the VGG-19 style + content loss of a generated image
    generator_training  one training step: the chain's gradient plumbing, Johnson's end to end
"""


def __getattr__(name):
    """`from neural_style import wct, adain`: the universal style transfer's feature transforms (numpy),
    imported on first use so that `import neural_style` stays light."""
    if name in ('wct', 'adain'):
        from .universal import transforms
        return getattr(transforms, name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
