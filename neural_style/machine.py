"""What this machine offers a run, read without MXNet: the CPUs this process may use, the memory
it may still allocate, the CPU's instruction-set flags, and giving freed memory back to the system.

glibc keeps what a process frees for its next allocations; MXNet and oneDNN free and allocate large
blocks of many sizes, so the heap fragments and the resident set creeps up epoch by epoch
(benchmarks/memory.py: +90 MB over the first epochs at 600x400). Trimming after the targets are
computed and after each epoch keeps it flat."""
import ctypes
import ctypes.util
import os


def usable_cpu_count():
    """The CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_bytes():
    """What this process may still allocate: MemAvailable of /proc/meminfo, or the container's
    (cgroup v2) limit less its use when that is smaller; None where neither can be read."""
    found = []
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        with open('/sys/fs/cgroup/memory.max') as f:
            limit = f.read().strip()
        with open('/sys/fs/cgroup/memory.current') as f:
            if limit != 'max':
                found.append(int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    found += address_space_left()
    return min(found) if found else None


def address_space_left():
    """[bytes] this process may still map under `ulimit -v` (RLIMIT_AS less its mapped size), or []
    without such a limit: past it MXNet's allocations fail in C++ (a segfault, heap corruption)."""
    try:
        import resource
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return []
        with open('/proc/self/status') as f:
            mapped = next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmSize:'))
        return [max(0, limit - mapped)]
    except (ImportError, OSError, ValueError, StopIteration):
        return []


def cpu_model(unknown='unknown CPU'):
    """The CPU's model name from /proc/cpuinfo (`unknown` where there is none): what a measurement
    names, and what a per-machine cache is keyed by."""
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), unknown)
    except OSError:
        return unknown


def cpu_flags():
    """The instruction-set flags of the CPU, from /proc/cpuinfo (empty where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            return set(next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), []))
    except OSError:
        return set()


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
