"""Sequence tasks generated from a seed (no download), for decoder-only transformers, as in minGPT's demos
(Karpathy, github.com/karpathy/minGPT: `demo.ipynb` sorts, `projects/adder` adds):

- `sort_task`: a prompt of n digits, the answer the same digits sorted ascending.
  ``7 0 3 3 9 1 | 0 1 3 3 7 9``
- `addition_task`: a + b with d digits each (leading zeros written), the answer c = a + b with d + 1 digits written
  in reverse (least significant first, the order in which carries are computed; minGPT's trick).
  ``4 7 5 8 | 5 0 1``  is 47 + 58 = 105.

A sequence is the prompt followed by the answer; a model reads x = sequence[:-1] and is trained to predict
y = sequence[1:] at the answer's positions only (the prompt's targets are -1, `IGNORE`, which cross_entropy skips
with ignore_index=-1). The held-out test sequences never occur in the training set, so the test accuracy
measures generalisation, not memory.
"""
from typing import NamedTuple

import numpy as np

__all__ = ["SequenceTask", "sort_task", "addition_task", "IGNORE", "TASKS", "load_task"]

IGNORE = -1  # the target of a prompt position: not predicted (cross_entropy(..., ignore_index=IGNORE))


class SequenceTask(NamedTuple):
    """A generated task. X: (N, T) int64 inputs (the sequence without its last token); Y: (N, T) int64 targets
    (the sequence shifted by one, IGNORE on the prompt). A prompt is X[:, :prompt_length]; its answer is
    Y[:, -answer_length:]."""
    name: str
    vocab_size: int
    prompt_length: int
    answer_length: int
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    @property
    def block_size(self):
        """The longest input a model sees: prompt_length + answer_length - 1."""
        return self.prompt_length + self.answer_length - 1

    def prompts(self, split="test"):
        return (self.X_test if split == "test" else self.X_train)[:, :self.prompt_length]

    def answers(self, split="test"):
        return (self.Y_test if split == "test" else self.Y_train)[:, -self.answer_length:]


def _examples(sequences, prompt_length):
    x, y = sequences[:, :-1].copy(), sequences[:, 1:].copy()
    y[:, :prompt_length - 1] = IGNORE
    return x, y


def _task(name, vocab_size, prompt_length, train, test):
    return SequenceTask(name, vocab_size, prompt_length, train.shape[1] - prompt_length,
                        *_examples(train, prompt_length), *_examples(test, prompt_length))


def _split_codes(rng, total, n_train, n_test):
    """n_test distinct codes in [0, total) for the test set and n_train codes (drawn with replacement when the
    space is large, else each remaining one once and then again) that are not in it."""
    if n_test >= total:
        raise ValueError(f"the task has only {total} distinct prompts; ask for fewer than {total} test ones")
    if total <= 4 * (n_train + n_test):  # small space: a permutation, the test set first
        order = rng.permutation(total)
        test, rest = order[:n_test], order[n_test:]
        train = np.concatenate([rest] * -(-n_train // len(rest)))[:n_train]
        return rng.permutation(train), test
    test = rng.choice(total, n_test, replace=False)
    train = rng.integers(0, total, n_train + n_test + 64)
    train = train[~np.isin(train, test)][:n_train]
    return train, test


def sort_task(length=6, digits=10, n_train=10000, n_test=1000, seed=0):
    """Sort `length` digits of 0..digits-1 (minGPT's demo sorts 6 of 3 digits: only 729 prompts; 10 digits give a
    million). Vocabulary: the digits. The test prompts are n_test distinct ones; the training prompts are drawn
    from the others."""
    if length < 2 or digits < 2:
        raise ValueError(f"sort_task: need length >= 2 and digits >= 2, got length={length}, digits={digits}")
    rng = np.random.default_rng(seed)
    train, test = _split_codes(rng, digits ** length, n_train, n_test)

    def sequences(codes):
        prompt = (codes[:, None] // digits ** np.arange(length)[::-1]) % digits
        return np.concatenate([prompt, np.sort(prompt, axis=1)], axis=1).astype(np.int64)
    return _task("sort", digits, length, sequences(train), sequences(test))


def addition_task(digits=2, n_train=None, n_test=500, seed=0):
    """a + b for a, b of `digits` digits: prompt = the digits of a then of b, answer = the digits of a + b reversed
    (minGPT's adder). Vocabulary 0..9. n_train: default every pair not in the test set (10^(2 digits) - n_test)."""
    if digits < 1:
        raise ValueError(f"addition_task: digits must be >= 1, got {digits}")
    rng = np.random.default_rng(seed)
    total = 10 ** (2 * digits)
    train, test = _split_codes(rng, total, total - n_test if n_train is None else n_train, n_test)

    def sequences(codes):
        a, b = codes // 10 ** digits, codes % 10 ** digits
        places = lambda v, n: (v[:, None] // 10 ** np.arange(n)[::-1]) % 10  # noqa: E731
        return np.concatenate([places(a, digits), places(b, digits), places(a + b, digits + 1)[:, ::-1]],
                              axis=1).astype(np.int64)
    return _task("add", 10, 2 * digits, sequences(train), sequences(test))


TASKS = {"sort": sort_task, "add": addition_task}


def load_task(name, seed=0, **kwargs):
    """A task by name ('sort' or 'add') with its defaults, or the keyword arguments given."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name](seed=seed, **kwargs)
