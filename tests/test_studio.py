"""The studio's server, through HTTP on 127.0.0.1 as the page uses it: live runs, the line of queued
runs, stopping, downloads, bad uploads in the command line's words, compare.py's scores. Tiny runs
(32 pixels, a few epochs) with the tests' random weights."""
import io
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from conftest import CONTENT, PROJECT, STYLE
from studio_server import LONG_EDGE, Studio, expected_size

from neural_style.errors import NstyleError



def decoded(response):
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


@pytest.fixture(scope='module')
def studio(vgg_params, tmp_path_factory):
    """One optimisation at a time: the others queue."""
    server = Studio(vgg_params, tmp_path_factory.mktemp('no_generators'), max_running=1)
    yield server
    server.close()


@pytest.fixture(scope='module')
def finished_run(studio):
    """A 4-epoch run and every event the page got of it."""
    run = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=4)
    return run, studio.events(run['id'])


def test_info_names_the_random_weights_and_the_methods(studio):
    info = studio.get('/api/info').json()
    assert 'random test weights' in info['weights']['text'] and 'NOT VGG-19' in info['weights']['text']
    methods = {method['id']: method for method in info['methods']}
    assert methods['gatys']['available'] and methods['fast']['available']
    assert not methods['generators']['available'] and 'no generators in' in methods['generators']['why_not']
    for one_pass in ('stylize', 'arbitrary', 'wct', 'adain'):  # the studio's --weights-dir holds no weights
        assert not methods[one_pass]['available']
    assert {'sample-IMG_4343.jpg', 'sample-starry_night.jpg'} <= {image['id'] for image in info['images']}
    assert studio.get('/').text.count('studio.js') == 1


def test_events_show_every_epoch_then_the_result(studio, finished_run):
    run, events = finished_run
    assert run['state'] == 'running'  # nothing else was running: it started at once
    # an event is the run's state when it changed: epochs faster than the event interval come together
    # (on a fast machine all four may end between two events: the live epochs are
    # test_a_running_runs_events_show_its_epochs_live's)
    epochs = [event['epoch'] for event in events if event['state'] == 'running' and event['epoch']]
    assert epochs == sorted(set(epochs)) and set(epochs) <= {1, 2, 3, 4}
    assert events[-1]['state'] == 'done' and events[-1]['has_result']
    # the loss curve's points: each event brings the epochs not sent before, once each
    streamed = [row for event in events for row in event['new_losses']]
    assert [row['epoch'] for row in streamed] == [1, 2, 3, 4]
    assert all(row['content'] > 0 and row['style'] > 0 for row in streamed)
    # four gradient steps from noise lower the objective
    assert streamed[-1]['content'] + streamed[-1]['style'] < streamed[0]['content'] + streamed[0]['style']
    # the run's state as a later page load gets it: the same losses
    assert studio.get('/api/runs/%s' % run['id']).json()['losses'] == streamed


def test_a_running_runs_events_show_its_epochs_live(studio, finished_run):
    """However fast the machine: a run that goes on until its events have shown an epoch, then is
    stopped; its events show the epochs in order, then the result, each epoch's losses once."""
    run = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=100000)
    events, stop_sent = [], False
    for event in studio.stream(run['id']):
        events.append(event)
        if event['state'] == 'running' and event['epoch'] >= 1 and not stop_sent:
            assert studio.post('/api/runs/%s/stop' % run['id']).json()['state'] in ('stopping', 'stopped')
            stop_sent = True
    epochs = [event['epoch'] for event in events if event['state'] == 'running' and event['epoch']]
    assert epochs and epochs == sorted(set(epochs))
    assert events[-1]['state'] == 'stopped' and events[-1]['has_result'] and events[-1]['epoch'] >= epochs[-1]
    streamed = [row['epoch'] for event in events for row in event['new_losses']]
    assert streamed == list(range(1, events[-1]['epoch'] + 1))


def test_result_checkpoints_and_gif_are_the_content_size(studio, finished_run):
    run, _ = finished_run
    size = expected_size(CONTENT)
    result = decoded(studio.get('/api/runs/%s/result.png' % run['id']))
    assert result.format == 'PNG' and result.size == size and result.mode == 'RGB'
    last = decoded(studio.get('/api/runs/%s/checkpoint/4' % run['id']))
    assert last.size == size
    # the result is the last epoch's image (the checkpoint is a JPEG of it)
    difference = np.abs(np.asarray(result, dtype=float) - np.asarray(last.convert('RGB'), dtype=float))
    assert difference.mean() < 6, difference.mean()
    response = studio.get('/api/runs/%s/checkpoints.gif' % run['id'])
    assert 'attachment' in response.headers['content-disposition']
    gif = decoded(response)
    assert gif.format == 'GIF' and gif.size == size and gif.n_frames == 5  # 4 checkpoints, then the result


def test_runs_beyond_the_limit_queue_and_stop(studio):
    long_run = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=10000)
    second = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=2)
    third = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=2)
    assert (second['state'], second['position']) == ('queued', 1)
    assert (third['state'], third['position']) == ('queued', 2)
    # a queued run leaves the line: the one behind it moves up
    stopped = studio.post('/api/runs/%s/stop' % second['id']).json()
    assert stopped['state'] == 'stopped' and not stopped['has_result']
    assert studio.get('/api/runs/%s' % third['id']).json()['position'] == 1
    # a running run stops after an epoch, keeping the image so far
    with_an_epoch = next(event for event in studio.stream(long_run['id']) if event['epoch'] >= 1)
    assert with_an_epoch['state'] == 'running'
    assert studio.post('/api/runs/%s/stop' % long_run['id']).json()['state'] in ('stopping', 'stopped')
    events = studio.events(long_run['id'])
    assert events[-1]['state'] == 'stopped' and events[-1]['has_result'] and events[-1]['epoch'] < 10000
    assert decoded(studio.get('/api/runs/%s/result.png' % long_run['id'])).size == expected_size(CONTENT)
    # then the next in line runs to its end
    assert studio.events(third['id'])[-1]['state'] == 'done'
    assert studio.get('/api/runs/%s/result.png' % second['id']).status_code == 404


def upload(studio, data, name, role='content'):
    return studio.post('/api/images', data={'role': role}, files={'file': (name, data)})


def cli_message(path, flag):
    """What the command line says of the image at path (neural_style.files.images reads every tool's images)."""
    from neural_style.files.images import read_rgb_image
    with pytest.raises(NstyleError) as raised:
        read_rgb_image(str(path), flag)
    return str(raised.value)


def test_an_upload_that_is_no_image_gets_the_command_lines_message(studio, tmp_path):
    path = tmp_path / 'notes.jpg'
    path.write_bytes(b'not an image at all\n')
    response = upload(studio, path.read_bytes(), 'notes.jpg')
    assert response.status_code == 400
    expected = cli_message(path, '--content-image').replace('--content-image %s' % path, 'content image notes.jpg')
    assert response.json()['error'] == expected
    assert '\n' not in expected and 'give a JPEG or PNG file' in expected


def test_an_upload_too_large_to_decode_is_refused_from_its_header(studio, tmp_path):
    """300 megapixels (Pillow's limit is 179): refused from the header, in the CLI's words, without decoding."""
    path = tmp_path / 'huge.png'
    Image.new('1', (20000, 15000)).save(path)  # 1 bit a pixel, compresses to a few kB
    response = upload(studio, path.read_bytes(), 'huge.png', role='style')
    assert response.status_code == 400
    message = response.json()['error']
    assert message.startswith('style image huge.png: the image is too large to decode (20000x15000, 300 megapixels')
    assert message == cli_message(path, '--style-image').replace('--style-image %s' % path, 'style image huge.png'
                                                                 ).replace(str(path), 'huge.png')


def test_an_upload_beyond_the_memory_is_refused_before_decoding(tmp_path):
    from neural_style.studio.uploads import check_image
    path = tmp_path / 'photo.png'
    Image.new('RGB', (300, 200)).save(path)
    assert check_image(str(path), 'content image', 'photo.png', memory=10**9) == (200, 300)
    with pytest.raises(NstyleError) as raised:
        check_image(str(path), 'content image', 'photo.png', memory=300 * 200)
    assert str(raised.value) == 'content image photo.png: not enough memory to decode it (300x200); resize it first'


def test_an_uploaded_image_is_used_by_its_run(studio, tmp_path):
    """An upload of another aspect (the painting as the content): its run's images have its size."""
    response = upload(studio, open(STYLE, 'rb').read(), 'painting.jpg')
    assert response.status_code == 200, response.text
    image = response.json()
    with Image.open(STYLE) as original:
        assert image['size'] == list(original.size)
    preview = decoded(studio.get('/api/images/%s/preview' % image['id']))
    assert max(preview.size) == 512
    run = studio.start_run(content=image['id'], max_long_edge=LONG_EDGE, max_num_epochs=1)
    assert studio.events(run['id'])[-1]['state'] == 'done'
    assert decoded(studio.get('/api/runs/%s/result.png' % run['id'])).size == expected_size(STYLE)


@pytest.mark.parametrize('body, message', [
    ({'method': 'gatys', 'content': 'sample-IMG_4343.jpg', 'style': 'sample-starry_night.jpg',
      'settings': {'max_long_edge': 0}}, 'max long edge: must be > 0, got 0'),
    ({'method': 'gatys', 'content': 'sample-IMG_4343.jpg', 'style': 'sample-starry_night.jpg',
      'settings': {'tv_weight': 'lots'}}, "tv weight: expected float, got 'lots'"),
    ({'method': 'gatys', 'content': 'nothing', 'style': 'sample-starry_night.jpg'},
     'choose a content image (a sample or an upload)'),
    ({'method': 'adain', 'content': 'sample-IMG_4343.jpg'}, 'no weights in '),
    ({'method': 'generators', 'content': 'sample-IMG_4343.jpg'}, 'no generators in'),
])
def test_bad_settings_are_one_line(studio, body, message):
    response = studio.post('/api/runs', json=body)
    assert response.status_code == 400
    assert response.json()['error'].startswith(message)


def test_compare_gives_compare_pys_scores_of_two_results(studio, finished_run):
    first, _ = finished_run
    second = studio.start_run(max_long_edge=LONG_EDGE, max_num_epochs=2)
    assert studio.events(second['id'])[-1]['state'] == 'done'
    response = studio.post('/api/compare', json={'a': first['id'], 'b': second['id']}, timeout=300)
    assert response.status_code == 200, response.text
    report = response.json()
    a, b = (np.asarray(decoded(studio.get('/api/runs/%s/result.png' % run['id'])), dtype=np.float64) / 255
            for run in (first, second))
    # the two results have one size: compare.py's resize to the reference's size leaves them as they are
    assert report['size'] == list(a.shape[:2])
    assert report['ssim'] == pytest.approx(structural_similarity(a, b, channel_axis=-1, data_range=1), abs=1e-6)
    if np.array_equal(a, b):  # compare.py: None for identical images (the PSNR is infinite)
        assert report['psnr'] is None
    else:
        assert report['psnr'] == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1), abs=1e-6)
    assert report['weights'] == 'random test weights (not VGG-19)'
    assert set(report['style_distance']['result']) >= {'relu1_1', 'relu5_1', 'total'}


def test_two_runs_at_once_keep_their_own_images(vgg_params, tmp_path):
    """Two tabs, two contents of different shapes, running together: each run's checkpoints and result
    have its own content's size."""
    server = Studio(vgg_params, tmp_path, max_running=2)
    try:
        painting = upload(server, open(STYLE, 'rb').read(), 'painting.jpg').json()
        runs = [server.start_run(max_long_edge=LONG_EDGE, max_num_epochs=3),
                server.start_run(content=painting['id'], max_long_edge=LONG_EDGE, max_num_epochs=3)]
        assert [run['state'] for run in runs] == ['running', 'running']
        for run, source in zip(runs, (CONTENT, STYLE)):
            assert server.events(run['id'])[-1]['state'] == 'done', server.log()
            for path in ('checkpoint/1', 'checkpoint/3', 'result.png'):
                assert decoded(server.get('/api/runs/%s/%s' % (run['id'], path))).size == expected_size(source)
    finally:
        server.close()


def test_help_loads_neither_mxnet_nor_the_server():
    code = ('import runpy, sys\nsys.argv = ["studio", "--help"]\ntry:\n'
            '    runpy.run_module("neural_style.studio", run_name="__main__")\nexcept SystemExit:\n    pass\n'
            'print(sorted(name for name in ("mxnet", "uvicorn", "starlette") if name in sys.modules))')
    proc = subprocess.run([sys.executable, '-c', code], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '--vgg-params' in proc.stdout and proc.stdout.strip().endswith('[]')


def test_a_taken_port_is_one_line(studio):
    port = studio.url.rsplit(':', 1)[1]
    proc = subprocess.run([sys.executable, '-m', 'neural_style.studio', '--port', port], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        'python -m neural_style.studio: error: cannot listen on 127.0.0.1 port %s: Address already in use; '
        'choose another --port (or --host)' % port]


def test_the_generators_method_when_a_model_folder_has_them(vgg_params, tmp_path):
    """The end_to_end chain (random generators, tests/generator_params.py): one pass, no epochs; the
    result keeps the content's aspect at a long edge of 640, each side a multiple of 8."""
    from generator_params import random_generator_arrays, save_generators
    model_dir = tmp_path / 'end_to_end'
    save_generators(model_dir, random_generator_arrays(seed=1))
    server = Studio(vgg_params, model_dir)
    try:
        methods = {method['id']: method for method in server.get('/api/info').json()['methods']}
        assert methods['generators']['available']
        run = server.start_run(method='generators', style=None)
        events = server.events(run['id'])
        assert events[-1]['state'] == 'done', events[-1]
        assert all(event['epoch'] == 0 for event in events)
        result = decoded(server.get('/api/runs/%s/result.png' % run['id']))
        with Image.open(CONTENT) as content:
            w, h = content.size
        assert result.size == (640, int(h * 640 / w) // 8 * 8)
    finally:
        server.close()


# ---- the one-pass networks (stylize.py's): seeded random weights in the converted format -----------

@pytest.fixture(scope='module')
def weights_dir(tmp_path_factory):
    """model/styles, model/wct, model/adain as ./download.sh leaves them, with random weights
    (tests/onepass_weights.py: NOT the pretrained ones)."""
    from onepass_weights import save_random_onepass_weights, save_random_universal_weights
    folder = tmp_path_factory.mktemp('model')
    save_random_onepass_weights(folder / 'styles', seed=0)
    save_random_universal_weights(folder / 'wct', 'wct')
    save_random_universal_weights(folder / 'adain', 'adain')
    return folder


@pytest.fixture(scope='module')
def one_pass_studio(vgg_params, weights_dir, tmp_path_factory):
    server = Studio(vgg_params, tmp_path_factory.mktemp('no_generators'), weights_dir=weights_dir)
    yield server
    server.close()


def one_pass_size(path, long_edge=LONG_EDGE):
    """(w, h) of a photo as stylize.py --max-long-edge resizes it (each side rounded)."""
    with Image.open(path) as img:
        w, h = img.size
    return round(w * long_edge / max(w, h)), round(h * long_edge / max(w, h))


def test_one_pass_methods_without_weights_say_which_download_fetches_them(studio):
    methods = {method['id']: method for method in studio.get('/api/info').json()['methods']}
    for method, flag in (('stylize', '--styles'), ('arbitrary', '--styles'), ('wct', '--wct'), ('adain', '--adain')):
        why = methods[method]['why_not']
        assert not methods[method]['available'] and '\n' not in why
        assert why.startswith('no weights in ') and ': run ./download.sh %s (or start the studio with --weights-dir)'\
            % flag in why, why
        response = studio.post('/api/runs', json={'method': method, 'content': 'sample-IMG_4343.jpg',
                                                  'style': 'sample-starry_night.jpg'})
        assert response.status_code == 400 and response.json()['error'] == why


@pytest.mark.parametrize('method, settings, arguments', [
    ('stylize', {'pretrained_style': '3:1,12:3', 'strength': 0.7}, {'style': {3: 1.0, 12: 3.0}, 'strength': 0.7}),
    ('arbitrary', {'strength': 0.8}, {'style': STYLE, 'strength': 0.8}),
    ('wct', {'alpha': 0.6, 'levels': 2}, {'style': STYLE, 'alpha': 0.6, 'levels': 2}),
    ('adain', {'alpha': 0.8}, {'style': STYLE, 'alpha': 0.8}),
])
def test_a_one_pass_run_gives_the_apis_picture(one_pass_studio, weights_dir, method, settings, arguments):
    from neural_style import api
    info = {m['id']: m for m in one_pass_studio.get('/api/info').json()['methods']}
    assert info[method]['available'] and not info[method]['checkpoints']
    run = one_pass_studio.start_run(method=method, max_long_edge=LONG_EDGE, **settings)
    events = one_pass_studio.events(run['id'])
    assert events[-1]['state'] == 'done', (events[-1], one_pass_studio.log())
    assert all(event['epoch'] == 0 for event in events)  # one pass: no epochs, no checkpoints
    result = decoded(one_pass_studio.get('/api/runs/%s/result.png' % run['id']))
    assert result.size == one_pass_size(CONTENT)
    api_method = {'stylize': 'multistyle'}.get(method, method)
    folder = weights_dir / ('styles' if method in ('stylize', 'arbitrary') else method)
    expected = api.stylize(CONTENT, method=api_method, weights_dir=str(folder), max_long_edge=LONG_EDGE, **arguments)
    # another process, another thread count: at most one 8-bit level of rounding apart
    assert np.abs(np.asarray(result, dtype=float) - expected).max() <= 1
    with Image.open(CONTENT) as content:
        small = np.asarray(content.convert('RGB').resize(result.size, Image.LANCZOS), dtype=float)
    assert np.abs(np.asarray(result, dtype=float) - small).mean() > 5  # not the photo


def test_the_26_styles_thumbnails_are_the_styles_on_the_sample(one_pass_studio, weights_dir):
    from neural_style import api
    assert one_pass_studio.get('/api/info').json()['styles'] == 26
    # the server makes them at its start; the page asks until they are there (as here)
    for _ in range(1200):  # at most ten minutes: a guard against a hang, not a speed check
        if one_pass_studio.get('/api/styles').json()['thumbnails'] != 'making':
            break
        time.sleep(0.5)
    assert one_pass_studio.get('/api/styles').json() == {'count': 26, 'thumbnails': 'ready'}
    for number in (0, 25):
        thumbnail = decoded(one_pass_studio.get('/api/styles/%d/thumbnail.png' % number))
        expected = api.stylize(CONTENT, number, weights_dir=str(weights_dir / 'styles'), max_long_edge=96)
        assert thumbnail.size == one_pass_size(CONTENT, 96)
        assert np.abs(np.asarray(thumbnail, dtype=float) - expected).max() <= 1
    assert one_pass_studio.get('/api/styles/26/thumbnail.png').status_code == 404


@pytest.mark.parametrize('body, message', [
    ({'method': 'stylize', 'settings': {'pretrained_style': '26'}},
     'pretrained style: no style 26: the styles are 0 ... 25'),
    ({'method': 'stylize', 'settings': {'pretrained_style': '3:0,4:0'}},
     "pretrained style: the blend weights of '3:0,4:0' sum to 0"),
    ({'method': 'wct', 'settings': {'levels': '9'}}, 'levels: must be in 1 ... 5, got 9'),
    ({'method': 'arbitrary', 'settings': {'strength': '2'}}, 'strength: must be in [0, 1]'),
    ({'method': 'arbitrary', 'style': 'nothing'}, 'choose a style image (a sample or an upload)'),
])
def test_bad_one_pass_settings_are_one_line(one_pass_studio, body, message):
    body = dict({'content': 'sample-IMG_4343.jpg', 'style': 'sample-starry_night.jpg'}, **body)
    response = one_pass_studio.post('/api/runs', json=body)
    assert response.status_code == 400
    assert response.json()['error'].startswith(message), response.json()


def test_compare_a_painting_run_with_a_pretrained_style_run(one_pass_studio):
    """The distances are to the style image: an arbitrary-network run has one, a 26-style run none."""
    runs = [one_pass_studio.start_run(method='arbitrary', max_long_edge=LONG_EDGE),
            one_pass_studio.start_run(method='stylize', max_long_edge=LONG_EDGE, pretrained_style='4')]
    for run in runs:
        assert one_pass_studio.events(run['id'])[-1]['state'] == 'done'
    response = one_pass_studio.post('/api/compare', json={'a': runs[0]['id'], 'b': runs[1]['id']}, timeout=300)
    assert response.status_code == 200, response.text
    a, b = (np.asarray(decoded(one_pass_studio.get('/api/runs/%s/result.png' % run['id'])), dtype=np.float64) / 255
            for run in runs)
    assert response.json()['ssim'] == pytest.approx(structural_similarity(a, b, channel_axis=-1, data_range=1),
                                                    abs=1e-6)
    alone = one_pass_studio.post('/api/compare', json={'a': runs[1]['id'], 'b': runs[1]['id']})
    assert alone.status_code == 400 and alone.json()['error'].startswith('compare needs at least one run with a style')
