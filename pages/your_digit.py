"""Your digit: upload, photograph or draw one, watch it become an MNIST digit, and see what every model makes of it."""
import hashlib

import numpy as np
import streamlit as st

from core import data, grids, photo, preprocess, pretrained
from ui import colours, links, models, page, pickers, style

t = page.setup("your_digit")  # waits for its warm-up part
ss = st.session_state

LIMITS = dict(limit_mb=preprocess.MAX_BYTES // 2**20, megapixels=f"{preprocess.MAX_PIXELS / 1e6:g}",
              min_side=preprocess.MIN_SIDE)
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
SOURCES = ("upload", "camera", "draw", "sample")
CANVAS_SIDE = 280
UNUSUAL = (7, 2)  # test digit #7, a 9, with the pen 2 px wider: read right, and unusual to the detector
FULL = (0, 100)  # a crop slider's whole range, in %
STRIP_WIDTH = 640  # the noise strip's most on a wide screen (4 cells a line, 150 px each); a phone shrinks it


def big(image):
    """A 28×28 float image as crisp uint8 pixels for the screen (no blur from the browser's scaling)."""
    return grids.tile(np.asarray(image)[None], per_line=1, scale=4, gap=0)


@st.cache_data(show_spinner=False, max_entries=64)
def prepare(picture, crop, ink):
    """The picture through core.preprocess, with its steps drawn as one numbered mosaic (PNG): a phone wraps
    one picture, where eight columns would stack into a page as tall as eight screens. Cached per picture,
    crop and ink, so a slider elsewhere on the page never preprocesses again."""
    prepared = preprocess.to_mnist(picture, crop=crop, ink=ink)
    pictures = [step for _, step in prepared.steps]
    outline = {0: crop} if crop else None  # the crop box on the decoded picture
    steps_png = models.png(grids.mosaic(pictures, per_line=-(-len(pictures) // 2), outline=outline))
    return prepared.image, [name for name, _ in prepared.steps], prepared.dark_ink, steps_png


@st.cache_data(show_spinner=False, max_entries=256)
def photographed(index: int) -> bytes:
    """Test digit `index` as a phone photo of it on paper, the same photo every time for the same digit."""
    return photo.photograph(models.test_digits()[0][index], np.random.default_rng(index))


def draw():
    """The canvas's RGBA pixels, or None while nothing is drawn. The canvas's own toolbar (undo, redo,
    clear) is the one way to clear it."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # the package is missing, or its frontend could not register here
        st.warning(t("digit.canvas_missing", detail=type(exc).__name__))
        return None
    width = st.slider(t("digit.brush"), 6, 40, 18, key="brush")
    result = st_canvas(stroke_width=width, stroke_color="#000000", background_color="#FFFFFF",
                       height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
                       return_image_data=True, key="canvas")
    drawn = bool(result.json_data and result.json_data.get("objects"))
    if not drawn:
        st.info(t("digit.draw_hint"))
        return None
    return result.image_data


def show_unusual():
    ss.sample_index, ss.sample_pen, ss.sample_photo = *UNUSUAL, False


def random_sample():
    ss.sample_index = int(np.random.default_rng().integers(len(models.test_digits()[0])))


def sample():
    x_all, y_all = models.test_digits()
    index = pickers.test_digit(t, t("digit.sample_index"), "sample_index", show_name=False)
    b1, b2 = st.columns(2)
    b1.button(t("digit.random_sample"), icon=":material/shuffle:", width="stretch", on_click=random_sample)
    b2.button(t("digit.unusual_example"), icon=":material/help:", on_click=show_unusual,
              help=t("digit.unusual_example_help"), width="stretch")
    as_photo = st.toggle(t("digit.sample_photo"), key="sample_photo", help=t("digit.sample_photo_help"))
    if as_photo:
        picture = photographed(index)
        st.image(picture, caption=t("digit.sample_photo_caption", index=index, label=int(y_all[index])),
                 width=CANVAS_SIDE)
        return picture
    pen = st.slider(t("digit.sample_pen"), -3, 6, key="sample_pen")
    picture = preprocess.on_paper(x_all[index], 280, 0.6, pen, (0.3, -0.4))
    st.image(picture, caption=t("digit.sample_caption", index=index, label=int(y_all[index])), width=CANVAS_SIDE)
    return picture


def upload():
    file = st.file_uploader(t("digit.upload"), type=UPLOAD_TYPES, key="digit_upload",
                            help=t("digit.upload_help", **LIMITS))
    if file is None:
        st.info(t("digit.upload_hint"))
        return None
    return file.getvalue()


def camera():
    shot = st.camera_input(t("digit.camera"), key="digit_camera", help=t("digit.camera_help", **LIMITS))
    if shot is None:
        st.info(t("digit.camera_hint"))
        return None
    return shot.getvalue()


def rescue(picture):
    """The crop box and the ink override, reset when a new picture comes: (crop or None, ink)."""
    seen = hashlib.sha256(picture if isinstance(picture, bytes) else np.ascontiguousarray(picture)).hexdigest()
    if ss.get("_digit_rescued") != seen:
        ss._digit_rescued = seen
        ss.digit_crop_x = ss.digit_crop_y = FULL
        ss.digit_ink = "auto"
    with st.expander(t("digit.rescue"), icon=":material/crop:",
                     expanded=(ss.get("digit_crop_x", FULL), ss.get("digit_crop_y", FULL), ss.get("digit_ink")) != (FULL, FULL, "auto")):
        st.caption(t("digit.rescue_lead"))
        left, right = st.slider(t("digit.crop_x"), 0, 100, step=1, key="digit_crop_x")
        top, bottom = st.slider(t("digit.crop_y"), 0, 100, step=1, key="digit_crop_y")
        ink = st.segmented_control(t("digit.ink"), preprocess.INKS, key="digit_ink", required=True,
                                   format_func=lambda k: t(f"digit.ink.{k}"))
    crop = (left / 100, top / 100, right / 100, bottom / 100)
    if right - left < 5 or bottom - top < 5:  # the sliders' ends together: keep at least 5 % each way
        crop = None
    return None if crop == (0, 0, 1, 1) else crop, ink


st.title(t("digit.title"))
st.caption(t("digit.lead"))

# The link holds settings only: an upload, a photo or a drawing never leaves this session.
on_sample = lambda given: given.get("source", "sample") == "sample"  # noqa: E731
NOISE = (links.Param("noise_factor", "digit_noise_factor", 0.5, links.number(0.0, 1.0), links.show_number()),
         links.Param("kind", "digit_noise_kind", data.NOISE_KINDS[0], links.choice(data.NOISE_KINDS)))
LINK = (links.Param("source", "digit_source", "sample", links.choice(SOURCES)),
        links.Param("sample", "sample_index", models.DIGIT_SAMPLE[0], links.integer(0, 9_999), when=on_sample),
        links.Param("pen", "sample_pen", models.DIGIT_SAMPLE[1], links.integer(-3, 6), when=on_sample),
        links.Param("photo", "sample_photo", False, links.flag, links.show_flag, when=on_sample)) + NOISE
links.restore("your_digit", LINK, t)
links.defaults(LINK)
# Streamlit forgets a widget's state after a run that does not draw it: the noise slider before anything is
# uploaded, the rescue controls on another source. Written back on every run, they keep their values.
for key in (*(p.key for p in NOISE), "digit_crop_x", "digit_crop_y", "digit_ink"):
    if key in ss:
        ss[key] = ss[key]

source = st.segmented_control(t("digit.source"), SOURCES, key="digit_source",
                              format_func=lambda s: t(f"digit.source.{s}"), required=True)
# a sample's settings only with a sample
link_values = {} if source == "sample" else {"sample": None, "pen": None, "photo": None}
if source != "sample":
    st.caption(t("links.private"))
left, right = st.columns([2, 3], gap="large")
with left:
    picture = {"upload": upload, "camera": camera, "draw": draw, "sample": sample}[source]()
    crop, ink = None, "auto"
    if picture is not None and (source in ("upload", "camera") or (source == "sample" and ss.get("sample_photo"))):
        crop, ink = rescue(picture)

if picture is None:
    links.stop(LINK, link_values)
try:
    image, names, dark_ink, steps_png = prepare(picture, crop, ink)
except preprocess.PreprocessError as exc:
    # Worded from the reason, so it reads in the page's language; the next upload simply replaces it.
    st.error(t("digit.error", message=t(f"digit.error.{exc.reason}", **LIMITS)), icon=":material/image_not_supported:")
    st.caption(t("digit.error_next"))
    links.stop(LINK, link_values)

with right:
    st.subheader(t("digit.steps"))
    st.image(steps_png, width="stretch")
    st.caption(t("digit.steps_legend", steps=" · ".join(f"{i} {t(f'digit.step.{name}')}" for i, name in enumerate(names, 1)),
                 strokes=names.index("strokes") + 1)
               + " " + t("digit.ink_found", ink=t(f"digit.ink.{'dark' if dark_ink else 'light'}")))

digit = image[None, :, :, None]
manifest = models.manifest()

st.subheader(t("digit.prediction"))
probabilities = None
try:
    probabilities = models.forward("classifier")(digit)[0]
except pretrained.PretrainedError as exc:
    st.error(t("error.model", name=t("model.classifier"), detail=str(exc)), icon=":material/error:")
else:
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    c1.image(big(image), width=140)
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
    """One picture of the noise strip, as (28×28 image, PSNR against the digit): name None is the noisy digit."""
    from core import metrics

    noisy = data.add_noise(digit, noise_factor, kind, seed=0)
    image = noisy if name is None else models.forward(name)(noisy)
    return np.asarray(image)[0, :, :, 0], float(metrics.quality(digit, image)[0][0])


@st.cache_data(show_spinner=False, max_entries=512)
def strip_png(cells, notes) -> bytes:
    return models.png(grids.mosaic(list(cells), per_line=4, notes=list(notes)))


@st.fragment
def noise_strip(digit, names):
    """Only this part reruns when its noise slider moves: the steps, the prediction and the VAE stay put.

    The slider's state is written back on every run of the page, also those where nothing is uploaded yet and
    the slider is not drawn: forgotten, the slider, the picture and the link told three different values."""
    st.subheader(t("digit.denoise"))
    st.caption(t("digit.denoise_lead"))
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    noise_factor = c1.slider(t("denoise.noise_factor"), 0.0, 1.0, step=0.05, key="digit_noise_factor",
                             help=t("denoise.noise_factor_help"))
    kind = c2.radio(t("denoise.noise_kind"), data.NOISE_KINDS, horizontal=True, key="digit_noise_kind",
                    format_func=lambda k: t(f"noise.{k}"))
    cells, notes, labels = [digit[0, :, :, 0]], [""], [t("digit.row.yours")]
    for name in (None, *names):
        label = t("digit.row.noisy") if name is None else t(f"model.{name}")
        try:
            cell, psnr = strip_cell(digit, noise_factor, kind, name, name and models.sha(name))
        except pretrained.PretrainedError as exc:  # this model is broken; the others still show
            st.error(t("error.model", name=label, detail=str(exc)), icon=":material/error:")
            continue
        cells.append(cell)
        notes.append("PSNR ∞" if np.isinf(psnr) else f"{psnr:.1f} dB")
        labels.append(label)
    st.image(strip_png(tuple(cells), tuple(notes)), width=STRIP_WIDTH)
    st.caption(t("digit.strip_legend", cells=" · ".join(f"{i} {label}" for i, label in enumerate(labels, 1))))
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
        c2.vega_lite_chart(style.chart({
            "height": 300, "layer": [
                {"data": {"values": points}, "mark": {"type": "circle", "size": 6, "opacity": 0.35},
                 "encoding": {"x": {"field": "z1", "type": "quantitative"}, "y": {"field": "z2", "type": "quantitative"},
                              "color": colours.digits(t("latent.label"))}},
                {"data": {"values": [{"z1": float(z[0]), "z2": float(z[1])}]},
                 "mark": {"type": "point", "shape": "cross", "size": 400, "strokeWidth": 4, "color": "#111"},
                 "encoding": {"x": {"field": "z1", "type": "quantitative"}, "y": {"field": "z2", "type": "quantitative"}}},
            ]}), width="stretch")
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
