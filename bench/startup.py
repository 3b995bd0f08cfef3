"""Seconds from `streamlit run` to the home page rendered, and to the denoising page rendered, in Chromium.

    python bench/startup.py [--shots docs/]

With --shots it also saves screenshots of both pages (the README's comes from here).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import browser  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shots", help="folder for screenshots")
    p.add_argument("--lang", default="English")
    a = p.parse_args(argv)
    with browser.serve_app() as (url, t0), browser.chromium_page(1400, 1150) as page:
        page.goto(url)
        page.get_by_role("heading", name="Unsupervised Lab").wait_for(timeout=90_000)
        browser.wait_until_idle(page)
        home = time.perf_counter() - t0
        if a.shots:
            page.screenshot(path=str(Path(a.shots) / "home.png"), full_page=True)
        t1 = time.perf_counter()
        page.get_by_role("link", name="Denoising").first.click()
        browser.wait_for_images(page, 4)
        browser.wait_until_idle(page)
        denoise = time.perf_counter() - t0
        print(f"streamlit run → home rendered:      {home:6.1f} s")
        print(f"streamlit run → denoising rendered: {denoise:6.1f} s  (first visit, {denoise - (t1 - t0):.1f} s after the click)")
        # A slider move as a person makes it: one arrow key, until the reconstructed digits change.
        slider = page.get_by_role("slider").first
        moves = []
        for key in ["ArrowLeft"] * 3 + ["ArrowRight"] * 3:
            before = browser.image_sources(page)
            t2 = time.perf_counter()
            slider.focus()
            page.keyboard.press(key)
            page.wait_for_function(
                "(old) => { const s = [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
                ".map(e => e.src); return s.length >= 4 && s[s.length - 1] !== old[old.length - 1]; }",
                arg=before, timeout=60_000)
            moves.append(time.perf_counter() - t2)
            browser.wait_until_idle(page)
        moves.sort()
        print(f"slider move → new digits shown:      {moves[len(moves) // 2]:6.2f} s median of {len(moves)} "
              f"(min {moves[0]:.2f}, max {moves[-1]:.2f})")
        if a.shots:
            page.mouse.wheel(0, 3000)  # the chart renders when scrolled into view
            page.wait_for_timeout(1500)
            page.mouse.wheel(0, -3000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(Path(a.shots) / "denoising.png"), full_page=True)


if __name__ == "__main__":
    main()
