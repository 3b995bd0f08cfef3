"""The one table of training recipes, read by core.train (to train) and core.pretrained (to build a model
before loading its shipped weights).

Importing this module imports neither TensorFlow nor Keras: a recipe names its builder in core.models and
the keyword arguments it is called with, and `Recipe.build()` imports core.models only when a model is
really wanted. So the home page can read the table (through core.pretrained) without paying for TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    builder: str  # the name of a model builder in core.models
    description: str
    epochs: int
    batch_size: int
    loss: str
    noise_factor: float = 0.5
    noise_kind: str = "gaussian"
    noise_blind: bool = False  # True: fresh noise each epoch, factor ~ U[0, 1] per image, both kinds
    learning_rate: float | None = None  # None: Keras's 'adam' defaults, as the seed
    task: str = "denoise"  # "denoise": noisy → clean; "classify": digit → 10 probabilities; "vae"; "geometric"
    digits: tuple | None = None  # train on these digits only (one-class anomaly models); None: all
    grows_from: str | None = None  # a recipe whose trained weights --init may start this larger model from
    options: dict = field(default_factory=dict, hash=False)  # keyword arguments for the builder
    schedule: str = "cosine"  # with a learning_rate: "cosine" decay over the run, or "constant" (adam at that rate)
    ships: bool = True  # False: never trained into pretrained/ (core.train writes to ./trained unless --out)

    def build(self):
        """A fresh, untrained model of this recipe: core.models.<builder>(**options)."""
        from core import models  # TensorFlow is imported only once a model is really wanted

        return getattr(models, self.builder)(**self.options)


# The wide model's shape, kept by the two grown from it: growth adds layers, it never reshapes one.
_WIDE = dict(filters=(24, 64, 128), code_size=256, residual_pairs=2, code_channels=32)

RECIPES: dict[str, Recipe] = {
    "seed_ae": Recipe(
        builder="seed_autoencoder",
        description="The seed's run exactly: Gaussian noise 0.5 drawn once, adam, binary cross-entropy.",
        epochs=30, batch_size=256, loss="binary_crossentropy"),
    "unet": Recipe(
        builder="unet_denoiser",
        description="Small U-Net, noise-blind: fresh noise every epoch, factor ~ U[0,1] per image, "
                    "Gaussian or salt-and-pepper; adam with cosine decay, binary cross-entropy.",
        # Binary cross-entropy, not MSE: with a sigmoid output MSE's gradient vanishes once the net
        # paints everything black (it did, at 2e-3); cross-entropy's gradient on the logit does not.
        epochs=12, batch_size=128, loss="binary_crossentropy", noise_blind=True, learning_rate=1e-3),
    "unet_global": Recipe(
        builder="global_unet_denoiser",
        description="U-Net with a global 128-d code (skip connections for detail, the code for shape), "
                    "noise-blind like unet; adam with cosine decay, binary cross-entropy.",
        epochs=12, batch_size=128, loss="binary_crossentropy", noise_blind=True, learning_rate=1e-3),
    "unet_global_wide": Recipe(
        builder="global_unet_denoiser", options=dict(**_WIDE, name="global_unet_wide"),
        description="unet_global made wider where it is cheap (24/64/128 filters, a 256-d code, two residual "
                    "pairs at 7×7); noise-blind, adam with cosine decay, binary cross-entropy.",
        epochs=28, batch_size=128, loss="binary_crossentropy", noise_blind=True, learning_rate=1e-3),
    "unet_global_deep": Recipe(
        builder="global_unet_denoiser", options=dict(**_WIDE, refine=True, name="global_unet_deep"),
        description="unet_global_wide plus depth where it is cheap: a residual MLP on the 256-d code and a "
                    "residual pair after each decoder stage, each starting as the identity, so it can grow "
                    "from trained unet_global_wide weights; noise-blind, adam with cosine decay, binary "
                    "cross-entropy.",
        epochs=28, batch_size=128, loss="binary_crossentropy", noise_blind=True, learning_rate=1e-3,
        grows_from="unet_global_wide"),
    "unet_global_deeper": Recipe(
        builder="global_unet_denoiser",
        options=dict(**_WIDE, refine=True, refine_encoder=True, name="global_unet_deeper"),
        description="unet_global_deep plus a residual pair after each encoder stage (28×28 and 14×14), "
                    "each starting as the identity, so it can grow from trained unet_global_deep weights; "
                    "noise-blind, adam with cosine decay, binary cross-entropy.",
        epochs=26, batch_size=128, loss="binary_crossentropy", noise_blind=True, learning_rate=4e-4,
        grows_from="unet_global_deep"),
    "classifier": Recipe(
        builder="digit_classifier",
        description="Digit classifier for the your-digit page: functional CNN with in-model stroke-width, shift, turn, zoom "
                    "augmentation and dropout; adam with cosine decay, cross-entropy on the labels.",
        epochs=10, batch_size=128, loss="sparse_categorical_crossentropy", learning_rate=1e-3, task="classify"),
    "vae": Recipe(
        builder="vae", options=dict(refine=1),
        description="Convolutional VAE with a 2-D latent space, for the latent map: all 60,000 training "
                    "digits, labels unused; dense layers of 256 and one full-resolution convolution before the "
                    "output; adam with cosine decay; loss = summed BCE + KL.",
        epochs=50, batch_size=128, loss="negative ELBO (summed BCE + KL)", learning_rate=1e-3, task="vae"),
    "clusters": Recipe(
        builder="cluster_reader",
        description="The lab's clustering, trained without a label on the 60,000 training digits' pixels: N2D (a "
                    "dense autoencoder's 10-d code, UMAP to 10-d, a Gaussian mixture of 10) finds groups; a reader "
                    "CNN with the classifier's augmentation learns each group's most typical half, then a fresh "
                    "one learns the first one's surest 80 % (core.clustering).",
        # the two reader rounds' epochs (core.clustering.ROUNDS), after 30 of the autoencoder
        epochs=14, batch_size=128, loss="cross-entropy on its own groups (no label)", learning_rate=1e-3,
        task="cluster"),
}
# One-class anomaly models: a VAE that has only ever seen one digit. A 16-d code (not 2) so that it
# can model that digit's variety well; what it cannot model well is, by construction, the other digits.
# core.anomaly trains its in-app one-class VAEs with the same code size.
ONE_CLASS_LATENT = 16
for _d in range(10):
    RECIPES[f"oneclass_{_d}"] = Recipe(
        builder="vae", options=dict(latent_dim=ONE_CLASS_LATENT),
        description=f"One-class VAE (16-d code) trained only on the training images of digit {_d}; its "
                    "negative ELBO is the anomaly score.",
        epochs=10, batch_size=64, loss="negative ELBO (summed BCE + KL)", learning_rate=1e-3, task="vae",
        digits=(_d,))

# The one-class detectors that meet the lab's target: a transformation classifier per digit, trained on
# that digit's training images only (core.models.geometric_detector). Each epoch draws a fresh
# transformation for every image, so 30 epochs show each digit ~30 of its 72 versions.
for _d in range(10):
    RECIPES[f"geometric_{_d}"] = Recipe(
        builder="geometric_detector",
        description=f"One-class geometric detector trained only on the training images of digit {_d}: a CNN "
                    "learns which of 72 flips, quarter turns and shifts was applied; the anomaly score is the "
                    "Mahalanobis distance of its features from those of the training digits.",
        epochs=30, batch_size=128, loss="cross-entropy over the 72 transformations", learning_rate=1e-3,
        task="geometric", digits=(_d,))
del _d

# ─── The training bench (pages/training.py): your own autoencoder ───────────────────────────────────
# Not in RECIPES: nothing of it ships, and every page that lists the shipped recipes stays as it was. Its
# architecture is whatever the bench's controls say: `python -m core.train yours --arch stages=2,filters=16/32`
# (parse_arch / format_arch below), trained exactly as LiveTraining trains it: adam at a constant rate,
# binary cross-entropy, the seed's noise (Gaussian 0.5 drawn once) or noise-blind with --noise blind.
BENCH_RECIPES: dict[str, Recipe] = {
    "yours": Recipe(
        builder="conv_autoencoder",
        options=dict(stages=2, filters=(16, 32), bottleneck="channels", code_size=32, skips=False, convs=1,
                     output_activation="sigmoid", name="yours"),
        description="Your own convolutional autoencoder from the training bench (--arch): adam at a constant "
                    "rate, binary cross-entropy.",
        epochs=10, batch_size=64, loss="binary_crossentropy", learning_rate=1e-3, schedule="constant",
        ships=False),
    # The keras.io VAE example's architecture, trained exactly as our `vae` (same epochs, optimiser, batch,
    # seed and data): the baseline our 2-D VAE must beat by ≥ 5 nats of test −ELBO. Never shipped.
    "vae_keras_io": Recipe(
        builder="keras_io_vae",
        description="The keras.io VAE example's architecture (Conv 32/64 stride 2, Dense 16), 2-D latent, trained "
                    "as the recipe 'vae': the baseline for its test negative ELBO.",
        epochs=50, batch_size=128, loss="negative ELBO (summed BCE + KL)", learning_rate=1e-3, task="vae",
        ships=False),
}


def recipe(name: str) -> Recipe:
    """A recipe by name, shipped (RECIPES) or the bench's (BENCH_RECIPES); KeyError if neither."""
    return RECIPES[name] if name in RECIPES else BENCH_RECIPES[name]


# --arch's short names → conv_autoencoder's arguments
_ARCH_KEYS = {"stages": "stages", "filters": "filters", "bottleneck": "bottleneck", "code_size": "code_size",
              "code": "code_size", "skips": "skips", "convs": "convs", "output": "output_activation",
              "output_activation": "output_activation", "name": "name"}
_ARCH_ORDER = ("stages", "filters", "bottleneck", "code_size", "skips", "convs", "output")


def parse_arch(text: str) -> dict:
    """'stages=2,filters=16/32,bottleneck=dense,code_size=32,skips=1,convs=1,output=sigmoid' → the keyword
    arguments of core.models.conv_autoencoder. Values that do not parse are kept as written (and unknown keys
    as given), so core.models.conv_autoencoder_problems can name each of them."""
    settings = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise ValueError(f"--arch: {part!r} is not key=value (e.g. stages=2,filters=16/32)")
        key = _ARCH_KEYS.get(key, key)
        if key == "filters":
            settings[key] = tuple(_int_or_text(v) for v in value.split("/"))
        elif key in ("stages", "code_size", "convs"):
            settings[key] = _int_or_text(value)
        elif key == "skips":
            low = value.lower()
            settings[key] = (True if low in ("1", "true", "on", "yes") else False if low in ("0", "false", "off", "no")
                             else value)
        else:
            settings[key] = value
    return settings


def format_arch(settings: dict) -> str:
    """The --arch text for conv_autoencoder settings (the inverse of parse_arch; the name is left out)."""
    s = {**BENCH_RECIPES["yours"].options, **settings}
    values = {"stages": s["stages"], "filters": "/".join(str(int(f)) for f in s["filters"]),
              "bottleneck": s["bottleneck"], "code_size": s["code_size"], "skips": int(bool(s["skips"])),
              "convs": s["convs"], "output": s["output_activation"]}
    return ",".join(f"{k}={values[k]}" for k in _ARCH_ORDER)


def _int_or_text(value: str):
    try:
        return int(value)
    except ValueError:
        return value
