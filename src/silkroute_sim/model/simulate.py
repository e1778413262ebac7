"""One simulation run: wires demand, hub and corridor together. No file I/O."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import networkx as nx
import simpy

from silkroute_sim.config.cargo_rules import service_map
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.config.simulation import check_seed
from silkroute_sim.engine.resources import Engine
from silkroute_sim.engine.rng import Streams
from silkroute_sim.model.corridor import Corridor
from silkroute_sim.model.demand import Demand
from silkroute_sim.model.dispatch import Dispatcher
from silkroute_sim.model.disruptions import install
from silkroute_sim.model.hub import Hub
from silkroute_sim.model.network import build_graph
from silkroute_sim.model.records import DisruptionLog, RunRecords

ProgressFn = Callable[[float, float], None]

#: simulated days between two stops of the engine (record compaction, progress)
SLICE_DAYS = 1.0


@dataclass
class Ledger:
    """Tonnes by state at the end of the run (integer kg, so the balance is exact)."""

    arrived_kg: int
    gate_kg: int
    yard_kg: int
    on_train_kg: int
    delivered_kg: int
    departed_kg: int

    @property
    def conservation_error_t(self) -> float:
        held = self.gate_kg + self.yard_kg + self.on_train_kg + self.delivered_kg
        return (self.arrived_kg - held) / 1000


@dataclass
class RunResult:
    """Everything one run produced, in memory."""

    config: ScenarioConfig
    seed: int
    graph: nx.DiGraph
    records: RunRecords
    ledger: Ledger
    end_h: float
    warmup_h: float
    events: int  #: events the engine processed
    wall_s: float
    cranes: int
    services: dict[str, float] = field(default_factory=dict)
    disruptions: DisruptionLog | None = None


def _events_processed(env: simpy.Environment) -> int:
    if isinstance(env, Engine):
        return env.processed
    counter = getattr(env, "_eid", None)  # another engine: the events it scheduled
    return int(next(counter)) if counter is not None else -1


@contextmanager
def _young_gc_batched(threshold: int = 50_000) -> Iterator[None]:
    """Collect the youngest generation every ``threshold`` allocations instead of every
    700 while the event loop runs. Most of what a step allocates (events, callbacks,
    tuples) is freed by reference counting within microseconds; the default threshold
    makes the cyclic collector walk it again and again (about 10 % of a run's time).
    Nothing is left uncollected: only the batching changes, and it is restored after."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def simulate(
    cfg: ScenarioConfig, seed: int | None = None, progress: ProgressFn | None = None
) -> RunResult:
    """Run ``cfg`` once with ``seed`` (default: ``cfg.simulation.seed``)."""
    started = time.perf_counter()
    if not isinstance(cfg, ScenarioConfig):
        raise SilkrouteError(
            f"simulate: expected a scenario (load_config(...)), got {type(cfg).__name__}"
        )
    try:
        run_seed = cfg.simulation.seed if seed is None else check_seed(seed, "simulate: seed")
    except ValueError as exc:
        raise SilkrouteError(str(exc)) from None
    streams = Streams(run_seed)
    env = Engine()
    records = RunRecords()
    graph = build_graph(cfg.corridor)
    hub = Hub(env, cfg, streams, records)
    corridor = Corridor(env, cfg, graph, streams, records, hub)
    hub.on_departure = corridor.depart
    for name, service in cfg.services.items():
        hub.dispatchers[name] = Dispatcher(env, hub, name, service)
    demand = Demand(cfg, streams, service_map(cfg))  # (class, destination) → service
    demand.start(env, hub.receive)
    for name, stream in cfg.corridor.background.items():
        corridor.start_background(name, stream)
    disruption_log = install(env, cfg, streams, records, hub, corridor)

    end_h = cfg.simulation.days * 24.0
    days = cfg.simulation.days
    with _young_gc_batched():
        # in slices of SLICE_DAYS: between two, the records are compacted and progress is
        # told; stopping and going on changes nothing in the run (tests/test_engine.py)
        day = 0.0
        while day < days:
            day = min(day + SLICE_DAYS, days)
            env.run(until=day * 24.0)
            records.compact()
            if progress is not None:
                progress(day, days)

    for dispatcher in hub.dispatchers.values():
        dispatcher.finish(end_h)
    records = records.hand_over()  # freed with the result, not with the model's cycles
    ledger = Ledger(
        hub.kg_arrived, hub.kg_gate, hub.kg_yard, hub.kg_on_train, hub.kg_delivered, hub.kg_departed
    )
    return RunResult(
        config=cfg,
        seed=run_seed,
        graph=graph,
        records=records,
        ledger=ledger,
        end_h=end_h,
        warmup_h=cfg.simulation.warmup_days * 24.0,
        events=_events_processed(env),
        wall_s=time.perf_counter() - started,
        cranes=cfg.hub.cranes.count,
        disruptions=disruption_log,
    )
