"""An MNIST digit as a phone photographs it on paper: the hard inputs the your-digit page must read.

A class hands the lab digits written on paper and photographed with a phone, not scans. Such a photo has grey
paper, light that falls off to one side, darker corners (vignetting), a soft shadow across a corner, a small
tilt, the digit off-centre, a pen whose width is not MNIST's, sensor noise and JPEG. `photograph` makes one
from a test digit, so that `core.preprocess` can be measured on photos with a known label (bench/photos.py,
tests/test_photos.py) and the page can show a photographed sample.

The strokes come from the MNIST digit, warped by a smooth random field (another hand), redrawn as crisp ink
with a pen of random width. The classifier never saw the test digits, so they stand in for new writers; the
photographic faults are what this module adds. Plain numpy, scipy.ndimage and Pillow.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

# What each fault may do, as a range drawn uniformly per photo.
PAPER = (0.55, 0.9)          # paper's brightness under full light (grey paper to white)
INK = (0.05, 0.3)            # the ink's reflectance relative to the paper (black to a worn blue)
SIZE = (0.3, 0.6)            # the digit's height as a fraction of the frame's shorter side
TILT = (-12.0, 12.0)         # degrees
GRADIENT = (0.25, 0.6)       # the light lost from the bright side to the dark side
VIGNETTE = (0.2, 0.5)        # the light lost in the corners
SHADOW = (0.25, 0.55)        # the light lost under the corner shadow
NOISE = (0.01, 0.035)        # sensor noise, standard deviation
QUALITY = (60, 89)           # JPEG quality
PEN = (-0.06, 0.04)          # the pen's width less MNIST's, as a fraction of the digit's height (MNIST's: ~0.12)
FRAMES = ((480, 640), (640, 480), (600, 600))  # (height, width): landscape, portrait, square


def photograph(digit, rng: np.random.Generator, faults: tuple[str, ...] | None = None) -> bytes:
    """A JPEG of `digit` (28×28, uint8 or [0, 1] floats, white on black as MNIST) written dark on paper and
    photographed in uneven light. `faults` names the faults to apply (default: all of FAULTS)."""
    faults = FAULTS if faults is None else tuple(faults)
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}; choose from {FAULTS}")
    height, width = FRAMES[rng.integers(len(FRAMES))]
    ink = _strokes(digit, rng, height, width, tilted="tilt" in faults, off_centre="off_centre" in faults)

    paper = rng.uniform(*PAPER) if "grey_paper" in faults else 0.95
    tint = 1 + rng.uniform(-0.04, 0.04, 3)  # a warm or cool white balance
    pen_colour = np.array([0.6, 0.7, 1.0]) * rng.uniform(*INK) if rng.random() < 0.5 else np.full(3, rng.uniform(*INK))
    scene = paper * tint * (1 - ink[..., None]) + paper * tint * pen_colour * ink[..., None]

    light = np.ones((height, width))
    rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
    if "gradient" in faults:
        angle = rng.uniform(0, 2 * np.pi)
        along = np.cos(angle) * cols + np.sin(angle) * rows
        along = (along - along.min()) / np.ptp(along)
        light *= 1 - rng.uniform(*GRADIENT) * along
    if "vignetting" in faults:
        r2 = ((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2) / ((rows.max() / 2) ** 2 + (cols.max() / 2) ** 2)
        light *= 1 - rng.uniform(*VIGNETTE) * r2 ** 1.5
    if "shadow" in faults:
        light *= 1 - rng.uniform(*SHADOW) * _corner_shadow(rng, height, width)
    picture = scene * light[..., None]
    if "specks" in faults:  # crumbs, dust and pencil dots: dark, small, anywhere
        for _ in range(rng.integers(1, 5)):
            y, x, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(1, 4)
            dot = np.clip(r - np.hypot(rows * max(height, width) - y, cols * max(height, width) - x) + 0.5, 0, 1)
            picture = picture * (1 - rng.uniform(0.3, 0.8) * dot[..., None])
    if "paper_edge" in faults and rng.random() < 0.4:  # the table beside the sheet, along one side
        band = np.zeros((height, width), bool)
        edge = rng.integers(4)
        depth = int(rng.uniform(0.02, 0.06) * (height if edge < 2 else width))
        band[(np.s_[:depth], np.s_[-depth:], np.s_[:, :depth], np.s_[:, -depth:])[edge]] = True
        table = rng.uniform(0.1, 0.35) * np.array([1.0, 0.8, 0.6])
        picture[band] = table * light[band][:, None]

    if "blur" in faults:
        picture = ndimage.gaussian_filter(picture, (rng.uniform(0.4, 1.4),) * 2 + (0,))
    if "noise" in faults:
        picture = picture + rng.normal(0, rng.uniform(*NOISE), picture.shape)
    pixels = (np.clip(picture, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    quality = int(rng.integers(QUALITY[0], QUALITY[1] + 1)) if "jpeg" in faults else 95
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


FAULTS = ("grey_paper", "gradient", "vignetting", "shadow", "tilt", "off_centre", "specks", "paper_edge", "blur", "noise",
          "jpeg")


def photo_set(digits, labels, count: int, seed: int = 0):
    """`count` photos of the first digits of each class in turn (balanced): [(JPEG bytes, label)]."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    per_class = [np.flatnonzero(labels == d) for d in range(10)]
    out = []
    for i in range(count):
        d = i % 10
        index = per_class[d][i // 10]
        out.append((photograph(digits[index], rng), d))
    return out


def _strokes(digit, rng, height, width, tilted: bool, off_centre: bool) -> np.ndarray:
    """The digit's ink as a (height, width) coverage in [0, 1]: warped, re-penned, tilted and placed."""
    digit = np.asarray(digit, np.float32)
    if digit.max() > 1:
        digit = digit / 255.0
    size = int(round(min(height, width) * rng.uniform(*SIZE)))
    scale = size / 20  # MNIST's digits fill a 20-px box inside the 28-px field
    side = int(round(28 * scale))
    yy, xx = np.mgrid[0:side, 0:side] / scale
    # A smooth displacement (about a pixel of MNIST) makes a different hand of the same digit.
    field = [ndimage.zoom(rng.normal(0, 1, (4, 4)), side / 4, order=3)[:side, :side] for _ in range(2)]
    warped = ndimage.map_coordinates(digit, [yy + 1.2 * field[0] - 0.5, xx + 1.2 * field[1] - 0.5], order=3,
                                     mode="constant")
    # The stroke drawn again with a thinner or wider pen: crisp ink with soft 1-px edges, not MNIST's grey.
    grow = rng.uniform(*PEN) * size / 2
    stroke = warped > 0.5
    edge = ndimage.distance_transform_edt(~stroke) - ndimage.distance_transform_edt(stroke)  # < 0 inside
    coverage = np.clip(grow - edge + 0.5, 0, 1)
    if tilted:
        coverage = ndimage.rotate(coverage, rng.uniform(*TILT), reshape=True, order=1)
    coverage = np.clip(coverage, 0, 1)
    ink = np.zeros((height, width))
    h, w = min(coverage.shape[0], height), min(coverage.shape[1], width)
    coverage = coverage[:h, :w]
    room_y, room_x = height - h, width - w
    if off_centre:  # anywhere in the frame, a margin of a tenth of the room kept
        top = int(rng.uniform(0.1, 0.9) * room_y)
        left = int(rng.uniform(0.1, 0.9) * room_x)
    else:
        top, left = room_y // 2, room_x // 2
    ink[top:top + h, left:left + w] = coverage
    return ink


def _corner_shadow(rng, height, width) -> np.ndarray:
    """A soft shadow over one corner (a hand or the phone): 1 in its core, falling to 0 across a penumbra."""
    corner_y, corner_x = rng.integers(2) * (height - 1), rng.integers(2) * (width - 1)
    rows, cols = np.mgrid[0:height, 0:width]
    distance = np.hypot(rows - corner_y, cols - corner_x) / max(height, width)
    reach = rng.uniform(0.35, 0.65)  # how far from the corner the shadow ends
    softness = rng.uniform(0.03, 0.15)
    return 1 / (1 + np.exp((distance - reach) / softness))
