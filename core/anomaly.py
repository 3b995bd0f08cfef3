"""Anomaly detection by "train only on what is normal": scores, thresholds and the published yardstick.

Two kinds of one-class model, each trained on the normal digit(s) only. High score = anomaly.
- geometric_* (core.models.geometric_detector): a CNN that learnt to tell which flip, turn or shift was
  applied to a normal digit; the score is how far its description of an image lies from the normal
  digits' (a Mahalanobis distance). The lab's best detector.
- oneclass_* (a VAE): how badly it explains an image: the negative ELBO (nats), or the plain
  reconstruction error of its mean code. Simple digits it never saw (a "1") it often explains well.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from core import data

# Deep SVDD, one-class MNIST, AUROC per normal digit (Ruff et al., ICML 2018, Table 1)
DEEP_SVDD = (0.980, 0.997, 0.917, 0.919, 0.949, 0.885, 0.983, 0.946, 0.939, 0.965)
SCORES = ("geometric", "neg_elbo", "reconstruction")
FAMILY = {"geometric": "geometric", "neg_elbo": "oneclass", "reconstruction": "oneclass"}  # score → models
SCORE_SEED = 1234  # the z draws of the ELBO score: the same figures every time, as the manifest's
# Training in the app uses only the shipped test digits (the app never downloads MNIST): the first
# half trains, the second half is scored, so no digit is scored by a model that saw it.
APP_SPLIT = 5000
APP_EPOCHS = {"geometric": 30, "oneclass": 8}  # ~20–30 s and ~5 s on 2 CPU cores (≤ 2,500 digits)
APP_MAX_IMAGES = 2500  # of the first half, at most this many normal digits: training stays ~a minute


# The geometric detector's self-supervised task (Golan & El-Yaniv, NeurIPS 2018): which of these was
# applied? Mirror or not × 0–3 quarter turns × a shift of −4/0/+4 px on each axis = 72 transformations.
# 4 px moves a 20-px digit to the frame's edge without cutting it off.
SHIFT = 4
TRANSFORMS = tuple((flip, turns, dx, dy) for flip in (False, True) for turns in range(4)
                   for dx in (-SHIFT, 0, SHIFT) for dy in (-SHIFT, 0, SHIFT))


def transform(images, t: int) -> np.ndarray:
    """Transformation number `t` of TRANSFORMS applied to images (N, 28, 28[, 1]); shifted-in pixels are 0."""
    flip, turns, dx, dy = TRANSFORMS[t]
    x = np.asarray(images)
    if flip:
        x = x[:, :, ::-1]
    x = np.ascontiguousarray(np.rot90(x, turns, axes=(1, 2)))
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    src_y, dst_y = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    src_x, dst_x = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, dst_y, dst_x] = x[:, src_y, src_x]
    return out


def transformed(images, labels) -> np.ndarray:
    """Each image under its own transformation: the geometric detector's training batch for `labels`."""
    images, labels = np.asarray(images), np.asarray(labels)
    out = np.empty_like(images)
    for t in np.unique(labels):
        out[labels == t] = transform(images[labels == t], int(t))
    return out


def shipped_model(digits, kind: str = "geometric") -> str | None:
    """The shipped one-class model behind score `kind` for this choice of normal digits, if there is one."""
    digits = sorted(set(digits))
    return f"{FAMILY[kind]}_{digits[0]}" if len(digits) == 1 else None


def score(model, images, kind: str = "geometric", batch_size: int = 2000) -> np.ndarray:
    """Anomaly score per image (higher = less like the normal digits)."""
    from core import metrics
    from core.pretrained import compiled_forward

    if kind not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, not {kind!r}")
    x = np.asarray(images, np.float32)
    if kind == "neg_elbo":
        return metrics.neg_elbo(model, x, seed=SCORE_SEED)
    forward = compiled_forward(model)
    out = np.concatenate([forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    if kind == "geometric":
        return out.astype(np.float64)
    return metrics.bce(x, out) * 28 * 28  # summed over pixels, in nats like the ELBO


SCORES_FILE = "oneclass_scores.npz"  # beside the weights: every shipped one-class model's test-digit scores


def write_scores(folder=None, log=print) -> str:
    """Score all the shipped test digits with every shipped one-class model, each score it offers, and save
    them beside the weights with the sha256 of the weights that made them. The anomaly page reads them
    instead of scoring 10,000 digits when a student picks a normal digit (seconds per model and score)."""
    from core import pretrained

    folder = data.PRETRAINED_DIR if folder is None else folder
    manifest = pretrained.load_manifest(folder / "manifest.json")
    x = data.to_float(data.load_sample(folder / "mnist_test.npz")[0])
    out = {}
    for name in sorted({shipped_model([d], kind) for d in range(10) for kind in SCORES} & set(manifest)):
        model = pretrained.load(name, folder)  # once for all the scores it offers
        out[f"{name}.sha256"] = np.asarray(manifest[name]["sha256"])
        for kind in (k for k in SCORES if name.startswith(FAMILY[k] + "_")):
            started = time.perf_counter()
            out[f"{name}.{kind}"] = score(model, x, kind).astype(np.float32)
            log(f"[{name}] {kind}: {time.perf_counter() - started:.1f} s")
    path = folder / SCORES_FILE
    np.savez_compressed(path, **out)
    return str(path)


def load_scores(folder=None) -> dict[tuple[str, str], np.ndarray]:
    """The shipped scores by (model, score kind), float64 as `score` gives them; a model retrained since
    (other weights than those that made its scores) is left out, so the page scores it afresh."""
    from core import pretrained

    folder = data.PRETRAINED_DIR if folder is None else folder
    path = folder / SCORES_FILE
    if not path.exists():
        return {}
    manifest = pretrained.load_manifest(folder / "manifest.json")
    with np.load(path, allow_pickle=False) as f:
        stored = {k: f[k] for k in f.files}
    found = {}
    for key, values in stored.items():
        name, kind = key.rsplit(".", 1)
        if kind in SCORES and str(stored[f"{name}.sha256"]) in pretrained.same_weights(manifest.get(name, {})):
            found[name, kind] = values.astype(np.float64)
    return found


def verdict(score: float, typical_sorted) -> tuple[float, str]:
    """How one image's score compares with real digits of the class: (share of them scoring lower, word).

    "typical" up to the 90th percentile, "unusual" up to the highest real one, "alien" beyond all of them.
    """
    typical_sorted = np.asarray(typical_sorted)
    rank = float(np.searchsorted(typical_sorted, score) / len(typical_sorted))
    return rank, "typical" if rank <= 0.9 else "unusual" if score <= typical_sorted[-1] else "alien"


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")


def confusion(is_anomaly, scores, threshold: float) -> Confusion:
    """Flag every image scoring above `threshold` as an anomaly, and count how that went."""
    is_anomaly = np.asarray(is_anomaly, bool)
    flagged = np.asarray(scores) > threshold
    return Confusion(tp=int((flagged & is_anomaly).sum()), fp=int((flagged & ~is_anomaly).sum()),
                     tn=int((~flagged & ~is_anomaly).sum()), fn=int((~flagged & is_anomaly).sum()))


def app_training_indices(labels, digits) -> np.ndarray:
    """Which shipped test digits train an in-app detector: the normal ones among the first APP_SPLIT,
    at most APP_MAX_IMAGES of them."""
    return np.flatnonzero(np.isin(np.asarray(labels)[:APP_SPLIT], list(digits)))[:APP_MAX_IMAGES]


def app_training_images(digits) -> np.ndarray:
    """The images `app_training_indices` picks, as floats."""
    x, y = data.load_sample()
    return data.to_float(x[app_training_indices(y, digits)])


def train_in_app(digits, kind: str = "geometric", on_epoch=None, epochs: int | None = None, seed: int = 0):
    """The one-class model behind score `kind` for any set of normal digits, trained on the first half of the
    shipped test digits.

    `on_epoch(epoch, epochs, loss)` is called after each epoch (a progress bar; raising stops training).
    """
    import keras

    from core import models
    from core.recipes import ONE_CLASS_LATENT

    digits = sorted(set(int(d) for d in digits))
    if not digits or not set(digits) <= set(range(10)):
        raise ValueError("choose one or more normal digits from 0 to 9")
    if len(digits) == 10:
        raise ValueError("with every digit normal there is nothing left to call an anomaly")
    family = FAMILY[kind]
    epochs = APP_EPOCHS[family] if epochs is None else epochs
    keras.utils.set_random_seed(seed)
    x = app_training_images(digits)

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, float((logs or {}).get("loss", float("nan"))))

    if family == "oneclass":
        model = models.vae(latent_dim=ONE_CLASS_LATENT)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(x, epochs=epochs, batch_size=64, shuffle=True, verbose=0, callbacks=[Report()])
        return model
    model = models.geometric_detector()
    steps = epochs * -(-len(x) // 128)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return fit_geometric(model, x, epochs, seed=seed, callbacks=[Report()])


def fit_geometric(model, images, epochs: int, batch_size: int = 128, seed: int = 0, callbacks=(), verbose=0):
    """Train a compiled geometric detector on normal images only: every epoch, each image under a freshly
    drawn transformation (labelled with its number); then fit its distance to the untouched images."""
    draws = np.random.default_rng(seed)
    for epoch in range(epochs):
        labels = draws.integers(0, len(TRANSFORMS), len(images))
        model.fit(transformed(images, labels), labels, initial_epoch=epoch, epochs=epoch + 1,
                  batch_size=batch_size, shuffle=True, callbacks=list(callbacks), verbose=verbose)
    model.fit_normal(images)
    return model


# ─── The threshold's scale: the histogram's log axis, in round numbers ───────────────────────────────
# Scores of anomalies run to tens of times the normal ones, so the page's histogram is log-scaled; a
# threshold slider spaced linearly would put every useful value in its first few percent.
MOST_OPTIONS = 200  # thresholds the slider offers at most: a step per few pixels of its track


def score_domain(scores) -> tuple[float, float]:
    """The histogram's axis for these scores: their 0.1 % to 99.9 % quantiles (a few extreme scores would
    squash every bar to one side), above 0 (a log axis) and at least 1 % wide."""
    scores = np.asarray(scores, np.float64)
    lo = max(float(np.quantile(scores, 0.001)), 1e-6)
    return lo, max(float(np.quantile(scores, 0.999)), lo * 1.01)


def round_figures(value: float, figures: int) -> float:
    """`value` to `figures` significant figures, as the float whose shortest text is that: 27.56… → 27.6."""
    return float(f"{value:.{figures}g}")


def threshold_options(lo: float, hi: float) -> tuple[float, ...]:
    """The thresholds the slider offers between lo and hi: evenly spaced on a log axis, and round.

    They are the powers of ten's 96th, 48th, 24th… roots (the E96, E48, E24 series of resistor values:
    …, 100, 102, 105, 107, 110, …), as many per decade as keeps them at most MOST_OPTIONS, each rounded to
    3 significant figures (2 from 24 a decade down, where 3 would be no rounder). Every choice of digits
    and score then offers numbers from the same grid, and a link writes "threshold=118", not
    "threshold=118.27450980392157". Rounded to 3 figures, each step stays within a quarter of the mean
    step (at 96 a decade, neighbours differ by 1.8 % to 3.0 %, 2.4 % on average)."""
    if not 0 < lo < hi:
        raise ValueError(f"a log scale needs 0 < lo < hi, not {lo!r} and {hi!r}")
    decades = np.log10(hi) - np.log10(lo)
    per_decade = 96
    while per_decade > 3 and decades * per_decade > MOST_OPTIONS:
        per_decade //= 2
    figures = 3 if per_decade > 24 else 2
    first, last = int(np.ceil(np.log10(lo) * per_decade)), int(np.floor(np.log10(hi) * per_decade))
    values = {round_figures(10 ** (k / per_decade), figures) for k in range(first, last + 1)}
    if len(values) < 2:  # a span narrower than one step: its two ends, to the figures that tell them apart
        figures = next(f for f in range(figures, 18) if round_figures(lo, f) != round_figures(hi, f))
        values = {round_figures(lo, figures), round_figures(hi, figures)}
    return tuple(sorted(values))


def snap(options, value: float) -> float:
    """The option nearest `value` on a log axis; ValueError for a value more than a step beyond either end
    (a link's threshold outside the range the slider offers; the ends lie within a step of the range)."""
    options = np.asarray(options, np.float64)
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{value!r} is not a positive number")
    logs = np.log(options)
    step = (logs[-1] - logs[0]) / (len(logs) - 1)
    if not logs[0] - step <= np.log(value) <= logs[-1] + step:
        raise ValueError(f"{value!r} is outside {options[0]:g}..{options[-1]:g}")
    return float(options[int(np.argmin(np.abs(logs - np.log(value))))])


def threshold_text(value: float) -> str:
    """A threshold as the slider and a link write it: "118", "27.6", "0.00123"."""
    return f"{float(value):.12g}"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.anomaly", description=__doc__.splitlines()[0])
    p.add_argument("--write-scores", action="store_true", help=f"write pretrained/{SCORES_FILE}")
    a = p.parse_args(argv)
    if not a.write_scores:
        p.print_help()
        return 2
    print("wrote", write_scores(log=lambda line: print(line, flush=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
