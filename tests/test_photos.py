"""Phone photos of digits on paper (core.photo) are read right through core.preprocess and the classifier.

A small sample of what bench/photos.py measures on 1,000: every fault at once, ten digits of each class."""
import io

import numpy as np
import pytest
from PIL import Image

from core import data, photo, preprocess, pretrained


@pytest.fixture(scope="module")
def photos():
    x, y = data.load_sample()
    return photo.photo_set(x, y, 80, seed=7)  # other photos than the bench's seed 0


def test_photographed_digits_are_read_right_and_none_refused(photos):
    images = np.stack([preprocess.to_mnist(jpeg).image for jpeg, _ in photos])[..., None]  # raises if refused
    read = np.asarray(pretrained.forward("classifier")(images)).argmax(1)
    labels = np.array([label for _, label in photos])
    assert (read == labels).mean() >= 0.9, list(zip(labels[read != labels], read[read != labels]))


def test_a_photo_is_a_jpeg_of_a_phone_sized_frame_with_the_faults_asked_for():
    digit = data.load_sample()[0][0]
    clean = Image.open(io.BytesIO(photo.photograph(digit, np.random.default_rng(0), faults=())))
    assert clean.format == "JPEG" and clean.size in [(w, h) for h, w in photo.FRAMES]
    rows = np.asarray(clean.convert("L"), np.float32)
    assert np.percentile(rows, 50) > 200  # white paper, even light
    lit = Image.open(io.BytesIO(photo.photograph(digit, np.random.default_rng(0), faults=("gradient",))))
    assert np.ptp(np.percentile(np.asarray(lit.convert("L"), np.float32), 50, axis=0)) > 30  # light falls off
    with pytest.raises(ValueError):
        photo.photograph(digit, np.random.default_rng(0), faults=("lens_flare",))
