"""The parts every tool of this project shares; the module map is docs/architecture.md."""

import os

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout: model_*.py, input/, model/
