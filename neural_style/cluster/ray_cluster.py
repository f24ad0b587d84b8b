"""Jobs on a Ray cluster (--ray [ADDRESS]): a local Ray on the CPUs this process may use, or the
cluster at ADDRESS. Generic: any tool gives a function that runs one job on a worker, and what
its driver does before (read the inputs) and after (write the outputs) each job. No MXNet here.

Workers are actors: each is one process that keeps `state` (a dict: the loaded weights, the bound
executors per size) between its jobs, as batch mode does in one process. A job whose worker dies
(a killed process, a lost node) runs again on another worker, up to MAX_ATTEMPTS times; a job that
fails for its own reason fails alone, as in batch mode."""
import collections
import contextlib
import logging
import os
import time

from neural_style import PROJECT
from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE
from neural_style.errors import Interrupted, NstyleError
from neural_style.long_work import duration
from neural_style.machine import usable_cpu_count

INSTALL_RAY = 'pip install ray==2.60.0 (the version requirements.txt pins)'
MAX_ATTEMPTS = 3  # how often a job is started when its workers keep dying (a job that kills its worker)
WORKER_WAIT = 600  # seconds with jobs to run and no worker started (a lost node, a cluster too small): the end
WORKER_NAME = 'neural_style-worker-%d-%d'  # the batch (the driver's pid) and the worker's number

# One job: its name in the summary ('job 3'), its label in the log lines, a claim that no two
# running jobs may share (their output folder: jobs that write into one folder run in turn, in
# order, as in batch mode) or None, and the caller's data about it.
Job = collections.namedtuple('Job', ['name', 'label', 'claim', 'data'])
# What the driver does around each job, on its own machine. prepare(job) -> the payload sent to a
# worker (reading the inputs); finish(job, result) -> the text the "done" line ends with (writing
# the outputs). Either raises NstyleError to fail the job. log_each: a log line per job (False for
# many short jobs, such as video frames: the bar says enough). summary([(job, message), ...]) -> how
# the last line tells the failed jobs (None: their names), so that a tool's summary on the cluster
# reads as it does on one machine.
Driver = collections.namedtuple('Driver', ['prepare', 'finish', 'log_each', 'summary'], defaults=[None])
# What each worker reserves: CPUs (also its threads) and GPUs.
Resources = collections.namedtuple('Resources', ['cpus', 'gpus'])


def add_cluster_flags(parser, what):
    """--ray [ADDRESS], --cpus-per-job and --gpus-per-job on a tool's parser; what: what runs on the
    cluster (for the help)."""
    parser.add_argument('--ray', nargs='?', const='', default=None, metavar='ADDRESS',
                        help='run %s on a Ray cluster: without ADDRESS a local Ray on the CPUs this process may use '
                             '(or the cluster in $RAY_ADDRESS); with one, that cluster (auto: the one this machine '
                             'belongs to; ray://HOST:10001: a remote one). The workers load the weights once; '
                             'this process reads the inputs and writes the results (no shared filesystem)' % what)
    parser.add_argument('--cpus-per-job', type=POSITIVE, default=1, metavar='N',
                        help='with --ray: the CPUs each worker reserves (and its threads); default 1')
    parser.add_argument('--gpus-per-job', type=NON_NEGATIVE, default=0, metavar='N',
                        help='with --ray: the GPUs each worker reserves (1: a GPU each; 0.5: two workers a GPU); '
                             'default 0, the CPU')


def import_ray():
    try:
        import ray
    except ImportError as error:
        raise NstyleError('--ray needs Ray, which cannot be imported here (%s): %s' % (error, INSTALL_RAY)) from None
    return ray


def first_line(error):
    """The first line of an exception's message (Ray's run to many), else its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def ray_cluster(address):
    """Ray, connected: to a Ray this process already started (a test, a notebook), to the cluster at
    address (or $RAY_ADDRESS when address is ''), or to a local Ray started here and shut down after."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get('RAY_ADDRESS') or None
    if address:
        check_reachable(address)
    handlers = python_signal_handlers()
    try:
        if address:  # the workers elsewhere get this project's code (the .gitignore'd weights and results stay)
            ray.init(address=address, logging_level=logging.WARNING,
                     runtime_env={'working_dir': PROJECT, 'excludes': ['input/', 'output/', 'tests/', '*.params']})
        else:
            ray.init(address='local', num_cpus=usable_cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise NstyleError('--ray %s: cannot connect to a Ray cluster (%s); start one with `ray start --head`, '
                          'or give --ray without an address for a local Ray'
                          % (address or '', first_line(error))) from None
    except OSError as error:  # a local Ray that cannot start: its socket paths under a long TMPDIR, ...
        ray.shutdown()
        if address:
            raise
        raise NstyleError('--ray: cannot start a local Ray (%s); if the path named is too long, set RAY_TMPDIR '
                          'to a short folder such as /tmp' % first_line(error)) from None
    finally:
        received = restore_signal_handlers(handlers)
    try:
        yield ray
    except KeyboardInterrupt as stop:
        # Ray's own wait turns the Interrupted our handler raised into a bare KeyboardInterrupt: the
        # signal it came from gives the exit status (143 for SIGTERM, 129 for SIGHUP)
        if getattr(stop, 'signum', None) is None and received:
            raise Interrupted(received[-1]) from None
        raise
    finally:
        ray.shutdown()


def python_signal_handlers():
    """The stop signals' handlers of this process (run_cli's: one line, exit 128 + the signal)."""
    import signal
    from neural_style.errors import STOP_SIGNALS
    if not threading_is_main():
        return {}
    return {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}


def restore_signal_handlers(handlers):
    """ray.init puts its own in place (SIGTERM: sys.exit(15), or a C++ stack dump): ours come back,
    so that SIGTERM and SIGHUP end a --ray run as they end any run. Returns the list of the signals
    received since (each handler notes its signal first)."""
    import signal
    received = []

    def noting(handler):
        def handle(signum, frame):
            received.append(signum)
            return handler(signum, frame)
        return handle
    for signum, handler in handlers.items():
        if handler is not None:
            signal.signal(signum, noting(handler) if callable(handler) else handler)
    return received


def threading_is_main():
    import threading
    return threading.current_thread() is threading.main_thread()


CONNECT_TIMEOUT = 10  # seconds to reach a cluster's address: Ray itself retries for many minutes


def host_and_port(address):
    """(host, port) of 'HOST:PORT' or 'ray://HOST:PORT'; None for 'auto', 'local' and other forms."""
    plain = address[len('ray://'):] if address.startswith('ray://') else address
    host, _, port = plain.rpartition(':')
    if not host or not port.isdigit():
        return None
    return host.strip('[]'), int(port)


def check_reachable(address):
    """A one-line NstyleError within seconds when the cluster's address answers no connection (a
    wrong host, a port nobody listens on, a firewall), instead of Ray's minutes of retries. ray://
    (Ray Client) needs Ray's client extra, which requirements.txt does not pin: refused, with the
    addresses that work."""
    if address.startswith('ray://') and not client_support():
        raise NstyleError('--ray %s: Ray Client addresses (ray://) need Ray\'s client extra, not installed here '
                          '(pip install "ray[client]"); or run this tool on a machine of the cluster with --ray auto, '
                          'or --ray HEAD_HOST:6379 from a machine on its network' % address)
    target = host_and_port(address)
    if target is None:
        return
    import socket
    try:
        socket.create_connection(target, timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        reason = 'no answer within %d s' % CONNECT_TIMEOUT if isinstance(error, socket.timeout) else \
            (error.strerror or str(error) or type(error).__name__)
        raise NstyleError('--ray %s: cannot reach the cluster (%s); check the address (RAY_ADDRESS too), start one '
                          'with `ray start --head`, or give --ray without an address for a local Ray'
                          % (address, reason)) from None


def client_support():
    """Whether Ray Client (ray://) can run here: its extra's packages import."""
    try:
        import ray.util.client  # noqa: F401
        import grpc  # noqa: F401
    except ImportError:
        return False
    return True


def worker_count(ray, resources, job_count):
    """As many workers as the cluster's resources hold (never more than there are jobs); its size in the log."""
    total = ray.cluster_resources()
    cpus, gpus = total.get('CPU', 0), total.get('GPU', 0)
    count = int(cpus // resources.cpus)
    if resources.gpus:
        count = min(count, int(gpus // resources.gpus))
    nodes = sum(1 for node in ray.nodes() if node.get('Alive'))
    logging.info('Ray cluster: %d node%s, %g CPUs, %g GPUs: %d workers of %g CPU%s%s', nodes, 's' * (nodes != 1),
                 cpus, gpus, min(count, job_count), resources.cpus, 's' * (resources.cpus != 1),
                 ' and %g GPU%s' % (resources.gpus, 's' * (resources.gpus != 1)) if resources.gpus else '')
    if count == 0:
        raise NstyleError('--cpus-per-job %g --gpus-per-job %g: the Ray cluster has %g CPUs and %g GPUs, not enough '
                          'for one worker; ask for less per job' % (resources.cpus, resources.gpus, cpus, gpus))
    return min(count, job_count)


class JobWorker:
    """A Ray actor (made one by WorkerPool): runs work(state, payload, progress) for each job, with
    state kept between its jobs; progress(step) records how far the job is, for status()."""

    def __init__(self, work):
        self.work, self.state, self.now = work, {}, None

    def run(self, label, payload):
        self.now = [label, 0]
        try:
            return self.work(self.state, payload, self.progress)
        finally:
            self.now = None

    def progress(self, step):
        if self.now is not None:
            self.now[1] = step

    def status(self):
        """Answered while a job runs (in its own thread): the process, its node, the job and its step."""
        import ray
        now = self.now or [None, None]
        return {'pid': os.getpid(), 'node': ray.get_runtime_context().get_node_id(), 'job': now[0], 'step': now[1]}


# A started worker: its actor, its name in the log, its process and node.
Worker = collections.namedtuple('Worker', ['actor', 'name', 'pid', 'node'])


class WorkerPool:
    """The workers of a batch: started, replaced when one dies, killed at the end."""

    def __init__(self, ray, work, resources):
        self.ray, self.resources = ray, resources
        # OMP_NUM_THREADS: a worker's threads are its CPUs (the driver's own count would be inherited)
        threads = str(max(1, int(resources.cpus)))
        self.actor_class = ray.remote(
            num_cpus=resources.cpus, num_gpus=resources.gpus, max_restarts=0, concurrency_groups={'status': 1},
            runtime_env={'env_vars': {'OMP_NUM_THREADS': threads}})(JobWorker)
        self.work_ref = ray.put(work)
        self.started = self.died_starting = 0
        self.starting = {}  # status ref -> (actor, name): started, not yet answered
        self.idle = []      # Workers

    def start(self):
        self.started += 1
        name = WORKER_NAME % (os.getpid(), self.started)
        actor = self.actor_class.options(name=name).remote(self.work_ref)
        self.starting[actor.status.options(concurrency_group='status').remote()] = (actor, name)

    def check_started(self, ready):
        """Workers whose status came back among the ready refs join the idle ones; one that died is
        replaced, unless workers keep dying as they start (no MXNet on a node, say): that ends the batch."""
        for ref in [ref for ref in ready if ref in self.starting]:
            actor, name = self.starting.pop(ref)
            try:
                status = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as error:
                self.died_starting += 1
                if self.died_starting >= MAX_ATTEMPTS:
                    raise NstyleError('--ray: %d Ray workers died as they started, the last one: %s'
                                      % (self.died_starting, first_line(error))) from None
                logging.warning('worker %s died as it started (%s): starting another', name, first_line(error))
                self.start()
                continue
            logging.info('worker %s: pid %d on node %s', name, status['pid'], status['node'][:12])
            self.idle.append(Worker(actor, name, status['pid'], status['node']))

    def kill(self, actor):
        with contextlib.suppress(Exception):  # it may be gone already
            self.ray.kill(actor, no_restart=True)

    def kill_all(self, busy):
        for actor in [actor for actor, _ in self.starting.values()] + [worker.actor for worker in self.idle] + busy:
            self.kill(actor)


def first_line(error):
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0]


class Batch:
    """The bookkeeping of one run: what is pending, running, done and failed, and the bar."""

    def __init__(self, jobs, bar):
        self.pending = collections.deque(jobs)
        self.running = {}  # result ref -> (job, Worker, start time, payload)
        self.attempts = collections.Counter()
        self.done = []
        self.failed = []  # (job, why it failed)
        self.bar = bar
        self.payloads = {}  # job name -> payload, kept for a retry

    def next_job(self):
        """The first pending job whose claim no running job holds (an earlier pending one with the same
        claim comes first: jobs into one folder run in row order)."""
        held = {job.claim for job, *_ in self.running.values() if job.claim is not None}
        for job in self.pending:
            if job.claim is None or job.claim not in held:
                self.pending.remove(job)
                return job
            held.add(job.claim)
        return None

    def fail(self, job, message):
        self.failed.append((job, str(message)))
        logging.error('%s failed: %s', job.label, message)
        self.bar.update(1)
        self.show()

    def show(self):
        self.bar.set_postfix_str('done %d, failed %d, running %d' % (len(self.done), len(self.failed),
                                                                      len(self.running)), refresh=False)
        self.bar.refresh()


def run_on_cluster(ray, jobs, work, driver, resources):
    """Run the jobs on the cluster's workers, each started by work(state, payload, progress) on a
    worker with the payload driver.prepare gave, its result handed to driver.finish. Returns the exit
    status: 0 when every job finished, 1 otherwise. Ctrl-C: the running and pending jobs are
    cancelled, what finished is kept, and the log says which is which."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    if not jobs:
        return 0
    pool = WorkerPool(ray, work, resources)
    for _ in range(worker_count(ray, resources, len(jobs))):
        pool.start()
    start = time.time()
    with logging_redirect_tqdm(), tqdm(total=len(jobs), unit='job', desc='jobs', dynamic_ncols=True) as bar:
        batch = Batch(jobs, bar)
        last_worker = time.time()  # when a worker last ran or waited for a job
        try:
            while batch.pending or batch.running:
                dispatch(batch, pool, driver)
                batch.show()
                if not batch.pending and not batch.running:  # the last jobs failed as they were prepared
                    break
                waiting = list(batch.running) + list(pool.starting)
                if not waiting:  # nothing runs and no worker is left to start one: a bug, said plainly
                    raise NstyleError('no Ray worker is left to run the %d pending jobs' % len(batch.pending))
                if batch.running or pool.idle:
                    last_worker = time.time()
                elif time.time() - last_worker > WORKER_WAIT:  # the cluster lost the room for any worker
                    raise NstyleError('--ray: no worker could start for %d minutes (the cluster has %s); %d jobs '
                                      'were not run' % (WORKER_WAIT // 60, ray.available_resources(),
                                                        len(jobs) - len(batch.done) - len(batch.failed)))
                ready, _ = ray.wait(waiting, num_returns=1, timeout=1.0)
                pool.check_started(ready)
                for ref in [ref for ref in ready if ref in batch.running]:
                    collect(batch, pool, driver, ref)
            batch.show()
        except KeyboardInterrupt:
            # not started: counted from the others, so that a job caught between the queue and a worker counts
            logging.error('interrupted: the results of the %d finished jobs are kept%s; %d running and %d not '
                          'started were cancelled', len(batch.done),
                          ' (%d failed)' % len(batch.failed) if batch.failed else '', len(batch.running),
                          len(jobs) - len(batch.done) - len(batch.failed) - len(batch.running))
            raise
        finally:  # the workers go with the batch, whatever ended it
            pool.kill_all([worker.actor for _, worker, *_ in batch.running.values()])
    failed = sorted(batch.failed, key=lambda failure: jobs.index(failure[0]))
    logging.info('jobs: %d of %d done in %s%s', len(batch.done), len(jobs), duration(time.time() - start),
                 '; ' + failed_text(driver, failed) if failed else '')
    return 1 if batch.failed else 0


def failed_text(driver, failed):
    if driver.summary is not None:
        return driver.summary(failed)
    return 'failed: %s' % ', '.join(job.name for job, _ in failed)


def dispatch(batch, pool, driver):
    """Give each idle worker a pending job, prepared on the driver (a job that fails there fails alone)."""
    while pool.idle and batch.pending:
        job = batch.next_job()
        if job is None:
            return
        payload = batch.payloads.pop(job.name, None)
        if payload is None:
            try:
                payload = driver.prepare(job)
            except NstyleError as error:
                batch.fail(job, error)
                continue
        worker = pool.idle.pop(0)
        batch.attempts[job.name] += 1
        if driver.log_each:
            logging.info('%s: on worker %s (pid %d)', job.label, worker.name, worker.pid)
        batch.running[worker.actor.run.remote(job.label, payload)] = (job, worker, time.time(), payload)


def collect(batch, pool, driver, ref):
    """A job's result: written by the driver; or, when its worker died, the job again on another one."""
    job, worker, started, payload = batch.running.pop(ref)
    try:
        result = pool.ray.get(ref)
    except pool.ray.exceptions.RayActorError as error:
        pool.kill(worker.actor)
        pool.start()  # a new worker in its place, wherever the cluster has room
        if batch.attempts[job.name] >= MAX_ATTEMPTS:
            batch.fail(job, 'its worker died %d times, the last time: %s' % (MAX_ATTEMPTS, first_line(error)))
            return
        logging.warning('%s: its worker (pid %d) died (%s): the job starts again on another worker, attempt %d of %d',
                        job.label, worker.pid, first_line(error), batch.attempts[job.name] + 1, MAX_ATTEMPTS)
        batch.payloads[job.name] = payload
        batch.pending.appendleft(job)
        return
    except pool.ray.exceptions.RayTaskError as error:  # work() raised: it should return its failures
        pool.idle.append(worker)
        batch.fail(job, first_line(error.cause if getattr(error, 'cause', None) else error))
        return
    pool.idle.append(worker)
    try:
        note = driver.finish(job, result)
    except NstyleError as error:
        batch.fail(job, error)
        return
    batch.done.append(job)
    batch.bar.update(1)
    batch.show()
    if driver.log_each:
        logging.info('%s done in %s: %s', job.label, duration(time.time() - started), note)
