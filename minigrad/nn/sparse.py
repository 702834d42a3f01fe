"""Lookup layers: Embedding and EmbeddingBag, as PyTorch's (arguments, N(0, 1) initialisation, from_pretrained,
repr). Learned positional embeddings are an Embedding looked up with arange(T); fixed ones are
nn.functional.sinusoidal_positions."""
import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class _Lookup(Module):
    """What Embedding and EmbeddingBag share: the (num_embeddings, embedding_dim) weight, N(0, 1) unless given
    (`_weight`), the padding row zeroed, and the renormalisation options."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                 _weight, _freeze, dtype, rng):
        super().__init__()
        if sparse:
            raise NotImplementedError(f"{type(self).__name__}: sparse=True (sparse gradients) is not supported; "
                                      "minigrad has no sparse tensors: use sparse=False (a dense gradient of the same "
                                      "values)")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise AssertionError(f"{type(self).__name__}: padding_idx must be within num_embeddings "
                                     f"({self.num_embeddings}), got {padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters(rng)
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise AssertionError(f"{type(self).__name__}: the shape of weight {tuple(_weight.shape)} does not match "
                                     f"num_embeddings and embedding_dim ({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight.data if isinstance(_weight, Tensor) else _weight, requires_grad=not _freeze)

    def reset_parameters(self, rng=None):
        init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, **kwargs):
        """A layer whose weight is `embeddings` (2-D, shared, not copied), frozen (no gradient) unless freeze=False.
        The other arguments are the constructor's; the padding row is kept as given."""
        if embeddings.ndim != 2:
            raise AssertionError(f"{cls.__name__}.from_pretrained: embeddings are expected to be 2-dimensional, got "
                                 f"shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        layer = cls(rows, cols, _weight=embeddings, **kwargs)
        layer.weight.requires_grad = not freeze
        return layer

    def _options(self):
        """PyTorch's repr of the renormalisation options: only those not at their defaults."""
        return "".join(f", {name}={value!r}" for name, value, shown in (
            ("max_norm", self.max_norm, self.max_norm is not None), ("norm_type", self.norm_type, self.norm_type != 2),
            ("scale_grad_by_freq", self.scale_grad_by_freq, self.scale_grad_by_freq)) if shown)


class Embedding(_Lookup):
    """A table of num_embeddings vectors of size embedding_dim, looked up by integer indices: (*) -> (*,
    embedding_dim). padding_idx: that row starts at 0 and gets no gradient. max_norm: rows looked up are
    renormalised in place to at most max_norm (norm_type-norm). scale_grad_by_freq: gradients divided by each
    index's frequency in the batch. Initialised N(0, 1), as PyTorch's."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, dtype=np.float32, rng=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, _freeze, dtype, rng)

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq)

    def extra_repr(self):
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}{self._options()}"


class EmbeddingBag(_Lookup):
    """Sums, means (default) or maxima of bags of embeddings (F.embedding_bag): a 2-D input is one bag per row, a
    1-D input is cut into bags at `offsets`; entries equal to padding_idx are left out. Initialised N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 dtype=np.float32, rng=None, _freeze=False):
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', not {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, _freeze, dtype, rng)
        self.mode, self.include_last_offset = mode, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):  # noqa: A002
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, False, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{self._options()}, mode={self.mode!r}{padding}"
