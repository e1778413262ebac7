"""Named random-number streams for one run.

One :class:`numpy.random.SeedSequence` per run; each named stream (``demand.arrivals``,
``hub.crane.move`` …) is derived from the run seed and a stable hash of its name, so
adding a stream or changing how often another is used never shifts this one. Two
scenarios run with the same seed therefore see the same demand and the same
disruptions (common random numbers).
"""

from __future__ import annotations

import hashlib
import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, TypeVar

import numpy as np

from silkroute_sim.config.distributions import Constant, Distribution

T = TypeVar("T")

BLOCK: Final = 1024


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
        return Chooser(weights, self.generator(name))


class _Uniform01:
    """Marker distribution for U(0, 1) draws."""

    mean = 0.5
    variance = 1 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)


_UNIFORM: Final = _Uniform01()


def _blocks(dist: Distribution | _Uniform01, rng: np.random.Generator) -> Iterator[float]:
    """Endless draws of ``dist``, generated ``BLOCK`` at a time (Python code runs once
    per block; each draw is a C-level ``next``).

    A block is a C ``array('d')``, not a list: a draw becomes a float object when it is
    drawn, from the allocator's warm free list. A list of floats made its 1,024 objects
    when the block was drawn, and a slow stream takes days of simulated time to use
    them up: by then each is out of the CPU caches, and every draw (and freeing the
    list) waits on memory. Same values, about 1 % fewer instructions, and a few
    per cent less time a run."""

    def block() -> array[float]:
        return array("d", dist.sample(rng, BLOCK).astype(float, copy=False).tobytes())

    return _endless(block)


def _endless(block: Callable[[], Iterable[T]]) -> Iterator[T]:
    """The items of ``block()``, then of the next ``block()``, without end."""

    # a generator function, not a generator expression over ``itertools.count()``: the
    # compiled build (mypyc) would turn that expression into an endless list
    def blocks() -> Iterator[Iterable[T]]:
        while True:
            yield block()

    return itertools.chain.from_iterable(blocks())


class Sampler:
    """Draws one value at a time from a distribution, in blocks for speed.

    ``sampler()`` is one draw; ``sampler.draw`` is the same as a C-level callable, for
    the hottest call sites (no Python frame per draw).
    """

    __slots__ = ("_dist", "_fixed", "_stream", "draw")

    def __init__(self, dist: Distribution | _Uniform01, rng: np.random.Generator) -> None:
        self._dist = dist
        # a constant's value (a field named after C's ``const`` keyword breaks the
        # compiled build's C code)
        self._fixed: float | None = float(dist.value) if isinstance(dist, Constant) else None
        self._stream: Iterator[float] = (
            itertools.repeat(self._fixed) if self._fixed is not None else _blocks(dist, rng)
        )
        self.draw: Callable[[], float] = self._stream.__next__

    @property
    def mean(self) -> float:
        return float(self._dist.mean)

    def __call__(self) -> float:
        return self.draw()

    def many(self, n: int) -> float:
        """Sum of ``n`` draws (used for per-box lift times of a whole train)."""
        if self._fixed is not None:
            return self._fixed * n
        total = 0.0
        for value in itertools.islice(self._stream, n):  # the same draws as n calls
            total += value
        return total


class Chooser:
    """Picks an index with the given weights: the first whose running sum of weights
    exceeds ``u * total`` for a uniform draw ``u`` (the last index at most). The uniforms
    come from the stream in blocks, as a :class:`Sampler` draws them, and are turned
    into indices a block at a time (``searchsorted`` finds what ``bisect_right`` finds);
    ``chooser()`` is one pick, ``chooser.draw`` the same as a C-level callable."""

    __slots__ = ("draw",)

    def __init__(self, weights: Sequence[float], rng: np.random.Generator) -> None:
        cum: list[float] = []
        total = 0.0
        for w in weights:
            total += float(w)
            cum.append(total)
        bounds = np.array(cum, dtype=float)
        last = len(cum) - 1

        def block() -> list[int]:
            picks = np.searchsorted(bounds, rng.random(BLOCK) * total, side="right")
            return np.minimum(picks, last).tolist()

        self.draw: Callable[[], int] = _endless(block).__next__

    def __call__(self) -> int:
        return self.draw()
