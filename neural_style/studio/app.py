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

from neural_style.cli.flag_types import FINITE, NON_NEGATIVE, POSITIVE_INT, checked, strength, style_spec
from neural_style.errors import NstyleError

from neural_style.onepass.multistyle import NUM_STYLES
from neural_style.studio import runs as runs_module
from neural_style.studio import uploads, worker

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(PROJECT, 'input')
MAX_UPLOAD_BYTES = 200 * 2**20  # a 50-megapixel PNG; larger is refused before it is read whole
GIF_FRAMES = 60  # the checkpoint GIF: at most this many checkpoints, evenly spaced, then the result
EVENT_SECONDS = 0.2  # how often an event stream looks for changes

# The methods the page lists, in its order. `available` is decided at start (weights, model folder).
METHODS = [
    ('gatys', "Gatys et al.: the original's optimisation (NAG from noise)"),
    ('fast', '--preset fast: L-BFGS from the content image, 80 epochs'),
    ('generators', 'end_to_end feed-forward generators (one pass, a trained style)'),
    ('stylize', 'the 26-style network (one pass): a pretrained style, or a blend of them'),
    ('arbitrary', 'the arbitrary-style network (one pass): the painting as the style'),
    ('wct', 'WCT, universal style transfer (one pass): the painting'),
    ('adain', 'AdaIN (one pass): the painting'),
]
OPTIMISATIONS = ('gatys', 'fast')
# stylize.py's networks (api.stylize): the page's method -> the API's, and the weights' folder in --weights-dir
ONE_PASS = {'stylize': ('multistyle', 'styles'), 'arbitrary': ('arbitrary', 'styles'), 'wct': ('wct', 'wct'),
            'adain': ('adain', 'adain')}
WITH_PAINTING = OPTIMISATIONS + ('arbitrary', 'wct', 'adain')  # the methods that take the style image
ONE_PASS_LONG_EDGE = 1024  # stylize.py's --max-long-edge default, when the page leaves it empty
THUMBNAIL_EDGE = 96  # the 26 styles' thumbnails: each on the sample photo, this long edge
# the page's settings: name -> the command line's flag type (the same checks and words)
SETTING_TYPES = {'max_long_edge': POSITIVE_INT, 'max_num_epochs': POSITIVE_INT, 'content_weight': NON_NEGATIVE,
                 'style_weight': NON_NEGATIVE, 'tv_weight': FINITE, 'pretrained_style': style_spec,
                 'strength': strength,
                 'alpha': checked(float, lambda v: 0 <= v <= 1, 'in [0, 1]'),
                 'levels': checked(int, lambda v: 1 <= v <= 5, 'in 1 ... 5')}
# which of them each method takes (the page sends them all; the others are not its own)
METHOD_SETTINGS = {'gatys': ('max_long_edge', 'max_num_epochs', 'content_weight', 'style_weight', 'tv_weight'),
                   'stylize': ('max_long_edge', 'pretrained_style', 'strength'),
                   'arbitrary': ('max_long_edge', 'strength'),
                   'wct': ('max_long_edge', 'alpha', 'levels'), 'adain': ('max_long_edge', 'alpha')}
METHOD_SETTINGS['fast'] = METHOD_SETTINGS['gatys']


@dataclass(frozen=True)
class StudioConfig:
    vgg_params: str | None  # None: model/vgg19.params
    model_dir: str  # the end_to_end generators' folder
    work_dir: str  # uploads and runs
    max_running: int  # optimisations at once; the rest wait in line
    threads_per_run: int
    weights_dir: str = 'model'  # the one-pass networks' converted weights: its styles/, wct/, adain/


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
    """The page's settings for `method`, checked by the command line's flag types: GatysSettings'
    fields for an optimisation, api.stylize's arguments for a one-pass network."""
    settings = {'preset': 'fast'} if method == 'fast' else {}
    for name, value in (given or {}).items():
        if name not in SETTING_TYPES:
            raise NstyleError('unknown setting %r' % name)
        if value in (None, '') or name not in METHOD_SETTINGS.get(method, ()):
            continue  # the method's default, or another method's setting
        try:
            settings[name] = SETTING_TYPES[name](str(value))
        except argparse.ArgumentTypeError as problem:
            raise NstyleError('%s: %s' % (name.replace('_', ' '), problem)) from None
    return settings


def generators_available(model_dir):
    return bool(glob.glob(os.path.join(model_dir, '**', '*.params'), recursive=True))


def one_pass_weights_problem(method, weights_dir):
    """Why the one-pass method cannot run (None: it can), in one line naming the ./download.sh that
    fetches its weights. Reads the files' names (and the SHA-256 of stylize.py's), not MXNet."""
    from neural_style.onepass import weights
    api_method, folder = ONE_PASS[method]
    folder = os.path.join(weights_dir, folder)
    if api_method in ('multistyle', 'arbitrary'):
        names = ('multistyle26',) if api_method == 'multistyle' else ('arbitrary_predict', 'arbitrary_transform')
        problems = [weights.problem(name, folder) for name in names]
        if not any(problems):
            return None
        if not os.path.isdir(folder) or all('missing' in problem for problem in problems if problem):
            return 'no weights in %s: run ./download.sh --styles (or start the studio with --weights-dir)' % folder
        return next(problem for problem in problems if problem)
    from neural_style.universal.stylize import weight_paths
    if all(os.path.isfile(path) for paths in weight_paths(api_method, 5, folder).values() for path in paths):
        return None
    return 'no weights in %s: run ./download.sh --%s (or start the studio with --weights-dir)' % (folder, api_method)


def style_label(pairs):
    """The 26-style network's style or blend in words: 'style 7', 'a blend of styles 3 (0.5) and 12 (0.5)'."""
    if len(pairs) == 1:
        return 'style %d' % pairs[0][0]
    parts = ['%d (%g)' % (index, weight) for index, weight in pairs]
    return 'a blend of styles %s and %s' % (', '.join(parts[:-1]), parts[-1])


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
    one_pass_problems = {method: one_pass_weights_problem(method, config.weights_dir) for method in ONE_PASS}
    thumbnails_dir = os.path.join(config.work_dir, 'styles')
    thumbnails = None  # the 26 styles on the sample photo, made once by the helper process
    sample_photo = os.path.join(SAMPLES, 'IMG_4343.jpg')
    if one_pass_problems['stylize'] is None and os.path.isfile(sample_photo):
        thumbnails = helper.submit(worker.style_thumbnails, sample_photo, THUMBNAIL_EDGE,
                                   os.path.join(config.weights_dir, ONE_PASS['stylize'][1]), thumbnails_dir)

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
                   'end_to_end/boost_train.py, or ./download.sh)' % config.model_dir, **one_pass_problems}
        return JSONResponse({'weights': label, 'images': images.listing(), 'max_running': config.max_running,
                             'styles': NUM_STYLES,
                             'methods': [{'id': key, 'label': label_text, 'available': why_not[key] is None,
                                          'why_not': why_not[key], 'checkpoints': key in OPTIMISATIONS,
                                          'painting': key in WITH_PAINTING, 'settings': METHOD_SETTINGS.get(key, [])}
                                         for key, label_text in METHODS]})

    def thumbnails_state():
        if thumbnails is None:
            return 'none'
        if not thumbnails.done():
            return 'making'
        return 'ready' if thumbnails.exception() is None else 'failed: %s' % thumbnails.exception()

    async def styles(request):
        """The 26 styles and whether their thumbnails are made: the page asks until they are (a
        request waiting for them would hold one of the browser's few connections to the server)."""
        return JSONResponse({'count': NUM_STYLES, 'thumbnails': thumbnails_state()})

    async def style_thumbnail(request):
        """Style N of the 26 on the sample photo (a PNG), once the helper has made them."""
        number = request.path_params['number']
        if thumbnails_state() != 'ready' or not 0 <= number < NUM_STYLES:
            return error('no such style thumbnail (yet)', 404)
        return FileResponse(os.path.join(thumbnails_dir, worker.THUMBNAIL % number))

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
        if method in ONE_PASS and one_pass_problems[method]:
            return error(one_pass_problems[method])
        if method == 'generators' and not has_generators:
            return error('no generators in %s' % config.model_dir)
        content, style = images.get(body.get('content') or ''), images.get(body.get('style') or '')
        if content is None:
            return error('choose a content image (a sample or an upload)')
        if style is None and method in WITH_PAINTING:
            return error('choose a style image (a sample or an upload)')
        try:
            settings = checked_settings(method, body.get('settings'))
        except NstyleError as problem:
            return error(str(problem))
        if method in OPTIMISATIONS:
            settings['vgg_params'] = config.vgg_params
        painting = style if method in WITH_PAINTING else None
        job = {'method': method, 'content': content['path'], 'content_id': content['id'],
               'style': painting['path'] if painting else None, 'style_id': painting['id'] if painting else None,
               'settings': settings, 'model_dir': config.model_dir}
        if method in ONE_PASS:
            settings.setdefault('max_long_edge', ONE_PASS_LONG_EDGE)
            job.update(api_method=ONE_PASS[method][0],
                       weights_dir=os.path.join(config.weights_dir, ONE_PASS[method][1]))
        if painting:
            manner = 'the style of %s' % painting['name']
        else:
            manner = style_label(settings.setdefault('pretrained_style', ((0, 1.0),))) if method == 'stylize' else \
                'the style of the generators'
        description = '%s: %s in %s' % (method, content['name'], manner)
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
                         if styles else 'compare needs at least one run with a style image (the style distances '
                         'are measured to it); the generators and the 26 styles have none')
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
        Route('/api/styles', styles),
        Route('/api/styles/{number:int}/thumbnail.png', style_thumbnail),
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
