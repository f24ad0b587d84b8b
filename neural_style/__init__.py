"""The parts every tool of this project shares; the module map is docs/architecture.md."""

import os

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout: model_*.py, input/, model/


def __getattr__(name):
    """`from neural_style import wct, adain`: universal style transfer's feature transforms (numpy),
    imported on first use so that `import neural_style` stays light."""
    if name in ('wct', 'adain'):
        from neural_style.universal import transforms
        return getattr(transforms, name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
