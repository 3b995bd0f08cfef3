"""The your-digit page as Streamlit runs it: samples, uploads good and bad, the noise slider."""
import io
import itertools

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


STEPS, PREDICTION, STRIP = 1, 2, 3  # the page's pictures after the sample (0): steps, the classifier's view, the strip


def test_the_opening_sample_is_read_right_and_called_typical():
    at = open_page("your_digit")
    x, y = data.load_sample()
    index = at.number_input(key="sample_index").value
    assert not at.error and not at.exception
    assert top_guess(at) == int(y[index])
    assert float(at.main.get("progress")[0].proto.text.split(" — ")[1].rstrip("%")) > 99
    # the sample, its steps as one picture, the classifier's view, the noise strip as one picture, the VAE's
    assert len(images(at)) == 4 + ("vae" in pretrained.load_manifest())
    legend = next(c.value for c in at.caption if c.value.startswith("1 your digit"))
    assert legend.count(" · ") == 1 + len(pretrained.denoisers())  # yours, noisy and every denoiser, numbered
    if "geometric_9" in pretrained.load_manifest():  # the detector of the predicted digit gives a verdict
        assert [m.value for m in (*at.warning, *at.error)] == []
        assert len(at.success) == 1 and at.success[0].value.startswith(f"Looks like a typical {y[index]}")

    before = images(at)
    at.number_input(key="sample_index").set_value(0).run()
    assert top_guess(at) == int(y[0])
    assert images(at)[0] != before[0]


def test_the_unusual_example_is_one_click_away_and_says_so():
    at = open_page("your_digit")
    next(b for b in at.button if b.label == "An unusual one").click().run()
    assert (at.number_input(key="sample_index").value, at.slider(key="sample_pen").value) == (7, 2)
    assert top_guess(at) == 9
    if "geometric_9" in pretrained.load_manifest():
        assert len(at.warning) == 1 and at.warning[0].value.startswith("An unusual 9")


def test_a_photographed_sample_goes_through_every_step_and_can_be_rescued():
    at = open_page("your_digit")
    at.toggle(key="sample_photo").set_value(True).run()
    assert not at.exception and not at.error
    assert top_guess(at) == int(data.load_sample()[1][at.number_input(key="sample_index").value])
    assert at.query_params["photo"] == "true"
    steps = images(at)[STEPS]
    at.slider(key="digit_crop_x").set_value((10, 90)).run()
    caption = next(c.value for c in at.caption if c.value.startswith("1 decoded"))
    assert caption.startswith("1 decoded · 2 your crop · 3 grayscale")
    assert images(at)[STEPS] != steps
    at.segmented_control(key="digit_ink").set_value("light").run()  # the paper read as ink: another digit
    assert not at.exception and "Ink found: light on dark." in next(
        c.value for c in at.caption if c.value.startswith("1 decoded"))
    at.number_input(key="sample_index").set_value(3).run()  # a new picture starts uncropped, ink auto
    assert at.slider(key="digit_crop_x").value == (0, 100) and at.segmented_control(key="digit_ink").value == "auto"


def test_the_noise_slider_changes_the_noise_strip_only():
    at = open_page("your_digit")
    before = images(at)
    at.slider(key="digit_noise_factor").set_value(0.9).run()
    after = images(at)
    assert not at.exception
    assert len(after) == len(before)
    assert [a != b for a, b in zip(after, before)] == [i == STRIP for i in range(len(before))]


def test_slider_picture_and_link_agree_whatever_the_order_of_sources(seven):
    """The noise factor set on a sample holds through every order of switching sources: the slider shows it,
    the link says it, and the strip is the one a fresh session makes at that factor."""
    photo = png(paper(seven), "JPEG", quality=85)
    fresh = upload(open_page("your_digit"), "seven.jpg", photo, "image/jpeg")
    fresh.slider(key="digit_noise_factor").set_value(0.8).run()
    expected = images(fresh)[STRIP - 1]  # an upload shows no sample picture: the strip is one earlier
    at = open_page("your_digit")
    at.slider(key="digit_noise_factor").set_value(0.8).run()
    for order in itertools.permutations(("upload", "camera", "draw", "sample")):
        for source in order:
            at.segmented_control(key="digit_source").set_value(source).run()
            if source == "upload":
                at.file_uploader(key="digit_upload").set_value(("seven.jpg", photo, "image/jpeg")).run()
            elif source == "camera":
                at.camera_input(key="digit_camera").set_value(("photo.jpg", photo, "image/jpeg")).run()
            assert not at.exception, (order, source)
            assert at.query_params["noise_factor"] == "0.8", (order, source)
            assert at.session_state["digit_noise_factor"] == 0.8, (order, source)
            if source != "draw":  # nothing drawn here: no strip
                assert at.slider(key="digit_noise_factor").value == 0.8, (order, source)
            if source in ("upload", "camera"):
                assert images(at)[STRIP - 1] == expected, (order, source)


def test_a_camera_photo_is_read_and_never_in_the_link(seven):
    at = open_page("your_digit")
    at.segmented_control(key="digit_source").set_value("camera").run()
    assert at.info and not at.error  # the hint before a photo
    shot = np.asarray(paper(seven), np.float32)[..., None] * np.array([0.8, 0.75, 0.7]) * np.linspace(0.6, 1, 280)[:, None, None]
    at.camera_input(key="digit_camera").set_value(("photo.jpg", png(Image.fromarray(shot.astype(np.uint8)), "JPEG"),
                                                   "image/jpeg")).run()
    assert not at.exception and not at.error and top_guess(at) == 7
    assert at.query_params["source"] == "camera"
    assert not {"sample", "pen", "photo"} & set(at.query_params)
    at.camera_input(key="digit_camera").set_value(("text.jpg", b"not a photo", "image/jpeg")).run()
    assert len(at.error) == 1 and not at.exception


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
