"""The gradient-flow view: the graph behind a tensor as DOT text, as a picture, or as a text walk.

    with mg.trace(grad_norms=True):  # record FLOPs, and the gradient norms during backward
        loss = model(x).sum()
        loss.backward(retain_graph=True)
    print(mg.viz.to_dot(loss))       # DOT text; mg.viz.render(loss, "graph.svg") draws it
    mg.viz.graph(loss)               # in Jupyter: the picture (SVG, drawn in pure Python)
    print(mg.explain(loss))          # the chain rule, op by op, in backward order

Where the numbers come from: the graph itself gives the ops, shapes and bound rules (always). FLOPs and
gradient norms come from the tracer: every node created under `mg.trace()` carries a probe in its
`hooks`; with `grad_norms=True` it keeps the norm of the gradient that reached the node during
backward. So run forward *and* backward inside `mg.trace(grad_norms=True)` to see them; otherwise
they show as '?'. A leaf's gradient norm is
that of its `.grad` (accumulated, as `.grad` is). The norm on an edge is that of the gradient of the
tensor the edge carries (dL/d that tensor, summed over all its uses).

A gradient produced by a rule other than the op's own backward (a straight-through surrogate, or a
`mg.backward_rules` override) is drawn dashed and red, and labelled with the rule's name.
"""
from .autograd import Node, dependencies
from .tensor import Tensor
from .trace import Table, human, probes

__all__ = ["to_dot", "to_svg", "render", "graph", "Graph", "explain", "graph_nodes", "save_figure"]

SURROGATE_COLOR = "#d62728"


def graph_nodes(root):
    """The graph nodes behind `root` in the order the backward engine visits them: a node comes only
    after every node that sends it a gradient (Kahn's algorithm, with the engine's last-in-first-out
    choice among ready nodes)."""
    start = root.grad_fn if isinstance(root, Tensor) else root
    if start is None:
        return []
    deps = dependencies([start])  # the gradient edges into each node, counted as the engine counts them
    order, ready = [], [start]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            if isinstance(p, Node):
                deps[p] -= 1
                if deps[p] == 0:
                    ready.append(p)
    return order


def _rule_label(node):
    """The rule's name when it is not the op's own backward (a surrogate), else None."""
    if not hasattr(node, "rule") or not node.has_custom_rule():
        return None
    name = getattr(node.rule, "name", None)
    return name if isinstance(name, str) else node.rule_name()


def _probe(node):
    found = probes(node)
    return found[-1] if found else None


def _norm(x):
    if isinstance(x, Node):
        p = _probe(x)
        return None if p is None else p.norm
    if isinstance(x, Tensor) and x.grad is not None:
        import numpy as np
        return float(np.linalg.norm(x.grad.data))
    return None


def _fmt(v):
    return "?" if v is None else f"{v:.4g}"


def _esc(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _model(root, params=None):
    """The picture of the graph behind `root`, independent of how it is drawn: (nodes, edges).

    nodes: dicts with id, kind ('op', 'leaf' or 'output'), lines (the label, one line a row) and surrogate
    (the rule's name when the op's gradient comes from a surrogate); edges: dicts with src, dst, label (a list
    of lines) and surrogate. Op nodes come in backward order, leaves as their first use is met."""
    names = {id(t): n for n, t in (params or {}).items()}
    ops = graph_nodes(root)
    ids = {node: f"op{i}" for i, node in enumerate(ops)}
    nodes, edges, leaves = [], [], {}
    for node in ops:
        probe = _probe(node)
        label = [node.op.name, f"{tuple(node.shape)} {node.dtype}"]
        if probe is not None:
            rec = probe.record
            flops = f"FLOPs {human(rec.flops)} fwd / {human(probe.backward_flops)} bwd"
            label.append(flops + (f", BOPs {human(rec.bops)}" if rec.bops else ""))
        surrogate = _rule_label(node)
        if surrogate:
            label.append(f"rule: {surrogate}")
        nodes.append({"id": ids[node], "kind": "op", "lines": label, "surrogate": surrogate})
    for node in ops:
        surrogate = _rule_label(node)
        for parent in node.parents:
            if parent is None:
                continue
            if isinstance(parent, Node):
                src = ids[parent]
            else:
                src = leaves.get(id(parent))
                if src is None:
                    src = leaves[id(parent)] = f"leaf{len(leaves)}"
                    name = names.get(id(parent)) or parent.name or "leaf"
                    nodes.append({"id": src, "kind": "leaf", "lines": [name, f"{tuple(parent.shape)} {parent.dtype}"],
                                  "surrogate": None})
            norm = _norm(parent)
            label = [f"|g|={_fmt(norm)}"] if norm is not None else []
            if surrogate:
                label = [surrogate] + label
            edges.append({"src": src, "dst": ids[node], "label": label, "surrogate": surrogate})
    if isinstance(root, Tensor) and ops:
        nodes.append({"id": "output", "kind": "output", "lines": ["output", str(tuple(root.shape))], "surrogate": None})
        norm = _norm(ops[0])
        edges.append({"src": ids[ops[0]], "dst": "output", "label": [f"|g|={_fmt(norm)}"] if norm is not None else [],
                      "surrogate": None})
    return nodes, edges


def to_dot(root, params=None, title=None):
    """The graph behind `root` as Graphviz DOT text.

    Op nodes (boxes) show the op, its output shape and dtype, and its FLOPs (forward / backward, when
    traced); leaves (ellipses) show their name (from `params`, a dict name -> tensor, e.g.
    `dict(model.named_parameters())`) and shape. Edges point from input to op, labelled with the
    gradient norm after backward; surrogate gradients are dashed, red, and named.
    """
    nodes, edges = _model(root, params)
    lines = ["digraph minigrad {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if title:
        lines.append(f'  label="{_esc(title)}"; labelloc="t";')
    ops = [n for n in nodes if n["kind"] == "op"]
    for n in ops:
        style = 'shape=box, style="rounded,filled", fillcolor="#e8eef7"'
        if n["surrogate"]:
            style = f'shape=box, style="rounded,filled,dashed", fillcolor="#fbe3e3", color="{SURROGATE_COLOR}"'
        lines.append(f'  {n["id"]} [label="{_esc(chr(10).join(n["lines"]))}", {style}];')
    declared = {n["id"] for n in ops}
    kinds = {n["id"]: n for n in nodes}
    for e in edges:
        if e["dst"] == "output":
            n = kinds["output"]
            lines.append(f'  output [label="{_esc(chr(10).join(n["lines"]))}", shape=plaintext];')
            lines.append(f'  {e["src"]} -> output [label="{_esc(chr(10).join(e["label"]))}"];')
            continue
        if e["src"] not in declared:
            declared.add(e["src"])
            n = kinds[e["src"]]
            lines.append(f'  {n["id"]} [label="{_esc(chr(10).join(n["lines"]))}", '
                         'shape=ellipse, style=filled, fillcolor="#eaf5e9"];')
        label = _esc("\n".join(e["label"]))
        if e["surrogate"]:
            attrs = f'label="{label}", style=dashed, ' \
                    f'color="{SURROGATE_COLOR}", fontcolor="{SURROGATE_COLOR}", penwidth=1.5'
        else:
            attrs = f'label="{label}"'
        lines.append(f"  {e['src']} -> {e['dst']} [{attrs}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root, path, params=None, title=None, engine="auto"):
    """Draw the graph behind `root` to `path` (the format from its extension: .svg, .png, .pdf); returns the path.

    engine: 'python' draws SVG with minigrad's own layout (`to_svg`: nothing to install, same bytes on every
    machine); 'dot' uses Graphviz (the `graphviz` Python package and Graphviz's `dot` program); 'auto' (the
    default) uses 'python' for .svg and 'dot' for the other formats."""
    import os
    import shutil
    stem, ext = os.path.splitext(path)
    fmt = ext.lstrip(".").lower() or "svg"
    if engine not in ("auto", "python", "dot"):
        raise ValueError(f"mg.viz.render: engine must be 'auto', 'python' or 'dot', not {engine!r}")
    if engine == "python" or (engine == "auto" and fmt == "svg"):
        if fmt != "svg":
            raise ValueError(f"mg.viz.render: the pure-Python layout draws SVG only, not {fmt!r}; use a .svg path, "
                             "or engine='dot' (Graphviz)")
        with open(path if ext else path + ".svg", "w", encoding="utf-8", newline="\n") as f:
            f.write(to_svg(root, params, title))
        return path if ext else path + ".svg"
    try:
        import graphviz
    except ImportError:
        raise ImportError("mg.viz.render needs the 'graphviz' Python package for .{fmt}: pip install graphviz (and the "
                          "Graphviz programs: apt install graphviz / brew install graphviz). An .svg path needs "
                          "nothing: minigrad draws it itself. mg.viz.to_dot(loss) gives the DOT text.".replace(
                              "{fmt}", fmt)) from None
    if shutil.which("dot") is None:
        raise RuntimeError("mg.viz.render: Graphviz's 'dot' program is not on the PATH; install Graphviz "
                           "(apt install graphviz / brew install graphviz / https://graphviz.org/download/), "
                           "or draw SVG without it: mg.viz.render(loss, 'graph.svg').")
    source = graphviz.Source(to_dot(root, params, title))
    out = source.render(filename=stem, format=fmt, cleanup=True)
    return out


class Graph:
    """The graph behind a tensor, as a picture: `mg.viz.graph(loss)` displays as SVG in Jupyter
    (`_repr_svg_`); `.to_svg()`, `.to_dot()`, `.save("graph.svg")`; `print()` gives a one-line summary."""

    def __init__(self, root, params=None, title=None):
        self.root, self.params, self.title = root, params, title

    def to_dot(self):
        return to_dot(self.root, self.params, self.title)

    def to_svg(self):
        return to_svg(self.root, self.params, self.title)

    def _repr_svg_(self):
        return self.to_svg()

    def save(self, path, engine="auto"):
        """Write the picture to `path` (see `render`); returns the path."""
        return render(self.root, path, self.params, self.title, engine)

    def __repr__(self):
        nodes = graph_nodes(self.root)
        ops = ", ".join(n.op.name for n in nodes[:8]) + (", ..." if len(nodes) > 8 else "")
        return f"<graph of {len(nodes)} op{'s' if len(nodes) != 1 else ''} (in backward order): {ops or 'none'}>"


def graph(root, params=None, title=None):
    """The graph behind `root` (a tensor), for display: shows as a picture in Jupyter. params: a dict name ->
    tensor naming the leaves (e.g. `dict(model.named_parameters())`)."""
    return Graph(root, params, title)


_HTML_MAX_OPS = 400


def tensor_html(t):
    """A tensor in Jupyter: its values as text and, when ops made it, its graph (folded, one click away)."""
    import html
    text = f"<pre>{html.escape(repr(t))}</pre>"
    if t.grad_fn is None:
        return text
    nodes = graph_nodes(t)
    if len(nodes) > _HTML_MAX_OPS:
        return text + (f"<p>graph: {len(nodes)} ops, too many to draw inline; "
                       "<code>mg.viz.graph(t).save('graph.svg')</code> draws it</p>")
    return (text + f"<details><summary>graph: {len(nodes)} op{'s' if len(nodes) != 1 else ''} "
            f"(click to draw)</summary>{to_svg(t)}</details>")


def explain(root, params=None):
    """A text walk of the graph behind `root`, in the order backward visits it: for each op, the rule
    applied, the shapes in and out, the norm of the gradient arriving at its output, where its
    gradients go, and the FLOPs spent forward and backward (norms and FLOPs need
    `mg.trace(grad_norms=True)`)."""
    names = {id(t): n for n, t in (params or {}).items()}
    nodes = graph_nodes(root)
    if not nodes:
        return "explain: this tensor has no graph (it is a leaf, or was computed under no_grad)"
    number = {node: i + 1 for i, node in enumerate(nodes)}
    rows = []
    for node in nodes:
        probe = _probe(node)
        ins = []
        for parent in node.parents:
            if isinstance(parent, Node):
                ins.append(f"#{number[parent]} {parent.op.name}")
            elif parent is not None:
                ins.append(names.get(id(parent)) or parent.name or f"leaf{tuple(parent.shape)}")
        in_shapes = probe.record.in_shapes if probe is not None else \
            [tuple(p.shape) for p in node.parents if p is not None]
        rows.append({
            "step": number[node], "op": node.op.name,
            "shapes": ", ".join(str(tuple(s)) for s in in_shapes) + f" -> {tuple(node.shape)}",
            "rule": _rule_label(node) or node.rule_name(),
            "|dL/dout|": _fmt(probe.norm if probe else None),
            "gradient to": ", ".join(ins) or "-",
            "FLOPs fwd": human(probe.record.flops) if probe else "?",
            "FLOPs bwd": human(probe.backward_flops) if probe else "?",
        })
    table = Table(rows, ["step", "op", "shapes", "rule", "|dL/dout|", "gradient to", "FLOPs fwd", "FLOPs bwd"])
    head = ("backward visits the ops from the output to the inputs; each applies its rule to the gradient "
            "of its output\n(|dL/dout|) and sends one gradient to each input (the chain rule).")
    if all(_probe(n) is None for n in nodes):
        head += "\n(run forward and backward inside `with mg.trace(grad_norms=True):` to see gradient norms and FLOPs)"
    return head + "\n" + table.to_text()


# ---- drawing without Graphviz: a layered layout in pure Python, to SVG ----------------------------------
# The classic recipe (Sugiyama et al. 1981, as Graphviz's dot): put each node on a layer (inputs at the top,
# the output at the bottom), break edges that skip layers into chains of invisible points, order each layer
# to cut crossings (barycentres), then place nodes as close to their neighbours as the layer's order allows
# (least squares under "no overlap": isotonic regression). Text sizes are estimated from character counts,
# so the same graph always gives the same bytes, on any machine, with nothing installed.
_FONT = "Helvetica, Arial, sans-serif"
_NODE_FONT, _EDGE_FONT, _LINE = 12, 10, 15
_CHAR = 0.62  # average glyph width, in font sizes
_RANK_GAP, _NODE_GAP, _MARGIN = 46, 28, 16
_STYLE = {
    "op": {"fill": "#e8eef7", "stroke": "#4a6fa5"},
    "surrogate": {"fill": "#fbe3e3", "stroke": SURROGATE_COLOR},
    "leaf": {"fill": "#eaf5e9", "stroke": "#4a8a4a"},
}


def _xml(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _num(v):
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


def _isotonic(values, weights):
    """The non-decreasing sequence closest to `values` in weighted least squares (pool adjacent violators)."""
    blocks = []  # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks[-1]
            blocks[-1] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
    out = []
    for v, _, n in blocks:
        out += [v] * n
    return out


def _layout(nodes, edges):
    """Positions for the model's nodes: {id: (x, y, width, height)}, the edges' routes (lists of points through
    the invisible points of long edges), and the drawing's size."""
    size = {}
    for n in nodes:
        font = _NODE_FONT
        width = max(len(line) for line in n["lines"]) * font * _CHAR + 18
        height = len(n["lines"]) * _LINE + 10
        if n["kind"] == "leaf":
            width, height = width * 1.12 + 8, height + 8
        size[n["id"]] = (width, height)
    parents = {n["id"]: [] for n in nodes}
    children = {n["id"]: [] for n in nodes}
    for e in edges:
        parents[e["dst"]].append(e["src"])
        children[e["src"]].append(e["dst"])
    # layers: longest path from the inputs; a leaf sits just above its first consumer
    rank = {}
    order = [n["id"] for n in nodes]

    def rank_of(v, stack=()):
        if v not in rank:
            ops = [p for p in parents[v]]
            rank[v] = 0 if not ops else 1 + max(rank_of(p) for p in ops)
        return rank[v]
    import sys
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(nodes) + 1000))
    try:
        for v in order:
            rank_of(v)
    finally:
        sys.setrecursionlimit(limit)
    for n in nodes:
        if n["kind"] == "leaf" and children[n["id"]]:
            rank[n["id"]] = min(rank[c] for c in children[n["id"]]) - 1
    # long edges become chains through invisible points, one per layer crossed
    chains, up, down = [], {v: [] for v in order}, {v: [] for v in order}
    dummies = 0
    for e in edges:
        chain = [e["src"]]
        for r in range(rank[e["src"]] + 1, rank[e["dst"]]):
            d = f"_d{dummies}"
            dummies += 1
            rank[d], size[d] = r, (8, _LINE)
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(e["dst"])
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)
    layers = [[] for _ in range(max(rank.values()) + 1)]
    # first order: depth first from the output, parents in argument order
    seen = set()
    start = [v for v in order if not children[v]]
    stack = list(reversed(start))
    visit = []
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        visit.append(v)
        stack.extend(reversed(up[v]))
    for v in visit + [v for v in rank if v not in seen]:
        layers[rank[v]].append(v)
    layers = [sorted(layer, key=lambda v: visit.index(v) if v in seen else len(visit)) for layer in layers]

    def position():
        return {v: i for layer in layers for i, v in enumerate(layer)}

    def crossings():
        pos, total = position(), 0
        for layer in layers:
            pairs = [(pos[a], pos[b]) for a in layer for b in down[a]]
            total += sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
                         if (a1 - a2) * (b1 - b2) < 0)
        return total
    best, best_layers = crossings(), [list(layer) for layer in layers]
    for sweep in range(8):
        pos = position()
        rows = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for r in rows:
            near = up if sweep % 2 == 0 else down
            bary = {v: (sum(pos[u] for u in near[v]) / len(near[v]) if near[v] else pos[v]) for v in layers[r]}
            layers[r] = sorted(layers[r], key=lambda v: (bary[v], pos[v]))
            pos = position()
        c = crossings()
        if c < best:
            best, best_layers = c, [list(layer) for layer in layers]
    layers = best_layers
    # x: as close to the neighbours as possible, without overlaps (isotonic regression per layer)
    x = {}
    for layer in layers:
        left = 0.0
        for v in layer:
            x[v] = left + size[v][0] / 2
            left += size[v][0] + _NODE_GAP
    for sweep in range(24):
        rows = range(len(layers)) if sweep % 2 == 0 else range(len(layers) - 1, -1, -1)
        for r in rows:
            layer = layers[r]
            want, weight = [], []
            for v in layer:
                near = (up[v] + down[v]) if sweep >= 20 else (up[v] if sweep % 2 == 0 else down[v]) or up[v] + down[v]
                want.append(sum(x[u] for u in near) / len(near) if near else x[v])
                weight.append(4.0 if v.startswith("_d") else 1.0)
            offsets, acc = [], 0.0
            for i, v in enumerate(layer):
                if i:
                    acc += (size[layer[i - 1]][0] + size[v][0]) / 2 + (_NODE_GAP if not v.startswith("_d") or
                                                                    not layer[i - 1].startswith("_d") else 10)
                offsets.append(acc)
            fitted = _isotonic([w - o for w, o in zip(want, offsets)], weight)
            for v, f, o in zip(layer, fitted, offsets):
                x[v] = f + o
    shift = _MARGIN - min(x[v] - size[v][0] / 2 for v in x)
    x = {v: value + shift for v, value in x.items()}
    y, top = {}, _MARGIN
    heights = [max(size[v][1] for v in layer) if layer else 0 for layer in layers]
    for r, layer in enumerate(layers):
        for v in layer:
            y[v] = top + heights[r] / 2
        top += heights[r] + _RANK_GAP
    width = max(x[v] + size[v][0] / 2 for v in x) + _MARGIN
    height = top - _RANK_GAP + _MARGIN
    boxes = {v: (x[v], y[v], size[v][0], size[v][1]) for v in x}
    return boxes, chains, width, height


def to_svg(root, params=None, title=None):
    """The graph behind `root` drawn as SVG text, by a layered layout in pure Python (no Graphviz needed).

    What it shows is what `to_dot` shows: ops (boxes) with output shape, dtype and, when traced, FLOPs;
    leaves (ellipses) named from `params`; arrows from each input to the op that uses it (the forward
    direction: backward sends gradients back along them), labelled with the norm of the gradient that
    crossed them (after a backward under `mg.trace(grad_norms=True)`). Gradients made by a surrogate rule
    are dashed, red, and named. Deterministic: the same graph gives the same bytes."""
    nodes, edges = _model(root, params)
    if not nodes:
        width, height = 2 * _MARGIN, 2 * _MARGIN
        nodes_by_id, boxes, chains = {}, {}, []
    else:
        boxes, chains, width, height = _layout(nodes, edges)
        nodes_by_id = {n["id"]: n for n in nodes}
    import hashlib
    tag = hashlib.sha1(to_dot(root, params, title).encode()).hexdigest()[:8]
    head = 0
    if title:
        head = _LINE + 10
    legend = ["arrows: forward, from each input to the op that uses it; backward sends gradients back along them"]
    if any(e["label"] for e in edges if not e["surrogate"]) or any(len(e["label"]) > 1 for e in edges):
        legend.append("|g|: the norm of the gradient of the tensor an arrow carries (summed over its uses)")
    if any(e["surrogate"] for e in edges):
        legend.append("red, dashed: a gradient made by a surrogate rule (a straight-through estimator), named")
    graph_width = width
    width = max([width, len(title or "") * 14 * _CHAR + 2 * _MARGIN] +
                [len(line) * _EDGE_FONT * _CHAR + 2 * _MARGIN for line in legend])
    dx = (width - graph_width) / 2
    total_height = height + head + len(legend) * (_EDGE_FONT + 4) + 6
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(total_height)}" '
           f'viewBox="0 0 {_num(width)} {_num(total_height)}" font-family="{_FONT}">',
           "<defs>"]
    for name, color in (("a", "#555555"), ("s", SURROGATE_COLOR)):
        out.append(f'<marker id="mg-{tag}-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="white"/>')
    if title:
        out.append(f'<text x="{_num(width / 2)}" y="{_num(_MARGIN + 8)}" text-anchor="middle" font-size="14" '
                   f'font-weight="bold">{_xml(title)}</text>')
    out.append(f'<g transform="translate({_num(dx)},{_num(head)})">')
    # edges first, so nodes sit on top of them; ports spread along each node's edge
    into = {}
    outof = {}
    for i, chain in enumerate(chains):
        into.setdefault(chain[-1], []).append(i)
        outof.setdefault(chain[0], []).append(i)

    def port(node, members, i, side):
        cx, cy, w, h = boxes[node]
        members = sorted(members, key=lambda j: (boxes[chains[j][1 if side > 0 else -2]][0], j))
        k, n = members.index(i), len(members)
        step = min(18.0, w / (n + 1))
        px = cx + (k - (n - 1) / 2) * step
        if nodes_by_id.get(node, {}).get("kind") == "leaf":  # on the ellipse
            rx, ry = w / 2, h / 2
            t = max(-0.95, min(0.95, (px - cx) / rx))
            return px, cy + side * ry * (1 - t * t) ** 0.5
        return px, cy + side * h / 2

    labels = []
    for i, (chain, e) in enumerate(zip(chains, edges)):
        pts = [port(chain[0], outof[chain[0]], i, +1)] + [boxes[d][:2] for d in chain[1:-1]] + \
              [port(chain[-1], into[chain[-1]], i, -1)]
        d = f"M{_num(pts[0][0])},{_num(pts[0][1])}"
        for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
            my = (y1 + y2) / 2
            d += f" C{_num(x1)},{_num(my)} {_num(x2)},{_num(my)} {_num(x2)},{_num(y2)}"
        color = SURROGATE_COLOR if e["surrogate"] else "#555555"
        dash = ' stroke-dasharray="5,3"' if e["surrogate"] else ""
        sw = "1.6" if e["surrogate"] else "1.1"
        out.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{sw}"{dash} '
                   f'marker-end="url(#mg-{tag}-{"s" if e["surrogate"] else "a"})"/>')
        if e["label"]:
            (x1, y1), (x2, y2) = pts[0], pts[1]
            labels.append(((x1 + x2) / 2 + 5, (y1 + y2) / 2, e["label"], color))
    for cx, cy, lines, color in labels:
        w = max(len(s) for s in lines) * _EDGE_FONT * _CHAR + 4
        h = len(lines) * (_EDGE_FONT + 2) + 2
        out.append(f'<rect x="{_num(cx - 2)}" y="{_num(cy - h / 2)}" width="{_num(w)}" height="{_num(h)}" '
                   f'fill="white" fill-opacity="0.85"/>')
        for k, line in enumerate(lines):
            ty = cy - h / 2 + (k + 1) * (_EDGE_FONT + 2) - 2
            out.append(f'<text x="{_num(cx)}" y="{_num(ty)}" font-size="{_EDGE_FONT}" fill="{color}">{_xml(line)}</text>')
    for n in nodes:
        cx, cy, w, h = boxes[n["id"]]
        if n["kind"] == "op":
            st = _STYLE["surrogate" if n["surrogate"] else "op"]
            dash = ' stroke-dasharray="5,3"' if n["surrogate"] else ""
            out.append(f'<rect x="{_num(cx - w / 2)}" y="{_num(cy - h / 2)}" width="{_num(w)}" height="{_num(h)}" '
                       f'rx="6" fill="{st["fill"]}" stroke="{st["stroke"]}"{dash}/>')
        elif n["kind"] == "leaf":
            st = _STYLE["leaf"]
            out.append(f'<ellipse cx="{_num(cx)}" cy="{_num(cy)}" rx="{_num(w / 2)}" ry="{_num(h / 2)}" '
                       f'fill="{st["fill"]}" stroke="{st["stroke"]}"/>')
        for k, line in enumerate(n["lines"]):
            ty = cy - len(n["lines"]) * _LINE / 2 + (k + 1) * _LINE - 4
            weight = ' font-weight="bold"' if k == 0 and n["kind"] != "output" else ""
            out.append(f'<text x="{_num(cx)}" y="{_num(ty)}" font-size="{_NODE_FONT}" text-anchor="middle"'
                       f'{weight}>{_xml(line)}</text>')
    out.append("</g>")
    for k, line in enumerate(legend):
        out.append(f'<text x="{_MARGIN}" y="{_num(head + height + (k + 1) * (_EDGE_FONT + 4) - 4)}" '
                   f'font-size="{_EDGE_FONT}" fill="#555555">{_xml(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def save_figure(fig, path):
    """Save a matplotlib figure as SVG whose bytes depend only on what it draws (and on matplotlib's version):
    no date in the metadata, ids derived from a fixed salt, text kept as text. So a figure regenerated from the
    same numbers is byte for byte the file that is already there. Returns the path."""
    import matplotlib
    with matplotlib.rc_context({"svg.hashsalt": "minigrad", "svg.fonttype": "none"}):
        fig.savefig(path, format="svg", metadata={"Date": None})
    return path
