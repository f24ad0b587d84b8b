"""stylize.py --ray: the photos of a folder on a Ray cluster's workers (cluster/ray_cluster.py), a
job each. This process reads each photo and writes each result; a worker receives the networks'
converted weights from it once, as arrays (no shared filesystem, nothing read from the worker's
disk; the 26-style and arbitrary networks' and WCT's and AdaIN's alike), and the photo as an array,
and runs the same onepass.methods.stylize_photo as a run here."""
import collections
import time

from neural_style.cluster import ray_cluster as cluster

# What a worker runs: the method, its settings (the paintings' pixels in them), the ref of the
# weights (check_weights' result: {weights file name: {our name: array}}, or WCT's and AdaIN's
# {level: (encoder, decoder params)}), --original-colors and --contact-sheet.
Stylization = collections.namedtuple('Stylization', ['method', 'settings', 'weights', 'original_colors', 'contact'])


def put_stylization(ray, method, settings, weights, original_colors, contact):
    """The Stylization of the jobs, WEIGHTS (check_weights(method, settings)'s, loaded and checked here
    before any job; a contact sheet's method is multistyle) into the object store once."""
    return Stylization(method, settings, ray.put(weights), original_colors, contact)


class StylizeOnWorker:
    """What a worker runs for each photo (picklable): (the uint8 result, the seconds it took)."""

    def __init__(self, stylization):
        self.stylization = stylization

    def __call__(self, state, content, progress):
        import ray

        from neural_style.onepass.methods import remember_weights, stylize_photo
        job = self.stylization
        if 'weights' not in state:  # the driver's arrays stand for the files its --weights-dir names
            state['weights'] = ray.get(job.weights)
            remember_weights(job.method, job.settings, state['weights'])
        start = time.time()
        result = stylize_photo(content, job.method, job.settings, job.original_colors, job.contact)
        return result, time.time() - start


def run_photos_on_ray(flags, pairs, read, write, stylization_from):
    """Each (photo, result path) of PAIRS a job: read(photo) -> its pixels here, stylised on a worker,
    write(pixels, result path) here. flags: .ray, .cpus_per_job, .gpus_per_job;
    stylization_from(ray) -> Stylization. Returns the exit status (1 when a photo failed)."""
    from neural_style.generators.on_ray import run_images_on_ray

    def finish(job, result):
        pixels, elapsed = result
        write(pixels, job.data[1])
        return '%dx%d in %.2f s -> %s' % (pixels.shape[1], pixels.shape[0], elapsed, job.data[1])

    jobs = [cluster.Job('photo %d' % index, 'photo %d of %d (%s)' % (index, len(pairs), source), output,
                        (source, output)) for index, (source, output) in enumerate(pairs, start=1)]
    return run_images_on_ray(flags, jobs, lambda ray: StylizeOnWorker(stylization_from(ray)),
                             cluster.Driver(lambda job: read(job.data[0]), finish, log_each=True))
