import numpy as np
import pytest

from core import models

SEED_AE_LAYERS = [  # (layer class, filters or units or size, padding) in the seed's order
    ("InputLayer", None, None),
    ("Conv2D", 16, "same"), ("MaxPooling2D", (2, 2), "same"),
    ("Conv2D", 32, "same"), ("MaxPooling2D", (2, 2), "same"),
    ("Conv2D", 64, "same"), ("MaxPooling2D", (2, 2), "same"),
    ("Conv2D", 128, "same"), ("GlobalAveragePooling2D", None, None),
    ("Dense", 512, None), ("Reshape", (4, 4, 32), None),
    ("Conv2D", 64, "same"), ("UpSampling2D", (2, 2), None),
    ("Conv2D", 32, "same"), ("UpSampling2D", (2, 2), None),
    ("Conv2D", 16, "valid"), ("UpSampling2D", (2, 2), None),
    ("Conv2D", 1, "same"),
]


def _describe(layer):
    cfg = layer.get_config()
    size = cfg.get("filters") or cfg.get("units") or cfg.get("target_shape") or cfg.get("pool_size") or cfg.get("size")
    return type(layer).__name__, tuple(size) if isinstance(size, list) else size, cfg.get("padding")


def test_seed_autoencoder_is_the_seeds_network():
    m = models.seed_autoencoder()
    assert m.count_params() == 204_929
    assert [_describe(layer) for layer in m.layers] == SEED_AE_LAYERS
    acts = [layer.get_config().get("activation") for layer in m.layers if type(layer).__name__ in ("Conv2D", "Dense")]
    assert acts == ["relu"] * 8 + ["sigmoid"]
    assert m.output_shape == (None, 28, 28, 1)
    # the valid-padding conv is the one that turns 16×16 into 14×14
    assert m.get_layer("dec_conv16_valid").output.shape[1:3] == (14, 14)


def test_unet_shapes_and_output_range():
    m = models.unet_denoiser()
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    y = np.asarray(m(x, training=False))
    assert y.shape == (3, 28, 28, 1) and y.min() >= 0 and y.max() <= 1
    assert any(type(layer).__name__ == "Concatenate" for layer in m.layers)  # it has skip connections


def test_unet_refuses_a_depth_that_does_not_fit():
    with pytest.raises(ValueError, match="depth"):
        models.unet_denoiser(depth=3)


def test_global_unet_has_skips_and_a_whole_image_code():
    m = models.global_unet_denoiser()
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    y = np.asarray(m(x, training=False))
    assert y.shape == (3, 28, 28, 1) and y.min() >= 0 and y.max() <= 1
    assert m.count_params() == 1_118_193
    assert m.get_layer("global_code").output.shape[1:] == (128,)
    assert {"up1_skip", "up2_skip", "bottleneck_with_code"} <= {layer.name for layer in m.layers}
    with pytest.raises(ValueError, match="three widths"):
        models.global_unet_denoiser(filters=(16, 32))


def test_classifier_gives_probabilities_and_augments_only_in_training():
    m = models.digit_classifier()
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    p = np.asarray(m(x, training=False))
    assert p.shape == (4, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(p, np.asarray(m(x, training=False)))  # inference is deterministic
    assert {layer.name for layer in m.layers} >= {"aug_stroke", "aug_rotate", "aug_zoom", "aug_shift"}


def test_random_stroke_width_thickens_and_thins_in_training_only():
    from core import data

    x = data.to_float(data.load_sample()[0][:64])
    layer = models.RandomStrokeWidth(seed=3)
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    ratio = y.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert y.min() >= 0 and y.max() <= 1
    assert (ratio > 1.2).any() and (ratio < 0.8).any()  # some digits got bolder, some thinner
