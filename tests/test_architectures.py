"""The seed's functional example and ResNet, exactly; the Sequential twin; diagrams; invalid settings;
the skip-connection experiments; and the Architectures page as Streamlit runs it."""
from pathlib import Path

import numpy as np
import pydot
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import arch, data, diagrams, models

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(label_num=10, num_filters=8, num_blocks=3, num_sub_blocks=2, input_shape=(28, 28, 1))


def test_functional_example_is_the_seeds_and_sequential_is_its_twin():
    fn, sq = models.functional_example(), models.sequential_example()
    assert fn.count_params() == sq.count_params() == 15_047
    assert [type(layer).__name__ for layer in fn.layers] == [
        "InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "GlobalAveragePooling2D", "Dense", "Dense"]
    assert arch.same_network(fn, sq)
    sq.set_weights(fn.get_weights())  # same weights → same function
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(fn(x)), np.asarray(sq(x)), rtol=1e-5, atol=1e-6)
    assert not arch.same_network(fn, models.functional_example(10))


def test_seed_resnet_counts_exactly():
    m = models.resnet(label_num=2)
    assert m.count_params() == 11_188_354
    assert arch.trainable_count(m) == 11_180_546
    assert len(m.layers) == 65
    assert models.resnet_param_count() == (11_188_354, 11_180_546)
    assert models.resnet_param_count(label_num=10)[0] == 11_192_458
    # the seed's flag: only the first sub-block of blocks 2…4 strides, and only there a projection
    strided = [layer.name for layer in m.layers if layer.name.endswith("_conv1") and layer.strides == (2, 2)]
    assert strided == ["block2_sub1_conv1", "block3_sub1_conv1", "block4_sub1_conv1"]
    assert [layer.name for layer in m.layers if layer.name.endswith("_projection")] == [
        "block2_sub1_projection", "block3_sub1_projection", "block4_sub1_projection"]
    assert m.get_layer("block4_sub2_conv2").filters == 512 and m.output_shape == (None, 2)


def test_label_num_10_and_plain_twin():
    assert models.resnet(label_num=10).count_params() == 11_192_458
    res, plain = models.resnet(**SMALL), models.resnet(residual=False, **SMALL)
    assert arch.depth_of(res) == arch.depth_of(plain) == 2 + 2 * 3 * 2
    assert not any(type(layer).__name__ == "Add" for layer in plain.layers)
    assert [layer.output.shape for layer in plain.layers if layer.name.endswith("_relu2")] == \
           [layer.output.shape for layer in res.layers if layer.name.endswith("_relu2")]


@pytest.mark.parametrize("kw", [dict(SMALL), dict(SMALL, residual=False), dict(SMALL, num_blocks=1, num_sub_blocks=4),
                                dict(label_num=3, num_filters=16, num_blocks=5, num_sub_blocks=1, input_shape=(97, 97, 3))])
def test_param_count_worked_out_equals_the_built_model(kw):
    m = models.resnet(**kw)
    assert models.resnet_param_count(**kw) == (m.count_params(), arch.trainable_count(m))


INVALID = {
    "too many blocks for the input": (dict(num_blocks=6, input_shape=(28, 28, 1)), "below 1×1"),
    "zero filters": (dict(num_filters=0), "num_filters"),
    "negative blocks": (dict(num_blocks=-1), "num_blocks"),
    "zero sub-blocks": (dict(num_sub_blocks=0), "num_sub_blocks"),
    "zero classes": (dict(label_num=0), "label_num"),
    "not a whole number": (dict(num_filters=8.5), "whole number"),
    "zero-pixel input": (dict(input_shape=(0, 28, 1)), "input height"),
    "no channels": (dict(input_shape=(28, 28, 0)), "input channels"),
    "shape without channels": (dict(input_shape=(28, 28)), "height, width, channels"),
    "over the parameter cap": (dict(num_filters=128, num_blocks=5, num_sub_blocks=4), "cap"),
}


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_invalid_settings_raise_before_building(case, monkeypatch):
    kw, words = INVALID[case]

    def no_layers(*a, **k):
        raise AssertionError("a layer was built")
    monkeypatch.setattr(models.layers, "Conv2D", no_layers)
    monkeypatch.setattr(models.keras, "Input", no_layers)
    with pytest.raises(ValueError, match=words) as err:
        models.resnet(**kw)
    assert len(str(err.value)) > 30  # a sentence, not a code


def _edges(dot):
    g = pydot.graph_from_dot_data(dot)[0]
    return g, {(e.get_source().strip('"'), e.get_destination().strip('"')): e for e in g.get_edges()}


def test_layer_diagram_has_every_layer_shape_params_and_skip_edge():
    m = models.resnet(**SMALL)
    dot = diagrams.layer_dot(m)
    g, edges = _edges(dot)
    nodes = {n.get_name().strip('"') for n in g.get_nodes()} - {"node", "edge"}
    assert nodes == {layer.name for layer in m.layers}
    adds = [layer for layer in m.layers if type(layer).__name__ == "Add"]
    assert len(adds) == 6
    for add in adds:
        sources = [node.input_tensors for node in add._inbound_nodes][0]
        for tensor in sources:
            assert (tensor._keras_history.operation.name, add.name) in edges
    skips = [k for k, e in edges.items() if e.get("style") == "dashed"]
    assert ("block1_sub1_relu2", "block1_sub2_add") in skips
    assert ("block2_sub1_projection", "block2_sub1_add") in skips
    assert "out 14×14×8" in dot and "1,168 params" in dot and "dpi=72" in dot


def test_diagram_of_every_lab_model():
    for build in (models.functional_example, models.sequential_example, models.seed_autoencoder,
                  models.unet_denoiser):
        m = build()
        g, edges = _edges(diagrams.layer_dot(m))
        names = {n.get_name().strip('"') for n in g.get_nodes()}
        assert {layer.name for layer in m.layers} <= names
        assert len(edges) >= len(m.layers) - 1


def test_composite_models_read_as_their_networks_opened_up():
    """A VAE and the geometric detector wire whole networks together in `call`: their summaries and
    diagrams open those networks up, and the parameters add up to the model's."""
    from core.train import RECIPES

    vae = RECIPES["vae"].build()
    rows = arch.summary_rows(vae)
    assert sum(r["parameters"] for r in rows) == vae.count_params()
    by_name = {r["layer"]: r for r in rows}
    assert by_name["encoder/z_mean"]["output shape"] == by_name["sampling"]["output shape"] == "2"
    assert by_name["decoder/logits"]["output shape"] == "28×28×1"
    g, edges = _edges(diagrams.layer_dot(vae))
    assert {("encoder/z_mean", "sampling"), ("encoder/z_log_var", "sampling"), ("sampling", "decoder/z")} <= set(edges)
    assert {s.get_name().strip('"') for s in g.get_subgraphs()} == {"cluster_encoder", "cluster_decoder"}
    assert arch.macs(vae) > arch.macs(vae.decoder) > 0

    geo = RECIPES["geometric_0"].build()
    assert sum(r["parameters"] for r in arch.summary_rows(geo)) == geo.count_params()
    _, edges = _edges(diagrams.layer_dot(geo))
    assert ("transformation_net/features", "mahalanobis") in edges
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(arch.functional(geo)(x)[1]), np.asarray(geo(x)), rtol=1e-5)  # same weights


@pytest.mark.parametrize("residual", [True, False])
def test_block_view_one_node_per_sub_block(residual):
    m = models.resnet(residual=residual, **SMALL)
    g, edges = _edges(diagrams.block_dot(m))
    nodes = [n.get_name().strip('"') for n in g.get_nodes() if n.get_name() not in ("node", "edge")]
    assert nodes == ["stem"] + [f"block{i}_sub{j}" for i in (1, 2, 3) for j in (1, 2)] + ["head"]
    g_edges = g.get_edges()
    skips = [e for e in g_edges if e.get("style") == "dashed"]
    assert len(skips) == (6 if residual else 0)
    assert sum(e.get("label") == "projection" for e in skips) == (2 if residual else 0)
    dot = diagrams.block_dot(m)
    assert ("projection shortcut: 1×1 conv /2" in dot) == residual


def test_seed_block_view_and_stage_table():
    m = models.resnet()
    g, _ = _edges(diagrams.block_dot(m))
    assert len([n for n in g.get_nodes() if n.get_name() not in ("node", "edge")]) == 8 + 2
    rows = arch.stage_table(m)
    assert [r["stage"] for r in rows] == ["stem", "block1", "block2", "block3", "block4", "head"]
    assert sum(r["parameters"] for r in rows) == 11_188_354
    assert [r["output shape"] for r in rows] == ["64×64×64", "64×64×64", "32×32×128", "16×16×256", "8×8×512", "2"]
    assert rows[0]["receptive field"] == "7×7" and rows[1]["receptive field"] == "23×23"
    assert arch.macs(m) > 2e9 and arch.memory(m, 32)["weights"] == 4 * 11_188_354


@pytest.mark.skipif(not diagrams.dot_available(), reason="Graphviz's dot is not installed")
def test_render_svg_and_png():
    dot = diagrams.block_dot(models.resnet(**SMALL))
    assert b"<svg" in diagrams.render(dot, "svg")
    assert diagrams.render(dot, "png").startswith(b"\x89PNG")


def test_render_without_dot_says_so(monkeypatch):
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    assert not diagrams.dot_available()
    with pytest.raises(diagrams.DiagramUnavailable, match="dot"):
        diagrams.render("digraph G {}", "svg")


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_sample()
    return data.to_float(x[:64]), y[:64]


def test_gradient_norms_one_finite_value_per_layer(digits):
    x, y = digits
    rows = arch.gradient_comparison(8, x, y)
    for net in ("residual", "plain"):
        g = [r["grad_norm"] for r in rows if r["network"] == net]
        assert len(g) == 8 and arch.is_finite(g) and min(g) > 0


def test_plain_first_layer_gradient_below_residual_at_depth_20(digits):
    x, y = digits
    res, plain = arch.demo_pair(20)
    r = arch.gradient_norms(res, x, y, training=False)
    p = arch.gradient_norms(plain, x, y, training=False)
    assert len(r) == len(p) == 20
    assert p["stem_conv"] < r["stem_conv"] / 10


def test_train_race_learns_and_can_be_stopped(digits):
    x, y = digits
    h = arch.train_race(8, x, y, steps=20, batch_size=32)
    assert h["steps"] == 20 and len(h["residual"]) == len(h["plain"]) == 20 and not h["stopped"]
    assert arch.is_finite(h["residual"] + h["plain"])
    seen = []
    h = arch.train_race(8, x, y, steps=40, batch_size=32, every=5,
                        on_step=lambda step, hist: seen.append(step) or step < 10)
    assert seen == [5, 10] and h["steps"] == 10 and h["stopped"]


# ─── The page ───────────────────────────────────────────────────────────────────────────────────────

def open_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(str(ROOT / "pages" / "architectures.py")).run()
    assert not at.exception, at.exception
    return at


def graphviz(at):
    return [e.proto.spec for e in at.get("graphviz_chart")]


def test_architectures_page_shows_both_ways_and_every_model():
    st.cache_data.clear()
    at = open_page()
    assert "15,047" in at.success[0].value
    assert sum("15,047 parameters" in c.value and "6 layers" in c.value for c in at.caption) == 2
    assert len(at.dataframe) >= 2
    charts = graphviz(at)
    assert len(charts) == 2 and '"conv16"' in charts[0] and '"block4_sub2_add"' in charts[1]
    assert at.metric[0].value == "11,188,354"
    # A download that reran the page replaced the next button's deferred file: clicking DOT then SVG gave no SVG.
    downloads = at.get("download_button")
    assert len(downloads) == 6 and all(d.proto.ignore_rerun for d in downloads)
    options = at.selectbox(key="arch_model").options
    assert len(options) >= 5  # the two examples, the ResNet, the shipped denoisers
    at.selectbox(key="arch_model").set_value("unet").run()
    assert not at.exception
    assert '"up1_skip"' in graphviz(at)[1]
    # the model shown above too (its download buttons once clashed), and the models built of networks
    for name, params in (("functional_example", "15,047"), ("vae", None), ("geometric_0", None), ("oneclass_0", None)):
        at.selectbox(key="arch_model").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert params is None or at.metric[0].value == params
        assert int(at.metric[2].value) == len(at.dataframe[-1].value) > 3
    options = at.selectbox(key="arch_model")
    assert options.format_func("oneclass_3").startswith("One-class VAE, normal digit 3")
    at.session_state["lang"] = "ja"
    at.run()
    assert not at.exception and at.title[0].value.startswith("アーキテクチャ")
