"""Digit batches → one picture: the grids the denoising page shows and lets a user download."""
from __future__ import annotations

import io

import numpy as np

GAP = 2  # pixels between digits, in 28-px units before scaling


def tile(images, per_line: int = 10, scale: int = 3, gap: int = GAP) -> np.ndarray:
    """(N, 28, 28[, 1]) floats in [0, 1] → one uint8 image, at most `per_line` digits a line, upscaled crisply.

    Nearest-neighbour upscaling, done here, keeps pixels sharp where a browser would blur a 28-px image.
    """
    x = np.asarray(images, np.float32).reshape(len(images), 28, 28)
    n = len(x)
    lines = max(1, -(-n // per_line))
    per_line = -(-n // lines) if n else per_line  # lines as even as they go: 15 digits are 8 + 7, not 10 + 5
    cols = min(n, per_line) if n else 1
    out = np.ones((lines * (28 + gap) - gap, cols * (28 + gap) - gap), np.float32)  # white gaps
    for i, img in enumerate(x):
        r, c = divmod(i, per_line)
        out[r * (28 + gap):r * (28 + gap) + 28, c * (28 + gap):c * (28 + gap) + 28] = img
    out = np.repeat(np.repeat(out, scale, axis=0), scale, axis=1)
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def grid_png(rows: list[tuple[str, np.ndarray]], per_line: int = 10, scale: int = 2) -> bytes:
    """Labelled rows (label, digits) stacked into one PNG, for download. Labels are plain ASCII."""
    from PIL import Image, ImageDraw, ImageFont

    tiles = [tile(x, per_line, scale) for _, x in rows]
    label_h, pad = 18, 8
    width = max(t.shape[1] for t in tiles) + 2 * pad
    height = sum(t.shape[0] + label_h + pad for t in tiles) + pad
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    y = pad
    for (label, _), t in zip(rows, tiles):
        draw.text((pad, y), label, fill=0, font=font)
        y += label_h
        canvas.paste(Image.fromarray(t), (pad, y))
        y += t.shape[0] + pad
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def channels(fmap, vmax=None, per_line: int = 8, side: int = 56, gap: int = 2) -> np.ndarray:
    """One feature map (h, w, c) → its c channels side by side as one uint8 image, each enlarged crisply to
    about `side` pixels. Channel k is scaled by vmax[k] (default: its own largest value), so two maps drawn
    with the same vmax — a clean and a noisy digit's — can be compared pixel for pixel."""
    fmap = np.asarray(fmap, np.float32)
    h, w, c = fmap.shape
    vmax = np.abs(fmap).reshape(-1, c).max(axis=0) if vmax is None else np.asarray(vmax, np.float32)
    scaled = np.clip(fmap / np.where(vmax > 0, vmax, 1), 0, 1)
    k = max(1, side // max(h, w))
    lines = -(-c // per_line)
    cols = min(c, per_line)
    out = np.ones((lines * (h * k + gap) - gap, cols * (w * k + gap) - gap), np.float32)
    for i in range(c):
        r, col = divmod(i, per_line)
        cell = np.repeat(np.repeat(scaled[:, :, i], k, axis=0), k, axis=1)
        out[r * (h * k + gap):r * (h * k + gap) + h * k, col * (w * k + gap):col * (w * k + gap) + w * k] = cell
    return (out * 255).round().astype(np.uint8)
