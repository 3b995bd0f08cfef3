"""The anomaly page's threshold: a slider on the histogram's log axis offering round numbers, its default well
inside the track, a link written and read in those numbers (an old link's exact value snaps to one)."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import anomaly, data
from tests.apptest import open_page

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = anomaly.load_scores()


def open_link(query: dict) -> AppTest:
    """A new session whose first run is the anomaly page opened from a link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    at.switch_page(str(ROOT / "pages" / "anomaly.py"))
    at.run()
    assert not at.exception, at.exception
    return at


def offered(slider) -> list[float]:
    return [float(text) for text in slider.options]


def histogram(at) -> dict:
    """The score histogram's spec: the chart whose x axis is log-scaled."""
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if spec.get("layer") and spec["layer"][0].get("encoding", {}).get("x", {}).get("scale", {}).get("type") == "log":
            return spec
    raise AssertionError("no log-scaled histogram on the page")


def is_round(value: float) -> bool:
    return anomaly.round_figures(value, 3) == value


def notices(at) -> list[str]:
    return [w.value for w in at.warning if "could not be used" in w.value]


def flagged(at) -> tuple[float, float]:
    """(share of normal digits, share of anomalies) the sentence under the slider names, in percent."""
    line = next(c.value for c in at.caption if "the detector flags" in c.value)
    normal, anomalous = (float(v) for v in re.findall(r"([\d.]+)%", line))
    return normal, anomalous


@pytest.mark.parametrize("lo, hi", [(20.34, 4028.4), (83.29, 390.7), (0.0123, 0.98), (3.1e-6, 2.2e4)])
def test_the_options_are_round_evenly_spaced_on_a_log_axis_and_span_the_range(lo, hi):
    options = anomaly.threshold_options(lo, hi)
    assert 30 <= len(options) <= anomaly.MOST_OPTIONS and list(options) == sorted(set(options))
    assert all(is_round(v) for v in options)
    steps = np.diff(np.log(options))
    assert steps.max() < 1.5 * np.median(steps) and steps.min() > 0.6 * np.median(steps)  # geometric
    step = float(np.median(steps))
    assert lo <= options[0] * 1.005 and math.log(options[0] / lo) < step  # rounding may cross an end by 0.5 %
    assert options[-1] <= hi * 1.005 and math.log(hi / options[-1]) < step
    assert anomaly.snap(options, lo) == options[0] and anomaly.snap(options, hi) == options[-1]
    for outside in (lo / 2, hi * 2, 0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            anomaly.snap(options, outside)


def test_a_span_narrower_than_a_step_still_offers_its_two_ends():
    assert anomaly.threshold_options(0.5, 0.5001) == (0.5, 0.5001)


def test_the_slider_matches_the_histogram_and_its_default_sits_well_inside():
    at = open_page("anomaly", 180)
    _, y = data.load_sample()
    for digit, kind in ((0, "geometric"), (1, "neg_elbo"), (8, "reconstruction")):
        at.multiselect(key="normal_digits").set_value([digit]).run()
        at.radio(key="score_kind").set_value(kind).run()
        assert not at.exception, at.exception
        slider = at.select_slider(key=f"threshold_{digit}_{kind}")
        options, value = offered(slider), float(slider.value)
        assert all(is_round(v) for v in options) and value in options
        # the histogram's own domain, the scores' 0.1 %–99.9 % quantiles, is what the slider spans
        scores = SHIPPED[anomaly.shipped_model([digit], kind), kind]
        lo, hi = np.quantile(scores, [0.001, 0.999])
        spec = histogram(at)
        domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
        step = float(np.median(np.diff(np.log(options))))
        assert domain[0] <= options[0] and math.log(options[0] / lo) < step
        assert options[-1] <= domain[1] and math.log(hi / options[-1]) < step
        assert spec["layer"][1]["data"]["values"] == [{"from": value}]  # the rule line sits where the slider says
        position = options.index(value) / (len(options) - 1)
        assert 0.2 < position < 0.95, (digit, kind, position)
        # the default flags about 5 % of the normal digits, and the sentence under the slider says how many
        normal = scores[y == digit]
        assert abs(np.mean(normal > value) - 0.05) < 0.01
        assert flagged(at)[0] == pytest.approx(100 * np.mean(normal > value), abs=0.051)


def test_a_move_writes_a_round_number_and_a_link_reads_it_back():
    at = open_page("anomaly", 180)
    slider = at.select_slider(key="threshold_0_geometric")
    options = offered(slider)
    before = flagged(at)
    moved = options[options.index(float(slider.value)) + 7]
    slider.set_value(moved).run()
    text = dict(at.query_params)["threshold"]
    assert float(text) == moved and is_round(float(text)) and len(text) <= 6, text
    after = flagged(at)
    assert after[0] < before[0] and after[1] < before[1]  # a higher threshold flags fewer of both
    again = open_link(dict(at.query_params))
    assert float(again.select_slider(key="threshold_0_geometric").value) == moved and not notices(again)


def test_an_old_exact_link_snaps_and_a_value_outside_the_range_is_named():
    exact = "27.56164934158325"  # what links held when the slider was linear
    at = open_link({"normal": "0", "threshold": exact})
    assert not notices(at)
    options = offered(at.select_slider(key="threshold_0_geometric"))
    value = float(at.select_slider(key="threshold_0_geometric").value)
    assert value == min(options, key=lambda o: abs(math.log(o / float(exact))))
    assert value != float(exact) and dict(at.query_params)["threshold"] == anomaly.threshold_text(value)

    far = open_link({"normal": "0", "threshold": "1e9"})
    assert "`threshold=1e9`" in notices(far)[0]
    slider = far.select_slider(key="threshold_0_geometric")
    assert 0.2 < offered(slider).index(float(slider.value)) / (len(slider.options) - 1) < 0.95  # the default
