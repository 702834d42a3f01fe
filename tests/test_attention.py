"""Attention, what the op table (tests/op_rows_attention.py) cannot express: nn.MultiheadAttention against PyTorch's
module (parameter names, shapes and initialisation, so state_dicts move both ways; outputs and gradients for every
argument form), dropout, the errors, and the costs the tracer counts against torch.utils.flop_counter."""
import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.tensor import default_rng

torch = pytest.importorskip("torch")
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

rng = np.random.default_rng(14)


def t(a, grad=True):
    return torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")


def m(a, grad=True):
    return mg.tensor(a, requires_grad=grad and a.dtype.kind == "f")


def twins(**kwargs):
    """A PyTorch MultiheadAttention (float64) and a minigrad one holding its weights."""
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(dtype=torch.float64, **kwargs)
    ours = mg.nn.MultiheadAttention(dtype=np.float64, **kwargs)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return theirs, ours


CONFIGS = [
    ({"embed_dim": 8, "num_heads": 2}, {}, "self"),
    ({"embed_dim": 8, "num_heads": 2}, {"need_weights": False}, "self-no-weights"),
    ({"embed_dim": 8, "num_heads": 4, "batch_first": True}, {"average_attn_weights": False}, "batch-first-per-head"),
    ({"embed_dim": 8, "num_heads": 2, "bias": False}, {"attn_mask": "causal", "is_causal": True}, "no-bias-causal"),
    ({"embed_dim": 8, "num_heads": 2}, {"attn_mask": "causal", "is_causal": True, "need_weights": False}, "causal-sdpa"),
    ({"embed_dim": 8, "num_heads": 2, "kdim": 3, "vdim": 5}, {"key_padding_mask": "bool"}, "kdim-vdim-padding"),
    ({"embed_dim": 8, "num_heads": 2, "add_bias_kv": True, "add_zero_attn": True},
     {"key_padding_mask": "bool", "attn_mask": "3d"}, "bias-kv-zero-attn"),
    ({"embed_dim": 8, "num_heads": 2, "batch_first": True}, {"key_padding_mask": "float", "attn_mask": "float",
                                                             "need_weights": False}, "float-masks"),
]


def _inputs(cfg, kw, batch, cross, unbatched=False):
    e, heads = cfg["embed_dim"], cfg["num_heads"]
    kdim, vdim = cfg.get("kdim", e), cfg.get("vdim", e)
    L, S, N = 4, (6 if cross else 4), 3
    shape = (lambda n, d: (n, d)) if unbatched else \
        ((lambda n, d: (N, n, d)) if cfg.get("batch_first") else (lambda n, d: (n, N, d)))
    q = rng.standard_normal(shape(L, e))
    k, v = (rng.standard_normal(shape(S, kdim)), rng.standard_normal(shape(S, vdim))) if cross else (q, q)
    extra = {}
    for name, kind in kw.items():
        if name == "key_padding_mask":
            pad = rng.random((N, S)) > 0.6
            pad[:, 0] = False
            extra[name] = pad if kind == "bool" else np.where(pad, -3.0, 0.0)
        elif name == "attn_mask":
            if kind == "causal":
                extra[name] = np.triu(np.ones((L, S), bool), 1)
            elif kind == "3d":
                mask = rng.random((N * heads, L, S)) > 0.7
                mask[..., 0] = False
                extra[name] = mask
            else:
                extra[name] = rng.standard_normal((L, S))
        else:
            extra[name] = kind
    return q, k, v, extra


@pytest.mark.parametrize("cfg, kw, label", CONFIGS, ids=[c[2] for c in CONFIGS])
@pytest.mark.parametrize("cross", [False, True], ids=["same", "cross"])
def test_multihead_attention_matches_torch(cfg, kw, label, cross):
    if not cross and ("kdim" in cfg or "add_bias_kv" in cfg):
        cross = True  # these need key and value of their own
    theirs, ours = twins(**cfg)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    q, k, v, extra = _inputs(cfg, kw, 3, cross)
    tq = t(q)
    tk, tv = (t(k), t(v)) if cross else (tq, tq)
    mq = m(q)
    mk, mv = (m(k), m(v)) if cross else (mq, mq)
    textra = {n: (t(x, grad=False) if isinstance(x, np.ndarray) else x) for n, x in extra.items()}
    with sdpa_kernel(SDPBackend.MATH):
        t_out, t_w = theirs(tq, tk, tv, **textra)
    m_out, m_w = ours(mq, mk, mv, **extra)
    np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert (m_w is None) == (t_w is None)
    if t_w is not None:
        np.testing.assert_allclose(m_w.numpy(), t_w.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(t_out.shape)
    (t_out * t(g, False)).sum().backward()
    (m_out * m(g, False)).sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
    for a, b in zip((mq, mk, mv), (tq, tk, tv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_unbatched_input_and_double_backward_match_torch():
    theirs, ours = twins(embed_dim=6, num_heads=3)
    x = rng.standard_normal((5, 6))
    tx, mx = t(x), m(x)
    t_out, _ = theirs(tx, tx, tx)
    m_out, _ = ours(mx, mx, mx)
    assert m_out.shape == (5, 6)
    tg, = torch.autograd.grad(t_out.pow(2).sum(), tx, create_graph=True)
    mg_, = mg.grad((m_out ** 2).sum(), mx, create_graph=True)
    np.testing.assert_allclose(mg_.numpy(), tg.detach().numpy(), rtol=1e-9)
    t2 = torch.autograd.grad(tg.sum(), theirs.in_proj_weight)[0]
    m2 = mg.grad(mg_.sum(), ours.in_proj_weight)[0]
    np.testing.assert_allclose(m2.numpy(), t2.numpy(), rtol=1e-8, atol=1e-12)


def test_initialisation_is_pytorchs():
    mg.manual_seed(0)
    e = 64
    layer = mg.nn.MultiheadAttention(e, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (e + 3 * e))  # xavier_uniform_ of the (3E, E) packed weight
    w = layer.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not layer.in_proj_bias.numpy().any() and not layer.out_proj.bias.numpy().any()
    assert np.abs(layer.out_proj.weight.numpy()).max() <= 1 / np.sqrt(e)  # a Linear's own initialisation
    # xavier_normal_ of a (1, 1, E) tensor: fan_in = E, fan_out = E: std sqrt(2 / (2E))
    both = np.concatenate([layer.bias_k.numpy().ravel(), layer.bias_v.numpy().ravel()])
    assert 0.6 / np.sqrt(e) < both.std() < 1.4 / np.sqrt(e)
    separate = mg.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert separate.in_proj_weight is None and separate.in_proj_bias is None and separate.out_proj.bias is None
    assert [n for n, _ in separate.named_parameters()] == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                                          "out_proj.weight"]
    assert repr(separate) == repr(torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False))


def test_state_dict_moves_both_ways():
    theirs, ours = twins(embed_dim=8, num_heads=2, kdim=4, vdim=4, add_bias_kv=True)
    mg.manual_seed(3)
    fresh = mg.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True, dtype=np.float64)
    fresh.load_state_dict(ours.state_dict())
    back = copy.deepcopy(theirs)
    back.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fresh.state_dict().items()})
    for k, v in back.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), theirs.state_dict()[k].numpy())


def test_fully_masked_query_zeros_in_sdpa_nan_in_weights_as_pytorch():
    q, k, v = rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 5, 4)), rng.standard_normal((1, 5, 2))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(m(q), m(k), m(v), attn_mask=mask)
    assert not out.numpy()[0, 1].any() and np.isfinite(out.numpy()).all()
    out.sum().backward()  # the dead row sends no gradient, and no nan
    theirs, ours = twins(embed_dim=4, num_heads=1)
    x = rng.standard_normal((3, 1, 4))
    blocked = np.zeros((3, 3), bool)
    blocked[2] = True
    with np.errstate(invalid="ignore"):  # -inf - -inf: the nan PyTorch gives too
        _, w = ours(m(x), m(x), m(x), attn_mask=blocked)
    _, tw = theirs(t(x), t(x), t(x), attn_mask=torch.from_numpy(blocked))
    assert np.isnan(w.numpy()[0, 2]).all() and np.isnan(tw.detach().numpy()[0, 2]).all()


# ---- dropout -----------------------------------------------------------------------------------------------
def test_sdpa_dropout_drops_attention_weights_with_the_seeded_generator():
    q, k, v = (m(rng.standard_normal(s)) for s in ((2, 4, 3), (2, 6, 3), (2, 6, 5)))
    p = 0.4
    mg.manual_seed(7)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    mg.manual_seed(7)
    keep = default_rng().random((2, 4, 6)) >= p  # what F.dropout draws
    weights = F.softmax(q @ k.mT / np.sqrt(3), dim=-1).numpy()
    np.testing.assert_allclose(out.numpy(), (weights * keep / (1 - p)) @ v.numpy(), rtol=1e-12)
    assert np.allclose(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy(), weights @ v.numpy())
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().any()


def test_multihead_dropout_only_in_training_mode():
    layer = mg.nn.MultiheadAttention(8, 2, dropout=0.5, dtype=np.float64)
    x = m(rng.standard_normal((4, 2, 8)))
    layer.eval()
    a, _ = layer(x, x, x)
    b, _ = layer(x, x, x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    layer.train()
    c, w = layer(x, x, x, average_attn_weights=False)
    assert not np.allclose(c.numpy(), a.numpy())
    assert np.isclose(w.numpy(), 0).mean() > 0.2  # the weights returned are the dropped ones, as PyTorch's


# ---- errors: PyTorch's exception classes -------------------------------------------------------------------
def _same_error(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)):
        fn(mg)


def _bool(L):
    return L.bool if L is torch else np.bool_


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.scaled_dot_product_attention(L.ones(2, 3), L.ones(2, 3), L.ones(2, 3),
                                                            attn_mask=L.ones(2, 2, dtype=_bool(L)), is_causal=True),
    lambda L: L.nn.functional.scaled_dot_product_attention(L.ones(3), L.ones(2, 3), L.ones(2, 3)),
    lambda L: L.nn.functional.scaled_dot_product_attention(L.ones(2, 3), L.ones(2, 3), L.ones(2, 3, dtype=L.float64)),
    lambda L: L.nn.functional.scaled_dot_product_attention(L.ones(2, 3), L.ones(2, 3), L.ones(2, 3),
                                                            attn_mask=L.ones(2, 2, dtype=L.int64)),
    lambda L: L.nn.functional.scaled_dot_product_attention(L.ones(1, 4, 2, 3), L.ones(1, 3, 2, 3), L.ones(1, 3, 2, 3),
                                                            enable_gqa=True),
    lambda L: L.nn.MultiheadAttention(6, 4),
    lambda L: L.nn.MultiheadAttention(0, 1),
    lambda L: L.nn.MultiheadAttention(4, 2)(L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), is_causal=True),
    lambda L: L.nn.MultiheadAttention(4, 2)(L.ones(1, 3, 2, 4), L.ones(1, 3, 2, 4), L.ones(1, 3, 2, 4)),
    lambda L: L.nn.MultiheadAttention(4, 2)(L.ones(3, 2, 4), L.ones(3, 2, 4), L.ones(3, 2, 4),
                                            attn_mask=L.ones(3, 4, dtype=_bool(L))),
], ids=["causal-and-mask", "1-d", "dtypes", "int-mask", "gqa-heads", "heads", "zero", "causal-no-mask", "4-d",
        "mask-shape"])
def test_errors_are_pytorchs(case):
    _same_error(case)


# ---- costs: the tracer against torch.utils.flop_counter ---------------------------------------------------
def _torch_flops(fn):
    with FlopCounterMode(display=False) as fc:
        out = fn()
    return fc.get_total_flops(), out


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"attn_mask": "bool"}, {"scale": 0.5}],
                         ids=["plain", "causal", "mask", "scale"])
def test_sdpa_costs_equal_the_flop_counter_forward_and_backward(kwargs):
    B, H, L, S, E, Ev = 2, 3, 5, 7, 4, 6
    shapes = ((B, H, L, E), (B, H, S, E), (B, H, S, Ev))
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if kwargs.get("attn_mask") == "bool":
        kwargs = {"attn_mask": rng.random((L, S)) > 0.3}
    tq, tk, tv = (t(a) for a in arrays)
    tkw = {n: (torch.from_numpy(x) if isinstance(x, np.ndarray) else x) for n, x in kwargs.items()}
    t_fwd, t_out = _torch_flops(lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw))
    t_bwd, _ = _torch_flops(lambda: t_out.sum().backward())
    with mg.trace() as tr:
        out = F.scaled_dot_product_attention(*(m(a) for a in arrays), **kwargs)
        out.sum().backward()
    assert t_fwd == 2 * B * H * L * S * (E + Ev)  # Q K^T and the product with V, one MAC = 2 FLOPs
    assert tr.flops("forward", "dot") == t_fwd and tr.macs("forward") == t_fwd // 2
    assert tr.flops("backward", "dot") == t_bwd
    # the softmax is counted apart, as minigrad's softmax declares (4 FLOPs per score: max, exp, sum, divide)
    assert sum(r.flops for r in tr.select(phase="forward", name="softmax")) == 4 * B * H * L * S
    assert not tr.uncounted()


def test_multihead_attention_costs_equal_the_flop_counter():
    theirs, ours = twins(embed_dim=8, num_heads=2)
    theirs, ours = theirs.float(), mg.nn.MultiheadAttention(8, 2)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((5, 3, 8)).astype(np.float32)
    tx = t(x)
    t_fwd, (t_out, _) = _torch_flops(lambda: theirs(tx, tx, tx))
    t_bwd, _ = _torch_flops(lambda: t_out.sum().backward())
    with mg.trace() as tr:
        out, _ = ours(m(x), m(x), m(x))
        out.sum().backward()
    assert tr.flops("forward", "dot") == t_fwd and tr.flops("backward", "dot") == t_bwd
    # without the weights PyTorch runs a fused kernel its counter does not see: only the projections
    t_fused, _ = _torch_flops(lambda: theirs(tx, tx, tx, need_weights=False))
    with mg.trace() as tr:
        ours(m(x), m(x), m(x), need_weights=False)
    L, N, E = x.shape
    assert tr.flops("forward", "dot") == t_fused + 2 * 2 * N * L * L * E  # + Q K^T and A V over the heads
