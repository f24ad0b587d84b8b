"""What every benchmark prints beside its figures: which CPU made them (neural_style/machine.py reads it)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project

from neural_style import machine  # noqa: E402


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ('?' where there is none)."""
    return machine.cpu_model(unknown='?')


def has_bf16():
    """Whether the CPU has AVX512-BF16 instructions (what --dtype bfloat16 needs)."""
    return 'avx512_bf16' in machine.cpu_flags()
