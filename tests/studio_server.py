"""The studio as the tests use it: `python -m neural_style.studio --port 0` started as a user would,
with the tests' random weights; its address read from the line it prints."""
import json
import os
import re
import signal
import subprocess
import sys
import threading

import requests
from PIL import Image

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINISHED = ('done', 'stopped', 'failed')


class Studio:
    def __init__(self, vgg_params, model_dir, max_running=1, timeout=120, weights_dir=None):
        """weights_dir: the one-pass networks' weights (styles/, wct/, adain/); None: a folder with none
        (never the checkout's model/, which may or may not hold them)."""
        command = [sys.executable, '-m', 'neural_style.studio', '--port', '0', '--vgg-params', vgg_params,
                   '--model-dir', str(model_dir), '--max-running', str(max_running),
                   '--weights-dir', str(weights_dir or os.path.join(str(model_dir), 'no_weights'))]
        self.process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=dict(os.environ, PYTHONUNBUFFERED='1'))
        self.output = []
        first = self._read_until_address(timeout)
        self.url = re.search(r'(http://127\.0\.0\.1:\d+)/', first).group(1)
        # the rest of its output (warnings, a worker's traceback) kept for failure messages
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()

    def _read_until_address(self, timeout):
        timer = threading.Timer(timeout, self.process.kill)
        timer.start()
        try:
            for line in self.process.stdout:
                self.output.append(line)
                if 'http://' in line:
                    return line
        finally:
            timer.cancel()
        raise AssertionError('the studio printed no address:\n' + ''.join(self.output))

    def get(self, path, **options):
        return requests.get(self.url + path, timeout=options.pop('timeout', 60), **options)

    def post(self, path, **options):
        return requests.post(self.url + path, timeout=options.pop('timeout', 60), **options)

    def start_run(self, content='sample-IMG_4343.jpg', style='sample-starry_night.jpg', method='gatys', **settings):
        response = self.post('/api/runs', json={'method': method, 'content': content, 'style': style,
                                               'settings': settings})
        assert response.status_code == 200, response.text
        return response.json()

    def stream(self, run_id, timeout=300):
        """The run's events as they come, until it is finished (the stream then ends)."""
        with requests.get(self.url + '/api/runs/%s/events' % run_id, stream=True, timeout=timeout) as response:
            assert response.headers['content-type'].startswith('text/event-stream')
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith('data: '):
                    yield json.loads(line[len('data: '):])

    def events(self, run_id, timeout=300):
        """Every event of the run's stream, once it is finished."""
        seen = list(self.stream(run_id, timeout))
        assert seen and seen[-1]['state'] in FINISHED, seen[-1:]
        return seen

    def log(self):
        return ''.join(self.output[-60:])

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


LONG_EDGE = 32


def expected_size(path, long_edge=LONG_EDGE):
    """(w, h) of an image resized to long_edge as nstyle.py resizes the content (the short side truncated)."""
    with Image.open(path) as img:
        w, h = img.size
    scale = long_edge / max(w, h)
    return int(w * scale), int(h * scale)
