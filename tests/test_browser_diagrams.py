"""The seed ResNet's diagram drawn as an SVG by a real browser: block view, then all 65 layers."""
import os

import pytest

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")
SVG_NODES = "document.querySelectorAll('[data-testid=\"stGraphVizChart\"] svg g.node').length"


def test_seed_resnet_diagram_renders_as_svg():
    shots = os.environ.get("ARCH_SHOTS")  # a folder: also save screenshots there
    with browser.serve_app() as (url, _), browser.chromium_page(1400, 1100) as page:
        page.goto(url)
        page.get_by_role("heading", name="Unsupervised Lab", exact=True).wait_for(timeout=90_000)
        page.get_by_role("link", name="ResNet").first.click()
        page.wait_for_function(f"{SVG_NODES} == 10", timeout=120_000)  # stem, 8 sub-blocks, head
        browser.wait_until_idle(page)
        assert page.get_by_text("11,188,354").first.is_visible()
        svg = page.locator('[data-testid="stGraphVizChart"] svg').first
        assert svg.locator("g.edge").count() == 9 + 8  # main path and one skip edge per sub-block
        if shots:
            page.screenshot(path=f"{shots}/resnet_block.png", full_page=True)
        page.get_by_text("Every layer").click()
        page.wait_for_function(f"{SVG_NODES} == 65", timeout=120_000)
        browser.wait_until_idle(page)
        assert "block4_sub2_add" in svg.inner_html()
        if shots:
            page.screenshot(path=f"{shots}/resnet_layers.png", full_page=True)
        assert not page.locator('[data-testid="stException"]').count()
