"""Named random-number streams for one run.

One :class:`numpy.random.SeedSequence` per run; each named stream (``demand.arrivals``,
``hub.crane.move`` …) is derived from the run seed and a stable hash of its name, so
adding a stream or changing how often another is used never shifts this one. Two
scenarios run with the same seed therefore see the same demand and the same
disruptions (common random numbers).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence

import numpy as np

from .distributions import Constant, Distribution

BLOCK = 1024


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")


class Streams:
    """Factory of independent generators keyed by name, for one run seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def generator(self, name: str) -> np.random.Generator:
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_name_key(name),))
        return np.random.Generator(np.random.PCG64(seq))

    def sampler(self, name: str, dist: Distribution) -> Sampler:
        return Sampler(dist, self.generator(name))

    def uniform(self, name: str) -> Sampler:
        return Sampler(_UNIFORM, self.generator(name))

    def chooser(self, name: str, weights: Sequence[float]) -> Chooser:
        return Chooser(weights, self.uniform(name))


class _Uniform01:
    """Marker distribution for U(0, 1) draws."""

    mean = 0.5
    variance = 1 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)


_UNIFORM = _Uniform01()


class Sampler:
    """Draws one value at a time from a distribution, in blocks for speed."""

    __slots__ = ("_buf", "_const", "_dist", "_i", "_rng")

    def __init__(self, dist: Distribution | _Uniform01, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._const: float | None = float(dist.value) if isinstance(dist, Constant) else None
        self._buf: list[float] = []
        self._i = 0

    @property
    def mean(self) -> float:
        return float(self._dist.mean)

    def __call__(self) -> float:
        if self._const is not None:
            return self._const
        if self._i >= len(self._buf):
            self._buf = self._dist.sample(self._rng, BLOCK).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value

    def many(self, n: int) -> float:
        """Sum of ``n`` draws (used for per-box lift times of a whole train)."""
        if self._const is not None:
            return self._const * n
        total = 0.0
        while n > 0:  # the same draws, in the same order, as n calls
            if self._i >= len(self._buf):
                self._buf = self._dist.sample(self._rng, BLOCK).tolist()
                self._i = 0
            take = min(n, len(self._buf) - self._i)
            for value in self._buf[self._i : self._i + take]:
                total += value
            self._i += take
            n -= take
        return total


class Chooser:
    """Picks an index with given weights, from a uniform stream."""

    __slots__ = ("_cum", "_total", "_u")

    def __init__(self, weights: Sequence[float], uniform: Sampler) -> None:
        cum: list[float] = []
        total = 0.0
        for w in weights:
            total += float(w)
            cum.append(total)
        self._cum = cum
        self._total = total
        self._u = uniform

    def __call__(self) -> int:
        index = bisect.bisect_right(self._cum, self._u() * self._total)
        return min(index, len(self._cum) - 1)
