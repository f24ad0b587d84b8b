"""The studio's page in a real browser: Debian's headless Chromium driven by Playwright (never a
browser Playwright downloads). Loads the page, runs a tiny optimisation with the tests' random
weights, sees live updates, stops it, sees the result, downloads it and the checkpoint GIF."""
import os
import re
import shutil

import pytest
from PIL import Image

from conftest import CONTENT
from studio_server import Studio
from studio_server import LONG_EDGE, expected_size

pytestmark = pytest.mark.browser

# NSTYLE_CHROMIUM: another Chromium build to drive (default: Debian's)
CHROMIUM = os.environ.get('NSTYLE_CHROMIUM') or shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--no-first-run']
MANY_EPOCHS = 100000  # more than any machine runs before the test presses Stop


def missing_browser():
    """Why the test cannot run here (None: it can)."""
    if not os.path.exists(CHROMIUM):
        return 'no Chromium at %s (apt-get install chromium; .ci/run does)' % CHROMIUM
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'the playwright package is not installed (requirements.txt)'
    return None


@pytest.fixture(scope='module')
def browser():
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope='module')
def studio(vgg_params, tmp_path_factory):
    server = Studio(vgg_params, tmp_path_factory.mktemp('no_generators'))
    yield server
    server.close()


def test_a_run_in_the_browser_updates_live_and_downloads(browser, studio, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(studio.url + '/')
    page.wait_for_selector('body[data-ready=yes]', timeout=60000)
    assert 'random test weights' in page.inner_text('#weights')
    assert page.is_checked('#method-gatys') and page.is_disabled('#method-adain')

    page.fill('#max_long_edge', str(LONG_EDGE))
    page.fill('#max_num_epochs', str(MANY_EPOCHS))
    page.click('#start')
    card = page.wait_for_selector('article.run', timeout=30000)
    # the run goes on until the page has shown two of its epochs (however fast this machine is), then
    # the Stop button ends it after an epoch and the page shows the result
    page.wait_for_function("document.querySelector('article.run').dataset.shownEpochs.split(',')"
                           ".filter((epoch) => /^[0-9]+$/.test(epoch)).length >= 2", timeout=240000)
    page.click('article.run button.stop')
    page.wait_for_selector('article.run[data-state=stopped]', timeout=60000)
    page.wait_for_function("document.querySelector('article.run').dataset.shownEpochs.endsWith('result')",
                           timeout=30000)
    shown = card.get_attribute('data-shown-epochs').split(',')
    live_epochs = [int(epoch) for epoch in shown if epoch != 'result']
    # the image the page showed changed while the run went on: epochs in order, then the result
    assert len(live_epochs) >= 2 and live_epochs == sorted(set(live_epochs)) and shown[-1] == 'result', shown
    progress = re.search(r'epoch (\d+) of at most (\d+)', card.inner_text())
    last_epoch = int(progress.group(1))
    assert int(progress.group(2)) == MANY_EPOCHS and live_epochs[-1] <= last_epoch < MANY_EPOCHS
    size = expected_size(CONTENT)
    natural = page.eval_on_selector('article.run img.live', 'img => [img.naturalWidth, img.naturalHeight]')
    assert tuple(natural) == size

    for selector, name, frames in (('a.download-result', 'result.png', 1), ('a.download-gif', 'run.gif', last_epoch + 1)):
        with page.expect_download(timeout=60000) as download:
            page.click(selector)
        path = tmp_path / name
        download.value.save_as(path)
        with Image.open(path) as img:
            assert img.size == size and getattr(img, 'n_frames', 1) == frames
    page.close()


def test_a_bad_upload_in_the_browser_gets_one_line(browser, studio, tmp_path):
    page = browser.new_page()
    page.goto(studio.url + '/')
    page.wait_for_selector('body[data-ready=yes]', timeout=60000)
    bad = tmp_path / 'holiday.jpg'
    bad.write_bytes(b'this is text\n')
    page.set_input_files('#content-file', str(bad))
    page.wait_for_function("document.getElementById('picture-error').textContent.length > 0", timeout=30000)
    assert page.inner_text('#picture-error') == ('content image holiday.jpg: cannot read it as an image (not an image '
                                                 'format Pillow can decode); give a JPEG or PNG file')
    page.close()


@pytest.fixture(scope='module')
def one_pass_studio(vgg_params, tmp_path_factory):
    """With the one-pass networks' seeded random weights (tests/onepass_weights.py, NOT the pretrained ones)."""
    from onepass_weights import save_random_onepass_weights
    folder = tmp_path_factory.mktemp('model')
    save_random_onepass_weights(folder / 'styles', seed=0)
    server = Studio(vgg_params, tmp_path_factory.mktemp('no_generators'), weights_dir=folder)
    yield server
    server.close()


def test_a_blend_of_pretrained_styles_in_the_browser(browser, one_pass_studio):
    page = browser.new_page()
    page.goto(one_pass_studio.url + '/')
    page.wait_for_selector('body[data-ready=yes]', timeout=60000)
    assert page.is_enabled('#method-stylize') and page.is_disabled('#method-wct')  # no WCT weights here
    page.check('#method-stylize')
    # the 26 styles replace the painting; the optimisation's settings go, the strength comes
    assert page.is_visible('#style-tiles') and not page.is_visible('#style-select')
    assert not page.is_visible('#max_num_epochs') and page.is_visible('#strength')
    assert page.eval_on_selector_all('.style-tile', 'tiles => tiles.length') == 26
    page.uncheck('#style-0')
    page.check('#style-3')
    page.check('#style-12')
    page.fill('#style-weight-12', '3')
    page.fill('#max_long_edge', str(LONG_EDGE))
    page.click('#start')
    card = page.wait_for_selector('article.run', timeout=30000)
    assert 'a blend of styles 3 (1) and 12 (3)' in card.inner_text()
    page.wait_for_selector('article.run[data-state=done]', timeout=240000)
    page.wait_for_function("document.querySelector('article.run').dataset.shownEpochs === 'result'", timeout=30000)
    with Image.open(CONTENT) as content:
        w, h = content.size
    natural = page.eval_on_selector('article.run img.live', 'img => [img.naturalWidth, img.naturalHeight]')
    assert tuple(natural) == (round(w * LONG_EDGE / max(w, h)), round(h * LONG_EDGE / max(w, h)))
    # one pass: a result to download, no checkpoints to animate
    assert page.is_visible('article.run a.download-result') and not page.is_visible('article.run a.download-gif')
    # the thumbnails of the styles came (the server made them on the sample photo)
    page.wait_for_function("document.querySelector('#style-tiles img').naturalWidth > 0", timeout=120000)
    page.close()
