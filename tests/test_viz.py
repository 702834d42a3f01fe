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
        viz.render(loss, str(tmp_path / "graph.svg"))
