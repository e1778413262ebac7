"""Disruptions: scheduled windows, equipment breakdowns, weather, closures and rerouting.

Nothing here runs unless the scenario has a ``disruptions:`` section; the model then
calls :func:`install`, which finds the affected resources (built adjustable from the
start, :mod:`silkroute_sim.model.disrupted`) and starts the processes that apply and lift
effects. Closures and rerouting are :mod:`silkroute_sim.model.routing`.

Effects and how overlapping ones compose (each target keeps the list of its active
effects and recomputes its state whenever one starts or ends):

* ``close`` wins over everything: a closed node processes no train and no train enters
  it; a closed edge admits no train; a closed hub resource serves nobody.
* ``capacity``: an absolute value (``tracks``, ``trains_per_day``, ``cranes``, ``lanes``,
  ``teu``) replaces the base value (several: the smallest); factors multiply onto it.
  Whole units are rounded to the nearest integer, at least one (use ``close`` for none).
  At a node a factor scales its tracks and its trains per day. A cut never stops work in
  hand: units are withdrawn as they finish.
* ``speed`` (edges): factors multiply. The speed a train gets is the one in force when
  it enters the edge.
* ``processing_time``: factors multiply; a service started in the window takes longer.

Closures and routing (corridor-facts §8: gales in the Alashankou pass, border
restrictions): before leaving a node a train looks along its path to the next node where
trains can be held (a node with processing tracks, a terminal or the hub). If a closed
node or edge lies on that stretch the train waits where it is (at the hub: on its loading
track, not dispatched) and is counted as *stranded*. Trains with route policy
``adaptive`` or ``shortest`` re-plan around closed elements at their origin and at
branching nodes, never turning back the way they came; a ``fixed`` route only waits.
Background trains obey the same closures on their fixed routes.

Breakdowns: every crane of the hub pool, or every processing track of a node, fails
after an up time drawn from ``mtbf`` (calendar hours, busy or idle) and is repaired after
``mttr``. A unit that fails mid-task finishes nothing until repaired; the task then
resumes with the time it had left (``on_repair: resume``) or starts over (``redo``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import networkx as nx
import simpy

from silkroute_sim.config.distributions import Exponential
from silkroute_sim.config.schema import (
    BreakdownConfig,
    DisruptionEffect,
    ScenarioConfig,
    ScheduledDisruption,
    WeatherDisruption,
)
from silkroute_sim.engine.monitors import LevelMonitor
from silkroute_sim.engine.pools import AdjustableContainer, FastPool, UnitPool, make_pool
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.model.records import DisruptionLog, DisruptionWindow, RunRecords
from silkroute_sim.model.routing import RouteGuard

if TYPE_CHECKING:
    from silkroute_sim.model.corridor import Corridor, EdgeState, NodeState
    from silkroute_sim.model.hub import Hub

Proc = Generator[simpy.Event, Any, None]
WeightFn = Callable[[str, str, dict[str, float]], float]
DAYS_PER_MONTH = 365 / 12


# --------------------------------------------------------------------------- resources


# --------------------------------------------------------------------------- composition


def _whole(value: float) -> int:
    return max(1, math.floor(value + 0.5))


class Control(ABC):
    """A disruptable target: keeps its active effects and re-applies their composition."""

    label = ""

    def __init__(self) -> None:
        self.active: list[tuple[str, DisruptionEffect]] = []

    def apply(self, event_id: str, spec: DisruptionEffect) -> None:
        self.active.append((event_id, spec))
        self.update()

    def lift(self, event_id: str) -> None:
        self.active = [(i, s) for i, s in self.active if i != event_id]
        self.update()

    def closed_by(self) -> list[str]:
        return [i for i, s in self.active if s.effect == "close"]

    def factor(self, effect: str) -> float:
        value = 1.0
        for _, spec in self.active:
            if spec.effect == effect and spec.factor is not None:
                value *= spec.factor
        return value

    def capacity(self, base: float | None, key: str, *, scaled: bool = True) -> float | None:
        """Base (or the smallest absolute ``key`` value) times the capacity factors."""
        absolute = [
            float(getattr(s, key))
            for _, s in self.active
            if s.effect == "capacity" and getattr(s, key) is not None
        ]
        value = min(absolute) if absolute else base
        if value is not None and scaled:
            value *= self.factor("capacity")
        return value

    @abstractmethod
    def update(self) -> None:
        """Re-apply the composition of the active effects to the target."""


class NodeControl(Control):
    def __init__(self, node: NodeState, guard: RouteGuard) -> None:
        super().__init__()
        self.node = node
        self.guard = guard
        self.label = node.name
        if node.tracks is not None and not isinstance(node.tracks, UnitPool):
            # a node touched only through a group (model.disrupted reads single targets):
            # made adjustable before the run starts, while no train holds a track
            node.tracks = make_pool(guard.env, node.track_count, adjustable=True)
        self.base_tracks = node.track_count if node.tracks is not None else 0
        self.base_headway_h = node.headway_h
        self.base_tpd = 24.0 / node.headway_h if node.headway_h > 0 else None
        self.base_cranes = node.cranes

    def update(self) -> None:
        node = self.node
        closed = self.closed_by()
        self.guard.set_closed_node(node.name, closed)
        if node.tracks is None:
            return
        tracks = 0 if closed else _whole(self.capacity(self.base_tracks, "tracks") or 1)
        assert isinstance(node.tracks, UnitPool)
        node.tracks.set_limit(tracks)
        node.track_count = max(tracks, 1)
        tpd = self.capacity(self.base_tpd, "trains_per_day")
        node.headway_h = 24.0 / tpd if tpd else 0.0
        node.cranes = _whole(self.capacity(self.base_cranes, "cranes", scaled=False) or 1)
        node.time_factor = self.factor("processing_time")


class GroupControl(Control):
    """A group of nodes (``nodes``, ``country_border``): one event acts on each node's
    own control, so it composes there with the events on that node alone."""

    def __init__(self, members: list[Control], label: str) -> None:
        super().__init__()
        self.members = members
        self.label = label

    def apply(self, event_id: str, spec: DisruptionEffect) -> None:
        for member in self.members:
            member.apply(event_id, spec)

    def lift(self, event_id: str) -> None:
        for member in self.members:
            member.lift(event_id)

    def update(self) -> None:
        """Nothing of its own: each member updates when the event reaches it."""


class EdgeControl(Control):
    def __init__(self, pairs: list[tuple[str, str]], edges: list[EdgeState], guard: RouteGuard):
        super().__init__()
        self.pairs = pairs
        self.edges = edges
        self.guard = guard
        guard.edges_disrupted = True
        self.base = [(e.run_h, 24.0 / e.headway_h if e.headway_h > 0 else None) for e in edges]

    def update(self) -> None:
        closed = self.closed_by()
        for pair in self.pairs:
            self.guard.set_closed_edge(pair, closed)
        speed = self.factor("speed")
        for edge, (run_h, capacity) in zip(self.edges, self.base, strict=True):
            edge.run_h = run_h / speed
            tpd = self.capacity(capacity, "trains_per_day")
            edge.headway_h = 24.0 / tpd if tpd else 0.0


class HubControl(Control):
    """One hub resource: cranes, gate lanes, loading tracks or the yard."""

    def __init__(self, hub: Hub, resource: str) -> None:
        super().__init__()
        self.hub = hub
        self.resource = resource
        cfg_count = {
            "cranes": hub.crane_count,
            "gate": hub.gate.capacity,
            "loading_tracks": hub.tracks.capacity,
            "yard": hub.yard.capacity,
        }
        self.base = float(cfg_count[resource])
        self.key = {"cranes": "cranes", "gate": "lanes", "loading_tracks": "tracks", "yard": "teu"}[
            resource
        ]

    def update(self) -> None:
        hub = self.hub
        closed = bool(self.closed_by())
        value = self.capacity(self.base, self.key) or 0.0
        time_factor = self.factor("processing_time")
        if self.resource == "yard":
            assert isinstance(hub.yard, AdjustableContainer)
            hub.yard.set_limit(0.0 if closed else value)
            return
        limit = 0 if closed else _whole(value)
        if self.resource == "cranes":
            assert isinstance(hub.cranes, UnitPool)
            hub.cranes.set_limit(limit)
            hub.move_time_factor = time_factor
        elif self.resource == "gate":
            assert isinstance(hub.gate, UnitPool)
            hub.gate.set_limit(limit)
            hub.gate_time_factor = time_factor
        else:
            assert isinstance(hub.tracks, UnitPool)
            hub.tracks.set_limit(limit)
            hub.formation_time_factor = time_factor


# --------------------------------------------------------------------------- processes


def _edge_pairs(graph: nx.DiGraph, edge: list[str], directed: bool) -> list[tuple[str, str]]:
    a, b = edge
    pairs = [(a, b)] if directed else [(a, b), (b, a)]
    return [p for p in pairs if graph.has_edge(*p)]


class Disruptions:
    """Builds the controls for one run and starts the disruption processes."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: ScenarioConfig,
        streams: Streams,
        records: RunRecords,
        hub: Hub,
        corridor: Corridor,
        guard: RouteGuard,
    ) -> None:
        self.env = env
        self.cfg = cfg
        self.streams = streams
        self.records = records
        self.hub = hub
        self.corridor = corridor
        self.guard = guard
        self.log = self.guard.log
        self.controls: dict[str, Control] = {}
        section = cfg.disruptions
        effects: list[DisruptionEffect] = [*section.scheduled, *section.random.weather]
        for spec in effects:  # capture every target's base values before any effect
            self.control(spec)
        end_h = cfg.simulation.days * 24.0
        for event in section.scheduled:
            if event.start >= end_h:
                records.warnings.append(
                    f"disruption {event.id} starts after the end of the run; it has no effect"
                )
                continue
            env.process(self._scheduled(event))
        for weather in section.random.weather:
            if sum(weather.events_per_month) > 0:
                env.process(self._weather(weather))
        for breakdown in section.random.breakdowns:
            self._start_breakdowns(breakdown)

    # -------------------------------------------------------------- set-up

    def control(self, spec: DisruptionEffect) -> Control:
        key = spec.target_label()
        if key not in self.controls:
            if spec.node is not None:
                self.controls[key] = NodeControl(self.corridor.nodes[spec.node], self.guard)
            elif spec.is_group():
                members = [
                    self.controls.get(name)
                    or self.controls.setdefault(
                        name, NodeControl(self.corridor.nodes[name], self.guard)
                    )
                    for name in spec.members(self.cfg.corridor)
                ]
                self.controls[key] = GroupControl(members, key)
            elif spec.edge is not None:
                pairs = _edge_pairs(self.corridor.graph, spec.edge, spec.directed)
                edges = [self.corridor.edges[p] for p in pairs]
                self.controls[key] = EdgeControl(pairs, edges, self.guard)
            else:
                self.controls[key] = HubControl(self.hub, spec.hub or "")
        return self.controls[key]

    def _window(
        self, event_id: str, kind: str, spec: DisruptionEffect, start_h: float, end_h: float
    ) -> None:
        pairs = (
            tuple(_edge_pairs(self.corridor.graph, spec.edge, spec.directed))
            if spec.edge is not None
            else ()
        )
        self.log.windows.append(
            DisruptionWindow(
                event_id,
                kind,
                spec.target_label(),
                spec.effect,
                start_h,
                end_h,
                node=spec.node,
                edges=pairs,
                hub=spec.hub,
            )
        )

    # -------------------------------------------------------------- processes

    def _scheduled(self, event: ScheduledDisruption) -> Proc:
        env = self.env
        control = self.control(event)
        event_id = event.id or event.target_label()
        yield env.timeout(event.start - env.now)
        self._window(event_id, "scheduled", event, event.start, event.end_h)
        control.apply(event_id, event)
        yield env.timeout(event.end_h - env.now)
        control.lift(event_id)

    def _weather(self, spec: WeatherDisruption) -> Proc:
        """Events of a Poisson process with a monthly rate; the rate is constant within
        a month, so the draw restarts at each month boundary (memoryless)."""
        env = self.env
        name = f"disruptions.weather.{spec.id}"
        gap = self.streams.sampler(
            f"{name}.arrivals",
            Exponential[float].model_validate({"dist": "exponential", "mean": 1.0}),
        )
        duration = self.streams.sampler(f"{name}.duration", spec.duration)
        control = self.control(spec)
        month_h = DAYS_PER_MONTH * 24.0
        start_month = self.cfg.simulation.start_month - 1
        t, count = 0.0, 0
        while True:
            k = int(t // month_h)
            rate = spec.events_per_month[(start_month + k) % 12] / month_h
            month_end = (k + 1) * month_h
            t_next = t + gap() / rate if rate > 0 else month_end
            if t_next >= month_end:
                t = month_end
                continue
            t = t_next
            yield env.timeout(t - env.now)
            count += 1
            event_id = f"{spec.id}#{count:03d}"
            hours = duration()
            self._window(event_id, "weather", spec, t, t + hours)
            control.apply(event_id, spec)
            env.process(self._lift_later(control, event_id, hours))

    def _lift_later(self, control: Control, event_id: str, hours: float) -> Proc:
        yield self.env.timeout(hours)
        control.lift(event_id)

    def _start_breakdowns(self, spec: BreakdownConfig) -> None:
        pool: FastPool | UnitPool | None
        if spec.hub == "cranes":
            pool = self.hub.cranes
            monitor_name, unit_name, label = "cranes_down", "cranes", "hub.cranes"
        else:
            node = spec.node or ""
            pool = self.corridor.nodes[node].tracks
            monitor_name, unit_name, label = f"tracks_down:{node}", "tracks", node
        monitors = self.records.monitors
        monitor = monitors.get(monitor_name) or self.records.monitor(monitor_name, unit_name)
        assert isinstance(pool, UnitPool)
        for unit in range(pool.units):
            name = f"disruptions.breakdowns.{spec.id}.{unit}"
            up = self.streams.sampler(f"{name}.up", spec.mtbf)
            repair = self.streams.sampler(f"{name}.repair", spec.mttr)
            self.env.process(self._breakdowns(spec, pool, unit, up, repair, monitor, label))

    def _breakdowns(
        self,
        spec: BreakdownConfig,
        pool: UnitPool,
        unit: int,
        up: Sampler,
        repair: Sampler,
        monitor: LevelMonitor,
        label: str,
    ) -> Proc:
        env = self.env
        count = 0
        while True:
            yield env.timeout(up())
            count += 1
            hours = repair()
            self.log.windows.append(
                DisruptionWindow(
                    f"{spec.id}#{unit}.{count:03d}",
                    "breakdown",
                    f"{label}[{unit}]",
                    "breakdown",
                    env.now,
                    env.now + hours,
                    node=spec.node,
                    hub=spec.hub,
                )
            )
            pool.fail(unit)
            monitor.add(env.now, 1)
            yield env.timeout(hours)
            pool.repair(unit)
            monitor.add(env.now, -1)


def install(
    env: simpy.Environment,
    cfg: ScenarioConfig,
    streams: Streams,
    records: RunRecords,
    hub: Hub,
    corridor: Corridor,
) -> DisruptionLog | None:
    """Wire the scenario's disruptions and finite holding into one run (the route guard,
    :mod:`silkroute_sim.model.routing`); the disruption log, None when it has none."""
    holding = any(node.holding is not None for node in cfg.corridor.nodes.values())
    if not cfg.disruptions.any() and not holding:
        return None
    guard = RouteGuard(env, corridor, records, cfg)
    corridor.guard = guard
    hub.departure_hold = guard.hold_departure
    if not cfg.disruptions.any():
        return None
    return Disruptions(env, cfg, streams, records, hub, corridor, guard).log
