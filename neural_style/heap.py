"""Giving freed memory back to the system. glibc keeps what a process frees for its next allocations;
MXNet and oneDNN free and allocate large blocks of many sizes, so the heap fragments and the resident
set creeps up epoch by epoch (benchmarks/memory.py: +90 MB over the first epochs at 600x400). Trimming
after the targets are computed and after each epoch keeps it flat. No MXNet."""
import ctypes
import ctypes.util


def _glibc_malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6').malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def return_freed_memory():
    """malloc_trim(0): the free pages of the heap go back to the system (about a millisecond)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
