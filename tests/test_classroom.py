"""In front of a class (issue 26): model colours that never change, digit pickers that name the digit, presenter
mode, and a link's "yours" that loses only itself."""
import json
import types
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from core import data, i18n, pretrained
from tests.apptest import open_page
from ui import colours, links, pickers, style

ROOT = Path(__file__).resolve().parent.parent
EN = i18n.translator("en")


def chart_spec(at) -> dict:
    return json.loads(at.get("vega_lite_chart")[0].proto.spec)


def colour_of_label(spec) -> dict:
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"]))


def test_every_model_keeps_its_colour_whatever_is_chosen_and_the_legend_follows_the_rows():
    at = open_page("denoising")
    best = pretrained.best_denoiser()
    first = chart_spec(at)
    assert colour_of_label(first) == {EN("denoise.row.noisy"): colours.of("noisy"),
                                      EN("model.seed_ae"): colours.of("seed_ae"), EN(f"model.{best}"): colours.of(best)}
    legend = first["layer"][0]["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom"  # a phone keeps the plot's width

    # unet added in front of the others: the rows and the legend put it first, nobody else changes colour
    at.multiselect(key="models").set_value(["unet", "seed_ae", best]).run()
    second = chart_spec(at)
    domain = second["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert domain == [EN("denoise.row.noisy"), EN("model.unet"), EN("model.seed_ae"), EN(f"model.{best}")]
    row_labels = [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]
    assert [r for r in row_labels if r in domain] == domain[1:] or row_labels.index(EN("model.unet")) < \
        row_labels.index(EN("model.seed_ae"))
    again = colour_of_label(second)
    assert all(again[label] == colour for label, colour in colour_of_label(first).items())
    assert again[EN("model.unet")] == colours.of("unet")
    # every shipped model has a colour of its own, and none is the noise-factor rule's red
    every = [colours.of(n) for n in pretrained.denoisers()] + [colours.of("yours"), colours.of("noisy")]
    assert len(set(every)) == len(every) and "#c44" not in every
    assert colours.of("a_model_shipped_later") == colours.of("a_model_shipped_later") in colours.SPARE


def yours_of(done, total, by_factor):
    curve = types.SimpleNamespace(done=done, total=total, psnr_by_factor=by_factor, error=None,
                                  finished=done >= total)
    return {"id": "test-run", "forward": lambda x: np.asarray(x), "epochs": 1, "curve": curve}


def test_a_bench_model_gets_its_curve_in_its_own_colour_and_progress_while_measured():
    at = open_page("denoising")
    at.session_state["yours"] = yours_of(3, 20, {"gaussian": {"0.1": 30.0, "0.2": 27.5, "0.3": 25.0}})
    at.run()
    at.multiselect(key="models").set_value(["seed_ae", "yours"]).run()
    assert not at.exception
    spec = chart_spec(at)
    mine = [p for p in spec["layer"][0]["data"]["values"] if p["model"] == EN("model.yours")]
    assert [(p["noise_factor"], p["psnr"]) for p in mine] == [(0.1, 30.0), (0.2, 27.5), (0.3, 25.0)]
    assert colour_of_label(spec)[EN("model.yours")] == colours.of("yours")
    assert any("3 of 20" in p.proto.text for p in at.get("progress"))


def test_a_link_with_yours_opened_elsewhere_keeps_the_rest_of_the_list():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["models"] = "seed_ae,unet,yours"
    at.switch_page(str(ROOT / "pages" / "denoising.py")).run()  # a first run at /denoising?models=…
    assert not at.exception
    assert at.multiselect(key="models").value == ["seed_ae", "unet"]
    warned = " ".join(w.value for w in at.warning)
    assert "`models=yours`" in warned


def test_every_digit_picker_names_the_digit_and_picks_by_digit():
    x, y = data.load_sample()
    assert pickers.next_of(y, 7, 9) == int(np.flatnonzero((y == 9) & (np.arange(len(y)) > 7))[0])
    assert pickers.next_of(y, len(y) - 1, int(y[0])) == 0  # round to the start
    at = open_page("your_digit")
    at.session_state["digit_source"] = "sample"
    at.run()
    at.number_input(key="sample_index").set_value(7).run()
    assert at.selectbox(key="sample_index_digit").value == int(y[7]) == 9  # #7 is a 9, and the picker says so
    at.selectbox(key="sample_index_digit").set_value(3).run()  # "a 3, please"
    index = at.number_input(key="sample_index").value
    assert y[index] == 3 and index == pickers.next_of(y, 7, 3)
    at.button(key="sample_index_next").click().run()  # the next 3
    assert at.number_input(key="sample_index").value == pickers.next_of(y, index, 3)
    assert not at.exception

    at = open_page("denoising")
    at.radio(key="digit_mode").set_value("indices").run()
    at.text_input(key="digit_indices").input("3, 7").run()
    assert any(c.value == f"#3 · a {y[3]}, #7 · a {y[7]}" for c in at.caption)


def test_presenter_mode_from_a_link_enlarges_every_page_and_stays_in_the_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["present"] = "1"
    at.query_params["lang"] = "ja"
    at.run()
    assert not at.exception
    assert at.toggle(key=links.PRESENT).value is True
    assert any(style.PRESENTER_CSS in h.proto.body for h in at.get("html"))
    at.switch_page(str(ROOT / "pages" / "denoising.py")).run()
    assert at.session_state[links.KEPT_PRESENT] is True  # and the language is kept:
    assert at.title[0].value == "ノイズ除去オートエンコーダ"
    fonts = chart_spec(at)["config"]["axis"]
    assert fonts["labelFontSize"] >= 16
    at.slider(key="noise_factor").set_value(0.8).run()
    assert dict(at.query_params)["present"] == "1" and dict(at.query_params)["lang"] == "ja"
    assert dict(at.query_params)["noise_factor"] == "0.8"


def test_presenter_mode_off_by_default_and_a_bad_value_is_named():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert at.toggle(key=links.PRESENT).value is False
    assert not any(style.PRESENTER_CSS in h.proto.body for h in at.get("html"))
    at.switch_page(str(ROOT / "pages" / "denoising.py")).run()
    assert "config" not in chart_spec(at)  # the chart as it always was
    usual = chart_spec(at)["height"]
    # (AppTest keeps app.py's sidebar out of its tree after the first run: the switch is turned on as its
    # on_change does, and the page must follow)
    at.session_state[links.PRESENT] = at.session_state[links.KEPT_PRESENT] = True
    at.run()
    assert chart_spec(at)["config"]["legend"]["labelFontSize"] >= 16
    assert chart_spec(at)["height"] >= 1.25 * usual  # taller with its fonts, or the plot itself is squeezed

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["present"] = "<b>loud</b>"
    at.run()
    assert at.toggle(key=links.PRESENT).value is False
    assert any("`present=<b>loud</b>`" in w.value for w in at.warning)
