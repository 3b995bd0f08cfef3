"""One colour per model, the same on every page and in every selection.

A colour belongs to a model's name, never to its place in a chart: adding a model to a chart must not
recolour the ones already there (Vega's category scale hands out colours in domain order, so the seed
autoencoder went from green to purple when a model was added). Legends list the models in the order the
page shows their rows, and sit under the plot, where a phone keeps the plot's width."""
from __future__ import annotations

import hashlib

# Vega's category10, assigned by name; red is left out (the denoising chart's current-noise-factor line).
MODELS = {
    "seed_ae": "#ff7f0e",
    "unet": "#2ca02c",
    "unet_global": "#17becf",
    "unet_global_wide": "#bcbd22",
    "unet_global_deep": "#9467bd",
    "unet_global_deeper": "#1f77b4",
    "yours": "#e377c2",
    "noisy": "#7f7f7f",  # the noisy input, the reference every model is measured against
}
SPARE = ("#8c564b", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")  # models shipped after this table


def of(name: str) -> str:
    """The colour of model `name`: its own, or for a model this table does not know yet, a spare colour chosen by
    its name (so it too keeps its colour in every selection)."""
    if name in MODELS:
        return MODELS[name]
    return SPARE[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(SPARE)]


def digits(title: str) -> dict:
    """Vega-Lite colour encoding for a digit field "0"…"9": each digit its colour on every map, the legend under the
    plot in two rows of five, which a 390 px phone shows whole (one row of ten lost 7–9 past the edge)."""
    return {"field": "label", "type": "nominal", "title": title,
            "scale": {"scheme": "tableau10", "domain": [str(d) for d in range(10)]},
            "legend": {"orient": "bottom", "columns": 5, "symbolLimit": 10}}


def encoding(rows: list[tuple[str, str]], field: str = "model") -> dict:
    """Vega-Lite colour encoding for rows of (model name, label as the page shows it), in the page's row order:
    each label in its model's colour, the legend in row order, under the plot."""
    return {"field": field, "type": "nominal", "title": None,
            "scale": {"domain": [label for _, label in rows], "range": [of(name) for name, _ in rows]},
            "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 320, "symbolStrokeWidth": 3}}
