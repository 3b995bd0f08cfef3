"""Any picture of a digit → an MNIST-style 28×28 image, keeping every step so the lab can show it.

MNIST digits are white ink on black, fitted into a 20×20 box (aspect kept, antialiased) and placed in a
28×28 field so that their centre of mass sits at the centre. A photo or a drawing is none of that, and
a model trained on MNIST sees it badly unless it is made so. `to_mnist` does that and returns each
intermediate picture, because this step is where most "draw a digit" demos silently go wrong.

Uploads are untrusted: the byte and pixel limits are checked before any pixel is decoded, and Pillow's
decompression-bomb guard stays on. Plain numpy, scipy.ndimage and Pillow: no streamlit, no TensorFlow.

A phone photo adds its own faults: grey paper, light that falls off, dark corners, a shadow over a corner,
specks, the table beside the sheet. So the light is divided out before any threshold, the ink's colour is
judged from the strokes, and only the digit's own marks are kept (core.photo makes such photos to measure it).
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

# Pillow only warns about a picture between its limit and twice that; made an error, every picture Pillow opens
# in this process that is larger than MAX_PIXELS is refused, whoever opens it, before a pixel is decoded.
warnings.simplefilter("error", Image.DecompressionBombWarning)

MAX_BYTES = 5 * 1024 * 1024  # the app's upload cap: maxUploadSize = 5 in .streamlit/config.toml
# 25 megapixels takes a 24-MP camera photo (6000×4000). It is below Pillow's own decompression-bomb
# threshold (about 89 MP), so any picture Pillow would warn about is refused here first.
MAX_PIXELS = 25_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard at ours: with the filter below, above it is an error
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
MIN_SIDE = 8  # smaller than this cannot hold a legible digit
# Bigger pictures are shrunk before the steps: a digit needs a few hundred pixels, and the memory for
# a full camera photo in floats would be hundreds of MB per upload.
WORK_SIDE = 1000

FIELD = 28
BOX = 20
# MNIST's centre of mass in (row, column) indices, measured on the 10,000 test digits: (13.99, 14.01).
CENTRE = 14.0
# Ink must stand out from the background by a tenth of full scale: more than JPEG noise or paper grain.
MIN_CONTRAST = 0.1
# The steps work on these sizes (longer side, px): the ink's colour is judged on a small copy, the paper's
# light estimated on another; both are slow-changing or coarse enough not to need more.
POLARITY_SIDE = 48
LIGHT_SIDE = 192
# The window that estimates the paper's light, as a fraction of the picture's shorter side: wider than any pen
# stroke, even of a digit cropped tight with a marker, where strokes cross.
LIGHT_WINDOW = 0.2
# Paper is evenly lit when its level across the picture varies by less than this share of the ink's contrast.
EVEN = 0.25
# A sixteenth whose typical pixel is within this share of the ink's contrast of the ink's own level is ink, not paper.
INKED = 0.05
# A mark joins the digit if it weighs at least this share of the heaviest mark and lies within NEAR times the
# digit's size of it; lighter marks are specks. Ink on less than MIN_AREA of the picture is no digit (a
# 1000-px photo needs 100 pixels of it, a 28-px one a single pixel).
MIN_MARK = 0.03
NEAR = 0.3
MIN_AREA = 1e-4
RIM = 0.15  # a band along the edge no deeper than this share of the picture is the table, not ink
# Colour channels varying less than this carry no drawing (a canvas paints every stroke one colour).
FLAT = 0.05
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601-2, as Pillow's "L" mode

REASONS = ("empty", "not_an_image", "damaged", "unsupported_format", "too_large", "too_small", "no_ink")
STEPS = ("decoded", "hand_cropped", "grayscale", "paper_light", "flattened", "strokes", "cropped", "resized", "centred")
INKS = ("auto", "dark", "light")  # the ink's colour: judged from the strokes, or said by the person

_READABLE = "PNG, JPEG, BMP, GIF or WebP"


class PreprocessError(ValueError):
    """A picture that cannot become an MNIST digit.

    `str(error)` says, for a person, what is wrong and what to do. `reason` (one of REASONS) and
    `details` are there for a page that words the message in another language.
    """

    def __init__(self, reason: str, message: str, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class Preprocessed:
    """`image`: (28, 28) float32 in [0, 1], white ink on black, as MNIST.

    `steps`: (name, array) in order, names from STEPS ("hand_cropped" only when a crop box was given).
    "decoded" and "hand_cropped" are (H, W, 3) RGB when the picture has colour, (H, W) otherwise; "strokes" is
    RGB (the kept ink in white, marks dropped as shadow, speck or edge in red); every other step is a 2-D
    float32 array in [0, 1]: "paper_light" is the light the paper got, "flattened" the ink (white) once that
    light is divided out. The last step is `image`. `dark_ink`: whether the ink was darker than the paper.
    """

    image: np.ndarray
    steps: list
    dark_ink: bool = True


def to_mnist(source, crop=None, ink: str = "auto") -> Preprocessed:
    """Turn `source` into an MNIST-style digit, or raise PreprocessError saying why it cannot be.

    `crop`: (left, top, right, bottom) as fractions of the decoded picture, to rescue a photo by hand; `ink`:
    one of INKS, "auto" to judge it from the strokes.

    `source` may be the bytes of an image file, a file-like object, a path, a PIL image, or a numpy
    array: (H, W) grayscale, (H, W, C) with C = 1 to 4 (gray, gray+alpha, RGB, RGBA — a drawing
    canvas's RGBA included) or channels first, any dtype. Integer arrays are read as 0–255 when every
    value fits, else as 16-bit; float arrays as [0, 1] when every value fits, else as 0–255.
    """
    if isinstance(source, Image.Image):
        pixels = _image_pixels(source)
    elif isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)) or hasattr(source, "read"):
        pixels = _image_pixels(_open(_read(source)))
    else:
        pixels = _array_pixels(source)
    if ink not in INKS:
        raise ValueError(f"ink must be one of {INKS}, got {ink!r}")
    return _mnist_style(pixels, crop, ink)


# --- reading and decoding --------------------------------------------------------------------------

def _read(source) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError as exc:
            raise PreprocessError("not_an_image", f"Could not open the file {os.fspath(source)}: "
                                  f"{exc.strerror or exc}. Check the path and try again.",
                                  path=os.fspath(source)) from exc
    elif hasattr(source, "getvalue"):
        # A Streamlit upload is a BytesIO: getvalue() is the whole file, wherever an earlier read left off.
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read(MAX_BYTES + 1)
    else:
        data = bytes(source)
    if len(data) > MAX_BYTES:
        raise PreprocessError("too_large", f"The file is larger than {MAX_BYTES // 2**20} MB, the limit. Save the "
                              "picture smaller (as JPEG, or cropped to the digit) and try again.",
                              limit_mb=MAX_BYTES // 2**20)
    if not data:
        raise PreprocessError("empty", f"The file is empty (0 bytes). Choose a picture: {_READABLE}.")
    return bytes(data)


def _open(data: bytes) -> Image.Image:
    """Read the header only: format and size are known before any pixel is decoded."""
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise _unreadable(data) from None
    except Exception as exc:  # Pillow's header parsers raise many kinds on hostile bytes
        raise _damaged("picture", exc) from exc


# Formats we do not read, named from their first bytes for the message: opening a file with a reader only to
# name it can decode it (Pillow's ICO reader decodes the PNG inside while opening, a 13000×13000 one too).
SIGNATURES = ((b"II*\0", "TIFF"), (b"MM\0*", "TIFF"), (b"\0\0\1\0", "ICO"), (b"\0\0\2\0", "CUR"),
              (b"%PDF", "PDF"), (b"8BPS", "PSD"), (b"icns", "ICNS"), (b"DDS ", "DDS"), (b"%!PS", "EPS"),
              (b"\0\0\0\x0cjP  ", "JPEG 2000"), (b"\xff\x4f\xff\x51", "JPEG 2000"), (b"qoif", "QOI"),
              (b"\xff\x0a", "JPEG XL"), (b"\0\0\0\x0cJXL ", "JPEG XL"), (b"BPG\xfb", "BPG"))
HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"heim": "HEIC", b"heis": "HEIC",
               b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF"}


def format_name(data: bytes) -> str | None:
    """The name of an image format we do not read, from the file's magic bytes alone; None if unknown."""
    for magic, name in SIGNATURES:
        if data.startswith(magic):
            return name
    if data[4:8] == b"ftyp":
        return HEIF_BRANDS.get(data[8:12])
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or head.startswith(b"<?xml") and b"<svg" in data[:4096].lower():
        return "SVG"
    if len(data) > 2 and data[:1] == b"P" and data[1:2] in b"123456" and data[2:3].isspace():
        return "PNM"
    return None


def _unreadable(data: bytes) -> PreprocessError:
    name = format_name(data)  # never by opening it: see SIGNATURES
    if name:
        return PreprocessError("unsupported_format", f"{name} pictures are not supported. Save it as PNG or "
                               f"JPEG (BMP, GIF and WebP work too) and try again.", format=name)
    return PreprocessError("not_an_image", f"This file is not a picture that can be read. Choose a {_READABLE} "
                           "picture of a digit.")


def _damaged(what: str, exc: Exception) -> PreprocessError:
    return PreprocessError("damaged", f"The {what} is damaged or cut short, so its pixels cannot be read. "
                           "Save or export it again and upload the new file.", error=str(exc))


def _too_many_pixels(width: int | None = None, height: int | None = None) -> PreprocessError:
    size = f" is {width}×{height} pixels, which" if width else ""
    return PreprocessError("too_large", f"The picture{size} is more than {MAX_PIXELS / 1e6:g} megapixels, the "
                           "limit. Resize it or crop it to the digit and try again.",
                           width=width, height=height, limit_megapixels=MAX_PIXELS / 1e6)


def _image_pixels(image: Image.Image) -> np.ndarray:
    width, height = image.size
    kind = f"{image.format} file" if image.format else "picture"
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(width, height)
    try:
        image.draft(None, (WORK_SIDE, WORK_SIDE))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale directly
        image.load()  # an animation's first frame
        image = ImageOps.exif_transpose(image)  # a phone's portrait photo is stored sideways
        image = image.convert(_working_mode(image.mode))
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
        pixels = np.asarray(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(width, height) from None
    except Exception as exc:  # truncated data, bad chunks: whatever the decoder meets
        raise _damaged(kind, exc) from exc
    return _unit_range(pixels if pixels.ndim == 3 else pixels[..., None])


def _working_mode(mode: str) -> str:
    if mode in ("1", "L"):
        return "L"
    if mode.startswith("I"):  # 16- and 32-bit grayscale: "L" would clip everything above 255
        return "I"
    if mode == "F":
        return "F"
    return "RGBA"  # palette, CMYK, RGB, with or without transparency


def _array_pixels(source) -> np.ndarray:
    try:
        array = np.asarray(source)
    except Exception as exc:  # ragged lists and other things numpy cannot shape
        raise PreprocessError("not_an_image", f"This is not a picture: it cannot be read as an array ({exc}).") from exc
    if array.dtype.kind not in "biuf":
        raise PreprocessError("not_an_image", f"An array of {array.dtype} values is not a picture: pixels must "
                              "be numbers (bool, integer or float).", dtype=str(array.dtype))
    if array.size == 0:
        raise PreprocessError("empty", f"The array is empty (shape {array.shape}); a picture needs pixels.",
                              shape=array.shape)
    shape = array.shape
    while array.ndim > 3 and array.shape[0] == 1:  # a batch of one, as Keras gives
        array = array[0]
    if array.ndim == 2:
        array = array[..., None]
    elif array.ndim == 3 and array.shape[-1] > 4 and array.shape[0] <= 4:  # channels first
        array = np.moveaxis(array, 0, -1)
    if array.ndim != 3 or array.shape[-1] > 4:
        raise PreprocessError("not_an_image", f"An array of shape {shape} is not a picture: give (height, width) "
                              "for grayscale or (height, width, channels) with 1 to 4 channels.", shape=shape)
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise _too_many_pixels(array.shape[1], array.shape[0])
    return _unit_range(array)


def _unit_range(array: np.ndarray) -> np.ndarray:
    """(H, W, C) numbers → float32 in [0, 1]; the rule for each dtype is in to_mnist's docstring."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise PreprocessError("not_an_image", "The array holds NaN or infinite values; every pixel must be a "
                                  "finite number.")
        full_scale = 1.0 if array.min() >= 0 and array.max() <= 1 else 255.0
    else:
        full_scale = 255.0 if array.max() <= 255 else 65535.0
    # float64 first: a float32 cast of huge values would overflow to inf before the division
    return np.clip(array.astype(np.float64) / full_scale, 0, 1).astype(np.float32)


# --- the MNIST recipe ------------------------------------------------------------------------------

def _mnist_style(pixels: np.ndarray, crop=None, ink: str = "auto") -> Preprocessed:
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise PreprocessError("too_small", f"The picture is only {width}×{height} pixels; a digit needs at least "
                              f"{MIN_SIDE}×{MIN_SIDE}. Use a larger picture.", width=width, height=height)
    decoded, gray = _decoded_and_gray(pixels)
    steps = [("decoded", decoded)]
    if crop is not None:
        box = _crop_box(crop, gray.shape)
        decoded, gray = decoded[box], gray[box]
        steps.append(("hand_cropped", decoded))
    steps.append(("grayscale", gray))

    dark = _dark_ink(gray) if ink == "auto" else ink == "dark"
    # From here on ink is bright and paper dark, as in MNIST.
    up = 1 - gray if dark else gray
    paper = _paper_light(up)
    steps.append(("paper_light", 1 - paper if dark else paper))
    # Divided by the light that reached the paper: under a shadow, ink and paper darken alike, so the ink's
    # share of the paper's brightness is what holds everywhere.
    flat = np.clip((up - paper) / np.maximum(1 - paper, 0.1), 0, 1).astype(np.float32)
    steps.append(("flattened", flat))

    kept, dropped = _digit_strokes(flat)
    level = float(np.percentile(flat[kept], 90))
    cleaned = np.where(ndimage.binary_dilation(kept, iterations=2), np.clip(flat / level, 0, 1), 0).astype(np.float32)
    shown = np.repeat(cleaned[..., None], 3, axis=-1)
    shown[dropped] = (0.85, 0.15, 0.15)  # what was taken for shadow, speck or edge, in red
    steps.append(("strokes", shown))

    rows = np.flatnonzero(cleaned.any(axis=1))
    cols = np.flatnonzero(cleaned.any(axis=0))
    cropped = cleaned[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    steps.append(("cropped", cropped))

    fitted = _fit_box(cropped)
    steps.append(("resized", fitted))
    image = _centre_by_mass(fitted)
    steps.append(("centred", image))
    return Preprocessed(image=image, steps=steps, dark_ink=dark)


def _crop_box(crop, shape):
    """(left, top, right, bottom) as fractions of the picture → the slices it keeps (at least MIN_SIDE px)."""
    try:
        left, top, right, bottom = (float(v) for v in crop)
    except (TypeError, ValueError):
        raise ValueError(f"crop must be four numbers (left, top, right, bottom), got {crop!r}") from None
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise ValueError(f"crop must hold 0 <= left < right <= 1 and 0 <= top < bottom <= 1, got {crop!r}")
    height, width = shape
    r0, r1 = int(round(top * height)), int(round(bottom * height))
    c0, c1 = int(round(left * width)), int(round(right * width))
    if min(r1 - r0, c1 - c0) < MIN_SIDE:
        raise PreprocessError("too_small", f"The crop keeps only {c1 - c0}×{r1 - r0} pixels; a digit needs at "
                              f"least {MIN_SIDE}×{MIN_SIDE}. Widen the crop box.", width=c1 - c0, height=r1 - r0)
    return np.s_[r0:r1, c0:c1]


def _shrunk(gray: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(gray.shape)
    if scale >= 1:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX))


def _dark_ink(gray: np.ndarray) -> bool:
    """Whether the ink is darker than the paper, judged from the marks, not from the frame's edge or mean.

    Against the local median (the paper, wherever strokes cover less than half of the window), dark ink is a
    far tail below and light ink a far tail above; vignetting and a shadow are slow changes the median
    follows, so they do not vote. Which tail holds more, beyond the noise, decides."""
    # A frame of one even colour (a drawing, a scan with a margin: never a photo, whose noise and falloff reach
    # the edge) is the paper, whatever share of the picture the marks cover.
    ring = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    level = float(np.median(ring))
    marks = gray[np.abs(gray - level) > MIN_CONTRAST]
    if marks.size and (np.abs(ring - level) <= 0.02).mean() >= 0.99:
        return bool(level > float(np.median(marks)))
    small = _shrunk(gray, POLARITY_SIDE)
    window = max(3, round(max(small.shape) / 2)) | 1
    detail = small - ndimage.median_filter(small, size=window, mode="reflect")
    noise = 1.4826 * float(np.median(np.abs(detail))) + 1e-3
    below = np.clip(-detail - 3 * noise, 0, None).sum()
    above = np.clip(detail - 3 * noise, 0, None).sum()
    if max(below, above) > 2 * min(below, above):
        return bool(below > above)
    # No clear tail: a thick digit filling the picture, where the median is partly ink. Ink is then still
    # the smaller share of the picture.
    return bool((small < _otsu(small)).mean() < 0.5)


def _paper_light(up: np.ndarray) -> np.ndarray:
    """The paper's brightness under the picture's light, in the ink-up picture (ink bright, paper dark).

    Where the paper is evenly lit (a scan, a drawing, a photo in good light), that is one level: the paper's
    median. Otherwise a grey opening by a window wider than any stroke: the strokes vanish, and the light's
    falloff, the dark corners and a shadow wider than the window survive; it is computed small and smoothed,
    then brought back to full size. The opening needs paper around the strokes, which a digit filling the
    whole picture leaves too little of; evenly lit, such a picture never needs it."""
    small = _shrunk(up, LIGHT_SIDE)
    split = _otsu(small)
    ink = small[small >= split]
    # The paper's level in each sixteenth of the picture: its 1st percentile, which noise, specks and the strokes'
    # soft edges barely move.
    blocks = [b for band in np.array_split(small, 4) for b in np.array_split(band, 4, axis=1)]
    levels = [np.percentile(b, 1) for b in blocks]
    if ink.size:
        inked = float(np.median(ink))
        contrast = inked - min(levels)
        # The ink's own level: a high percentile, since a large deep shadow can pass Otsu's cut and be most of "ink".
        top = float(np.percentile(ink, 90))
        # A sixteenth that is mostly ink (a thick stroke filling it) shows no paper: its typical pixel is ink,
        # and its 1st percentile only a stroke's soft edge, so it is left out. A shadow's typical pixel is
        # shaded paper, below the ink even where the shadow is deep: it is kept.
        levels = [level for level, b in zip(levels, blocks)
                  if level < min(levels) + 0.75 * contrast and float(np.median(b)) < top - INKED * contrast]
    if ink.size and levels and max(levels) - min(levels) < EVEN * contrast:
        return np.full(up.shape, float(np.median(small[small < split])), np.float32)
    size = max(3, round(min(small.shape) * LIGHT_WINDOW))
    light = ndimage.gaussian_filter(ndimage.grey_opening(small, size=(size, size), mode="reflect"), 1.0)
    if light.shape != up.shape:
        light = np.asarray(Image.fromarray(light.astype(np.float32)).resize(up.shape[::-1], Image.Resampling.BILINEAR))
    return np.minimum(light, up.max())


def _otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of values in [0, 1]: the cut that best separates two classes (max between-class variance)."""
    counts, edges = np.histogram(values, bins=bins, range=(0, 1))
    centres = (edges[:-1] + edges[1:]) / 2  # the first class is bins 0..k; the threshold is bin k's upper edge
    weight = np.cumsum(counts)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.nan_to_num((total_mass * weight / total - mass) ** 2 / (weight * (total - weight)))[:-1]
    if not between.any():  # one value throughout: nothing lies above it
        return float(np.max(values)) + 1 / bins
    return float(edges[np.argmax(between) + 1])


def _digit_strokes(flat: np.ndarray):
    """(kept, dropped) masks: the digit's own strokes, and the marks taken for shadow, speck or paper edge.

    Marks are what Otsu's threshold separates from the flattened paper. The digit is the heaviest mark, with
    every other mark of some weight close to it (a 5's detached bar, a broken stroke); marks that run along the
    picture's edge, shallow and long (the table), count only when nothing else is there."""
    # Smoothed against sensor noise and JPEG's blocks, but not in a picture so small that a pixel is a stroke.
    smooth = ndimage.gaussian_filter(flat, min(1.0, min(flat.shape) / 100))
    if float(flat.max()) < MIN_CONTRAST:
        raise _no_ink()
    threshold = max(_otsu(smooth), MIN_CONTRAST * 0.75)
    marks, count = ndimage.label(smooth > threshold, structure=np.ones((3, 3)))
    if count == 0:
        raise _no_ink()
    index = np.arange(1, count + 1)
    mass = ndimage.sum_labels(flat, marks, index)
    boxes = ndimage.find_objects(marks)
    height, width = flat.shape
    # The table beside the sheet: a band along the picture's edge, for half its length or more, and shallow.
    rim = np.array([(b[0].start == 0 or b[0].stop == height) and b[1].stop - b[1].start >= width / 2
                    and b[0].stop - b[0].start <= RIM * height
                    or (b[1].start == 0 or b[1].stop == width) and b[0].stop - b[0].start >= height / 2
                    and b[1].stop - b[1].start <= RIM * width for b in boxes])
    inner = ~rim if (~rim & (mass >= MIN_MARK * mass.max())).any() else np.ones(count, bool)
    first = int(np.argmax(np.where(inner, mass, -1)))
    chosen = {first}
    top, left, bottom, right = boxes[first][0].start, boxes[first][1].start, boxes[first][0].stop, boxes[first][1].stop
    grew = True
    while grew:
        grew = False
        reach = NEAR * max(bottom - top, right - left)
        for i in np.flatnonzero(inner & (mass >= MIN_MARK * mass[first])):
            if i in chosen:
                continue
            b = boxes[i]
            gap = max(top - b[0].stop, b[0].start - bottom, left - b[1].stop, b[1].start - right, 0)
            if gap <= reach:
                chosen.add(int(i))
                top, left = min(top, b[0].start), min(left, b[1].start)
                bottom, right = max(bottom, b[0].stop), max(right, b[1].stop)
                grew = True
    kept = np.isin(marks, np.array(sorted(chosen)) + 1)
    if float(flat[kept].sum()) <= 0 or int(kept.sum()) < MIN_AREA * flat.size:
        raise _no_ink()
    return kept, (marks > 0) & ~kept


def _no_ink() -> PreprocessError:
    return PreprocessError("no_ink", "No digit found: nothing in the picture stands out from its background. "
                           "Draw or photograph a dark digit on light paper (or a light one on dark), "
                           "large enough to fill most of the picture.")


def _decoded_and_gray(pixels: np.ndarray):
    """The picture as decoded (alpha laid on paper) and its grayscale."""
    has_alpha = pixels.shape[-1] in (2, 4)
    colour = pixels[..., :-1] if has_alpha else pixels
    if has_alpha:
        alpha = pixels[..., -1:]
        gray = _luma(colour)
        seen = alpha[..., 0] >= 0.5
        seen_gray = gray[seen] if seen.any() else gray[alpha[..., 0] > 0]
        paper = 1.0
        # Strokes all in one light colour (white on a transparent canvas) vanish on white paper: the
        # drawing is in the alpha channel, so lay it on black instead.
        if seen_gray.size and np.ptp(seen_gray) < FLAT and np.median(seen_gray) >= 0.5:
            paper = 0.0
        colour = colour * alpha + paper * (1 - alpha)
    gray = _luma(colour)
    decoded = colour if colour.shape[-1] == 3 else gray
    return decoded, gray


def _luma(colour: np.ndarray) -> np.ndarray:
    return colour[..., 0] if colour.shape[-1] == 1 else (colour @ LUMA).astype(np.float32)


def _fit_box(cropped: np.ndarray) -> np.ndarray:
    """Longer side to BOX pixels, aspect kept; Lanczos filters as it shrinks, so thin strokes stay grey."""
    height, width = cropped.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(np.ascontiguousarray(cropped, np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 1)  # Lanczos rings a little past the ink's range


def _centre_by_mass(fitted: np.ndarray) -> np.ndarray:
    height, width = fitted.shape
    mass = float(fitted.sum())
    if mass <= 0:
        raise PreprocessError("no_ink", "No digit found: the marks in the picture are too faint or too small.")
    centre_row = float(fitted.sum(axis=1) @ np.arange(height)) / mass
    centre_col = float(fitted.sum(axis=0) @ np.arange(width)) / mass
    # Whole-pixel shifts, as MNIST's: no second blur. Clamped so no ink leaves the field.
    top = int(np.clip(round(CENTRE - centre_row), 0, FIELD - height))
    left = int(np.clip(round(CENTRE - centre_col), 0, FIELD - width))
    image = np.zeros((FIELD, FIELD), np.float32)
    image[top:top + height, left:left + width] = fitted
    return image


# --- the other way: an MNIST digit as a person would hand it in -----------------------------------

def on_paper(digit, side: int = 280, size: float = 0.7, stroke: int = 0, shift=(0.0, 0.0)) -> np.ndarray:
    """An MNIST digit redrawn as a dark-on-white picture, as if photographed or drawn: (side, side) uint8.

    `size`: the digit's 20-px box as a fraction of the picture; `stroke`: pixels (of the picture) added
    to (or, negative, taken from) the pen's radius; `shift`: (down, right) as fractions of the room left
    around the digit, in [-1, 1]. The your-digit page's samples and bench/preprocess.py draw with it.
    """
    digit = np.asarray(digit, np.float32)
    if digit.dtype.kind != "f" or digit.max() > 1:
        digit = digit / 255.0
    if not 0.1 <= size <= 1.0:
        raise ValueError(f"size must be within [0.1, 1], got {size}")
    scaled = round(side * size * FIELD / BOX)  # MNIST's 28×28 field holds a 20×20 box
    big = Image.fromarray((np.clip(digit, 0, 1) * 255).astype(np.uint8)).resize(
        (scaled, scaled), Image.Resampling.BICUBIC)
    if stroke:
        from PIL import ImageFilter

        grow = ImageFilter.MaxFilter if stroke > 0 else ImageFilter.MinFilter
        big = big.filter(grow(2 * abs(int(stroke)) + 1))
    paper = Image.new("L", (max(side, scaled), max(side, scaled)), 0)
    room = max(side, scaled) - scaled
    top = int(round(room / 2 * (1 + np.clip(shift[0], -1, 1))))
    left = int(round(room / 2 * (1 + np.clip(shift[1], -1, 1))))
    paper.paste(big, (left, top))
    return 255 - np.asarray(paper.crop((0, 0, side, side)), np.uint8)
