"""The parts every tool of this project shares (nstyle.py, end_to_end/, the video and
comparison tools), one role a module:

    flags       flag types, the one error type, the end of every CLI        (no MXNet)
    images      reading images, the network's pre- and post-processing     (no MXNet)
    outputs     atomic writes and the output folder's rules                 (no MXNet)
    interrupts  Ctrl-C (and other stop signals) between epochs              (no MXNet)
    device      where MXNet runs: the context, the bfloat16 check
    losses      the loss symbols: Gram matrices, content, total variation
    loss_setup  the targets and the bound loss executor for one image size
    reporter    what happens after every epoch, for every optimiser
    optimizers  the NAG/Adam step loop and L-BFGS
    batch       batch mode (--jobs)
    job_files   a job's files as bytes in memory, for a cluster's workers     (no MXNet)
    cluster     jobs on a Ray cluster (--ray): workers, retries, the bar     (no MXNet)
    ray_batch   batch mode on a Ray cluster (--jobs FILE --ray)
"""
