"""The your-digit page in Chromium: a PNG through the real file input, the noise slider through a switch of
source, a stroke on the real canvas, and a photo from Chromium's fake camera."""

import io

import pytest
from PIL import Image

import numpy as np
from playwright.sync_api import sync_playwright

from core import data, photo, preprocess
from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def guess(page):
    """The first probability bar's text, e.g. '7 — 99.9%', once the page shows one."""
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(timeout=120_000)
    browser.wait_until_idle(page)
    return page.locator('[data-testid="stProgress"]').first.inner_text()


def noise(page):
    """The noise slider as the browser shows it ("0.80") and as its input holds it."""
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="noise_factor")
    return slider.inner_text().split("\n")[2], slider.locator('input[type="range"]').input_value()


def test_upload_a_png_then_draw_a_one(tmp_path):
    seven = tmp_path / "seven.png"
    Image.fromarray(preprocess.on_paper(data.load_sample()[0][0])).save(seven)
    with browser.serve_app() as (url, _), browser.chromium_page(1400, 1100) as page:
        page.goto(url + "/your_digit")
        page.get_by_role("heading", name="Your digit", exact=True).wait_for(timeout=120_000)
        browser.wait_until_idle(page)

        # noise 0.8 on the sample, then another source: the slider, the link and the picture keep 0.8 (the
        # slider read 0.00 and jumped to 0.05 at the first touch when its state was dropped with the slider)
        page.locator('[data-testid="stSlider"]').filter(has_text="noise_factor").locator('input[type="range"]').focus()
        for _ in range(6):
            page.keyboard.press("ArrowRight")
        browser.wait_until_idle(page)
        assert noise(page) == ("0.80", "0.8")
        page.get_by_text("Upload", exact=True).click()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(seven))
        page.get_by_text("seven.png").wait_for(timeout=60_000)
        assert guess(page).startswith("7 — ")
        page.wait_for_timeout(1000)
        assert noise(page) == ("0.80", "0.8") and "noise_factor=0.8&" in page.url

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


def test_a_photo_from_the_camera(tmp_path):
    """Chromium's fake camera plays a phone photo of a 1 (core.photo): the page reads it through every step."""
    frame = Image.open(io.BytesIO(photo.photograph(data.load_sample()[0][2], np.random.default_rng(3))))
    y, cb, cr = (np.asarray(c) for c in frame.convert("RGB").resize((640, 480)).convert("YCbCr").split())
    chroma = [np.asarray(Image.fromarray(c).resize((320, 240))) for c in (cb, cr)]
    video = tmp_path / "camera.y4m"
    video.write_bytes(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n"
                      + (b"FRAME\n" + y.tobytes() + chroma[0].tobytes() + chroma[1].tobytes()) * 10)
    with browser.serve_app() as (url, _), sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.chromium_path(), headless=True, args=[
            *browser.CHROMIUM_FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            page = chromium.new_context(viewport={"width": 390, "height": 900}, permissions=["camera"]).new_page()
            page.goto(url + "/your_digit?source=camera")
            page.get_by_role("button", name="Take Photo").click(timeout=120_000)
            assert guess(page).startswith("1 — ")
            assert page.locator('[data-testid="stException"]').count() == 0
            assert "source=camera" in page.url
        finally:
            chromium.close()
