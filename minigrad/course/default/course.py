"""minigrad's own course: four modules that follow the tutorials, 27 tasks.

Each task names the file where its markers are; the markers themselves (`# task 1.3: tanh backward` ...
`# end task`) sit in minigrad's source around the reference solution. The tests of each task are in
`tests/` (the students get them) and `hidden/` (they do not), marked `@task("1.3")`.
"""
from minigrad.course import Course, Module, Task

T01 = "tutorials/01-autograd-from-scratch.md"
T02 = "tutorials/02-testing-gradient-rules.md"
T03 = "tutorials/03-straight-through-estimator.md"
T04 = "tutorials/04-binary-networks.md"

MODULES = [
    Module(1, "Autograd: elementwise rules, broadcasting, matmul, the engine", T01,
           "Write the vector-Jacobian products of a few ops, the backward of broadcasting, and the part of the "
           "engine that orders the graph."),
    Module(2, "Testing gradient rules", T02,
           "Write the referees: finite-difference gradient checks of first and second order, a Hypothesis "
           "strategy that keeps away from kinks, and the test factory's mutation and aliasing checks."),
    Module(3, "Straight-through estimators", T03,
           "Exact forwards of hard ops (sign, k-bit quantize) and the surrogate derivatives that let a gradient "
           "through them, up to learned step sizes and clipping levels."),
    Module(4, "Layers and training", T04,
           "A dense layer, dropout, a binary layer, two optimizers and the mini-batches they train on."),
]

TASKS = [
    # ---- 1. autograd -------------------------------------------------------------------------------------
    Task("1.1", "topological order", "minigrad/autograd.py", difficulty="medium", tutorial=f"{T01}, section 6",
         hint="Walk the graph from the start nodes without recursion (a stack): for each node, each parent that is "
              "a Node gets one more incoming edge; a parent seen for the first time starts at 1 and is pushed to "
              "visit later. Leaves (Tensors) and None are not Nodes."),
    Task("1.2", "mul backward", "minigrad/ops/elementwise.py", difficulty="easy", tutorial=f"{T01}, section 4",
         hint="For y = a * b the gradient of a is g * b and the gradient of b is g * a; each one is summed back to "
              "its input's shape with unbroadcast(..., meta_of(a)), and is None when ctx.needs_input_grad says "
              "that input needs none."),
    Task("1.3", "tanh backward", "minigrad/ops/elementwise.py", difficulty="easy", tutorial=f"{T01}, section 4",
         hint="d tanh(a)/da = 1 - tanh(a)^2, and tanh(a) is the op's output y, which the rule receives: no need "
              "to compute tanh again."),
    Task("1.4", "sigmoid backward", "minigrad/ops/elementwise.py", difficulty="easy", tutorial=f"{T01}, section 4",
         hint="With s = sigmoid(a), ds/da = s (1 - s); the rule receives s, the op's output."),
    Task("1.5", "div backward", "minigrad/ops/elementwise.py", difficulty="medium", tutorial=f"{T01}, section 4",
         hint="For y = a / b: dy/da = 1 / b and dy/db = -a / b^2. Multiply by g, sum back to each input's shape "
              "(unbroadcast), and mind the sign."),
    Task("1.6", "unbroadcast", "minigrad/ops/_common.py", difficulty="medium", tutorial=f"{T01}, section 5",
         hint="Broadcasting adds leading axes and stretches axes of size 1. Sum g over the added leading axes and "
              "over every axis where the input had size 1 but g does not (keepdims=True), then reshape to the "
              "input's shape. g.sum(axis=..., keepdims=True) works on arrays and on Tensors alike."),
    Task("1.7", "sum backward", "minigrad/ops/reduce.py", difficulty="medium", tutorial=f"{T01}, section 5",
         hint="Every input element contributes once to its sum, so each gets the upstream gradient of its sum: "
              "reshape g to the kept shape ctx.kept (size 1 on the reduced axes), then xp.broadcast_to the "
              "input's shape ctx.in_shape."),
    Task("1.8", "matmul backward", "minigrad/ops/linalg.py", difficulty="hard", tutorial=f"{T01}, section 4",
         hint="For y = a @ b: da = g @ b^T and db = a^T @ g (use .mT, the transpose of the last two axes). The "
              "1-D cases are already made 2-D for you (a2, b2, g2); sum batch axes back with unbroadcast, then "
              "reshape to a's and b's shapes."),
    # ---- 2. testing rules ----------------------------------------------------------------------------------
    Task("2.1", "central differences", "minigrad/testing/gradcheck.py", difficulty="medium",
         tutorial=f"{T02}, section 2",
         hint="For each entry idx of the input: set x[idx] to orig + eps, evaluate loss(work), set it to orig - eps, "
              "evaluate again, restore orig, and store (plus - minus) / (2 eps) in num[idx]."),
    Task("2.2", "random directions", "minigrad/testing/gradcheck.py", difficulty="medium",
         tutorial=f"{T02}, section 2",
         hint="The directional derivative along a unit direction u is (L(x + eps u) - L(x - eps u)) / (2 eps); the "
              "analytic one is the sum over inputs of vdot(analytic gradient, u). Draw u with rng.standard_normal, "
              "normalise it over all inputs together, and record a row per direction."),
    Task("2.3", "second derivatives", "minigrad/testing/gradcheck.py", difficulty="hard",
         tutorial=f"{T02}, section 2",
         hint="Inside first_order: the checked inputs must be leaves that require grad (detach().requires_grad_() "
              "when they do not), then take mg.grad of the outputs with grad_outputs v and create_graph=True, so "
              "that the gradient can be differentiated again; an input without gradient gets zeros."),
    Task("2.4", "away from kinks", "minigrad/testing/strategies.py", difficulty="easy",
         tutorial=f"{T02}, section 4",
         hint="A value closer than margin to a point p is pushed to p + margin or p - margin (the side it was on); "
              "if that leaves [min_value, max_value], push it to the other side."),
    Task("2.5", "mutation and aliasing checks", "minigrad/testing/factory.py", difficulty="medium",
         tutorial=f"{T02}, section 4",
         hint="After one backward: each input must still equal its original copy (np.array_equal with "
              "equal_nan=True), and each gradient must have its input's shape and dtype and share memory "
              "(np.shares_memory) with no input and no other gradient. Fail with an assert naming the op."),
    # ---- 3. straight-through estimators ---------------------------------------------------------------------
    Task("3.1", "sign forward", "minigrad/ste.py", difficulty="easy", tutorial=f"{T03}, section 1",
         hint="minigrad's straight-through sign is binary: +1 where x >= 0 (so sign(0) = +1), -1 elsewhere, in x's "
              "dtype. _plus_minus_one(mask, x) builds it from a boolean mask."),
    Task("3.2", "clipped surrogate", "minigrad/ste.py", difficulty="easy", tutorial=f"{T03}, section 2",
         hint="The hardtanh STE: derivative 1 where |x| <= clip (|x| < clip when inclusive is False), else 0. "
              "Compute the mask on array_of(x) and return it with _mask(condition, x), in x's dtype and kind."),
    Task("3.3", "ApproxSign surrogate", "minigrad/ste.py", difficulty="easy", tutorial=f"{T03}, section 3",
         hint="Bi-Real Net's derivative is 2 - 2|x| on [-1, 1] and 0 outside; xp.relu of that expression gives both "
              "parts at once, on arrays and on Tensors."),
    Task("3.4", "SwishSign surrogate", "minigrad/ste.py", difficulty="medium", tutorial=f"{T03}, section 3",
         hint="With s = sigmoid(beta x) and r = sigmoid(-beta x) = 1 - s (computed without cancellation), the "
              "derivative is 2 beta s r (2 - beta x (s - r)). Use xp.sigmoid so it also runs on Tensors."),
    Task("3.5", "tanh surrogate", "minigrad/ste.py", difficulty="easy", tutorial=f"{T03}, section 3",
         hint="smooth(x) = tanh(slope x), so the derivative is slope (1 - tanh(slope x)^2); use xp.tanh."),
    Task("3.6", "k-bit quantize", "minigrad/ste.py", difficulty="medium", tutorial=f"{T03}, section 3",
         hint="Forward (DoReFa): n = 2^bits - 1 levels above lo, r = (clip(x, lo, hi) - lo) / (hi - lo), "
              "y = lo + (hi - lo) round(n r) / n in x's dtype; remember in ctx.inside where lo <= x <= hi. "
              "Backward: the gradient passes where inside, and is 0 elsewhere."),
    Task("3.7", "LSQ gradients", "minigrad/ste.py", difficulty="hard", tutorial=f"{T03}, section 3",
         hint="With v = x / s: dy/dx is 1 strictly inside (-Q_N, Q_P) and 0 outside. dy/ds is round(v) - v inside, "
              "-Q_N below and Q_P above, times the gradient scale ctx.grad_scale; sum it back to the step's shape "
              "with unbroadcast. ctx.low and ctx.high say where v was clipped."),
    Task("3.8", "PACT gradients", "minigrad/ste.py", difficulty="medium", tutorial=f"{T03}, section 3",
         hint="PACT passes the gradient to x on [0, alpha] (ctx.inside) and to alpha where x >= alpha (ctx.above), "
              "summed back to alpha's shape with unbroadcast; None for an input that needs no gradient."),
    # ---- 4. layers and training ----------------------------------------------------------------------------
    Task("4.1", "linear layer", "minigrad/nn/functional/dense.py", difficulty="easy", tutorial=f"{T04}, 'A float MLP'",
         hint="y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch; the bias is optional."),
    Task("4.2", "dropout", "minigrad/nn/functional/regularization.py", difficulty="easy",
         tutorial=f"{T04}, 'A float MLP'",
         hint="Inverted dropout: keep each element with probability 1 - p (draw with the generator given, "
              "rng.random(shape) >= p) and scale the kept ones by 1 / (1 - p), so the expected output equals x. "
              "Multiply x by a constant mask (const(..., x.dtype)) so the gradient flows through the same mask."),
    Task("4.3", "binary linear forward", "minigrad/nn/binary.py", difficulty="medium",
         tutorial=f"{T04}, 'A binary MLP: latent weights'",
         hint="Use the binarized weight self.binary_weight() (sign of the latent weight) in F.linear; with "
              "scale='mean' multiply by _channel_scale(self.weight, y, -1); add the bias last if there is one."),
    Task("4.4", "SGD with momentum", "minigrad/optim.py", difficulty="medium", tutorial=f"{T04}, 'A float MLP'",
         hint="Add weight_decay * p to g; with momentum, the buffer starts as a copy of g and afterwards becomes "
              "momentum * buf + (1 - dampening) * g (in place: mul_, add_); Nesterov uses g + momentum * buf, "
              "otherwise buf; finally p -= lr * g (p.sub_(..., alpha=lr))."),
    Task("4.5", "Adam", "minigrad/optim.py", difficulty="medium", tutorial=f"{T04}, 'A float MLP'",
         hint="m <- b1 m + (1 - b1) g and v <- b2 v + (1 - b2) g^2, in place; then "
              "p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t the step count."),
    Task("4.6", "mini-batches", "minigrad/data/__init__.py", difficulty="medium", tutorial=f"{T04}, 'The data'",
         hint="Walk the rows in steps of batch_size, in order or in the order of a permutation drawn once per "
              "epoch; with drop_last, stop before a final short batch. Yield (Tensor(X rows), Tensor(y rows))."),
]

COURSE = Course(
    name="minigrad-default",
    title="minigrad: build an autodiff engine",
    intro=("You will write the heart of a deep-learning framework: gradient rules, the engine that runs them, "
           "the tests that referee them, the straight-through estimators behind binary networks, and the layers "
           "and optimizers that train them."),
    modules=MODULES,
    tasks=TASKS,
)
