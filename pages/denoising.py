"""Denoising lab: slide the noise factor and watch autoencoders clean handwritten digits."""
import math

import numpy as np
import streamlit as st

from core import data, pretrained
from ui import colours, links, models, page, pickers, style

t = page.setup("denoising")  # waits for its warm-up part
MAX_DIGITS = 50

SEED_CODE = """\
# The seed (month 5): Gaussian noise, even though its comment says "salt-and-pepper"
noise_factor = 0.5
x_test_noisy = x_test + noise_factor * np.random.normal(loc=0., scale=1., size=x_test.shape)
x_test_noisy = np.clip(x_test_noisy, 0., 1.)

autoencoder.fit(x_train_noisy, x_train, epochs=30, batch_size=256,
                shuffle=True, validation_data=(x_test_noisy, x_test))
decoded_imgs = autoencoder.predict(x_test_noisy)

# In this lab: core.data.add_noise(x, noise_factor, kind, seed) and, per model,
# model(x, training=False) through one traced tf.function (no predict() per rerun).
"""


def parse_indices(text):
    """'3, 14, 15' → [3, 14, 15]; a message for a person on anything else."""
    try:
        idx = [int(s) for s in text.replace(";", ",").replace(" ", ",").split(",") if s.strip()]
    except ValueError:
        return None, t("denoise.indices_bad")
    if not idx:
        return None, t("denoise.indices_empty")
    if any(i < 0 or i >= 10_000 for i in idx):
        return None, t("denoise.indices_range")
    if len(idx) > MAX_DIGITS:
        return None, t("denoise.indices_many", n=MAX_DIGITS)
    return idx, None


def fmt(v, unit=""):
    return "∞" if math.isinf(v) else f"{v:.2f}{unit}"


st.title(t("denoise.title"))
st.caption(t("denoise.lead"))

try:
    x_all, y_all = models.test_digits()
except FileNotFoundError as exc:
    st.error(t("error.sample_missing", detail=str(exc)))
    st.stop()

manifest = models.manifest()
ss = st.session_state
own = ss.get("yours")  # a model this session trained on the training bench, listed as "yours" until it ends
shipped, best = pretrained.denoisers(manifest), pretrained.best_denoiser(manifest)
no_digits = lambda given: "digits" not in given  # noqa: E731  (an explicit list of digits outranks the rest)
# The link: /denoising?noise_factor=0.8&kind=salt_and_pepper&digits=3,5,8&models=seed_ae,unet_global_deeper
LINK = (
    links.Param("noise_factor", "noise_factor", 0.5, links.number(0.0, 1.0), links.show_number()),
    links.Param("kind", "noise_kind", data.NOISE_KINDS[0], links.choice(data.NOISE_KINDS)),
    links.Param("noise_seed", "noise_seed", 0, links.integer(0, 10**9)),
    links.Param("digits", "digit_indices", ", ".join(map(str, range(10))),
                lambda text: ", ".join(map(str, links.integers(0, 9_999, 1, MAX_DIGITS)(text))), links.show_list,
                sets=(("digit_mode", "indices"),), hidden=True),
    links.Param("class", "digit_class", 0, links.choice(range(10)), when=no_digits, sets=(("digit_mode", "class"),),
                hidden=True),
    links.Param("count", "digit_count", 10, links.integer(1, MAX_DIGITS), when=no_digits),
    links.Param("digit_seed", "digit_seed", 0, links.integer(0, 10**9),
                when=lambda given: no_digits(given) and "class" not in given, sets=(("digit_mode", "random"),)),
    # The seed's model beside our best tells the story; every extra row slows each slider move.
    # A link's "yours" names this session's model: elsewhere it is named as ignored, and the rest of the list holds.
    links.Param("models", "models", [n for n in shipped if n in ("seed_ae", best)],
                links.choices(shipped + (["yours"] if own else []), drop_unknown=True), links.show_list),
)
links.restore("denoising", LINK, t)
links.defaults(LINK)

c1, c2, c3 = st.columns([3, 2, 1.2], vertical_alignment="bottom")
noise_factor = c1.slider(t("denoise.noise_factor"), 0.0, 1.0, step=0.05, key="noise_factor",
                         help=t("denoise.noise_factor_help"))
kind = c2.radio(t("denoise.noise_kind"), data.NOISE_KINDS, horizontal=True, key="noise_kind",
                format_func=lambda k: t(f"noise.{k}"))
if c3.button(t("denoise.new_noise"), icon=":material/casino:", width="stretch"):
    ss.noise_seed += 1

c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
mode = c1.radio(t("denoise.which"), ("random", "class", "indices"), horizontal=True, key="digit_mode",
                format_func=lambda m: t(f"denoise.which.{m}"))
if mode == "indices":
    text = c2.text_input(t("denoise.indices"), key="digit_indices")
    idx, problem = parse_indices(text)
    if problem:
        st.warning(problem)
        idx = list(range(10))
    else:  # an index is not the digit it holds (#7 is a 9): say both
        st.caption(", ".join(pickers.named(t, i, y_all) for i in idx))
else:
    count = c2.slider(t("denoise.how_many"), 1, MAX_DIGITS, key="digit_count")
    pool = np.arange(len(x_all))
    if mode == "class":
        digit = c3.selectbox(t("denoise.class"), range(10), key="digit_class")
        pool = pool[y_all == digit]
    else:
        if c3.button(t("denoise.new_digits"), icon=":material/shuffle:"):
            ss.digit_seed += 1
    idx = np.sort(np.random.default_rng(ss.digit_seed).choice(pool, size=min(count, len(pool)), replace=False))

names = st.multiselect(t("denoise.models"), shipped + (["yours"] if own else []), key="models",
                       format_func=lambda n: t(f"model.{n}"))

idx = tuple(int(i) for i in idx)
rows = [(t("denoise.row.original"), "original"), (t("denoise.row.noisy"), "noisy")]
shown = {"original": {"png": models.original_row(idx)},
         "noisy": models.noisy_row(idx, noise_factor, kind, ss.noise_seed)}
for name in names:
    try:
        shown[name] = (models.own_row(own, idx, noise_factor, kind, ss.noise_seed) if name == "yours"
                       else models.denoised_row(name, idx, noise_factor, kind, ss.noise_seed))
        rows.append((t(f"model.{name}"), name))
    except pretrained.PretrainedError as exc:  # this model is broken; the others still show
        st.error(t("error.model", name=t(f"model.{name}"), detail=str(exc)), icon=":material/error:")

for label, key in rows:
    left, right = st.columns([1, 4], vertical_alignment="center")
    left.markdown(f"**{label}**")
    if key != "original":
        left.caption(t("denoise.scores", psnr=fmt(shown[key]["psnr"], " dB"), ssim=f"{shown[key]['ssim']:.3f}"))
    right.image(shown[key]["png"], output_format="PNG")  # as is: "auto" re-encodes to JPEG

# Built only when clicked (a callable), and the click reruns nothing. The callable runs outside any script run,
# where session state cannot be read: every value it needs is bound now.
st.download_button(t("denoise.download"),
                   lambda rows=tuple(rows), idx=idx, noise_factor=noise_factor, kind=kind, noise_seed=ss.noise_seed,
                   own=own: models.download_grid(list(rows), idx, noise_factor, kind, noise_seed, own),
                   file_name=f"denoising_{kind}_{noise_factor:.2f}.png", mime="image/png",
                   icon=":material/download:", on_click="ignore")

def curve_points(name: str, label: str) -> list[dict]:
    """A model's PSNR by noise factor for this noise kind: the manifest's for a shipped model, for yours what the
    bench has measured of it so far (the same digits, noise and factors)."""
    if name == "yours":
        by_factor = own["curve"].psnr_by_factor.get(kind, {}) if own.get("curve") is not None else {}
    else:
        by_factor = manifest.get(name, {}).get("metrics", {}).get("psnr_by_factor", {}).get(kind, {})
    return [{"model": label, "noise_factor": float(f), "psnr": v} for f, v in by_factor.items()]


def psnr_chart(curves: list[tuple[str, str]], points: list[dict]) -> dict:
    """PSNR against noise_factor, a curve per model in its own colour (ui.colours), the legend in row order under
    the plot, the noisy input dashed and the slider's noise factor as a red rule."""
    return style.chart({
        "height": 250 + 22 * len(curves),  # the height holds the legend under the plot: a line per curve
        "layer": [
            {"data": {"values": points}, "mark": {"type": "line", "point": True},
             "encoding": {"x": {"field": "noise_factor", "type": "quantitative", "scale": {"domain": [0, 1]},
                                "title": f"noise_factor ({t(f'noise.{kind}')})"},
                          "y": {"field": "psnr", "type": "quantitative", "title": "PSNR (dB)",
                                "scale": {"zero": False}},
                          "color": colours.encoding(curves),
                          "strokeDash": {"condition": {"test": "datum.input", "value": [4, 4]}, "value": [1, 0]},
                          "tooltip": [{"field": "model"}, {"field": "noise_factor", "format": ".1f"},
                                      {"field": "psnr", "format": ".2f"}]}},
            {"data": {"values": [{"noise_factor": noise_factor}]}, "mark": {"type": "rule", "color": "#c44"},
             "encoding": {"x": {"field": "noise_factor", "type": "quantitative"}}},
        ],
    })


measuring = own is not None and own.get("curve") is not None and not own["curve"].finished


@st.fragment(run_every=1.0 if measuring else None)
def chart_panel():
    """The chart, polled each second while the bench measures yours, so its curve grows in place."""
    st.subheader(t("denoise.chart_title"))
    noisy_ref = next((e["metrics"]["noisy_psnr_by_factor"][kind] for e in manifest.values()
                      if "noisy_psnr_by_factor" in e.get("metrics", {})), {})
    points = [{"model": t("denoise.row.noisy"), "noise_factor": float(f), "psnr": v, "input": True}
              for f, v in noisy_ref.items()]
    curves = [("noisy", t("denoise.row.noisy"))] if points else []
    for name in shown_names:  # in the rows' order, labelled as the picker names them
        found = curve_points(name, t(f"model.{name}"))
        if found:
            points += found
            curves.append((name, t(f"model.{name}")))
    if points:
        st.vega_lite_chart(psnr_chart(curves, points), width="stretch")
        st.caption(t("denoise.chart_caption", n=f"{10_000:,}"))
    else:
        st.info(t("denoise.chart_none"))
    curve = own.get("curve") if own is not None and "yours" in shown_names else None
    if curve is not None and curve.error:
        st.warning(t("denoise.yours_failed", detail=curve.error), icon=":material/error:")
    elif curve is not None and not curve.finished:
        st.progress(curve.done / max(curve.total, 1),
                    text=t("denoise.yours_measuring", done=curve.done, total=curve.total,
                            n=f"{getattr(curve, 'images', 10_000):,}"))
    if curve is not None and ss.get("tr_yours_seen"):  # set by the bench: it trained on the shipped test digits
        st.caption(t("denoise.yours_flattered"))
    if curve is None and own is not None and "yours" in shown_names:
        st.caption(t("denoise.yours_unmeasured"))
    if measuring and curve is not None and curve.finished:
        st.rerun()  # measured: the page once more, without polling


shown_names = [key for _, key in rows if key not in ("original", "noisy")]
chart_panel()

with st.expander(t("denoise.seed_code")):
    st.code(SEED_CODE, language="python")

links.finish(LINK, {"digits": list(idx) if mode == "indices" else None, "class": digit if mode == "class" else None,
                   "count": None if mode == "indices" else count, "digit_seed": ss.digit_seed if mode == "random" else None})
