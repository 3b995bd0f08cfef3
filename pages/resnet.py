"""ResNet: the seed's loop with its settings on sliders, its size and shape per stage, its diagram, and
why the skip connections matter (gradients at initialisation, a short training race)."""
import json

import pandas as pd
import streamlit as st

from core import arch, diagrams, models
from ui import jobs, links, page, style
from ui import models as cached  # the page's cached builds, which the warm-up fills too

t = page.setup()
ss = st.session_state

FILTERS = (8, 16, 32, 64, 128)
SEED = {"rn_blocks": 4, "rn_sub": 2, "rn_filters": 64, "rn_size": 128, "rn_channels": 3, "rn_labels": 2,
        "rn_residual": True}
GRAD_BATCH = 64
DIAGRAM_HEIGHT = 520  # px: a tall diagram's scrolling box
BOXED_SUB_BLOCKS = 8  # the block view of more sub-blocks than the course's scrolls in that box too (~1,300 px at 8)
COLORS = ["#1e88e5", "#e53935"]  # residual, plain
SEED_CODE = """\
def resnet_model(label_num):          # the seed's loop, as core.models.resnet keeps it
    num_filters = 64
    num_blocks = 4
    num_sub_blocks = 2
    input_shape = (128, 128, 3)
    inputs = Input(shape=input_shape)
    x = Conv2D(num_filters, kernel_size=7, padding='same', strides=2, kernel_initializer='he_normal')(inputs)
    x = BatchNormalization()(x)
    x = Activation('relu')(x)
    for i in range(num_blocks):
        for j in range(num_sub_blocks):
            strides = 1
            is_first_layer_but_not_first_block = j == 0 and i > 0
            if is_first_layer_but_not_first_block:
                strides = 2
            y = Conv2D(num_filters, kernel_size=3, padding='same', strides=strides, kernel_initializer='he_normal')(x)
            y = BatchNormalization()(y)
            y = Activation('relu')(y)
            y = Conv2D(num_filters, kernel_size=3, padding='same', kernel_initializer='he_normal')(y)
            y = BatchNormalization()(y)
            if is_first_layer_but_not_first_block:
                x = Conv2D(num_filters, kernel_size=1, padding='same', strides=2, kernel_initializer='he_normal')(x)
            x = keras.layers.add([x, y])
            x = Activation('relu')(x)
        num_filters = 2 * num_filters
    y = GlobalAveragePooling2D()(x)
    outputs = Dense(label_num, activation='softmax', kernel_initializer='he_normal')(y)
    return Model(inputs=inputs, outputs=outputs)

plot_model(res_model, to_file='model.png', show_shapes=True)   # the seed: "pydot not found"
"""


def seed_defaults():
    ss.update(SEED)


def network_colours():
    """The residual/plain colour scale, its legend in the page's language (the data keep the code names)."""
    residual, plain = (json.dumps(t(f"resnet.net.{n}"), ensure_ascii=False) for n in ("residual", "plain"))
    return {"field": "network", "type": "nominal", "scale": {"domain": ["residual", "plain"], "range": COLORS},
            "legend": {"title": None, "labelExpr": f"datum.label == 'residual' ? {residual} : {plain}"}}


def loss_chart(history, where):
    rows = [{"step": i + 1, "network": name, "loss": v}
            for name in ("residual", "plain") for i, v in enumerate(arch.smooth(history[name]))]
    where.vega_lite_chart(style.chart({
        "height": 260, "data": {"values": rows}, "mark": {"type": "line"},
        "encoding": {"x": {"field": "step", "type": "quantitative", "title": t("resnet.chart.step")},
                     "y": {"field": "loss", "type": "quantitative", "title": t("resnet.chart.loss")},
                     "color": network_colours()},
    }), width="stretch")


st.title(t("resnet.title"))
st.caption(t("resnet.lead"))

# ─── Settings ────────────────────────────────────────────────────────────────────────────────────────
LINK = (
    links.Param("num_blocks", "rn_blocks", SEED["rn_blocks"], links.integer(1, 6)),
    links.Param("num_sub_blocks", "rn_sub", SEED["rn_sub"], links.integer(1, 4)),
    links.Param("num_filters", "rn_filters", SEED["rn_filters"], links.choice(FILTERS)),
    links.Param("input_size", "rn_size", SEED["rn_size"], links.integer(28, 256)),
    links.Param("channels", "rn_channels", SEED["rn_channels"], links.choice((1, 3))),
    links.Param("label_num", "rn_labels", SEED["rn_labels"], links.integer(1, 1000)),
    links.Param("residual", "rn_residual", SEED["rn_residual"], links.flag, links.show_flag),
    links.Param("view", "rn_view", "block", links.choice(("block", "layer"))),
    links.Param("depth", "rn_depth", 20, links.choice(arch.DEPTHS)),
    links.Param("bn", "rn_bn_mode", "train", links.choice(("train", "init"))),
    links.Param("steps", "rn_steps", 200, links.choice(range(50, 401, 50))),
)
links.restore("resnet", LINK, t)
links.defaults(LINK)
# The blocks slider offers only what the other settings can build (its state is read before their widgets
# exist, as it stands in session state): a link or a change elsewhere that asks for more is lowered, and said so.
cap, capped_by = models.resnet_block_cap(
    label_num=int(ss.rn_labels), num_filters=int(ss.rn_filters), num_sub_blocks=int(ss.rn_sub),
    input_shape=(int(ss.rn_size), int(ss.rn_size), int(ss.rn_channels)), residual=bool(ss.rn_residual))
asked = int(ss.rn_blocks)
ss.rn_blocks = min(asked, cap)  # set every run: a new maximum makes a new widget, which would start at 1
c1, c2, c3, c4 = st.columns(4)
num_blocks = c1.slider(t("resnet.num_blocks"), 1, cap, key="rn_blocks", help=t("resnet.num_blocks_help"))
if capped_by == "size":
    c1.caption(t("resnet.blocks_cap.size", size=int(ss.rn_size), n=cap,
                 path=" → ".join(map(str, models.resnet_halvings(int(ss.rn_size))))))
elif capped_by == "params":
    c1.caption(t("resnet.blocks_cap.params", filters=int(ss.rn_filters), sub=int(ss.rn_sub), n=cap, more=cap + 1,
                 cap=f"{models.RESNET_MAX_PARAMS:,}"))
num_sub = c2.slider(t("resnet.num_sub_blocks"), 1, 4, key="rn_sub")
num_filters = c3.select_slider(t("resnet.num_filters"), FILTERS, key="rn_filters", help=t("resnet.num_filters_help"))
size = c4.slider(t("resnet.input_size"), 28, 256, key="rn_size")
c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
channels = c1.radio(t("resnet.channels"), (1, 3), horizontal=True, key="rn_channels")
labels = c2.number_input(t("resnet.label_num"), 1, 1000, key="rn_labels")
residual = c3.toggle(t("resnet.residual"), key="rn_residual", help=t("resnet.residual_help"))
c4.button(t("resnet.seed_defaults"), on_click=seed_defaults, icon=":material/restart_alt:", key="rn_defaults")
if asked > cap:
    st.info(t("resnet.blocks_lowered", asked=asked, n=cap), icon=":material/info:")

settings = (("label_num", int(labels)), ("num_filters", int(num_filters)), ("num_blocks", int(num_blocks)),
            ("num_sub_blocks", int(num_sub)), ("input_shape", (int(size), int(size), int(channels))),
            ("residual", bool(residual)))
try:
    with st.spinner(t("resnet.building")):
        facts = cached.resnet_facts(settings)
except ValueError as exc:
    st.error(t("resnet.invalid", detail=str(exc)), icon=":material/block:")
    facts = None

if facts is not None:
    m = st.columns(3) + st.columns(3)
    m[0].metric(t("resnet.params"), f"{facts['params']:,}")
    m[1].metric(t("resnet.trainable"), f"{facts['trainable']:,}")
    m[2].metric(t("resnet.layers"), facts["layers"])
    m[3].metric(t("resnet.macs"), arch.fmt_count(facts["macs"]), help=t("resnet.macs_help"))
    m[4].metric(t("resnet.weights_memory"), arch.fmt_bytes(facts["memory"]["weights"]))
    m[5].metric(t("resnet.activation_memory"), arch.fmt_bytes(facts["memory"]["activations"]),
                help=t("resnet.activation_memory_help"))
    if dict(settings) == models.RESNET_SEED_DEFAULTS:
        st.success(t("resnet.is_seed"), icon=":material/check_circle:")

    st.subheader(t("resnet.stages"))
    table = pd.DataFrame(facts["stages"])
    table.columns = [t(f"resnet.col.{c}") for c in ("stage", "sub_blocks", "output", "params", "macs", "rf")]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="localized") for c in (t("resnet.col.params"), t("resnet.col.macs"))})
    st.caption(t("resnet.stages_caption"))

    st.subheader(t("resnet.diagram"))
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    view = c1.radio(t("resnet.view"), ("block", "layer"), horizontal=True, key="rn_view",
                    format_func=lambda v: t(f"resnet.view.{v}"))
    dot = cached.resnet_dot(settings, view)
    name = f"resnet_{num_blocks}x{num_sub}_{num_filters}f_{size}x{size}x{channels}_{view}"
    d1, d2, d3 = c2.columns(3)
    d1.download_button(t("resnet.download_dot"), dot, file_name=f"{name}.dot", mime="text/vnd.graphviz",
                       icon=":material/download:", key="rn_dl_dot", on_click="ignore")
    if diagrams.dot_available():
        d2.download_button("SVG", lambda: cached.rendered(dot, "svg"), file_name=f"{name}.svg", mime="image/svg+xml",
                           icon=":material/download:", key="rn_dl_svg", on_click="ignore")
        d3.download_button("PNG", lambda: cached.rendered(dot, "png"), file_name=f"{name}.png", mime="image/png",
                           icon=":material/download:", key="rn_dl_png", on_click="ignore")
    else:
        c2.caption(t("resnet.no_dot"))
    # Every layer of even a small network, or more sub-blocks than the course's 8, make a diagram thousands
    # of pixels tall: it scrolls in a box of its own, so the demos below stay a scroll away.
    boxed = view == "layer" or facts["sub_blocks"] > BOXED_SUB_BLOCKS
    with st.container(height=DIAGRAM_HEIGHT) if boxed else st.container():
        st.graphviz_chart(dot, width="content")
    st.caption(t("resnet.legend"))

with st.expander(t("resnet.seed_code")):
    st.code(SEED_CODE, language="python")

# ─── Why skip connections matter ─────────────────────────────────────────────────────────────────────
st.header(t("resnet.why"))
st.markdown(t("resnet.why_lead", filters=arch.DEMO_FILTERS))
c1, c2 = st.columns([3, 2])
depth = c1.select_slider(t("resnet.depth"), arch.DEPTHS, key="rn_depth", help=t("resnet.depth_help"))
bn_mode = c2.radio(t("resnet.bn_mode"), ("train", "init"), horizontal=True, key="rn_bn_mode",
                   format_func=lambda v: t(f"resnet.bn_mode.{v}"), help=t("resnet.bn_mode_help"))

st.subheader(t("resnet.grad_title"))
shown = ss.setdefault("rn_grad_shown", set())
grad_key = (depth, bn_mode)
if st.button(t("resnet.grad_run"), icon=":material/insights:", key="rn_grad_run"):
    shown.add(grad_key)
if grad_key in shown:
    try:
        with st.spinner(t("resnet.grad_running")):
            rows = cached.resnet_grad_rows(depth, bn_mode == "train", GRAD_BATCH)
    except FileNotFoundError as exc:
        st.error(t("resnet.sample_missing", detail=str(exc)))
        rows = []
    if rows:
        st.vega_lite_chart(style.chart({
            "height": 280, "data": {"values": rows}, "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "layer", "type": "quantitative", "title": t("resnet.chart.layer")},
                "y": {"field": "grad_norm", "type": "quantitative", "scale": {"type": "log"},
                      "title": t("resnet.chart.grad")},
                "color": network_colours(),
                "tooltip": [{"field": "name"}, {"field": "grad_norm", "format": ".3g"}]},
        }), width="stretch")
        first = {r["network"]: r["grad_norm"] for r in rows if r["layer"] == 1}
        spread = {}
        for net in ("residual", "plain"):
            g = [r["grad_norm"] for r in rows if r["network"] == net]
            spread[net] = max(g) / min(g)
        st.caption(t("resnet.grad_caption", n=GRAD_BATCH, res_first=f"{first['residual']:.3g}",
                     plain_first=f"{first['plain']:.3g}", res_spread=f"{spread['residual']:.0f}",
                     plain_spread=f"{spread['plain']:.0f}"))
        st.info(t(f"resnet.grad_reading.{bn_mode}"), icon=":material/lightbulb:")
else:
    st.caption(t("resnet.grad_idle"))

st.subheader(t("resnet.race_title"))
races = ss.setdefault("rn_races", {})
for entry in races.values():  # a run still marked running was interrupted (stop button or another widget)
    if entry.get("running"):
        entry.update(running=False, stopped=True)
c1, c2, c3 = st.columns([3, 1.2, 1.2], vertical_alignment="bottom")
steps = c1.slider(t("resnet.steps"), 50, 400, step=50, key="rn_steps")
race_key = (depth, steps)
start = c2.button(t("resnet.race_run"), icon=":material/play_arrow:", key="rn_race_run", type="primary")
if c3.button(t("resnet.race_stop"), icon=":material/stop:", key="rn_race_stop"):
    st.toast(t("resnet.race_stopped_toast"))
progress = st.empty()
chart = st.empty()
if start:
    entry = races[race_key] = {"running": True, "stopped": False, "history": None}
    bar = progress.progress(0.0, text=t("resnet.race_progress", step=0, steps=steps))

    def on_step(step, history):
        entry["history"] = history
        bar.progress(step / steps, text=t("resnet.race_progress", step=step, steps=steps))
        loss_chart(history, chart)
        return True

    x, y = cached.digit_batch(8000)
    try:
        with jobs.claimed(), jobs.slot(lambda ahead, waited: bar.progress(
                0.0, text=t("jobs.queued", ahead=ahead, seconds=f"{waited:.0f}"))):
            bar.progress(0.0, text=t("resnet.race_progress", step=0, steps=steps))
            entry["history"] = arch.train_race(depth, x, y, steps=steps, on_step=on_step)
    except jobs.Refused as exc:
        races.pop(race_key, None)
        st.warning(jobs.refusal(t, exc), icon=":material/block:")
    entry["running"] = False  # not reached when a click interrupts the run: the next run marks it stopped
    progress.empty()
entry = races.get(race_key)
if entry and entry.get("history"):
    h = entry["history"]
    loss_chart(h, chart)
    last = {k: sum(h[k][-10:]) / len(h[k][-10:]) for k in ("residual", "plain")}
    msg = t("resnet.race_summary", steps=h["steps"], seconds=f"{h['seconds']:.1f}",
            res=f"{last['residual']:.3f}", plain=f"{last['plain']:.3f}")
    if entry.get("stopped"):
        st.warning(t("resnet.race_stopped", detail=msg), icon=":material/stop_circle:")
    else:
        st.caption(msg)
elif not start:
    st.caption(t("resnet.race_idle"))

links.finish(LINK)
