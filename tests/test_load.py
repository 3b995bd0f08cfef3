"""bench/load.py against the real app, served once: sessions rerun every page over the websocket, their
slider moves change what the page shows, and a move Streamlit ignores (a wrong widget id) is caught as
unchanged. No timings are asserted: those live in bench/ (DESIGN.md)."""
import asyncio

import pytest

pytest.importorskip("websockets")

from bench import load  # noqa: E402
from tests import browser  # noqa: E402

PAGES = ("denoising", "latent_space", "anomaly", "your_digit", "resnet")


@pytest.fixture(scope="module")
def url():
    with browser.serve_app_proc() as (url, _, _proc):
        yield url


def test_every_page_reruns_and_its_slider_changes_it(url):
    r = asyncio.run(load.run(url, sessions=len(PAGES), seconds=4, pages=PAGES, timeout=90))
    assert r.connection_errors == [] and r.session_errors == []
    assert r.exceptions == []
    assert len(r.home) == len(PAGES)
    for page in PAGES:
        p = r.pages[page]
        assert len(p.first_visits) == 1, page
        assert len(p.moves) >= 1, page
        assert p.unchanged < len(p.moves), (page, p.unchanged, len(p.moves))
    assert r.pages["denoising"].unchanged == 0
    assert r.media_fetched > 0 and r.media_failed == 0


def test_a_wrong_widget_id_is_an_unchanged_move(url):
    r = asyncio.run(load.run(url, sessions=1, seconds=2, pages=("denoising",), wrong_widget_id=True, timeout=90))
    assert r.connection_errors == [] and r.session_errors == [] and r.exceptions == []
    p = r.pages["denoising"]
    assert len(p.moves) >= 1
    assert p.unchanged == len(p.moves)


def test_a_job_session_presses_the_race_and_stays_out_of_the_slider_table(url):
    """--jobs: the race button pressed as a browser clicks (trigger_value once), its run read to the end."""
    r = asyncio.run(load.run(url, sessions=1, seconds=3, pages=("denoising",), timeout=90, jobs=1, job_steps=50,
                             job_timeout=240))
    assert r.connection_errors == [] and r.session_errors == [] and r.exceptions == []
    j = r.jobs
    assert j.presses >= 1 and len(j.runs) == j.presses and len(j.first_visits) == 1
    assert j.exceptions == [] and j.errors == 0
    run = j.runs[0]
    assert run["start_s"] is not None and run["last_step"] and run["last_step"][1] == 50  # the bar said "Step k of 50"
    assert run["summary"], run  # ended with "50 steps in … s"
    assert list(r.pages) == ["denoising"] and len(r.home) == 1  # the job session's runs are not slider moves
