"""Take a model home: the Keras code that builds it (a standalone .py), its weights, and the shell command
that trains the same recipe.

`python_source` writes the model out as plain functional-API Keras, one line per layer, read from the
model's own config: what runs is what the lab built, not a second copy of the builder that could drift.
The file imports only keras and numpy (and the standard library); `python yours.py` beside
`yours.weights.h5` rebuilds the model, loads the weights, prints the parameter count and runs one digit.
"""
from __future__ import annotations

import inspect
import keyword
import re
import tempfile
from pathlib import Path

# Arguments shown positionally, as a person writes them: layers.Conv2D(16, 3, ...), layers.Dense(128, ...)
_POSITIONAL = {"Conv2D": ("filters", "kernel_size"), "Conv2DTranspose": ("filters", "kernel_size"),
               "Dense": ("units",), "MaxPooling2D": ("pool_size",), "AveragePooling2D": ("pool_size",),
               "UpSampling2D": ("size",), "Reshape": ("target_shape",), "Cropping2D": ("cropping",),
               "ZeroPadding2D": ("padding",), "Dropout": ("rate",), "Activation": ("activation",)}
_SQUARE = {"kernel_size", "strides", "pool_size", "size", "dilation_rate"}  # (3, 3) is written 3
_DROP = {"name", "trainable", "dtype"}
_RESERVED = {"keras", "layers", "np", "sys", "Path", "model", "main", "build_model", "WEIGHTS"}


def build(settings):
    """A model from `settings`: a Keras model as it is; a dict naming a core.models builder ("builder", default
    "conv_autoencoder") and its keyword arguments."""
    if hasattr(settings, "get_config") and hasattr(settings, "layers"):
        return settings
    from core import models

    kwargs = dict(settings)
    return getattr(models, kwargs.pop("builder", "conv_autoencoder"))(**kwargs)


def python_source(settings, weights_file: str = "yours.weights.h5", title: str | None = None) -> str:
    """A standalone Python file that builds the same architecture and loads `weights_file` from beside it.

    `settings`: conv_autoencoder settings (a dict), a dict with "builder" naming another core.models builder
    (e.g. {"builder": "seed_autoencoder"}, {"builder": "unet_denoiser"}), or a built functional Keras model.
    Raises ValueError for a model that is not plain functional Keras (subclassed models, custom layers).
    """
    model = build(settings)
    body, inputs, outputs = _layer_lines(model)
    n = int(model.count_params())
    is_dict = isinstance(settings, dict)
    builder = settings.get("builder", "conv_autoencoder") if is_dict else None
    about = title or (f"{model.name}: your own autoencoder from Unsupervised Lab's training bench" if builder ==
                      "conv_autoencoder" else f"{model.name}: a model from Unsupervised Lab")
    made = ""
    if is_dict:
        shown = {k: v for k, v in settings.items() if k != "builder"}
        made = f"\nBuilt in the lab by core.models.{builder}({', '.join(f'{k}={v!r}' for k, v in shown.items())}).\n"
    script = weights_file.split(".")[0] + ".py"
    lines = [
        f'"""{about}.',
        made,
        f"{n:,} parameters. Run it beside {weights_file}:",
        "",
        f"    python {script}",
        "",
        "It rebuilds the model layer by layer, loads the weights, prints the parameter count and cleans one",
        "noisy digit-shaped test pattern. It needs only keras (3, with a backend such as TensorFlow) and numpy.",
        f"Use it in your own code: `from {script[:-3]} import build_model`, then",
        f"`model = build_model(); model.load_weights(\"{weights_file}\")`; images are floats (N, 28, 28, 1) in [0, 1].",
        '"""',
        "import sys",
        "from pathlib import Path",
        "",
        "import keras",
        "import numpy as np",
        "from keras import layers",
        "",
        f"WEIGHTS = Path(__file__).with_name({_q(weights_file)})",
        "",
        "",
        "def build_model():",
        *[f"    {line}" for line in body],
        f"    return keras.Model({_seq(inputs)}, {_seq(outputs)}, name={_q(model.name)})",
        "",
        "",
        "def main():",
        "    model = build_model()",
        "    if not WEIGHTS.exists():",
        "        print(f\"{WEIGHTS.name} is not beside {Path(__file__).name}: download both into one folder.\", "
        "file=sys.stderr)",
        "        return 1",
        "    model.load_weights(WEIGHTS)",
        "    print(f\"parameters: {model.count_params()}\")",
        "    # a test pattern: a ring, like a zero, with Gaussian noise 0.5 on it (the seed's noise)",
        "    yy, xx = np.mgrid[:28, :28]",
        "    ring = (np.abs(np.hypot(yy - 13.5, xx - 13.5) - 7) < 2).astype(\"float32\")",
        "    noisy = np.clip(ring + 0.5 * np.random.default_rng(0).normal(size=ring.shape), 0, 1)",
        "    out = np.asarray(model(noisy.reshape(1, 28, 28, 1).astype(\"float32\"), training=False))",
        "    print(f\"output: shape {out.shape}, values {out.min():.3f} to {out.max():.3f}\")",
        "    return 0",
        "",
        "",
        'if __name__ == "__main__":',
        "    sys.exit(main())",
        "",
    ]
    return "\n".join(lines)


def weights_bytes(model) -> bytes:
    """The model's weights as a lean `.weights.h5` file's bytes (core.pretrained.write_weights: without the
    optimizer's state, which the loader never needs, and compressed)."""
    from core.pretrained import write_weights

    with tempfile.TemporaryDirectory() as tmp:
        return write_weights(model, Path(tmp) / "model.weights.h5").read_bytes()


def train_command(settings, noise: str, epochs: int, batch_size: int, learning_rate: float,
                  out: str = "trained") -> str:
    """The shell command that trains the same recipe as the bench: same architecture, noise ("gaussian_0.5"
    drawn once, or "blind"), epochs, batch size, adam at a constant `learning_rate`, binary cross-entropy.
    It trains on MNIST's 60,000 training digits (where core.data.load_mnist finds them) rather than the
    bench's 5,000, and writes to `out`, never into pretrained/.

    `settings` as for python_source: conv_autoencoder settings → recipe "yours" with --arch; {"builder":
    "seed_autoencoder"} → seed_ae; {"builder": "unet_denoiser"} (its defaults) → unet.
    """
    from core.recipes import RECIPES, format_arch

    kwargs = dict(settings)
    builder = kwargs.pop("builder", "conv_autoencoder")
    if builder == "conv_autoencoder":
        name, r, extra = "yours", None, ["--arch", format_arch(kwargs)]
    else:
        found = [n for n, r in RECIPES.items() if r.builder == builder and r.options == kwargs and r.task == "denoise"]
        if not found:
            raise ValueError(f"no core.train recipe builds {builder}({kwargs}); the command line cannot train it")
        name, extra = found[0], []
        r = RECIPES[name]
    if noise == "gaussian_0.5":
        if r is None or r.noise_blind or (r.noise_kind, r.noise_factor) != ("gaussian", 0.5):
            extra += ["--noise", "once", "--noise-kind", "gaussian", "--noise-factor", "0.5"]
    elif noise == "blind":
        if r is None or not r.noise_blind:
            extra += ["--noise", "blind"]
    else:
        raise ValueError(f"noise is 'gaussian_0.5' or 'blind', not {noise!r}")
    if r is not None and r.learning_rate is None and float(learning_rate) == 1e-3:
        pass  # the seed's 'adam': constant at Keras's default rate, 0.001
    else:
        extra += ["--learning-rate", f"{float(learning_rate):g}"]
        if r is not None and r.schedule != "constant" and r.learning_rate is not None:
            extra += ["--schedule", "constant"]
    extra += ["--epochs", str(int(epochs)), "--batch-size", str(int(batch_size)), "--out", out]
    return " ".join(["python", "-m", "core.train", name, *extra])


# ─── writing a functional model out as code ─────────────────────────────────────────────────────────

def _layer_lines(model):
    import keras

    config = model.get_config()
    if "layers" not in config or "input_layers" not in config:
        raise ValueError(f"{model.name} is not a functional Keras model; its code cannot be written out layer by layer")
    names: dict[str, str] = {}
    body = []
    for spec in config["layers"]:
        cls_name, cfg = spec["class_name"], spec["config"]
        var = names[spec["name"]] = _identifier(spec["name"], set(names.values()))
        if cls_name == "InputLayer":
            shape = tuple(cfg["batch_shape"][1:])
            body.append(f"{var} = keras.Input(shape={shape!r}, name={_q(spec['name'])})")
            continue
        if spec.get("module") != "keras.layers" or not hasattr(keras.layers, cls_name):
            raise ValueError(f"layer {spec['name']!r} ({cls_name}) is not a plain Keras layer; this model's code "
                             f"cannot be written out without the lab's own code")
        if len(spec["inbound_nodes"]) != 1:
            raise ValueError(f"layer {spec['name']!r} is used {len(spec['inbound_nodes'])} times; not supported")
        node = spec["inbound_nodes"][0]
        if node.get("kwargs"):
            raise ValueError(f"layer {spec['name']!r} is called with keyword arguments; not supported")
        args = node["args"]
        call = args[0] if len(args) == 1 else args
        body.append(f"{var} = layers.{cls_name}({_arguments(getattr(keras.layers, cls_name), cfg, spec['name'])})"
                    f"({_tensors(call, names)})")
    inputs = [names[n[0]] for n in config["input_layers"]] if isinstance(config["input_layers"][0], list) else \
        [names[config["input_layers"][0]]]
    outputs = [names[n[0]] for n in config["output_layers"]] if isinstance(config["output_layers"][0], list) else \
        [names[config["output_layers"][0]]]
    return body, inputs, outputs


def _identifier(name: str, taken: set) -> str:
    var = re.sub(r"\W", "_", name)
    if not var or var[0].isdigit():
        var = "_" + var
    if keyword.iskeyword(var) or var in _RESERVED:
        var += "_"
    base, k = var, 2
    while var in taken:
        var, k = f"{base}_{k}", k + 1
    return var


def _tensors(arg, names) -> str:
    if isinstance(arg, list):
        return "[" + ", ".join(_tensors(a, names) for a in arg) + "]"
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        layer, node_index, tensor_index = arg["config"]["keras_history"]
        if node_index != 0 or tensor_index != 0:
            raise ValueError(f"a layer takes output {tensor_index} of {layer!r}; not supported")
        return names[layer]
    raise ValueError(f"unsupported layer input {arg!r}")


def _plain(value):
    """A config value as it is written in code: lists → tuples, serialised initializers → their names."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict) and "class_name" in value and value.get("module", "").startswith("keras"):
        cfg = {k: v for k, v in (value.get("config") or {}).items() if v is not None}
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", value["class_name"]).lower()
        if not cfg:
            return snake
        return _Code(f"keras.{value['module'].split('.')[-1]}.{value['class_name']}("
                     + ", ".join(f"{k}={_q(_plain(v))}" for k, v in cfg.items()) + ")")
    return value


class _Code(str):
    def __repr__(self):
        return str(self)


def _is_default(key, value, default, cfg) -> bool:
    if default is inspect.Parameter.empty:
        return False
    if value == default:
        return True
    if isinstance(value, tuple) and not isinstance(default, tuple) and value and all(v == default for v in value):
        return True  # strides=(1, 1) against the default 1
    if key == "data_format" and default is None and value == "channels_last":
        return True
    if key == "strides" and default is None and value == _plain(cfg.get("pool_size")):
        return True  # pooling: strides default to the pool size
    if key == "activation" and default is None and value == "linear":
        return True
    return False


def _arguments(cls, cfg: dict, name: str) -> str:
    sig = inspect.signature(cls.__init__).parameters
    positional, keywords = [], []
    first = _POSITIONAL.get(cls.__name__, ())
    for key in first:
        if key in cfg:
            positional.append(_literal(key, _plain(cfg[key])))
    for key, raw in cfg.items():
        if key in _DROP or key in first or key not in sig:
            continue
        value = _plain(raw)
        if _is_default(key, value, sig[key].default, cfg):
            continue
        keywords.append(f"{key}={_literal(key, value)}")
    dtype = cfg.get("dtype")
    if isinstance(dtype, dict) and (dtype.get("config") or {}).get("name") not in (None, "float32"):
        keywords.append(f"dtype={_q(dtype['config']['name'])}")
    return ", ".join([*positional, *keywords, f"name={_q(name)}"])


def _literal(key, value) -> str:
    if key in _SQUARE and isinstance(value, tuple) and len(set(value)) == 1:
        value = value[0]
    return _q(value)


def _q(value) -> str:
    """repr, with strings in double quotes as the rest of the file writes them."""
    if isinstance(value, str) and not isinstance(value, _Code) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    if isinstance(value, tuple):
        inner = ", ".join(_q(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _seq(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"
