"""The ResNet page as Streamlit runs it: sliders that offer only what builds (the blocks slider's cap named),
the course-defaults button, the diagram views (every layer in a scrolling box) and the skip-connection demos."""
import itertools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import i18n, models

ROOT = Path(__file__).resolve().parent.parent
EN, JA = i18n.translator("en"), i18n.translator("ja")
FILTERS = (8, 16, 32, 64, 128)  # the page's choices
DIAGRAM_HEIGHT = 520


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


def captions(at):
    return [c.value for c in at.caption]


def diagram_box(at):
    """The fixed height in pixels of the box the diagram sits in, or None where it takes the height it needs."""
    def find(node, height):
        for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
            if getattr(child, "type", None) == "graphviz_chart":
                return height
            proto = getattr(child, "proto", None)
            if type(child).__name__ == "Block" and proto is not None and proto.HasField("height_config") \
                    and proto.height_config.pixel_height:
                found = find(child, proto.height_config.pixel_height)
            else:
                found = find(child, height)
            if found != "absent":
                return found
        return "absent"
    found = find(at.main, None)
    assert found != "absent", "no diagram on the page"
    return found


def test_seed_defaults_sliders_caps_and_back():
    at = open_page()
    assert metrics(at)[:3] == ["11,188,354", "11,180,546", "65"]
    assert at.success and len(at.dataframe) == 1
    assert graphviz(at)[0].count("label=projection") == 3  # block view: three projection shortcuts
    # the course's settings build 5 blocks but not 6 (179 million parameters): the slider stops at 5, and says why
    assert at.slider(key="rn_blocks").max == 5
    assert EN("resnet.blocks_cap.params", filters=64, sub=2, n=5, more=6, cap="60,000,000") in captions(at)

    at.slider(key="rn_size").set_value(28).run()
    at.select_slider(key="rn_filters").set_value(8).run()
    at.slider(key="rn_blocks").set_value(3).run()
    assert not at.exception
    small = models.resnet_param_count(label_num=2, num_filters=8, num_blocks=3, num_sub_blocks=2,
                                      input_shape=(28, 28, 3))[0]
    assert metrics(at)[0] == f"{small:,}" and not at.success
    assert at.slider(key="rn_blocks").max == 5  # 28 px halves 5 times, down to 1 px
    assert EN("resnet.blocks_cap.size", size=28, n=5, path="28 → 14 → 7 → 4 → 2 → 1") in captions(at)

    at.slider(key="rn_size").set_value(64).run()
    blocks = at.slider(key="rn_blocks")  # a new maximum keeps the value
    assert blocks.max == 6 and blocks.value == 3 and not [c for c in captions(at) if "at most" in c]
    at.slider(key="rn_blocks").set_value(6).run()
    assert not at.error and len(metrics(at)) == 6
    at.slider(key="rn_size").set_value(28).run()  # 6 blocks no longer fit: lowered to 5, and said so
    assert at.slider(key="rn_blocks").value == 5 and not at.error and len(metrics(at)) == 6
    assert [i.value for i in at.info] == [EN("resnet.blocks_lowered", asked=6, n=5)]
    at.slider(key="rn_sub").set_value(1).run()
    assert not at.info  # said once, when it happened

    at.toggle(key="rn_residual").set_value(False).run()
    at.slider(key="rn_blocks").set_value(2).run()
    at.radio(key="rn_view").set_value("layer").run()
    assert not at.exception and not at.error
    dot = graphviz(at)[0]
    assert '"block2_sub1_conv2"' in dot and "_add" not in dot  # the plain network: no add layers
    assert diagram_box(at) == DIAGRAM_HEIGHT  # every layer scrolls in its own box
    at.radio(key="rn_view").set_value("block").run()
    assert diagram_box(at) is None  # 2 blocks of 1 sub-block: short enough for the page
    at.slider(key="rn_blocks").set_value(5).run()
    at.slider(key="rn_sub").set_value(2).run()
    assert diagram_box(at) == DIAGRAM_HEIGHT  # 10 sub-blocks: over 1,500 px of boxes

    at.button(key="rn_defaults").click().run()
    assert not at.exception
    assert metrics(at)[0] == "11,188,354" and at.slider(key="rn_size").value == 128
    assert graphviz(at)[0].count("label=projection") == 3 and '"block4_sub2"' in graphviz(at)[0]
    assert diagram_box(at) is None  # the course's 8 sub-blocks: the page's main picture, shown whole


@pytest.mark.parametrize("size, most", [(28, 5), (33, 6), (100, 6)])
def test_every_offered_block_count_builds(size, most):
    """Cheap settings (8 filters, 1 sub-block, 1 channel) at sizes around the cap: every value the slider offers
    builds, with no error message."""
    at = open_page(rn_size=size, rn_filters=8, rn_sub=1, rn_channels=1, rn_blocks=1)
    slider = at.slider(key="rn_blocks")
    assert slider.max == most
    for blocks in range(1, int(slider.max) + 1):
        at.slider(key="rn_blocks").set_value(blocks).run()
        assert not at.exception and not at.error, (size, blocks, [e.value for e in at.error])
        total = models.resnet_param_count(2, 8, blocks, 1, (size, size, 1))[0]
        assert metrics(at)[0] == f"{total:,}"


def test_the_parameter_cap_is_named_before_it_is_reached():
    at = open_page(rn_size=28, rn_filters=8, rn_sub=1, rn_blocks=1)  # one block stays cheap to build
    at.select_slider(key="rn_filters").set_value(128).run()
    at.slider(key="rn_sub").set_value(4).run()
    assert not at.error and at.slider(key="rn_blocks").max == 3
    assert EN("resnet.blocks_cap.params", filters=128, sub=4, n=3, more=4, cap="60,000,000") in captions(at)


def test_a_link_asking_for_too_many_blocks_is_lowered_in_one_sentence():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"num_blocks": "6", "input_size": "28", "num_filters": "8"})
    at.switch_page(str(ROOT / "pages" / "resnet.py")).run()
    assert not at.exception and not at.error
    assert at.slider(key="rn_blocks").value == 5 and [i.value for i in at.info] == [EN("resnet.blocks_lowered", asked=6, n=5)]
    assert dict(at.query_params)["num_blocks"] == "5"  # the URL says what is shown


def test_the_cap_matches_what_builds_across_the_pages_ranges():
    """resnet_block_cap against the validation itself, over every filter, sub-block, channel and residual
    setting the page offers and input sizes on both sides of each halving: the cap builds, one more does not,
    and each refusal is one sentence, also inside the page's message."""
    for size in (28, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 256):
        for filters, sub, channels, residual, labels in itertools.product(FILTERS, range(1, 5), (1, 3), (True, False),
                                                                          (1, 1000)):
            kw = {"label_num": labels, "num_filters": filters, "num_sub_blocks": sub,
                  "input_shape": (size, size, channels), "residual": residual}
            cap, why = models.resnet_block_cap(**kw)
            assert 3 <= cap <= 6
            models.check_resnet_settings(num_blocks=cap, **kw)
            if why is None:
                assert cap == models.RESNET_MOST_BLOCKS
                continue
            with pytest.raises(ValueError, match="below 1×1" if why == "size" else "cap") as err:
                models.check_resnet_settings(num_blocks=cap + 1, **kw)
            for text in (str(err.value), EN("resnet.invalid", detail=str(err.value)),
                         JA("resnet.invalid", detail=str(err.value))):
                assert text.endswith(".") and ". " not in text and "。" not in text[:-1], text


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
