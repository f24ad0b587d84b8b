"""Benchmark: a batch of N small jobs by batch mode (--jobs, one process) and by --ray with 1 and 2
workers, on this machine: jobs per second.

    python benchmarks/ray_batch.py                       # 8 jobs, 32 px, 20 epochs; writes output/bench_ray.json
    python benchmarks/ray_batch.py --jobs 16 --size 64 --epochs 50 --all-threads

Each configuration is one `nstyle.py --jobs FILE ...` command in its own process (one Ray worker:
the command on one CPU, taskset -c 0, so that the local Ray has one), on the same CSV file (seeded
rows, each into its own folder). Two rates: over the command's whole wall time (Python, MXNet and
Ray starting, the workers loading the weights), and over the batch alone (the "jobs: N of N done
in ..." line, from the first job to the last result; Ray started). Weights are RANDOM, in the real
file format (tests/weights.py): a job costs what it costs with the real VGG-19.
This asserts nothing; it prints a table and writes JSON.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from machine import cpu_model  # noqa: E402  (benchmarks/, this script's folder)

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
CONTENT = os.path.join(HERE, 'input', 'IMG_4343.jpg')
STYLE = os.path.join(HERE, 'input', 'starry_night.jpg')
# (name, the flags beyond --jobs, OMP_NUM_THREADS or None (find_mxnet's: the CPUs usable), the CPUs the
# command may use (taskset; a local Ray takes as many) or None: all)
CONFIGURATIONS = [
    ('batch mode, 1 process, 1 thread', [], '1', None),
    ('--ray, 1 worker (Ray on 1 CPU)', ['--ray'], None, '0'),
    ('--ray, 2 workers of 1 CPU', ['--ray'], None, None),
]
ALL_THREADS = ('batch mode, 1 process, 2 threads', [], None, None)  # --all-threads




def write_jobs(folder, count):
    path = os.path.join(folder, 'jobs.csv')
    with open(path, 'w') as f:
        f.write('content,style,output,options\n')
        for index in range(count):
            f.write('%s,%s,%s,--seed %d\n' % (CONTENT, STYLE, os.path.join(folder, 'out', 'job%d' % index), index))
    return path


def run_batch(flags, threads, cpus, folder):
    """One configuration: (wall seconds, batch seconds from its summary line, the summary line)."""
    env = dict(os.environ)
    env.pop('OMP_NUM_THREADS', None)
    if threads:
        env['OMP_NUM_THREADS'] = threads
    command = [sys.executable, os.path.join(HERE, 'nstyle.py')] + flags
    started = time.time()
    proc = subprocess.run((['taskset', '-c', cpus] if cpus else []) + command, cwd=HERE, env=env,
                          capture_output=True, text=True)
    wall = time.time() - started
    summary = re.search(r'jobs: (\d+) of (\d+) done in (?:(\d+)m)?(\d+)s.*', proc.stderr)
    if proc.returncode != 0 or not summary:
        raise SystemExit('failed: %s\n%s' % (' '.join(flags), proc.stderr[-3000:]))
    batch = int(summary.group(3) or 0) * 60 + int(summary.group(4))
    subprocess.run(['rm', '-rf', os.path.join(folder, 'out')], check=True)
    return wall, batch, summary.group(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--jobs', type=int, default=8, help='how many jobs (rows)')
    parser.add_argument('--size', type=int, default=32, help='the long edge of each job (--max-long-edge)')
    parser.add_argument('--epochs', type=int, default=20, help='epochs per job (--max-num-epochs, --stop-eps 0)')
    parser.add_argument('--all-threads', action='store_true',
                        help='also batch mode on all the CPUs\' threads (on a shared machine oversubscribed threads '
                             'can make it far slower than one)')
    parser.add_argument('--json', default=os.path.join(HERE, 'output', 'bench_ray.json'), help='where to write')
    args = parser.parse_args()

    sys.path.insert(0, HERE)
    from tests.weights import random_vgg19_arrays, save_params
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, 'vgg19.params')
        save_params(weights, random_vgg19_arrays())
        jobs = write_jobs(folder, args.jobs)
        common = ['--gpu', '-1', '--vgg-params', weights, '--max-long-edge', str(args.size), '--max-num-epochs',
                  str(args.epochs), '--stop-eps', '0', '--save-epochs', str(args.epochs), '--jobs', jobs]
        print('%s, %d CPUs usable (a machine shared with other work: the figures move from run to run); '
              '%d jobs of %d px, %d epochs each; random weights (not VGG-19)'
              % (cpu_model(), len(os.sched_getaffinity(0)), args.jobs, args.size, args.epochs), flush=True)
        print('%-34s %10s %12s %10s %12s' % ('', 'wall s', 'jobs/s wall', 'batch s', 'jobs/s batch'), flush=True)
        rows = []
        for name, flags, threads, cpus in CONFIGURATIONS + [ALL_THREADS] * args.all_threads:
            wall, batch, summary = run_batch(common + flags, threads, cpus, folder)
            rows.append({'configuration': name, 'flags': flags, 'omp_num_threads': threads, 'taskset': cpus,
                         'wall_s': wall, 'batch_s': batch,
                         'jobs_per_s_wall': args.jobs / wall, 'jobs_per_s_batch': args.jobs / batch})
            print('%-34s %10.1f %12.3f %10d %12.3f' % (name, wall, args.jobs / wall, batch, args.jobs / batch),
                  flush=True)
    report = {'machine': cpu_model(), 'cpus': len(os.sched_getaffinity(0)), 'jobs': args.jobs, 'size': args.size,
              'epochs': args.epochs, 'weights': 'random (tests/weights.py)', 'rows': rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, 'w') as out:
        json.dump(report, out, indent=2)
    print('wrote %s' % args.json)


if __name__ == '__main__':
    main()
