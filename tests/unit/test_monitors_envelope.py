"""The envelope a long level series is drawn as (engine.monitors.step_envelope): per
slice of time, the lowest and highest level in effect, as a point-by-point walk gives."""

from __future__ import annotations

import numpy as np
import pytest

from silkroute_sim.engine.monitors import step_envelope


def _walk(times: np.ndarray, levels: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """Every level in effect in [a, b): the one as the slice starts, and each set in it."""
    before = np.flatnonzero(times <= a)
    seen = [levels[before[-1]] if len(before) else levels[0]]
    seen += [v for t, v in zip(times, levels, strict=True) if a < t < b]
    return min(seen), max(seen)


@pytest.mark.parametrize("seed", range(6))
def test_each_slice_holds_the_lowest_and_highest_level_in_effect(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    times = np.sort(rng.uniform(0, 100, n))
    if seed % 2:  # points on the slice edges, repeated times, a late first point
        times = np.sort(np.concatenate([times, np.arange(0, 100, 12.5), [3.0, 3.0]]))[:n]
        times += 5.0
    levels = rng.integers(0, 50, len(times)).astype(np.float32)
    bins = int(rng.integers(1, 60))
    edges, low, high = step_envelope(times, levels, 0.0, 110.0, bins)
    assert len(edges) == bins + 1 and edges[0] == 0.0 and edges[-1] == 110.0
    for k in range(bins):
        assert (low[k], high[k]) == _walk(times, levels, edges[k], edges[k + 1])
    assert low.dtype == np.float64 and high.dtype == np.float64
