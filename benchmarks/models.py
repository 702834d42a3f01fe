"""Sections 7 and 8: whole course-scale workloads, minigrad against PyTorch eager, each built twice with the same
architecture and the same weights.

7. the BNN MNIST-size epoch (synthetic data of MNIST's shape, 60,000 x 784, 10 classes; the bnn-mlp recipe's
   784-1024x3-10 BNN, batch 100, Adam) and a second derivative (a Hessian-vector product of the small MLP);
8. convolutional networks forward + backward: a CIFAR ResNet-20 (He et al. 2016, section 4.2: 3 stages of 3
   basic blocks, 16/32/64 channels) at batch 32, and a MobileNetV1 (Howard et al. 2017, table 1: 13 depthwise
   separable blocks) on 224 x 224 images.
"""
import numpy as np

import minigrad as mg
from harness import interleaved, paired_ratio, probe, rounds_for


# ---- the BNN MNIST epoch ------------------------------------------------------------------------------------
def bnn(lib, weights):
    """The bnn-mlp recipe's network (layers.py's, for one library): binary linear, batch norm, sign, ..."""
    nn = lib.nn
    layers = []
    for i, W in enumerate(weights):
        out_f, in_f = W.shape
        if lib is mg:
            lin = nn.BinaryLinear(in_f, out_f)
        else:
            lin = _TorchBinaryLinear(lib, in_f, out_f)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(W) if lib is not mg else mg.tensor(W))
        layers += [lin, nn.BatchNorm1d(out_f)]
        if i < len(weights) - 1:
            layers.append(nn.Sign() if lib is mg else _TorchSign(lib))
    return nn.Sequential(*layers)


def _torch_sign_fn(torch):
    class SignSTE(torch.autograd.Function):
        """sign(x) with sign(0) = +1 forward; hardtanh STE backward (1 where |x| <= 1)."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (x.abs() <= 1).to(g.dtype)
    return SignSTE


def _TorchSign(torch):
    sign = _torch_sign_fn(torch)

    class Sign(torch.nn.Module):
        def forward(self, x):
            return sign.apply(x)
    return Sign()


def _TorchBinaryLinear(torch, in_f, out_f):
    sign = _torch_sign_fn(torch)

    class BinaryLinear(torch.nn.Linear):
        def forward(self, x):
            return torch.nn.functional.linear(x, sign.apply(self.weight))
    return BinaryLinear(in_f, out_f, bias=False)


def bnn_epoch(rep, torch, args, scale):
    sizes, batch, n = (784, 1024, 1024, 1024, 10), 100, scale(60_000, 3_000)
    rng = np.random.default_rng(0)
    weights = [rng.uniform(-1, 1, (o, i)).astype(np.float32) * 0.1 for i, o in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((n, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], n)
    libs = {"minigrad": mg}
    if torch:
        libs["torch"] = torch
    runs = {}
    for name, lib in libs.items():
        model = bnn(lib, weights)
        params = list(model.parameters())
        opt = lib.optim.Adam(params, lr=1e-2)
        clip = [m.weight for m in model if type(m).__name__ == "BinaryLinear"]
        xs = [lib.tensor(x[i:i + batch]) if lib is mg else torch.from_numpy(x[i:i + batch]) for i in range(0, n, batch)]
        ys = [mg.tensor(y[i:i + batch]) if lib is mg else torch.from_numpy(y[i:i + batch]) for i in range(0, n, batch)]

        def chunk(start, stop, lib=lib, model=model, opt=opt, xs=xs, ys=ys, clip=clip):
            F = lib.nn.functional
            for b in range(start, stop):
                opt.zero_grad()
                F.cross_entropy(model(xs[b]), ys[b]).backward()
                opt.step()
                with lib.no_grad():
                    for w in clip:
                        w.clamp_(-1, 1)
        runs[name] = chunk
    steps = n // batch
    per = max(1, steps // 10)  # ten interleaved chunks, so both meet the same load
    totals = {k: 0.0 for k in runs}
    import harness
    for start in range(0, steps, per):
        for name, chunk in (runs.items() if (start // per) % 2 == 0 else reversed(list(runs.items()))):
            t0 = harness.clock()
            chunk(start, min(steps, start + per))
            totals[name] += harness.clock() - t0
    rep.line(f"-- BNN {'-'.join(map(str, sizes))}, batch {batch}, Adam, one epoch of {n} synthetic MNIST-shaped "
             f"samples ({steps} steps), in {len(range(0, steps, per))} interleaved chunks")
    for name, total in totals.items():
        rep.line(f"{name:<8}  epoch {total:7.2f} s   ({n / total:8.0f} samples/s)")
    if torch:
        rep.check("BNN MNIST-size epoch, minigrad / torch eager", totals["minigrad"] / totals["torch"], 0.8)
    else:
        rep.unavailable("BNN epoch ratio to torch", "PyTorch is not installed", "skipped")


# ---- a second derivative: Hessian-vector product of the small MLP ---------------------------------------------
def hvp(rep, torch, args, scale):
    sizes, batch = (784, 128, 10), 64
    rng = np.random.default_rng(0)
    W1, W2 = ((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:]))
    b1, b2 = (np.zeros(o, np.float32) for o in sizes[1:])
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    v = [rng.standard_normal(a.shape).astype(np.float32) for a in (W1, b1, W2, b2)]

    def make(lib):
        wrap = (lambda a: mg.tensor(a, requires_grad=True)) if lib is mg else \
            (lambda a: torch.tensor(a, requires_grad=True))
        params = [wrap(a) for a in (W1, b1, W2, b2)]
        vs = [mg.tensor(a) if lib is mg else torch.from_numpy(a) for a in v]
        xx = mg.tensor(x) if lib is mg else torch.from_numpy(x)
        yy = mg.tensor(y) if lib is mg else torch.from_numpy(y)
        grad = mg.grad if lib is mg else torch.autograd.grad
        F = lib.nn.functional

        def run():
            w1, c1, w2, c2 = params
            loss = F.cross_entropy(F.linear(F.gelu(F.linear(xx, w1, c1)), w2, c2), yy)
            gs = grad(loss, params, create_graph=True)
            dot = sum((g * u).sum() for g, u in zip(gs, vs))
            return grad(dot, params)
        return run
    fns = {"minigrad": make(mg)}
    if torch:
        fns["torch"] = make(torch)
    got = [h.numpy() for h in fns["minigrad"]()]
    if torch:
        want = [h.detach().numpy() for h in fns["torch"]()]
        worst = max(float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-12)) for a, b in zip(got, want))
        rep.line(f"same math: the Hessian-vector products agree to {worst:.1e} (relative)")
    per_call = probe(fns["minigrad"])
    inner = max(1, int(5e-3 / per_call))
    times = interleaved(fns, rounds=rounds_for(per_call, scale(10, 2), inner, lo=8, hi=scale(80, 10)), inner=inner)
    rep.line(f"-- Hessian-vector product of the MLP {'-'.join(map(str, sizes))} (gelu), batch {batch}: "
             "grad of (grad(loss) . v), create_graph=True")
    rep.timing_table(times, "minigrad")
    if torch:
        rep.check("second derivative (HVP of the small MLP), minigrad / torch eager",
                  paired_ratio(times, "minigrad", "torch"), 1.0)


# ---- convolutional networks ------------------------------------------------------------------------------------
def resnet20(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.short = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)) \
                if stride != 1 or c_in != c_out else None

        def forward(self, x):
            h = self.bn1(self.conv1(x)).relu()
            h = self.bn2(self.conv2(h))
            return (h + (x if self.short is None else self.short(x))).relu()

    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    c = 16
    for stage, width in enumerate((16, 32, 64)):
        for i in range(3):
            layers.append(Block(c, width, 2 if (i == 0 and stage > 0) else 1))
            c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def mobilenet_v1(lib, classes=1000):
    nn = lib.nn

    def dw_separable(c_in, c_out, stride):
        return [nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False), nn.BatchNorm2d(c_in),
                nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    layers = [nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
        [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    for c_in, c_out, stride in plan:
        layers += dw_separable(c_in, c_out, stride)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, classes)]
    return nn.Sequential(*layers)


def _same_weights(mg_model, torch_model, torch):
    params = dict(mg_model.named_parameters())
    with torch.no_grad():
        for name, p in torch_model.named_parameters():
            p.copy_(torch.from_numpy(params[name].numpy()))


def convnets(rep, torch, args, scale):
    cases = [("ResNet-20 (CIFAR), batch 32", resnet20, (32, 3, 32, 32), 1.3),
             ("MobileNetV1, 224x224, batch 1", mobilenet_v1, (1, 3, 224, 224), 1.3)]
    for label, build, shape, target in cases:
        mg.manual_seed(0)
        model = build(mg)
        x_np = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        fns = {}
        x = mg.tensor(x_np, requires_grad=True)

        def mg_step(model=model, x=x):
            model.zero_grad()
            x.grad = None
            model(x).sum().backward()
        fns["minigrad"] = mg_step
        if torch:
            tmodel = build(torch)
            _same_weights(model, tmodel, torch)
            tx = torch.tensor(x_np, requires_grad=True)

            def torch_step(tmodel=tmodel, tx=tx):
                tmodel.zero_grad()
                tx.grad = None
                tmodel(tx).sum().backward()
            fns["torch"] = torch_step
        per_call = probe(fns["minigrad"])
        times = interleaved(fns, rounds=rounds_for(per_call, scale(20, 2), 1, lo=3, hi=scale(15, 3)), inner=1)
        rep.line(f"-- {label}: forward + backward (train mode)")
        rep.timing_table(times, "minigrad")
        if torch:
            rep.check(f"{label.split(',')[0]} fwd+bwd, minigrad / torch eager", paired_ratio(times, "minigrad", "torch"),
                      target)
