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
    presets     --preset NAME: named sets of flag defaults (fast)            (no MXNet)
    heap        giving freed memory back to the system (malloc_trim)        (no MXNet)

end_to_end (feed-forward generators):
    generators          the symbols: the original's gen_v4, gen_v3 and their chain; Johnson's network
    checkpoints         a model folder's checkpoints: names, kind, checked loading, atomic saving
    stylizer            load_stylizer(model_dir, size, dev) -> .stylize(pixels), bound once
    crops               resize-to-cover and crop, the images of a folder                 (no MXNet)
    perceptual_loss     the VGG-19 style + content loss of a generated image
    generator_training  one training step: the chain's gradient plumbing, Johnson's end to end
"""
