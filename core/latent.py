"""Latent spaces: where the VAE puts each digit, what it decodes anywhere on its map, and — for
contrast — the seed autoencoder's 128-d codes flattened to 2-D by PCA and t-SNE.

    python -m core.latent --write-maps    # the seed AE's PCA and t-SNE maps → pretrained/seed_ae_maps.npz

t-SNE of 10,000 codes takes a minute or two on a laptop, so it is computed once and shipped.
"""
from __future__ import annotations

import argparse
import base64
import io
import sys

import numpy as np

from core import data

MAPS_FILE = "seed_ae_maps.npz"
MAX_GRID = 30  # the manifold grid: at most 30×30 decoded digits, as the keras.io example
MAX_STEPS = 30  # interpolation strip


def encode(vae, images, batch_size: int = 2000) -> np.ndarray:
    """The latent mean of each image: (N, latent_dim)."""
    x = np.asarray(images, np.float32)
    return np.concatenate([np.asarray(vae.encoder(x[i:i + batch_size], training=False)[0])
                           for i in range(0, len(x), batch_size)])


def decode(vae, z) -> np.ndarray:
    """Digits (N, 28, 28, 1) in [0, 1] for latent points (N, latent_dim)."""
    return np.asarray(vae.decode(np.asarray(z, np.float32).reshape(-1, vae.latent_dim)))


def manifold(vae, n: int, extent: float, centre=(0.0, 0.0)) -> np.ndarray:
    """n×n decoded digits on a square grid of side 2·extent around `centre`, top row = largest z2."""
    if not 2 <= n <= MAX_GRID:
        raise ValueError(f"the grid must be 2 to {MAX_GRID} digits a side, not {n}")
    if not extent > 0:
        raise ValueError(f"the extent must be positive, not {extent}")
    z1 = np.linspace(centre[0] - extent, centre[0] + extent, n)
    z2 = np.linspace(centre[1] + extent, centre[1] - extent, n)
    grid = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(-1, 2)
    return decode(vae, grid)


def interpolate(vae, a, b, steps: int) -> np.ndarray:
    """`steps` decoded digits on the straight line between the latent means of images a and b."""
    if not 2 <= steps <= MAX_STEPS:
        raise ValueError(f"the strip must have 2 to {MAX_STEPS} steps, not {steps}")
    za, zb = encode(vae, np.stack([a, b]))
    t = np.linspace(0, 1, steps)[:, None]
    return decode(vae, (1 - t) * za + t * zb)


MAX_SAMPLES = 30  # a row of digits from the prior


def sample_prior(vae, n: int, seed: int) -> np.ndarray:
    """n new digits (n, 28, 28, 1): points z drawn from the prior N(0, I) with numpy's generator `seed`, decoded.
    No test digit is involved: these are the digits the VAE makes up."""
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"draw 1 to {MAX_SAMPLES} digits, not {n}")
    return decode(vae, np.random.default_rng(seed).standard_normal((n, vae.latent_dim)))


def posterior(vae, image) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's q(z|x) = N(μ, σ²) for one image: μ and σ, each (latent_dim,). σ is how unsure it is
    where the digit belongs; training samples z from this, the map shows μ."""
    z_mean, z_log_var = vae.encoder(np.asarray(image, np.float32).reshape(1, 28, 28, 1), training=False)
    return np.asarray(z_mean, np.float64)[0], np.exp(0.5 * np.asarray(z_log_var, np.float64)[0])


def ellipse(mean, sigma, k: float = 1.0, points: int = 64) -> np.ndarray:
    """The ±kσ ellipse of N(μ, σ²) in the first two latent dimensions as a closed line (points + 1, 2): the
    encoder's σ is one per dimension (a diagonal covariance), so the ellipse's axes lie along z1 and z2."""
    angle = np.linspace(0, 2 * np.pi, points + 1)
    return np.asarray(mean, np.float64)[:2] + k * np.asarray(sigma, np.float64)[:2] * np.stack(
        [np.cos(angle), np.sin(angle)], axis=1)


def inside_ellipse(z, mean, sigma, k: float = 2.0) -> np.ndarray:
    """Which points z (N, ≥2) lie within the ±kσ ellipse around μ (first two dimensions)."""
    d = (np.asarray(z, np.float64)[:, :2] - np.asarray(mean, np.float64)[:2]) / np.asarray(sigma, np.float64)[:2]
    return (d ** 2).sum(axis=1) <= k ** 2


def close_up_half_width(sigma) -> float:
    """Half the side of the close-up around μ: four of the larger σ, so the ±2σ ring fills half of it, but
    never under 0.15, so a very sure digit still shows its neighbours."""
    return float(max(4 * np.max(np.asarray(sigma)[:2]), 0.15))


def close_up(z, labels, mean, sigma, size: int = 240) -> np.ndarray:
    """The map around one digit's μ as an RGB picture (size × size): the other test digits as dots in their
    colours, the ±1σ ring in black, the ±2σ ring in grey, μ as a black cross. The square is μ ± close_up_half_width
    in z1 and z2, z2 upwards. At the whole map's scale σ (typically a few hundredths) is under a pixel."""
    mean = np.asarray(mean, np.float64)[:2]
    half = close_up_half_width(sigma)

    def pixels(points):
        col = np.round((points[:, 0] - mean[0] + half) / (2 * half) * (size - 1)).astype(int)
        row = np.round((mean[1] + half - points[:, 1]) / (2 * half) * (size - 1)).astype(int)
        return row, col

    picture = np.full((size, size, 3), 255, np.uint8)
    row, col = pixels(np.asarray(z, np.float64)[:, :2])
    colours = TABLEAU10[np.asarray(labels) % 10]
    for dr in (-1, 0, 1):  # 3×3 dots: at this zoom a single pixel is lost
        for dc in (-1, 0, 1):
            r, c = row + dr, col + dc
            inside = (r >= 0) & (r < size) & (c >= 0) & (c < size)
            picture[r[inside], c[inside]] = colours[inside]
    for k, shade in ((2, 150), (1, 0)):
        r, c = pixels(ellipse(mean, sigma, k, points=8 * size))  # dense enough to leave no gap
        for d in (0, 1):  # two pixels thick
            inside = (r + d >= 0) & (r + d < size) & (c >= 0) & (c < size)
            picture[r[inside] + d, c[inside]] = shade
    (r,), (c,) = pixels(mean[None])
    picture[r - 1:r + 2, c - 5:c + 6] = picture[r - 5:r + 6, c - 1:c + 2] = 0
    return picture


# Vega's tableau10, as the map's own colours: a digit is the same colour in the picture and on the map
TABLEAU10 = np.array([[0x4c, 0x78, 0xa8], [0xf5, 0x85, 0x18], [0xe4, 0x57, 0x56], [0x72, 0xb7, 0xb2],
                      [0x54, 0xa2, 0x4b], [0xee, 0xca, 0x3b], [0xb2, 0x79, 0xa2], [0xff, 0x9d, 0xa6],
                      [0x9d, 0x75, 0x5d], [0xba, 0xb0, 0xac]], np.uint8)


def map_picture(z, labels, extent: float, size: int = 160) -> np.ndarray:
    """Every digit's place on the 2-D map as a small RGB picture (size × size, white ground), the square
    [-extent, extent]² with z2 upwards: a few milliseconds with numpy, where a chart of 10,000 points
    would be sent to the browser again on every move."""
    z = np.asarray(z, np.float64)[:, :2]
    picture = np.full((size, size, 3), 255, np.uint8)
    col = np.round((z[:, 0] + extent) / (2 * extent) * (size - 1)).astype(int)
    row = np.round((extent - z[:, 1]) / (2 * extent) * (size - 1)).astype(int)
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)
    picture[row[inside], col[inside]] = TABLEAU10[np.asarray(labels)[inside] % 10]
    return picture


def mark(picture, point, extent: float) -> np.ndarray:
    """A copy of a map picture with a black cross-hair through `point` (held at the edge when outside)."""
    size = picture.shape[0]
    col = int(np.clip(round((point[0] + extent) / (2 * extent) * (size - 1)), 0, size - 1))
    row = int(np.clip(round((extent - point[1]) / (2 * extent) * (size - 1)), 0, size - 1))
    out = picture.copy()
    out[row, :] = out[:, col] = (160, 160, 160)  # thin grey lines across, a solid black centre
    out[max(row - 3, 0):row + 4, max(col - 3, 0):col + 4] = 0
    return out


def seed_codes(autoencoder, images, batch_size: int = 2000) -> np.ndarray:
    """The seed autoencoder's 128-d code (its GlobalAveragePooling2D output) for each image."""
    import keras

    encoder = keras.Model(autoencoder.input, autoencoder.get_layer("code_128d").output)
    x = np.asarray(images, np.float32)
    return np.concatenate([np.asarray(encoder(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def seed_maps(codes, seed: int = 0) -> dict:
    """The 128-d codes mapped to 2-D: PCA (linear, keeps the widest spread) and t-SNE (keeps neighbours)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    pca = PCA(n_components=2, random_state=seed).fit(codes)
    return {"pca": pca.transform(codes).astype(np.float32),
            "pca_explained": pca.explained_variance_ratio_.astype(np.float32),
            "tsne": TSNE(n_components=2, init="pca", perplexity=30, random_state=seed).fit_transform(codes)
            .astype(np.float32)}


def thumbnails(images_uint8) -> list[str]:
    """Each 28×28 digit as a PNG data URL, for hover tooltips on the maps (about 300 bytes each)."""
    from PIL import Image

    out = []
    for img in np.asarray(images_uint8):
        buffer = io.BytesIO()
        Image.fromarray(img).resize((56, 56), Image.Resampling.NEAREST).save(buffer, "PNG", optimize=True)
        out.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return out


def write_maps(folder=None) -> str:
    """Compute the seed AE's maps of the shipped test digits and save them beside its weights."""
    from core import pretrained

    folder = data.PRETRAINED_DIR if folder is None else folder
    x, _ = data.load_sample()
    codes = seed_codes(pretrained.load("seed_ae"), data.to_float(x))
    maps = seed_maps(codes)
    path = folder / MAPS_FILE
    np.savez_compressed(path, seed_ae_sha256=pretrained.load_manifest()["seed_ae"]["sha256"], **maps)
    return str(path)


def load_maps(folder=None) -> dict | None:
    """The shipped maps, or None when missing or made from other seed_ae weights than those shipped."""
    from core import pretrained

    return pretrained.derived_arrays((data.PRETRAINED_DIR if folder is None else folder) / MAPS_FILE, ("seed_ae",))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.latent", description=__doc__.splitlines()[0])
    p.add_argument("--write-maps", action="store_true", help=f"write pretrained/{MAPS_FILE}")
    a = p.parse_args(argv)
    if not a.write_maps:
        p.print_help()
        return 2
    print("wrote", write_maps())
    return 0


if __name__ == "__main__":
    sys.exit(main())
