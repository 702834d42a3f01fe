"""Section 5: the BNN MLP training step and a Conv2d layer, each three ways (minigrad, NumPy, PyTorch).

BNN MLP (Hubara et al. 2016, "Binarized Neural Networks", at CPU scale, as the `bnn-mlp` recipe):
784-1024-1024-1024-10, batch 100. Each layer: binary weights sign(W) (latent float W clipped to
[-1, 1]), no bias, BatchNorm1d, then sign activation, except after the last layer; the first layer
takes the real-valued input. Both signs use the clipped-identity STE (gradient passes where |.| <= 1,
sign(0) = +1). Mean cross-entropy on the last BatchNorm's output, Adam (lr 1e-2, betas 0.9/0.999,
eps 1e-8), latent weights clipped to [-1, 1] after each step.

Conv2d: 16 -> 32 channels, 3x3, padding 1, bias, on a (32, 16, 32, 32) float32 input that requires
grad; forward, then backward of a fixed upstream gradient (input, weight and bias gradients).
"""
import numpy as np

import minigrad as mg
from harness import fmt_time, interleaved, paired_ratio, probe, rounds_for
from mlp import _has

BNN_SIZES, BNN_BATCH, BNN_LR = (784, 1024, 1024, 1024, 10), 100, 1e-2
EPS_BN, MOMENTUM_BN = 1e-5, 0.1
BETAS, EPS_ADAM = (0.9, 0.999), 1e-8
CONV = dict(n=32, c_in=16, c_out=32, hw=32, k=3, pad=1)


# ---- BNN: hand-written NumPy -------------------------------------------------------------------------
def _sign(a):
    """+1 where a >= 0, else -1, in a's dtype: 2 [a >= 0] - 1 (a boolean-mask assignment or np.where with
    scalars computes the same an order of magnitude slower)."""
    out = (a >= 0).astype(a.dtype)
    out *= 2
    out -= 1
    return out


class _Adam:
    """Adam (Kingma & Ba 2015) on a list of float32 arrays, in place."""

    def __init__(self, params, lr):
        self.params, self.lr, self.t = params, np.float32(lr), 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        b1, b2 = BETAS
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            g *= g
            g *= 1 - b2
            v += g
            denom = np.sqrt(v / np.float32(c2))       # sqrt(v_hat)
            denom += np.float32(EPS_ADAM)
            p -= (self.lr / np.float32(c1)) * m / denom


class NumpyBNN:
    def __init__(self, weights):
        self.W = [W.copy() for W in weights]
        self.gamma = [np.ones(W.shape[0], np.float32) for W in weights]
        self.beta = [np.zeros(W.shape[0], np.float32) for W in weights]
        self.rmean = [np.zeros(W.shape[0], np.float32) for W in weights]
        self.rvar = [np.ones(W.shape[0], np.float32) for W in weights]
        self.opt = _Adam(self.W + self.gamma + self.beta, BNN_LR)

    def step(self, x, y, stop=None):
        """Forward, backward, Adam and clipping; stop='forward' / 'backward' end early (time breakdown)."""
        n, L = len(x), len(self.W)
        inputs, signs, xhats, invs, masks = [x], [], [], [], []
        a = x
        for i in range(L):
            Wb = _sign(self.W[i])
            h = a @ Wb.T
            mu, var = h.mean(axis=0), h.var(axis=0)
            self.rmean[i] *= 1 - MOMENTUM_BN
            self.rmean[i] += MOMENTUM_BN * mu
            self.rvar[i] *= 1 - MOMENTUM_BN
            self.rvar[i] += (MOMENTUM_BN * n / (n - 1)) * var
            inv = 1 / np.sqrt(var + np.float32(EPS_BN))
            h -= mu
            h *= inv
            z = h * self.gamma[i] + self.beta[i]
            signs.append(Wb), xhats.append(h), invs.append(inv)
            if i < L - 1:
                masks.append(np.abs(z) <= 1)
                a = _sign(z)
                inputs.append(a)
        # softmax cross-entropy on z
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = -np.log(z[rows, y]).mean()
        if stop == "forward":
            return loss
        z[rows, y] -= 1
        z /= n
        dz = z
        gW, ggamma, gbeta = [None] * L, [None] * L, [None] * L
        for i in range(L - 1, -1, -1):
            xhat = xhats[i]
            gbeta[i] = dz.sum(axis=0)
            ggamma[i] = (dz * xhat).sum(axis=0)
            # batch-norm backward: dh = gamma inv / n (n dz - sum dz - xhat sum(dz xhat))
            dh = dz * n
            dh -= gbeta[i]
            dh -= xhat * ggamma[i]
            dh *= self.gamma[i] * invs[i] / n
            gW[i] = dh.T @ inputs[i]
            gW[i] *= np.abs(self.W[i]) <= 1           # weight STE
            if i > 0:
                dz = dh @ signs[i]
                dz *= masks[i - 1]                     # activation STE
        if stop == "backward":
            return loss
        self.opt.step(gW + ggamma + gbeta)
        for W in self.W:
            np.clip(W, -1, 1, out=W)
        return loss

    def loss(self, x, y):
        return self.step(x, y, stop="forward")

    def forward_backward(self, x, y):
        return self.step(x, y, stop="backward")


# ---- BNN: minigrad ------------------------------------------------------------------------------
def bnn_available():
    """(True, None) when the minigrad BNN's parts exist, else (False, what is missing)."""
    for module, names in (("minigrad.nn", ("BinaryLinear", "BatchNorm1d", "Sign", "Sequential")),
                          ("minigrad.nn.functional", ("cross_entropy",)), ("minigrad.optim", ("Adam",))):
        ok, why = _has(module, *names)
        if not ok:
            return ok, why
    return True, None


class MinigradBNN:
    """The same network from mg.nn (as `minigrad.cli.bnn_mlp` builds it), F.cross_entropy and mg.optim.Adam;
    the weights' WeightClip constraint clips them after each step."""

    def __init__(self, weights):
        import minigrad.nn as nn
        import minigrad.optim as optim
        layers = []
        for i, W in enumerate(weights):
            lin = nn.BinaryLinear(W.shape[1], W.shape[0], bias=False)
            with mg.no_grad():
                lin.weight.copy_(W)
            layers += [lin, nn.BatchNorm1d(W.shape[0], eps=EPS_BN, momentum=MOMENTUM_BN)]
            if i < len(weights) - 1:
                layers.append(nn.Sign())
        self.model = nn.Sequential(*layers)
        self.opt = optim.Adam(self.model.parameters(), lr=BNN_LR, betas=BETAS, eps=EPS_ADAM)

    def loss(self, x, y):
        import minigrad.nn.functional as F
        return F.cross_entropy(self.model(x), y)

    def forward_backward(self, x, y):
        self.opt.zero_grad()
        loss = self.loss(x, y)
        loss.backward()
        return loss

    def step(self, x, y):
        loss = self.forward_backward(x, y)
        self.opt.step()
        return loss


# ---- BNN: PyTorch eager ---------------------------------------------------------------------------
def torch_bnn(weights):
    import torch

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            # +1 where x >= 0 (sign(0) = +1, -0.0 too), -1 elsewhere: 1 - 2 max(sign(-x), 0).
            # torch.where(x >= 0, 1.0, -1.0) gives the same values, ~10x slower on this CPU build.
            return torch.sign(-x).clamp_(min=0).mul_(-2).add_(1)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (x.abs() <= 1)

    class BinaryLinear(torch.nn.Module):
        def __init__(self, W):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.from_numpy(W.copy()))

        def forward(self, x):
            return torch.nn.functional.linear(x, SignSTE.apply(self.weight))

    class Sign(torch.nn.Module):
        def forward(self, x):
            return SignSTE.apply(x)

    layers = []
    for i, W in enumerate(weights):
        layers += [BinaryLinear(W), torch.nn.BatchNorm1d(W.shape[0], eps=EPS_BN, momentum=MOMENTUM_BN)]
        if i < len(weights) - 1:
            layers.append(Sign())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=BNN_LR, betas=BETAS, eps=EPS_ADAM)
    binary = [m.weight for m in layers if isinstance(m, BinaryLinear)]

    class Stepper:
        def step(self, x, y):
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for W in binary:
                    W.clamp_(-1, 1)
            return loss
    return Stepper()


def bnn(rep, torch, scale):
    rep.line(f"-- BNN MLP {'-'.join(map(str, BNN_SIZES))}, batch {BNN_BATCH}, Adam lr {BNN_LR}, float32")
    rng = np.random.default_rng(0)
    weights = [rng.uniform(-1, 1, (o, i)).astype(np.float32) for i, o in zip(BNN_SIZES[:-1], BNN_SIZES[1:])]
    x = rng.standard_normal((BNN_BATCH, BNN_SIZES[0])).astype(np.float32)
    y = rng.integers(0, BNN_SIZES[-1], BNN_BATCH)
    contenders = {"numpy": (NumpyBNN(weights), x, y)}
    ok, why = bnn_available()
    if ok:
        contenders["minigrad"] = (MinigradBNN(weights), mg.tensor(x), mg.tensor(y))
    if torch:
        contenders["torch"] = (torch_bnn(weights), torch.from_numpy(x), torch.from_numpy(y))
    losses = {k: [m.step(xx, yy).item() for _ in range(2)] for k, (m, xx, yy) in contenders.items()}
    rep.line("same math: losses of the first two steps from the same weights: "
             + ", ".join(f"{k} {a:.5f} {b:.5f}" for k, (a, b) in losses.items()))
    fns = {k: (lambda m=m, xx=xx, yy=yy: m.step(xx, yy)) for k, (m, xx, yy) in contenders.items()}
    per_call = probe(fns["numpy"])
    times = interleaved(fns, rounds=rounds_for(per_call * len(fns), scale(15, 2), lo=8, hi=scale(60, 10)))
    _throughput_table(rep, times, BNN_BATCH, "numpy")
    if not ok:
        rep.unavailable("BNN MLP step, minigrad", why)
        return
    breakdown(rep, contenders, times)
    if torch:
        rep.check("BNN MLP step time, minigrad / torch eager", paired_ratio(times, "minigrad", "torch"), 0.6)
    else:
        rep.unavailable("BNN MLP step vs torch", "PyTorch is not installed", "skipped")


def _throughput_table(rep, times, batch, reference):
    for name, t in times.items():
        ratio = "" if name == reference else (f"   time ratio to {reference}: {paired_ratio(times, name, reference):.3f}"
                                              f" (of minima {np.min(t) / np.min(times[reference]):.3f})")
        rep.line(f"{name:<8}  median {fmt_time(np.median(t)):>10}  ({batch / np.median(t):8.0f} samples/s)   "
                 f"min {fmt_time(np.min(t)):>10}{ratio}")


# ---- Conv2d -----------------------------------------------------------------------------------------
class NumpyConv:
    """im2col via sliding_window_view, one matmul; backward: two matmuls and col2im over the KxK offsets."""

    def __init__(self, W, b, pad):
        self.W, self.b, self.pad = W, b, pad

    def forward_backward(self, x, gy):
        o, c, kh, kw = self.W.shape
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        n, _, hp, wp = xp.shape
        oh, ow = hp - kh + 1, wp - kw + 1
        win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))   # (N, C, OH, OW, KH, KW)
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)    # copy
        Wm = self.W.reshape(o, -1)
        y = (Wm @ cols).reshape(o, n, oh, ow).transpose(1, 0, 2, 3) + self.b.reshape(1, o, 1, 1)
        # backward
        gm = gy.transpose(1, 0, 2, 3).reshape(o, -1)                                   # (O, N*OH*OW)
        gW = (gm @ cols.T).reshape(self.W.shape)
        gb = gy.sum(axis=(0, 2, 3))
        gcols = (Wm.T @ gm).reshape(c, kh, kw, n, oh, ow)
        gxp = np.zeros((n, c, hp, wp), x.dtype)
        for i in range(kh):
            for j in range(kw):
                gxp[:, :, i:i + oh, j:j + ow] += gcols[:, i, j].transpose(1, 0, 2, 3)
        gx = gxp[:, :, p:hp - p, p:wp - p]
        return y, gx, gW, gb


def conv(rep, torch, scale):
    n, ci, co, hw, k, pad = (CONV[key] for key in ("n", "c_in", "c_out", "hw", "k", "pad"))
    rep.line(f"-- Conv2d({ci}, {co}, {k}x{k}, padding={pad}) forward + backward on a ({n}, {ci}, {hw}, {hw}) "
             "float32 input that requires grad")
    ok, why = _has("minigrad.nn", "Conv2d")
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(ci * k * k)
    W = rng.uniform(-bound, bound, (co, ci, k, k)).astype(np.float32)
    b = rng.uniform(-bound, bound, co).astype(np.float32)
    x = rng.standard_normal((n, ci, hw, hw)).astype(np.float32)
    gy = rng.standard_normal((n, co, hw, hw)).astype(np.float32)
    ref = NumpyConv(W, b, pad)
    fns = {"numpy": lambda: ref.forward_backward(x, gy)}
    results = {"numpy": ref.forward_backward(x, gy)}
    if ok:
        layer = mg.nn.Conv2d(ci, co, k, padding=pad)
        with mg.no_grad():
            layer.weight.copy_(W)
            layer.bias.copy_(b)
        xm, gym = mg.tensor(x, requires_grad=True), mg.tensor(gy)

        def mg_step():
            xm.grad = layer.weight.grad = layer.bias.grad = None
            y = layer(xm)
            y.backward(gym)
            return y.data, xm.grad.data, layer.weight.grad.data, layer.bias.grad.data
        fns["minigrad"] = mg_step
        results["minigrad"] = mg_step()
    if torch:
        tl = torch.nn.Conv2d(ci, co, k, padding=pad)
        with torch.no_grad():
            tl.weight.copy_(torch.from_numpy(W))
            tl.bias.copy_(torch.from_numpy(b))
        xt, gyt = torch.tensor(x, requires_grad=True), torch.from_numpy(gy)

        def torch_step():
            xt.grad = tl.weight.grad = tl.bias.grad = None
            y = tl(xt)
            y.backward(gyt)
            return y.detach().numpy(), xt.grad.numpy(), tl.weight.grad.numpy(), tl.bias.grad.numpy()
        fns["torch"] = torch_step
        results["torch"] = torch_step()
    worst = max(float(np.max(np.abs(a - r) / (1 + np.abs(r)))) for name, res in results.items()
                for a, r in zip(res, results["numpy"]))
    rep.line(f"same math: output and the three gradients agree across contenders to {worst:.1e} (relative)")
    per_call = probe(fns["numpy"])
    times = interleaved(fns, rounds=rounds_for(per_call * len(fns), scale(15, 2), lo=8, hi=scale(60, 10)))
    _throughput_table(rep, times, n, "numpy")
    if not ok:
        rep.unavailable("Conv2d forward+backward, minigrad", why)
    elif torch:
        rep.check("Conv2d forward+backward, minigrad / torch eager", paired_ratio(times, "minigrad", "torch"), 1.2)
    else:
        rep.unavailable("Conv2d vs torch", "PyTorch is not installed", "skipped")


def run(rep, torch, args, scale, breakdown_fn):
    global breakdown
    breakdown = breakdown_fn
    bnn(rep, torch, scale)
    conv(rep, torch, scale)
