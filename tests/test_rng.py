"""Layer 1: random picks drawn in blocks are the picks drawn one at a time."""

from __future__ import annotations

import bisect

import numpy as np
import pytest

from silkroute_sim.rng import BLOCK, Streams


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
