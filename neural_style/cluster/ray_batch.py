"""Batch mode on a Ray cluster (--jobs FILE --ray [ADDRESS]): the rows of the CSV file as jobs on
the cluster's workers (ray_cluster.py). This process parses the rows, reads each job's pictures
(gatys/run.py's read_pictures) and the weights' bytes (sent to each worker once), and writes every
result; a worker gets the pictures as arrays, runs the same stylise as a run in this process, and
hands back its checkpoints and result as arrays, so the results are the same bytes as batch
mode's, seeded rows included, and the workers need no shared filesystem."""
import collections
import dataclasses
import importlib
import logging
import os

from neural_style.cluster import ray_cluster as cluster
from neural_style.cluster.batch import (JobArgumentError, check_distinct_outputs, failure_line, failure_summary,
                                        finished_before, job_args, job_label, read_jobs, resumed, skip_line,
                                        without_jobs_flag)
from neural_style.errors import NstyleError
from neural_style.files.output_folder import NSTYLE_RESULTS, check_output_dir, output_run, write_image_atomically
from neural_style.gatys.loss import load_vgg, params_key
from neural_style.gatys.run import read_pictures


def run_jobs_on_ray(args, argv):
    """The rows of --jobs on the Ray cluster of --ray, each job a Gatys run (gatys/run.py) on a worker.
    Returns the exit status, as batch mode does: 0 when every job finished, 1 otherwise."""
    if args.jobs is None:
        raise NstyleError('--ray runs the rows of a --jobs FILE on a Ray cluster: add --jobs')
    cluster.import_ray()  # before anything else: without Ray, one line that says how to install it
    shared_argv = without_jobs_flag(argv)
    rows = read_jobs(args.jobs)
    check_distinct_outputs(args.jobs, rows, shared_argv)  # as batch mode: before any work
    jobs, places = [], {}  # places: job name -> (its number, its line in the file)
    for index, (line, row) in enumerate(rows, start=1):
        try:
            parsed = job_args(shared_argv, row)
        except JobArgumentError as error:  # reported when its turn comes, as in batch mode
            parsed = error
        claim = os.path.abspath(parsed.output_dir or '.') if not isinstance(parsed, Exception) else None
        label = job_label(index, len(rows), args.jobs, line)
        if not isinstance(parsed, Exception):
            if finished_before(parsed):  # as batch mode: not a failure
                logging.info(skip_line(label, parsed))
                continue
            parsed = resumed(parsed, label)
        jobs.append(cluster.Job('job %d' % index, label, claim, parsed))
        places[jobs[-1].name] = (index, line)

    def summary(failed):  # batch mode's: the first few, and every failed row in FILE.failed.csv
        return failure_summary(args.jobs, rows, [places[job.name] + (message,) for job, message in failed])
    resources = cluster.Resources(args.cpus_per_job, args.gpus_per_job)
    with cluster.ray_cluster(args.ray) as ray:
        driver = DriverSide(ray, resources)
        return cluster.run_on_cluster(ray, jobs, WorkerSide(),
                                      cluster.Driver(driver.prepare, driver.finish, True, summary), resources)


class DriverSide:
    """What this process does for each job: read its inputs and weights, write its results."""

    def __init__(self, ray, resources):
        self.ray, self.resources = ray, resources
        self.weights = {}  # absolute path of a weights file -> the ref of its bytes in the object store

    def prepare(self, job):
        """The payload of a job: its flags as the worker uses them, its images' bytes, its weights' ref."""
        args = job.data
        if isinstance(args, Exception):
            raise args
        pictures = read_pictures(args)
        # the worker's weights path (its bytes come along) and the GPU Ray gives it, or the CPU
        worker_args = dataclasses.replace(args, vgg_params=self.weights_file(args),
                                          gpu=0 if self.resources.gpus else -1)
        check_output_dir(args.output_dir, args.overwrite)  # fail fast; the folder is made when results come
        return worker_args, pictures, self.weights[worker_args.vgg_params]

    def weights_file(self, args):
        """The absolute path of the job's weights file, its bytes put into the object store the first time."""
        model_module = importlib.import_module('model_' + args.model)
        try:
            path = os.path.abspath(model_module.find_params(args.vgg_params))
        except model_module.WeightsError as error:
            raise NstyleError('--vgg-params: %s' % error) from None
        if path not in self.weights:
            with open(path, 'rb') as f:
                self.weights[path] = self.ray.put(f.read())
        return path

    def finish(self, job, result):
        """Write the images the job made (the checkpoints before a failure too, as batch mode keeps them)."""
        args = job.data
        outputs, error = result
        if outputs:
            for name, _ in outputs:
                if not NSTYLE_RESULTS.pattern.fullmatch(name):  # only what a run writes
                    raise NstyleError('the worker sent %r, not a result of a run' % name)
            # as a run here writes them: the folder locked, earlier results kept until the new final.jpg
            with output_run(args.output_dir, args.overwrite) as run_dir:
                for name, pixels in outputs:
                    write_image_atomically(os.path.join(run_dir, name), pixels)
        if error:
            raise NstyleError(error)
        return os.path.join(args.output_dir, 'final.jpg')


class WorkerSide:
    """What a worker runs for each job (picklable)."""

    def __call__(self, cache, payload, progress):
        """One job on its pictures: (the images it made as [(name, 8-bit pixels)]: its checkpoints
        e_N.jpg and final.jpg, its failure line or None). cache: the worker's state, kept between its
        jobs (the weights, the executors per size)."""
        from neural_style.gatys.run import EpochWatch, model_module, stylise
        from neural_style.mxnet_runtime import context_for
        settings, pictures, weights = payload
        loaded = cache.setdefault('loaded', {})
        executors = cache.setdefault('executors', collections.OrderedDict())
        module = model_module(settings)
        key = params_key(module, settings.vgg_params)
        made = []

        def keep(name, pixels):
            made.append((name, pixels))
            return name
        watch = EpochWatch(settings, keep, callback=lambda data: progress(data['epoch']))
        try:
            if key not in loaded:
                loaded[key] = load_weights(module, weights, settings.vgg_params)
            net = load_vgg(settings, module, context_for(settings.gpu, settings.dtype), loaded, executors)
            made.append(('final.jpg', stylise(settings, pictures, net, watch)))
        except Exception as error:  # the job's own failure: reported for it, and the worker goes on
            return made, failure_line(error)
        return made, None


def load_weights(model_module, weights, path):
    import ray
    try:
        return model_module.load_params_from_bytes(ray.get(weights), path)
    except model_module.WeightsError as error:
        raise NstyleError('--vgg-params: %s' % error) from None
