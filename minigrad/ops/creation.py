"""Creation functions: empty, full_like, linspace, logspace, randint, randperm, ..."""

__all__ = []
METHODS = {}
