"""Print the requirements file to install: requirements-cu112.txt (the GPU build) when
nvidia-smi reports a GPU that mxnet-cu112 can drive, requirements.txt (the CPU build) otherwise.

NSTYLE_BUILD=gpu or NSTYLE_BUILD=cpu overrides the choice. The Makefile runs this with the
system Python, before the virtual environment exists: standard library only.
A note on stderr says why, whenever there is a GPU to talk about.
"""
import os
import shutil
import subprocess
import sys

from neural_style.cuda_build import BUILD, describe_archs, runs_on

CPU, GPU = 'requirements.txt', 'requirements-cu112.txt'


def smi_capabilities():
    """[(major, minor)] of each GPU nvidia-smi lists, or None when it cannot say
    (drivers before R510 lack the compute_cap field)."""
    try:
        result = subprocess.run(['nvidia-smi', '--query-gpu=compute_cap', '--format=csv,noheader'],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        return [tuple(int(part) for part in line.strip().split('.')) for line in result.stdout.split()]
    except ValueError:
        return None


def pick(build, capabilities, have_smi):
    """(requirements file, note or None) for NSTYLE_BUILD `build` and nvidia-smi's answer."""
    if build == 'cpu':
        return CPU, None
    if build == 'gpu':
        return GPU, None
    if build:
        raise ValueError('NSTYLE_BUILD=%s: use NSTYLE_BUILD=gpu or NSTYLE_BUILD=cpu, or leave it unset to '
                         'choose by the GPU that nvidia-smi reports' % build)
    if not have_smi:
        return CPU, None  # no NVIDIA driver: the CPU build, nothing to say
    if capabilities is None:
        return CPU, ('note: nvidia-smi cannot report the GPU\'s compute capability (driver before R510?); '
                     'installing the CPU build (NSTYLE_BUILD=gpu installs the GPU build %s)' % BUILD)
    if not capabilities:
        return CPU, 'note: nvidia-smi lists no GPU: installing the CPU build'
    shown = ', '.join('%d.%d' % cap for cap in capabilities)
    if any(runs_on(cap) for cap in capabilities):
        return GPU, 'note: GPU compute capability %s: installing the GPU build %s' % (shown, BUILD)
    return CPU, ('note: GPU compute capability %s, which %s has no code for (it has %s): installing the CPU '
                 'build (NSTYLE_BUILD=gpu installs the GPU build anyway)' % (shown, BUILD, describe_archs()))


def main():
    have_smi = shutil.which('nvidia-smi') is not None
    capabilities = smi_capabilities() if have_smi else None
    try:
        requirements, note = pick(os.environ.get('NSTYLE_BUILD', ''), capabilities, have_smi)
    except ValueError as error:
        sys.exit('error: %s' % error)
    if note:
        print(note, file=sys.stderr)
    print(requirements)


if __name__ == '__main__':
    main()
