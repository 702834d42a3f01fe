"""Op-table rows of the matrix-product family (minigrad/ops/linalg.py): einsum in all its forms, the BLAS-style
products, the scaled-and-added family, tensordot, kron, matrix_power and the Tensor methods. (matmul's row is in
tests/op_table.py.)"""
from op_table import OpInfo, fixed, noncontiguous, uniform


def _rows(name, fn, *samples, **kwargs):
    return OpInfo(name, fn, fixed(*samples), **kwargs)


def _einsum(m, *xs, eq):
    return m.einsum(eq, *xs)


def _eq(eq, *shapes, label=None, contiguous=True):
    """A sample of einsum(eq) on operands of these shapes."""
    def make(r):
        xs = tuple(uniform(r, s) if contiguous else noncontiguous(uniform(r, s)) for s in shapes)
        return xs, {"eq": eq}, label or eq
    return make


def _method(m, x, *others, name, **kwargs):
    return getattr(x, name)(*others, **kwargs)


def _call(name, *shapes, low=-2.0, high=2.0, **kwargs):
    """A sample of the Tensor method `name` on operands of these shapes."""
    return lambda r: (tuple(uniform(r, s, low, high) for s in shapes), {"name": name, **kwargs}, name)


OPS = [
    # einsum: one row per kind of equation
    _rows("einsum_matmul", _einsum,
          _eq("ij,jk->ik", (2, 3), (3, 4)),
          _eq("ij,jk", (2, 3), (3, 4), label="implicit"),
          _eq("bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
          _eq("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4), label="attention"),
          _eq("ijk,jil->kl", (2, 3, 4), (3, 2, 5), label="permuted"),
          _eq("ij,jk->ik", (0, 3), (3, 2), label="empty"),
          _eq("ij,jk->ik", (3, 3), (3, 2), label="noncontig", contiguous=False)),
    _rows("einsum_one_operand", _einsum,
          _eq("ij->j", (2, 3)),
          _eq("ij->", (2, 3)),
          _eq("ij->ji", (2, 3), label="transpose"),
          _eq("ii->i", (3, 3), label="diagonal"),
          _eq("ii", (3, 3), label="trace"),
          _eq("iij->ji", (3, 3, 2), label="diagonal-3d"),
          _eq("", (), label="0-d")),
    _rows("einsum_products", _einsum,
          _eq("i,i->", (3,), (3,), label="dot"),
          _eq("i,j->ij", (3,), (4,), label="outer"),
          _eq("ij,ij->ij", (2, 3), (2, 3), label="hadamard"),
          _eq(",i->i", (), (3,), label="0-d"),
          _eq("ij,jk->i", (2, 3), (3, 4), label="sum-first"),
          _eq("iji,j->i", (3, 2, 3), (2,), label="diagonal")),
    _rows("einsum_broadcast", _einsum,
          _eq("...ij,...jk->...ik", (4, 1, 2, 3), (5, 3, 2), label="ellipsis"),
          _eq("...ij,...jk", (4, 1, 2, 3), (5, 3, 2), label="ellipsis-implicit"),
          _eq("i...->...", (2, 3, 4), label="ellipsis-one"),
          _eq("ij,ij->", (2, 1), (2, 3), label="size-1"),
          _eq("ij,ij->ij", (2, 1), (2, 3), label="size-1-kept"),
          _eq("b...,b...->b", (2, 3, 1), (2, 1, 4), label="ellipsis-size-1")),
    _rows("einsum_many", _einsum,
          _eq("ij,jk,kl->il", (2, 3), (3, 4), (4, 2), label="chain"),
          _eq("ii,ij,jk->k", (3, 3), (3, 4), (4, 2), label="diagonal"),
          _eq("abc,cd,b->ad", (2, 3, 4), (4, 2), (3,), label="sum-late"),
          _eq("i,i,i->", (3,), (3,), (3,), label="triple-dot"),
          _eq("i,j,k->ijk", (2,), (3,), (2,), label="outer")),
    _rows("einsum_forms", lambda m, *xs, form: form(m, *xs),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 4))), {"form": lambda m, a, b: m.einsum("ij,jk", [a, b])},
                     "list"),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 4))),
                     {"form": lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2])}, "sublist"),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 4))),
                     {"form": lambda m, a, b: m.einsum(a, [..., 1], b, [1, 2])}, "sublist-ellipsis")),
    # the BLAS-style products
    _rows("mm", lambda m, a, b: m.mm(a, b),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 4))), {}, "2-d"),
          lambda r: ((uniform(r, (0, 3)), uniform(r, (3, 2))), {}, "empty"),
          lambda r: ((uniform(r, (2, 0)), uniform(r, (0, 3))), {}, "empty-inner"),
          lambda r: ((noncontiguous(uniform(r, (3, 3))), noncontiguous(uniform(r, (3, 2)))), {}, "noncontig")),
    _rows("bmm", lambda m, a, b: m.bmm(a, b),
          lambda r: ((uniform(r, (3, 2, 3)), uniform(r, (3, 3, 4))), {}, "3-d"),
          lambda r: ((uniform(r, (0, 2, 3)), uniform(r, (0, 3, 4))), {}, "empty-batch"),
          lambda r: ((noncontiguous(uniform(r, (2, 3, 3))), uniform(r, (2, 3, 2))), {}, "noncontig")),
    _rows("mv", lambda m, a, v: m.mv(a, v),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3,))), {}, "2-d"),
          lambda r: ((uniform(r, (0, 3)), uniform(r, (3,))), {}, "empty"),
          lambda r: ((uniform(r, (2, 0)), uniform(r, (0,))), {}, "empty-inner"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (4,))), {}, "noncontig")),
    _rows("dot", lambda m, a, b: m.dot(a, b),
          lambda r: ((uniform(r, (5,)), uniform(r, (5,))), {}, "1-d"),
          lambda r: ((uniform(r, (0,)), uniform(r, (0,))), {}, "empty")),
    _rows("vdot", lambda m, a, b: m.vdot(a, b),
          lambda r: ((uniform(r, (5,)), uniform(r, (5,))), {}, "1-d"),
          lambda r: ((uniform(r, (1,)), uniform(r, (1,))), {}, "one")),
    _rows("inner", lambda m, a, b: m.inner(a, b),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (4, 2, 3))), {}, "n-d"),
          lambda r: ((uniform(r, (3,)), uniform(r, (3,))), {}, "1-d"),
          lambda r: ((uniform(r, ()), uniform(r, (2, 3))), {}, "0-d-left"),
          lambda r: ((uniform(r, (2, 3)), uniform(r, ())), {}, "0-d-right"),
          lambda r: ((uniform(r, (0, 3)), uniform(r, (2, 3))), {}, "empty")),
    _rows("outer", lambda m, a, b: m.outer(a, b),
          lambda r: ((uniform(r, (3,)), uniform(r, (2,))), {}, "1-d"),
          lambda r: ((uniform(r, (0,)), uniform(r, (2,))), {}, "empty")),
    _rows("ger", lambda m, a, b: m.ger(a, b), lambda r: ((uniform(r, (3,)), uniform(r, (2,))), {}, "1-d")),
    _rows("tensordot", lambda m, a, b, **k: m.tensordot(a, b, **k),
          lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (3, 4, 2))), {}, "default"),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (4,))), {"dims": 0}, "outer"),
          lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (4, 2))), {"dims": ([2, 0], [0, 1])}, "lists"),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 2))), {"dims": ([1, -2], [0, 1])}, "full-negative"),
          lambda r: ((uniform(r, (2, 1)), uniform(r, (3, 4))), {"dims": ([1], [0])}, "size-1"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (4, 2))), {"dims": 1}, "noncontig")),
    _rows("kron", lambda m, a, b: m.kron(a, b),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 2))), {}, "2-d"),
          lambda r: ((uniform(r, (2,)), uniform(r, (2, 2, 3))), {}, "ranks"),
          lambda r: ((uniform(r, ()), uniform(r, (3,))), {}, "0-d"),
          lambda r: ((uniform(r, (2, 2)), uniform(r, (0, 3))), {}, "empty")),
    _rows("matrix_power", lambda m, a, **k: m.matrix_power(a, k["n"]),
          lambda r: ((uniform(r, (3, 3), -1.0, 1.0),), {"n": 2}, "n=2"),
          lambda r: ((uniform(r, (3, 3), -1.0, 1.0),), {"n": 5}, "n=5"),
          lambda r: ((uniform(r, (2, 3, 3), -1.0, 1.0),), {"n": 6}, "batched"),
          lambda r: ((uniform(r, (3, 3)),), {"n": 1}, "n=1"),
          lambda r: ((uniform(r, (0, 2, 2)),), {"n": 3}, "empty")),
    # beta input + alpha product
    _rows("addmm", lambda m, x, a, b, **k: m.addmm(x, a, b, **k),
          lambda r: ((uniform(r, (2, 4)), uniform(r, (2, 3)), uniform(r, (3, 4))), {}, "default"),
          lambda r: ((uniform(r, (4,)), uniform(r, (2, 3)), uniform(r, (3, 4))), {"beta": 0.5, "alpha": -2.0},
                     "broadcast"),
          lambda r: ((uniform(r, (2, 1)), uniform(r, (2, 3)), uniform(r, (3, 4))), {"beta": 0}, "beta=0"),
          lambda r: ((uniform(r, ()), uniform(r, (2, 0)), uniform(r, (0, 4))), {"alpha": 3}, "empty-inner")),
    _rows("addmv", lambda m, x, a, v, **k: m.addmv(x, a, v, **k),
          lambda r: ((uniform(r, (2,)), uniform(r, (2, 3)), uniform(r, (3,))), {}, "default"),
          lambda r: ((uniform(r, ()), uniform(r, (2, 3)), uniform(r, (3,))), {"beta": 2.0, "alpha": 0.5}, "0-d")),
    _rows("baddbmm", lambda m, x, a, b, **k: m.baddbmm(x, a, b, **k),
          lambda r: ((uniform(r, (2, 2, 4)), uniform(r, (2, 2, 3)), uniform(r, (2, 3, 4))), {}, "default"),
          lambda r: ((uniform(r, (2, 1, 4)), uniform(r, (2, 2, 3)), uniform(r, (2, 3, 4))),
                     {"beta": -1.0, "alpha": 2.0}, "broadcast")),
    _rows("addbmm", lambda m, x, a, b, **k: m.addbmm(x, a, b, **k),
          lambda r: ((uniform(r, (2, 4)), uniform(r, (3, 2, 3)), uniform(r, (3, 3, 4))), {}, "default"),
          lambda r: ((uniform(r, (4,)), uniform(r, (3, 2, 3)), uniform(r, (3, 3, 4))), {"beta": 0.5, "alpha": 1.5},
                     "broadcast"),
          lambda r: ((uniform(r, (2, 4)), uniform(r, (0, 2, 3)), uniform(r, (0, 3, 4))), {}, "empty-batch")),
    # the Tensor methods
    _rows("linalg_methods", _method,
          _call("mm", (2, 3), (3, 2)), _call("bmm", (2, 2, 3), (2, 3, 2)), _call("mv", (2, 3), (3,)),
          _call("dot", (3,), (3,)), _call("vdot", (3,), (3,)), _call("inner", (2, 3), (3,)),
          _call("outer", (2,), (3,))),
    _rows("linalg_methods_scaled", _method,
          _call("addmm", (2, 2), (2, 3), (3, 2), beta=0.5), _call("addmv", (2,), (2, 3), (3,), alpha=2.0),
          _call("baddbmm", (2, 2, 2), (2, 2, 3), (2, 3, 2)), _call("addbmm", (2, 2), (2, 2, 3), (2, 3, 2)),
          _call("ger", (2,), (3,)), _call("kron", (2,), (3,)), _call("matrix_power", (2, 2), low=-1.0, high=1.0, n=3)),
]
