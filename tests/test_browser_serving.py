"""In Chromium: every download button on every page gives a file that opens, and the first pick after opening /
counts."""
import io
import zipfile

import pytest
from PIL import Image

from tests import browser

pytestmark = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


def is_japanese(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" for c in text)


@pytest.fixture(scope="module")
def url():
    with browser.serve_app() as (address, _):
        yield address


def test_the_first_language_pick_after_opening_home_counts(url):
    """On a session's first run at "/", Streamlit gave the switch another widget id than on the runs after, so the
    first pick of 日本語 was dropped and the page stayed English."""
    with browser.chromium_page() as page:
        page.goto(url + "/")
        page.get_by_role("heading", name="Unsupervised Lab", exact=True).wait_for(timeout=90_000)
        browser.wait_until_idle(page)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="日本語").click()
        page.wait_for_function("() => /[\\u3040-\\u30ff]/.test(document.body.innerText.slice(0, 3000))",
                               timeout=30_000)
        browser.wait_until_idle(page)
        assert is_japanese(page.inner_text("body")[:3000])


def opens(name: str, content: bytes) -> str:
    """What the file is, if it opens as what its name says; an AssertionError if not."""
    suffix = name.rsplit(".", 1)[-1]
    if suffix == "png":
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            assert image.width >= 28 and image.height >= 28
        return f"PNG {image.width}×{image.height}"
    if suffix == "svg":
        assert b"<svg" in content[:2000]
        return "SVG"
    if suffix == "dot":
        assert content.lstrip().startswith((b"digraph", b"strict digraph"))
        return "DOT"
    if suffix == "py":
        compile(content, name, "exec")
        return "Python"
    if suffix == "h5":
        assert content.startswith(b"\x89HDF")
        return "HDF5"
    if suffix == "zip":
        assert zipfile.ZipFile(io.BytesIO(content)).namelist()
        return "ZIP"
    raise AssertionError(f"unexpected download {name}")


# Every page with download buttons, as it opens (the training bench's appear only after a run: see
# test_browser_training.py).
PAGES = ("denoising", "architectures", "resnet")


def test_every_download_on_every_page_gives_a_file_that_opens(url):
    got = {}
    with browser.chromium_page(1440, 1000) as page:
        for slug in PAGES:
            page.goto(f"{url}/{slug}")
            page.get_by_role("heading").first.wait_for(timeout=90_000)
            browser.wait_until_idle(page)
            buttons = page.locator('[data-testid="stDownloadButton"] button')
            buttons.first.wait_for(timeout=90_000)
            assert buttons.count() >= 1, slug
            for i in range(buttons.count()):
                with page.expect_download(timeout=90_000) as info:
                    buttons.nth(i).click()
                download = info.value
                assert download.failure() is None, (slug, download.suggested_filename, download.failure())
                content = open(download.path(), "rb").read()
                got[(slug, download.suggested_filename)] = opens(download.suggested_filename, content)
            assert not page.locator('[data-testid="stException"]').count(), slug
    assert any(name.endswith(".png") for slug, name in got if slug == "denoising"), got
    assert {name.rsplit(".", 1)[-1] for slug, name in got if slug == "architectures"} >= {"dot"}, got
