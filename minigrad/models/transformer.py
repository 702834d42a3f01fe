"""A small decoder-only transformer (GPT: Radford et al. 2018/2019; minGPT's layout) and its BitNet b1.58 twin.

    tokens -> embedding + positions -> n_layers x [x + attention(norm(x)), x + mlp(norm(x))] -> norm -> head

Each block is pre-norm: causal multi-head self-attention (F.scaled_dot_product_attention, is_causal=True) and a
two-layer MLP (4x wide, GPT-2's tanh approximation of GELU). `ternary=True` makes every linear layer inside the blocks a BitLinear (ternary
weights, 8-bit activations: Ma et al. 2024) and leaves the rest as it is: the embeddings, norms and output head
stay in float, as BitNet keeps its input and output embeddings in high precision (Wang et al. 2023). The two
models are otherwise the same, so their accuracies and costs compare the quantization alone.
"""
import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor, arange

__all__ = ["CausalSelfAttention", "Block", "DecoderTransformer", "generate", "sequence_accuracy", "sequence_loss"]


def _linear(ternary):
    if ternary:
        return lambda i, o: nn.BitLinear(i, o)
    return lambda i, o: nn.Linear(i, o, bias=False)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t only: one (fused) projection to queries,
    keys and values, F.scaled_dot_product_attention(is_causal=True) per head, one output projection."""

    def __init__(self, d_model, n_heads, ternary=False):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"CausalSelfAttention: d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        linear = _linear(ternary)
        self.qkv, self.proj = linear(d_model, 3 * d_model), linear(d_model, d_model)

    def _heads(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x.reshape(b * t, d))  # the linear layers see 2-D inputs: one matrix product each way
        return qkv.reshape(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)  # q, k, v

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self._heads(x)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)      # (b, heads, t, d / heads)
        return self.proj(y.transpose(1, 2).reshape(b * t, d)).reshape(b, t, d)

    def weights(self, x):
        """The attention weights softmax(Q K^T / sqrt(head dim) + causal mask), (b, heads, t, t): row i says how
        much position i takes from each position j <= i."""
        q, k, _ = self._heads(x)
        scores = q @ k.mT * (1 / np.sqrt(q.shape[-1]))
        future = np.triu(np.ones(scores.shape[-2:], bool), 1)
        return F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)


class Block(nn.Module):
    """x + attention(norm(x)), then x + mlp(norm(x)) (pre-norm, as GPT-2)."""

    def __init__(self, d_model, n_heads, ternary=False):
        super().__init__()
        linear = _linear(ternary)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, ternary)
        self.mlp = nn.Sequential(linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"), linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x).reshape(-1, x.shape[-1])).reshape(x.shape)


class DecoderTransformer(nn.Module):
    """Token ids (B, T) -> next-token logits (B, T, vocab_size), T <= block_size.

    positions: 'learned' (an Embedding of block_size rows, GPT) or 'sinusoidal' (fixed, Vaswani et al. 2017)."""

    def __init__(self, vocab_size, block_size, d_model=64, n_layers=2, n_heads=4, ternary=False, positions="learned"):
        super().__init__()
        if positions not in ("learned", "sinusoidal"):
            raise ValueError(f"DecoderTransformer: positions must be 'learned' or 'sinusoidal', not {positions!r}")
        self.vocab_size, self.block_size, self.ternary, self.positions = vocab_size, block_size, ternary, positions
        self.tok = nn.Embedding(vocab_size, d_model)
        if positions == "learned":
            self.pos = nn.Embedding(block_size, d_model)
        else:
            self.register_buffer("pos_table", F.sinusoidal_positions(block_size, d_model))
        self.blocks = nn.Sequential(*[Block(d_model, n_heads, ternary) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def embed(self, idx):
        """Token embeddings plus positions, (B, T, d_model)."""
        idx = idx if isinstance(idx, Tensor) else Tensor(np.asarray(idx))
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"DecoderTransformer: a sequence of {t} tokens is longer than block_size "
                             f"{self.block_size}")
        return self.tok(idx) + (self.pos(arange(t)) if self.positions == "learned" else self.pos_table[:t])

    def forward(self, idx):
        return self.head(self.norm(self.blocks(self.embed(idx))))

    def attention_maps(self, idx):
        """The attention weights of every layer for the token ids `idx`: a list of (B, heads, T, T) arrays."""
        maps = []
        with no_grad():
            x = self.embed(idx)
            for block in self.blocks:
                maps.append(block.attn.weights(block.norm1(x)).numpy())
                x = block(x)
        return maps

    def extra_repr(self):
        return f"ternary={self.ternary}, positions={self.positions!r}"


def sequence_loss(logits, targets, ignore_index=-1):
    """Mean cross-entropy of next-token logits (B, T, V) against targets (B, T), skipping ignore_index."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_index)


def generate(model, prompts, steps):
    """Greedy decoding: append the most likely next token `steps` times to each prompt (B, P); returns the
    (B, steps) tokens generated. Eval mode, no graph."""
    was_training = model.training
    model.eval()
    idx = np.asarray(prompts, np.int64)
    with no_grad():
        for _ in range(steps):
            logits = model(Tensor(idx[:, -model.block_size:]))
            idx = np.concatenate([idx, logits.data[:, -1].argmax(axis=-1)[:, None]], axis=1)
    model.train(was_training)
    return idx[:, -steps:]


def sequence_accuracy(model, task, split="test", batch_size=1000):
    """Exact-sequence accuracy: the fraction of prompts whose generated answer is the right one, every token."""
    prompts, answers = task.prompts(split), task.answers(split)
    right = 0
    for start in range(0, len(prompts), batch_size):
        got = generate(model, prompts[start:start + batch_size], task.answer_length)
        right += int(np.all(got == answers[start:start + batch_size], axis=1).sum())
    return right / max(len(prompts), 1)
