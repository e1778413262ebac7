"""How long a disruption's effect lasts: the recovery measure of ``disruptions.csv``.

After a disruption ends, each of its signals (a level such as the border queue or the
hub's backlog, and the hub's daily throughput) is compared with its reference: the mean and
spread over the days before the event. A day is *back in band* when the three-day mean of
every signal from it lies within the band (10 % of the reference, twice its spread, or
the signal's floor, whichever is widest); the event has recovered on the first day from
which every signal stays back for a week (or to the end of the run).
"""

from __future__ import annotations

import math

import numpy as np

from silkroute_sim.engine.monitors import LevelMonitor, step_areas_to, step_integrals_cumulative

NAN = math.nan
REFERENCE_DAYS = 7
CONFIRM_DAYS = 3
#: recovered on a day only if every measure stays back in its band from then on for this
#: many days (or to the end of the run, when fewer remain)
STAY_DAYS = 7
RECOVERED = "recovered"
NOT_RECOVERED = "not recovered"
NO_REFERENCE = "no reference"
TOLERANCE = 0.10


class Step:
    """A step function (value ``levels[i]`` from ``times[i]``)."""

    def __init__(self, times: np.ndarray, levels: np.ndarray) -> None:
        self.times = times
        self.levels = levels
        self._cumulative: np.ndarray | None = None

    @classmethod
    def of(cls, monitor: LevelMonitor) -> Step:
        return cls(*monitor.arrays())

    def daily_means(self, edges: np.ndarray) -> np.ndarray:
        """The mean level between consecutive ``edges``: :func:`step_integrals` (the same
        floats), its running integral kept, as every event reads a few days of it."""
        return self.daily_means_of(edges, edges[:0])[0]

    def daily_means_of(self, edges: np.ndarray, more: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`daily_means` between ``edges`` and between ``more`` (another run of
        days), the areas to both found at once."""
        if self._cumulative is None:
            self._cumulative = step_integrals_cumulative(self.times, self.levels)
        areas = step_areas_to(
            self.times, self.levels, self._cumulative, np.concatenate((edges, more))
        )
        first, then = areas[: len(edges)], areas[len(edges) :]
        return (  # np.diff's floats
            (first[1:] - first[:-1]) / (edges[1:] - edges[:-1]),
            (then[1:] - then[:-1]) / (more[1:] - more[:-1]),
        )

    def max(self, t0: float, t1: float) -> float:
        start = max(int(np.searchsorted(self.times, t0, side="right")) - 1, 0)
        stop = int(np.searchsorted(self.times, t1, side="right"))
        window = self.levels[start : max(stop, start + 1)]
        return float(window.max()) if window.size else NAN


#: numpy's histogram sorts its values this many at a time (``BLOCK`` inside
#: ``numpy.histogram``; the tests compare with it past one and two blocks)
HISTOGRAM_BLOCK = 65536


class Weighted:
    """Weights at times (the tonnes dispatched, at their departures) summed between edges:
    the same floats as ``np.histogram(times, bins=edges, weights=weights)[0]``. numpy sorts
    every block of 65,536 values and reads a running sum of the sorted weights at each
    edge; those sorted blocks and sums are made once here, where every event of a run
    reads a few days of them."""

    def __init__(self, times: np.ndarray, weights: np.ndarray) -> None:
        times = np.asarray(times).ravel()
        weights = np.asarray(weights).ravel()
        self.dtype = weights.dtype
        self.blocks: list[tuple[np.ndarray, np.ndarray]] = []
        zero = np.zeros(1, dtype=self.dtype)
        for i in range(0, len(times), HISTOGRAM_BLOCK):
            block = times[i : i + HISTOGRAM_BLOCK]
            order = np.argsort(block)
            running = np.concatenate((zero, weights[i : i + HISTOGRAM_BLOCK][order].cumsum()))
            self.blocks.append((block[order], running))

    @classmethod
    def of(cls, values: Weighted | tuple[np.ndarray, np.ndarray]) -> Weighted:
        """``values`` as they are, or ``(times, weights)`` sorted once."""
        return values if isinstance(values, Weighted) else cls(*values)

    def sums(self, edges: np.ndarray) -> np.ndarray:
        """The weights of the times in each bin (the last bin takes its right edge)."""
        edges = np.asarray(edges)
        running = np.zeros(edges.shape, self.dtype)
        for times, cumulative in self.blocks:
            at = np.concatenate(
                (times.searchsorted(edges[:-1], "left"), times.searchsorted(edges[-1:], "right"))
            )
            running += cumulative[at]
        return np.diff(running)


class Signal:
    def __init__(
        self, name: str, values: Step | np.ndarray, floor: float, two_sided: bool = False
    ) -> None:
        self.name = name
        self.values = values
        self.floor = floor
        self.two_sided = two_sided

    def per_day(
        self, edges: np.ndarray, more: np.ndarray, dispatched: Weighted
    ) -> tuple[np.ndarray, np.ndarray]:
        """The signal per day between ``edges`` and between ``more``."""
        if isinstance(self.values, Step):
            return self.values.daily_means_of(edges, more)
        return (
            np.asarray(dispatched.sums(edges), dtype=float) / (np.diff(edges) / 24.0),
            np.asarray(dispatched.sums(more), dtype=float) / (np.diff(more) / 24.0),
        )


def back_in_band(
    signals: list[Signal],
    dispatched: Weighted | tuple[np.ndarray, np.ndarray],
    start_h: float,
    end_h: float,
    run_end_h: float,
    days: int | None = None,
) -> np.ndarray | None:
    """Per whole day after ``end_h``: whether the three-day mean of every signal is in its
    band. None when there is no reference (the event starts on day 0) or no day after.
    ``days``: only the first so many days (each the same as in the whole answer)."""
    ref_days = min(REFERENCE_DAYS, math.floor(start_h / 24 + 1e-9))
    post_days = math.floor((run_end_h - end_h) / 24 + 1e-9)
    if ref_days < 1 or post_days < 1:
        return None
    wanted = post_days if days is None else min(days, post_days)
    dispatched = Weighted.of(dispatched)
    # the days read: the wanted ones, the CONFIRM_DAYS - 1 after them for their means, and
    # one more where the run goes on (a histogram's last bin also takes its right edge)
    read = min(wanted + CONFIRM_DAYS, post_days)
    ref_edges = start_h - 24.0 * np.arange(ref_days, -1, -1)
    post_edges = end_h + 24.0 * np.arange(read + 1)
    if not signals:
        return np.ones(wanted, dtype=bool)
    # every signal's days as one row: the means and spreads of all rows at once (numpy
    # reduces each row as it reduces the row alone: the same floats)
    days_of = [signal.per_day(ref_edges, post_edges, dispatched) for signal in signals]
    refs = np.array([ref for ref, _ in days_of])
    posts = np.array([post for _, post in days_of])
    if read < post_days:
        posts = posts[:, : read - 1]
    levels = refs.mean(axis=1)
    gaps = forward_means(posts, wanted) - levels[:, None]
    spreads = refs.std(axis=1, ddof=1).tolist() if ref_days > 1 else [0.0] * len(signals)
    bands = []
    for signal, level, spread in zip(signals, levels.tolist(), spreads, strict=True):
        bands.append(max(TOLERANCE * abs(level), 2 * spread, signal.floor))
    two_sided = np.array([bool(signal.two_sided) for signal in signals])
    gaps[two_sided] = np.abs(gaps[two_sided])
    return np.all(gaps <= np.array(bands)[:, None] + 1e-9, axis=0)


def forward_means(values: np.ndarray, count: int, days: int = CONFIRM_DAYS) -> np.ndarray:
    """For each of the first ``count`` days, the mean of ``values`` over it and the next
    ``days - 1`` days (fewer at the end): ``values[k : k + days].mean()``, the same floats
    (numpy adds fewer than eight numbers in order, then divides), for every day at once;
    ``values`` may have a row per signal (means along each row)."""
    out = np.empty((*values.shape[:-1], count))
    n = values.shape[-1]
    whole = max(0, min(count, n - days + 1)) if days < 8 else 0  # (pairwise from 8)
    if whole:
        total = values[..., :whole].copy()
        for j in range(1, days):
            total = total + values[..., j : whole + j]
        out[..., :whole] = total / days
    for k in range(whole, count):  # the last days of the run: fewer to average
        out[..., k] = values[..., k : k + days].mean(axis=-1)
    return out


def first_stable_day(back: np.ndarray, stay_days: int = STAY_DAYS) -> int | None:
    """The first day from which ``back`` holds for ``stay_days`` days in a row (or every
    day left in the run, when fewer remain); None when there is none: not recovered."""
    for day in np.flatnonzero(back):
        if back[day : day + stay_days].all():
            return int(day)
    return None


def _first_stable_so_far(back: np.ndarray, stay_days: int = STAY_DAYS) -> int | None:
    """:func:`first_stable_day` over the first days of a longer answer: the day, where
    these days decide it; None where more days must be read."""
    for day in np.flatnonzero(back):
        if day + stay_days > len(back):
            return None
        if back[day : day + stay_days].all():
            return int(day)
    return None


def recovery(
    signals: list[Signal],
    dispatched: Weighted | tuple[np.ndarray, np.ndarray],
    start_h: float,
    end_h: float,
    run_end_h: float,
) -> tuple[float, str]:
    """``(hours, status)``: whole days (in hours) from ``end_h`` until every signal is back
    in its band and stays there (:func:`first_stable_day`). ``status`` is ``recovered``,
    ``not recovered`` (hours NaN: never back for good within the run) or ``no reference``
    (hours NaN: the event starts on day 0 or ends with the run). The days after the event
    are read a few weeks at a time, as far as the answer needs (most events recover in
    days; a long run has years after each)."""
    post_days = math.floor((run_end_h - end_h) / 24 + 1e-9)
    days = 4 * STAY_DAYS
    dispatched = Weighted.of(dispatched)
    while True:
        back = back_in_band(signals, dispatched, start_h, end_h, run_end_h, days)
        if back is None:
            return NAN, NO_REFERENCE
        if days >= post_days:  # every day read: the whole answer
            day = first_stable_day(back)
            break
        day = _first_stable_so_far(back)
        if day is not None:
            break
        days *= 4
    if day is None:
        return NAN, NOT_RECOVERED
    return 24.0 * day, RECOVERED


def recovery_h(
    signals: list[Signal],
    dispatched: Weighted | tuple[np.ndarray, np.ndarray],
    start_h: float,
    end_h: float,
    run_end_h: float,
) -> float:
    """Whole days (in hours) from ``end_h`` until every signal is back in its band for
    good (:func:`recovery`); NaN when not."""
    return recovery(signals, dispatched, start_h, end_h, run_end_h)[0]
