"""Your digit: upload or draw one, watch it become an MNIST digit, and see what every model makes of it."""
import math

import numpy as np
import streamlit as st

from core import data, grids, preprocess, pretrained
from ui import links, models, page

t = page.setup("your_digit")  # waits for its warm-up part
ss = st.session_state

LIMITS = dict(limit_mb=preprocess.MAX_BYTES // 2**20, megapixels=f"{preprocess.MAX_PIXELS / 1e6:g}",
              min_side=preprocess.MIN_SIDE)
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
CANVAS_SIDE = 280


def big(image):
    """A 28×28 float image as crisp uint8 pixels for the screen (no blur from the browser's scaling)."""
    return grids.tile(np.asarray(image)[None], per_line=1, scale=4, gap=0)


def screen(name, step):
    """A step's array as st.image shows it: in a square (a long thin "1" would tower over the row),
    floats as uint8, 28×28 enlarged crisply."""
    step = np.clip(np.asarray(step, np.float32), 0, 1)
    if step.shape[:2] == (28, 28):
        return big(step)
    height, width = step.shape[:2]
    side = max(height, width)
    # After background removal the paper is black by construction; before, it is what the border shows.
    late = preprocess.STEPS.index(name) > preprocess.STEPS.index("inverted")
    paper = 0.0 if late else np.median(np.concatenate([step[0], step[-1], step[:, 0], step[:, -1]]), axis=0)
    square = np.empty((side, side) + step.shape[2:], np.float32)
    square[...] = paper
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = step
    return (square * 255).astype(np.uint8)


def draw():
    """The canvas's RGBA pixels, or None while nothing is drawn."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # the package is missing, or its frontend could not register here
        st.warning(t("digit.canvas_missing", detail=type(exc).__name__))
        return None
    ss.setdefault("canvas_round", 0)
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    width = c1.slider(t("digit.brush"), 6, 40, 18, key="brush")
    if c2.button(t("digit.clear"), icon=":material/ink_eraser:"):
        ss.canvas_round += 1  # a new key is a new, empty canvas
    result = st_canvas(stroke_width=width, stroke_color="#000000", background_color="#FFFFFF",
                       height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
                       return_image_data=True, key=f"canvas_{ss.canvas_round}")
    drawn = bool(result.json_data and result.json_data.get("objects"))
    if not drawn:
        st.info(t("digit.draw_hint"))
        return None
    return result.image_data


def sample():
    x_all, y_all = models.test_digits()
    c1, c2 = st.columns([1, 1.4], vertical_alignment="bottom")
    below = st.container()  # drawn under the inputs, run before them: a click sets the index they show
    if below.button(t("digit.random_sample"), icon=":material/shuffle:"):
        ss.sample_index = int(np.random.default_rng().integers(len(x_all)))
    index = c1.number_input(t("digit.sample_index"), 0, len(x_all) - 1, key="sample_index")
    pen = c2.slider(t("digit.sample_pen"), -3, 6, key="sample_pen")
    picture = preprocess.on_paper(x_all[index], 280, 0.6, pen, (0.3, -0.4))
    st.image(picture, caption=t("digit.sample_caption", index=index, label=int(y_all[index])), width=CANVAS_SIDE)
    return picture


def upload():
    file = st.file_uploader(t("digit.upload"), type=UPLOAD_TYPES, key="digit_upload",
                            help=t("digit.upload_help", **LIMITS))
    if file is None:
        st.info(t("digit.upload_hint"))
    return file


st.title(t("digit.title"))
st.caption(t("digit.lead"))

# The link holds settings only: an upload or a drawing never leaves this session.
on_sample = lambda given: given.get("source", "sample") == "sample"  # noqa: E731
NOISE = (links.Param("noise_factor", "digit_noise_factor", 0.5, links.number(0.0, 1.0), links.show_number()),
         links.Param("kind", "digit_noise_kind", data.NOISE_KINDS[0], links.choice(data.NOISE_KINDS)))
LINK = (links.Param("source", "digit_source", "sample", links.choice(("upload", "draw", "sample"))),
        links.Param("sample", "sample_index", 7, links.integer(0, 9_999), when=on_sample),
        links.Param("pen", "sample_pen", 2, links.integer(-3, 6), when=on_sample)) + NOISE
links.restore("your_digit", LINK, t)
links.defaults(LINK)

source = st.segmented_control(t("digit.source"), ("upload", "draw", "sample"), key="digit_source",
                              format_func=lambda s: t(f"digit.source.{s}"), required=True)
link_values = {} if source == "sample" else {"sample": None, "pen": None}  # a sample's settings only with a sample
if source != "sample":
    st.caption(t("links.private"))
left, right = st.columns([2, 3], gap="large")
with left:
    picture = {"upload": upload, "draw": draw, "sample": sample}[source]()

if picture is None:
    links.stop(LINK, link_values)
try:
    prepared = preprocess.to_mnist(picture)
except preprocess.PreprocessError as exc:
    # Worded from the reason, so it reads in the page's language; the next upload simply replaces it.
    st.error(t("digit.error", message=t(f"digit.error.{exc.reason}", **LIMITS)), icon=":material/image_not_supported:")
    st.caption(t("digit.error_next"))
    links.stop(LINK, link_values)

with right:
    st.subheader(t("digit.steps"))
    steps = prepared.steps
    numbered = list(enumerate(steps, 1))
    for start in range(0, len(numbered), 4):
        for col, (i, (name, step)) in zip(st.columns(4), numbered[start:start + 4]):
            col.image(screen(name, step), caption=f"{i}. {t(f'digit.step.{name}')}", width="stretch")  # a fixed width overlapped in narrow windows

digit = prepared.image[None, :, :, None]
manifest = models.manifest()

st.subheader(t("digit.prediction"))
probabilities = None
try:
    probabilities = models.forward("classifier")(digit)[0]
except pretrained.PretrainedError as exc:
    st.error(t("error.model", name=t("model.classifier"), detail=str(exc)), icon=":material/error:")
else:
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    c1.image(big(prepared.image), width=140)
    with c2:
        for d in np.argsort(probabilities)[::-1][:3]:
            st.progress(float(probabilities[d]), text=t("digit.top", digit=int(d), p=f"{probabilities[d]:.1%}"))
        if probabilities.max() < 0.5:
            st.warning(t("digit.unsure", p=f"{probabilities.max():.0%}"))
        m = manifest.get("classifier", {})
        if "metrics" in m:
            st.caption(t("digit.classifier_caption", accuracy=f"{m['metrics']['accuracy']:.2%}",
                         images=f"{m['eval']['images']:,}"))

@st.cache_data(show_spinner=False, max_entries=1024)
def strip_cell(digit, noise_factor, kind, name, weights_sha):
    """One picture of the noise strip, as (PNG, PSNR against the digit): name None is the noisy digit."""
    from core import metrics

    noisy = data.add_noise(digit, noise_factor, kind, seed=0)
    image = noisy if name is None else models.forward(name)(noisy)
    return models.png(big(image[0, :, :, 0])), float(metrics.quality(digit, image)[0][0])


@st.fragment
def noise_strip(digit, names):
    """Only this part reruns when its noise slider moves: the steps, the prediction and the VAE stay put."""
    st.subheader(t("digit.denoise"))
    st.caption(t("digit.denoise_lead"))
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    noise_factor = c1.slider(t("denoise.noise_factor"), 0.0, 1.0, step=0.05, key="digit_noise_factor",
                             help=t("denoise.noise_factor_help"))
    kind = c2.radio(t("denoise.noise_kind"), data.NOISE_KINDS, horizontal=True, key="digit_noise_kind",
                    format_func=lambda k: t(f"noise.{k}"))
    shown = [(t("digit.row.yours"), models.png(big(digit[0, :, :, 0])), None)]
    for name in (None, *names):
        label = t("digit.row.noisy") if name is None else t(f"model.{name}")
        try:
            shown.append((label, *strip_cell(digit, noise_factor, kind, name, name and models.sha(name))))
        except pretrained.PretrainedError as exc:  # this model is broken; the others still show
            st.error(t("error.model", name=label, detail=str(exc)), icon=":material/error:")
    for col, (label, picture, psnr) in zip(st.columns(len(shown)), shown):
        col.image(picture, width=140, output_format="PNG")
        col.markdown(f"**{label}**")
        if psnr is not None:
            col.caption("PSNR ∞" if math.isinf(psnr) else f"PSNR {psnr:.2f} dB")
    links.finish(NOISE, partial=True)


noise_strip(digit, pretrained.denoisers(manifest))

if "vae" in manifest:
    st.subheader(t("digit.vae"))
    from core import anomaly, latent

    c1, c2 = st.columns([1, 2], gap="large")
    try:
        z = latent.encode(models.load("vae"), digit)[0]
        x_all, y_all = models.test_digits()
        z_all = models.vae_map(models.sha("vae"))
    except pretrained.PretrainedError as exc:
        st.error(t("error.model", name=t("model.vae"), detail=str(exc)), icon=":material/error:")
    else:
        c1.image(big(latent.decode(models.load("vae"), [z])[0, :, :, 0]), width=140, caption=t("digit.vae_recon"))
        points = [{"z1": float(a), "z2": float(b), "label": str(int(d))} for (a, b), d in zip(z_all, y_all)]
        c2.vega_lite_chart({
            "height": 300, "layer": [
                {"data": {"values": points}, "mark": {"type": "circle", "size": 6, "opacity": 0.35},
                 "encoding": {"x": {"field": "z1", "type": "quantitative"}, "y": {"field": "z2", "type": "quantitative"},
                              "color": {"field": "label", "type": "nominal", "scale": {"scheme": "tableau10"},
                                        "title": t("latent.label")}}},
                {"data": {"values": [{"z1": float(z[0]), "z2": float(z[1])}]},
                 "mark": {"type": "point", "shape": "cross", "size": 400, "strokeWidth": 4, "color": "#111"},
                 "encoding": {"x": {"field": "z1", "type": "quantitative"}, "y": {"field": "z2", "type": "quantitative"}}},
            ]}, width="stretch")
        c2.caption(t("digit.vae_map", z1=f"{z[0]:.2f}", z2=f"{z[1]:.2f}"))

    guess = int(np.argmax(probabilities)) if probabilities is not None else None
    # The verdict comes from the best shipped detector of the predicted digit (the geometric one; the VAE's
    # negative ELBO where only that is shipped).
    kind = next((k for k in ("geometric", "neg_elbo")
                 if guess is not None and anomaly.shipped_model([guess], k) in manifest), None)
    name = anomaly.shipped_model([guess], kind) if kind else None
    if name in manifest:
        st.subheader(t("digit.anomaly", digit=guess))
        try:
            mine = float(anomaly.score(models.load(name), digit, kind)[0])
            typical = models.typical_scores(name, guess, kind)
        except pretrained.PretrainedError as exc:
            st.error(t("error.model", name=name, detail=str(exc)), icon=":material/error:")
        else:
            rank, verdict = anomaly.verdict(mine, typical)
            say = {"typical": st.success, "unusual": st.warning, "alien": st.error}[verdict]
            say(t(f"digit.verdict.{verdict}", digit=guess, score=f"{mine:.0f}", share=f"{rank:.0%}",
                  n=f"{len(typical):,}"))

links.finish(LINK, link_values)
