"""Cached model access, shared by the pages and the warm-up.

Models are loaded, verified and traced once per process (`st.cache_resource`). What a page shows for a
setting is computed once per process too (`st.cache_data`), keyed on every input that changes it: the
digits, noise seed, factor, kind, and the model with its weights' sha256, so new weights never show old
pictures. Pictures are cached as PNG bytes: a cache hit re-encodes nothing. Every cache is bounded
(`max_entries`): a class dragging sliders for an hour must not grow the process without limit.
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from core import data, grids, latent, pretrained

# The your-digit page opens on test digit #27, a 4, with the pen 1 px wider: read right, and typical to the 4s'
# detector (scored lower than 98 % of real 4s), so its first view does not contradict itself.
DIGIT_SAMPLE = (27, 1)


def png(image: np.ndarray) -> bytes:
    """uint8 pixels → PNG bytes (Pillow's default compression: optimize=True costs 3× the time for ~5 %)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def tile_png(images, **tile_options) -> bytes:
    return png(grids.tile(images, **tile_options))


# ─── Models ──────────────────────────────────────────────────────────────────────────────────────────
@st.cache_resource(show_spinner=False)
def test_digits():
    """The 10,000 shipped test digits and labels, one read-only copy per process. (st.cache_data would
    hand every rerun its own 8 MB copy: at 50 reruns/s that is 400 MB/s for the collector.)"""
    x, y = data.load_sample()
    x.flags.writeable = y.flags.writeable = False
    return x, y


@st.cache_resource(show_spinner=False)
def _forward(name: str, folder: str, weights_sha: str):
    return pretrained.forward(name)  # TensorFlow loads on the first call


def forward(name: str):
    """The shipped model `name` as a traced function: images (N, 28, 28, 1) → outputs. Kept per folder
    and weights hash, so pointing the app at other weights never serves the old model."""
    return _forward(name, str(data.PRETRAINED_DIR), sha(name))


@st.cache_resource(show_spinner=False)
def _load(name: str, folder: str, weights_sha: str):
    return pretrained.load(name)


def load(name: str):
    """The whole shipped model (the VAE's encoder and decoder, a detector's layers)."""
    return _load(name, str(data.PRETRAINED_DIR), sha(name))


_manifest: dict = {"key": None, "value": {}}


def manifest() -> dict:
    """pretrained/manifest.json, parsed again only when the file changes: pages read it several times a
    rerun, and parsing it each time was a seventh of a cached slider move. Read it, never change it."""
    path = data.PRETRAINED_DIR / "manifest.json"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if _manifest["key"] != key:
        _manifest.update(key=key, value=pretrained.load_manifest(path))
    return _manifest["value"]


def sha(name: str) -> str:
    """The weights' sha256 from the manifest: part of every cache key below."""
    return manifest().get(name, {}).get("sha256", "")


# ─── Denoising ───────────────────────────────────────────────────────────────────────────────────────
@st.cache_data(show_spinner=False, max_entries=64)
def original_row(idx: tuple) -> bytes:
    return tile_png(data.to_float(test_digits()[0][list(idx)]))


@st.cache_data(show_spinner=False, max_entries=512)
def noisy_digits(idx: tuple, noise_factor: float, kind: str, noise_seed: int) -> np.ndarray:
    """Noise depends on the digits and a seed the "new noise" button moves, so moving the slider changes
    only the strength of one fixed noise pattern: the eye can follow what the model does."""
    return data.add_noise(data.to_float(test_digits()[0][list(idx)]), noise_factor, kind, seed=noise_seed)


def _row(clean, images) -> dict:
    from core import metrics

    psnr, ssim = metrics.quality(clean, images)
    return {"png": tile_png(images), "psnr": float(psnr.mean()), "ssim": float(ssim.mean())}


@st.cache_data(show_spinner=False, max_entries=512)
def noisy_row(idx: tuple, noise_factor: float, kind: str, noise_seed: int) -> dict:
    """The noisy digits as shown: PNG, mean PSNR and SSIM against the clean ones."""
    clean = data.to_float(test_digits()[0][list(idx)])
    return _row(clean, noisy_digits(idx, noise_factor, kind, noise_seed))


@st.cache_data(show_spinner=False, max_entries=2048)
def _denoised_row(name: str, weights_sha: str, idx: tuple, noise_factor: float, kind: str, noise_seed: int) -> dict:
    clean = data.to_float(test_digits()[0][list(idx)])
    return _row(clean, forward(name)(noisy_digits(idx, noise_factor, kind, noise_seed)))


def denoised_row(name: str, idx: tuple, noise_factor: float, kind: str, noise_seed: int) -> dict:
    """Model `name`'s reconstruction of the noisy digits: PNG, mean PSNR and SSIM. PretrainedError if the
    model can't be used."""
    return _denoised_row(name, sha(name), tuple(int(i) for i in idx), float(noise_factor), kind, int(noise_seed))


@st.cache_data(show_spinner=False, max_entries=256)
def _own_row(run_id: str, idx: tuple, noise_factor: float, kind: str, noise_seed: int, _forward) -> dict:
    clean = data.to_float(test_digits()[0][list(idx)])
    return _row(clean, _forward(noisy_digits(idx, noise_factor, kind, noise_seed)))


def own_row(own: dict, idx: tuple, noise_factor: float, kind: str, noise_seed: int) -> dict:
    """A session's own model (trained on the training bench: {"id", "forward"}) as a denoising row, cached by
    the id of its training run and epochs, like the shipped ones by their weights."""
    return _own_row(own["id"], tuple(int(i) for i in idx), float(noise_factor), kind, int(noise_seed), own["forward"])


def download_grid(rows: list[tuple[str, str]], idx: tuple, noise_factor: float, kind: str, noise_seed: int,
                  own: dict | None = None) -> bytes:
    """The labelled grid PNG of every row shown, built only when someone clicks download."""
    clean = data.to_float(test_digits()[0][list(idx)])
    noisy = noisy_digits(idx, noise_factor, kind, noise_seed)
    images = {"original": clean, "noisy": noisy}
    call = lambda key: own["forward"] if key == "yours" else forward(key)  # noqa: E731
    return grids.grid_png([(key, images[key] if key in images else call(key)(noisy)) for _, key in rows])


# ─── Latent space ────────────────────────────────────────────────────────────────────────────────────
@st.cache_data(show_spinner=False, max_entries=4)
def vae_map(weights_sha: str) -> np.ndarray:
    """Every test digit's place on the VAE's map (keyed by the weights' hash: new weights, new map)."""
    return latent.encode(load("vae"), data.to_float(test_digits()[0]))


@st.cache_data(show_spinner=False, max_entries=4096)
def _decoded(weights_sha: str, z1: float, z2: float) -> bytes:
    return tile_png(latent.decode(load("vae"), [[z1, z2]]), per_line=1, scale=8, gap=0)


def decoded(z1: float, z2: float) -> bytes:
    """The VAE's digit at (z1, z2), as an enlarged PNG; the sliders move in steps of 0.05, so a class
    revisits the same few thousand points."""
    return _decoded(sha("vae"), round(float(z1), 4), round(float(z2), 4))


@st.cache_resource(show_spinner=False, max_entries=4)
def _map_picture(weights_sha: str, extent: float) -> np.ndarray:
    return latent.map_picture(vae_map(weights_sha), test_digits()[1], extent)


@st.cache_data(show_spinner=False, max_entries=4096)
def _located(weights_sha: str, z1: float, z2: float, extent: float) -> bytes:
    return png(latent.mark(_map_picture(weights_sha, extent), (z1, z2), extent))


def located(z1: float, z2: float, extent: float) -> bytes:
    """The map in miniature with a cross-hair at (z1, z2), as a PNG: where the decoded point lies among
    the test digits, without sending the 10,000-point map again."""
    return _located(sha("vae"), round(float(z1), 4), round(float(z2), 4), float(extent))


@st.cache_data(show_spinner=False, max_entries=64)
def manifold_png(weights_sha: str, n: int, extent: float) -> bytes:
    return tile_png(latent.manifold(load("vae"), n, extent), per_line=n, scale=2, gap=0)


@st.cache_data(show_spinner=False, max_entries=256)
def interpolation_png(weights_sha: str, a: int, b: int, steps: int) -> bytes:
    pair = data.to_float(test_digits()[0][[a, b]])
    return tile_png(latent.interpolate(load("vae"), pair[0], pair[1], steps), per_line=steps, scale=3)


PRIOR_SAMPLES = 10  # the row of digits drawn from the prior


@st.cache_data(show_spinner=False, max_entries=256)
def prior_png(weights_sha: str, n: int, seed: int) -> bytes:
    """A row of n digits the VAE makes up, decoded from z ~ N(0, I) drawn with `seed`."""
    return tile_png(latent.sample_prior(load("vae"), n, seed), per_line=n, scale=3)


@st.cache_data(show_spinner=False, max_entries=1024)
def _close_up(weights_sha: str, index: int) -> dict:
    from core import metrics, train

    vae = load("vae")
    x, y = test_digits()
    image = data.to_float(x[index:index + 1])[0]
    # the draw of z the manifest's neg_elbo was measured with: this digit's own share of its mean
    recon, kl = metrics.neg_elbo_terms(vae, image, index, len(x), seed=train.EVAL_SEED)
    mean, sigma = latent.posterior(vae, image)
    z_all = vae_map(weights_sha)
    near = latent.inside_ellipse(z_all, mean, sigma, 2.0)
    near[index] = False
    return {"recon": recon, "kl": kl, "total": recon + kl, "mean": mean, "sigma": sigma,
            "near": int(near.sum()), "half": latent.close_up_half_width(sigma),
            "pair": tile_png(np.concatenate([image[None], latent.decode(vae, mean[None])]), per_line=2, scale=4),
            "close_up": png(latent.close_up(z_all, y, mean, sigma))}


def close_up(index: int) -> dict:
    """One test digit through the VAE: its negative ELBO split into reconstruction and KL nats (with the draw
    of z the manifest's figure used), the encoder's μ and σ for it, how many other test digits lie in its ±2σ
    ellipse, a PNG of the digit beside its reconstruction (decoded from μ), and a PNG of the map close around μ
    with the ±1σ and ±2σ ellipses. The ellipse is a picture of its own, not a layer on the page's map: changing
    the map's spec would send its 3 MB again, and on the whole map σ is a pixel or two."""
    return _close_up(sha("vae"), int(index))


@st.cache_resource(show_spinner=False)
def thumbnails() -> list[str]:
    """Every test digit as a tiny PNG data URL for the map's tooltips (~3 MB: built once, never copied)."""
    return latent.thumbnails(test_digits()[0])


# ─── Anomaly scores ──────────────────────────────────────────────────────────────────────────────────
@st.cache_data(show_spinner=False, max_entries=64)
def _shipped_scores(name: str, weights_sha: str, kind: str) -> np.ndarray:
    from core import anomaly

    return anomaly.score(load(name), data.to_float(test_digits()[0]), kind)


@st.cache_resource(show_spinner=False, max_entries=2)
def _scores_file(key: tuple) -> dict:
    from core import anomaly

    return anomaly.load_scores()


def _stored_scores() -> dict:
    """pretrained/oneclass_scores.npz as {(model, score kind): scores}, read again when it or the manifest
    changes (a model retrained and its scores rewritten while the app runs)."""
    from core import anomaly

    manifest()
    path = data.PRETRAINED_DIR / anomaly.SCORES_FILE
    stat = path.stat() if path.exists() else None
    return _scores_file((_manifest["key"], stat and (stat.st_size, stat.st_mtime_ns)))


def shipped_scores(name: str, kind: str) -> np.ndarray:
    """A shipped one-class model's score for every test digit: read from pretrained/ (core.anomaly
    --write-scores) when made by these weights, else computed here (4–13 s a model on 2 cores)."""
    stored = _stored_scores().get((name, kind))
    return stored.copy() if stored is not None else _shipped_scores(name, sha(name), kind)


@st.cache_data(show_spinner=False, max_entries=64)
def _typical_scores(name: str, weights_sha: str, digit: int, kind: str) -> np.ndarray:
    x, y = test_digits()
    from core import anomaly

    return np.sort(anomaly.score(load(name), data.to_float(x[y == digit]), kind))


def typical_scores(name: str, digit: int, kind: str) -> np.ndarray:
    """The one-class model's sorted scores for the test digits of its own class: what 'typical' looks like."""
    stored = _stored_scores().get((name, kind))
    if stored is not None:
        return np.sort(stored[test_digits()[1] == int(digit)])
    return _typical_scores(name, sha(name), int(digit), kind)


# ─── Clustering ──────────────────────────────────────────────────────────────────────────────────────
@st.cache_resource(show_spinner=False, max_entries=2)
def _cluster_fits(key: tuple) -> dict | None:
    from core import clustering

    return clustering.load_fits()


def cluster_fits() -> dict | None:
    """pretrained/clustering.npz (core.clustering --write-fits), read once per process and again when the weights
    it came from change; None when it is missing or was made from other weights."""
    from core import clustering

    return _cluster_fits(tuple(sha(name) for name in clustering.MADE_FROM))


@st.cache_data(show_spinner=False, max_entries=256)
def cluster_rows(representation: str, method: str, k: int, weights: tuple) -> list[tuple[int, int, bytes]]:
    """Each cluster of a shipped fit as (cluster id, size, PNG of its most typical digits), largest first."""
    from core import clustering

    fits = cluster_fits()
    clusters = clustering.shipped(fits, representation, method, k)
    sizes = np.bincount(clusters[clusters >= 0], minlength=1)
    x = test_digits()[0]
    typical = clustering.shipped_typical(fits, representation, method, k)
    return [(c, int(sizes[c]), tile_png(data.to_float(x[typical[c]]), per_line=8, scale=2))
            for c in largest_first(clusters) if c in typical]


def largest_first(clusters: np.ndarray) -> list[int]:
    """The clusters (noise, -1, left out) largest first, ties by id: the page's rows and its map's legend alike."""
    sizes = np.bincount(clusters[clusters >= 0], minlength=1)
    return [int(c) for c in np.argsort(-sizes, kind="stable") if sizes[c]]


@st.cache_data(show_spinner=False, max_entries=256)
def cluster_mistakes(representation: str, method: str, k: int, weights: tuple, per_cluster: int = 8) -> dict:
    """After the reveal: the matching cluster → digit, and per cluster a PNG of (some of) the digits it got wrong."""
    from core import clustering

    clusters = clustering.shipped(cluster_fits(), representation, method, k)
    x, y = test_digits()
    mapping = clustering.matching(y, clusters)
    wrong = {}
    for c in np.unique(clusters[clusters >= 0]):
        members = np.flatnonzero((clusters == c) & (y != mapping.get(int(c), -1)))
        if len(members):
            wrong[int(c)] = (len(members), tile_png(data.to_float(x[members[:per_cluster]]), per_line=per_cluster,
                                                    scale=2))
    return {"mapping": mapping, "wrong": wrong, "scores": clustering.scores(y, clusters),
            "counts": clustering.contingency(y, clusters)}


CLUSTER_MAP_POINTS = 2000  # the map's first test digits: each carries its picture for the tooltip (~0.6 MB in all)


@st.cache_resource(show_spinner=False, max_entries=64)
def cluster_map_spec(representation: str, method: str, k: int, weights: tuple, group_title: str,
                     noise_name: str) -> dict:
    """Vega-Lite spec: the representation's 2-D map of the first CLUSTER_MAP_POINTS test digits, coloured by group,
    each digit's picture in its tooltip; no label anywhere in it. Built once per setting and language."""
    from core import clustering

    fits = cluster_fits()
    xy = fits[f"map_{representation}"][:CLUSTER_MAP_POINTS].astype(np.float32)
    every = clustering.shipped(fits, representation, method, k)
    groups = every[:CLUSTER_MAP_POINTS]
    thumbs = thumbnails()
    points = [{"a": float(p[0]), "b": float(p[1]), "group": noise_name if g < 0 else str(int(g) + 1), "index": i,
               "image": thumbs[i]} for i, (p, g) in enumerate(zip(xy, groups))]
    # the legend in the page's row order, largest group first (as cluster_rows), then noise; given, not sorted (a
    # nominal field would sort "10" before "2")
    shown = set(int(g) for g in groups)
    names = [str(g + 1) for g in largest_first(every) if g in shown] + ([noise_name] if (groups < 0).any() else [])
    return {"height": 380, "data": {"values": points},
            "mark": {"type": "circle", "size": 12, "opacity": 0.7},
            "encoding": {"x": {"field": "a", "type": "quantitative", "axis": None, "scale": {"zero": False}},
                         "y": {"field": "b", "type": "quantitative", "axis": None, "scale": {"zero": False}},
                         "color": {"field": "group", "type": "nominal", "title": group_title,
                                   "scale": {"scheme": "tableau20", "domain": names},
                                   "legend": {"orient": "bottom", "columns": 6, "symbolLimit": 40}},
                         "tooltip": [{"field": "image"}, {"field": "group", "title": group_title},
                                     {"field": "index", "title": "#"}]}}


# ─── ResNet (here, not in the page, so that the warm-up fills the page's opening view) ─────────────────────
@st.cache_resource(show_spinner=False, max_entries=2)
def resnet_build(settings: tuple):
    """The model for one setting; ValueError for settings that cannot build (not cached). Only the last
    two are kept: at the cap a model holds 240 MB, and what the page shows of it is cached below."""
    from core import models

    return models.resnet(**dict(settings))


@st.cache_data(show_spinner=False, max_entries=48)
def resnet_facts(settings: tuple) -> dict:
    from core import arch

    model = resnet_build(settings)
    return {"params": int(model.count_params()), "trainable": arch.trainable_count(model),
            "layers": len(model.layers), "macs": arch.macs(model), "memory": arch.memory(model, 32),
            "stages": arch.stage_table(model), "sub_blocks": len(arch.sub_blocks(model)),
            "depth": arch.depth_of(model)}


@st.cache_data(show_spinner=False, max_entries=48)
def resnet_dot(settings: tuple, view: str) -> str:
    from core import diagrams

    model = resnet_build(settings)
    return diagrams.block_dot(model) if view == "block" else diagrams.layer_dot(model)


@st.cache_data(show_spinner=False, max_entries=16)
def rendered(dot: str, fmt: str) -> bytes:
    from core import diagrams

    return diagrams.render(dot, fmt)


@st.cache_data(show_spinner=False)
def digit_batch(n: int):
    x, y = test_digits()
    return data.to_float(x[:n]), y[:n]


@st.cache_data(show_spinner=False, max_entries=24)
def resnet_grad_rows(depth: int, training: bool, batch: int) -> list[dict]:
    from core import arch

    x, y = digit_batch(batch)
    res, plain = arch.demo_pair(depth)
    rows = []
    for label, model in (("residual", res), ("plain", plain)):
        norms = arch.gradient_norms(model, x, y, training=training)
        rows += [{"network": label, "layer": i, "name": n, "grad_norm": g} for i, (n, g) in enumerate(norms.items(), 1)]
    return rows

