"""The studio's runs: each its own id, folder and state, run in a worker process of its own
(worker.run), at most max_running at once; the rest wait in line, first come first served, and
the page shows them as queued. Every change to a run's state happens under the Runs' lock, and a
run's `version` grows with each, so that the page's event stream sends only what changed. No MXNet."""
import collections
import itertools
import multiprocessing
import os
import queue
import threading
import time

from neural_style.studio import worker

QUEUED, RUNNING, STOPPING, DONE, STOPPED, FAILED = 'queued', 'running', 'stopping', 'done', 'stopped', 'failed'
FINISHED = (DONE, STOPPED, FAILED)
# a worker that is gone without its last message (killed, out of memory) is noticed this often
POLL_SECONDS = 0.5


class Run:
    """One run's settings (job: what the worker needs) and its state as the page sees it."""

    def __init__(self, run_id, job, description):
        self.id, self.job, self.description = run_id, job, description
        self.state = QUEUED
        self.epochs = []  # (epoch, losses, seconds) of every epoch done
        self.epochs_total = job.get('settings', {}).get('max_num_epochs')
        self.error = None
        self.has_result = False
        self.position = None  # place in the line while queued (1: next)
        self.version = 0
        self.created = time.time()
        self.stop_event = None

    def snapshot(self):
        """The run as the page's JSON: what the event stream sends."""
        last = self.epochs[-1] if self.epochs else None
        eta = None
        if len(self.epochs) >= 2 and self.state == RUNNING and self.epochs_total:
            # the pace since the first epoch (which also loaded the network); at most: nag and adam
            # may stop sooner (--stop-eps), lbfgs when it converges
            first = self.epochs[0]
            eta = (last[2] - first[2]) / (last[0] - first[0]) * max(0, self.epochs_total - last[0])
        return {'id': self.id, 'state': self.state, 'method': self.job['method'], 'description': self.description,
                'epoch': last[0] if last else 0, 'epochs_total': self.epochs_total,
                'losses': [{'epoch': e, **losses} for e, losses, _ in self.epochs],
                'seconds': last[2] if last else 0, 'eta_seconds': eta, 'position': self.position,
                'error': self.error, 'has_result': self.has_result, 'version': self.version,
                'content': self.job.get('content_id'), 'style': self.job.get('style_id')}


class Runs:
    """All runs of this studio, and the line of those waiting for a worker."""

    def __init__(self, folder, max_running, threads_per_run):
        self.folder, self.max_running, self.threads_per_run = folder, max_running, threads_per_run
        self.lock = threading.Lock()
        self.runs = {}
        self.waiting = collections.deque()
        self.running = set()
        self.ids = itertools.count(1)
        self.context = multiprocessing.get_context('spawn')

    def _changed(self, run, **state):
        for name, value in state.items():
            setattr(run, name, value)
        run.version += 1

    def submit(self, job, description):
        """A new run, queued; it starts at once when a worker is free."""
        with self.lock:
            run_id = '%d' % next(self.ids)
            folder = os.path.join(self.folder, 'run%s' % run_id)
            os.makedirs(folder)
            run = Run(run_id, dict(job, folder=folder, threads=self.threads_per_run), description)
            self.runs[run_id] = run
            self.waiting.append(run)
            self._start_waiting()
        return run

    def get(self, run_id):
        return self.runs.get(run_id)

    def snapshot(self, run_id):
        with self.lock:
            run = self.runs.get(run_id)
            return run and run.snapshot()

    def stop(self, run_id):
        """Stop a run: a queued one leaves the line; a running one ends after its current epoch,
        keeping the image so far as its result."""
        with self.lock:
            run = self.runs.get(run_id)
            if run is None or run.state in FINISHED:
                return run
            if run.state == QUEUED:
                self.waiting.remove(run)
                self._changed(run, state=STOPPED, position=None)
                self._renumber()
            elif run.state == RUNNING:
                run.stop_event.set()
                self._changed(run, state=STOPPING)
            return run

    def _renumber(self):
        for position, run in enumerate(self.waiting, 1):
            if run.position != position:
                self._changed(run, position=position)

    def _start_waiting(self):
        """Start runs from the head of the line while workers are free (under the lock)."""
        while self.waiting and len(self.running) < self.max_running:
            run = self.waiting.popleft()
            self.running.add(run)
            run.stop_event = self.context.Event()
            self._changed(run, state=RUNNING, position=None)
            threading.Thread(target=self._watch, args=(run,), daemon=True, name='run%s' % run.id).start()
        self._renumber()

    def _watch(self, run):
        """The run's worker process, from its start to its end: its messages become the run's state."""
        messages = self.context.Queue()
        process = self.context.Process(target=worker.run, args=(run.job, messages, run.stop_event), daemon=True)
        process.start()
        final = None
        while final is None:
            try:
                message = messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    final = ('failed', 'the worker process ended without a result (exit status %s): out of memory?'
                             % process.exitcode)
                continue
            with self.lock:
                if message[0] == 'epoch':
                    _, epoch, losses, seconds, total = message
                    run.epochs.append((epoch, losses, seconds))
                    self._changed(run, epochs_total=total)
                else:
                    final = message
        process.join()
        with self.lock:
            if final[0] == 'done':
                stopped = run.state == STOPPING
                self._changed(run, state=STOPPED if stopped else DONE, has_result=True)
            else:
                self._changed(run, state=FAILED, error=final[1])
            self.running.discard(run)
            self._start_waiting()

    def stop_all(self):
        """At shutdown: no new starts, and every worker asked to stop."""
        with self.lock:
            self.waiting.clear()
            for run in self.running:
                run.stop_event.set()
