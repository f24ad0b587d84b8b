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
    loss_setup  the targets and the bound loss executor for one image size
    reporter    what happens after every epoch, for every optimiser
    optimizers  the NAG/Adam step loop and L-BFGS
    batch       batch mode (--jobs)
"""
