"""The gradient-flow view: DOT text valid (structurally, and with `dot` when it is installed), shapes,
FLOPs and gradient norms on the graph, surrogate gradients drawn apart, explain() in backward order."""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz

NODE = re.compile(r'^\s*(\w+) \[(.*)\];$')
EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[(.*)\];$')


def parse_dot(text):
    """A structural check of the DOT we emit: one statement a line, nodes declared before use (or at
    least somewhere), quotes closed, braces balanced. Returns (nodes: id -> attrs, edges)."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph minigrad {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        unescaped = re.sub(r'\\.', "", line)
        assert unescaped.count('"') % 2 == 0, f"unclosed quote in {line!r}"
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := NODE.match(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = m.group(2)
        else:
            assert line.strip().endswith(";"), f"not a statement: {line!r}"
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} uses an undeclared node"
    return nodes, edges


def _graph(trace=True):
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = mg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def run():
        h = x @ w
        s = mg.ste.sign(h, surrogate=mg.ste.ApproxSign())
        loss = (s * h).sum()
        loss.backward(retain_graph=True)
        return h, s, loss
    if trace:
        with mg.trace(grad_norms=True) as tr:
            h, s, loss = run()
    else:
        tr, (h, s, loss) = None, run()
    return x, w, h, s, loss, tr


def test_dot_is_valid_and_shows_ops_shapes_and_flops():
    x, w, h, s, loss, tr = _graph()
    text = viz.to_dot(loss, params={"x": x, "w": w})
    nodes, edges = parse_dot(text)
    ops = [a for a in nodes.values() if "shape=box" in a]
    assert len(ops) == len(viz.graph_nodes(loss)) == 4       # matmul, sign, mul, sum
    matmul = next(a for a in ops if a.startswith('label="matmul'))
    assert "(4, 2) float64" in matmul and "FLOPs 48 fwd / 96 bwd" in matmul
    assert any('label="x\\n(4, 3) float64"' in a for a in nodes.values())
    name = {k: v.split("\\n")[0][len('label="'):] for k, v in nodes.items()}
    assert sorted((name[a], name[b]) for a, b, _ in edges) == [
        ("matmul", "mul"), ("matmul", "sign"), ("mul", "sum"), ("sign", "mul"), ("sum", "output"),
        ("w", "matmul"), ("x", "matmul")]
    if shutil.which("dot"):  # the real parser too, when Graphviz is installed
        run = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True)
        assert run.returncode == 0, run.stderr.decode()


def test_edges_carry_gradient_norms():
    x, w, h, s, loss, tr = _graph()
    nodes, edges = parse_dot(viz.to_dot(loss, params={"x": x, "w": w}))
    # dL/dh = s + (surrogate part through sign): read it straight from the engine
    gh, = mg.grad(loss, [h], retain_graph=True)
    labels = [attrs for a, b, attrs in edges if a == next(k for k, v in nodes.items() if v.startswith('label="matmul'))]
    assert labels and all(f"|g|={np.linalg.norm(gh.numpy()):.4g}" in a for a in labels)
    leaf_x = next(k for k, v in nodes.items() if v.startswith('label="x\\n'))
    x_edge, = [attrs for a, b, attrs in edges if a == leaf_x]
    assert f"|g|={np.linalg.norm(x.grad.numpy()):.4g}" in x_edge


def test_surrogate_gradients_are_drawn_apart_and_named():
    x, w, h, s, loss, tr = _graph()
    nodes, edges = parse_dot(viz.to_dot(loss))
    sign_id = next(k for k, v in nodes.items() if v.startswith('label="sign'))
    assert "dashed" in nodes[sign_id] and "ApproxSign" in nodes[sign_id]
    into_sign = [attrs for a, b, attrs in edges if b == sign_id]
    assert into_sign and all("style=dashed" in a and "ApproxSign" in a for a in into_sign)
    others = [attrs for a, b, attrs in edges if b != sign_id]
    assert others and not any("dashed" in a for a in others)


def test_without_trace_the_structure_still_shows():
    x, w, h, s, loss, tr = _graph(trace=False)
    nodes, edges = parse_dot(viz.to_dot(loss))
    assert len([a for a in nodes.values() if "shape=box" in a]) == 4
    assert not any("|g|=" in a for a, b, c in edges if a.startswith("op"))
    assert "run forward and backward inside" in viz.explain(loss)


def test_explain_walks_in_backward_order():
    x, w, h, s, loss, tr = _graph()
    text = mg.explain(loss, params={"x": x, "w": w})
    rows = [line.split("|") for line in text.splitlines() if re.match(r"^\d+\s+\|", line)]
    assert [r[1].strip() for r in rows] == ["sum", "mul", "sign", "matmul"]
    sign = rows[2]
    assert sign[3].strip() == "ApproxSign()" and sign[2].strip() == "(4, 2) -> (4, 2)"
    gh, = mg.grad(loss, [h], retain_graph=True)
    assert float(rows[3][4]) == pytest.approx(np.linalg.norm(gh.numpy()), rel=1e-3)
    assert rows[3][5].strip() == "x, w"
    assert rows[0][4].strip() == "1"  # the seed gradient of a scalar loss


def test_graph_nodes_order_puts_consumers_first():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a.exp()
    c = (a + b).sum()
    order = viz.graph_nodes(c)
    pos = {n.op.name: i for i, n in enumerate(order)}
    assert pos["sum"] < pos["add"] < pos["exp"] < pos["mul"]
    assert viz.graph_nodes(x) == []


def test_render_without_graphviz_is_a_clear_error(monkeypatch, tmp_path):
    x, w, h, s, loss, tr = _graph()
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if it were not installed
    with pytest.raises(ImportError, match="pip install graphviz"):
        viz.render(loss, str(tmp_path / "graph.png"))
    with pytest.raises(ValueError, match="draws SVG only"):
        viz.render(loss, str(tmp_path / "graph.png"), engine="python")
    # SVG needs nothing: minigrad lays the graph out itself
    path = viz.render(loss, str(tmp_path / "graph.svg"))
    assert open(path).read() == viz.to_svg(loss)


def _svg_tree(text):
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    return root, ns


def test_svg_shows_what_dot_shows():
    x, w, h, s, loss, tr = _graph()
    svg = viz.to_svg(loss, params={"x": x, "w": w}, title="a <graph> & more")
    root, ns = _svg_tree(svg)
    texts = [t.text for t in root.iter(ns + "text")]
    for op in ("matmul", "sign", "mul", "sum", "x", "w", "output"):
        assert op in texts
    assert "a <graph> & more" in texts and "rule: ApproxSign()" in texts
    assert "FLOPs 48 fwd / 96 bwd" in texts
    gh, = mg.grad(loss, [h], retain_graph=True)
    assert f"|g|={np.linalg.norm(gh.numpy()):.4g}" in texts
    paths = [p for p in root.iter(ns + "path") if p.get("marker-end")]
    nodes, edges = parse_dot(viz.to_dot(loss))
    assert len(paths) == len(edges)                          # one arrow per DOT edge
    dashed = [p for p in paths if p.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].get("stroke") == viz.SURROGATE_COLOR  # matmul -> sign
    boxes = [r for r in root.iter(ns + "rect") if r.get("rx")]
    assert len(boxes) == 4 and sum(r.get("stroke-dasharray") is not None for r in boxes) == 1
    assert len(list(root.iter(ns + "ellipse"))) == 2


def test_svg_layout_is_deterministic_and_without_overlaps():
    from minigrad import nn
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Sign(), nn.BinaryLinear(8, 3))
    with mg.trace(grad_norms=True):
        loss = model(mg.randn(5, 4)).sum()
        loss.backward(retain_graph=True)
    a = viz.to_svg(loss, params=dict(model.named_parameters()))
    b = viz.to_svg(loss, params=dict(model.named_parameters()))
    assert a == b
    root, ns = _svg_tree(a)
    boxes = [(float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
             for r in root.iter(ns + "rect") if r.get("rx")]
    boxes += [(float(e.get("cx")) - float(e.get("rx")), float(e.get("cy")) - float(e.get("ry")),
               2 * float(e.get("rx")), 2 * float(e.get("ry"))) for e in root.iter(ns + "ellipse")]
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, "two nodes overlap"
    width = float(root.get("width"))
    assert all(0 <= x and x + w <= width for x, _, w, _ in boxes)


def test_a_deep_graph_lays_out():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(300):
        y = y * 1.0
    svg = viz.to_svg(y.sum())
    assert svg.count("<rect x=") >= 301


def test_graphs_display_in_jupyter():
    x, w, h, s, loss, tr = _graph()
    g = viz.graph(loss, params={"x": x, "w": w})
    assert g._repr_svg_() == viz.to_svg(loss, params={"x": x, "w": w})
    assert repr(g) == "<graph of 4 ops (in backward order): sum, mul, sign, matmul>"
    html = loss._repr_html_()
    assert html.startswith("<pre>tensor(") and "<details>" in html and "<svg" in html
    assert x._repr_html_() is None or "<svg" not in x._repr_html_()  # a leaf: just its values


def test_matplotlib_figures_save_byte_for_byte(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    def draw(path):
        fig = Figure(figsize=(3, 2))
        ax = fig.subplots()
        ax.plot([0, 1, 2], [0, 1, 4], label="x^2")
        ax.legend()
        return viz.save_figure(fig, path)
    a, b = draw(tmp_path / "a.svg"), draw(tmp_path / "b.svg")
    assert open(a, "rb").read() == open(b, "rb").read()
    assert b"<dc:date>" not in open(a, "rb").read() and b"x^2" in open(a, "rb").read()
