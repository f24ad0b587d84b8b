"""Remake the screenshots of docs/studio.md: the studio with the given weights, driven by Debian's
headless Chromium through Playwright, as tests/test_studio_browser.py drives it.

    python docs/images/studio/screenshots.py --vgg-params PATH
    python docs/images/studio/screenshots.py --vgg-params PATH --one-pass   # one_pass.png alone

The pictures say which weights made them (the page's footer); with the tests' random weights
(tests/weights.py) they show the page, not a style. one_pass.png: a blend of two of the 26 styles
with the REAL weights of the 26-style network, model/styles (./download.sh --styles).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path[:0] = [os.path.join(PROJECT, 'tests'), PROJECT]

from studio_server import Studio  # noqa: E402
from test_studio_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

VIEWPORT = {'width': 1200, 'height': 900}


def shoot(page, name, selector=None):
    path = os.path.join(HERE, name)
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    print('wrote', os.path.relpath(path, PROJECT))


def one_pass(vgg_params):
    """one_pass.png: the 26 styles' thumbnails, a blend of two of them, and its result, with the
    converted pretrained weights in model/styles (the shot is refused without them)."""
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from neural_style.onepass import weights
    if not weights.all_present(os.path.join(PROJECT, 'model', 'styles')):
        sys.exit('one_pass.png needs the pretrained weights in model/styles: run ./download.sh --styles')
    studio = Studio(vgg_params, 'model/end_to_end', weights_dir=os.path.join(PROJECT, 'model'))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={'width': 1000, 'height': 900})
            page.goto(studio.url + '/')
            page.wait_for_selector('body[data-ready=yes]')
            page.check('#method-stylize')
            page.uncheck('#style-0')
            for number in (6, 19):
                page.check('#style-%d' % number)
            page.fill('#style-weight-6', '1')
            page.fill('#style-weight-19', '2')
            page.fill('#max_long_edge', '360')
            page.click('#start')
            page.wait_for_selector('article.run[data-state=done]', timeout=600000)
            page.wait_for_function("document.querySelector('article.run').dataset.shownEpochs === 'result'")
            page.wait_for_function("[...document.querySelectorAll('#style-tiles img')].every(img => img.naturalWidth)",
                                   timeout=600000)
            parts = []
            for name, selector in (('tiles', '#pretrained'), ('run', 'article.run')):
                path = os.path.join(HERE, '.%s.png' % name)
                page.locator(selector).screenshot(path=path)
                parts.append(Image.open(path).convert('RGB'))
                os.remove(path)
            browser.close()
    finally:
        studio.close()
    width = max(part.width for part in parts)
    sheet = Image.new('RGB', (width, sum(part.height for part in parts)), 'white')
    top = 0
    for part in parts:
        sheet.paste(part, (0, top))
        top += part.height
    path = os.path.join(HERE, 'one_pass.png')
    sheet.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)  # a page: 256 colours keep it small
    print('wrote', os.path.relpath(path, PROJECT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--vgg-params', required=True)
    parser.add_argument('--one-pass', action='store_true', help='one_pass.png alone')
    args = parser.parse_args()
    one_pass(args.vgg_params)
    if args.one_pass:
        return
    from playwright.sync_api import sync_playwright
    studio = Studio(args.vgg_params, 'model/end_to_end', max_running=1)  # where make studio looks
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(studio.url + '/')
            page.wait_for_selector('body[data-ready=yes]')
            shoot(page, 'page.png')
            # a first result: --preset fast (from the content image)
            page.fill('#max_long_edge', '160')
            page.check('#method-fast')
            page.fill('#max_num_epochs', '15')
            page.click('#start')
            page.wait_for_selector('article.run[data-state=done]', timeout=900000)
            # the original's optimisation, watched live, with a third run queued behind it
            page.check('#method-gatys')
            page.fill('#max_num_epochs', '400')
            page.click('#start')
            page.click('#start')
            page.wait_for_function("document.querySelectorAll('article.run').length == 3")
            page.wait_for_function("(() => { const c = document.querySelectorAll('article.run')[1];"
                                   " return c.dataset.shownEpochs.split(',').length >= 12; })()", timeout=900000)
            page.evaluate("document.getElementById('runs-section').scrollIntoView()")
            shoot(page, 'live_run.png', '#runs-section')
            # stop both, then compare the fast run with the stopped one
            for button in page.query_selector_all('article.run button.stop:not([disabled])'):
                button.click()
            page.wait_for_function("document.querySelectorAll('article.run[data-state=stopped]').length == 2",
                                   timeout=900000)
            page.wait_for_timeout(500)
            page.select_option('#compare-a', '1')
            page.select_option('#compare-b', '2')
            page.click('#compare-button')
            page.wait_for_selector('#compare-result table', timeout=900000)
            page.wait_for_timeout(500)
            shoot(page, 'compare.png', '#compare')
            # a bad upload
            bad = os.path.join(HERE, 'not_a_photo.jpg')
            with open(bad, 'w') as f:
                f.write('this is text, not a photo\n')
            try:
                page.set_input_files('#content-file', bad)
                page.wait_for_function("document.getElementById('picture-error').textContent.length > 0")
            finally:
                os.remove(bad)
            shoot(page, 'bad_upload.png', '#pictures')
            browser.close()
    finally:
        studio.close()


if __name__ == '__main__':
    main()
