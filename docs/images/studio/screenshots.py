"""Remake the screenshots of docs/studio.md: the studio with the given weights, driven by Debian's
headless Chromium through Playwright, as tests/test_studio_browser.py drives it.

    python docs/images/studio/screenshots.py --vgg-params PATH

The pictures say which weights made them (the page's footer); with the tests' random weights
(tests/weights.py) they show the page, not a style.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--vgg-params', required=True)
    args = parser.parse_args()
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
