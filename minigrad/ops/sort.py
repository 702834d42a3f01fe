"""Sorting and selection: sort, argsort, topk, kthvalue, median, mode, unique."""

__all__ = []
METHODS = {}
