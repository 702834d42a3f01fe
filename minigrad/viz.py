"""The gradient-flow view: the graph behind a tensor as DOT text, as a picture, or as a text walk.

    with mg.trace(grad_norms=True):  # record FLOPs, and the gradient norms during backward
        loss = model(x).sum()
        loss.backward(retain_graph=True)
    print(mg.viz.to_dot(loss))       # DOT text; mg.viz.render(loss, "graph.svg") draws it
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

__all__ = ["to_dot", "render", "explain", "graph_nodes"]

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


def to_dot(root, params=None, title=None):
    """The graph behind `root` as Graphviz DOT text.

    Op nodes (boxes) show the op, its output shape and dtype, and its FLOPs (forward / backward, when
    traced); leaves (ellipses) show their name (from `params`, a dict name -> tensor, e.g.
    `dict(model.named_parameters())`) and shape. Edges point from input to op, labelled with the
    gradient norm after backward; surrogate gradients are dashed, red, and named.
    """
    names = {id(t): n for n, t in (params or {}).items()}
    nodes = graph_nodes(root)
    ids = {node: f"op{i}" for i, node in enumerate(nodes)}
    lines = ["digraph minigrad {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if title:
        lines.append(f'  label="{_esc(title)}"; labelloc="t";')
    leaves = {}
    for node in nodes:
        probe = _probe(node)
        label = [node.op.name, f"{tuple(node.shape)} {node.dtype}"]
        if probe is not None:
            rec = probe.record
            flops = f"FLOPs {human(rec.flops)} fwd / {human(probe.backward_flops)} bwd"
            label.append(flops + (f", BOPs {human(rec.bops)}" if rec.bops else ""))
        surrogate = _rule_label(node)
        style = 'shape=box, style="rounded,filled", fillcolor="#e8eef7"'
        if surrogate:
            label.append(f"rule: {surrogate}")
            style = f'shape=box, style="rounded,filled,dashed", fillcolor="#fbe3e3", color="{SURROGATE_COLOR}"'
        lines.append(f'  {ids[node]} [label="{_esc(chr(10).join(label))}", {style}];')
    for node in nodes:
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
                    lines.append(f'  {src} [label="{_esc(name)}\\n{tuple(parent.shape)} {parent.dtype}", '
                                 'shape=ellipse, style=filled, fillcolor="#eaf5e9"];')
            norm = _norm(parent)
            label = f"|g|={_fmt(norm)}" if norm is not None else ""
            if surrogate:
                label = f"{surrogate}\n{label}" if label else surrogate
                attrs = f'label="{_esc(label)}", style=dashed, ' \
                        f'color="{SURROGATE_COLOR}", fontcolor="{SURROGATE_COLOR}", penwidth=1.5'
            else:
                attrs = f'label="{_esc(label)}"'
            lines.append(f"  {src} -> {ids[node]} [{attrs}];")
    if isinstance(root, Tensor) and nodes:
        lines.append(f'  output [label="output\\n{tuple(root.shape)}", shape=plaintext];')
        norm = _norm(nodes[0])
        lines.append(f'  {ids[nodes[0]]} -> output [label="{"|g|=" + _fmt(norm) if norm is not None else ""}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root, path, params=None, title=None):
    """Draw the graph behind `root` to `path` (the format from its extension: .svg, .png, .pdf).

    Needs the `graphviz` Python package and Graphviz's `dot` program."""
    import os
    import shutil
    try:
        import graphviz
    except ImportError:
        raise ImportError("mg.viz.render needs the 'graphviz' Python package: pip install graphviz (and the "
                          "Graphviz programs: apt install graphviz / brew install graphviz). mg.viz.to_dot(loss) "
                          "gives the DOT text without it.") from None
    if shutil.which("dot") is None:
        raise RuntimeError("mg.viz.render: Graphviz's 'dot' program is not on the PATH; install Graphviz "
                           "(apt install graphviz / brew install graphviz / https://graphviz.org/download/).")
    stem, ext = os.path.splitext(path)
    fmt = ext.lstrip(".") or "svg"
    source = graphviz.Source(to_dot(root, params, title))
    out = source.render(filename=stem, format=fmt, cleanup=True)
    return out


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
