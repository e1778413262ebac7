"""Append-only records and time-weighted level monitors (no pandas here)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from .entities import Shipment, Train


class LevelMonitor:
    """A piecewise-constant level over time (queue length, yard TEU, busy cranes).

    Only changes are stored; integrals over any window come from the step series.
    """

    __slots__ = ("levels", "name", "times", "unit")

    def __init__(self, name: str, unit: str, t0: float = 0.0, level: float = 0.0) -> None:
        self.name = name
        self.unit = unit
        # compact C doubles: 8 bytes a point instead of a Python float in a list
        self.times = array("d", [t0])
        self.levels = array("d", [level])

    @property
    def level(self) -> float:
        return self.levels[-1]

    def set(self, t: float, level: float) -> None:
        if t == self.times[-1]:
            self.levels[-1] = level
        else:
            self.times.append(t)
            self.levels.append(level)

    def add(self, t: float, delta: float) -> None:
        levels = self.levels
        if t == self.times[-1]:  # inlined set(): this runs several times per box
            levels[-1] += delta
        else:
            self.times.append(t)
            levels.append(levels[-1] + delta)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.frombuffer(self.times, dtype=float).copy(),
            np.frombuffer(self.levels, dtype=float).copy(),
        )

    def integral(self, t0: float, t1: float) -> float:
        """Integral of the level over [t0, t1]."""
        times, levels = self.arrays()
        return float(step_integrals(times, levels, np.array([t0, t1]))[0])

    def mean(self, t0: float, t1: float) -> float:
        return self.integral(t0, t1) / (t1 - t0) if t1 > t0 else float("nan")

    def max(self, t0: float, t1: float) -> float:
        times, levels = self.arrays()
        start = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
        stop = int(np.searchsorted(times, t1, side="left"))
        window = levels[start : max(stop, start + 1)]
        return float(window.max()) if window.size else float("nan")


def step_integrals(times: np.ndarray, levels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integrals of a step function (value ``levels[i]`` from ``times[i]``) over the
    consecutive intervals between ``edges``."""
    widths = np.diff(times, append=times[-1])  # the last level extends to the query edge
    segment = widths * levels
    cumulative = np.concatenate(([0.0], np.cumsum(segment)))

    def area_to(t: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(times, t, side="right") - 1
        idx_clipped = np.clip(idx, 0, len(times) - 1)
        partial = (t - times[idx_clipped]) * levels[idx_clipped]
        out = cumulative[idx_clipped] + partial
        return np.where(idx < 0, 0.0, out)

    areas = area_to(np.asarray(edges, dtype=float))
    return np.diff(areas)


@dataclass(slots=True)
class NodeEvent:
    """One stage of one train at one node."""

    train_id: str
    node: str
    kind: str
    arrived_h: float
    start_h: float
    end_h: float
    background: bool
    boxes: int


@dataclass
class RunRecords:
    """Everything a run appends; metrics are computed from it afterwards."""

    shipments: list[Shipment] = field(default_factory=list)
    trains: list[Train] = field(default_factory=list)
    background_trains: list[Train] = field(default_factory=list)
    #: trains arriving at the hub (hub.inbound): arrived = opened_h, track = loading_start_h,
    #: unloaded = loaded_h, track released = departed_h
    inbound_trains: list[Train] = field(default_factory=list)
    node_events: list[NodeEvent] = field(default_factory=list)
    monitors: dict[str, LevelMonitor] = field(default_factory=dict)
    cancelled_slots: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def monitor(self, name: str, unit: str, level: float = 0.0) -> LevelMonitor:
        mon = LevelMonitor(name, unit, 0.0, level)
        self.monitors[name] = mon
        return mon
