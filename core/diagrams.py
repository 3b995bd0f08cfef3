"""Model diagrams as DOT text, for `st.graphviz_chart` (drawn in the browser: no Graphviz binary needed).

`layer_dot(model)` starts from `keras.utils.model_to_dot` (pydot, pure Python, dpi 72) — the call that
failed for the seed's author with "pydot not found" — and makes it read well: nodes named after the
layers, each showing its type, output shape and parameter count, and every skip connection drawn as a
dashed edge into its `add` (a projection shortcut in orange). `block_dot(model)` draws a ResNet one node
per residual sub-block. `render(dot, "svg" | "png")` needs the `dot` program and says so if it is missing.
"""
from __future__ import annotations

import html
import shutil
import subprocess

from core import arch

DPI = 72
FILL = {  # layer type → node colour; the rest are white
    "InputLayer": "#e8eaf6", "Conv2D": "#e3f2fd", "Conv2DTranspose": "#e3f2fd", "Dense": "#fff3e0",
    "BatchNormalization": "#f1f8e9", "Add": "#fce4ec", "Concatenate": "#fce4ec",
    "MaxPooling2D": "#ede7f6", "GlobalAveragePooling2D": "#ede7f6", "UpSampling2D": "#ede7f6",
}
PROJECTION_FILL = "#ffe0b2"
SKIP_COLOR = "#1e88e5"
PROJECTION_COLOR = "#ef6c00"


class DiagramUnavailable(RuntimeError):
    """SVG/PNG export needs Graphviz's `dot` program; the message says how to get it."""


def _q(name: str) -> str:
    return '"' + name.replace('"', r"\"") + '"'


def _label(title: str, kind: str, rows: list[str], fill: str) -> str:
    cells = "".join(f'<tr><td align="left"><font point-size="11">{html.escape(r)}</font></td></tr>' for r in rows)
    return (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3" bgcolor="{fill}">'
            f'<tr><td align="left"><b>{html.escape(title)}</b> <font point-size="10" color="#555555">'
            f'{html.escape(kind)}</font></td></tr>{cells}</table>>')


def _graph(rankdir: str = "TB"):
    import pydot

    g = pydot.Dot(graph_type="digraph")
    g.set("rankdir", rankdir)
    g.set("dpi", DPI)
    g.set("nodesep", "0.25")
    g.set("ranksep", "0.3")
    g.set_node_defaults(shape="box", style="rounded,filled", fillcolor="white", color="#90a4ae",
                        fontname="Helvetica", margin="0.05,0.03")
    g.set_edge_defaults(color="#546e7a", arrowsize="0.6")
    return g


def _all(graph):
    """pydot nodes and edges of a graph and of the clusters inside it: (cluster name or None, item)."""
    nodes = [(None, n) for n in graph.get_nodes()]
    edges = list(graph.get_edges())
    for sub in graph.get_subgraphs():
        inner_nodes, inner_edges = _all(sub)
        nodes += [(c or sub.get_name().strip('"'), n) for c, n in inner_nodes]
        edges += inner_edges
    return nodes, edges


def layer_dot(model, rankdir: str = "TB") -> str:
    """Every layer one node (name, type, output shape, parameters); skip connections dashed. A network
    nested in another (a VAE's encoder and decoder) is a labelled box of its own layers."""
    import keras
    import pydot

    model = arch.functional(model)
    source = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, dpi=DPI, rankdir=rankdir,
                                      expand_nested=True)
    layers = {str(id(layer)): (name, layer) for name, layer in arch.flat_layers(model)}
    for outer in model.layers:  # a nested network's own input node, which flat_layers leaves out
        for inner in getattr(outer, "layers", ()):
            layers.setdefault(str(id(inner)), (f"{outer.name}/{inner.name}", inner))
    if hasattr(model, "_operations"):
        layers.update({str(id(op)): (op.name, op) for op in model._operations if str(id(op)) not in layers})
    g = _graph(rankdir)
    clusters, names, kinds = {}, {}, {}
    nodes, edges = _all(source)
    for cluster, node in nodes:
        found = layers.get(node.get_name().strip('"'))
        if found is None:  # pydot's 'node'/'edge' default entries
            continue
        name, layer = found
        names[node.get_name().strip('"')], kinds[name] = name, type(layer).__name__
        params = int(layer.count_params())
        fill = PROJECTION_FILL if name.endswith("_projection") else FILL.get(kinds[name], "white")
        rows = [f"out {arch._out(layer)}"] + ([f"{params:,} params"] if params else [])
        into = g
        if cluster is not None:
            part = cluster.removeprefix("cluster_")
            if part not in clusters:
                clusters[part] = pydot.Cluster(part, label=part, style="rounded,dashed", color="#90a4ae",
                                               fontname="Helvetica")
                g.add_subgraph(clusters[part])
            into = clusters[part]
        into.add_node(pydot.Node(_q(name), label=_label(name.rsplit("/", 1)[-1], kinds[name], rows, fill)))
    for edge in edges:
        src, dst = names.get(edge.get_source().strip('"')), names.get(edge.get_destination().strip('"'))
        if src is None or dst is None:
            continue
        e = pydot.Edge(_q(src), _q(dst))
        if kinds[dst] == "Add" and not src.endswith("_bn2"):  # the shortcut, not the branch
            projection = src.endswith("_projection")
            e.set("style", "dashed")
            e.set("color", PROJECTION_COLOR if projection else SKIP_COLOR)
            e.set("penwidth", "2")
        elif dst.endswith("_projection"):
            e.set("style", "dashed")
            e.set("color", PROJECTION_COLOR)
            e.set("penwidth", "2")
        g.add_edge(e)
    return g.to_string()


def block_dot(model, rankdir: str = "TB") -> str:
    """A ResNet by residual sub-block: stem, one node per sub-block, head; the skip edges between them.

    A sub-block's node shows its output shape and parameters; its shortcut is drawn as a second, dashed
    edge beside the main one — blue for the identity, orange (with its parameters) for the 1×1 stride-2
    projection. A plain network (no `add`) has no skip edges.
    """
    import pydot

    g = _graph(rankdir)
    layers = {layer.name: layer for layer in model.layers}

    def params(prefix):
        return sum(int(layer.count_params()) for name, layer in layers.items() if name.startswith(prefix + "_"))

    inp = arch.fmt_shape(tuple(model.inputs[0].shape))
    stem_out = arch.fmt_shape(tuple(layers["stem_relu"].output.shape))
    g.add_node(pydot.Node(_q("stem"), label=_label("stem", "7×7 conv /2 · BN · ReLU",
                                                   [f"in {inp} → out {stem_out}", f"{params('stem'):,} params"],
                                                   FILL["Conv2D"])))
    prev = "stem"
    for sub in arch.sub_blocks(model):
        conv1 = layers[f"{sub}_conv1"]
        stride = conv1.get_config()["strides"]
        stride = stride[0] if isinstance(stride, (tuple, list)) else stride
        out = arch.fmt_shape(tuple(layers[f"{sub}_relu2"].output.shape))
        proj = layers.get(f"{sub}_projection")
        residual = f"{sub}_add" in layers
        kind = "3×3 conv" + (" /2" if stride > 1 else "") + " · BN · ReLU · 3×3 conv · BN" + \
               (" · add" if residual else "") + " · ReLU"
        rows = [f"out {out}", f"{params(sub):,} params"]
        if proj is not None:
            rows.append(f"projection shortcut: 1×1 conv /2, {int(proj.count_params()):,} params")
        g.add_node(pydot.Node(_q(sub), label=_label(sub, kind, rows, PROJECTION_FILL if proj is not None
                                                     else FILL["Add"] if residual else "white")))
        g.add_edge(pydot.Edge(_q(prev), _q(sub)))
        if residual:
            skip = pydot.Edge(_q(prev), _q(sub), style="dashed", penwidth="2", tailport="e", headport="e",
                              color=PROJECTION_COLOR if proj is not None else SKIP_COLOR,
                              label="projection" if proj is not None else "identity",
                              fontsize="10", fontcolor=PROJECTION_COLOR if proj is not None else SKIP_COLOR)
            g.add_edge(skip)
        prev = sub
    dense = next(layer for layer in model.layers if layer.name == "head_dense")
    g.add_node(pydot.Node(_q("head"), label=_label("head", "global average pool · dense softmax",
                                                   [f"out {arch.fmt_shape(tuple(dense.output.shape))}",
                                                    f"{params('head'):,} params"], FILL["Dense"])))
    g.add_edge(pydot.Edge(_q(prev), _q("head")))
    return g.to_string()


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str = "svg", timeout: float = 60) -> bytes:
    """The diagram as SVG or PNG bytes through Graphviz's `dot` program (DiagramUnavailable without it)."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"format must be 'svg' or 'png', not {fmt!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramUnavailable("SVG and PNG export need Graphviz's `dot` program, which is not installed "
                                 "here (apt-get install graphviz). The DOT file opens in any Graphviz viewer.")
    out = subprocess.run([exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise DiagramUnavailable(f"dot failed: {out.stderr.decode(errors='replace')[-500:]}")
    return out.stdout
