"""The clustering page in Chromium: the groups and the map drawn, nothing revealed, then the reveal, on a laptop
and on a phone."""
import pytest

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def url():
    with browser.serve_app() as (address, _):
        yield address


@pytest.mark.parametrize("width", [1440, 390], ids=["laptop", "phone"])
def test_the_groups_then_the_reveal(width, url, tmp_path):
    with browser.chromium_page(width, 900) as page:
        page.goto(f"{url}/clustering")
        page.get_by_role("heading", name="Clusters without labels").wait_for(timeout=90_000)
        browser.wait_for_images(page, 10)
        browser.wait_until_idle(page)
        page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').first.wait_for(
            timeout=60_000)
        body = page.inner_text("body")
        assert "ACC" not in body and "Group 1" in body  # the groups, and no score before the reveal
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1  # nothing wider than the screen
        page.get_by_test_id("stCheckbox").get_by_text("Reveal the labels").click()
        page.get_by_text("ACC", exact=True).first.wait_for(timeout=60_000)
        browser.wait_until_idle(page)
        # The confusion table mounts after the text beside it (its grid draws on a canvas): wait for it, then count.
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stDataFrame"]').count() == 1
        assert not page.locator('[data-testid="stException"]').count()
        page.screenshot(path=str(tmp_path / f"clustering_{width}.png"), full_page=False)
