"""Training bench: build an autoencoder, watch it learn live, look inside it, take it home."""

import pandas as pd
import streamlit as st

from core import arch, data, diagrams, export, grids, inside, models as builders, pretrained
from ui import jobs, links, models, page, pickers, style, training

t = page.setup()
# The bench has no settings in its URL: a link's keys are named as ignored, then the URL is left bare.
links.restore("training", (), t)
links.finish(())
ss = st.session_state
FILTER_CHOICES = (4, 8, 16, 32, 64, 128)
LR_CHOICES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
BATCH_CHOICES = (16, 32, 64, 128, 256, 512)
STARTS = ("unet", "seed_ae", "yours")
SPLIT = 5000  # the shipped test digits: the first 5,000 train, the other 5,000 validate
BUILDER_NAMES = {"seed_ae": "seed_autoencoder", "unet": "unet_denoiser"}
REPORT_EVERY = 100  # batches: on MNIST's 60,000 digits an epoch is long, so the loss is drawn within it too
INSIDE_CHANNELS = 32  # channels drawn per layer: enough to see what a layer does, few enough to send fast
CHART_HEIGHT = 240  # the live charts' plots, pixels
PICTURE_SIDE = 224  # a layer whose output is one 28×28 picture (the rebuilt digit) is drawn this big, crisp


def settings_of_controls() -> dict:
    stages = ss.tr_stages
    return dict(stages=stages, filters=tuple(ss[f"tr_f{i}"] for i in range(1, stages + 1)),
                bottleneck=ss.tr_bottleneck, code_size=ss.tr_code, skips=ss.tr_skips,
                output_activation=ss.tr_output)


def builder_for(start: str, settings: dict):
    """A zero-argument builder: the run builds its model on its own thread (Keras's state is per thread)."""
    if start == "seed_ae":
        return builders.seed_autoencoder
    if start == "unet":
        return builders.unet_denoiser
    return lambda: builders.conv_autoencoder(**settings)


@st.cache_resource(show_spinner=False, max_entries=8)
def preview(start: str, frozen: tuple):
    """The model as the controls describe it, built once per setting for its table and diagram."""
    model = builder_for(start, dict(frozen))()
    return {"params": int(model.count_params()), "rows": arch.summary_rows(model), "dot": diagrams.layer_dot(model)}


@st.cache_resource(show_spinner=False, max_entries=2)
def training_digits(source: str):
    """(training digits, validation digits) as floats, shared by every session (never copied per run):
    "sample" = the shipped test digits split 5,000/5,000; "mnist" = MNIST's 60,000 training digits found
    offline, validated on the 10,000 shipped test digits."""
    test = data.to_float(models.test_digits()[0])
    if source == "mnist":
        ((x_train, _), _), _ = data.load_mnist()  # ((train), (test)), the source it came from
        return data.to_float(x_train), test
    return test[:SPLIT], test[SPLIT:]


def inside_maps_of(model, index: int) -> list[dict]:
    """core.inside.compare for test digit `index`, clean and with Gaussian noise 0.5, drawn for the page:
    feature maps as channel grids on their shared scale (the first INSIDE_CHANNELS), dense outputs as values."""
    x = data.to_float(models.test_digits()[0][index:index + 1])
    maps = []
    for layer in inside.compare(model, x, data.add_noise(x, 0.5, "gaussian", seed=index)):
        entry = {k: layer[k] for k in ("name", "kind", "code", "change")}
        entry["shape"] = " × ".join(map(str, layer["shape"]))
        entry["channels"] = int(layer["shape"][-1]) if layer["vmax"] is not None else None
        picture = tuple(layer["shape"]) == (28, 28, 1)  # one digit-sized picture: big enough to read its pixels
        for side in ("clean", "noisy"):
            out = layer[side]
            entry[side] = ({"png": models.png(grids.channels(out[..., :INSIDE_CHANNELS], layer["vmax"][:INSIDE_CHANNELS],
                                                              side=PICTURE_SIDE if picture else 56)), "values": None}
                           if layer["vmax"] is not None else {"png": None, "values": out.ravel()[:256].tolist()})
        maps.append(entry)
    return maps


@st.cache_data(show_spinner=False, max_entries=64)
def shipped_inside_maps(name: str, weights_sha: str, index: int) -> list[dict]:
    return inside_maps_of(models.load(name), index)


def epoch_axis(epochs: int) -> dict:
    """Both live charts' x: whole epochs from 1 to the run's last, so the two read side by side."""
    return {"field": "epoch", "type": "quantitative", "title": t("train.scrub"),
            "scale": {"domain": [1, max(epochs, 2)]}, "axis": {"tickMinStep": 1, "format": "d"}}


def curves_chart(history, epochs, batches=()):
    curves = [(t("train.curve.train"), "loss"), (t("train.curve.val"), "val_loss")]
    rows = [{"epoch": h["epoch"], "curve": name, "loss": h[key]} for h in history for name, key in curves]
    names = [name for name, _ in curves] + ([t("train.curve.running")] if batches else [])
    rows += [{"epoch": b["epoch"], "curve": names[-1], "loss": b["loss"]} for b in batches]
    return style.chart({
        # Vega-Lite takes a bottom legend (~45 px and 25 a line) out of the plot's height: added back, the plot
        # stays as tall as the PSNR chart's beside it
        "height": CHART_HEIGHT + 45 + 25 * len(names), "data": {"values": rows},
        "mark": {"type": "line", "point": True},
        "encoding": {"x": epoch_axis(epochs),
                     "y": {"field": "loss", "type": "quantitative", "scale": {"zero": False},
                           "axis": {"format": ".3f", "tickMinStep": 0.001}, "title": "binary cross-entropy"},
                     # under the plot, one line a curve: a 390 px phone keeps the plot's whole width
                     "color": {"field": "curve", "type": "nominal", "title": None, "scale": {"domain": names},
                               "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 0}}}})


def psnr_chart(history, epochs):
    rows = [{"seconds": round(h["seconds"], 1), "psnr": h["val_psnr"], "epoch": h["epoch"]} for h in history]
    return style.chart({
        "height": CHART_HEIGHT, "data": {"values": rows}, "mark": {"type": "line", "point": True},
        "encoding": {"x": epoch_axis(epochs),
                     "y": {"field": "psnr", "type": "quantitative", "scale": {"zero": False},
                           "axis": {"format": ".2~f"}, "title": "PSNR (dB)"},  # 11.55 and 11.6, not 11.6 twice
                     "tooltip": [{"field": "epoch"}, {"field": "psnr", "format": ".2f"},
                                 {"field": "seconds", "title": t("train.seconds"), "format": ".0f"}]}})


def inside_path(maps: list[dict], which: str) -> str:
    """How the noisy digit's difference runs through the chosen model for this digit: first layer, bottleneck (if
    it has one), output, each from this model's own figures."""
    code = next((m for m in maps if m["code"]), None)
    figures = {"model": t("train.yours") if which == "yours" else t(f"model.{which}"),
               "first": f"{maps[0]['change']:.0%}", "first_name": maps[0]["name"],
               "last": f"{maps[-1]['change']:.0%}", "last_name": maps[-1]["name"]}
    if code is None or code is maps[0] or code is maps[-1]:
        return t("train.inside_path_plain", **figures)
    return t("train.inside_path", code=f"{code['change']:.0%}", code_name=code["name"], **figures)


def yours_curve():
    """The measuring of yours for the denoising chart (ui.training.PsnrCurve), if a run has ended."""
    own = ss.get("yours")
    return own.get("curve") if own else None


st.title(t("train.title"))
st.caption(t("train.lead"))

# ─── 1. Build ────────────────────────────────────────────────────────────────────────────────────────
st.header(t("train.build"))
for key, value in (("tr_start", "unet"), ("tr_stages", 2), ("tr_f1", 16), ("tr_f2", 32), ("tr_f3", 64),
                   ("tr_bottleneck", "dense"), ("tr_code", 32), ("tr_skips", True), ("tr_output", "sigmoid")):
    ss.setdefault(key, value)
start = st.radio(t("train.start_from"), STARTS, horizontal=True, key="tr_start",
                 format_func=lambda s: t(f"train.start.{s}"))
settings = {}
if start == "yours":
    c1, c2, c3, c4 = st.columns(4)
    stages = c1.slider(t("train.stages"), 1, 3, key="tr_stages")
    for i, col in zip(range(1, 4), (c2, c3, c4)):
        if i <= stages:
            col.select_slider(t("train.filters", stage=i), FILTER_CHOICES, key=f"tr_f{i}")
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
    c1.radio(t("train.bottleneck"), builders.CONV_AE_BOTTLENECKS, horizontal=True, key="tr_bottleneck",
             format_func=lambda b: t(f"train.bottleneck.{b}"))
    ss.tr_code = int(min(max(ss.tr_code, builders.CONV_AE_CODE_SIZE[ss.tr_bottleneck][0]), 256))
    c2.slider(t(f"train.code.{ss.tr_bottleneck}"), *builders.CONV_AE_CODE_SIZE[ss.tr_bottleneck], key="tr_code")
    c3.toggle(t("train.skips"), key="tr_skips", help=t("train.skips_help"))
    c4.radio(t("train.output"), builders.CONV_AE_OUTPUTS, horizontal=True, key="tr_output",
             help=t("train.output_help"))
    settings = settings_of_controls()
    problems = builders.conv_autoencoder_problems(**settings)
    for problem in problems:  # the widgets keep every setting in range: only the size cap can be broken
        st.error(t("train.problem.params", **{k: f"{v:,}" for k, v in problem.values.items()})
                 if problem.key == "params" else str(problem), icon=":material/block:")
    buildable = not problems
else:
    buildable = True
    st.caption(t(f"train.start_caption.{start}"))

if buildable:
    facts = preview(start, tuple(sorted(settings.items())))
    # One row, the diagram folded: drawn open it is a screen tall, and Start must share the screen with the controls.
    # Top-aligned, so opening it leaves the count where it was; wide enough for a diagram's own size (~450 px).
    c1, c2, c3 = st.columns([2, 3, 6])
    c1.metric(t("train.params"), f"{facts['params']:,}")
    c2.caption(t("train.limits", cap=f"{builders.MAX_TRAIN_PARAMS:,}", epochs=builders.EPOCHS_RANGE[1],
                 batch=builders.BATCH_SIZE_RANGE[1]))
    with c3.expander(t("train.diagram", layers=len(facts["rows"])), expanded=False, icon=":material/account_tree:"):
        diagram, table = st.tabs([t("train.diagram_tab"), t("train.layers")])
        diagram.graphviz_chart(facts["dot"], width="content")
        table.dataframe(pd.DataFrame(facts["rows"]), hide_index=True, width="stretch")

# ─── 2. Train ────────────────────────────────────────────────────────────────────────────────────────
st.header(t("train.train"))
c1, c2, c3, c4 = st.columns([4, 3, 3, 3])
c1.radio(t("train.noise"), ("gaussian_0.5", "blind"), key="tr_noise", format_func=lambda n: t(f"train.noise.{n}"))
c2.slider(t("train.epochs"), *builders.EPOCHS_RANGE, 10, key="tr_epochs")
c3.select_slider(t("train.batch"), BATCH_CHOICES, 64, key="tr_batch")
c4.select_slider(t("train.lr"), LR_CHOICES, 1e-3, key="tr_lr", format_func=lambda v: f"{v:g}")
found = data.offline_mnist()
if found:  # MNIST's training set is on this machine: offer it, with the loss reported within each epoch
    where = t("train.where.hub") if found == data.HUB_SOURCE else found  # a cache's path stays as it is
    st.radio(t("train.data_choice"), ("sample", "mnist"), horizontal=True, key="tr_data",
             format_func=lambda d: t(f"train.data.{d}", where=where))
else:
    st.caption(t("train.data", train=f"{SPLIT:,}", val=f"{SPLIT:,}"))

def start_training():
    """Start's callback: it runs before the page is drawn again, so the buttons show the new state (Start off,
    Pause and Stop on) in the same rerun, and a second click can't start a second run."""
    current = ss.get("tr_run")
    if current is not None and current.training.state in ("queued", "running", "paused"):
        return
    recipe = dict(start=ss.tr_start, settings=settings_of_controls() if ss.tr_start == "yours" else {},
                  noise=ss.tr_noise, epochs=ss.tr_epochs, batch_size=ss.tr_batch, learning_rate=ss.tr_lr)
    source = ss.get("tr_data", "sample") if data.offline_mnist() else "sample"
    try:
        x_train, x_val = training_digits(source)
    except data.DataUnavailable as exc:
        ss.tr_problem = str(exc)
        return
    try:
        ss.tr_run = training.start(builder_for(recipe["start"], recipe["settings"]), (x_train, x_val),
                                   noise=recipe["noise"], epochs=recipe["epochs"], batch_size=recipe["batch_size"],
                                   learning_rate=recipe["learning_rate"],
                                   report_every=REPORT_EVERY if source == "mnist" else None)
    except jobs.Refused as exc:
        ss.tr_problem = jobs.refusal(t, exc)
        return
    ss.tr_recipe = {**recipe, "data": source}
    curve = yours_curve()
    if curve is not None and not curve.finished:  # the last run's measuring gives its place to this run
        curve.stop()
        ss.yours = {**ss.yours, "curve": None}  # half a curve would read as a whole one: none until this run ends


def control(action):
    run = ss.get("tr_run")
    if run is not None:
        getattr(run.training, action)()


run = ss.get("tr_run")  # the session's training, if any: a ui.training.SessionTraining
active = run is not None and run.training.state in ("queued", "running", "paused")
b1, b2, b3, _ = st.columns([1, 1, 1, 3])
b1.button(t("train.start"), icon=":material/play_arrow:", type="primary", disabled=active or not buildable,
          key="tr_start_button", on_click=start_training)
if "tr_problem" in ss:
    st.error(ss.pop("tr_problem"), icon=":material/error:")
if active and run.training.state == "paused":
    b2.button(t("train.resume"), icon=":material/play_circle:", key="tr_resume", on_click=control, args=("resume",))
else:
    b2.button(t("train.pause"), icon=":material/pause:", disabled=not active, key="tr_pause", on_click=control,
              args=("pause",))
b3.button(t("train.stop"), icon=":material/stop:", disabled=not active, key="tr_stop", on_click=control, args=("stop",))


@st.fragment(run_every=1.0 if active else None)
def live():
    run = ss.get("tr_run")
    if run is None:
        st.info(t("train.idle"))
        return
    run.seen()
    lt = run.training
    history, frames = list(lt.history), list(lt.frames)
    state = lt.state
    if state == "queued":
        ahead, waited = lt.queue or (jobs.running(), 0.0)
        st.info(t("jobs.queued", ahead=ahead, seconds=f"{waited:.0f}"), icon=":material/hourglass:")
    elif state == "failed":
        st.error(t("train.failed", detail=lt.error), icon=":material/error:")
    else:
        done = history[-1]["epoch"] if history else 0
        st.progress(done / lt.epochs, text=t(f"train.state.{state}", epoch=done, epochs=lt.epochs))
    if run.timed_out:
        st.warning(t("jobs.timed_out", minutes=f"{run.max_seconds / 60:g}"), icon=":material/timer_off:")
    batches = lt.batches
    if history:
        m1, m2, m3 = st.columns(3)
        m1.metric(t("train.val_psnr"), f"{history[-1]['val_psnr']:.2f} dB",
                  delta=f"{history[-1]['val_psnr'] - history[0]['val_psnr']:+.2f} dB" if len(history) > 1 else None)
        m2.metric(t("train.val_loss"), f"{history[-1]['val_loss']:.4f}")
        m3.metric(t("train.elapsed"), f"{history[-1]['seconds']:.0f} s")
    if history or batches:
        c1, c2 = st.columns(2)
        c1.vega_lite_chart(style.chart(curves_chart(history, lt.epochs, batches)), width="stretch")
        if history:
            c2.vega_lite_chart(style.chart(psnr_chart(history, lt.epochs)), width="stretch")
    if frames:
        st.subheader(t("train.filmstrip"))
        shown = st.slider(t("train.scrub"), 1, len(frames), len(frames), key="tr_frame") if len(frames) > 1 else 1
        rows = [(t("train.row.clean"), lt.film_clean), (t("train.row.noisy"), lt.film_noisy),
                (t("train.row.epoch", epoch=shown), frames[shown - 1])]
        for label, images in rows:
            left, right = st.columns([1, 5], vertical_alignment="center")
            left.markdown(f"**{label}**")
            right.image(models.tile_png(images, per_line=8), output_format="PNG")
    if state not in ("queued", "running", "paused") and ss.get("tr_polled_state") != state:
        ss.tr_polled_state = state
        st.rerun()  # the run ended: redraw the page once, without polling, with its results below
    ss.tr_polled_state = state


live()

run = ss.get("tr_run")
trained = run is not None and run.training.finished and run.training.model is not None and run.training.history
if trained and ss.get("tr_yours_id") != run.id:
    # The denoising page lists it as "yours" for this session: its traced call, keyed by this run's random id.
    ss.tr_yours_id = run.id
    forward = pretrained.compiled_forward(run.training.model)
    # ... and its chart draws yours beside the shipped models, measured as they were, off this thread.
    ss.yours = {"id": f"{run.id}-{len(run.training.history)}", "forward": forward, "epochs": len(run.training.history),
                "curve": training.measure(forward, models.test_digits()[0])}
    ss.tr_yours_seen = ss.tr_recipe.get("data", "sample") == "sample"  # it trained on half the digits it is measured on

curve = yours_curve()
measuring = curve is not None and not curve.finished


@st.fragment(run_every=1.0 if measuring else None)
def measured():
    """Under the results: how far the measuring of yours for the denoising chart has come, polled while it runs."""
    curve = yours_curve()
    if curve is None:
        return
    n = f"{curve.images:,}"
    if curve.error:
        st.warning(t("train.measure_failed", detail=curve.error), icon=":material/error:")
    elif curve.queue is not None:
        ahead, waited = curve.queue
        st.caption(t("train.measure_queued", n=n, ahead=ahead, seconds=f"{waited:.0f}"))
    elif not curve.finished:
        st.progress(curve.done / curve.total, text=t("train.measuring", n=n, done=curve.done, total=curve.total))
    elif not curve.stopped:
        gaussian = curve.psnr_by_factor.get("gaussian", {}).get("0.5")
        st.caption(t("train.measured", n=n, psnr=f"{gaussian:.2f}" if gaussian is not None else "–") +
                   (" " + t("train.measured_seen", train=f"{SPLIT:,}") if ss.get("tr_yours_seen") else ""))
    if measuring and curve.finished:
        st.rerun()  # measured: the page once more, without polling


measured()

# ─── 3. Look inside ──────────────────────────────────────────────────────────────────────────────────
st.header(t("train.inside"))
# the radio below keeps its choice in session state: the lead can follow it (a classifier doesn't denoise)
st.caption(t("train.inside_lead_classifier" if ss.get("tr_inside_model") == "classifier" else "train.inside_lead"))
choices = (["yours"] if trained else []) + ["seed_ae", "unet", "classifier"]
which = st.radio(t("train.inside_model"), choices, horizontal=True, key="tr_inside_model",
                 format_func=lambda n: t("train.yours") if n == "yours" else t(f"model.{n}"))
c1, _ = st.columns([3, 2])
index = pickers.test_digit(t, t("train.inside_digit"), "tr_inside_digit", where=c1)
try:
    maps = (inside_maps_of(run.training.model, index) if which == "yours"
            else shipped_inside_maps(which, models.sha(which), index))
except pretrained.PretrainedError as exc:
    st.error(t("error.model", name=which, detail=str(exc)), icon=":material/error:")
    maps = None
if maps:
    names = [m["name"] for m in maps]
    ss.setdefault("tr_layer", maps[min(len(maps) - 1, 1)]["name"])
    if ss.tr_layer not in names:
        ss.tr_layer = names[0]
    layer = st.select_slider(t("train.layer"), names, key="tr_layer")
    m = maps[names.index(layer)]
    st.markdown(t("train.layer_facts", name=m["name"], kind=m["kind"], shape=m["shape"]) +
                (" · " + t("train.is_code") if m["code"] else ""))
    left, right = st.columns(2)
    for col, side in ((left, "clean"), (right, "noisy")):
        col.markdown(f"**{t(f'train.inside.{side}')}**")
        if m[side]["png"] is not None:
            col.image(m[side]["png"], output_format="PNG")
        else:
            col.bar_chart(pd.DataFrame({t("train.value"): m[side]["values"]}), height=200)
    drawn = (" " + t("train.inside_channels", shown=INSIDE_CHANNELS, channels=m["channels"])
             if (m["channels"] or 0) > INSIDE_CHANNELS else "")
    st.caption(t("train.inside_caption", change=f"{m['change']:.0%}") + drawn + " " + inside_path(maps, which))

# ─── 4. Take it home ─────────────────────────────────────────────────────────────────────────────────
st.header(t("train.home"))
if not trained:
    st.info(t("train.home_idle"))
else:
    recipe = ss.tr_recipe
    spec = recipe["settings"] if recipe["start"] == "yours" else {"builder": BUILDER_NAMES[recipe["start"]]}
    st.markdown(t("train.home_lead", epochs=len(run.training.history),
                  psnr=f"{run.training.history[-1]['val_psnr']:.2f}"))
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(t("train.download_weights"), lambda model=run.training.model: export.weights_bytes(model),
                       file_name="yours.weights.h5", mime="application/x-hdf5", icon=":material/download:",
                       on_click="ignore", key="tr_dl_weights")
    c2.download_button(t("train.download_code"), export.python_source(spec, "yours.weights.h5"),
                       file_name="yours.py", mime="text/x-python", icon=":material/code:", on_click="ignore",
                       key="tr_dl_code")
    st.markdown(t("train.command"))
    st.code(export.train_command(spec, recipe["noise"], recipe["epochs"], recipe["batch_size"],
                                 recipe["learning_rate"]), language="bash", wrap_lines=True)  # a long spec, not a scroll bar
