"""The recovery of a disruption read a few weeks at a time gives the answer of reading
every day to the end of the run (issue: many events on a long run), and the forward means
taken for all days at once are numpy's means, to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from silkroute_sim.analysis.recovery import (
    NO_REFERENCE,
    NOT_RECOVERED,
    RECOVERED,
    Signal,
    Step,
    Weighted,
    back_in_band,
    first_stable_day,
    forward_means,
    recovery,
)
from silkroute_sim.engine.monitors import step_areas_to, step_integrals_cumulative


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_forward_means_are_numpys_means(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(2000):
        n = int(rng.integers(1, 50))
        values = rng.lognormal(rng.normal(3, 3), 2, n) * rng.choice([1.0, -1.0], n)
        if rng.random() < 0.2:
            values[rng.integers(0, n)] = np.nan
        count = int(rng.integers(1, n + 1))
        for days in (1, 2, 3, 5, 9):
            expected = np.array([values[k : k + days].mean() for k in range(count)])
            assert np.array_equal(forward_means(values, count, days), expected, equal_nan=True)


def _whole_answer(signals: list[Signal], dispatched, start, end, run_end) -> tuple[float, str]:
    back = back_in_band(signals, dispatched, start, end, run_end)
    if back is None:
        return math.nan, NO_REFERENCE
    day = first_stable_day(back)
    return (math.nan, NOT_RECOVERED) if day is None else (24.0 * day, RECOVERED)


@pytest.mark.parametrize("seed", range(8))
def test_reading_weeks_at_a_time_gives_the_whole_answer(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    run_end = 24.0 * float(rng.integers(40, 400))
    times = np.sort(rng.uniform(0, run_end, 3000))
    times[0] = 0.0
    dispatched = (np.sort(rng.uniform(0, run_end, 2000)), rng.uniform(0, 900, 2000))
    statuses = set()
    for _ in range(60):
        noisy = rng.random() < 0.5  # a level that keeps leaving its band, or a calm one
        scale = 30.0 if noisy else 1.0
        levels = np.abs(100 + np.cumsum(rng.normal(0, scale, times.size)))
        signals = [
            Signal("level", Step(times, levels), floor=float(rng.uniform(0.5, 20))),
            Signal("throughput", np.empty(0), floor=float(rng.uniform(50, 500)), two_sided=True),
        ]
        start = float(rng.uniform(0, run_end))
        end = min(run_end, start + float(rng.uniform(0, 24 * 20)))
        got = recovery(signals, dispatched, start, end, run_end)
        want = _whole_answer(signals, dispatched, start, end, run_end)
        assert got[1] == want[1] and (
            got[0] == want[0] or (math.isnan(got[0]) and math.isnan(want[0]))
        )
        statuses.add(got[1])
    assert statuses >= {RECOVERED, NOT_RECOVERED}  # both kinds of answer were tried


@pytest.mark.parametrize("n", [0, 1, 500, 70_000, 140_000])
def test_weighted_sums_are_numpys_histogram(n: int) -> None:
    """The tonnes dispatched per day, read from sorted blocks made once, are the floats
    of ``np.histogram(..., weights=...)``: ties, several of numpy's 65,536-value blocks,
    edges outside the times, an empty record."""
    rng = np.random.default_rng(n)
    times = np.round(rng.uniform(0, 8760, n), int(rng.integers(0, 3)))  # rounded: ties
    weights = rng.lognormal(3, 1.5, n)
    weighted = Weighted(times, weights)
    for _ in range(50):
        start = float(rng.uniform(-100, 8800))
        edges = start + 24.0 * np.arange(int(rng.integers(1, 60)) + 1)
        expected, _ = np.histogram(times, bins=edges, weights=weights)
        got = weighted.sums(edges)
        assert got.dtype == expected.dtype
        assert got.tobytes() == expected.tobytes()


def test_step_areas_before_between_and_after_the_points() -> None:
    """The integral up to each edge: 0 before the first point, the running integral plus
    the part of the step at an edge, and past the last point."""
    times = np.array([2.0, 5.0, 9.0])
    levels = np.array([1.5, 0.0, 4.0])
    cumulative = step_integrals_cumulative(times, levels)
    edges = np.array([-1.0, 2.0, 3.0, 5.0, 7.5, 9.0, 12.0])
    expected = [0.0, 0.0, 1.5, 4.5, 4.5, 4.5, 16.5]
    assert step_areas_to(times, levels, cumulative, edges).tolist() == expected
    assert Step(times, levels).daily_means(np.array([0.0, 4.0, 12.0])).tolist() == [
        3.0 / 4,
        13.5 / 8,
    ]
