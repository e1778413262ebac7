"""Estimators on one run's sample path: time-weighted levels from the monitors, and
Little's law (``L = lam W``) between those monitors and the per-entity records.

Estimates are taken over the longest window after the warm-up that starts and ends with
an empty system (:func:`empty_window`), so every customer counted is complete (no
censoring at the end of the run) and ``L = lam W`` holds exactly on each sample path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from silkroute_sim.engine.monitors import LevelMonitor, step_integrals

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.model.simulate import RunResult

#: relative agreement demanded of two calculations that are equal by construction
#: (floating-point sums over up to a million terms)
EXACT_REL_TOL = 1e-7


def _levels_at(mon: LevelMonitor, t: np.ndarray) -> np.ndarray:
    times, levels = mon.arrays()
    idx = np.searchsorted(times, t, side="right") - 1
    return np.where(idx < 0, 0.0, levels[np.clip(idx, 0, len(levels) - 1)])


def combined_level(monitors: Sequence[LevelMonitor]) -> tuple[np.ndarray, np.ndarray]:
    """The sum of several step functions as one (times, levels) step series."""
    times = np.unique(np.concatenate([m.arrays()[0] for m in monitors]))
    levels = np.zeros_like(times)
    for mon in monitors:
        levels = levels + _levels_at(mon, times)
    return times, levels


def empty_window(
    times: np.ndarray, levels: np.ndarray, t0: float, t1: float
) -> tuple[float, float] | None:
    """The longest window ``[a, b]`` within ``[t0, t1]`` whose ends are instants when the
    level is 0 (after all changes at that instant). Over such a window Little's law
    holds exactly: everything that arrived before ``a`` has left the queue by ``a``,
    everything that arrived before ``b`` by ``b``. None if there is no such window."""
    zero = levels == 0
    i0 = int(np.searchsorted(times, t0, side="right")) - 1
    if i0 >= 0 and zero[i0]:
        a = t0
    else:
        later = np.flatnonzero(zero & (times > t0) & (times <= t1))
        if later.size == 0:
            return None
        a = float(times[later[0]])
    i1 = int(np.searchsorted(times, t1, side="right")) - 1
    if i1 >= 0 and zero[i1]:
        b = t1
    else:
        earlier = np.flatnonzero(zero & (times <= t1))
        if earlier.size == 0:
            return None
        b = float(times[earlier[-1]])
    return (a, b) if b > a else None


def level_mean(times: np.ndarray, levels: np.ndarray, a: float, b: float) -> float:
    return float(step_integrals(times, levels, np.array([a, b]))[0]) / (b - a)


def overlap_sum(
    starts: np.ndarray, ends: np.ndarray, a: float, b: float, weights: np.ndarray | None = None
) -> float:
    """Σ weight × |[start, end) ∩ [a, b]|; a NaN end means "still there at ``b``"."""
    s = np.asarray(starts, dtype=float)
    e = np.where(np.isnan(ends), b, np.asarray(ends, dtype=float))
    ok = np.isfinite(s)
    span = np.clip(np.minimum(e[ok], b) - np.maximum(s[ok], a), 0.0, None)
    w = 1.0 if weights is None else np.asarray(weights, dtype=float)[ok]
    return float(np.sum(span * w))


@dataclass
class LittleSample:
    """Little's law on one sample path: ``L`` from the time-weighted monitor over
    ``[a, b]``, ``lam W`` from the records of the entities that arrived in it."""

    level: float  # L, time-weighted
    lam: float  # arrivals per hour in the window
    mean_time: float  # W, hours
    start_h: float
    end_h: float
    arrivals: int

    @property
    def window_h(self) -> float:
        return self.end_h - self.start_h

    @property
    def lam_w(self) -> float:
        return self.lam * self.mean_time if self.arrivals else 0.0

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.level), abs(self.lam_w))
        return abs(self.level - self.lam_w) / scale if scale > 0 else 0.0


def queue_little(
    times: np.ndarray,
    levels: np.ndarray,
    arrived: np.ndarray,
    left: np.ndarray,
    t0: float,
    t1: float,
) -> LittleSample | None:
    """Little's law for a queue whose monitor counts entities between ``arrived`` and
    ``left``, over the longest empty-to-empty window in ``[t0, t1]``."""
    window = empty_window(times, levels, t0, t1)
    if window is None:
        return None
    a, b = window
    sel = (arrived >= a) & (arrived < b)
    count = int(sel.sum())
    mean_time = float(np.mean(left[sel] - arrived[sel])) if count else 0.0
    return LittleSample(level_mean(times, levels, a, b), count / (b - a), mean_time, a, b, count)


@dataclass
class YardLittle:
    """Little's law on the yard, exactly bracketed.

    The yard monitor counts TEU *reserved*: a truck reserves its box's space when it
    gets a gate lane (so a full yard blocks the gate), and the space is freed when the
    box is loaded on a wagon. The reservation instant ``r`` is not recorded, but
    ``arrived <= r <= yard_in`` for every box, hence, over any window,
    ``lam W(yard_in → loaded) <= L <= lam W(arrived → loaded)`` with both sides computed
    exactly from the box records (as sums of each box's time inside the window). The
    bracket's width is the TEU in gate service or waiting for the unloading crane.
    """

    level: float
    lower: float
    upper: float
    window_h: float

    @property
    def inside(self) -> bool:
        slack = EXACT_REL_TOL * max(1.0, abs(self.upper))
        return self.lower - slack <= self.level <= self.upper + slack


def yard_little(result: RunResult, t0: float | None = None, t1: float | None = None) -> YardLittle:
    a = result.warmup_h if t0 is None else t0
    b = result.end_h if t1 is None else t1
    ships = result.records.shipments
    arrived, yard_in = ships.column("arrived_h"), ships.column("yard_in_h")
    loaded, teu = ships.column("loaded_h"), ships.column("teu")
    times, levels = result.records.monitors["yard_teu"].arrays()
    level = level_mean(times, levels, a, b)
    inbound = result.records.monitors.get("inbound_yard_teu")
    if inbound is not None:  # inbound trains' boxes share the yard but have no box records
        level -= level_mean(*inbound.arrays(), a, b)
    width = b - a
    return YardLittle(
        level=level,
        lower=overlap_sum(yard_in, loaded, a, b, teu) / width,
        upper=overlap_sum(arrived, loaded, a, b, teu) / width,
        window_h=width,
    )


def border_little(
    result: RunResult, events: pd.DataFrame, node: str, guard_h: float | None = None
) -> LittleSample | None:
    """Little's law on the queue at ``node``: the time-weighted ``queue:<node>`` monitor
    (trains waiting for a track or for the daily-capacity headway) against the arrival
    rate times the mean recorded wait (``start_h - arrived_h`` of each train's first
    stage there). Node events are written when processing ends, so the window closes
    ``guard_h`` (default 30 mean processing times) before the end of the run."""
    times, levels = result.records.monitors[f"queue:{node}"].arrays()
    at = events[events["node"] == node].drop_duplicates(["train_id"], keep="first")
    if guard_h is None:
        stages = events[events["node"] == node]
        mean_proc = float((stages["end_h"] - stages["start_h"]).mean()) if len(stages) else 0.0
        guard_h = 30.0 * mean_proc
    return queue_little(
        times,
        levels,
        at["arrived_h"].to_numpy(dtype=float),
        at["start_h"].to_numpy(dtype=float),
        result.warmup_h,
        result.end_h - guard_h,
    )
