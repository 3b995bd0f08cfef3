"""Digit batches → one picture: the grids the denoising page shows and lets a user download."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

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


def mosaic(pictures, per_line: int, side: int = 112, gap: int = 6, notes=None, outline=None) -> np.ndarray:
    """Pictures of any size (2-D gray or RGB, floats in [0, 1]) as one RGB uint8 image of numbered tiles.

    Each picture is fitted into a `side`×`side` tile, aspect kept, on its own paper (the median of its border),
    enlarged with nearest neighbours when small (a 28-px digit stays crisp). Tiles are numbered from 1 in a
    corner badge; `notes[i]`, when given, is a short language-neutral text (a PSNR) under tile i. `outline`:
    {tile index: (left, top, right, bottom) as fractions} draws a red box on that tile (a crop). One picture
    for a whole row, so a phone's narrow screen wraps it as a picture, not as a column per cell."""
    from PIL import Image, ImageDraw

    n = len(pictures)
    lines = max(1, -(-n // per_line))
    per_line = -(-n // lines)
    note_h = 18 if notes else 0
    cell_h = side + note_h
    canvas = Image.new("RGB", (per_line * (side + gap) - gap, lines * (cell_h + gap) - gap), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = _font(13)
    for i, picture in enumerate(pictures):
        picture = np.clip(np.asarray(picture, np.float32), 0, 1)
        if picture.ndim == 2:
            picture = np.repeat(picture[..., None], 3, axis=-1)
        border = np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])
        paper = tuple(int(v) for v in np.median(border, axis=0) * 255)
        small = Image.fromarray((picture * 255).round().astype(np.uint8))
        scale = side / max(small.size)
        size = (max(1, round(small.size[0] * scale)), max(1, round(small.size[1] * scale)))
        small = small.resize(size, Image.Resampling.NEAREST if scale >= 2 else Image.Resampling.LANCZOS)
        r, c = divmod(i, per_line)
        x0, y0 = c * (side + gap), r * (cell_h + gap)
        canvas.paste(paper, (x0, y0, x0 + side, y0 + side))
        left, top = x0 + (side - size[0]) // 2, y0 + (side - size[1]) // 2
        canvas.paste(small, (left, top))
        if paper == (255, 255, 255):
            draw.rectangle((x0, y0, x0 + side - 1, y0 + side - 1), outline=(200, 200, 200))
        if outline and i in outline:
            a, b, cc, d = outline[i]
            draw.rectangle((left + a * size[0], top + b * size[1], left + cc * size[0] - 1, top + d * size[1] - 1),
                           outline=(230, 30, 30), width=3)
        draw.rounded_rectangle((x0 + 3, y0 + 3, x0 + 22, y0 + 21), radius=4, fill=(30, 80, 160))
        draw.text((x0 + 12.5, y0 + 12), str(i + 1), fill=(255, 255, 255), font=font, anchor="mm")
        if notes and notes[i]:
            draw.text((x0 + side / 2, y0 + side + note_h / 2 + 1), notes[i], fill=(40, 40, 40), font=font, anchor="mm")
    return np.asarray(canvas)


@lru_cache(maxsize=4)
def _font(size: int):
    """DejaVu Sans from matplotlib's own files (it has ∞, which Pillow's default font lacks), else Pillow's."""
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)
