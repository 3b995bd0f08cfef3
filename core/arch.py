"""Looking inside a network: summary rows, per-stage tables, receptive fields, multiply-adds, memory,
and the skip-connection experiments (gradient norms at initialisation, a short training race).

Plain Python + Keras; no streamlit. Every function takes a built Keras model or plain settings.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

BYTES_PER_FLOAT = 4  # float32


def _shape(tensor) -> tuple:
    return tuple(tensor.shape)


def _out(layer) -> str:
    """A layer's output shape; a layer with several outputs (an encoder's mean and log σ²) shows each."""
    out = layer.output
    return ", ".join(fmt_shape(_shape(o)) for o in out) if isinstance(out, (list, tuple)) else fmt_shape(_shape(out))


def functional(model):
    """The model as a graph of layers to read. A functional or Sequential model is one already; a model
    that wires whole networks together in its own `call` (a VAE's encoder, sampling and decoder; the
    geometric detector's network and distance) has no graph until it draws one with `as_functional()`."""
    return model.as_functional() if hasattr(model, "as_functional") else model


def flat_layers(model) -> list[tuple[str, object]]:
    """(name, layer) for every layer of `functional(model)`, nested networks opened in place under their
    own name ('encoder/enc_conv1'). A nested network's input layer is left out: the layer before feeds it."""
    from keras import layers as kl

    out = []
    for layer in functional(model).layers:
        if hasattr(layer, "layers"):
            out += [(f"{layer.name}/{name}", inner) for name, inner in flat_layers(layer)
                    if not isinstance(inner, kl.InputLayer)]
        else:
            out.append((layer.name, layer))
    return out


def fmt_shape(shape) -> str:
    """(None, 64, 64, 3) → '64×64×3'; the batch axis is left out."""
    dims = [d for d in shape[1:]] if shape and shape[0] is None else list(shape)
    return "×".join("?" if d is None else str(d) for d in dims) or "scalar"


def _layers(model):
    from keras import layers as kl

    return [layer for layer in model.layers if not isinstance(layer, kl.InputLayer)]


def _inbound(layer) -> list:
    """The layers feeding `layer` (in the model's own graph)."""
    out = []
    for node in layer._inbound_nodes[:1]:
        for tensor in node.input_tensors:
            src = tensor._keras_history.operation
            out.append(src)
    return out


def summary_rows(model) -> list[dict]:
    """One row per layer, as `model.summary()` prints them (layer, type, output shape, parameters), with
    nested networks opened up: their parameters are counted on their own layers' rows."""
    return [{"layer": name, "type": type(layer).__name__, "output shape": _out(layer),
             "parameters": int(layer.count_params())} for name, layer in flat_layers(model)]


def same_network(a, b) -> bool:
    """True when `a` and `b` have the same layers in the same order: type, output shape and parameters."""
    strip = [{k: r[k] for k in ("type", "output shape", "parameters")} for r in summary_rows(a)
             if r["type"] != "InputLayer"]
    other = [{k: r[k] for k in ("type", "output shape", "parameters")} for r in summary_rows(b)
             if r["type"] != "InputLayer"]
    return strip == other and a.count_params() == b.count_params()


def trainable_count(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def layer_macs(layer) -> int:
    """Multiply-adds this layer does for one image (convolutions and dense layers; the rest ≈ 0)."""
    name = type(layer).__name__
    if name in ("Conv2D", "Conv2DTranspose"):
        kh, kw = layer.kernel_size
        out = _shape(layer.output)
        c_in = _shape(layer.input)[-1]
        if name == "Conv2DTranspose":  # every input pixel is spread over a kernel
            inp = _shape(layer.input)
            return int(inp[1] * inp[2] * kh * kw * c_in * layer.filters)
        return int(out[1] * out[2] * kh * kw * c_in * layer.filters)
    if name == "Dense":
        return int(_shape(layer.input)[-1] * layer.units)
    return 0


def macs(model) -> int:
    return sum(layer_macs(layer) for _, layer in flat_layers(model))


def activation_elements(model) -> int:
    """Numbers every layer outputs for one image (the input included): what a forward pass keeps for backprop."""
    return sum(int(np.prod(_shape(layer.output)[1:])) for layer in model.layers)


def memory(model, batch: int = 32) -> dict:
    """Bytes for the weights and for the activations of a batch (float32)."""
    return {"weights": int(model.count_params()) * BYTES_PER_FLOAT,
            "activations": activation_elements(model) * batch * BYTES_PER_FLOAT}


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024


def fmt_count(n: float) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} G"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return f"{n:.0f}"


def receptive_fields(model) -> dict[str, tuple[int, int]]:
    """layer name → (receptive field in input pixels, jump): how many input pixels one output pixel sees.

    Walks the graph in order: a k×k layer with stride s adds (k − 1)·jump and multiplies the jump by s;
    where paths join (add, concatenate) the widest one counts. Global pooling and dense layers see all.
    """
    rf: dict[str, tuple[int, int]] = {}
    for layer in model.layers:
        ins = [rf[src.name] for src in _inbound(layer) if src.name in rf]
        r, j = max(ins) if ins else (1, 1)
        cfg = layer.get_config()
        k = cfg.get("kernel_size") or cfg.get("pool_size")
        s = cfg.get("strides") or 1
        if k is not None and type(layer).__name__ not in ("UpSampling2D",):
            k = k[0] if isinstance(k, (tuple, list)) else k
            s = s[0] if isinstance(s, (tuple, list)) else s
            if type(layer).__name__ == "Conv2DTranspose":
                r, j = r + (k - 1) * j, max(1, j // s)
            else:
                r, j = r + (k - 1) * j, j * s
        elif type(layer).__name__ == "UpSampling2D":
            size = cfg.get("size", (2, 2))
            j = max(1, j // (size[0] if isinstance(size, (tuple, list)) else size))
        rf[layer.name] = (r, j)
    return rf


def stage_of(layer_name: str) -> str:
    """'block2_sub1_conv1' → 'block2'; 'stem_bn' → 'stem'; 'head_dense' → 'head'; 'image' → 'input'."""
    head = layer_name.split("_", 1)[0]
    return head if head in ("stem", "head") or head.startswith("block") else "input"


def stage_table(model) -> list[dict]:
    """The ResNet by stage (stem, block1…, head): output shape, parameters, multiply-adds, receptive field."""
    rf = receptive_fields(model)
    input_side = _shape(model.inputs[0])[1]
    rows: dict[str, dict] = {}
    for layer in model.layers:
        stage = stage_of(layer.name)
        if stage == "input":
            continue
        row = rows.setdefault(stage, {"stage": stage, "sub-blocks": 0, "output shape": "", "parameters": 0,
                                      "multiply-adds": 0, "receptive field": ""})
        row["parameters"] += int(layer.count_params())
        row["multiply-adds"] += layer_macs(layer)
        row["output shape"] = fmt_shape(_shape(layer.output))
        if layer.name.endswith("_conv1"):
            row["sub-blocks"] += 1
        r, _ = rf[layer.name]
        if stage == "head":
            row["receptive field"] = "global"
        else:
            row["receptive field"] = f"{r}×{r}" + (" (≥ input)" if r >= input_side else "")
    return list(rows.values())


def sub_blocks(model) -> list[str]:
    """Names of the residual sub-blocks, in order: ['block1_sub1', 'block1_sub2', …]."""
    seen = []
    for layer in model.layers:
        if layer.name.startswith("block") and layer.name.endswith("_conv1"):
            seen.append(layer.name[: -len("_conv1")])
    return seen


# ─── Why skip connections matter ────────────────────────────────────────────────────────────────────

DEMO_FILTERS = 8       # small enough for a few seconds on a CPU
DEMO_BLOCKS = 3        # 28 → 14 (stem) → 14 → 7 → 4
DEPTHS = (8, 14, 20, 32, 44, 56)  # 6n + 2 weight layers: stem + 3 blocks × n sub-blocks × 2 convs + dense


def demo_sub_blocks(depth: int) -> int:
    """Weight layers on the main path = 1 (stem) + 2·3·n (sub-blocks) + 1 (dense) → n."""
    if depth < 8 or (depth - 2) % (2 * DEMO_BLOCKS):
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 32, …), not {depth}.")
    return (depth - 2) // (2 * DEMO_BLOCKS)


def demo_pair(depth: int, num_filters: int = DEMO_FILTERS, seed: int = 0):
    """A residual and a plain network of equal depth and width on 28×28×1 digits, same initial weights
    wherever both have the layer."""
    import keras

    from core import models

    n = demo_sub_blocks(depth)
    kw = dict(label_num=10, num_filters=num_filters, num_blocks=DEMO_BLOCKS, num_sub_blocks=n,
              input_shape=(28, 28, 1))
    keras.utils.set_random_seed(seed)
    res = models.resnet(residual=True, **kw)
    plain = models.resnet(residual=False, **kw)
    for layer in plain.layers:  # identical starting weights: the skip connections are the only difference
        layer.set_weights(res.get_layer(layer.name).get_weights())
    return res, plain


def main_path_layers(model) -> list[str]:
    """Weight layers along the main path, input to output (projection shortcuts left out)."""
    return [layer.name for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Dense") and not layer.name.endswith("_projection")]


def gradient_norms(model, x, y, training: bool = True) -> dict[str, float]:
    """‖∂loss/∂kernel‖ for every main-path weight layer at the model's current weights, on one batch.

    The loss is the cross-entropy of the 10 digit classes; batch normalisation runs in training mode,
    as during the first training step.
    """
    import tensorflow as tf

    names = main_path_layers(model)
    kernels = [model.get_layer(n).kernel for n in names]
    x = tf.constant(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        p = model(x, training=training)
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(np.asarray(y), p))
    grads = tape.gradient(loss, kernels)
    return {n: float(tf.norm(g)) for n, g in zip(names, grads)}


def gradient_comparison(depth: int, x, y, num_filters: int = DEMO_FILTERS, seed: int = 0) -> list[dict]:
    """Rows (network, layer index, layer, gradient norm) for the residual and plain nets at initialisation."""
    res, plain = demo_pair(depth, num_filters, seed)
    rows = []
    for label, model in (("residual", res), ("plain", plain)):
        for i, (name, g) in enumerate(gradient_norms(model, x, y).items(), start=1):
            rows.append({"network": label, "layer_index": i, "layer": name, "grad_norm": g})
    return rows


def train_race(depth: int, x, y, steps: int = 200, batch_size: int = 64, num_filters: int = DEMO_FILTERS,
               learning_rate: float = 1e-3, seed: int = 0,
               on_step: Callable[[int, dict], bool] | None = None, every: int = 10) -> dict:
    """Train the residual and the plain net side by side on the same batches; returns the loss histories.

    `on_step(step, history)` is called every `every` steps and at the end; returning False stops both
    (the run is then marked `stopped`). Returns {"residual": [...], "plain": [...], "steps": n,
    "stopped": bool, "seconds": s}.
    """
    import keras
    import tensorflow as tf

    res, plain = demo_pair(depth, num_filters, seed)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    def make_step(model):
        opt = keras.optimizers.Adam(learning_rate)

        @tf.function(reduce_retracing=True, autograph=False)  # see core.pretrained.compiled_forward
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            opt.apply_gradients(zip(grads, model.trainable_weights))
            return loss
        return step

    steps_fn = {"residual": make_step(res), "plain": make_step(plain)}
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    history = {"residual": [], "plain": [], "steps": 0, "stopped": False, "seconds": 0.0}
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x), batch_size)
        xb, yb = tf.constant(x[idx]), tf.constant(y[idx])
        for name, fn in steps_fn.items():
            history[name].append(float(fn(xb, yb)))
        history["steps"] = step
        history["seconds"] = time.perf_counter() - t0
        if on_step is not None and (step % every == 0 or step == steps):
            if on_step(step, history) is False:
                history["stopped"] = step < steps
                break
    return history


def smooth(values: list[float], window: int = 10) -> list[float]:
    """Running mean over the last `window` values (loss curves of single batches are noisy)."""
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def depth_of(model) -> int:
    return len(main_path_layers(model))


def is_finite(values) -> bool:
    return all(math.isfinite(v) for v in values)
