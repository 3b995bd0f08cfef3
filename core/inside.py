"""Look inside a model: what every layer makes of a digit (CNN Explainer's view, for our models).

`layer_outputs` runs a probe model, one traced call that returns every layer's output at once; it is built
once per model and kept on it. Works for functional models: the seed autoencoder, the U-Nets, the
classifier (without its augmentation layers, which pass digits through unchanged at inference) and
conv_autoencoder.
"""
from __future__ import annotations

import numpy as np

# Where each model keeps its bottleneck, tried in this order: conv_autoencoder, the seed's autoencoder, the
# global U-Nets (the refined code first), the plain U-Net's bottom map, the classifier's last hidden layer.
CODE_LAYERS = ("code", "code_128d", "global_code_refined", "global_code", "bottleneck_conv2", "dense128")


def _probe(model):
    probe = getattr(model, "_inside_probe", None)
    if probe is None:
        import keras
        import tensorflow as tf

        # Augmentation layers (Keras' Random*, our RandomStrokeWidth) pass a digit through at inference:
        # four identical pictures at the head of the classifier's layers would only mislead.
        shown = [layer for layer in model.layers
                 if type(layer).__name__ != "InputLayer" and not type(layer).__name__.startswith("Random")]
        try:
            net = keras.Model(model.inputs, [layer.output for layer in shown], name=f"{model.name}_inside")
        except Exception as exc:  # a subclassed model (the VAEs, the geometric detector) has no graph to read
            raise ValueError(f"{model.name} is not a functional model: its layers' outputs cannot be read") from exc
        fn = tf.function(lambda x: net(x, training=False), reduce_retracing=True, autograph=False,
                         input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
        probe = ([layer.name for layer in shown], fn)
        object.__setattr__(model, "_inside_probe", probe)  # not tracked by Keras as part of the model
    return probe


def layer_outputs(model, images) -> list[tuple[str, np.ndarray]]:
    """[(layer name, its output for `images`)] for every layer after the input, in the model's order.
    `images`: floats (N, 28, 28, 1) in [0, 1] (one digit: (28, 28) or (28, 28, 1) is taken as N = 1).
    Feature maps come back (N, h, w, channels); dense layers (N, units)."""
    names, fn = _probe(model)
    x = _batch(images)
    import tensorflow as tf

    return [(name, np.asarray(out)) for name, out in zip(names, fn(tf.constant(x)))]


def code_layer(model) -> str:
    """The name of the model's bottleneck layer (see CODE_LAYERS); ValueError when it has none of them."""
    names = {layer.name for layer in model.layers}
    for name in CODE_LAYERS:
        if name in names:
            return name
    raise ValueError(f"{model.name} has no bottleneck layer named any of {', '.join(CODE_LAYERS)}")


def code_of(model, images) -> np.ndarray:
    """The bottleneck of `images`: (N, code size) for a dense code, (N, h, w, channels) for a map."""
    name = code_layer(model)
    return dict(layer_outputs(model, images))[name]


def _batch(images) -> np.ndarray:
    x = np.asarray(images, np.float32)
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[None] if x.shape[-1] == 1 and x.shape[:2] == (28, 28) else x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be floats (N, 28, 28, 1), not {np.shape(images)}")
    return x


def compare(model, clean, noisy) -> list[dict]:
    """Every layer's output for one digit, clean and noisy, side by side: the look-inside view's maths.

    Per layer: name, kind (the layer's class), shape, code (is it the bottleneck), change (how far the noisy
    output lies from the clean one, relative to the clean one's size: a layer that shrinks it threw noise
    away), clean and noisy outputs (one digit's), and vmax (per channel, the larger of the two, so both
    can be drawn on one scale; None for dense outputs)."""
    clean_out = layer_outputs(model, clean)
    noisy_out = dict(layer_outputs(model, noisy))
    try:
        code = code_layer(model)
    except ValueError:
        code = None
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    out = []
    for name, a in clean_out:
        a, b = a[0], noisy_out[name][0]
        vmax = (np.maximum(np.abs(a).reshape(-1, a.shape[-1]).max(0), np.abs(b).reshape(-1, b.shape[-1]).max(0))
                if a.ndim == 3 else None)
        out.append({"name": name, "kind": kinds.get(name, ""), "shape": a.shape, "code": name == code,
                    "change": float(np.linalg.norm(b - a) / max(np.linalg.norm(a), 1e-9)),
                    "clean": a, "noisy": b, "vmax": vmax})
    return out
