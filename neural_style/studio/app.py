"""The studio's web application (Starlette): the page, the images, the runs and their live events,
the downloads, and compare.py's scores of two results. Nothing here computes a picture: runs go to
worker processes (runs.Runs), comparisons to a process of their own; the server stays responsive.
No MXNet in this process."""
import argparse
import asyncio
import concurrent.futures
import contextlib
import glob
import itertools
import json
import multiprocessing
import os
import re
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from neural_style.cli.flag_types import NON_NEGATIVE, POSITIVE_INT, FINITE
from neural_style.errors import NstyleError

from neural_style.studio import runs as runs_module
from neural_style.studio import uploads, worker

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(PROJECT, 'input')
MAX_UPLOAD_BYTES = 200 * 2**20  # a 50-megapixel PNG; larger is refused before it is read whole
GIF_FRAMES = 60  # the checkpoint GIF: at most this many checkpoints, evenly spaced, then the result
EVENT_SECONDS = 0.2  # how often an event stream looks for changes

# The methods the page lists, in its order. `available` is decided at start (weights, model folder).
# PLACE FOR THE ONE-PASS NETWORKS: 'stylize' (pretrained one-pass networks, being written) and 'wct' /
# 'adain' are listed, disabled, until their API exists; give each a branch in worker.run when it does.
METHODS = [
    ('gatys', "Gatys et al.: the original's optimisation (NAG from noise)"),
    ('fast', '--preset fast: L-BFGS from the content image, 80 epochs'),
    ('generators', 'end_to_end feed-forward generators (one pass, a trained style)'),
    ('stylize', 'one-pass pretrained networks (stylize): coming'),
    ('wct', 'WCT (universal style transfer): coming'),
    ('adain', 'AdaIN: coming'),
]
OPTIMISATIONS = ('gatys', 'fast')
# the page's settings: name -> the command line's flag type (the same checks and words)
SETTING_TYPES = {'max_long_edge': POSITIVE_INT, 'max_num_epochs': POSITIVE_INT, 'content_weight': NON_NEGATIVE,
                 'style_weight': NON_NEGATIVE, 'tv_weight': FINITE}


@dataclass(frozen=True)
class StudioConfig:
    vgg_params: str | None  # None: model/vgg19.params
    model_dir: str  # the end_to_end generators' folder
    work_dir: str  # uploads and runs
    max_running: int  # optimisations at once; the rest wait in line
    threads_per_run: int


class Images:
    """Content and style images: the samples in input/ and the uploads, each with an id."""

    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()
        self.items = {}
        self.ids = itertools.count(1)
        for path in sorted(glob.glob(os.path.join(SAMPLES, '*.jpg'))):
            name = os.path.basename(path)
            self.items['sample-' + name] = {'id': 'sample-' + name, 'name': name, 'path': path, 'preview': path,
                                            'sample': True}

    def add(self, data, filename, role):
        """Check an upload and keep it: its description, or an NstyleError in the CLI's words."""
        name = uploads.safe_name(filename)
        with self.lock:
            image_id = 'upload-%d' % next(self.ids)
        folder = os.path.join(self.folder, image_id)
        os.makedirs(folder)
        path = os.path.join(folder, name)
        with open(path, 'wb') as f:
            f.write(data)
        uploads.check_image(path, role, name)
        preview = os.path.join(folder, 'preview.png')
        h, w = uploads.write_preview(path, preview, role, name)
        item = {'id': image_id, 'name': name, 'path': path, 'preview': preview, 'sample': False, 'size': [w, h]}
        with self.lock:
            self.items[image_id] = item
        return item

    def get(self, image_id):
        with self.lock:
            return self.items.get(image_id)

    def listing(self):
        with self.lock:
            return [{key: item[key] for key in ('id', 'name', 'sample')} for item in self.items.values()]


def error(message, status=400):
    return JSONResponse({'error': message}, status_code=status)


def checked_settings(method, given):
    """The page's settings as GatysSettings' fields, checked by the command line's flag types."""
    settings = {'preset': 'fast'} if method == 'fast' else {}
    for name, value in (given or {}).items():
        if value in (None, ''):
            continue  # the method's default
        if name not in SETTING_TYPES:
            raise NstyleError('unknown setting %r' % name)
        try:
            settings[name] = SETTING_TYPES[name](str(value))
        except argparse.ArgumentTypeError as problem:
            raise NstyleError('%s: %s' % (name.replace('_', ' '), problem)) from None
    return settings


def generators_available(model_dir):
    return bool(glob.glob(os.path.join(model_dir, '**', '*.params'), recursive=True))


def set_threads(threads):
    os.environ['OMP_NUM_THREADS'] = str(threads)


def gif_bytes(paths):
    """An animated GIF of the images at paths, at the size of the last (the result)."""
    import imageio.v3 as iio
    import numpy as np
    from PIL import Image
    last = Image.open(paths[-1]).convert('RGB')
    frames = [np.asarray(Image.open(path).convert('RGB').resize(last.size)) for path in paths[:-1]]
    frames.append(np.asarray(last))
    durations = [100] * (len(frames) - 1) + [2000]  # ms; the result stays a while
    return iio.imwrite('<bytes>', np.stack(frames), extension='.gif', duration=durations, loop=0)


def checkpoint_paths(run):
    """The run's checkpoints e_N.jpg in epoch order."""
    found = glob.glob(os.path.join(run.job['folder'], 'e_*.jpg'))
    return sorted(found, key=lambda path: int(re.search(r'e_(\d+)\.jpg$', path).group(1)))


def create_app(config):
    images = Images(os.path.join(config.work_dir, 'images'))
    runs = runs_module.Runs(os.path.join(config.work_dir, 'runs'), config.max_running, config.threads_per_run)
    helper = concurrent.futures.ProcessPoolExecutor(1, multiprocessing.get_context('spawn'), set_threads,
                                                    (config.threads_per_run,))
    weights = helper.submit(worker.weights_label, config.vgg_params)  # known in a few seconds
    has_generators = generators_available(config.model_dir)

    async def weights_info():
        try:
            return await asyncio.wrap_future(weights)
        except Exception as problem:  # noqa: BLE001  (the footer says it; runs will say it again)
            return {'usable': False, 'text': 'cannot read the weights: %s' % problem}

    async def page(request):
        return FileResponse(os.path.join(HERE, 'static', 'index.html'))

    async def info(request):
        label = await weights_info()
        why_not = {'gatys': None if label['usable'] else label['text'], 'fast': None if label['usable'] else
                   label['text'], 'generators': None if has_generators else 'no generators in %s (train them with '
                   'end_to_end/boost_train.py, or ./download.sh)' % config.model_dir,
                   'stylize': 'being written', 'wct': 'not yet', 'adain': 'not yet'}
        return JSONResponse({'weights': label, 'images': images.listing(), 'max_running': config.max_running,
                             'methods': [{'id': key, 'label': label_text, 'available': why_not[key] is None,
                                          'why_not': why_not[key]} for key, label_text in METHODS]})

    async def upload(request):
        if int(request.headers.get('content-length') or 0) > MAX_UPLOAD_BYTES:
            return error('the upload is %.0f MB, more than the studio takes (%d MB); resize it first'
                         % (int(request.headers['content-length']) / 2**20, MAX_UPLOAD_BYTES // 2**20), 413)
        async with request.form(max_part_size=MAX_UPLOAD_BYTES) as form:
            role = form.get('role') if form.get('role') in ('content', 'style') else 'content'
            file = form.get('file')
            if file is None or isinstance(file, str):
                return error('no file in the upload; choose an image file')
            data = await file.read()
            filename = file.filename
        try:
            item = await asyncio.to_thread(images.add, data, filename, role + ' image')
        except NstyleError as problem:
            return error(str(problem))
        return JSONResponse({key: item[key] for key in ('id', 'name', 'sample', 'size')})

    async def preview(request):
        item = images.get(request.path_params['image_id'])
        return FileResponse(item['preview']) if item else error('no such image', 404)

    async def start_run(request):
        try:
            body = await request.json()
        except ValueError:
            return error('the request is not JSON')
        method = body.get('method')
        if method not in dict(METHODS):
            return error('unknown method %r' % method)
        if method in ('stylize', 'wct', 'adain'):
            return error('the method %s is not in the studio yet' % method)
        if method == 'generators' and not has_generators:
            return error('no generators in %s' % config.model_dir)
        content, style = images.get(body.get('content') or ''), images.get(body.get('style') or '')
        if content is None:
            return error('choose a content image (a sample or an upload)')
        if style is None and method in OPTIMISATIONS:
            return error('choose a style image (a sample or an upload)')
        try:
            settings = checked_settings(method, body.get('settings'))
        except NstyleError as problem:
            return error(str(problem))
        if method in OPTIMISATIONS:
            settings['vgg_params'] = config.vgg_params
        job = {'method': method, 'content': content['path'], 'content_id': content['id'],
               'style': style['path'] if method in OPTIMISATIONS else None,
               'style_id': style['id'] if method in OPTIMISATIONS else None,
               'settings': settings, 'model_dir': config.model_dir}
        description = '%s: %s in the style of %s' % (method, content['name'], style['name'] if style and
                                                      method in OPTIMISATIONS else 'the generators')
        run = runs.submit(job, description)
        return JSONResponse(runs.snapshot(run.id))

    def found_run(request):
        return runs.get(request.path_params['run_id'])

    async def list_runs(request):
        return JSONResponse([runs.snapshot(run_id) for run_id in list(runs.runs)])

    async def show_run(request):
        snapshot = runs.snapshot(request.path_params['run_id'])
        return JSONResponse(snapshot) if snapshot else error('no such run', 404)

    async def stop_run(request):
        run = runs.stop(request.path_params['run_id'])
        return JSONResponse(runs.snapshot(run.id)) if run else error('no such run', 404)

    async def events(request):
        """Server-sent events: the run's state each time it changes, until it is finished."""
        run_id = request.path_params['run_id']
        if runs.get(run_id) is None:
            return error('no such run', 404)

        async def stream():
            version, losses_sent = -1, 0
            while True:
                snapshot = runs.snapshot(run_id)
                if snapshot['version'] != version:
                    version = snapshot['version']
                    all_losses = snapshot.pop('losses')
                    snapshot['new_losses'] = all_losses[losses_sent:]
                    losses_sent = len(all_losses)
                    yield 'data: %s\n\n' % json.dumps(snapshot)
                    if snapshot['state'] in runs_module.FINISHED:
                        return
                await asyncio.sleep(EVENT_SECONDS)

        return StreamingResponse(stream(), media_type='text/event-stream',
                                 headers={'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no'})

    async def checkpoint(request):
        run = found_run(request)
        if run is None:
            return error('no such run', 404)
        path = os.path.join(run.job['folder'], worker.CHECKPOINT % request.path_params['epoch'])
        return FileResponse(path) if os.path.exists(path) else error('no such checkpoint', 404)

    async def result(request):
        run = found_run(request)
        if run is None or not run.has_result:
            return error('no result (yet)', 404)
        return FileResponse(os.path.join(run.job['folder'], worker.RESULT),
                            filename='studio_run%s_%s.png' % (run.id, run.job['method']))

    async def gif(request):
        run = found_run(request)
        if run is None or not run.has_result:
            return error('no result (yet)', 404)
        checkpoints = checkpoint_paths(run)
        step = max(1, -(-len(checkpoints) // GIF_FRAMES))
        paths = checkpoints[::step] + [os.path.join(run.job['folder'], worker.RESULT)]
        data = await asyncio.to_thread(gif_bytes, paths)
        return Response(data, media_type='image/gif', headers={
            'Content-Disposition': 'attachment; filename="studio_run%s_checkpoints.gif"' % run.id})

    async def compare_runs(request):
        try:
            body = await request.json()
        except ValueError:
            return error('the request is not JSON')
        first, second = runs.get(str(body.get('a'))), runs.get(str(body.get('b')))
        if first is None or second is None or not (first.has_result and second.has_result):
            return error('choose two runs with results')
        if first.job['content_id'] != second.job['content_id']:
            return error('compare needs two results of the same content image')
        styles = {run.job['style_id'] for run in (first, second)} - {None}
        if len(styles) != 1:
            return error('compare needs two results of the same style image (the distances are to it)'
                         if styles else 'compare needs at least one optimisation run (its style image is what '
                         'the style distances are measured to)')
        style = images.get(styles.pop())['path']
        paths = [os.path.join(run.job['folder'], worker.RESULT) for run in (first, second)]
        try:
            report = await asyncio.wrap_future(helper.submit(
                worker.compare_results, paths[0], paths[1], first.job['content'], style, config.vgg_params))
        except NstyleError as problem:
            return error(str(problem))
        report['runs'] = [first.id, second.id]
        return JSONResponse(report)

    routes = [
        Route('/', page),
        Route('/api/info', info),
        Route('/api/images', upload, methods=['POST']),
        Route('/api/images/{image_id}/preview', preview),
        Route('/api/runs', start_run, methods=['POST']),
        Route('/api/runs', list_runs),
        Route('/api/runs/{run_id}', show_run),
        Route('/api/runs/{run_id}/stop', stop_run, methods=['POST']),
        Route('/api/runs/{run_id}/events', events),
        Route('/api/runs/{run_id}/checkpoint/{epoch:int}', checkpoint),
        Route('/api/runs/{run_id}/result.png', result),
        Route('/api/runs/{run_id}/checkpoints.gif', gif),
        Route('/api/compare', compare_runs, methods=['POST']),
        Mount('/static', StaticFiles(directory=os.path.join(HERE, 'static')), name='static'),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        runs.stop_all()  # at shutdown: the workers stop after their epoch
        helper.shutdown(wait=False, cancel_futures=True)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runs, app.state.images = runs, images
    return app
