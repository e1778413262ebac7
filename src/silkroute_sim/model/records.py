"""Append-only records and time-weighted level monitors (no pandas here)."""

from __future__ import annotations

import operator
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import numpy as np

from silkroute_sim.model.entities import Shipment, Train


class LevelMonitor:
    """A piecewise-constant level over time (queue length, yard TEU, busy cranes).

    The run only appends changes — ``(time, delta)`` to two lists, the cheapest thing
    the event loop can do several times per box (a C ``array('d')`` costs about three
    times as much per append: it parses each number as a function argument; a baseline
    year runs about 5 % fewer instructions with lists). :meth:`compact`, called between
    slices of the run, moves them into two C double arrays (8 bytes a number instead of
    a list slot and a float object). The step series (one point per distinct time, the
    level after the last change at that time) is built with numpy when it is first
    read, and again only if changes were appended since.
    """

    __slots__ = (
        "_cache",
        "_frozen",
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
        self.stamps_done = array("d")  # the changes before those, compacted
        self.deltas_done = array("d")
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
        """Move the changes appended so far to the C arrays. Both columns are packed
        before either array grows: a value that is not a number raises here and leaves
        the monitor as it was."""
        if self.stamps:
            # struct reads each number directly; numpy's list conversion first discovers
            # the type of each (a visible share of a run's instructions)
            packing = f"{len(self.stamps)}d"
            stamps = struct.pack(packing, *self.stamps)
            deltas = struct.pack(packing, *self.deltas)
            self.stamps_done.frombytes(stamps)
            self.deltas_done.frombytes(deltas)
            self.stamps = []
            self.deltas = []

    def _series(self) -> tuple[np.ndarray, np.ndarray]:
        done = len(self.stamps_done)
        n = done + len(self.stamps)
        if self._frozen:
            if n:
                raise RuntimeError(f"monitor {self.name!r} changed after its run ended")
            if self._cache is None:
                raise RuntimeError(
                    f"monitor {self.name!r} handed its series over at the end of the run: "
                    "read it from the result's records"
                )
            return self._cache[1], self._cache[2]
        if self._cache is None or self._cache[0] != n:
            times = np.empty(n + 1)
            times[0] = self.t0
            levels = np.empty(n + 1)
            levels[0] = self.level0
            times[1 : done + 1] = np.frombuffer(self.stamps_done, dtype=float)
            levels[1 : done + 1] = np.frombuffer(self.deltas_done, dtype=float)
            times[done + 1 :] = self.stamps
            levels[done + 1 :] = self.deltas
            np.cumsum(levels, out=levels)  # sequential, like a running sum
            last = np.empty(n + 1, dtype=bool)  # the last change at each distinct time
            np.not_equal(times[1:], times[:-1], out=last[:-1])
            last[-1] = True
            times, levels = times[last], levels[last]
            times.flags.writeable = False  # shared with every reader: no copies
            levels.flags.writeable = False
            self._cache = (n, times, levels)
        return self._cache[1], self._cache[2]

    def frozen(self) -> LevelMonitor:
        """The run is over: a read-only monitor holding the step series. This one, which
        the run's model still references, gives up its data (the change log, which holds
        every change rather than one point per distinct time, is freed)."""
        times, levels = self._series()
        done = LevelMonitor(self.name, self.unit, self.t0, self.level0)
        done._cache = (0, times, levels)
        done._frozen = True
        self.stamps = []
        self.deltas = []
        self.stamps_done = array("d")
        self.deltas_done = array("d")
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


class NodeEventLog:
    """The run's node events, stored by column: a 10-year run has about 500,000, and a
    row object each would cost three times the memory. ``add`` appends one; iterating,
    ``len`` and indexing give :class:`NodeEvent` rows, as a list of them would.

    The numeric columns (``arrived_h``, ``start_h``, ``end_h``, ``background``,
    ``boxes``) are C arrays. ``add`` appends to plain lists, which costs a fraction of an
    array's ``append`` (that parses each number as a function argument); :meth:`compact`,
    called between slices of the run, moves them into the arrays, and reading a column
    compacts first.
    """

    __slots__ = (
        "_arrived_h",
        "_background",
        "_boxes",
        "_end_h",
        "_new",
        "_start_h",
        "kind",
        "node",
        "train_id",
    )

    def __init__(self) -> None:
        self.train_id: list[str] = []
        self.node: list[str] = []
        self.kind: list[str] = []
        self._arrived_h = array("d")
        self._start_h = array("d")
        self._end_h = array("d")
        self._background = array("b")
        self._boxes = array("q")
        #: the numeric columns of the events added since the last compaction
        self._new: tuple[list[float], list[float], list[float], list[bool], list[int]] = (
            [],
            [],
            [],
            [],
            [],
        )

    def add(
        self,
        train_id: str,
        node: str,
        kind: str,
        arrived_h: float,
        start_h: float,
        end_h: float,
        background: bool,
        boxes: int,
    ) -> None:
        self.train_id.append(train_id)
        self.node.append(node)
        self.kind.append(kind)
        arrived, start, end, bg, count = self._new
        arrived.append(arrived_h)
        start.append(start_h)
        end.append(end_h)
        bg.append(background)
        count.append(boxes)

    def compact(self) -> None:
        """Move the numeric columns added since the last call into the C arrays. All
        are packed before any array grows: a value of the wrong type (which the compiled
        build refuses in :meth:`add` already) raises here, leaves the arrays as they were
        and the events pending, and raises again at the next compaction or read."""
        arrived, start, end, bg, count = self._new
        n = len(arrived)
        if not n:
            return
        floats = f"{n}d"
        packed = struct.pack(floats, *arrived), struct.pack(floats, *start)
        more = struct.pack(floats, *end), struct.pack(f"{n}b", *bg), struct.pack(f"{n}q", *count)
        self._arrived_h.frombytes(packed[0])
        self._start_h.frombytes(packed[1])
        self._end_h.frombytes(more[0])
        self._background.frombytes(more[1])
        self._boxes.frombytes(more[2])
        self._new = ([], [], [], [], [])

    @property
    def pending(self) -> int:
        """Events added since the last :meth:`compact`."""
        return len(self._new[0])

    @property
    def arrived_h(self) -> array[float]:
        self.compact()
        return self._arrived_h

    @property
    def start_h(self) -> array[float]:
        self.compact()
        return self._start_h

    @property
    def end_h(self) -> array[float]:
        self.compact()
        return self._end_h

    @property
    def background(self) -> array[int]:
        self.compact()
        return self._background

    @property
    def boxes(self) -> array[int]:
        self.compact()
        return self._boxes

    def append(self, event: NodeEvent) -> None:
        self.add(
            event.train_id,
            event.node,
            event.kind,
            event.arrived_h,
            event.start_h,
            event.end_h,
            event.background,
            event.boxes,
        )

    def __len__(self) -> int:
        return len(self.kind)

    def __iter__(self) -> Iterator[NodeEvent]:
        return map(
            NodeEvent,
            self.train_id,
            self.node,
            self.kind,
            self.arrived_h,
            self.start_h,
            self.end_h,
            map(bool, self.background),
            self.boxes,
        )

    def __getitem__(self, i: int) -> NodeEvent:
        i = operator.index(i)  # one event: a slice is not supported
        return NodeEvent(
            self.train_id[i],
            self.node[i],
            self.kind[i],
            self.arrived_h[i],
            self.start_h[i],
            self.end_h[i],
            bool(self.background[i]),
            self.boxes[i],
        )


@dataclass
class RunRecords:
    """Everything a run appends; metrics are computed from it afterwards."""

    shipments: list[Shipment] = field(default_factory=list)
    trains: list[Train] = field(default_factory=list)
    background_trains: list[Train] = field(default_factory=list)
    #: trains arriving at the hub (hub.inbound): arrived = opened_h, track = loading_start_h,
    #: unloaded = loaded_h, track released = departed_h
    inbound_trains: list[Train] = field(default_factory=list)
    node_events: NodeEventLog = field(default_factory=NodeEventLog)
    monitors: dict[str, LevelMonitor] = field(default_factory=dict)
    cancelled_slots: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def compact(self) -> None:
        """Compact every monitor and the node events (between slices of a run, once a
        simulated day). Often, not in large batches: the numbers a day appends are still
        in the CPU's caches when they are packed, and their float objects are freed for
        the next day to reuse. Packing every 8,192 changes instead read each number back
        from memory days later; the compiled build, which makes a float object for every
        number it appends, ran a baseline year about 15 % slower so."""
        for mon in self.monitors.values():
            mon.compact()
        self.node_events.compact()

    def monitor(self, name: str, unit: str, level: float = 0.0) -> LevelMonitor:
        mon = LevelMonitor(name, unit, 0.0, level)
        self.monitors[name] = mon
        return mon

    def hand_over(self) -> RunRecords:
        """The run is over: new records holding everything (monitors frozen), leaving
        these empty. The run's model objects (hub, corridor, engine, pending events)
        reference each other in cycles, which only the cyclic garbage collector frees,
        and they reference these records; handed over, the records go when the result
        goes, by reference counting — in a sweep worker, before the next run."""
        done = RunRecords(
            shipments=self.shipments,
            trains=self.trains,
            background_trains=self.background_trains,
            inbound_trains=self.inbound_trains,
            node_events=self.node_events,
            monitors={name: mon.frozen() for name, mon in self.monitors.items()},
            cancelled_slots=self.cancelled_slots,
            warnings=self.warnings,
        )
        for f in fields(self):
            setattr(self, f.name, f.default_factory())  # type: ignore[operator]
        return done
