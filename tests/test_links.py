"""Shareable links (ui/links.py): every page's settings in its URL, a link restores the view in a new session,
bad values fall back one by one with one line naming them, the URL written only when it changes, and no
upload in it. AppTest runs each page as a person opens it, through app.py."""
from pathlib import Path

import pytest
from streamlit.runtime.state.query_params import QueryParams
from streamlit.testing.v1 import AppTest

from core import data, i18n, pretrained
from tests.apptest import images, open_page
from ui import links

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
EN, JA = i18n.translator("en"), i18n.translator("ja")
BEST = pretrained.best_denoiser()


def open_link(slug: str, query: dict, timeout: int = 180) -> AppTest:
    """A new session whose first run is `slug` opened from a link: /slug?query (home: "")."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query)
    if slug:
        at.switch_page(str(ROOT / "pages" / f"{slug}.py"))
    at.run()
    assert not at.exception, at.exception
    return at


def reopen(at: AppTest, slug: str) -> AppTest:
    """What the URL of `at` opens in a fresh session."""
    return open_link(slug, dict(at.query_params))


def notices(at) -> list[str]:
    """The link's notice lines (English or Japanese)."""
    marks = ("could not be used", "使えないため")
    return [w.value for w in at.warning if any(m in w.value for m in marks)]


def values(at, keys: dict) -> dict:
    """Widget values by key; keys maps a key to the AppTest accessor's name."""
    return {key: getattr(at, kind)(key=key).value for key, kind in keys.items()}


# ─── The parsers: plain Python ────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("parse, text, value", [
    (links.number(0.0, 1.0), "0.8", 0.8), (links.number(0.0, 1.0), "1", 1.0), (links.number(-4, 4), "-1.234", -1.23),
    (links.integer(1, 6), "3", 3), (links.choice((1, 3)), "3", 3), (links.choice(("a", "b")), "b", "b"),
    (links.flag, "false", False), (links.flag, "TRUE", True),
    (links.choices(("seed_ae", "unet")), "unet,seed_ae", ["unet", "seed_ae"]), (links.choices(("x",)), "", []),
    (links.integers(0, 9999, 1, 50), "3,5,8", [3, 5, 8]), (links.integers(0, 9999), " 3, 5 ", [3, 5]),
    (links.exact(0, 200), "61.53217697143555", 61.53217697143555),
])
def test_parsers_read_good_values(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize("parse, text", [
    (links.number(0.0, 1.0), "7"), (links.number(0.0, 1.0), "abc"), (links.number(0.0, 1.0), "nan"),
    (links.number(0.0, 1.0), "inf"), (links.number(0.0, 1.0), ""), (links.integer(1, 6), "3.5"),
    (links.integer(1, 6), "0"), (links.integer(1, 6), "1e9"), (links.choice((1, 3)), "2"),
    (links.choice(("gaussian",)), "Gaussian"), (links.flag, "maybe"), (links.choices(("seed_ae",)), "nope"),
    (links.choices(("seed_ae",)), "seed_ae,seed_ae"), (links.choices(range(10), 1, 9), ""),
    (links.choices(range(10), 1, 9), ",".join(map(str, range(10)))), (links.integers(0, 9999, 1, 50), "abc"),
    (links.integers(0, 9999, 1, 50), "1,10000"), (links.integers(0, 9999, 1, 50), ""),
    (links.integers(0, 9999, 1, 3), "1,2,3,4"), (links.exact(0, 200), "201"), (links.exact(0, 200), "-inf"),
])
def test_parsers_refuse_bad_values(parse, text):
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize("value, text", [(0.8, "0.8"), (0.85, "0.85"), (1.0, "1"), (0.0, "0"), (-0.0, "0"),
                                         (0.7000000000000001, "0.7"), (-1.234, "-1.23"), (2.25, "2.25")])
def test_numbers_are_written_short_and_read_back(value, text):
    assert links.show_number()(value) == text
    assert links.number(-4, 4)(text) == round(value, 2)


def test_a_threshold_reads_back_exactly():
    for value in (61.53217697143555, 118.27450980392157, 1e-3, 12345.678901234567):
        assert links.exact(0, 1e6)(links.show_exact(value)) == value


# ─── Round trips: settings → URL → a new session → the same settings ────────────────────────────────────
def test_home_language_round_trip():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert dict(at.query_params) == {}  # a page as it opens keeps a bare URL
    at.selectbox(key="lang").set_value("ja").run()
    assert dict(at.query_params) == {"lang": "ja"}
    again = reopen(at, "")
    assert again.session_state["lang"] == "ja" and again.title[0].value.startswith("Unsupervised Lab（")
    assert not notices(again)


def test_denoising_round_trip_chosen_digits():
    at = open_page("denoising")
    at.slider(key="noise_factor").set_value(0.8).run()
    at.radio(key="noise_kind").set_value("salt_and_pepper").run()
    at.radio(key="digit_mode").set_value("indices").run()
    at.text_input(key="digit_indices").input("3, 5, 8").run()
    at.multiselect(key="models").set_value(["seed_ae", "unet"]).run()
    at.session_state["noise_seed"] = 1  # as "New noise" does
    at.run()
    assert dict(at.query_params) == {"noise_factor": "0.8", "kind": "salt_and_pepper", "noise_seed": "1",
                                     "digits": "3,5,8", "models": "seed_ae,unet"}
    again = reopen(at, "denoising")
    keys = {"noise_factor": "slider", "noise_kind": "radio", "digit_mode": "radio", "digit_indices": "text_input",
            "models": "multiselect"}
    assert values(again, keys) == values(at, keys)
    assert again.session_state["noise_seed"] == 1
    assert images(again) == images(at)  # the very same pictures: digits, noise and models
    assert not notices(again) and dict(again.query_params) == dict(at.query_params)


def test_denoising_round_trip_class_and_random_digits():
    at = open_page("denoising")
    at.radio(key="digit_mode").set_value("class").run()
    at.selectbox(key="digit_class").set_value(7).run()
    at.slider(key="digit_count").set_value(12).run()
    assert dict(at.query_params)["class"] == "7" and dict(at.query_params)["count"] == "12"
    assert "digit_seed" not in at.query_params and "digits" not in at.query_params
    again = reopen(at, "denoising")
    assert again.radio(key="digit_mode").value == "class" and again.selectbox(key="digit_class").value == 7
    assert images(again) == images(at)

    at.radio(key="digit_mode").set_value("random").run()
    at.session_state["digit_seed"] = 1  # as "New digits" does (AppTest can lose a click right after a page switch)
    at.run()
    assert dict(at.query_params)["digit_seed"] == "1" and "class" not in at.query_params
    again = reopen(at, "denoising")
    assert again.radio(key="digit_mode").value == "random" and again.session_state["digit_seed"] == 1
    assert images(again) == images(at)


def test_architectures_round_trip():
    at = open_page("architectures", 180)
    at.selectbox(key="arch_model").set_value("unet").run()
    assert dict(at.query_params) == {"model": "unet"}
    again = reopen(at, "architectures")
    assert again.selectbox(key="arch_model").value == "unet"


def test_resnet_round_trip_every_setting():
    at = open_page("resnet", 180)
    at.slider(key="rn_blocks").set_value(2).run()
    at.slider(key="rn_sub").set_value(1).run()
    at.select_slider(key="rn_filters").set_value(16).run()
    at.slider(key="rn_size").set_value(64).run()
    at.radio(key="rn_channels").set_value(1).run()
    at.number_input(key="rn_labels").set_value(10).run()
    at.toggle(key="rn_residual").set_value(False).run()
    at.radio(key="rn_view").set_value("layer").run()
    at.select_slider(key="rn_depth").set_value(8).run()
    at.radio(key="rn_bn_mode").set_value("init").run()
    at.slider(key="rn_steps").set_value(100).run()
    assert not at.exception
    assert dict(at.query_params) == {"num_blocks": "2", "num_sub_blocks": "1", "num_filters": "16", "input_size": "64",
                                     "channels": "1", "label_num": "10", "residual": "false", "view": "layer",
                                     "depth": "8", "bn": "init", "steps": "100"}
    again = reopen(at, "resnet")
    keys = {"rn_blocks": "slider", "rn_sub": "slider", "rn_filters": "select_slider", "rn_size": "slider",
            "rn_channels": "radio", "rn_labels": "number_input", "rn_residual": "toggle", "rn_view": "radio",
            "rn_depth": "select_slider", "rn_bn_mode": "radio", "rn_steps": "slider"}
    assert values(again, keys) == values(at, keys)
    assert [m.value for m in again.metric] == [m.value for m in at.metric]


def test_latent_round_trip():
    at = open_page("latent_space", 180)
    at.slider(key="z1").set_value(1.25).run()
    at.slider(key="z2").set_value(-0.5).run()
    at.slider(key="grid_n").set_value(8).run()
    at.slider(key="grid_extent").set_value(3.0).run()
    at.number_input(key="interp_a").set_value(10).run()
    at.number_input(key="interp_b").set_value(20).run()
    at.slider(key="interp_steps").set_value(5).run()
    assert dict(at.query_params) == {"z1": "1.25", "z2": "-0.5", "grid": "8", "extent": "3", "from": "10", "to": "20",
                                     "steps": "5", "digit": "0", "samples": "0"}
    again = reopen(at, "latent_space")
    keys = {"z1": "slider", "z2": "slider", "grid_n": "slider", "grid_extent": "slider", "interp_a": "number_input",
            "interp_b": "number_input", "interp_steps": "slider"}
    assert values(again, keys) == values(at, keys)
    assert images(again) == images(at)


def threshold_options(at, key) -> list[float]:
    return [float(o) for o in at.select_slider(key=key).options]


def test_anomaly_round_trip_threshold_exactly():
    at = open_page("anomaly", 180)
    at.multiselect(key="normal_digits").set_value([3]).run()
    at.radio(key="score_kind").set_value("neg_elbo").run()
    options = threshold_options(at, "threshold_3_neg_elbo")
    moved = options[len(options) // 5]
    at.select_slider(key="threshold_3_neg_elbo").set_value(moved).run()
    query = dict(at.query_params)
    assert query["normal"] == "3" and query["score"] == "neg_elbo" and float(query["threshold"]) == moved
    again = reopen(at, "anomaly")
    assert again.multiselect(key="normal_digits").value == [3] and again.radio(key="score_kind").value == "neg_elbo"
    assert again.select_slider(key="threshold_3_neg_elbo").value == moved
    assert [m.value for m in again.metric] == [m.value for m in at.metric]  # AUROC, precision, recall
    assert not notices(again)


def test_your_digit_round_trip_sample_and_noise():
    at = open_page("your_digit", 180)
    at.number_input(key="sample_index").set_value(42).run()
    at.slider(key="sample_pen").set_value(-1).run()
    at.slider(key="digit_noise_factor").set_value(0.9).run()
    at.radio(key="digit_noise_kind").set_value("salt_and_pepper").run()
    assert dict(at.query_params) == {"source": "sample", "sample": "42", "pen": "-1", "photo": "false",
                                     "noise_factor": "0.9", "kind": "salt_and_pepper"}
    again = reopen(at, "your_digit")
    keys = {"sample_index": "number_input", "sample_pen": "slider", "digit_noise_factor": "slider",
            "digit_noise_kind": "radio"}
    assert values(again, keys) == values(at, keys)
    assert images(again) == images(at)


def test_japanese_link_opens_in_japanese():
    at = open_link("denoising", {"lang": "ja", "noise_factor": "0.3"})
    assert at.title[0].value == "ノイズ除去オートエンコーダ" and at.slider(key="noise_factor").value == 0.3
    assert dict(at.query_params) == {**{"noise_factor": "0.3", "kind": "gaussian", "noise_seed": "0", "count": "10",
                                        "digit_seed": "0", "models": f"seed_ae,{BEST}"}, "lang": "ja"}


def test_a_link_of_defaults_leaves_a_bare_url_and_a_page_at_defaults_writes_nothing(monkeypatch):
    at = open_link("denoising", {"noise_factor": "0.5", "models": f"seed_ae,{BEST}"})
    assert dict(at.query_params) == {} and not notices(at)
    writes = []
    original = QueryParams.from_dict
    monkeypatch.setattr(QueryParams, "from_dict", lambda self, d: (writes.append(dict(d)), original(self, d))[1])
    at.run()
    assert writes == []  # nothing changed: nothing sent
    at.slider(key="noise_factor").set_value(0.6).run()
    assert len(writes) == 1 and writes[0]["noise_factor"] == "0.6"
    at.run()
    assert len(writes) == 1  # the browser holds that URL now: written once


# ─── Bad values: each falls back to its own default, one line names them, the URL shows what is shown ───
BAD = [
    ("", {"foo": "1"}, ["foo=1"], {}),
    ("", {"lang": "xx"}, ["lang=xx"], {}),
    ("denoising", {"noise_factor": "7", "kind": "pepper", "digits": "abc", "models": "nope", "foo": "1"},
     ["noise_factor=7", "kind=pepper", "digits=abc", "models=nope", "foo=1"],
     {("slider", "noise_factor"): 0.5, ("radio", "noise_kind"): "gaussian", ("radio", "digit_mode"): "random",
      ("multiselect", "models"): ["seed_ae", BEST]}),
    ("denoising", {"noise_factor": "0.8", "digits": "1,10000", "class": "11", "count": "0", "noise_seed": "-1",
                   "models": "seed_ae,seed_ae"},
     ["digits=1,10000", "class=11", "count=0", "noise_seed=-1", "models=seed_ae,seed_ae"],
     {("slider", "noise_factor"): 0.8, ("radio", "digit_mode"): "random", ("slider", "digit_count"): 10}),
    ("denoising", {"digits": "3,5,8", "class": "4"}, ["class=4"],  # a list of digits outranks a class
     {("radio", "digit_mode"): "indices", ("text_input", "digit_indices"): "3, 5, 8"}),
    ("architectures", {"model": "gpt4"}, ["model=gpt4"], {("selectbox", "arch_model"): "resnet_seed"}),
    ("resnet", {"num_blocks": "9", "num_filters": "65", "channels": "2", "residual": "maybe", "view": "3d",
                "depth": "21", "bn": "x", "steps": "75", "input_size": "abc", "label_num": "0", "num_sub_blocks": "2"},
     ["num_blocks=9", "num_filters=65", "channels=2", "residual=maybe", "view=3d", "depth=21", "bn=x", "steps=75",
      "input_size=abc", "label_num=0"],
     {("slider", "rn_blocks"): 4, ("select_slider", "rn_filters"): 64, ("radio", "rn_channels"): 3,
      ("toggle", "rn_residual"): True, ("slider", "rn_steps"): 200, ("slider", "rn_sub"): 2}),
    ("latent_space", {"z1": "7", "z2": "abc", "grid": "1", "extent": "0.1", "from": "10000", "to": "-1", "steps": "31",
                      "zoom": "2"},
     ["z1=7", "z2=abc", "grid=1", "extent=0.1", "from=10000", "to=-1", "steps=31", "zoom=2"],
     {("slider", "z1"): 0.0, ("slider", "z2"): 0.0, ("slider", "grid_n"): 15, ("number_input", "interp_a"): 3}),
    ("anomaly", {"normal": "abc", "score": "magic", "threshold": "1e9"}, ["normal=abc", "score=magic", "threshold=1e9"],
     {("multiselect", "normal_digits"): [0], ("radio", "score_kind"): "geometric"}),
    ("anomaly", {"normal": "0,1,2,3,4,5,6,7,8,9"}, ["normal=0,1,2,3,4,5,6,7,8,9"], {("multiselect", "normal_digits"): [0]}),
    ("your_digit", {"source": "fax", "sample": "10000", "pen": "9", "noise_factor": "-1", "kind": "x"},
     ["source=fax", "sample=10000", "pen=9", "noise_factor=-1", "kind=x"],
     {("segmented_control", "digit_source"): "sample", ("number_input", "sample_index"): 27,
      ("slider", "sample_pen"): 1, ("slider", "digit_noise_factor"): 0.5}),
    ("your_digit", {"source": "upload", "sample": "5"}, ["sample=5"], {("segmented_control", "digit_source"): "upload"}),
]


@pytest.mark.parametrize("slug, query, named, shown", BAD, ids=[f"{s or 'home'}:{','.join(q)}" for s, q, _, _ in BAD])
def test_bad_values_fall_back_with_one_line(slug, query, named, shown):
    at = open_link(slug, query)
    lines = notices(at)
    assert len(lines) == 1, [w.value for w in at.warning]
    for item in named:
        assert f"`{item}`" in lines[0], (item, lines[0])
    assert lines[0].count("`") == 2 * len(named), lines[0]  # nothing else named
    for (kind, key), value in shown.items():
        assert getattr(at, kind)(key=key).value == value, key
    written = dict(at.query_params)
    for item in named:
        key, raw = item.split("=", 1)
        assert written.get(key) != raw, (key, written)  # the URL says what is shown, not what was asked


def test_a_bad_threshold_is_judged_against_the_scores_range():
    at = open_link("anomaly", {"normal": "5", "threshold": "-3"})
    assert "`threshold=-3`" in notices(at)[0]
    options = threshold_options(at, "threshold_5_geometric")
    assert at.select_slider(key="threshold_5_geometric").value in options
    inside = options[len(options) // 3]
    good = open_link("anomaly", {"normal": "5", "threshold": repr(inside)})
    assert not notices(good) and good.select_slider(key="threshold_5_geometric").value == inside


def test_the_notice_speaks_the_pages_language():
    at = open_link("denoising", {"lang": "ja", "noise_factor": "7"})
    assert notices(at) == [JA("links.ignored", items="`noise_factor=7`")]


# ─── Privacy: settings only ───────────────────────────────────────────────────────────────────────────
def test_an_upload_is_never_in_the_link():
    from tests.test_your_digit import paper, png

    at = open_page("your_digit", 180)
    at.slider(key="digit_noise_factor").set_value(0.7).run()
    at.segmented_control(key="digit_source").set_value("upload").run()
    assert EN("links.private") in [c.value for c in at.caption]
    content = png(paper(data.load_sample()[0][0]))
    at.file_uploader(key="digit_upload").set_value(("secret-name.png", content, "image/png")).run()
    assert not at.exception and at.get("progress")  # the upload was read
    at.slider(key="digit_noise_factor").set_value(0.7).run()
    query = dict(at.query_params)
    assert set(query) == {"source", "noise_factor", "kind"}, query
    assert query["source"] == "upload" and query["noise_factor"] == "0.7"
    assert all(len(v) < 20 for v in query.values())
    assert "secret" not in str(query)
    again = reopen(at, "your_digit")  # the link opens the upload tab, empty, with the noise settings
    assert again.segmented_control(key="digit_source").value == "upload"
    assert again.session_state["digit_noise_factor"] == 0.7 and not again.get("progress")


def test_every_page_writes_only_its_own_keys():
    declared = {"denoising": {"noise_factor", "kind", "noise_seed", "digits", "class", "count", "digit_seed", "models"},
                "latent_space": {"z1", "z2", "grid", "extent", "from", "to", "steps", "digit", "samples"}}
    at = open_link("denoising", {"noise_factor": "0.9"})
    assert set(at.query_params) <= declared["denoising"]
    at.switch_page(str(ROOT / "pages" / "latent_space.py")).run()  # the URL carried over, as the browser may
    assert not notices(at)  # what this session wrote on the page before is no link
    at.slider(key="z1").set_value(1.0).run()
    assert set(at.query_params) <= declared["latent_space"] and at.query_params["z1"] == "1"
