"""Time-weighted level monitors: a piecewise-constant level over time (a queue length,
the yard's TEU, busy cranes), appended to by the run and read as step series afterwards
(no pandas here)."""

from __future__ import annotations

import struct
from array import array
from typing import Any

import numpy as np

#: raw changes a monitor keeps before it reduces them to its step series (one point per
#: distinct time): often enough that a busy monitor never holds more than a megabyte of
#: them, seldom enough that numpy's cost per call is paid on large batches
REDUCE_AT = 1 << 16
#: the C array types a series' levels are kept in, narrowest first: whole numbers of
#: -32,768 to 32,767 (queue lengths, busy cranes, TEU in a yard), single precision, double
LEVEL_TYPES = ("h", "f", "d")


def level_type(levels: np.ndarray, at_least: str = LEVEL_TYPES[0]) -> str:
    """The narrowest of :data:`LEVEL_TYPES` (``at_least`` or wider) that holds every one
    of ``levels`` exactly."""
    wanted = levels.astype(np.float64).view(np.int64)
    for code in LEVEL_TYPES[LEVEL_TYPES.index(at_least) : -1]:
        with np.errstate(invalid="ignore", over="ignore"):  # NaN, inf, out of range
            back = levels.astype(code).astype(np.float64)
        if np.array_equal(back.view(np.int64), wanted):  # bit for bit: -0.0 is not 0
            return code
    return LEVEL_TYPES[-1]


class LevelMonitor:
    """A piecewise-constant level over time (queue length, yard TEU, busy cranes).

    The run only appends changes — ``(time, delta)`` to two lists, the cheapest thing
    the event loop can do several times per box (a C ``array('d')`` costs about three
    times as much per append: it parses each number as a function argument; a baseline
    year runs about 5 % fewer instructions with lists). :meth:`compact`, called between
    slices of the run, moves them into two C double arrays (8 bytes a number instead of
    a list slot and a float object); once those hold :data:`REDUCE_AT` changes, they are
    reduced to the step series: one point per distinct time, the level after the last
    change at that time (the running sum of the changes, added one after another from
    the first level, so the same numbers however the changes were batched). The series
    keeps its levels in the narrowest type that holds every one exactly (two-byte whole
    numbers for counts and TEU, else single or double precision): a baseline year's
    monitors take about 10 bytes per distinct time instead of 16 per change. Reading the
    series reduces what is pending first.
    """

    __slots__ = (
        "_cache",
        "_changes",
        "_frozen",
        "_levels",
        "_times",
        "deltas",
        "deltas_done",
        "level0",
        "name",
        "stamps",
        "stamps_done",
        "t0",
        "unit",
    )

    def __init__(self, name: str, unit: str, t0: float = 0.0, level: float = 0.0) -> None:
        self.name = name
        self.unit = unit
        self.t0 = t0
        self.level0 = level
        self.stamps: list[float] = []  # time of each change (non-decreasing)
        self.deltas: list[float] = []  # and its size
        self.stamps_done = array("d")  # the changes before those, packed
        self.deltas_done = array("d")
        #: the step series of the changes before those (reduced)
        self._times = array("d", [float(t0)])
        first = np.array([level], dtype=float)
        code = level_type(first)
        #: the levels, in the narrowest of :data:`LEVEL_TYPES` that holds them exactly
        self._levels: array[Any] = array(code, first.astype(code).tobytes())
        self._changes = 0  # changes appended before the last compaction
        self._cache: tuple[int, np.ndarray, np.ndarray] | None = None
        self._frozen = False

    @property
    def level(self) -> float:
        """The current level (after every change so far; builds the series: not for
        the event loop)."""
        return float(self._series()[1][-1])

    def add(self, t: float, delta: float) -> None:
        self.stamps.append(t)
        self.deltas.append(delta)

    def set(self, t: float, level: float) -> None:
        self.add(t, level - self.level)

    def compact(self) -> None:
        """Move the changes appended so far to the C arrays (and reduce those to the step
        series once they hold :data:`REDUCE_AT`). Both columns are packed before either
        array grows: a value that is not a number raises here and leaves the monitor as
        it was."""
        if self.stamps:
            # struct reads each number directly; numpy's list conversion first discovers
            # the type of each (a visible share of a run's instructions)
            packing = f"{len(self.stamps)}d"
            stamps = struct.pack(packing, *self.stamps)
            deltas = struct.pack(packing, *self.deltas)
            self.stamps_done.frombytes(stamps)
            self.deltas_done.frombytes(deltas)
            self._changes += len(self.stamps)
            self.stamps = []
            self.deltas = []
            if len(self.stamps_done) >= REDUCE_AT:
                self._reduce()

    def _reduce(self) -> None:
        """Fold the packed changes into the step series."""
        n = len(self.stamps_done)
        if not n or self._frozen:  # a frozen monitor's changes are refused when read
            return
        times = np.frombuffer(self.stamps_done, dtype=float)
        levels = np.empty(n + 1)
        levels[0] = self._levels[-1]  # the level after every change reduced so far
        levels[1:] = np.frombuffer(self.deltas_done, dtype=float)
        np.cumsum(levels, out=levels)  # sequential, like a running sum
        last = np.empty(n, dtype=bool)  # the last change at each distinct time
        np.not_equal(times[1:], times[:-1], out=last[:-1])
        last[-1] = True
        times, levels = times[last], levels[1:][last]
        if times[0] == self._times[-1]:  # changes at the series' last time replace it
            self._times.pop()
            self._levels.pop()
        code = level_type(levels, self._levels.typecode)
        if code != self._levels.typecode:  # a level the kept type does not hold: wider
            kept_so_far = np.frombuffer(self._levels, dtype=self._levels.typecode)
            self._levels = array(code, kept_so_far.astype(code).tobytes())
        kept = levels.astype(code)
        self._times.frombytes(times.tobytes())
        self._levels.frombytes(kept.tobytes())
        self.stamps_done = array("d")
        self.deltas_done = array("d")

    def _series(self) -> tuple[np.ndarray, np.ndarray]:
        if self._frozen:
            times, levels = self._kept()
            if levels.dtype != np.float64:  # kept narrower: the same numbers
                levels = levels.astype(np.float64)
                levels.flags.writeable = False
            return times, levels
        if self.stamps:
            self.compact()
        if self._cache is None or self._cache[0] != self._changes:
            self._reduce()
            times = np.array(self._times, dtype=float)
            levels = np.array(self._levels, dtype=float)
            times.flags.writeable = False  # shared with every reader: no copies
            levels.flags.writeable = False
            self._cache = (self._changes, times, levels)
        return self._cache[1], self._cache[2]

    def frozen(self) -> LevelMonitor:
        """The run is over: a read-only monitor holding the step series. This one, which
        the run's model still references, gives up its data. The series is handed over
        as it is kept (no copy): levels kept in two-byte whole numbers or single
        precision (counts, TEU) stay so and are read back as doubles, equal to the last
        bit. A frozen monitor gives a monitor with the same series; one that handed its
        series over refuses."""
        if self._frozen:
            self._series()  # raises where the series was handed over, or changes came
            assert self._cache is not None
            done = LevelMonitor(self.name, self.unit, self.t0, self.level0)
            done._cache = self._cache
            done._frozen = True
            return done
        self.compact()
        self._reduce()
        times = np.frombuffer(self._times, dtype=float)
        levels = np.frombuffer(self._levels, dtype=np.dtype(self._levels.typecode))
        times.flags.writeable = False
        levels.flags.writeable = False
        done = LevelMonitor(self.name, self.unit, self.t0, self.level0)
        done._cache = (0, times, levels)
        done._frozen = True
        self.stamps = []
        self.deltas = []
        self.stamps_done = array("d")
        self.deltas_done = array("d")
        self._times = array("d")
        self._levels = array("d")
        self._changes = 0
        self._cache = None
        self._frozen = True  # reading it now fails: it has handed its series over
        return done

    @property
    def times(self) -> np.ndarray:
        return self._series()[0]

    @property
    def levels(self) -> np.ndarray:
        return self._series()[1]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The step series ``(times, levels)``, read-only."""
        return self._series()

    def _kept(self) -> tuple[np.ndarray, np.ndarray]:
        """The step series as kept: levels perhaps as two-byte whole numbers or in single
        precision (every one exact), which numpy widens exactly wherever it meets a
        double, so sums and products give the same doubles as :meth:`arrays` would,
        without a double copy of the levels."""
        if not self._frozen:
            return self._series()
        if self._changes or self.stamps:
            raise RuntimeError(f"monitor {self.name!r} changed after its run ended")
        if self._cache is None:
            raise RuntimeError(
                f"monitor {self.name!r} handed its series over at the end of the run: "
                "read it from the result's records"
            )
        return self._cache[1], self._cache[2]

    def integral(self, t0: float, t1: float) -> float:
        """Integral of the level over [t0, t1]."""
        times, levels = self._kept()
        return float(step_integrals(times, levels, np.array([t0, t1]))[0])

    def mean(self, t0: float, t1: float) -> float:
        return self.integral(t0, t1) / (t1 - t0) if t1 > t0 else float("nan")

    def max(self, t0: float, t1: float) -> float:
        times, levels = self._kept()
        start = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
        stop = int(np.searchsorted(times, t1, side="left"))
        window = levels[start : max(stop, start + 1)]
        return float(window.max()) if window.size else float("nan")


def step_integrals(times: np.ndarray, levels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integrals of a step function (value ``levels[i]`` from ``times[i]``) over the
    consecutive intervals between ``edges``."""
    cumulative = step_integrals_cumulative(times, levels)
    return np.diff(step_areas_to(times, levels, cumulative, edges))


def step_integrals_cumulative(times: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The integral of a step function from its first time to each of its times (a
    leading 0): what :func:`step_areas_to` reads, to be kept where many windows are
    asked of one series."""
    n = len(times)
    if times.dtype != np.float64 or not n:  # not a monitor's series: the plain formula
        widths = np.diff(times, append=times[-1])
        return np.concatenate(([0.0], np.cumsum(widths * levels)))
    out = np.empty(n + 1)  # one array, filled in place: a 10-year series has ~2M points
    out[0] = 0.0
    np.subtract(times[1:], times[:-1], out=out[1:n])
    out[n] = 0.0  # the last level extends to the query edge
    np.multiply(out[1:], levels, out=out[1:])
    np.cumsum(out[1:], out=out[1:])  # sequential, as into a new array
    return out


def step_areas_to(
    times: np.ndarray, levels: np.ndarray, cumulative: np.ndarray, edges: np.ndarray
) -> np.ndarray:
    """The integral of the step function up to each of ``edges`` (0 before its first
    time), from its running integral ``cumulative``."""
    t = np.asarray(edges, dtype=float)
    idx = np.searchsorted(times, t, side="right") - 1  # at most the last point
    at = np.maximum(idx, 0)
    out = cumulative[at] + (t - times[at]) * levels[at]
    if idx.size and idx.min() < 0:
        out[idx < 0] = 0.0
    return out


def step_envelope(
    times: np.ndarray, levels: np.ndarray, t0: float, t1: float, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges of ``bins`` equal slices of ``[t0, t1]`` and, in each slice, the lowest
    and the highest level the step function (value ``levels[i]`` from ``times[i]``) takes:
    the level in effect as the slice starts and every level set within it (what a dense
    line of the whole series covers in that slice). Before its first time, the first
    level counts."""
    edges = np.linspace(t0, t1, bins + 1)
    first = np.maximum(np.searchsorted(times, edges[:-1], side="right") - 1, 0)
    last = np.maximum(np.searchsorted(times, edges[1:], side="left") - 1, first)
    bounds = np.empty(2 * bins, dtype=np.intp)
    bounds[0::2] = first  # slice k reduces levels[first[k] : last[k] + 1]; the
    bounds[1::2] = last + 1  # reductions between slices are dropped
    padded = np.append(levels, levels[-1])  # so that last + 1 is always an index
    low = np.minimum.reduceat(padded, bounds)[0::2]
    high = np.maximum.reduceat(padded, bounds)[0::2]
    return edges, low.astype(float), high.astype(float)
