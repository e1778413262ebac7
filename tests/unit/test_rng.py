"""Layer 1: random picks drawn in blocks are the picks drawn one at a time."""

from __future__ import annotations

import bisect

import numpy as np
import pytest
from pydantic import TypeAdapter

from silkroute_sim.config.distributions import QuantityDist
from silkroute_sim.engine.rng import BLOCK, Streams


@pytest.mark.parametrize(
    "weights",
    [[1.0], [0.2, 0.5, 0.3], [3, 0, 0, 1], [0.0, 0.0], [1e-9, 1.0, 1e-9], [0.1] * 40],
)
def test_chooser_picks_what_a_bisect_over_the_same_uniforms_picks(weights: list[float]) -> None:
    streams = Streams(7)
    chooser = streams.chooser("demand.class", weights)
    uniforms = streams.generator("demand.class")  # the same stream, drawn one by one
    cum = list(np.cumsum(np.asarray(weights, dtype=float)))
    total = float(sum(float(w) for w in weights))
    n = 2 * BLOCK + 17  # across block boundaries
    reference = [
        min(bisect.bisect_right(cum, u * total), len(cum) - 1)
        for u in np.concatenate([uniforms.random(BLOCK) for _ in range(3)])[:n].tolist()
    ]
    picks = [chooser.draw() if i % 2 else chooser() for i in range(n)]
    assert picks == reference


def test_chooser_frequencies_follow_the_weights() -> None:
    weights = [0.5, 0.3, 0.2]
    chooser = Streams(11).chooser("demand.destination", weights)
    n = 40_000
    counts = np.bincount([chooser.draw() for _ in range(n)], minlength=3)
    for count, w in zip(counts, weights, strict=True):
        half_width = 4 * np.sqrt(n * w * (1 - w))  # ±4 standard deviations of a binomial
        assert abs(count - n * w) < half_width


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "exponential", "mean": 2.5},
        {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.6},
        {"dist": "lognormal", "mean": 3.0, "cv": 0.4},
        {"dist": "empirical", "values": [1, 2, 5], "weights": [0.2, 0.5, 0.3]},
        {"dist": "constant", "value": 1.25},
    ],
)
def test_sampler_takes_the_stream_in_order_across_blocks(spec: dict[str, object]) -> None:
    """``draw``, ``()`` and ``many`` take the stream's values in order, as Python floats,
    across block boundaries; ``many(k)`` is the sum of the next k draws, added in order."""
    dist = TypeAdapter(QuantityDist).validate_python(spec)
    streams = Streams(3)
    sampler = streams.sampler("hub.gate", dist)
    rng = streams.generator("hub.gate")  # the same stream, drawn in blocks by hand
    reference = np.concatenate([dist.sample(rng, BLOCK) for _ in range(4)]).tolist()
    at = 0
    while at < 3 * BLOCK:
        one, two = sampler.draw(), sampler()
        assert type(one) is float and type(two) is float
        assert [one, two] == reference[at : at + 2]
        at += 2
        k = 37
        total = 0.0
        for value in reference[at : at + k]:
            total += value
        assert sampler.many(k) == total
        at += k
