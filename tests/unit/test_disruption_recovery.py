"""The recovery of a disruption read a few weeks at a time gives the answer of reading
every day to the end of the run (issue: many events on a long run), and the forward means
taken for all days at once are numpy's means, to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from silkroute_sim.analysis.recovery import (
    CONFIRM_DAYS,
    NO_REFERENCE,
    NOT_RECOVERED,
    RECOVERED,
    REFERENCE_DAYS,
    TOLERANCE,
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


def _cumulative_as_first_written(times: np.ndarray, levels: np.ndarray) -> np.ndarray:
    widths = np.diff(times, append=times[-1])
    return np.concatenate(([0.0], np.cumsum(widths * levels)))


@pytest.mark.parametrize("seed", range(3))
def test_running_integral_in_place_is_the_plain_formula(seed: int) -> None:
    """One array filled in place gives the doubles of the formula with its four arrays,
    for single- and double-precision levels (a monitor keeps counts in single precision)
    and for times that are not doubles (the plain formula, in their precision)."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        times = np.sort(rng.choice(rng.uniform(0, 500, n), n))  # repeated times too
        levels = rng.integers(0, 60, n).astype(float) * rng.choice([1.0, 0.5])
        for t, lv in (
            (times, levels),
            (times, levels.astype(np.float32)),
            (times.astype(np.float32), levels.astype(np.float32)),
        ):
            got = step_integrals_cumulative(t, lv)
            assert got.tobytes() == _cumulative_as_first_written(t, lv).tobytes()


def _back_in_band_one_signal_at_a_time(signals, dispatched, start_h, end_h, run_end_h, days):
    """The band test as first written: each signal's days, means and spread on their own."""
    ref_days = min(REFERENCE_DAYS, math.floor(start_h / 24 + 1e-9))
    post_days = math.floor((run_end_h - end_h) / 24 + 1e-9)
    if ref_days < 1 or post_days < 1:
        return None
    wanted = post_days if days is None else min(days, post_days)
    read = min(wanted + CONFIRM_DAYS, post_days)
    ref_edges = start_h - 24.0 * np.arange(ref_days, -1, -1)
    post_edges = end_h + 24.0 * np.arange(read + 1)
    back = np.ones(wanted, dtype=bool)
    for signal in signals:
        if isinstance(signal.values, Step):
            ref = signal.values.daily_means(ref_edges)
            post = signal.values.daily_means(post_edges)
        else:
            times, tonnes = dispatched
            ref = np.histogram(times, bins=ref_edges, weights=tonnes)[0] / (np.diff(ref_edges) / 24)
            post = np.histogram(times, bins=post_edges, weights=tonnes)[0] / (
                np.diff(post_edges) / 24
            )
        if read < post_days:
            post = post[: read - 1]
        ahead = np.array([post[k : k + CONFIRM_DAYS].mean() for k in range(wanted)])
        level = float(ref.mean())
        spread = float(ref.std(ddof=1)) if ref.size > 1 else 0.0
        band = max(TOLERANCE * abs(level), 2 * spread, signal.floor)
        back &= (np.abs(ahead - level) if signal.two_sided else ahead - level) <= band + 1e-9
    return back


@pytest.mark.parametrize("seed", range(4))
def test_every_signal_at_once_is_each_signal_on_its_own(seed: int) -> None:
    """The band test of all signals as rows of one array gives each day's answer of the
    signals taken one at a time, also where a mean sits on the edge of its band (levels
    in whole trains, floors and bands met exactly)."""
    rng = np.random.default_rng(seed)
    run_end = 24.0 * float(rng.integers(20, 200))
    dispatched = (rng.uniform(0, run_end, 1500), rng.choice([0.0, 25.0, 50.0], 1500))
    for _ in range(40):
        signals = [Signal("throughput", np.empty(0), floor=50.0, two_sided=True)]
        for k in range(int(rng.integers(0, 12))):
            times = np.sort(rng.uniform(0, run_end, int(rng.integers(1, 400))))
            times[0] = 0.0
            levels = np.maximum(0, np.cumsum(rng.choice([-1.0, 0.0, 1.0], times.size)))
            floor = float(rng.choice([0.5, 1.0, 2.0]))
            signals.append(Signal(f"queue:{k}", Step(times, levels), floor=floor))
        start = float(rng.choice([rng.uniform(0, run_end), 24.0 * rng.integers(0, 30)]))
        end = min(run_end, start + float(rng.choice([0.0, 24.0, rng.uniform(0, 240)])))
        days = int(rng.choice([1, 7, 28, 10_000]))
        want = _back_in_band_one_signal_at_a_time(signals, dispatched, start, end, run_end, days)
        got = back_in_band(signals, dispatched, start, end, run_end, days)
        assert (got is None) == (want is None)
        if got is not None:
            assert got.tolist() == want.tolist()


def test_forward_means_of_rows_are_each_rows_means() -> None:
    rng = np.random.default_rng(3)
    rows = rng.lognormal(2, 2, (9, 30))
    for count in (1, 5, 28, 30):
        together = forward_means(rows, count)
        for i in range(len(rows)):
            assert together[i].tobytes() == forward_means(rows[i], count).tobytes()
