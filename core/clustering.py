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
DEFAULT = ("ours", "gmm", 10)  # the page opens on the lab's best view
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
    """The reader's 128-number representation of each digit (its `features` layer), scaled to length 1: the
    page's "ours". A softmax head reads the features' direction, so directions are what group the digits
    (k-means on them: ACC 0.973, against 0.956 unscaled)."""
    import keras

    from core import pretrained

    model = pretrained.load("clusters") if model is None else model
    inner = keras.Model(model.input, model.get_layer("features").output)
    f = _predict(inner, np.asarray(images, np.float32).reshape(-1, 28, 28, 1))
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-8)


# ─── What the clustering page shows: representations, shipped fits and maps ───────────────────────────
FITS_FILE = "clustering.npz"
MADE_FROM = ("seed_ae", "vae", "clusters")  # the shipped weights the representations come from
MAP_UMAP = dict(n_components=2, n_neighbors=15, min_dist=0.1)
HDBSCAN = dict(min_cluster_size=50, min_samples=10, copy=True)


def representations(images) -> dict[str, np.ndarray]:
    """Each test digit as each representation the page offers: its 784 pixels, their first 50 principal
    components (fitted on these digits: no labels, no training set), the seed autoencoder's 128-d code, the
    VAE's 2-D code (its means) and ours (the reader's 128-d features)."""
    from sklearn.decomposition import PCA

    from core import latent, pretrained

    x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
    pixels = x.reshape(len(x), -1)
    return {"pixels": pixels, "pca": PCA(PCA_DIMS, random_state=0).fit_transform(pixels).astype(np.float32),
            "seed_ae": latent.seed_codes(pretrained.load("seed_ae"), x).astype(np.float32),
            "vae": latent.encode(pretrained.load("vae"), x).astype(np.float32),
            "ours": features(x).astype(np.float32)}


def fit(points, method: str, k: int | None = None, seed: int = 0) -> np.ndarray:
    """Cluster ids for each point: k-means or a Gaussian mixture with k groups, or HDBSCAN, which finds its own
    number (−1: noise, in no group). The mixture's covariances are full up to 50 dimensions, diagonal above."""
    from sklearn.cluster import HDBSCAN as Hdbscan
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "kmeans":
        return KMeans(k, n_init=4, random_state=seed).fit_predict(points)
    if method == "gmm":
        kind = "full" if points.shape[1] <= PCA_DIMS else "diag"
        return GaussianMixture(k, covariance_type=kind, reg_covar=1e-4, random_state=seed).fit_predict(points)
    if method == "hdbscan":
        return Hdbscan(**HDBSCAN).fit_predict(points)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def write_fits(folder=None, log=print, only=None) -> str:
    """Every representation × method × k the page offers, fitted on the shipped test digits, with each
    representation's 2-D map, saved beside the weights they came from (their sha256s inside). `only`: refit
    these representations and keep the others from the file there (after retraining one model)."""
    import umap

    from core import data, pretrained

    folder = data.PRETRAINED_DIR if folder is None else folder
    x_u8, _ = data.load_sample()
    manifest = pretrained.load_manifest()
    arrays = {}
    if only:
        with np.load(folder / FITS_FILE, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    arrays.update({f"{name}_sha256": manifest[name]["sha256"] for name in MADE_FROM})
    for name, points in representations(data.to_float(x_u8)).items():
        if only and name not in only:
            continue
        t0 = time.time()
        arrays[f"map_{name}"] = (points if points.shape[1] == 2 else umap.UMAP(**MAP_UMAP, random_state=0)
                                 .fit_transform(points)).astype(np.float16)
        for method in ("kmeans", "gmm"):
            fits = [fit(points, method, k) for k in range(K_RANGE[0], K_RANGE[1] + 1)]
            arrays[f"{name}_{method}"] = np.stack(fits).astype(np.uint8)
            arrays[f"typical_{name}_{method}"] = np.stack([_typical_table(points, c, K_RANGE[1]) for c in fits])
        found = fit(points, "hdbscan")
        arrays[f"{name}_hdbscan"] = found.astype(np.int16)
        arrays[f"typical_{name}_hdbscan"] = _typical_table(points, found, int(found.max()) + 1)
        log(f"[clustering] {name}: map and {2 * (K_RANGE[1] - K_RANGE[0] + 1) + 1} fits in {time.time() - t0:.0f} s")
    path = folder / FITS_FILE
    np.savez_compressed(path, **arrays)
    return str(path)


def _typical_table(points, clusters, rows: int, per_cluster: int = 8) -> np.ndarray:
    """typical() as a (rows, per_cluster) table of indices, −1 where a cluster has fewer members or none."""
    out = np.full((max(rows, 1), per_cluster), -1, np.int16)
    for c, members in typical(points, np.asarray(clusters), per_cluster).items():
        out[c, :len(members)] = members
    return out


def shipped_typical(arrays: dict, representation: str, method: str, k: int) -> dict[int, np.ndarray]:
    """A shipped fit's most typical members per cluster (indices, nearest the cluster's mean first)."""
    table = arrays[f"typical_{representation}_{method}"]
    table = table if method == "hdbscan" else table[k - K_RANGE[0]]
    return {c: row[row >= 0] for c, row in enumerate(table) if (row >= 0).any()}


def load_fits(folder=None) -> dict | None:
    """The shipped fits and maps, or None when missing or made from other weights than those shipped."""
    from core import data, pretrained

    return pretrained.derived_arrays((data.PRETRAINED_DIR if folder is None else folder) / FITS_FILE, MADE_FROM)


def shipped(arrays: dict, representation: str, method: str, k: int) -> np.ndarray:
    """One shipped fit's cluster ids (HDBSCAN's −1 for noise; k is then ignored)."""
    if method == "hdbscan":
        return arrays[f"{representation}_hdbscan"].astype(int)
    return arrays[f"{representation}_{method}"][k - K_RANGE[0]].astype(int)


def typical(points, clusters, per_cluster: int = 8) -> dict[int, np.ndarray]:
    """Each cluster's most typical members: the indices nearest its mean in the representation, nearest first."""
    out = {}
    for c in np.unique(clusters[clusters >= 0]):
        members = np.flatnonzero(clusters == c)
        centre = points[members].mean(0)
        out[int(c)] = members[np.argsort(((points[members] - centre) ** 2).sum(1))[:per_cluster]]
    return out


def table(arrays: dict, labels) -> list[dict]:
    """ACC, NMI and ARI of every shipped fit, for the closing note and bench (labels measure, after the fact)."""
    rows = []
    for name in REPRESENTATIONS:
        for method in METHODS:
            for k in ([None] if method == "hdbscan" else range(K_RANGE[0], K_RANGE[1] + 1)):
                clusters = shipped(arrays, name, method, k or 10)
                rows.append({"representation": name, "method": method, "k": k if k else int(clusters.max()) + 1,
                             "noise": int((clusters < 0).sum()), **scores(labels, clusters)})
    return rows


def main(argv=None):
    import argparse

    from core import data

    p = argparse.ArgumentParser(prog="python -m core.clustering", description=__doc__.splitlines()[0])
    p.add_argument("--write-fits", action="store_true", help=f"write pretrained/{FITS_FILE}")
    p.add_argument("--only", help="with --write-fits: refit these representations (comma-separated), keep the rest")
    p.add_argument("--table", action="store_true", help="print every shipped fit's ACC, NMI and ARI at k = 10")
    a = p.parse_args(argv)
    if not (a.write_fits or a.table):
        p.print_help()
        return 2
    if a.write_fits:
        print("wrote", write_fits(only=a.only.split(",") if a.only else None))
    if a.table:
        arrays = load_fits()
        _, labels = data.load_sample()
        print(f"{'representation':<16}{'method':<9}{'k':>4}{'noise':>7}{'ACC':>8}{'NMI':>8}{'ARI':>8}")
        for row in table(arrays, labels):
            if row["k"] == 10 or row["method"] == "hdbscan":
                print(f"{row['representation']:<16}{row['method']:<9}{row['k']:>4}{row['noise']:>7}"
                      f"{row['acc']:>8.3f}{row['nmi']:>8.3f}{row['ari']:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
