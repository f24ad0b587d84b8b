"""--json: the one report every tool prints, in one shape. No MXNet.

    {"tool": "nstyle.py",
     "inputs":   {role: path, or "-" for stdin},
     "outputs":  {role: path, or "-" for stdout},
     "settings": the tool's frozen settings (dataclasses.asdict; tuples as lists),
     "timings":  {"total_s": ..., "<phase>_s": ...},
     "losses":   [{name: value} per epoch], [] when the tool optimises nothing,
     "machine":  {"cpu", "threads", "python", "mxnet" (null: never loaded), "gpu" (null: the CPU)},
     "extra":    {what is the tool's own: compare.py's "scores", the "weights" used ...}}

With --json stdout holds that one document and nothing else: while the tool works, whatever would
go to stdout (the original's printouts, a library's) goes to stderr (hold_stdout). A tool that
fails prints its one-line error on stderr and NOTHING on stdout, exit status non-zero, as it
does before its flags are parsed: a script reads the report only when the status is 0. run_cli
(cli/tool.py) writes the report, once, for every tool."""
import dataclasses
import json
import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional

KEYS = ('tool', 'inputs', 'outputs', 'settings', 'timings', 'losses', 'machine', 'extra')


def as_json(value):
    """Tuples as lists, numpy's numbers as Python's, recursively: what json.dumps takes."""
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if hasattr(value, 'item') and callable(value.item):  # a numpy scalar (or a one-element array)
        return value.item()
    return value


def settings_json(config, leave_out=('json',)):
    """The tool's frozen settings as JSON: every field but those in leave_out (--json itself)."""
    return as_json({name: value for name, value in dataclasses.asdict(config).items() if name not in leave_out})


def gpu_name(gpu):
    """The name of the GPU a run with --gpu `gpu` computed on, by MXNet's own decision (pick_context's
    rule: mxnet_runtime.py), or None: the CPU, or MXNet was never loaded."""
    mx = sys.modules.get('mxnet')
    if gpu is None or gpu < 0 or mx is None:
        return None
    from neural_style import cuda_build
    try:
        count = mx.context.num_gpus()
    except Exception:  # mx.base.MXNetError: no CUDA
        return None
    info = cuda_build.gpu_info(gpu) if gpu < count else None
    if not cuda_build.gpu_decision(gpu, count, info)[0]:
        return None
    return (info[0] if info and info[0] else 'GPU %d' % gpu)


def machine_facts(gpu=None):
    """Where the tool ran: the CPU's model, the threads MXNet computes with (OMP_NUM_THREADS, which
    mxnet_runtime.py sets before it loads), Python's and MXNet's versions, the GPU used (or None)."""
    from neural_style.machine import cpu_model, usable_cpu_count
    mx = sys.modules.get('mxnet')
    return {'cpu': cpu_model(), 'threads': int(os.environ.get('OMP_NUM_THREADS') or usable_cpu_count()),
            'python': platform.python_version(), 'mxnet': getattr(mx, '__version__', None),
            'gpu': gpu_name(gpu)}


class Phases:
    """The seconds of a tool's phases, in the order they end: done('weights') ends the phase that
    began at the last done() (or at the start), under 'weights_s'; a name seen again adds up."""

    def __init__(self, start=None):
        self.start = self.last = time.perf_counter() if start is None else start
        self.seconds = {}

    def done(self, name, now=None):
        now = time.perf_counter() if now is None else now
        key = name + '_s'
        self.seconds[key] = self.seconds.get(key, 0.0) + now - self.last
        self.last = now

    def add(self, name, seconds):
        """A phase measured elsewhere (by the epoch loop); the caller keeps the phases disjoint."""
        self.seconds[name + '_s'] = self.seconds.get(name + '_s', 0.0) + seconds

    def timings(self):
        ended = time.perf_counter()
        return dict({key: round(value, 4) for key, value in self.seconds.items()}, total_s=round(ended - self.start, 4))


@dataclasses.dataclass(frozen=True)
class Report:
    """One tool's --json report (see the module's docstring). exit_status: the tool's exit status
    after the report (compare.py --min-ssim fails with its report printed); not in the JSON."""
    tool: str
    inputs: Dict[str, Any]
    outputs: Dict[str, Any]
    settings: Dict[str, Any]
    timings: Dict[str, float]
    losses: List[Dict[str, float]]
    machine: Dict[str, Any]
    extra: Dict[str, Any]
    exit_status: int = 0

    def as_dict(self):
        return as_json({key: getattr(self, key) for key in KEYS})


def make_report(tool, inputs, outputs, config, phases, losses=(), extra=None, gpu=None, exit_status=0,
                leave_out=('json',)):
    """The Report of a run: config is the tool's frozen settings (leave_out: fields not reported),
    phases its Phases (timings), gpu the --gpu it was given (None: it computes on the CPU)."""
    return Report(tool, dict(inputs), dict(outputs), settings_json(config, leave_out), phases.timings(),
                  [dict(epoch) for epoch in losses], machine_facts(gpu), dict(extra or {}), exit_status)


# ---- stdout while a --json tool works ----------------------------------------------------------

_HELD = []  # [(the stdout object, its file descriptor's copy or None)] while held


def hold_stdout():
    """From now until the report, stdout goes to stderr: Python's prints (sys.stdout), and the file
    descriptor 1 that MXNet's C++ and child processes write to. Called by a tool once its flags
    say --json."""
    if _HELD:
        return
    sys.stdout.flush()
    saved = None
    try:
        fd = sys.stdout.fileno()
        saved = os.dup(fd)
        os.dup2(sys.stderr.fileno(), fd)
    except (AttributeError, OSError, ValueError):  # a stdout without a descriptor (a test's capture)
        if saved is not None:
            os.close(saved)
            saved = None
    _HELD.append((sys.stdout, saved))
    sys.stdout = sys.stderr


def release_stdout():
    """stdout back where it was (nothing when not held)."""
    if not _HELD:
        return
    stdout, saved = _HELD.pop()
    sys.stderr.flush()
    try:
        stdout.flush()
    except (OSError, ValueError):
        pass
    if saved is not None:
        os.dup2(saved, stdout.fileno())
        os.close(saved)
    sys.stdout = stdout


def write_report(report: Report, out: Optional[Any] = None):
    """The report as one JSON document on stdout (released first)."""
    release_stdout()
    out = out or sys.stdout
    json.dump(report.as_dict(), out, indent=1)
    out.write('\n')
    out.flush()
