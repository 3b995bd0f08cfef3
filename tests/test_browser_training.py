"""The training bench in a real browser: press Start and watch the filmstrip grow, epoch by epoch."""
import os

import pytest

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def test_start_fills_the_filmstrip_epoch_by_epoch():
    shots = os.environ.get("TRAIN_SHOTS")  # a folder: also save screenshots there
    with browser.serve_app() as (url, _), browser.chromium_page(1400, 1100) as page:
        page.goto(url + "/training")
        page.get_by_role("heading", name="Training bench", exact=True).wait_for(timeout=120_000)
        browser.wait_until_idle(page)
        page.get_by_role("button", name="Start").click()
        page.get_by_text("The same eight validation digits, rebuilt after each epoch").wait_for(timeout=180_000)
        if shots:
            page.screenshot(path=f"{shots}/training_first_frame.png", full_page=True)
        page.get_by_text("After epoch 2").wait_for(timeout=240_000)  # the strip grew: a second frame
        assert page.get_by_role("slider").count() >= 5  # the epoch scrubber came with it
        if shots:
            page.screenshot(path=f"{shots}/training_mid.png", full_page=True)
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopped after epoch").wait_for(timeout=120_000)
        assert not page.locator('[data-testid="stException"]').count()
