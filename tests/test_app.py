"""The pages as Streamlit runs them (AppTest): widgets move, images change, faults read as messages."""
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import data, pretrained
from tests.apptest import images, open_page

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def open_denoising():
    return open_page("denoising")


def test_home_renders_models_and_switches_language():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Unsupervised Lab"
    names = list(pretrained.load_manifest())
    families = ("oneclass", "geometric")  # ten one-class models of a kind share a card
    cards = (len([n for n in names if n.rsplit("_", 1)[0] not in families])
             + sum(any(n.rsplit("_", 1)[0] == f for n in names) for f in families))
    assert sum(":material/verified: " in m.value for m in at.markdown) == cards  # the icon on every card
    at.selectbox(key="lang").set_value("ja").run()
    assert not at.exception
    assert at.title[0].value.startswith("Unsupervised Lab（")


def test_slider_changes_noisy_and_reconstructed_digits():
    at = open_denoising()
    before = images(at)
    assert len(before) == 4  # original, noisy, and by default the seed's model beside our best
    assert at.multiselect(key="models").value == ["seed_ae", pretrained.best_denoiser()]
    at.slider(key="noise_factor").set_value(0.8).run()
    assert not at.exception
    after = images(at)
    assert after[0] == before[0]  # the originals stay
    assert all(a != b for a, b in zip(after[1:], before[1:]))  # noisy and every reconstruction change
    assert any("PSNR" in c.value for c in at.caption)


def test_noise_kind_new_noise_and_language():
    at = open_denoising()
    first = images(at)
    at.radio(key="noise_kind").set_value("salt_and_pepper").run()
    second = images(at)
    assert second[1] != first[1]
    at.button[0].click().run()  # new noise
    assert images(at)[1] != second[1]
    # AppTest drops the entrypoint's sidebar from its tree after switch_page; set the switch's state
    at.session_state["lang"] = "ja"
    at.run()
    assert not at.exception and at.title[0].value == "ノイズ除去オートエンコーダ"
    # the PSNR chart names its curves as the picker does, in the page's language, never by code name
    import json

    from core import i18n

    ja = i18n.translator("ja")
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    curves = {p["model"] for p in spec["layer"][0]["data"]["values"]}
    assert curves == {ja("model.seed_ae"), ja(f"model.{pretrained.best_denoiser()}"), ja("denoise.row.noisy")}
    assert "塩" in spec["layer"][0]["encoding"]["x"]["title"]  # salt and pepper, as chosen above


def test_digit_choices_and_bad_indices():
    at = open_denoising()
    at.slider(key="digit_count").set_value(25).run()
    assert not at.exception
    at.radio(key="digit_mode").set_value("indices").run()
    at.text_input(key="digit_indices").input("3, x, 99999").run()
    assert not at.exception
    assert "whole numbers" in at.warning[0].value
    at.text_input(key="digit_indices").input("1, 2, 10000").run()
    assert "between 0 and 9999" in at.warning[0].value
    at.text_input(key="digit_indices").input("7, 8").run()
    assert not at.warning and not at.exception


def test_one_model_only():
    at = open_denoising()
    at.multiselect(key="models").set_value(["unet"]).run()
    assert not at.exception and len(images(at)) == 3


def test_damaged_weights_named_others_still_work(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    shutil.copytree(data.PRETRAINED_DIR, folder)
    (folder / "unet.weights.h5").write_bytes(b"truncated")
    monkeypatch.setattr(data, "PRETRAINED_DIR", folder)
    at = open_denoising()
    at.multiselect(key="models").set_value(pretrained.denoisers()).run()
    assert len(at.error) == 1
    assert "unet.weights.h5" in at.error[0].value and "python -m core.train unet" in at.error[0].value
    assert len(images(at)) == 1 + len(pretrained.denoisers())  # original, noisy, and the others still shown


def test_missing_sample_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SAMPLE_PATH", tmp_path / "mnist_test.npz")
    at = open_denoising()
    assert "python -m core.data --write-sample" in at.error[0].value
