"""Links in the real browser (Debian's Chromium): a prepared link opened first on a fresh server shows exactly
its digits and models; a bad link names what it ignored and the address bar ends up saying what is shown;
lang=ja; a fragment's slider in the URL, and Back; "Copy link" on a secure origin and on plain http."""
import contextlib
import io
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from core import data, grids, i18n
from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")
EN, JA = i18n.translator("en"), i18n.translator("ja")
PREPARED = "/denoising?noise_factor=0.8&kind=salt_and_pepper&digits=3,5,8&models=seed_ae,unet_global_deeper"


def query(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def thumb(page, n=0) -> str:
    return page.locator('[data-testid="stSliderThumbValue"]').nth(n).inner_text()


@contextlib.contextmanager
def chromium_context(*flags, permissions=()):
    """A browser context of our own: extra Chromium flags, clipboard permissions."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.chromium_path(), headless=True,
                                     args=[*browser.CHROMIUM_FLAGS, *flags])
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            yield context
        finally:
            chromium.close()


def wait_for_query(page, part: str, timeout_ms: int = 60_000):
    """Until the address bar's query holds `part`; what the page showed, if it never does."""
    try:
        page.wait_for_function("(part) => (location.search + '&').includes(part)", arg=part, timeout=timeout_ms)
    except Exception:
        thumbs = page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts()
        raise AssertionError(f"{part!r} never in the URL: {page.url}, sliders {thumbs}") from None


def copy_button(page, lang=EN):
    return page.get_by_role("button", name=lang("links.copy"))


def test_a_prepared_link_on_a_fresh_server_shows_its_digits_and_models():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + PREPARED)  # the first thing this server ever runs: the deep-link guard, then the link
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        assert thumb(page) == "0.80"
        assert page.get_by_role("radio", name=EN("noise.salt_and_pepper")).is_checked()
        assert page.get_by_role("radio", name=EN("denoise.which.indices")).is_checked()
        assert page.locator('[data-testid="stTextInput"] input').input_value() == "3, 5, 8"
        chips = page.locator('[data-testid="stMultiSelect"] [data-tag]').all_inner_texts()
        assert chips == [EN("model.seed_ae"), EN("model.unet_global_deeper")], chips
        sources = browser.image_sources(page)
        assert len(sources) == 4  # original, noisy, the two models
        original = np.asarray(Image.open(io.BytesIO(page.request.get(sources[0]).body())))
        x = data.load_sample()[0]
        assert np.array_equal(original, grids.tile(data.to_float(x[[3, 5, 8]]))), "not digits 3, 5 and 8"
        assert page.get_by_text("Language / 言語").count() == 1  # app.py ran: the whole app, not the page alone
        assert query(page.url) == {"noise_factor": "0.8", "kind": "salt_and_pepper", "noise_seed": "0",
                                   "digits": "3,5,8", "models": "seed_ae,unet_global_deeper"}
        assert not page.locator('[data-testid="stAlertContentWarning"]').count()
        assert not page.locator('[data-testid="stException"]').count()


def test_a_bad_link_names_what_it_ignored_and_the_url_says_what_is_shown():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + "/denoising?noise_factor=7&digits=abc&models=nope&kind=salt_and_pepper&foo=1")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        notice = page.locator('[data-testid="stAlertContentWarning"]')
        assert notice.count() == 1
        text = notice.inner_text()
        for item in ("noise_factor=7", "digits=abc", "models=nope", "foo=1"):
            assert item in text, text
        assert "kind=" not in text
        assert thumb(page) == "0.50"
        assert page.get_by_role("radio", name=EN("noise.salt_and_pepper")).is_checked()
        assert query(page.url) == {"noise_factor": "0.5", "kind": "salt_and_pepper", "noise_seed": "0", "count": "10",
                                   "digit_seed": "0", "models": "seed_ae,unet_global_deeper"}
        assert not page.locator('[data-testid="stException"]').count()


def test_lang_ja_and_navigation_keep_a_clean_url():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + "/?lang=ja")
        page.get_by_role("heading", name=JA("home.title"), exact=True).wait_for(timeout=90_000)
        copy_button(page, JA).wait_for(timeout=30_000)
        browser.wait_until_idle(page)
        assert query(page.url) == {"lang": "ja"}
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=JA("page.denoising.title")).click()
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        assert page.get_by_role("heading", name=JA("denoise.title"), exact=True).count() == 1
        assert query(page.url) == {"lang": "ja"} and urllib.parse.urlsplit(page.url).path.endswith("/denoising")
        assert not page.locator('[data-testid="stAlertContentWarning"]').count()
        copy_button(page, JA).wait_for()  # the same button, in the same place, on every page


def test_a_fragment_slider_writes_the_url_and_back_undoes_it():
    with browser.serve_app() as (url, _), browser.chromium_page() as page:
        page.goto(url + "/latent_space")
        browser.wait_for_images(page, 3)
        browser.wait_until_idle(page)
        assert query(page.url) == {}
        z1 = page.get_by_role("slider").first
        z1.focus()
        page.keyboard.press("ArrowRight")
        wait_for_query(page, "z1=0.05&")
        browser.wait_until_idle(page)
        page.keyboard.press("ArrowRight")
        wait_for_query(page, "z1=0.1&")
        browser.wait_until_idle(page)
        assert query(page.url)["grid"] == "15" and query(page.url)["steps"] == "10"  # the whole view, not z1 alone
        decoded = browser.image_sources(page)[0]
        page.go_back()
        wait_for_query(page, "z1=0.05&")
        page.wait_for_function("(old) => document.querySelector('[data-testid=\"stImage\"] img').src !== old",
                               arg=decoded, timeout=60_000)
        browser.wait_until_idle(page)
        assert page.locator('[data-testid="stSliderThumbValue"]').first.inner_text() == "0.05"
        assert query(page.url)["z1"] == "0.05"
        assert not page.locator('[data-testid="stException"]').count()


def test_copy_link_on_a_secure_origin():
    with browser.serve_app() as (url, _), chromium_context() as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.goto(url + "/denoising?noise_factor=0.3")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        assert page.evaluate("window.isSecureContext")
        copy_button(page).click()
        page.get_by_role("button", name=EN("links.copied")).wait_for(timeout=10_000)
        assert page.evaluate("navigator.clipboard.readText()") == page.url
        assert query(page.url)["noise_factor"] == "0.3"


def test_copy_link_on_plain_http_without_navigator_clipboard():
    """A lab served over http on a classroom network: no secure context, so no navigator.clipboard; the button
    falls back to document.execCommand("copy")."""
    with browser.serve_app() as (url, _), chromium_context("--host-resolver-rules=MAP lab.test 127.0.0.1") as context:
        port = urllib.parse.urlsplit(url).port
        plain = f"http://lab.test:{port}"
        page = context.new_page()
        page.goto(plain + "/denoising?noise_factor=0.3&lang=ja")
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        assert page.evaluate("window.isSecureContext") is False
        assert page.evaluate("typeof navigator.clipboard") == "undefined"
        page.evaluate("""() => { window.__copied = [];
            document.addEventListener('copy', () => window.__copied.push(String(document.getSelection())), true); }""")
        copy_button(page, JA).click()
        page.get_by_role("button", name=JA("links.copied")).wait_for(timeout=10_000)
        assert page.evaluate("window.__copied") == [page.url]
        assert page.url.startswith(plain + "/denoising?") and query(page.url)["lang"] == "ja"
        # What the clipboard holds, read where reading is allowed (a secure origin in the same browser).
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        reader = context.new_page()
        reader.goto(url + "/_stcore/health")
        assert reader.evaluate("navigator.clipboard.readText()") == page.url
