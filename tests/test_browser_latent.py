"""The latent map on a phone, in the real browser (Debian's Chromium with touch emulation at 390 px): a tap on a
dot decodes it (the z sliders and the URL follow), a finger that scrolls the page across the map picks nothing,
and a mouse click still picks on a desktop."""
import time
import urllib.parse

import pytest

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def z_of(page) -> tuple[str, str]:
    """The z1 and z2 sliders as shown (the decoder panel's are the page's first two sliders)."""
    thumbs = page.locator('[data-testid="stSliderThumbValue"]')
    return thumbs.nth(0).inner_text(), thumbs.nth(1).inner_text()


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def open_map(context, url):
    page = context.new_page()
    page.goto(url + "/latent_space")
    canvas = page.locator(".vega-embed canvas").first  # the main map comes first
    canvas.wait_for(timeout=120_000)
    browser.wait_until_idle(page)
    canvas.scroll_into_view_if_needed()
    return page, canvas


def swipe(page, x, y, dy, steps=15):
    """A finger put down at (x, y) and dragged up by dy pixels, as Chromium's touch input (CDP) delivers it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, steps + 1):
        time.sleep(0.016)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - dy * k / steps}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_tap_on_the_map_decodes_that_dot_and_a_scroll_picks_nothing():
    from playwright.sync_api import sync_playwright

    with browser.serve_app() as (url, _), sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_FLAGS, headless=True)
        try:
            phone = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
            page, canvas = open_map(phone, url)
            assert z_of(page) == ("0.00", "0.00")
            box = canvas.bounding_box()
            swipe(page, box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.6, 225)
            page.wait_for_timeout(1500)  # Streamlit sends a chart's selection after a short debounce
            browser.wait_until_idle(page)
            scrolled = box["y"] - canvas.bounding_box()["y"]
            assert scrolled > 100, f"the page did not scroll under the finger ({scrolled:.0f} px)"
            assert z_of(page) == ("0.00", "0.00") and "z1" not in query(page)

            box = canvas.bounding_box()
            page.touchscreen.tap(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.4)
            page.wait_for_function("location.search.includes('z1=')", timeout=30_000)
            browser.wait_until_idle(page)
            z1, z2 = z_of(page)
            assert (z1, z2) != ("0.00", "0.00")  # the dot nearest the tap: no test digit sits at exactly 0, 0
            assert float(query(page)["z1"]) == float(z1) and float(query(page)["z2"]) == float(z2)
            assert page.locator('[data-testid="stException"]').count() == 0
            phone.close()

            desktop = chromium.new_context(viewport={"width": 1440, "height": 1000})
            page, canvas = open_map(desktop, url)
            box = canvas.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.4)
            page.wait_for_function("location.search.includes('z1=')", timeout=30_000)
            browser.wait_until_idle(page)
            assert z_of(page) != ("0.00", "0.00")
            assert float(query(page)["z1"]) == float(z_of(page)[0])
        finally:
            chromium.close()
