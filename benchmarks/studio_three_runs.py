"""What three simultaneous runs do to the studio: started at once through its HTTP API (as three
tabs would), with --max-running 1 (the default on 2 CPUs: the others queue), 2 and 3. Prints, for
each, the wall time until all three are done, each run's wait in line and seconds per epoch, the
slowest answer of /api/info while they ran (does the page stay responsive?) and the peak memory of
the studio and its workers together.

    python benchmarks/studio_three_runs.py --vgg-params model/vgg19.params [--long-edge 200 --epochs 20]

The VGG-19 weights' values do not change the time: random test weights (tests/weights.py) serve.
"""
import argparse
import json
import os
import sys
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, '..', 'tests'), os.path.join(HERE, '..')]

from studio_server import Studio  # noqa: E402


def descendants_rss(pid):
    """Resident memory (bytes) of pid and all its descendants, from /proc."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    parent = int(f.read().rsplit(')', 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open('/proc/%d/status' % current) as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmRSS:'))
        except (OSError, StopIteration):
            pass
    return total


def measure(vgg_params, max_running, long_edge, epochs, model_dir):
    studio = Studio(vgg_params, model_dir, max_running=max_running)
    samples = {'latency': [], 'rss': []}
    done = threading.Event()

    def sample():
        while not done.is_set():
            start = time.time()
            requests.get(studio.url + '/api/runs/1', timeout=60)  # what a page load asks, bar /api/info
            samples['latency'].append(time.time() - start)
            samples['rss'].append(descendants_rss(studio.process.pid))
            time.sleep(0.5)

    try:
        started = time.time()
        runs = [studio.start_run(max_long_edge=long_edge, max_num_epochs=epochs) for _ in range(3)]
        threading.Thread(target=sample, daemon=True).start()
        first_epoch, finished = {}, {}

        def follow(run_id):
            for event in studio.stream(run_id, timeout=3600):
                if event['epoch'] and run_id not in first_epoch:
                    first_epoch[run_id] = time.time() - started
            finished[run_id] = time.time() - started

        followers = [threading.Thread(target=follow, args=(run['id'],)) for run in runs]
        for thread in followers:
            thread.start()
        for thread in followers:
            thread.join()
        done.set()
        total = time.time() - started
        report = []
        for run in runs:
            state = studio.get('/api/runs/%s' % run['id']).json()
            losses = state['losses']
            # the pace once it computes: from its first epoch to its end
            pace = (finished[run['id']] - first_epoch[run['id']]) / max(1, len(losses) - 1)
            report.append({'run': run['id'], 'first_state': run['state'], 'state': state['state'],
                           'first_epoch_at_s': round(first_epoch.get(run['id'], float('nan')), 1),
                           'done_at_s': round(finished[run['id']], 1),
                           'seconds_per_epoch': round(pace, 2), 'epochs': len(losses)})
        return {'max_running': max_running, 'all_done_s': round(total, 1), 'runs': report,
                'slowest_answer_s': round(max(samples['latency'] or [0]), 3),
                'peak_rss_mb': round(max(samples['rss'] or [0]) / 2**20)}
    finally:
        studio.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--vgg-params', required=True)
    parser.add_argument('--long-edge', type=int, default=200)
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--limits', default='1,2,3', help='the --max-running values to measure, in turn')
    parser.add_argument('--model-dir', default='/nonexistent')
    args = parser.parse_args()
    with open('/proc/cpuinfo') as f:
        cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    print('CPU: %s, %d usable; load average before: %s' % (cpu, len(os.sched_getaffinity(0)),
                                                          open('/proc/loadavg').read().split()[:3]))
    print('3 runs at once, each %d px long edge, %d epochs (nag), random test weights' % (args.long_edge, args.epochs))
    for limit in (int(text) for text in args.limits.split(',')):
        print(json.dumps(measure(args.vgg_params, limit, args.long_edge, args.epochs, args.model_dir)), flush=True)


if __name__ == '__main__':
    main()
