"""core.preprocess: the MNIST recipe, every bad input the your-digit page can meet, and fuzzed arrays.

Each bad input ends by processing a normal digit, because the page must keep working after one.
"""
import io
import struct
import subprocess
import sys
import tomllib
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageFile

from core import preprocess
from core.data import load_sample
from core.preprocess import PreprocessError, to_mnist

ROOT = Path(__file__).resolve().parent.parent

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def mnist():
    return load_sample()


@pytest.fixture(scope="module")
def seven(mnist):
    """The first test digit (a 7), as uint8 28×28 white on black."""
    return mnist[0][0]


def on_paper(digit, side=280):
    """An MNIST digit drawn dark on white at `side`×`side`, as a scan or a drawing app gives it."""
    return Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BICUBIC)


def encode(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def correlation(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def best_correlation(image, digit):
    """Correlation allowing a whole-pixel shift: MNIST's own centring rounds to whole pixels too."""
    return max(correlation(np.roll(image, (dy, dx), axis=(0, 1)), digit) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def centre_of_mass(image):
    rows = np.arange(image.shape[0])
    mass = image.sum()
    return float(image.sum(axis=1) @ rows / mass), float(image.sum(axis=0) @ rows / mass)


def assert_mnist_style(result):
    image = result.image
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 20


def assert_still_works(seven):
    result = to_mnist(io.BytesIO(encode(on_paper(seven))))
    assert_mnist_style(result)
    assert best_correlation(result.image, seven) > 0.9


def refusal(source):
    with pytest.raises(PreprocessError) as caught:
        to_mnist(source)
    error = caught.value
    assert error.reason in preprocess.REASONS
    assert "Traceback" not in str(error) and len(str(error)) > 20
    return error


# --- the MNIST recipe -------------------------------------------------------------------------------

def test_mnist_digits_drawn_at_280px_come_back(mnist):
    digits = mnist[0][:30]
    plain = []
    for digit in digits:
        result = to_mnist(encode(on_paper(digit)))
        assert_mnist_style(result)
        assert best_correlation(result.image, digit) > 0.85
        row, col = centre_of_mass(result.image)
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1
        plain.append(correlation(result.image, digit))
    assert np.mean(plain) > 0.9


def test_the_longer_side_is_fitted_to_20_px():
    wide = np.zeros((100, 300), np.uint8)
    wide[40:60, 20:280] = 255
    result = to_mnist(wide)
    assert_mnist_style(result)
    cropped, resized = dict(result.steps)["cropped"], dict(result.steps)["resized"]
    assert cropped.shape == (20, 260)
    assert resized.shape == (2, 20)  # aspect kept: 20 × 260 → 1.5 rounds to 2


def test_steps_in_order_and_the_ink_judged_from_the_strokes(seven):
    light = to_mnist(encode(on_paper(seven)))
    assert [name for name, _ in light.steps] == [s for s in preprocess.STEPS if s != "hand_cropped"]
    assert light.dark_ink
    dark = to_mnist(seven)
    assert not dark.dark_ink and [name for name, _ in dark.steps] == [name for name, _ in light.steps]
    for name, picture in light.steps[1:]:
        assert picture.ndim == (3 if name == "strokes" else 2) and picture.dtype == np.float32, name
        assert 0 <= picture.min() and picture.max() <= 1, name
    assert light.steps[-1][1] is light.image
    assert correlation(light.image, dark.image) > 0.9


def test_dark_corners_do_not_flip_the_ink(seven):
    """Vignetting darker than the paper's centre: the frame's edge says "dark background", the strokes don't."""
    paper = np.asarray(on_paper(seven, side=400), np.float32) / 255
    rows, cols = np.mgrid[0:400, 0:400] / 399 - 0.5
    light = 1 - 1.6 * (rows ** 2 + cols ** 2)  # corners at 20 % of the centre's light
    result = to_mnist((paper * 0.9 * light * 255).astype(np.uint8))
    assert result.dark_ink
    assert best_correlation(result.image, seven) > 0.85


def test_a_shadow_over_a_corner_is_dropped_not_cropped(seven):
    paper = np.asarray(on_paper(seven, side=400), np.float32) / 255
    rows, cols = np.mgrid[0:400, 0:400]
    shadow = 1 / (1 + np.exp((np.hypot(rows - 399, cols - 399) / 400 - 0.5) / 0.02))  # a hard-edged quarter disc
    result = to_mnist((paper * 0.85 * (1 - 0.6 * shadow) * 255).astype(np.uint8))
    assert best_correlation(result.image, seven) > 0.85
    assert max(dict(result.steps)["cropped"].shape) < 300  # the digit's box, not the digit and the shadow


def test_specks_and_the_table_edge_are_shown_dropped(seven):
    paper = np.asarray(on_paper(seven, side=400), np.float32) / 255 * 0.8
    paper[:, :20] = 0.15  # the table beside the sheet
    for y, x in ((30, 350), (370, 60), (380, 380)):
        paper[y - 2:y + 3, x - 2:x + 3] = 0.2
    result = to_mnist((paper * 255).astype(np.uint8))
    strokes = dict(result.steps)["strokes"]
    red = (strokes[..., 0] > 0.8) & (strokes[..., 1] < 0.2)
    assert red[:, :20].mean() > 0.9 and red[370, 60] and red[30, 350]
    assert best_correlation(result.image, seven) > 0.85


@pytest.mark.parametrize("ink", ["dark", "light"])
def test_the_ink_colour_can_be_said_by_hand(ink, seven):
    picture = np.asarray(on_paper(seven), np.uint8)
    result = to_mnist(picture if ink == "dark" else 255 - picture, ink=ink)
    assert result.dark_ink == (ink == "dark")
    assert best_correlation(result.image, seven) > 0.85
    wrong = to_mnist(picture, ink="light")  # the paper taken for ink: something else, but no error
    assert not wrong.dark_ink and best_correlation(wrong.image, seven) < 0.7
    with pytest.raises(ValueError):
        to_mnist(picture, ink="blue")


def test_a_crop_box_keeps_its_part_and_shows_it(seven):
    picture = np.full((300, 600), 230, np.uint8)
    picture[10:290, 310:590] = np.asarray(on_paper(seven), np.uint8)
    picture[100:200, 40:60] = 0  # a heavy bar left of the digit, heavier than it
    result = to_mnist(picture, crop=(0.5, 0, 1, 1))
    names = [name for name, _ in result.steps]
    assert names[:3] == ["decoded", "hand_cropped", "grayscale"]
    assert dict(result.steps)["hand_cropped"].shape == (300, 300)
    assert best_correlation(result.image, seven) > 0.85
    with pytest.raises(PreprocessError) as caught:
        to_mnist(picture, crop=(0.5, 0.5, 0.51, 0.51))
    assert caught.value.reason == "too_small"
    for bad in ((0.6, 0, 0.5, 1), (0, 0, 1), (-0.1, 0, 1, 1), ("a", 0, 1, 1)):
        with pytest.raises(ValueError):
            to_mnist(picture, crop=bad)


def test_every_kind_of_source_gives_the_same_digit(seven, tmp_path):
    data = encode(on_paper(seven))
    path = tmp_path / "seven.png"
    path.write_bytes(data)
    read_already = io.BytesIO(data)
    read_already.read()  # a Streamlit upload a previous rerun has read to the end
    expected = to_mnist(data).image
    for source in (bytearray(data), path, str(path), read_already, Image.open(io.BytesIO(data)),
                   np.asarray(on_paper(seven))):
        assert np.allclose(to_mnist(source).image, expected, atol=1e-6), type(source)


def test_a_photo_blue_pen_on_dim_uneven_paper(seven):
    """Paper exposed as mid-grey, lit from one side: still a light background, ink still found."""
    ink = np.asarray(on_paper(seven), np.float32) / 255  # 1 = paper, 0 = ink
    light = np.linspace(0.40, 0.55, 280, dtype=np.float32)[None, :]
    pen = np.array([0.10, 0.15, 0.45], np.float32)
    photo = light[..., None] * (ink[..., None] + (1 - ink[..., None]) * pen / 0.55)
    result = to_mnist(encode(Image.fromarray((photo * 255).astype(np.uint8)), "JPEG", quality=85))
    assert result.dark_ink
    assert result.steps[0][1].shape == (280, 280, 3)  # the decoded colour picture, for the page
    assert best_correlation(result.image, seven) > 0.85


def test_a_big_photo_is_shrunk_before_the_steps(seven):
    photo = on_paper(seven, side=3000)
    result = to_mnist(encode(photo, "JPEG", quality=80))
    assert max(result.steps[0][1].shape) <= preprocess.WORK_SIDE
    assert best_correlation(result.image, seven) > 0.85


def test_limits_match_the_app_and_pillow():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert preprocess.MAX_BYTES == config["server"]["maxUploadSize"] * 1024 * 1024
    # Pillow's own guard at ours, its warning an error: whoever opens a picture in this process, a larger one is
    # refused when its header is read.
    assert preprocess.MAX_PIXELS == Image.MAX_IMAGE_PIXELS


def _png_header(width: int, height: int) -> bytes:
    """A PNG that says it is width×height and holds no pixels: enough for Pillow to open it and read its size."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_a_picture_over_the_limit_is_refused_by_pillow_itself_when_opened():
    """In a process that imported core.preprocess (the app's), Pillow refuses a picture over our limit as it reads
    its header: 30 MP, which Pillow alone only warns about. (A subprocess: pytest resets warning filters per test.)"""
    code = ("import io, sys; sys.path.insert(0, sys.argv[1]); import core.preprocess; from PIL import Image\n"
            "from tests.test_preprocess import _png_header\n"
            "Image.open(io.BytesIO(_png_header(6000, 4000))).close()\n"
            "try:\n    Image.open(io.BytesIO(_png_header(6000, 5000)))\n"
            "except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:\n    print(type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["DecompressionBombWarning"]


def test_an_icon_holding_a_huge_png_is_named_from_its_bytes_never_decoded(monkeypatch):
    """An ICO (a PNG inside, 13000×13000) named .png: it is named by its magic bytes. Opening it with every
    Pillow reader to name it (as before) decoded the PNG while opening: 650 MB from a 657 KB file."""
    inner = _png_header(13000, 13000)
    ico = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(inner), 22) + inner
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda fp, mode="r", formats=None: opened.append(formats) or real_open(fp, mode, formats))
    with pytest.raises(PreprocessError) as refused:
        to_mnist(ico)
    assert refused.value.reason == "unsupported_format" and "ICO" in str(refused.value)
    assert opened and all(f == preprocess.FORMATS for f in opened)  # only our readers, never "any format"


@pytest.mark.parametrize("head, name", [(b"II*\0", "TIFF"), (b"MM\0*", "TIFF"), (b"%PDF-1.7", "PDF"),
                                        (b"\0\0\0\x18ftypheic", "HEIC"), (b"\0\0\0\x1cftypavif", "AVIF"),
                                        (b"<svg xmlns='http://www.w3.org/2000/svg'>", "SVG"), (b"8BPS", "PSD"),
                                        (b"P6\n28 28\n255\n", "PNM"), (b"hello", None)])
def test_formats_we_do_not_read_are_named_from_their_first_bytes(head, name):
    assert preprocess.format_name(head + b"\0" * 64) == name


def test_no_streamlit_and_no_tensorflow():
    code = "import sys, core.preprocess; print(sorted({'streamlit', 'tensorflow', 'keras'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- bad input: refused with a message a person can act on --------------------------------------------

def zero_byte_file(tmp_path, seven):
    path = tmp_path / "digit.png"
    path.write_bytes(b"")
    return path


def text_renamed_png(tmp_path, seven):
    path = tmp_path / "digit.png"
    path.write_text("This is my digit: 7\n" * 20)
    return path


def truncated_png(tmp_path, seven):
    data = encode(on_paper(seven))
    return io.BytesIO(data[: len(data) // 2])


def all_white(tmp_path, seven):
    return io.BytesIO(encode(Image.new("L", (280, 280), 255)))


def all_black(tmp_path, seven):
    return io.BytesIO(encode(Image.new("L", (280, 280), 0)))


def one_colour_rgb(tmp_path, seven):
    return io.BytesIO(encode(Image.new("RGB", (64, 48), (200, 30, 90)), "JPEG"))


def one_by_one(tmp_path, seven):
    return io.BytesIO(encode(Image.new("L", (1, 1), 0)))


def over_5_mb(tmp_path, seven):
    return bytes(preprocess.MAX_BYTES + 1)


def tiff(tmp_path, seven):
    return io.BytesIO(encode(on_paper(seven), "TIFF"))


@pytest.mark.parametrize("make, reason, words", [
    (zero_byte_file, "empty", "empty (0 bytes)"),
    (text_renamed_png, "not_an_image", "not a picture"),
    (truncated_png, "damaged", "damaged or cut short"),
    (all_white, "no_ink", "No digit found"),
    (all_black, "no_ink", "No digit found"),
    (one_colour_rgb, "no_ink", "No digit found"),
    (one_by_one, "too_small", "only 1×1 pixels"),
    (over_5_mb, "too_large", "5 MB"),
    (tiff, "unsupported_format", "TIFF pictures are not supported"),
])
def test_bad_input_is_refused_with_a_message(make, reason, words, tmp_path, seven):
    error = refusal(make(tmp_path, seven))
    assert error.reason == reason
    assert words in str(error)
    assert_still_works(seven)


@pytest.fixture(scope="module")
def huge_png():
    """20,000 × 20,000 pixels in about 90 KB: one bit per pixel, all the same, compresses to nothing."""
    return encode(Image.new("1", (20_000, 20_000), 1))


@pytest.fixture
def decoding(monkeypatch):
    """Records every pixel decode; a refusal 'before decoding' must leave it empty."""
    calls = []
    original = ImageFile.ImageFile.load

    def load(self):
        calls.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


def test_a_20000_px_square_png_is_refused_before_decoding(huge_png, decoding, seven):
    assert len(huge_png) < 200_000
    error = refusal(io.BytesIO(huge_png))
    assert error.reason == "too_large" and "25 megapixels" in str(error)
    assert decoding == []
    assert_still_works(seven)


def test_over_our_pixel_cap_but_under_pillows_is_refused_before_decoding(decoding, seven):
    error = refusal(encode(Image.new("1", (6000, 5000), 1)))
    assert error.reason == "too_large" and "6000×5000" in str(error)
    assert decoding == []
    assert_still_works(seven)


def test_pillows_bomb_warning_becomes_our_error(seven):
    data = encode(Image.new("1", (10_000, 10_000), 1))  # 100 MP: Pillow warns, it does not refuse
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert refusal(data).reason == "too_large"
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # whatever the filters say, it is refused (Pillow's limit is ours)
        assert refusal(data).reason == "too_large"
    assert_still_works(seven)


# --- bad input that is still a digit: read correctly ------------------------------------------------

def test_animated_gif_and_webp_use_the_first_frame(mnist, seven):
    other = mnist[0][1]
    for fmt, mode in (("GIF", "L"), ("WEBP", "RGB")):
        first, second = on_paper(seven).convert(mode), on_paper(other).convert(mode)
        data = encode(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)
        assert Image.open(io.BytesIO(data)).n_frames == 2
        result = to_mnist(io.BytesIO(data))
        assert_mnist_style(result)
        assert best_correlation(result.image, seven) > 0.9
        assert correlation(result.image, other) < 0.5
    assert_still_works(seven)


def test_16_bit_grayscale_png(seven):
    deep = np.asarray(on_paper(seven)).astype(np.uint16) * 257
    data = encode(Image.fromarray(deep))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    result = to_mnist(io.BytesIO(data))
    assert_mnist_style(result)
    assert np.allclose(result.image, to_mnist(encode(on_paper(seven))).image, atol=0.01)
    assert_still_works(seven)


def test_cmyk_jpeg(seven):
    data = encode(on_paper(seven).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    result = to_mnist(io.BytesIO(data))
    assert_mnist_style(result)
    assert best_correlation(result.image, seven) > 0.9
    assert_still_works(seven)


@pytest.mark.parametrize("colour", [0, 255], ids=["black-rgb", "white-rgb-like-a-canvas"])
def test_rgba_png_with_the_ink_only_in_alpha(colour, seven):
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., :3] = colour
    drawing[..., 3] = 255 - np.asarray(on_paper(seven))
    for source in (io.BytesIO(encode(Image.fromarray(drawing))), drawing):  # a file, and the canvas's array
        result = to_mnist(source)
        assert_mnist_style(result)
        assert best_correlation(result.image, seven) > 0.9
    assert_still_works(seven)


@pytest.mark.parametrize("orientation, stored_as", [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)])
def test_photo_with_exif_rotation_comes_out_upright(orientation, stored_as, seven):
    """A phone stores a portrait photo sideways and says so in EXIF Orientation (6: turn clockwise, 8: anti-)."""
    upright = on_paper(seven)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(upright.transpose(stored_as), "JPEG", quality=95, exif=exif)
    result = to_mnist(io.BytesIO(data))
    assert_mnist_style(result)
    assert best_correlation(result.image, seven) > 0.9
    sideways = to_mnist(upright.transpose(stored_as)).image
    assert correlation(result.image, sideways) < 0.5
    # the 7's bar is at the top: most of its mass lies in the upper half once upright
    assert result.image[:14].sum() > result.image[14:].sum()
    assert_still_works(seven)


# --- arrays of any shape and dtype ------------------------------------------------------------------

DTYPES = st.sampled_from([np.bool_, np.uint8, np.uint16, np.int32, np.float32, np.float64])


def assert_result_or_refusal(array):
    try:
        result = to_mnist(array)
    except PreprocessError as error:
        assert error.reason in preprocess.REASONS and str(error)
        event(f"refused: {error.reason}")
        return
    assert_mnist_style(result)
    event("a digit")


@FUZZ
@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=10)))
def test_any_array_gives_a_digit_or_our_error(array):
    assert_result_or_refusal(array)


@FUZZ
@given(st.tuples(st.integers(1, 48), st.integers(1, 48), st.sampled_from([(), (1,), (2,), (3,), (4,)]))
       .flatmap(lambda s: hnp.arrays(DTYPES, s[:2] + s[2])))
def test_any_picture_sized_array_gives_a_digit_or_our_error(array):
    assert_result_or_refusal(array)


@settings(max_examples=100, deadline=None)
@given(height=st.integers(8, 64), width=st.integers(8, 64), background=st.floats(0, 1), contrast=st.floats(0.2, 1),
       corners=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)))
def test_one_mark_on_a_plain_background_is_always_found(height, width, background, contrast, corners):
    ink = background + contrast if background + contrast <= 1 else background - contrast
    if ink < 0:
        ink = 1.0 if background < 0.5 else 0.0
    picture = np.full((height, width), background, np.float32)
    # inside a one-pixel margin: the border is the background, as on a sheet of paper
    top, bottom = sorted(1 + int(c * (height - 3)) for c in corners[:2])
    left, right = sorted(1 + int(c * (width - 3)) for c in corners[2:])
    picture[top:bottom + 1, left:right + 1] = ink
    result = to_mnist(picture)
    assert_mnist_style(result)
    row, col = centre_of_mass(result.image)
    assert abs(row - 14) <= 0.55 and abs(col - 14) <= 0.55
