"""Every model builder in the lab.

The seed's models are reproduced exactly (same layers, same order, same parameter counts); ours sit
beside them so a user can compare. Layers carry readable names because summaries and diagrams show them.
"""
from __future__ import annotations

import keras
from keras import layers


def seed_autoencoder() -> keras.Model:
    """The seed's convolutional autoencoder: 28×28 → 128-d code → 28×28, 204,929 parameters.

    The decoder's `Conv2D(16)` has no padding (valid): it turns 16×16 into 14×14 so that the last
    upsampling lands on 28×28. That quirk is the seed's and is kept.
    """
    input_img = keras.Input(shape=(28, 28, 1), name="noisy_digit")
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same", name="enc_conv16")(input_img)
    x = layers.MaxPooling2D((2, 2), padding="same", name="enc_pool1")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same", name="enc_conv32")(x)
    x = layers.MaxPooling2D((2, 2), padding="same", name="enc_pool2")(x)
    x = layers.Conv2D(64, (3, 3), activation="relu", padding="same", name="enc_conv64")(x)
    x = layers.MaxPooling2D((2, 2), padding="same", name="enc_pool3")(x)
    x = layers.Conv2D(128, (3, 3), activation="relu", padding="same", name="enc_conv128")(x)
    encoded = layers.GlobalAveragePooling2D(name="code_128d")(x)
    x = layers.Dense(4 * 4 * 32, activation="relu", name="dec_dense")(encoded)
    x = layers.Reshape((4, 4, 32), name="dec_reshape")(x)
    x = layers.Conv2D(64, (3, 3), activation="relu", padding="same", name="dec_conv64")(x)
    x = layers.UpSampling2D((2, 2), name="dec_up1")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same", name="dec_conv32")(x)
    x = layers.UpSampling2D((2, 2), name="dec_up2")(x)
    x = layers.Conv2D(16, (3, 3), activation="relu", name="dec_conv16_valid")(x)
    x = layers.UpSampling2D((2, 2), name="dec_up3")(x)
    decoded = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same", name="clean_digit")(x)
    return keras.Model(input_img, decoded, name="seed_autoencoder")


def _conv_pair(x, filters, name):
    # No batch normalisation: on a 2-core CPU it costs ~40 % of the step time for little gain here.
    for k in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{k}")(x)
    return x


def unet_denoiser(base_filters: int = 16, depth: int = 2) -> keras.Model:
    """Our denoiser: a small U-Net. Skip connections carry the fine stroke detail past the bottleneck,
    which is exactly what the seed's 128-d code has to throw away.

    28×28 → (depth times: two 3×3 convs, 2×2 pool) → bottleneck → (depth times: transposed conv ×2,
    concatenate the matching encoder features, two 3×3 convs) → 1×1 conv + sigmoid.
    """
    if 28 % (2 ** depth):
        raise ValueError(f"depth {depth} does not divide 28×28 evenly; use 1 or 2")
    inputs = keras.Input(shape=(28, 28, 1), name="noisy_digit")
    skips, x = [], inputs
    for level in range(depth):
        x = _conv_pair(x, base_filters * 2 ** level, f"down{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{level + 1}_pool")(x)
    x = _conv_pair(x, base_filters * 2 ** depth, "bottleneck")
    for level in reversed(range(depth)):
        filters = base_filters * 2 ** level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level + 1}_upconv")(x)
        x = layers.Concatenate(name=f"up{level + 1}_skip")([x, skips[level]])
        x = _conv_pair(x, filters, f"up{level + 1}")
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="clean_digit")(x)
    return keras.Model(inputs, outputs, name="unet_denoiser")
