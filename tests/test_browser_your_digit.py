"""The your-digit page in Chromium: a PNG through the real file input, a stroke on the real canvas."""

import pytest
from PIL import Image

from core import data, preprocess
from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def guess(page):
    """The first probability bar's text, e.g. '7 — 99.9%', once the page shows one."""
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(timeout=120_000)
    browser.wait_until_idle(page)
    return page.locator('[data-testid="stProgress"]').first.inner_text()


def test_upload_a_png_then_draw_a_one(tmp_path):
    seven = tmp_path / "seven.png"
    Image.fromarray(preprocess.on_paper(data.load_sample()[0][0])).save(seven)
    with browser.serve_app() as (url, _), browser.chromium_page(1400, 1100) as page:
        page.goto(url + "/your_digit")
        page.get_by_role("heading", name="Your digit", exact=True).wait_for(timeout=120_000)
        browser.wait_until_idle(page)

        page.get_by_text("Upload", exact=True).click()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(seven))
        page.get_by_text("seven.png").wait_for(timeout=60_000)
        assert guess(page).startswith("7 — ")

        # a text file dressed as a PNG: a message, no traceback, and the page still works after it
        bad = tmp_path / "notes.png"
        bad.write_text("not a picture\n" * 10)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bad))
        page.get_by_text("cannot be used").wait_for(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0

        page.get_by_text("Draw", exact=True).click()
        canvas = page.locator("canvas").last
        canvas.wait_for(timeout=60_000)
        browser.wait_until_idle(page)
        box = canvas.bounding_box()
        x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
        page.mouse.move(x, top)
        page.mouse.down()
        for step in range(1, 25):  # one straight, upright stroke: a 1
            page.mouse.move(x, top + step * box["height"] * 0.7 / 24)
        page.mouse.up()
        assert guess(page).startswith("1 — ")
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "drawn.png"), full_page=True)
