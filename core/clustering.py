"""Digits that group themselves: representations, clusterings, their scores, and the lab's own clustering.

No label trains anything here or chooses between runs. Labels only measure a result after the fact (`scores`),
and the clustering page shows them only when asked.

The lab's own clustering (`assign`) is a network, `core.models.cluster_reader`, trained by
`python -m core.train clusters` in three steps, on the 60,000 training digits' pixels alone:
1. N2D (McConville et al., 2019): a dense autoencoder's 10-number code, mapped by UMAP to 10 dimensions, where a
   Gaussian mixture finds 10 groups;
2. a reader CNN learns those groups from each group's most typical half (the mixture's densest), with the digit
   classifier's augmentation, so it learns shapes rather than the groups' quirks;
3. a fresh reader learns from the first one's surest answers, 80 % of each group.
The reader then names the group of any digit from its shipped weights alone, test digits and drawings included.
"""
from __future__ import annotations

import time

import numpy as np

REPRESENTATIONS = ("pixels", "pca", "seed_ae", "vae", "ours")
METHODS = ("kmeans", "gmm", "hdbscan")
K_RANGE = (2, 20)
DEFAULT = ("ours", "kmeans", 10)
PCA_DIMS = 50
# The training recipe's steps (recorded in the manifest by core.train)
AE_EPOCHS, AE_BATCH = 30, 256
UMAP = dict(n_components=10, n_neighbors=20, min_dist=0.0)
ROUNDS = ((0.5, 6), (0.8, 8))  # (share of each group taught, epochs) per reader round
READER_BATCH = 128


# ─── Scores: labels only measure ────────────────────────────────────────────────────────────────────────
def contingency(labels, clusters, k: int | None = None) -> np.ndarray:
    """counts[c, d]: how many digits of class d fell in cluster c (cluster −1, HDBSCAN's noise, left out)."""
    labels, clusters = np.asarray(labels, int), np.asarray(clusters, int)
    k = int(clusters.max()) + 1 if k is None else k
    counts = np.zeros((max(k, 1), 10), int)
    keep = clusters >= 0
    np.add.at(counts, (clusters[keep], labels[keep]), 1)
    return counts


def matching(labels, clusters) -> dict[int, int]:
    """The one-to-one map cluster → digit that gets most digits right (Hungarian matching); with more clusters
    than digits, the clusters left over map to no digit."""
    from scipy.optimize import linear_sum_assignment

    counts = contingency(labels, clusters)
    rows, cols = linear_sum_assignment(-counts)
    return {int(r): int(c) for r, c in zip(rows, cols)}


def accuracy(labels, clusters) -> float:
    """ACC: the share of digits whose cluster maps to their digit under `matching` (noise and unmatched clusters
    count as wrong)."""
    mapped = to_digits(clusters, matching(labels, clusters))
    return float(np.mean(mapped == np.asarray(labels)))


def to_digits(clusters, mapping: dict[int, int]) -> np.ndarray:
    """Each digit's cluster replaced by the digit the mapping names (−1 where it names none)."""
    clusters = np.asarray(clusters, int)
    table = np.full(max(int(clusters.max()) + 1, max(mapping, default=0) + 1, 1), -1)
    for c, d in mapping.items():
        table[c] = d
    return np.where(clusters >= 0, table[np.maximum(clusters, 0)], -1)


def scores(labels, clusters) -> dict:
    """ACC, NMI and ARI of a clustering against the true digits."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"acc": accuracy(labels, clusters), "nmi": float(normalized_mutual_info_score(labels, clusters)),
            "ari": float(adjusted_rand_score(labels, clusters))}


# ─── The lab's own clustering ──────────────────────────────────────────────────────────────────────────
def _densest(groups, confidence, share: float) -> np.ndarray:
    """A mask of each group's `share` most confident members."""
    keep = np.zeros(len(groups), bool)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        keep[members[np.argsort(-confidence[members])[:max(1, int(share * len(members)))]]] = True
    return keep


def _predict(model, x, batch: int = 2000) -> np.ndarray:
    from core.pretrained import compiled_forward

    if tuple(model.input_shape[1:]) == (28, 28, 1):
        forward = compiled_forward(model)
    else:  # the dense autoencoder's encoder, on flat pixels: called directly (training only)
        forward = lambda part: model(part, training=False)  # noqa: E731
    return np.concatenate([np.asarray(forward(x[i:i + batch])) for i in range(0, len(x), batch)])


def train_reader(reader_builder, x_train, seed: int = 0, verbose=2, log=print):
    """The three steps above on `x_train` ((N, 28, 28, 1) floats in [0, 1]; no labels are taken). Returns the
    final reader and a record of each step: sizes, seconds, how many digits each round taught."""
    import keras
    import umap
    from sklearn.mixture import GaussianMixture

    from core import models

    record, t0 = {}, time.time()
    keras.utils.set_random_seed(seed)
    flat = x_train.reshape(len(x_train), -1)
    autoencoder, encoder = models.dense_autoencoder()
    autoencoder.compile(keras.optimizers.Adam(1e-3), "mse")
    autoencoder.fit(flat, flat, batch_size=AE_BATCH, epochs=AE_EPOCHS, shuffle=True, verbose=verbose)
    codes = _predict(encoder, flat)
    record["autoencoder"] = {"layers": "784-500-500-2000-10 and back, relu", "loss": "mse", "epochs": AE_EPOCHS,
                             "batch_size": AE_BATCH, "seconds": round(time.time() - t0, 1)}
    log(f"[clusters] autoencoder trained in {record['autoencoder']['seconds']:.0f} s; UMAP of its codes")

    t1 = time.time()
    mapped = umap.UMAP(**UMAP, random_state=seed).fit_transform(codes)
    mixture = GaussianMixture(10, covariance_type="full", random_state=seed).fit(mapped)
    groups, confidence = mixture.predict(mapped), mixture.score_samples(mapped)
    record["n2d"] = {"umap": UMAP, "mixture": "GaussianMixture(10, full covariance)",
                     "seconds": round(time.time() - t1, 1),
                     "group_sizes": np.bincount(groups, minlength=10).tolist()}
    log(f"[clusters] UMAP and mixture in {record['n2d']['seconds']:.0f} s; group sizes {record['n2d']['group_sizes']}")

    record["rounds"] = []
    for n, (share, epochs) in enumerate(ROUNDS):
        t2 = time.time()
        taught = _densest(groups, confidence, share)
        reader = reader_builder()
        steps = epochs * int(np.ceil(taught.sum() / READER_BATCH))
        reader.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
                       "sparse_categorical_crossentropy")
        reader.fit(x_train[taught], groups[taught], batch_size=READER_BATCH, epochs=epochs, shuffle=True,
                   verbose=verbose)
        probabilities = _predict(reader, x_train)
        groups, confidence = probabilities.argmax(1), probabilities.max(1)
        record["rounds"].append({"taught": int(taught.sum()), "share_of_each_group": share, "epochs": epochs,
                                 "seconds": round(time.time() - t2, 1)})
        log(f"[clusters] reader round {n + 1}: taught {taught.sum():,} digits in {time.time() - t2:.0f} s")
    record["seconds"] = round(time.time() - t0, 1)
    return reader, record


def assign(images, model=None) -> np.ndarray:
    """Cluster ids (0–9) for (N, 28, 28, 1) float32 MNIST-style digits in [0, 1], from the shipped reader alone
    (`model`: another trained cluster_reader)."""
    from core import pretrained

    x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
    model = pretrained.load("clusters") if model is None else model
    return _predict(model, x).argmax(1)


def features(images, model=None) -> np.ndarray:
    """The reader's 128-number representation of each digit (its `features` layer): the page's "ours"."""
    import keras

    from core import pretrained

    model = pretrained.load("clusters") if model is None else model
    inner = keras.Model(model.input, model.get_layer("features").output)
    return _predict(inner, np.asarray(images, np.float32).reshape(-1, 28, 28, 1))
