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


def _zero_started_residual(x, filters, name):
    """x + conv(relu(conv(x))) whose last conv starts at zero: the pair begins as the identity, so a
    model grown by adding it starts exactly where the trained model it grew from ended."""
    y = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    y = layers.Conv2D(filters, 3, padding="same", kernel_initializer="zeros", name=f"{name}_conv2")(y)
    return layers.Add(name=name)([x, y])


def global_unet_denoiser(filters=(16, 48, 96), code_size: int = 128, residual_pairs: int = 1,
                         code_channels: int = 16, refine: bool = False, refine_encoder: bool = False,
                         name: str = "global_unet_denoiser") -> keras.Model:
    """Our strongest denoiser: the U-Net's skip connections for stroke detail *plus* the seed
    autoencoder's idea, a dense code of the whole digit, for its overall shape.

    Under heavy noise the local view of a plain U-Net cannot tell a stroke from a clump of noise; a
    128-d summary of the whole image can. Width goes where it is cheap: 16 filters at 28×28, 48 at
    14×14, 96 at 7×7 plus one residual pair there, then the code (Flatten → Dense → 7×7×16) joins
    the bottleneck before the decoder climbs back up through the skips.

    `refine=True` adds depth where the wide model spends least: a residual MLP on the code and a
    residual pair after each decoder stage, each starting as the identity (`_zero_started_residual`).
    `refine_encoder=True` adds the same kind of pair after each encoder stage, so the skip connections
    carry features that have seen 9×9 rather than 5×5 of noisy pixels.
    """
    if len(filters) != 3:
        raise ValueError("filters must name three widths: 28×28, 14×14 and 7×7")
    f28, f14, f7 = filters
    inputs = keras.Input(shape=(28, 28, 1), name="noisy_digit")
    skip28 = _conv_pair(inputs, f28, "down1")
    if refine_encoder:
        skip28 = _zero_started_residual(skip28, f28, "down1_residual")
    x = layers.MaxPooling2D(2, name="down1_pool")(skip28)
    skip14 = _conv_pair(x, f14, "down2")
    if refine_encoder:
        skip14 = _zero_started_residual(skip14, f14, "down2_residual")
    x = layers.MaxPooling2D(2, name="down2_pool")(skip14)
    x = _conv_pair(x, f7, "bottleneck")
    for i in range(residual_pairs):  # layer names of the first pair kept as they were, for shipped weights
        suffix = "" if i == 0 else f"{i + 1}"
        x = layers.Add(name=f"bottleneck_residual{suffix}")([x, _conv_pair(x, f7, f"bottleneck_res{suffix}")])
    code = layers.Dense(code_size, activation="relu", name="global_code")(layers.Flatten(name="flatten")(x))
    if refine:
        hidden = layers.Dense(2 * code_size, activation="relu", name="global_mlp")(code)
        code = layers.Add(name="global_code_refined")(
            [code, layers.Dense(code_size, kernel_initializer="zeros", name="global_mlp_out")(hidden)])
    shape = layers.Dense(7 * 7 * code_channels, activation="relu", name="code_to_map")(code)
    shape = layers.Reshape((7, 7, code_channels), name="code_map")(shape)
    x = layers.Concatenate(name="bottleneck_with_code")([x, shape])
    x = layers.Conv2DTranspose(f14, 2, strides=2, name="up2_upconv")(x)
    x = _conv_pair(layers.Concatenate(name="up2_skip")([x, skip14]), f14, "up2")
    if refine:
        x = _zero_started_residual(x, f14, "up2_residual")
    x = layers.Conv2DTranspose(f28, 2, strides=2, name="up1_upconv")(x)
    x = _conv_pair(layers.Concatenate(name="up1_skip")([x, skip28]), f28, "up1")
    if refine:
        x = _zero_started_residual(x, f28, "up1_residual")
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="clean_digit")(x)
    return keras.Model(inputs, outputs, name=name)


class RandomStrokeWidth(layers.Layer):
    """Training-only augmentation: thicken or thin every digit's strokes by a random amount.

    A 3×3 max filter is a one-pixel dilation (min filter: erosion); each image blends towards one of
    them by t ~ U[-1, 1]. People draw with pens MNIST never saw; this is the change that matters most.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        dilated = keras.ops.max_pool(x, 3, 1, "same")
        eroded = -keras.ops.max_pool(-x, 3, 1, "same")
        t = keras.random.uniform((keras.ops.shape(x)[0], 1, 1, 1), -1.0, 1.0, seed=self.seed_generator)
        return x + keras.ops.where(t > 0, t * (dilated - x), -t * (eroded - x))


def digit_classifier(num_classes: int = 10) -> keras.Model:
    """The lab's digit reader, in the seed's functional style: layers connected by calling them.

    Augmentation layers sit inside the model, so the recipe needs no data pipeline; Keras switches
    them off at inference. They thicken or thin strokes and shift, turn and scale digits a little, because a user's digit, once
    preprocessed, is never centred and sized quite the way MNIST's are. Width is spent at 14×14 and
    7×7, where it is cheap: only one convolution runs at full resolution.
    """
    _check_positive(num_classes=num_classes)
    digit = keras.Input(shape=(28, 28, 1), name="digit")
    x = RandomStrokeWidth(name="aug_stroke")(digit)
    x = layers.RandomRotation(0.03, fill_mode="constant", name="aug_rotate")(x)  # ±11°
    x = layers.RandomZoom(0.1, fill_mode="constant", name="aug_zoom")(x)
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", name="aug_shift")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="conv32")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="conv64a")(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="conv64b")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", padding="same", name="conv128")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.4, name="dropout1")(x)
    x = layers.Dense(128, activation="relu", name="dense128")(x)
    x = layers.Dropout(0.4, name="dropout2")(x)
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(digit, probabilities, name="digit_classifier")


def cluster_reader(num_clusters: int = 10, features: int = 128) -> keras.Model:
    """The lab's clustering as a network (core.clustering): a small CNN that names one of `num_clusters` groups.

    It never sees a label. It is trained on the groups that an autoencoder's code, mapped by UMAP and split by a
    Gaussian mixture, finds in the training digits (their most typical members), then on its own surest answers;
    the same augmentation as the digit classifier keeps it from learning the groups' quirks instead of their
    shapes. Its `features` layer is the representation the clustering page calls "ours"."""
    _check_positive(num_clusters=num_clusters, features=features)
    digit = keras.Input(shape=(28, 28, 1), name="digit")
    x = RandomStrokeWidth(name="aug_stroke")(digit)
    x = layers.RandomRotation(0.03, fill_mode="constant", name="aug_rotate")(x)
    x = layers.RandomZoom(0.1, fill_mode="constant", name="aug_zoom")(x)
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", name="aug_shift")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="conv32")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="conv64")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", padding="same", name="conv128")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.4, name="dropout1")(x)
    x = layers.Dense(features, activation="relu", name="features")(x)
    x = layers.Dropout(0.4, name="dropout2")(x)
    groups = layers.Dense(num_clusters, activation="softmax", name="groups")(x)
    return keras.Model(digit, groups, name="cluster_reader")


def dense_autoencoder(code_size: int = 10, widths=(500, 500, 2000)) -> tuple[keras.Model, keras.Model]:
    """N2D's (and DEC's) autoencoder, 784-500-500-2000-code and back, as (autoencoder, encoder): the first step
    of the lab's clustering, trained on pixels alone (McConville et al., 2019)."""
    _check_positive(code_size=code_size)
    digit = keras.Input(shape=(784,), name="pixels")
    x = digit
    for i, width in enumerate(widths):
        x = layers.Dense(width, activation="relu", name=f"enc{i}")(x)
    code = layers.Dense(code_size, name="code")(x)
    x = code
    for i, width in enumerate(reversed(widths)):
        x = layers.Dense(width, activation="relu", name=f"dec{i}")(x)
    back = layers.Dense(784, name="back")(x)
    return keras.Model(digit, back, name="dense_autoencoder"), keras.Model(digit, code, name="dense_encoder")


# ─── What the seed wished for: a variational autoencoder ────────────────────────────────────────────

class Sampling(layers.Layer):
    """z = mean + σ·ε, ε ~ N(0, I): the reparameterisation trick, so gradients reach mean and log σ²."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps


def _drawn_once(model, draw) -> keras.Model:
    """`model.as_functional()`, drawn on the first call and kept: each drawing calls the shared networks
    once more on new inputs, and a summary, its MACs and its diagram all ask for it."""
    view = getattr(model, "_functional_view", None)
    if view is None:
        view = draw()
        object.__setattr__(model, "_functional_view", view)  # not tracked by Keras as part of the model
    return view


class VAE(keras.Model):
    """Encoder → (mean, log σ²) → sampled z → decoder logits. Loss: summed per-pixel binary cross-entropy
    plus KL(q(z|x) ‖ N(0, I)), i.e. the negative ELBO in nats per image.

    Written with keras.ops and `compute_loss` only (no GradientTape), so `fit` runs on any Keras backend.
    Called on images it returns the decoded means of their latent means: a deterministic reconstruction.
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.sampler = encoder, decoder, Sampling(name="sampling")

    def build(self, input_shape=None):  # encoder and decoder are functional models, built already
        self.built = True

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.input_shape[-1])

    def call(self, x, training=False):
        z_mean, _ = self.encoder(x, training=training)
        return keras.ops.sigmoid(self.decoder(z_mean, training=training))

    def decode(self, z):
        return keras.ops.sigmoid(self.decoder(z, training=False))

    def as_functional(self) -> keras.Model:
        """The path a training image takes (encoder → sampled z → decoder logits) as a functional model of
        the same layers, to read and draw (core.arch, core.diagrams); it shares the weights."""
        def draw():
            image = keras.Input(shape=self.encoder.input_shape[1:], name="image")
            return keras.Model(image, self.decoder(self.sampler(self.encoder(image))), name=self.name)
        return _drawn_once(self, draw)

    def neg_elbo(self, x, training=False, seed=None):
        """Per image: (reconstruction nats, KL nats), one z sample each; an int `seed` fixes that sample."""
        z_mean, z_log_var = self.encoder(x, training=training)
        if seed is None:
            z = self.sampler([z_mean, z_log_var])
        else:
            z = z_mean + keras.ops.exp(0.5 * z_log_var) * keras.random.normal(keras.ops.shape(z_mean), seed=seed)
        logits = self.decoder(z, training=training)
        recon = keras.ops.sum(keras.ops.binary_crossentropy(x, logits, from_logits=True), axis=(1, 2, 3))
        kl = -0.5 * keras.ops.sum(1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var), axis=-1)
        return recon, kl

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        recon, kl = self.neg_elbo(x, training=training)
        return keras.ops.mean(recon + kl)


def vae(latent_dim: int = 2, filters=(32, 64), dense: int = 256, refine: int = 0) -> VAE:
    """Our convolutional VAE. `vae.encoder` (28×28 → z mean, log σ²) and `vae.decoder` (z → 28×28 logits)
    are models of their own, so the lab can map digits to the plane and decode any point of it.

    Same shape of network as the keras.io example (two stride-2 convolutions each way) but with a
    dense layer of `dense` units on both sides where it has 16 on one: a 2-D code has to be unpacked
    into a whole digit, and 16 units were the bottleneck. `refine` adds that many 3×3 convolutions at
    28×28 before the output, which sharpen strokes but double a CPU training step. The latent map's
    recipe uses refine=1 (dense=512 scored 0.84 nats better at twice the file size); the one-class VAEs the
    defaults.
    """
    _check_positive(latent_dim=latent_dim, dense=dense)
    f1, f2 = filters
    digit = keras.Input(shape=(28, 28, 1), name="digit")
    x = layers.Conv2D(f1, 3, strides=2, padding="same", activation="relu", name="enc_conv1")(digit)
    x = layers.Conv2D(f2, 3, strides=2, padding="same", activation="relu", name="enc_conv2")(x)
    x = layers.Dense(dense, activation="relu", name="enc_dense")(layers.Flatten(name="enc_flatten")(x))
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    encoder = keras.Model(digit, [z_mean, z_log_var], name="encoder")

    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(dense, activation="relu", name="dec_dense")(z)
    x = layers.Dense(7 * 7 * f2, activation="relu", name="dec_dense_map")(x)
    x = layers.Reshape((7, 7, f2), name="dec_reshape")(x)
    x = layers.Conv2DTranspose(f2, 3, strides=2, padding="same", activation="relu", name="dec_upconv1")(x)
    x = layers.Conv2DTranspose(f1, 3, strides=2, padding="same", activation="relu", name="dec_upconv2")(x)
    for k in range(refine):  # full-resolution convolutions before the output: sharper strokes, at a CPU cost
        x = layers.Conv2D(f1, 3, padding="same", activation="relu", name=f"dec_refine{k + 1}")(x)
    logits = layers.Conv2D(1, 3, padding="same", name="logits")(x)
    decoder = keras.Model(z, logits, name="decoder")
    return _built(VAE(encoder, decoder, name="vae"))


def keras_io_vae(latent_dim: int = 2) -> VAE:
    """The keras.io VAE example's architecture (Conv 32/64 stride 2, Dense 16), as the benchmark's baseline."""
    digit = keras.Input(shape=(28, 28, 1), name="digit")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(digit)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    encoder = keras.Model(digit, [layers.Dense(latent_dim, name="z_mean")(x),
                                  layers.Dense(latent_dim, name="z_log_var")(x)], name="encoder")
    z = keras.Input(shape=(latent_dim,))
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    decoder = keras.Model(z, layers.Conv2DTranspose(1, 3, padding="same", name="logits")(x), name="decoder")
    return _built(VAE(encoder, decoder, name="keras_io_vae"))


def _built(model: VAE) -> VAE:
    model(keras.ops.zeros((1, 28, 28, 1)))  # a subclassed model has weights (and a count) once called
    return model


# ─── Anomaly detection by self-supervision: which transformation was applied? ──────────────────────

class Mahalanobis(layers.Layer):
    """Squared Mahalanobis distance of unit-length feature vectors from the normal digits' mean.

    Not learnt by gradient descent: `fit` sets the mean and precision from the normal digits' features,
    and they are saved with the weights like any other.
    """

    def __init__(self, ridge: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.ridge = ridge  # keeps the covariance of a few thousand 256-d vectors invertible

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.mean = self.add_weight(shape=(d,), initializer="zeros", trainable=False, name="mean")
        self.precision = self.add_weight(shape=(d, d), initializer="identity", trainable=False, name="precision")

    @staticmethod
    def unit(features):
        return features / (keras.ops.norm(features, axis=-1, keepdims=True) + 1e-8)

    def call(self, features):
        dz = self.unit(features) - self.mean
        return keras.ops.sum(keras.ops.matmul(dz, self.precision) * dz, axis=-1)

    def fit(self, features):
        import numpy as np

        f = np.asarray(features, np.float64)
        f = f / (np.linalg.norm(f, axis=-1, keepdims=True) + 1e-8)  # as `unit`, in float64
        cov = np.cov(f.T) + self.ridge * np.eye(f.shape[1])
        self.mean.assign(f.mean(axis=0).astype("float32"))
        self.precision.assign(np.linalg.inv(cov).astype("float32"))


class GeometricDetector(keras.Model):
    """One-class detector after Golan & El-Yaniv (NeurIPS 2018): a CNN trained on normal digits only to
    tell which of the geometric transformations (flip × quarter turn × shift, core.anomaly.TRANSFORMS)
    was applied. To do that it must learn what an upright, centred normal digit looks like; its feature
    vector of an untouched image then describes other shapes unlike the normal ones.

    Training (`training=True`): returns the transformation logits, for the cross-entropy loss.
    Otherwise: the anomaly score, the Mahalanobis distance of the features from the normal digits'
    (fitted afterwards with `fit_normal`). Scoring costs one forward pass per image.
    """

    def __init__(self, net, **kwargs):
        super().__init__(**kwargs)
        self.net = net  # image → (transformation logits, features)
        self.distance = Mahalanobis(name="mahalanobis")

    def build(self, input_shape=None):
        self.distance.build(self.net.output[1].shape)
        self.built = True

    def call(self, x, training=False):
        logits, features = self.net(x, training=training)
        return logits if training else self.distance(features)

    def as_functional(self) -> keras.Model:
        """Both heads as a functional model of the same layers, to read and draw: the transformation
        logits it trains on and the distance it scores with; it shares the weights."""
        def draw():
            image = keras.Input(shape=self.net.input_shape[1:], name="image")
            logits, features = self.net(image)
            return keras.Model(image, [logits, self.distance(features)], name=self.name)
        return _drawn_once(self, draw)

    def features(self, images, batch_size: int = 1000):
        import numpy as np

        return np.concatenate([np.asarray(self.net(images[i:i + batch_size], training=False)[1])
                               for i in range(0, len(images), batch_size)])

    def fit_normal(self, images):
        """Fit the distance to the normal digits: their features' mean and covariance."""
        self.distance.fit(self.features(images))


def geometric_detector(num_transforms: int = 72, filters=(32, 64, 128), dense: int = 256) -> GeometricDetector:
    """The transformation classifier and its distance head: the network our one-class trials measured
    (with batch normalisation, unlike the denoisers; it is small enough that its cost doesn't matter)."""
    _check_positive(num_transforms=num_transforms, dense=dense)
    f1, f2, f3 = filters
    x = digit = keras.Input(shape=(28, 28, 1), name="digit")

    def conv(x, filters, name, strides=1):
        x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=name)(x)
        return layers.ReLU(name=f"{name}_relu")(layers.BatchNormalization(name=f"{name}_bn")(x))

    x = conv(conv(x, f1, "conv1"), f1, "conv1_down", strides=2)
    x = conv(conv(x, f2, "conv2"), f2, "conv2_down", strides=2)
    x = conv(x, f3, "conv3")
    # Flatten, not global pooling: the net must see *where* the strokes are to tell the shifts apart.
    features = layers.Dense(dense, activation="relu", name="features")(layers.Flatten(name="flatten")(x))
    logits = layers.Dense(num_transforms, name="transformation")(features)
    model = GeometricDetector(keras.Model(digit, [logits, features], name="transformation_net"),
                              name="geometric_detector")
    model.build()
    return model


# ─── Month 5, part 1: the functional API and its Sequential twin ────────────────────────────────────

def functional_example(num_classes: int = 7) -> keras.Model:
    """The seed's first functional-API model: 15,047 parameters with 7 outputs.

    Input(28,28,1) → Conv2D(16,3,relu,same) → MaxPooling2D(2,same) → Conv2D(32,3,relu,same)
    → GlobalAveragePooling2D → Dense(256) → Dense(num_classes). The layers are *connected* by calling them.
    """
    _check_positive(num_classes=num_classes)
    input_img = keras.Input(shape=(28, 28, 1), name="digit")
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same", name="conv16")(input_img)
    x = layers.MaxPooling2D((2, 2), padding="same", name="pool")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same", name="conv32")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(256, name="dense256")(x)
    output = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(input_img, output, name="functional_example")


def sequential_example(num_classes: int = 7) -> keras.Model:
    """The same network as `functional_example`, *stacked* with Sequential: same layers, same count."""
    _check_positive(num_classes=num_classes)
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1), name="digit"),
        layers.Conv2D(16, (3, 3), activation="relu", padding="same", name="conv16"),
        layers.MaxPooling2D((2, 2), padding="same", name="pool"),
        layers.Conv2D(32, (3, 3), activation="relu", padding="same", name="conv32"),
        layers.GlobalAveragePooling2D(name="gap"),
        layers.Dense(256, name="dense256"),
        layers.Dense(num_classes, name="logits"),
    ], name="sequential_example")


# ─── Month 5, part 2: the seed's ResNet, written as a loop ──────────────────────────────────────────

RESNET_MAX_PARAMS = 60_000_000  # above this a model takes too long to build and draw in the lab
RESNET_SEED_DEFAULTS = dict(label_num=2, num_filters=64, num_blocks=4, num_sub_blocks=2,
                            input_shape=(128, 128, 3), residual=True)


def _check_positive(**values):
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {v!r}.")


def resnet_param_count(label_num=2, num_filters=64, num_blocks=4, num_sub_blocks=2, input_shape=(128, 128, 3),
                       residual=True) -> tuple[int, int]:
    """(total, trainable) parameters of `resnet(...)`, worked out without building a single layer."""
    channels = input_shape[2]
    total = 7 * 7 * channels * num_filters + num_filters + 4 * num_filters  # stem conv + batch norm
    non_trainable = 2 * num_filters  # each batch norm keeps a moving mean and variance per channel
    c_in, f = num_filters, num_filters
    for i in range(num_blocks):
        for j in range(num_sub_blocks):
            strided = j == 0 and i > 0
            total += (9 * c_in * f + f) + 4 * f + (9 * f * f + f) + 4 * f
            non_trainable += 4 * f
            if strided and residual:
                total += c_in * f + f  # the 1×1 projection shortcut
            c_in = f
        f *= 2
    total += c_in * label_num + label_num
    return total, total - non_trainable


RESNET_MOST_BLOCKS = 6  # the page's slider and its links offer at most this many


def resnet_halvings(side: int) -> list[int]:
    """A side of the input as the stem and each block after the first halve it (padding "same", stride 2,
    rounding up), down to 1: 28 → [28, 14, 7, 4, 2, 1]. Each halving is one block, so a side allows
    len(...) - 1 blocks."""
    sizes = [side]
    while sizes[-1] > 1:
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def check_resnet_settings(label_num=2, num_filters=64, num_blocks=4, num_sub_blocks=2, input_shape=(128, 128, 3),
                          residual=True, max_params: int | None = RESNET_MAX_PARAMS) -> int:
    """Raise ValueError, in one sentence a person understands, for settings that cannot build. Returns the count."""
    _check_positive(label_num=label_num, num_filters=num_filters, num_blocks=num_blocks,
                    num_sub_blocks=num_sub_blocks)
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), not {input_shape!r}.")
    h, w, c = input_shape
    _check_positive(**{"input height": h, "input width": w, "input channels": c})
    for side_name, side in (("height", h), ("width", w)):
        sizes = resnet_halvings(side)
        if num_blocks > len(sizes) - 1:
            raise ValueError(
                f"{num_blocks} blocks would shrink an input {side_name} of {side} below 1×1, since the stem and "
                f"each block after the first halve it ({' → '.join(map(str, sizes))} → …); use at most "
                f"{len(sizes) - 1} blocks or a larger input.")
    total, _ = resnet_param_count(label_num, num_filters, num_blocks, num_sub_blocks, (h, w, c), residual)
    if max_params is not None and total > max_params:
        raise ValueError(
            f"{num_blocks} blocks of {num_sub_blocks} sub-blocks from {num_filters} filters would have {total:,} "
            f"parameters, over the lab's cap of {max_params:,} (too slow to build and draw here); use fewer "
            f"filters, sub-blocks or blocks.")
    return total


def resnet_block_cap(label_num=2, num_filters=64, num_sub_blocks=2, input_shape=(128, 128, 3), residual=True,
                     most: int = RESNET_MOST_BLOCKS, max_params: int | None = RESNET_MAX_PARAMS) -> tuple[int, str | None]:
    """The most blocks the other settings can build, up to `most`, and what stops one more: "size" (the
    feature map would shrink below 1×1), "params" (over the parameter cap) or None (`most` builds); 0 blocks
    where not even one builds (never within the page's ranges: at most 128 filters, at least 28 px)."""
    by_size = min(len(resnet_halvings(side)) - 1 for side in tuple(input_shape)[:2])
    cap, reason = (by_size, "size") if by_size < most else (most, None)
    for blocks in range(1, cap + 1):
        total, _ = resnet_param_count(label_num, num_filters, blocks, num_sub_blocks, input_shape, residual)
        if max_params is not None and total > max_params:
            return blocks - 1, "params"
    return cap, reason


def resnet(label_num: int = 2, num_filters: int = 64, num_blocks: int = 4, num_sub_blocks: int = 2,
           input_shape=(128, 128, 3), residual: bool = True,
           max_params: int | None = RESNET_MAX_PARAMS) -> keras.Model:
    """The seed's `resnet_model(label_num)`, with its settings as arguments (defaults = the seed's).

    With the defaults: 11,188,354 parameters (11,180,546 trainable) in 65 layers; `label_num=10`:
    11,192,458. `residual=False` builds the plain network of the same depth and width (no `add`, no
    projection). Invalid settings raise ValueError before any layer is built.
    """
    check_resnet_settings(label_num, num_filters, num_blocks, num_sub_blocks, input_shape, residual, max_params)
    init = "he_normal"
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers.Conv2D(num_filters, kernel_size=7, padding="same", strides=2, kernel_initializer=init,
                      name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)

    # Instantiate convolutional base (stack of blocks), exactly the seed's loop.
    for i in range(num_blocks):
        for j in range(num_sub_blocks):
            name = f"block{i + 1}_sub{j + 1}"
            strides = 1
            is_first_layer_but_not_first_block = j == 0 and i > 0
            if is_first_layer_but_not_first_block:
                strides = 2
            y = layers.Conv2D(num_filters, kernel_size=3, padding="same", strides=strides, kernel_initializer=init,
                              name=f"{name}_conv1")(x)
            y = layers.BatchNormalization(name=f"{name}_bn1")(y)
            y = layers.Activation("relu", name=f"{name}_relu1")(y)
            y = layers.Conv2D(num_filters, kernel_size=3, padding="same", kernel_initializer=init,
                              name=f"{name}_conv2")(y)
            y = layers.BatchNormalization(name=f"{name}_bn2")(y)
            if residual:
                if is_first_layer_but_not_first_block:
                    x = layers.Conv2D(num_filters, kernel_size=1, padding="same", strides=2, kernel_initializer=init,
                                      name=f"{name}_projection")(x)
                x = layers.add([x, y], name=f"{name}_add")
            else:
                x = y  # the plain network: no skip connection
            x = layers.Activation("relu", name=f"{name}_relu2")(x)
        num_filters = 2 * num_filters

    y = layers.GlobalAveragePooling2D(name="head_gap")(x)
    outputs = layers.Dense(label_num, activation="softmax", kernel_initializer=init, name="head_dense")(y)
    return keras.Model(inputs=inputs, outputs=outputs, name="resnet" if residual else "plain_net")


# ─── The training bench: your own convolutional autoencoder ─────────────────────────────────────────
# Every limit the training page shows and enforces, named once. LiveTraining checks the last four too.
CONV_AE_STAGES = (1, 3)  # encoder stages: 28 → 14 (→ 7 (→ 4))
CONV_AE_FILTERS = (4, 128)  # filters per stage
CONV_AE_CONVS = (1, 2)  # 3×3 convolutions per stage, encoder and decoder alike
CONV_AE_BOTTLENECKS = ("channels", "dense")
CONV_AE_CODE_SIZE = {"channels": (1, 256), "dense": (2, 256)}  # channels of the bottom map / numbers in the code
# "linear" is not offered: the loss (binary cross-entropy) sees predictions clipped to [1e-7, 1 - 1e-7], so a
# linear output trains exactly as "clip" does (measured: the same losses to 4 decimals), with meaningless
# pixels outside [0, 1]. "clip" against "sigmoid" is the lesson: the clipped output learns slower and jumps.
CONV_AE_OUTPUTS = ("sigmoid", "clip")
MAX_TRAIN_PARAMS = 3_000_000
EPOCHS_RANGE = (1, 50)
BATCH_SIZE_RANGE = (16, 512)
LEARNING_RATE_RANGE = (1e-5, 1e-1)
CONV_AE_DEFAULTS = dict(stages=2, filters=(16, 32), bottleneck="channels", code_size=32, skips=False, convs=1,
                        output_activation="sigmoid", name="yours")


class Problem(str):
    """One thing wrong with a setting: the English sentence (it *is* the string), plus `key` and `values`
    so a page can say it in its own language (e.g. t(f"training.problem.{p.key}", **p.values))."""

    def __new__(cls, key: str, text: str, **values):
        self = super().__new__(cls, text)
        self.key, self.values = key, values
        return self


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (hasattr(v, "dtype") and v.dtype.kind in "iu")


def _sizes(stages: int) -> list[int]:
    """Side of the feature map at each depth: 28, then halved with padding='same' pooling (7 → 4)."""
    sizes = [28]
    for _ in range(stages):
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def conv_autoencoder_problems(stages=2, filters=(16, 32), bottleneck="channels", code_size=32, skips=False,
                              convs=1, output_activation="sigmoid", name="yours",
                              max_params: int | None = MAX_TRAIN_PARAMS, **unknown) -> list[Problem]:
    """Everything wrong with these `conv_autoencoder` settings, each in a sentence; [] when they build.
    Nothing is built: the page can call it on every widget change."""
    out = [Problem("unknown", f"Unknown setting {k!r}: the settings are {', '.join(CONV_AE_DEFAULTS)}.", name=k)
           for k in unknown]
    lo, hi = CONV_AE_STAGES
    stages_ok = _whole(stages) and lo <= stages <= hi
    if not stages_ok:
        out.append(Problem("stages", f"Encoder stages must be a whole number from {lo} to {hi}, not {stages!r}.",
                           value=stages, low=lo, high=hi))
    try:
        filters = tuple(filters)
    except TypeError:
        filters = (filters,)
    if stages_ok and len(filters) != stages:
        out.append(Problem("filters_count", f"Give one filter count per encoder stage: {stages} stage(s) need "
                                            f"{stages} number(s), not {len(filters)}.",
                           stages=stages, count=len(filters)))
    lo, hi = CONV_AE_FILTERS
    for i, f in enumerate(filters, 1):
        if not (_whole(f) and lo <= f <= hi):
            out.append(Problem("filters", f"Stage {i}'s filters must be a whole number from {lo} to {hi}, not {f!r}.",
                               stage=i, value=f, low=lo, high=hi))
    lo, hi = CONV_AE_CONVS
    if not (_whole(convs) and lo <= convs <= hi):
        out.append(Problem("convs", f"Convolutions per stage must be {lo} or {hi}, not {convs!r}.",
                           value=convs, low=lo, high=hi))
    if bottleneck not in CONV_AE_BOTTLENECKS:
        out.append(Problem("bottleneck", f"The bottleneck must be 'channels' (a map of code_size channels) or "
                                         f"'dense' (a code of code_size numbers), not {bottleneck!r}.",
                           value=bottleneck))
    else:
        lo, hi = CONV_AE_CODE_SIZE[bottleneck]
        what = "channels in the bottleneck map" if bottleneck == "channels" else "numbers in the dense code"
        if not (_whole(code_size) and lo <= code_size <= hi):
            out.append(Problem(f"code_size_{bottleneck}", f"The code size ({what}) must be a whole number from "
                                                          f"{lo} to {hi}, not {code_size!r}.",
                               value=code_size, low=lo, high=hi))
    if not isinstance(skips, bool) and skips not in (0, 1):
        out.append(Problem("skips", f"Skip connections are on or off (True/False), not {skips!r}.", value=skips))
    if output_activation not in CONV_AE_OUTPUTS:
        out.append(Problem("output", f"The output activation must be one of {', '.join(CONV_AE_OUTPUTS)}, not "
                                     f"{output_activation!r}.", value=output_activation))
    if not isinstance(name, str) or not name.isidentifier():
        out.append(Problem("name", f"The model's name must be a Python identifier such as 'yours', not {name!r}.",
                           value=name))
    if not out and max_params is not None:
        n = conv_autoencoder_params(stages, filters, bottleneck, code_size, skips, convs)
        if n > max_params:
            out.append(Problem("params", f"These settings give {n:,} parameters, more than the training bench's "
                                         f"cap of {max_params:,}. Use fewer filters, a smaller code, or (with a "
                                         f"dense code) more stages: the code's two dense layers grow with the map "
                                         f"they flatten.", params=n, cap=max_params))
    return out


def conv_autoencoder_params(stages=2, filters=(16, 32), bottleneck="channels", code_size=32, skips=False, convs=1,
                            output_activation="sigmoid", name="yours") -> int:
    """The parameter count of `conv_autoencoder(...)`, worked out without building a layer (settings assumed
    valid: see conv_autoencoder_problems)."""
    conv = lambda c_in, c_out: 9 * c_in * c_out + c_out  # noqa: E731  3×3 kernel + bias
    filters = [int(f) for f in filters]
    total, c = 0, 1
    for f in filters:  # encoder
        total += conv(c, f) + (convs - 1) * conv(f, f)
        c = f
    side = _sizes(stages)[-1]
    if bottleneck == "channels":
        total += conv(c, code_size)
        c = code_size
    else:
        flat = side * side * c
        total += (flat * code_size + code_size) + (code_size * flat + flat)
    for i in reversed(range(stages)):  # decoder
        f = filters[i]
        c_in = c + (f if skips else 0)
        total += conv(c_in, f) + (convs - 1) * conv(f, f)
        c = f
    return total + conv(c, 1)


def conv_autoencoder(stages: int = 2, filters=(16, 32), bottleneck: str = "channels", code_size: int = 32,
                     skips: bool = False, convs: int = 1, output_activation: str = "sigmoid",
                     name: str = "yours") -> keras.Model:
    """Your own convolutional autoencoder, for (28, 28, 1) digits.

    Encoder, stage i (1 … `stages`): `convs` × Conv2D(filters[i], 3×3, relu, same) → MaxPooling 2×2
    (padding same): 28 → 14 → 7 → 4. Bottleneck, named "code": "channels", a 3×3 relu conv with
    `code_size` channels on the bottom map; or "dense", Flatten → Dense(code_size) (linear, so a small code
    cannot die) → Dense back to the bottom map (relu) → Reshape. Decoder, stage i from the bottom up:
    UpSampling 2×2 ("dec{i}_up"; on the 3-stage model 4 → 8, cropped to 7 by "dec3_crop", the one place a
    size needs care) → with `skips`, concatenate the encoder stage's output of the same size ("skip{i}",
    U-Net style) → `convs` × Conv2D(filters[i], 3×3, relu, same). Output: Conv2D(1, 3×3) named
    "clean_digit" with `output_activation`: "sigmoid" (the seed's) or "clip" (a linear conv
    "clean_digit_linear", then cut to [0, 1] by ReLU(max_value=1) "clean_digit"). Invalid settings raise
    ValueError naming every problem (conv_autoencoder_problems).
    """
    problems = conv_autoencoder_problems(stages, filters, bottleneck, code_size, skips, convs, output_activation,
                                         name, max_params=None)
    if problems:
        raise ValueError(" ".join(problems))
    filters = [int(f) for f in filters]
    stages, code_size, convs = int(stages), int(code_size), int(convs)
    sizes = _sizes(stages)

    def stage(x, f, prefix):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{prefix}_conv")(x)
        for k in range(2, convs + 1):
            x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{prefix}_conv{k}")(x)
        return x

    inputs = x = keras.Input(shape=(28, 28, 1), name="noisy_digit")
    encoded = []
    for i, f in enumerate(filters, 1):
        x = stage(x, f, f"enc{i}")
        encoded.append(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"enc{i}_pool")(x)
    side = sizes[-1]
    if bottleneck == "channels":
        x = layers.Conv2D(code_size, 3, padding="same", activation="relu", name="code")(x)
    else:
        x = layers.Dense(code_size, name="code")(layers.Flatten(name="flatten")(x))
        x = layers.Dense(side * side * filters[-1], activation="relu", name="code_to_map")(x)
        x = layers.Reshape((side, side, filters[-1]), name="code_map")(x)
    for i in reversed(range(1, stages + 1)):
        x = layers.UpSampling2D(2, name=f"dec{i}_up")(x)
        if 2 * sizes[i] != sizes[i - 1]:  # 4 → 8, but the encoder's map was 7
            extra = 2 * sizes[i] - sizes[i - 1]
            x = layers.Cropping2D(((0, extra), (0, extra)), name=f"dec{i}_crop")(x)
        if skips:
            x = layers.Concatenate(name=f"skip{i}")([x, encoded[i - 1]])
        x = stage(x, filters[i - 1], f"dec{i}")
    if output_activation == "sigmoid":
        x = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="clean_digit")(x)
    else:
        x = layers.Conv2D(1, 3, padding="same", name="clean_digit_linear")(x)
        x = layers.ReLU(max_value=1.0, name="clean_digit")(x)
    return keras.Model(inputs, x, name=name)
