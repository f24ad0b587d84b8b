"""What every benchmark prints beside its figures: which CPU made them."""


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ('?' where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '?')
    except OSError:
        return '?'


def has_bf16():
    """Whether the CPU has AVX512-BF16 instructions (what --dtype bfloat16 needs)."""
    try:
        with open('/proc/cpuinfo') as f:
            return 'avx512_bf16' in f.read()
    except OSError:
        return False
