"""Embedding: a table of learned vectors looked up by integer index."""

from __future__ import annotations

from typing import Any

from chainrule import random as _random
from chainrule.backend import xp
from chainrule.nn import init
from chainrule.nn._checks import layer_dtype
from chainrule.nn.functional import embedding
from chainrule.nn.module import Module, Parameter
from chainrule.tensor import changing

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each index ``i``, as
    ``torch.nn.Embedding``: initialized N(0, 1); the row ``padding_idx`` starts at
    zero and gets no gradient. Indices must be integers in [0, num_embeddings).

    >>> import numpy as np, chainrule as cr
    >>> emb = cr.nn.Embedding(10, 3)
    >>> emb(np.array([[1, 2], [4, 9]])).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        for what, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Embedding: {what} must be a positive int, got {value!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        dt = layer_dtype(dtype, "Embedding")
        self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=dt))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """N(0, 1), with the padding row zero."""
        init.normal_(self.weight, generator=_random.generator(generator))
        if self.padding_idx is not None:
            with changing(self.weight) as data:
                data[self.padding_idx] = 0.0

    def forward(self, indices: Any) -> Any:
        try:
            return embedding(indices, self.weight, self.padding_idx)
        except (TypeError, IndexError) as err:
            message = str(err).replace("embedding: ", "")
            raise type(err)(f"{self.describe()}: {message}") from None

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"
