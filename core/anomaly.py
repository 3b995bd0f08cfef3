"""Anomaly detection by "train only on what is normal": scores, thresholds and the published yardstick.

A one-class VAE has seen only the normal digit(s). Its score for an image is how badly it explains it:
the negative ELBO (nats), or the plain reconstruction error of its mean code. High score = anomaly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import data

# Deep SVDD, one-class MNIST, AUROC per normal digit (Ruff et al., ICML 2018, Table 1)
DEEP_SVDD = (0.980, 0.997, 0.917, 0.919, 0.949, 0.885, 0.983, 0.946, 0.939, 0.965)
SCORES = ("neg_elbo", "reconstruction")
SCORE_SEED = 1234  # the z draws of the ELBO score: the same figures every time, as the manifest's
# Training in the app uses only the shipped test digits (the app never downloads MNIST): the first
# half trains, the second half is scored, so no digit is scored by a model that saw it.
APP_SPLIT = 5000
APP_EPOCHS = 8
APP_MAX_IMAGES = 2500  # of the first half, at most this many normal digits: training stays ~a minute


def shipped_model(digits) -> str | None:
    """The shipped one-class model for this choice of normal digits, if there is one."""
    digits = sorted(set(digits))
    return f"oneclass_{digits[0]}" if len(digits) == 1 else None


def score(vae, images, kind: str = "neg_elbo") -> np.ndarray:
    """Anomaly score per image (higher = less like the normal digits)."""
    from core import metrics

    if kind not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, not {kind!r}")
    x = np.asarray(images, np.float32)
    if kind == "neg_elbo":
        return metrics.neg_elbo(vae, x, seed=SCORE_SEED)
    recon = np.concatenate([np.asarray(vae(x[i:i + 2000])) for i in range(0, len(x), 2000)])
    return metrics.bce(x, recon) * 28 * 28  # summed over pixels, in nats like the ELBO


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


def train_in_app(digits, on_epoch=None, epochs: int = APP_EPOCHS, seed: int = 0):
    """A one-class VAE for any set of normal digits, trained on the first half of the shipped test digits.

    `on_epoch(epoch, epochs, loss)` is called after each epoch (a progress bar; raising stops training).
    """
    import keras

    from core import models, train

    digits = sorted(set(int(d) for d in digits))
    if not digits or not set(digits) <= set(range(10)):
        raise ValueError("choose one or more normal digits from 0 to 9")
    if len(digits) == 10:
        raise ValueError("with every digit normal there is nothing left to call an anomaly")
    keras.utils.set_random_seed(seed)
    x = app_training_images(digits)
    model = models.vae(latent_dim=train.ONE_CLASS_LATENT)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, float((logs or {}).get("loss", float("nan"))))

    model.fit(x, epochs=epochs, batch_size=64, shuffle=True, verbose=0, callbacks=[Report()])
    return model
