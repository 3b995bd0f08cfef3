"""The your-digit page as Streamlit runs it: samples, uploads good and bad, the noise slider."""
import io

import numpy as np
import pytest
from PIL import Image

from core import data, i18n, preprocess, pretrained
from tests.apptest import images, open_page

EN, JA = i18n.translator("en"), i18n.translator("ja")


@pytest.fixture(scope="module")
def seven():
    return data.load_sample()[0][0]  # the first test digit, a 7


def top_guess(at):
    """The digit the first probability bar names ("7 — 99.8%" → 7), or None when there are no bars."""
    bars = [e for e in at.main.get("progress")]
    return int(bars[0].proto.text.split(" — ")[0]) if bars else None


def png(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def paper(digit):
    return Image.fromarray(preprocess.on_paper(digit))


def upload(at, name, content, mime="image/png"):
    at.segmented_control(key="digit_source").set_value("upload").run()
    at.file_uploader(key="digit_upload").set_value((name, content, mime)).run()
    assert not at.exception, at.exception
    return at


def test_a_sample_digit_is_preprocessed_read_and_cleaned():
    at = open_page("your_digit")
    x, y = data.load_sample()
    index = at.number_input(key="sample_index").value
    assert not at.error
    assert top_guess(at) == int(y[index])
    # the sample picture, 7 steps (inverted: it is dark on white), the classifier's view, your digit,
    # noisy, and one picture per shipped denoiser, each with its PSNR
    # and, with the VAE shipped, what the VAE draws back
    assert len(images(at)) == 1 + 7 + 1 + 2 + len(pretrained.denoisers()) + ("vae" in pretrained.load_manifest())
    assert sum(c.value.startswith("PSNR") for c in at.caption) == 1 + len(pretrained.denoisers())
    if "geometric_9" in pretrained.load_manifest():  # the detector of the predicted digit gives a verdict
        verdicts = [m.value for m in (*at.success, *at.warning, *at.error)]
        assert len(verdicts) == 1 and f"{int((y == y[index]).sum()):,} real {y[index]}s in the test set" in verdicts[0]

    before = images(at)
    at.number_input(key="sample_index").set_value(0).run()
    assert top_guess(at) == int(y[0])
    assert images(at)[0] != before[0]


def test_the_noise_slider_changes_the_noisy_and_cleaned_digits_only():
    at = open_page("your_digit")
    before = images(at)
    at.slider(key="digit_noise_factor").set_value(0.9).run()
    after = images(at)
    assert not at.exception
    noisy = 1 + 7 + 1 + 1  # after the sample, its steps, the classifier's view and the clean digit
    moved = range(noisy, noisy + 1 + len(pretrained.denoisers()))  # the noisy digit and each denoiser's answer
    assert len(after) == len(before)
    assert all((after[i] != before[i]) == (i in moved) for i in range(len(before)))


def test_bad_uploads_read_as_messages_and_the_next_upload_works(seven):
    at = open_page("your_digit")
    bad = [
        ("empty.png", b"", "empty"),
        ("digit.png", b"This is my digit: 7\n" * 20, "not_an_image"),
        ("cut.png", png(paper(seven))[:3000], "damaged"),
        ("huge.png", png(Image.new("1", (20_000, 20_000), 1)), "too_large"),
        ("white.png", png(Image.new("L", (280, 280), 255)), "no_ink"),
        ("black.png", png(Image.new("L", (280, 280), 0)), "no_ink"),
        ("dot.png", png(Image.new("L", (1, 1), 0)), "too_small"),
    ]
    limits = dict(limit_mb=5, megapixels="25", min_side=preprocess.MIN_SIDE)
    for name, content, reason in bad:
        upload(at, name, content)
        assert len(at.error) == 1, (name, [e.value for e in at.error])
        assert at.error[0].value == EN("digit.error", message=EN(f"digit.error.{reason}", **limits)), name
        assert top_guess(at) is None
        upload(at, "seven.png", png(paper(seven)))  # and the next one works
        assert not at.error and top_guess(at) == 7, name


def test_awkward_but_real_pictures_are_read(seven):
    at = open_page("your_digit")
    first, second = paper(seven), paper(data.load_sample()[0][1])
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; EXIF says turn it clockwise
    alpha_only = np.zeros((280, 280, 4), np.uint8)
    alpha_only[..., 3] = 255 - np.asarray(first)
    cases = [
        ("anim.gif", png(first, "GIF", save_all=True, append_images=[second], duration=100), "image/gif"),
        ("deep.png", png(Image.fromarray(np.asarray(first).astype(np.uint16) * 257)), "image/png"),
        ("cmyk.jpg", png(first.convert("CMYK"), "JPEG", quality=95), "image/jpeg"),
        ("alpha.png", png(Image.fromarray(alpha_only)), "image/png"),
        ("phone.jpg", png(first.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif), "image/jpeg"),
    ]
    for name, content, mime in cases:
        upload(at, name, content, mime)
        assert not at.error, (name, [e.value for e in at.error])
        assert top_guess(at) == 7, name


def test_messages_follow_the_language(seven):
    at = upload(open_page("your_digit"), "white.png", png(Image.new("L", (280, 280), 255)))
    at.session_state["lang"] = "ja"  # as the sidebar's switch does; AppTest drops it after switch_page
    at.run()
    assert at.error[0].value == JA("digit.error", message=JA("digit.error.no_ink"))
    assert at.title[0].value == JA("digit.title")
