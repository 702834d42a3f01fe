"""Indexing ops: index_select, scatter, masked ops, take_along_dim, nonzero, ..."""

__all__ = []
METHODS = {}
