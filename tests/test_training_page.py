"""The training bench as a person uses it (AppTest): build, train two epochs, look inside, take it home."""
import numpy as np
import pytest

from tests.apptest import images, open_page


@pytest.fixture(autouse=True)
def measure_fewer_digits(monkeypatch):
    """A finished run is measured for the denoising chart; on 200 digits here, not 10,000 (a minute of both cores)."""
    from ui import training

    monkeypatch.setattr(training, "MEASURE_IMAGES", 200)


def finish(at, timeout=180):
    run = at.session_state["tr_run"]
    assert run.training.join(timeout), "the training did not end"
    at.run()
    assert not at.exception, at.exception
    return run.training


def test_your_own_autoencoder_shows_its_size_and_refuses_one_over_the_cap():
    at = open_page("training")
    at.radio(key="tr_start").set_value("yours").run()
    assert not at.exception and not at.error
    small = at.metric[0].value
    at.slider(key="tr_stages").set_value(3).run()
    at.radio(key="tr_bottleneck").set_value("dense").run()
    at.slider(key="tr_code").set_value(256).run()
    for key in ("tr_f1", "tr_f2", "tr_f3"):
        at.select_slider(key=key).set_value(128).run()
    assert not at.exception
    assert at.metric[0].value != small
    at.toggle(key="tr_skips").set_value(True).run()
    at.radio(key="tr_bottleneck").set_value("channels").run()
    assert not at.exception and not at.error  # 3 stages of 128, channels, skips: under the cap
    at.session_state["tr_f1"] = 128
    from core import models

    over = models.conv_autoencoder_params(stages=3, filters=(128, 128, 128), bottleneck="dense", code_size=256,
                                          skips=True)
    if over > models.MAX_TRAIN_PARAMS:  # the cap is named, and the Start button is off
        at.radio(key="tr_bottleneck").set_value("dense").run()
        assert at.error and f"{models.MAX_TRAIN_PARAMS:,}" in at.error[0].value
        assert at.button(key="tr_start_button").disabled


def test_two_epochs_fill_the_curves_and_the_filmstrip_then_it_joins_the_denoising_page():
    at = open_page("training")
    at.radio(key="tr_start").set_value("seed_ae").run()  # the seed's model: ~2 s an epoch on 5,000 digits
    at.slider(key="tr_epochs").set_value(2).run()
    at.run()  # AppTest: a click right after a change of model is sent against the old widget ids
    at.button(key="tr_start_button").click().run()
    assert not at.exception
    training = finish(at)
    assert training.state == "done" and [h["epoch"] for h in training.history] == [1, 2]
    assert len(training.frames) == 2 and training.frames[0].shape == (8, 28, 28, 1)
    assert at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")  # the loss and PSNR curves
    assert at.slider(key="tr_frame").value == 2  # the filmstrip can be scrubbed over both epochs
    strip = images(at)
    at.slider(key="tr_frame").set_value(1).run()
    assert images(at) != strip  # epoch 1's frame is another picture
    assert any("yours.py" == b.label for b in at.get("download_button"))
    curve = at.session_state["yours"]["curve"]  # measured off the script thread, as the shipped models were
    assert curve.join(60) and curve.error is None and curve.done == curve.total == 18
    assert list(curve.psnr_by_factor) == ["gaussian", "salt_and_pepper"]
    assert list(curve.psnr_by_factor["gaussian"]) == [f"0.{i}" for i in range(1, 10)]
    at.run()
    assert any(c.value.startswith("Measured on the 200 test digits") and "it has seen" in c.value for c in at.caption)
    assert any("python -m core.train" in c.value for c in at.code)

    at.switch_page("pages/denoising.py").run()
    assert not at.exception
    assert "Yours (trained on the training bench)" in at.multiselect(key="models").options
    at.multiselect(key="models").set_value(["seed_ae", "yours"]).run()
    assert not at.exception and len(images(at)) == 4


def test_stop_stops_the_thread_and_keeps_the_model():
    at = open_page("training")
    at.radio(key="tr_start").set_value("seed_ae").run()
    at.slider(key="tr_epochs").set_value(20).run()
    at.run()  # AppTest: a click right after a change of model is sent against the old widget ids
    at.button(key="tr_start_button").click().run()
    run = at.session_state["tr_run"]
    for _ in range(600):  # until the first epoch is done
        if run.training.history:
            break
        run.training.join(0.2)
    at.run()
    at.button(key="tr_stop").click().run()
    training = finish(at, 120)
    assert training.state == "stopped" and not training.is_alive() and len(training.history) < 20
    out = training.model(np.zeros((1, 28, 28, 1), np.float32), training=False)
    assert tuple(out.shape) == (1, 28, 28, 1)


def test_look_inside_a_shipped_model_layer_by_layer():
    at = open_page("training")
    at.radio(key="tr_inside_model").set_value("seed_ae").run()
    assert not at.exception
    layers = at.select_slider(key="tr_layer").options
    assert "code_128d" in layers
    at.select_slider(key="tr_layer").set_value("code_128d").run()
    assert not at.exception
    assert any("bottleneck" in m.value for m in at.markdown)


def test_mnist_found_offline_is_offered_and_its_loss_is_drawn_within_the_epoch(monkeypatch):
    """Where MNIST's training set is on the machine the page offers it (here a small stand-in for it), and
    on it the loss is reported every 100 batches as well as every epoch."""
    from core import data

    x = np.repeat(data.load_sample()[0][:100], 17, axis=0)  # 1,700 digits: 106 batches of 16
    monkeypatch.setattr(data, "offline_mnist", lambda: "a test stand-in")
    monkeypatch.setattr(data, "load_mnist", lambda path=None: (((x, np.zeros(len(x), np.uint8)), (x, x)), "stand-in"))
    at = open_page("training")
    assert "a test stand-in" in at.radio(key="tr_data").options[1]
    at.radio(key="tr_data").set_value("mnist").run()
    at.radio(key="tr_start").set_value("seed_ae").run()
    at.slider(key="tr_epochs").set_value(1).run()
    at.select_slider(key="tr_batch").set_value(16).run()
    at.run()  # AppTest: a click right after a change of model is sent against the old widget ids
    at.button(key="tr_start_button").click().run()
    training = finish(at)
    assert training.state == "done" and len(training.x_train) == 1_700 and len(training.x_val) == 10_000
    assert [b["step"] for b in training.batches] == [100]


def test_start_comes_before_the_diagram_which_is_folded_away():
    """In front of a class Start must share the screen with the controls: the model's diagram (a screen tall) and
    its layer table are in a folded expander, and only the build and train controls come before the Start row."""
    def walk(node):
        for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
            yield child
            yield from walk(child)

    def kinds(elements):
        return [type(getattr(e, "proto", None)).__name__ for e in elements]

    at = open_page("training")
    folded = next(e for e in at.expander if e.label.startswith("Diagram"))
    assert not folded.proto.expanded
    assert "18 layers" in folded.label  # the U-Net: its layer table's rows
    inside = list(walk(folded))
    assert "GraphVizChart" in kinds(inside) and "Dataframe" in kinds(inside)
    assert kinds(walk(at.main)).count("GraphVizChart") == 1  # and nowhere else
    order = [getattr(e, "key", None) or type(e).__name__ for e in walk(at.main)]
    start = order.index("tr_start_button")
    assert order.index("tr_epochs") < start < order.index("tr_inside_model")  # controls, then Start, then results


def test_measuring_yours_shows_how_far_it_has_come():
    import types

    halfway = types.SimpleNamespace(done=7, total=18, images=10_000, error=None, queue=None, stopped=False,
                                    finished=False, psnr_by_factor={"gaussian": {"0.1": 30.0}})  # PsnrCurve's contract
    at = open_page("training")
    at.session_state["yours"] = {"id": "x", "forward": None, "epochs": 1, "curve": halfway}
    at.run()
    assert not at.exception
    bars = at.get("progress")
    assert any("Measuring yours on the 10,000 test digits for the denoising chart: 7 of 18" in b.proto.text
               for b in bars)


def test_look_inside_draws_the_rebuilt_digit_large_and_quotes_the_chosen_model(monkeypatch):
    from ui import models

    drawn = []
    png = models.png
    monkeypatch.setattr(models, "png", lambda image: drawn.append(image.shape) or png(image))
    at = open_page("training")
    at.radio(key="tr_inside_model").set_value("unet").run()
    at.number_input(key="tr_inside_digit").set_value(4321).run()  # a digit no other test has cached
    layers = at.select_slider(key="tr_layer").options
    at.select_slider(key="tr_layer").set_value(layers[-1]).run()
    assert not at.exception
    assert (224, 224) in drawn  # the output, one 28×28 picture: 8 px a pixel, not a 48 px thumbnail
    caption = at.caption[-1].value
    assert "U-Net" in caption and "60 %" not in caption and "Seed" not in caption
    assert f"`{layers[-1]}`" in caption and "bottleneck (`bottleneck_conv2`)" in caption
