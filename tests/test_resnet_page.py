"""The ResNet page as Streamlit runs it: sliders, the course-defaults button, invalid settings as a
message, the diagram views and the skip-connection demos."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import models

ROOT = Path(__file__).resolve().parent.parent


def open_page(**state):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    for k, v in state.items():
        at.session_state[k] = v
    at.switch_page(str(ROOT / "pages" / "resnet.py")).run()
    assert not at.exception, at.exception
    return at


def metrics(at):
    return [m.value for m in at.metric]


def graphviz(at):
    return [e.proto.spec for e in at.get("graphviz_chart")]


def test_seed_defaults_sliders_invalid_and_back():
    at = open_page()
    assert metrics(at)[:3] == ["11,188,354", "11,180,546", "65"]
    assert at.success and len(at.dataframe) == 1
    assert graphviz(at)[0].count("label=projection") == 3  # block view: three projection shortcuts

    at.slider(key="rn_size").set_value(28).run()
    at.select_slider(key="rn_filters").set_value(8).run()
    at.slider(key="rn_blocks").set_value(3).run()
    assert not at.exception
    small = models.resnet_param_count(label_num=2, num_filters=8, num_blocks=3, num_sub_blocks=2,
                                      input_shape=(28, 28, 3))[0]
    assert metrics(at)[0] == f"{small:,}" and not at.success

    at.slider(key="rn_blocks").set_value(6).run()  # 28 px cannot be halved 6 times
    assert not at.exception
    assert "below 1×1" in at.error[0].value and not at.metric

    at.toggle(key="rn_residual").set_value(False).run()
    at.slider(key="rn_blocks").set_value(2).run()
    at.radio(key="rn_view").set_value("layer").run()
    assert not at.exception and not at.error
    dot = graphviz(at)[0]
    assert '"block2_sub2_conv2"' in dot and "_add" not in dot  # the plain network: no add layers

    at.button(key="rn_defaults").click().run()
    assert not at.exception
    assert metrics(at)[0] == "11,188,354" and at.slider(key="rn_size").value == 128
    assert '"block4_sub2_add"' in graphviz(at)[0]


def test_skip_connection_demos_run_on_buttons():
    at = open_page(rn_size=28, rn_filters=8, rn_blocks=2, rn_channels=1)
    at.select_slider(key="rn_depth").set_value(8).run()
    at.button(key="rn_grad_run").click().run()
    assert not at.exception
    assert any("First layer: residual" in c.value for c in at.caption)
    assert at.info  # the reading of the chart
    at.slider(key="rn_steps").set_value(50).run()
    at.button(key="rn_race_run").click().run()
    assert not at.exception
    assert any(c.value.startswith("50 steps in") for c in at.caption)
    at.session_state["lang"] = "ja"
    at.run()
    assert not at.exception and at.title[0].value.startswith("ResNet：")
    assert any("50 ステップ" in c.value for c in at.caption)  # both results are kept, by settings
