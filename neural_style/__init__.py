"""The parts every tool of this project shares (nstyle.py, end_to_end/, the video and
comparison tools), one role a module:

    flags       flag types, the one error type, the end of every CLI        (no MXNet)
    images      reading images, the network's pre- and post-processing     (no MXNet)
    outputs     atomic writes and the output folder's rules                 (no MXNet)
    interrupts  Ctrl-C (and other stop signals) between epochs              (no MXNet)
    device      where MXNet runs: the context, the bfloat16 check
    losses      the loss symbols: Gram matrices, content, total variation
    mrf         the MRF style loss (--style-loss mrf): patch matching, its loss symbols
    loss_setup  the targets and the bound loss executor for one image size
    reporter    what happens after every epoch, for every optimiser
    optimizers  the NAG/Adam step loop and L-BFGS
    batch       batch mode (--jobs)
"""
