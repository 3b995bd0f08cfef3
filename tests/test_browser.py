"""The real thing: streamlit run, Debian's Chromium, a person's keyboard on the noise slider."""
import pytest

from core import i18n, pretrained
from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def test_slider_by_keyboard_changes_the_digits():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url)
        page.get_by_role("heading", name="Unsupervised Lab", exact=True).wait_for(timeout=90_000)
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
            " return s.length >= 4 && [1, 2, 3].every(i => s[i] !== old[i]); }", arg=before, timeout=90_000)
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


def test_switching_language_keeps_every_choice_visible():
    """Keyed choices keep their value across a language switch; the browser must show it under the new labels."""
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + "/denoising")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        page.get_by_text("Salt and pepper").click()
        browser.wait_until_idle(page)

        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
        page.get_by_role("option", name="日本語").click()
        page.get_by_role("heading", name="ノイズ除去オートエンコーダ", exact=True).wait_for(timeout=60_000)
        browser.wait_until_idle(page)

        assert page.get_by_role("radio", name="ごま塩").is_checked()  # the user's choice, in Japanese
        assert page.get_by_role("radio", name="ランダム").is_checked()  # the default, still shown
        chips = page.locator('[data-testid="stMultiSelect"] [data-tag]').all_inner_texts()
        ja = i18n.translator("ja")
        assert sorted(chips) == sorted(ja(f"model.{n}") for n in ("seed_ae", pretrained.best_denoiser())), chips
        assert not page.locator('[data-testid="stException"]').count()


WIDTHS = "[...document.querySelectorAll('[data-testid=\"stImage\"] img')].map(e => e.getBoundingClientRect().width)"
# Each diagram node whose text reaches past its box, by more than a pixel: [label, text width, box width].
SPILLS = """[...document.querySelectorAll('[data-testid="stGraphVizChart"] svg g.node')].flatMap(n => {
  const box = n.querySelector('path, polygon, ellipse').getBoundingClientRect();
  return [...n.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => [t.textContent, t.getBoundingClientRect()])
    .filter(([, r]) => r.left < box.left - 1 || r.right > box.right + 1).map(([s, r]) => [s, r.width, box.width]); })"""


def test_presenter_mode_in_japanese_grows_pictures_breaks_between_phrases_and_keeps_diagram_text_in_its_boxes():
    with browser.serve_app() as (url, _), browser.chromium_page(1440, 900) as page:
        page.goto(url + "/denoising?lang=ja")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        # Streamlit gives headings and paragraphs their own word-break: the phrase rule must win on them too
        for selector in ("h1", '[data-testid="stMarkdownContainer"] p', '[data-testid="stWidgetLabel"] p'):
            assert page.eval_on_selector(selector, "e => getComputedStyle(e).wordBreak") in ("auto-phrase", "keep-all")
        usual, title = page.evaluate(WIDTHS), page.eval_on_selector("h1", "e => parseFloat(getComputedStyle(e).fontSize)")

        page.goto(url + "/denoising?lang=ja&present=1")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        assert page.eval_on_selector("h1", "e => parseFloat(getComputedStyle(e).fontSize)") > 1.25 * title
        larger = page.evaluate(WIDTHS)
        assert len(larger) == len(usual)
        # presenter mode once shrank them by a quarter; the columns' gaps grow with the text, a few px
        assert all(b >= 0.98 * a for a, b in zip(usual, larger)), (usual, larger)

        page.goto(url + "/architectures?present=1")
        page.wait_for_function("document.querySelectorAll('[data-testid=\"stGraphVizChart\"] svg g.node').length > 10",
                               timeout=120_000)
        browser.wait_until_idle(page)
        assert page.evaluate(SPILLS) == []  # "GlobalAveragePooling2D" ran out of its box at the root's 1.3x
        assert not page.locator('[data-testid="stException"]').count()
