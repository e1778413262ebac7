"""Inbound and return trains: trains arriving at the hub that take its capacity.

A hub's loading tracks and cranes serve trains in both directions. Each inbound train
(``hub.inbound.<stream>``):

1. on arrival reserves yard space for all its boxes (a full yard holds it in the
   arrival sidings, before it takes a track — so it cannot block a track while
   outbound boxes wait for one);
2. takes a loading track (FIFO with outbound trains), is shunted (``shunting_time``)
   and unloaded: one crane move per box, wagon → yard, up to
   ``hub.loading.cranes_per_train`` cranes at a time; then frees the track;
3. each box waits ``dwell`` in the yard (import clearance, trucks to collect it), then a
   second crane move puts it on a truck and frees its yard space.

A stream with ``use_cranes: false`` (or a hub whose loading uses no cranes) is unloaded
by other equipment: the train holds its track for ``shunting_time`` only, and its boxes
take no crane time.

Arrivals are a renewal process (``trains_per_day``, ``interarrival_cv``) or tied to
outbound departures (``share_of_outbound``: each departure of the listed services brings
that many inbound trains on average, ``lag`` later). Every draw is on a ``hub.inbound.*``
stream, so outbound cargo keeps its random numbers when inbound traffic is added. Each
box's own times (its two crane moves and its dwell) are drawn when its train arrives, so
a box keeps them whatever order the cranes then serve it in.

A stream with an ``origin`` runs eastbound service trains: each train leaves the origin
(at the arrival time drawn above) and takes the corridor to the hub by the same code as
westbound trains (``hub.on_departure``: :meth:`Corridor.run`); at the hub the corridor
hands it back here (:meth:`Inbound.arrive`) and steps 1–3 follow. Its ``departed_h`` is
its departure from the origin, ``arrived_h`` and ``opened_h`` its arrival at the hub.

The hub's box pool (``hub.box_pool``, :class:`BoxPool`) counts empty containers in TEU:
of each inbound train's boxes ``round(loaded_share × boxes)`` (rounded at random, on a
stream of its own) are loaded, the rest empties; an empty joins the pool when it is
craned off its wagon, a loaded box when it is collected after its dwell (stripped, it
comes back empty). Each westbound departure takes its boxes' TEU from the pool; what the
pool lacks is leased one-way. So ``initial + in − out + leased = level`` at all times.

Inbound boxes are not part of the outbound tonnes ledger; trains are recorded in
``records.inbound_trains`` and their yard share in the ``inbound_yard_teu`` monitor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Protocol

import simpy

from silkroute_sim.config.distributions import Exponential, Gamma
from silkroute_sim.config.schema import InboundStreamConfig, ScenarioConfig
from silkroute_sim.engine.monitors import LevelMonitor
from silkroute_sim.engine.pools import AdjustableContainer, FastContainer, FastPool, UnitPool
from silkroute_sim.engine.resources import Engine
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.engine.tasks import TaskGen, spawn
from silkroute_sim.model.entities import Train
from silkroute_sim.model.records import RunRecords

Proc = Generator[simpy.Event, Any, None]
#: an inbound box's own times (hours): crane move wagon → yard, yard dwell, move → truck;
#: and whether it is loaded (an empty joins the box pool when unloaded)
InboundBox = tuple[float, float, float, bool]


class BoxPool:
    """The hub's empty containers (TEU), with the running totals of what came in, went
    out and was leased one-way (level = initial + in − out + leased, exactly). ``teu``
    is the level now: the changes written to ``level``, summed in the same order."""

    def __init__(self, records: RunRecords, initial_teu: float) -> None:
        self.teu = initial_teu
        self.level = records.monitor("box_pool_teu", "TEU", initial_teu)
        self.empties_in = records.monitor("box_pool_empties_in_teu", "TEU")
        self.stripped_in = records.monitor("box_pool_stripped_in_teu", "TEU")
        self.taken = records.monitor("box_pool_out_teu", "TEU")
        self.leased = records.monitor("box_pool_leased_teu", "TEU")

    def put(self, now: float, teu: float, stripped: bool) -> None:
        """An empty box joins the pool: off a wagon, or a loaded box back stripped."""
        (self.stripped_in if stripped else self.empties_in).add(now, teu)
        self._change(now, teu)

    def take(self, now: float, teu: float) -> None:
        """Westbound loads leave with ``teu`` of boxes: from the pool, the rest leased."""
        if teu <= 0:
            return
        self.taken.add(now, teu)
        short = max(0.0, teu - self.teu)
        if short > 0:
            self.leased.add(now, short)
        self._change(now, short - teu)

    def _change(self, now: float, delta: float) -> None:
        self.teu += delta
        self.level.add(now, delta)


class InboundHub(Protocol):
    """What inbound trains need of the hub: where they arrive, its loading tracks and
    cranes, its yard, and word of each departure (return trains follow departures)."""

    @property
    def node(self) -> str: ...

    @property
    def departure_listeners(self) -> list[Callable[[Train], None]]: ...

    @property
    def on_departure(self) -> Callable[[Train], None] | None: ...

    @property
    def yard(self) -> FastContainer | AdjustableContainer: ...

    @property
    def yard_level(self) -> LevelMonitor: ...

    @property
    def tracks(self) -> FastPool | UnitPool: ...

    @property
    def tracks_busy(self) -> LevelMonitor: ...

    @property
    def cranes_per_train(self) -> int: ...

    def crane_move(self, lift_h: float) -> Generator[simpy.Event, Any, None]: ...


class _Stream:
    """One inbound stream: its settings and samplers."""

    def __init__(
        self, name: str, stream: InboundStreamConfig, cfg: ScenarioConfig, streams: Streams
    ) -> None:
        prefix = f"hub.inbound.{name}"
        self.name = name
        self.boxes = stream.boxes
        self.teu_per_box = stream.teu_per_box
        self.services = None if stream.services is None else set(stream.services)
        self.share = stream.share_of_outbound or 0.0
        self.move = streams.sampler(f"{prefix}.crane.move", cfg.hub.cranes.move_time)
        self.dwell = streams.sampler(f"{prefix}.dwell", stream.dwell)
        self.shunting = streams.sampler(f"{prefix}.shunting", stream.shunting_time)
        self.lag = streams.sampler(f"{prefix}.lag", stream.lag)
        self.share_u = streams.uniform(f"{prefix}.share")
        self.origin = stream.origin
        #: its boxes are craned by the hub's pool (else other equipment: track time only)
        self.use_cranes = cfg.hub.loading.use_cranes and stream.use_cranes
        self.service = f"inbound:{name}"
        self.loaded_share = stream.loaded_share
        #: drawn only with a box pool: whether the boxes are loaded does not matter else
        self.loaded_u = streams.uniform(f"{prefix}.loaded") if cfg.hub.box_pool else None
        self.gap: Sampler | float = 0.0
        if stream.trains_per_day is not None:
            mean_gap = 24.0 / stream.trains_per_day
            cv = stream.interarrival_cv
            if cv == 0:
                self.gap = mean_gap
            elif abs(cv - 1.0) < 1e-12:
                exp = {"dist": "exponential", "mean": mean_gap}
                self.gap = streams.sampler(
                    f"{prefix}.arrivals", Exponential[float].model_validate(exp)
                )
            else:
                gamma = {"dist": "gamma", "mean": mean_gap, "cv": cv}
                self.gap = streams.sampler(f"{prefix}.arrivals", Gamma[float].model_validate(gamma))
        self.count = 0


class Inbound:
    """All inbound streams of one run; started when the hub is built."""

    def __init__(
        self,
        env: Engine,
        hub: InboundHub,
        cfg: ScenarioConfig,
        streams: Streams,
        records: RunRecords,
    ) -> None:
        self.env = env
        self.hub = hub
        self.records = records
        self.level = records.monitor("inbound_yard_teu", "TEU")
        pool = cfg.hub.box_pool
        self.pool = None if pool is None else BoxPool(records, pool.initial_teu)
        if self.pool is not None:
            hub.departure_listeners.append(self._take_empties)
        self.streams: dict[str, _Stream] = {}  # by the trains' service name
        for name, stream in cfg.hub.inbound.items():
            state = _Stream(name, stream, cfg, streams)
            self.streams[state.service] = state
            if stream.trains_per_day is not None:
                env.process(self._source(state))
            else:
                hub.departure_listeners.append(self._listener(state))

    def _take_empties(self, train: Train) -> None:
        """A westbound train left: its boxes' TEU came out of the pool (or were leased)."""
        assert self.pool is not None
        self.pool.take(self.env.now, train.teu)

    def _source(self, stream: _Stream) -> Proc:
        env = self.env
        while True:
            gap = stream.gap
            yield env.timeout(gap if isinstance(gap, float) else gap())
            env.process(self._train(stream))

    def _listener(self, stream: _Stream) -> Any:
        def on_departure(train: Train) -> None:
            if stream.services is not None and train.service not in stream.services:
                return
            whole = int(stream.share)
            count = whole + (1 if stream.share_u() < stream.share - whole else 0)
            for _ in range(count):
                self.env.process(self._after_lag(stream))

        return on_departure

    def _after_lag(self, stream: _Stream) -> Proc:
        lag = stream.lag()
        if lag > 0:
            yield self.env.timeout(lag)
        yield from self._train(stream)

    def _train(self, stream: _Stream) -> Proc:
        """One inbound train: from its origin over the corridor (eastbound), or from its
        arrival at the hub to its track being free again."""
        env, hub = self.env, self.hub
        stream.count += 1
        train = Train(
            f"in-{stream.name}-{stream.count:05d}",
            stream.service,
            stream.name if stream.origin is None else stream.origin,
            [hub.node],
            stream.boxes * stream.teu_per_box,
        )
        train.box_count = stream.boxes
        train.teu = stream.boxes * stream.teu_per_box
        if stream.origin is not None:  # eastbound: the corridor brings it (arrive)
            assert hub.on_departure is not None
            train.direction = "east"
            train.departed_h = env.now
            self.records.inbound_trains.append(train)
            hub.on_departure(train)
            return
        self.records.inbound_trains.append(train)
        yield from self._at_hub(stream, train)

    def arrive(self, train: Train) -> None:
        """An eastbound train reached the hub over the corridor: it is unloaded."""
        self.env.process(self._at_hub(self.streams[train.service], train))

    def _boxes(self, stream: _Stream) -> deque[InboundBox]:
        """Each box's own (move wagon → yard, yard dwell, move yard → truck), drawn on
        arrival at the hub, and whether it is loaded (the first ones are)."""
        move, dwell = stream.move.draw, stream.dwell.draw
        loaded = stream.boxes
        if stream.loaded_u is not None:  # rounded at random: on average the share
            exact = stream.loaded_share * stream.boxes
            loaded = int(exact) + (1 if stream.loaded_u() < exact - int(exact) else 0)
        return deque((move(), dwell(), move(), k < loaded) for k in range(stream.boxes))

    def _at_hub(self, stream: _Stream, train: Train) -> Proc:
        """An inbound train from arrival at the hub to its track being free again."""
        env, hub = self.env, self.hub
        train.opened_h = env.now
        pending = self._boxes(stream)
        yield hub.yard.put(train.teu)  # space for all its boxes before it takes a track
        hub.yard_level.add(env.now, train.teu)
        self.level.add(env.now, train.teu)
        train.called_h = env.now
        with hub.tracks.request() as track:
            yield track
            hub.tracks_busy.add(env.now, 1)
            train.loading_start_h = env.now
            shunting = stream.shunting()
            if shunting > 0:
                yield env.timeout(shunting)
            if stream.use_cranes:
                unloaders = [
                    env.process(self._unloader(stream, pending))
                    for _ in range(min(hub.cranes_per_train, stream.boxes))
                ]
                yield env.all_of(unloaders)
            else:
                for box in pending:
                    if self.pool is not None and not box[3]:
                        self.pool.put(env.now, stream.teu_per_box, stripped=False)
                    spawn(env, self._collect(stream, box))
            train.loaded_h = env.now
            hub.tracks_busy.add(env.now, -1)
        if train.direction == "west":  # an eastbound train's departure is from its origin
            train.departed_h = env.now

    def _unloader(self, stream: _Stream, pending: deque[InboundBox]) -> Proc:
        while pending:
            box = pending.popleft()
            yield from self.hub.crane_move(box[0])  # wagon → yard
            if self.pool is not None and not box[3]:
                self.pool.put(self.env.now, stream.teu_per_box, stripped=False)
            spawn(self.env, self._collect(stream, box))

    def _collect(self, stream: _Stream, box: InboundBox) -> TaskGen:
        """A box's yard dwell, then the move yard → truck that frees its space (a task:
        one per inbound box)."""
        env, hub = self.env, self.hub
        _, dwell, move_out_h, loaded = box
        if dwell > 0:
            yield dwell
        if stream.use_cranes:
            yield from hub.crane_move(move_out_h)
        hub.yard.get(stream.teu_per_box)
        hub.yard_level.add(env.now, -stream.teu_per_box)
        self.level.add(env.now, -stream.teu_per_box)
        if self.pool is not None and loaded:  # stripped at the consignee, back empty
            self.pool.put(env.now, stream.teu_per_box, stripped=True)
