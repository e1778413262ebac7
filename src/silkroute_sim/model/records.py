"""A run's append-only records: shipments, trains, node events and level monitors
(no pandas here)."""

from __future__ import annotations

import itertools
import math
import operator
import struct
from array import array
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields

from silkroute_sim.engine.monitors import LevelMonitor
from silkroute_sim.model.column_log import released
from silkroute_sim.model.entities import Train
from silkroute_sim.model.shipment_log import ShipmentLog
from silkroute_sim.model.train_log import BackgroundTrainLog

#: a node's queue at the end of the run, in trains, from which a growing queue is reported
SATURATED_QUEUE = 3
#: the shortest observation over which a growing queue reads as saturation, not as the
#: corridor filling up after an empty start (hours)
SATURATION_MIN_WINDOW_H = 14 * 24.0
#: background trains through that the daily compaction moves into the log's columns at
#: once (a baseline day has about 35: the columns' cost per call is paid once a month)
COMPACT_TRAINS = 1024
#: the per-unit logs a run's tables may free once built (:meth:`RunRecords.release`)
RELEASABLE = ("shipments", "node_events", "background_trains")


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
        "_kind",
        "_new",
        "_node",
        "_released",
        "_start_h",
        "_train_id",
    )

    def __init__(self) -> None:
        self._train_id: list[str] = []
        self._node: list[str] = []
        self._kind: list[str] = []
        self._released = False
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
        self._train_id.append(train_id)
        self._node.append(node)
        self._kind.append(kind)
        arrived, start, end, bg, count = self._new
        arrived.append(arrived_h)
        start.append(start_h)
        end.append(end_h)
        bg.append(background)
        count.append(boxes)

    def compact(self) -> None:
        """Move the numeric columns added since the last call into the C arrays. All
        are packed before any array grows: a value of the wrong type raises here, leaves the
        arrays as they were and the events pending, and raises again at the next
        compaction or read."""
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

    def _readable(self) -> None:
        if self._released:
            raise RuntimeError(released("node event log"))
        self.compact()

    def release(self) -> None:
        """Free every event (a run's tables hold what they read of them): reading the log
        afterwards raises."""
        self.compact()
        self._train_id, self._node, self._kind = [], [], []
        self._arrived_h, self._start_h, self._end_h = array("d"), array("d"), array("d")
        self._background, self._boxes = array("b"), array("q")
        self._released = True

    @property
    def train_id(self) -> list[str]:
        self._readable()
        return self._train_id

    @property
    def node(self) -> list[str]:
        self._readable()
        return self._node

    @property
    def kind(self) -> list[str]:
        self._readable()
        return self._kind

    @property
    def arrived_h(self) -> array[float]:
        self._readable()
        return self._arrived_h

    @property
    def start_h(self) -> array[float]:
        self._readable()
        return self._start_h

    @property
    def end_h(self) -> array[float]:
        self._readable()
        return self._end_h

    @property
    def background(self) -> array[int]:
        self._readable()
        return self._background

    @property
    def boxes(self) -> array[int]:
        self._readable()
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

    #: every unit of cargo (``arrive`` at the gate, ``done`` when delivered; read after
    #: :meth:`hand_over`)
    shipments: ShipmentLog = field(default_factory=ShipmentLog)
    trains: list[Train] = field(default_factory=list)
    #: every background train (``depart``, ``done`` at the end of its route; read after
    #: :meth:`hand_over`)
    background_trains: BackgroundTrainLog = field(default_factory=BackgroundTrainLog)
    #: trains arriving at the hub (hub.inbound): arrived = opened_h, track = loading_start_h,
    #: unloaded = loaded_h, track released = departed_h
    inbound_trains: list[Train] = field(default_factory=list)
    node_events: NodeEventLog = field(default_factory=NodeEventLog)
    monitors: dict[str, LevelMonitor] = field(default_factory=dict)
    cancelled_slots: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: trains at a node now (queued, processing, or held for a closure ahead), by key:
    #: ``[train_id, node, kind, arrived_h, start_h (NaN until it starts), background,
    #: boxes]``; those still there when the run ends are written as censored node events
    open_visits: dict[int, list[object]] = field(default_factory=dict)
    #: the observation window ``(warm-up, end)`` in hours, for the end-of-run checks
    window_h: tuple[float, float] = (0.0, 0.0)
    _next_visit: int = 0

    def open_visit(self, train: Train, node: str, kind: str, arrived_h: float) -> int:
        """``train`` is at ``node`` from ``arrived_h`` (its stage ``kind`` not started yet);
        returns the key to close it with (``del open_visits[key]``)."""
        key = self._next_visit
        self._next_visit = key + 1
        self.open_visits[key] = [
            train.train_id,
            node,
            kind,
            arrived_h,
            math.nan,
            train.background,
            train.box_count,
        ]
        return key

    def compact(self) -> None:
        """Compact every monitor, the node events and the delivered shipments (between
        slices of a run, once a simulated day). Often, not in large batches: the numbers
        a day appends are still in the CPU's caches when they are packed, and their float
        objects are freed for the next day to reuse. Packing in large batches instead
        reads each number back from memory days later (see docs/performance.md)."""
        for mon in self.monitors.values():
            mon.compact()
        self.node_events.compact()
        self.shipments.compact()
        if self.background_trains.pending >= COMPACT_TRAINS:  # a few dozen a day: in batches
            self.background_trains.compact()

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
        warnings = self.warnings + self.saturation_warnings()  # before monitors freeze
        self.shipments.finish()
        self.background_trains.finish()
        done = RunRecords(
            shipments=self.shipments,
            trains=self.trains,
            background_trains=self.background_trains,
            inbound_trains=self.inbound_trains,
            node_events=self.node_events,
            monitors={name: mon.frozen() for name, mon in self.monitors.items()},
            cancelled_slots=self.cancelled_slots,
            warnings=warnings,
            open_visits=self.open_visits,
            window_h=self.window_h,
        )
        for f in fields(self):
            if f.default_factory is not MISSING:
                setattr(self, f.name, f.default_factory())
            else:
                setattr(self, f.name, f.default)
        return done

    def release(self, name: str) -> None:
        """Free the per-unit log ``name`` (``shipments``, ``node_events`` or
        ``background_trains``) once a run's tables hold what they read from it: a 10-year
        run's shipment log alone takes about 100 MB. Reading it afterwards raises."""
        if name not in RELEASABLE:
            raise ValueError(f"{name!r} is not a per-unit log ({', '.join(RELEASABLE)})")
        log: ShipmentLog | NodeEventLog | BackgroundTrainLog = getattr(self, name)
        log.release()

    def saturation_warnings(self) -> list[str]:
        """A warning per node whose queue grew through the observation window: arrivals
        above its capacity, so its waits grow with the run's length (and the trains still
        queued at the end are censored). Judged over two weeks or more only: in a shorter
        run the queues of an empty corridor grow as it fills."""
        w0, w1 = self.window_h
        if w1 - w0 < SATURATION_MIN_WINDOW_H:
            return []
        waiting: dict[str, int] = {}
        for visit in self.open_visits.values():
            node = str(visit[1])
            waiting[node] = waiting.get(node, 0) + 1
        out = []
        quarter = (w1 - w0) / 4
        for name, mon in self.monitors.items():
            if not name.startswith("queue:"):
                continue
            node = name.removeprefix("queue:")
            means = [mon.mean(w0 + k * quarter, w0 + (k + 1) * quarter) for k in range(4)]
            end_level = mon.level
            if end_level >= SATURATED_QUEUE and all(
                later > earlier + 0.5 for earlier, later in itertools.pairwise(means)
            ):
                out.append(
                    f"{node} is saturated: its queue grew through the run, from "
                    f"{means[0]:.1f} to {means[3]:.1f} trains on average (first and last "
                    f"quarter) and {end_level:.0f} at the end; {waiting.get(node, 0)} trains "
                    "still there at the end are censored in node_events.csv"
                )
        return out


@dataclass(frozen=True)
class DisruptionWindow:
    """One realised disruption: a scheduled window, a weather event or a breakdown."""

    event_id: str
    kind: str  # scheduled | weather | breakdown
    target: str  # Khorgos, Dostyk<->Aktogay, hub.cranes, Khorgos[track 2] ...
    effect: str
    start_h: float
    end_h: float
    node: str | None = None
    edges: tuple[tuple[str, str], ...] = ()
    hub: str | None = None


@dataclass
class DisruptionLog:
    """What the disruption processes append during a run (no pandas here)."""

    windows: list[DisruptionWindow] = field(default_factory=list)
    #: (train_id, event_id): the train was held by, or rerouted around, that event
    hits: set[tuple[str, str]] = field(default_factory=set)
