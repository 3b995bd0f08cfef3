"""Anomaly detection: train only on what is normal, flag what is not — and show honestly how well that works."""
import re

import numpy as np
import streamlit as st

from core import anomaly, data, pretrained
from ui import jobs, links, models, page, style

t = page.setup("anomaly")  # waits for its warm-up part
ss = st.session_state
SHOWN = 10  # digits in each "surprises" strip


@st.cache_data(show_spinner=False, max_entries=64)
def analysis(scores, labels, digits):
    """Everything the threshold does not change, computed once per choice of digits and score: the ROC,
    its AUROC, and the most surprising digits both ways."""
    from core import metrics

    is_anomaly = ~np.isin(labels, digits)
    fpr, tpr, _, auroc = metrics.roc(is_anomaly, scores)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 400)).astype(int))  # enough points to draw
    order = np.argsort(scores)
    odd_normals = [int(i) for i in order[::-1] if not is_anomaly[i]][:SHOWN]
    sly_anomalies = [int(i) for i in order if is_anomaly[i]][:SHOWN]
    return dict(is_anomaly=is_anomaly, fpr=fpr[keep], tpr=tpr[keep], auroc=auroc,
                odd_normals=odd_normals, sly_anomalies=sly_anomalies)


def strip_chart(chosen, labels, scores, offset, with_label):
    """Digits in two rows of five, each with its score under it (and its label, for anomalies): the
    thumbnails are the latent page's data URLs, so no picture is made per run. `offset` maps an index
    among the scored digits to the test set's (the in-app split scores its second half)."""
    thumbs = models.thumbnails()
    values = [{"col": k % 5, "row": k // 5, "url": thumbs[i + offset], "index": i + offset, "label": int(labels[i]),
               "text": f"{labels[i]}: {scores[i]:.0f}" if with_label else f"{scores[i]:.0f}"}
              for k, i in enumerate(chosen)]
    return {"height": 190, "data": {"values": values}, "config": {"view": {"stroke": None}},
            "encoding": {"x": {"field": "col", "type": "ordinal", "axis": None},
                         "y": {"field": "row", "type": "ordinal", "axis": None},
                         "tooltip": [{"field": "index", "title": "#"}, {"field": "label", "title": t("latent.label")},
                                     {"field": "text", "title": t("anomaly.score_word")}]},
            "layer": [{"mark": {"type": "image", "width": 60, "height": 60, "dy": -10}, "encoding": {"url": {"field": "url"}}},
                      {"mark": {"type": "text", "dy": 38, "fontSize": 12}, "encoding": {"text": {"field": "text"}}}]}


def histogram(scores, is_anomaly, threshold, kind, lo, hi):
    """Counts of normal and anomalous scores in 60 bins, log-spaced from lo to hi: the scores of anomalies
    run to tens of times the normal ones, and on a linear axis every normal digit would sit in one bar."""
    scores = np.asarray(scores, np.float64)
    edges = np.geomspace(lo, hi, 61)
    clipped = np.clip(scores, edges[0], edges[-1])
    values = []
    for group, members in ((t("anomaly.group.normal"), ~is_anomaly), (t("anomaly.group.anomalous"), is_anomaly)):
        counts, _ = np.histogram(clipped[members], edges)
        values += [{"from": float(a), "to": float(b), "count": int(c), "group": group}
                   for a, b, c in zip(edges[:-1], edges[1:], counts) if c]
    scale = {"type": "log", "domain": [float(edges[0]), float(edges[-1])], "nice": False}
    x = {"field": "from", "type": "quantitative", "scale": scale, "title": t(f"anomaly.score.{kind}")}
    return {
        "height": 260, "layer": [
            {"data": {"values": values}, "mark": {"type": "bar", "opacity": 0.55},
             "encoding": {"x": x, "x2": {"field": "to"},
                          "y": {"field": "count", "type": "quantitative", "stack": None, "title": t("anomaly.count")},
                          "y2": {"datum": 0},  # with x and x2 given, bars would otherwise lie on their side
                          "color": {"field": "group", "type": "nominal", "title": None,
                                    "scale": {"domain": [t("anomaly.group.normal"), t("anomaly.group.anomalous")],
                                              "range": ["#4c78a8", "#e45756"]},
                                    "legend": {"orient": "bottom"}}}},
            {"data": {"values": [{"from": float(np.clip(threshold, edges[0], edges[-1]))}]},
             "mark": {"type": "rule", "color": "#333", "strokeWidth": 2},
             "encoding": {"x": {"field": "from", "type": "quantitative", "scale": scale}}},
        ]}


def roc_chart(fpr, tpr, here):
    return {
        "height": 260, "layer": [
            {"data": {"values": [{"fpr": float(f), "tpr": float(r)} for f, r in zip(fpr, tpr)]},
             "mark": {"type": "line"},
             "encoding": {"x": {"field": "fpr", "type": "quantitative", "title": t("anomaly.fpr")},
                          "y": {"field": "tpr", "type": "quantitative",  # two lines: one was clipped
                                "title": re.split(r"\s*(?=[(（])", t("anomaly.tpr"), maxsplit=1)}}},
            {"data": {"values": [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}]},
             "mark": {"type": "line", "strokeDash": [4, 4], "color": "#999"},
             "encoding": {"x": {"field": "fpr", "type": "quantitative"}, "y": {"field": "tpr", "type": "quantitative"}}},
            {"data": {"values": [here]}, "mark": {"type": "point", "filled": True, "size": 90, "color": "#333"},
             "encoding": {"x": {"field": "fpr", "type": "quantitative"}, "y": {"field": "tpr", "type": "quantitative"}}},
        ]}


st.title(t("anomaly.title"))
st.markdown(t("anomaly.lead"))

try:
    x_all, y_all = models.test_digits()
except FileNotFoundError as exc:
    st.error(t("error.sample_missing", detail=str(exc)))
    st.stop()
manifest = models.manifest()

# The threshold is judged once the scores are known (their range), and its default is theirs too.
THRESHOLD = links.Param("threshold", None, None, float, anomaly.threshold_text, later=True)
LINK = (links.Param("normal", "normal_digits", [0], links.choices(range(10), 1, 9), links.show_list),
        links.Param("score", "score_kind", anomaly.SCORES[0], links.choice(anomaly.SCORES)),
        THRESHOLD)
link = links.restore("anomaly", LINK, t)
links.defaults(LINK)

c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
digits = c1.multiselect(t("anomaly.normal"), list(range(10)), key="normal_digits")
kind = c2.radio(t("anomaly.score"), anomaly.SCORES, horizontal=True, key="score_kind",
                format_func=lambda k: t(f"anomaly.score.{k}"))
if not digits or len(digits) == 10:
    st.warning(t("anomaly.choose"))
    links.stop(LINK)
digits = sorted(digits)

st.caption(t(f"anomaly.explain.{kind}"))
family = anomaly.FAMILY[kind]
name = anomaly.shipped_model(digits, kind)
if name is not None and name in manifest:
    try:
        scores = models.shipped_scores(name, kind)
    except pretrained.PretrainedError as exc:
        st.error(t("error.model", name=name, detail=str(exc)), icon=":material/error:")
        links.stop(LINK)
    labels = y_all
    st.caption(t("anomaly.shipped", name=name, epochs=manifest[name]["epochs"]))
else:
    # Any other choice: a detector trained here, on the first half of the test digits, scored on the rest.
    key = (tuple(digits), family)
    ss.setdefault("detectors", {})
    epochs = anomaly.APP_EPOCHS[family]
    if key not in ss.detectors:
        st.info(t("anomaly.needs_training", digits=", ".join(map(str, digits)), epochs=epochs,
                  model=t(f"anomaly.model.{family}"),
                  images=f"{len(anomaly.app_training_indices(y_all, digits)):,}"))  # a count, no decoding
        if ss.pop("training_for", None) == key:  # a run that started training never finished it
            st.warning(t("anomaly.cancelled"))
        if not st.button(t("anomaly.train"), icon=":material/model_training:", type="primary"):
            links.stop(LINK)  # a link's threshold waits for the scores
        st.button(t("anomaly.cancel"), icon=":material/cancel:")  # any click reruns, which stops training
        ss.training_for = key
        bar = st.progress(0.0, text=t("anomaly.training", epoch=0, epochs=epochs))
        try:
            with jobs.claimed(), jobs.slot(lambda ahead, waited: bar.progress(
                    0.0, text=t("jobs.queued", ahead=ahead, seconds=f"{waited:.0f}"))):
                bar.progress(0.0, text=t("anomaly.training", epoch=0, epochs=epochs))
                model = anomaly.train_in_app(digits, kind, on_epoch=lambda e, n, loss: bar.progress(
                    e / n, text=t(f"anomaly.training_loss.{family}", epoch=e, epochs=n, loss=f"{loss:.2f}")))
        except jobs.Refused as exc:
            ss.pop("training_for", None)
            bar.empty()
            st.warning(jobs.refusal(t, exc), icon=":material/block:")
            links.stop(LINK)
        ss.pop("training_for", None)
        ss.detectors[key] = {kind_: anomaly.score(model, data.to_float(x_all[anomaly.APP_SPLIT:]), kind_)
                             for kind_ in anomaly.SCORES if anomaly.FAMILY[kind_] == family}
        st.rerun()  # draw the page afresh, without the train and cancel buttons of this run
    scores = ss.detectors[key][kind]
    labels = y_all[anomaly.APP_SPLIT:]
    st.caption(t("anomaly.in_app", split=f"{anomaly.APP_SPLIT:,}", n=f"{len(labels):,}"))

in_app = name is None or name not in manifest
found = analysis(scores, labels, tuple(digits))
is_anomaly, fpr, tpr, auroc = found["is_anomaly"], found["fpr"], found["tpr"], found["auroc"]
normal_scores = scores[~is_anomaly]

# The threshold moves along the histogram's log axis in round steps; the axis then spans every step, so
# its rule line is never clipped away from where the slider says.
lo, hi = anomaly.score_domain(scores)
options = anomaly.threshold_options(lo, hi)
lo, hi = min(lo, options[0]), max(hi, options[-1])
default = anomaly.snap(options, np.clip(np.quantile(normal_scores, 0.95), lo, hi))  # 5 % of normal digits flagged
threshold_key = f"threshold_{'_'.join(map(str, digits))}_{kind}"
link.take("threshold", threshold_key, lambda text: anomaly.snap(options, float(text)))  # old exact links too
if ss.get(threshold_key) not in options:
    ss[threshold_key] = default
threshold = st.select_slider(t("anomaly.threshold"), options, key=threshold_key, format_func=anomaly.threshold_text,
                             help=t("anomaly.threshold_help"))
cm = anomaly.confusion(is_anomaly, scores, threshold)
st.caption(t("anomaly.threshold_means", threshold=anomaly.threshold_text(threshold),
             normal=f"{cm.fp / max(cm.fp + cm.tn, 1):.1%}", anomalies=f"{cm.tp / max(cm.tp + cm.fn, 1):.1%}"))

cells = iter(st.columns(4))
next(cells).metric("AUROC", f"{auroc:.3f}")
if len(digits) == 1:  # Deep SVDD published one row: one normal digit at a time
    next(cells).metric(t("anomaly.deep_svdd"), f"{anomaly.DEEP_SVDD[digits[0]]:.3f}",
                       delta=f"{auroc - anomaly.DEEP_SVDD[digits[0]]:+.3f}", delta_color="normal")
next(cells).metric(t("anomaly.precision"), f"{cm.precision:.1%}")
next(cells).metric(t("anomaly.recall"), f"{cm.recall:.1%}")

c1, c2 = st.columns(2)
with c1:
    st.markdown(f"**{t('anomaly.histogram')}**")
    st.vega_lite_chart(style.chart(histogram(scores, is_anomaly, threshold, kind, lo, hi)), width="stretch")
with c2:
    st.markdown(f"**{t('anomaly.roc')}**")
    here = {"fpr": cm.fp / max(cm.fp + cm.tn, 1), "tpr": cm.tp / max(cm.tp + cm.fn, 1)}
    st.vega_lite_chart(style.chart(roc_chart(fpr, tpr, here)), width="stretch")

st.markdown(f"**{t('anomaly.confusion')}**")
st.table({t("anomaly.truth"): [t("anomaly.group.anomalous"), t("anomaly.group.normal")],
          t("anomaly.flagged"): [f"{cm.tp:,}", f"{cm.fp:,}"], t("anomaly.passed"): [f"{cm.fn:,}", f"{cm.tn:,}"]})

odd_normals, sly_anomalies = found["odd_normals"], found["sly_anomalies"]
c1, c2 = st.columns(2)
c1.markdown(f"**{t('anomaly.odd_normals')}**")
offset = anomaly.APP_SPLIT if in_app else 0
c1.vega_lite_chart(style.chart(strip_chart(odd_normals, labels, scores, offset, False)), width="stretch")
c2.markdown(f"**{t('anomaly.sly_anomalies')}**")
c2.vega_lite_chart(style.chart(strip_chart(sly_anomalies, labels, scores, offset, True)), width="stretch")

st.subheader(t("anomaly.table"))
# The AUROC each shipped model scored when it was trained, per normal digit: what the manifest records.
columns = {t(f"anomaly.col.{f}"): {d: manifest[f"{f}_{d}"]["metrics"]["auroc"] for d in range(10)
                                   if "auroc" in manifest.get(f"{f}_{d}", {}).get("metrics", {})}
           for f in ("geometric", "oneclass")}
columns = {c: v for c, v in columns.items() if v}
if columns:
    col_digit = t("anomaly.col.digit")
    rows = [{col_digit: str(d), **{c: f"{v[d]:.3f}" if d in v else "–" for c, v in columns.items()},
             t("anomaly.col.deep_svdd"): f"{anomaly.DEEP_SVDD[d]:.3f}"} for d in range(10)]
    rows.append({col_digit: t("anomaly.col.mean"),
                 **{c: f"{np.mean(list(v.values())):.3f}" if len(v) == 10 else "–" for c, v in columns.items()},
                 t("anomaly.col.deep_svdd"): f"{np.mean(anomaly.DEEP_SVDD):.3f}"})
    st.table(rows)  # every row, the mean included, without scrolling
    st.caption(t("anomaly.table_caption"))
else:
    st.info(t("anomaly.table_missing"))

links.finish(LINK[:-1] + (links.Param("threshold", threshold_key, default, float, anomaly.threshold_text),))
