"""The real thing: streamlit run, Debian's Chromium, a person's keyboard on the noise slider."""
import pytest

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def test_slider_by_keyboard_changes_the_digits():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url)
        page.get_by_role("heading", name="Unsupervised Lab").wait_for(timeout=90_000)
        page.get_by_role("link", name="Denoising").first.click()
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        before = browser.image_sources(page)

        slider = page.get_by_role("slider").first
        slider.focus()
        for _ in range(4):  # 0.50 → 0.70
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(old) => { const s = [...document.querySelectorAll('[data-testid=\"stImage\"] img')].map(e => e.src);"
            " return s.length >= 4 && s[1] !== old[1] && s[2] !== old[2]; }", arg=before, timeout=90_000)
        browser.wait_until_idle(page)
        after = browser.image_sources(page)
        assert page.locator('[data-testid="stSliderThumbValue"]').first.inner_text() == "0.70"
        assert after[0] == before[0]  # the originals did not move
        assert after[1] != before[1] and after[2] != before[2] and after[3] != before[3]
        assert not page.locator('[data-testid="stException"]').count()


def test_a_deep_link_gets_the_whole_app():
    """Opening /denoising first in a new server must still run app.py: wide layout, menu, language."""
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + "/denoising")
        browser.wait_for_images(page, 4)
        page.get_by_text("Language / 言語").wait_for(timeout=30_000)
        assert page.get_by_role("link", name="Home").count() >= 1
        assert not page.locator('[data-testid="stException"]').count()
