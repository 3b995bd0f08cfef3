"""Seconds from `streamlit run` to each page rendered in Chromium, and from a slider key press to new pictures.

    python bench/startup.py [--shots docs/]

Home, then denoising (noise slider), then the latent space (z1 slider: only its fragment reruns).
With --shots it also saves screenshots of the pages (the README's come from here).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import browser  # noqa: E402


def slider_moves(page, slider, watch: int):
    """A slider moved as a person does: one arrow key at a time, timed until image `watch` changes."""
    moves = []
    for key in ["ArrowLeft"] * 3 + ["ArrowRight"] * 3:
        before = browser.image_sources(page)
        t0 = time.perf_counter()
        slider.focus()
        page.keyboard.press(key)
        page.wait_for_function(
            "([old, i]) => { const s = [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
            ".map(e => e.src); return s.length === old.length && s.at(i) !== old.at(i); }",
            arg=[before, watch], timeout=60_000)
        moves.append(time.perf_counter() - t0)
        browser.wait_until_idle(page)
    moves.sort()
    return moves[len(moves) // 2], moves[0], moves[-1], len(moves)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shots", help="folder for screenshots")
    p.add_argument("--lang", default="English")
    a = p.parse_args(argv)
    with browser.serve_app(warm=True) as (url, t0), browser.chromium_page(1400, 1150) as page:
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
        median, lo, hi, n = slider_moves(page, page.get_by_role("slider").first, -1)
        print(f"slider move → new digits shown:      {median:6.2f} s median of {n} (min {lo:.2f}, max {hi:.2f})")
        if a.shots:
            page.mouse.wheel(0, 3000)  # the chart renders when scrolled into view
            page.wait_for_timeout(1500)
            page.mouse.wheel(0, -3000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(Path(a.shots) / "denoising.png"), full_page=True)

        t3 = time.perf_counter()
        page.get_by_role("link", name="Latent space").first.click()
        browser.wait_for_images(page, 3)
        page.locator(".vega-embed").first.wait_for(timeout=120_000)
        browser.wait_until_idle(page)
        print(f"click → latent space rendered:      {time.perf_counter() - t3:6.1f} s  (first visit: VAE loaded, "
              "10,000 digits encoded)")
        median, lo, hi, n = slider_moves(page, page.get_by_role("slider").first, 0)
        print(f"z1 slider move → decoded digit shown: {median:5.2f} s median of {n} (min {lo:.2f}, max {hi:.2f})")
        if a.shots:
            page.screenshot(path=str(Path(a.shots) / "latent_space.png"), full_page=True)

        t4 = time.perf_counter()
        page.get_by_role("link", name="Anomaly detection").first.click()
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
        page.locator(".vega-embed").nth(1).wait_for(timeout=120_000)
        browser.wait_until_idle(page)
        print(f"click → anomaly page rendered:      {time.perf_counter() - t4:6.1f} s  (first visit: shipped "
              "detector loaded, 10,000 digits scored)")
        if a.shots:
            page.wait_for_timeout(1000)
            page.screenshot(path=str(Path(a.shots) / "anomaly.png"), full_page=True)


if __name__ == "__main__":
    main()
