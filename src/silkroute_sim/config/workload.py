"""How much a run will create, checked before it starts.

Every shipment and train of a run is kept in memory until its tables are written, so a
config that asks for billions of them (a payload of a microgram, a century of 10 Mt/day)
would run for days and then exhaust the machine. The expected count is known from the
config alone; a run expected to exceed ``simulation.max_entities`` is refused with one
line that says which numbers drive it and what to change. Cargo is never dropped to
stay under the limit: an unstable hub still keeps every box, and says so (see
:func:`silkroute_sim.outputs.run_folder.saturation_warning`).
"""

from __future__ import annotations

import math

from silkroute_sim.config.distributions import Constant, Empirical, Triangular, Uniform
from silkroute_sim.config.schema import (
    CargoClassConfig,
    HybridPolicy,
    ScenarioConfig,
    SchedulePolicy,
)

Problem = tuple[str, str, object]


def units_per_day(cfg: ScenarioConfig) -> dict[str, float]:
    """Expected arrivals per day of each cargo class (inf for a zero mean payload)."""
    demand = cfg.demand
    out: dict[str, float] = {}
    for name, cls in demand.classes.items():
        if cls.origins is not None:
            out[name] = cls.units_per_day()
            continue
        mean_t = cls.payload_t.mean
        if cls.max_payload_t is not None:
            mean_t = min(mean_t, cls.max_payload_t)
        out[name] = demand.tonnes_per_day * cls.share / mean_t if mean_t > 0 else math.inf
    return out


def trains_per_day(cfg: ScenarioConfig) -> float:
    """Background and inbound trains per day (and the inbound trains' boxes)."""
    background = sum(
        s.mean_trains_per_day(cfg.simulation.days * 24.0) for s in cfg.corridor.background.values()
    )
    inbound = 0.0
    departures = outbound_trains_per_day(cfg) if cfg.hub.inbound else {}
    for s in cfg.hub.inbound.values():
        if s.trains_per_day is not None:
            rate = s.trains_per_day
        else:  # share_of_outbound inbound trains per departure of its services
            names = s.services if s.services is not None else list(cfg.services)
            rate = (s.share_of_outbound or 0.0) * sum(departures.get(n, 0.0) for n in names)
        inbound += rate * (s.boxes + 1)
    return background + inbound


def outbound_trains_per_day(cfg: ScenarioConfig) -> dict[str, float]:
    """Expected departures per day of each service: its timetable's slots, or the
    trains its cargo fills (by capacity or by tonnes, whichever binds first), plus
    for ``hybrid`` at most one part-loaded train per ``max_wait``."""
    from silkroute_sim.config.cargo_rules import service_map, unit_size, wagon_capacity

    units = units_per_day(cfg)
    load: dict[str, dict[str, float]] = {name: {} for name in cfg.services}
    tonnes: dict[str, float] = dict.fromkeys(cfg.services, 0.0)
    routed: dict[str, float] = dict.fromkeys(cfg.services, 0.0)
    for (cname, dest), sname in service_map(cfg).items():
        cls = cfg.demand.classes[cname]
        share = cls.destinations[dest] / sum(cls.destinations.values())
        rate = units[cname] * share
        size = unit_size(cfg.wagon_types[cls.wagon_type], cls)
        by_type = load[sname]
        by_type[cls.wagon_type] = by_type.get(cls.wagon_type, 0.0) + rate * size
        tonnes[sname] += rate * cls.payload_t.mean
        routed[sname] += rate
    out: dict[str, float] = {}
    for sname, service in cfg.services.items():
        policy = service.policy
        if isinstance(policy, SchedulePolicy):
            out[sname] = len(policy.departures) * len(policy.weekdays) / 7
            continue
        capacity = wagon_capacity(cfg.wagon_types, service)
        fills = sum(v / capacity[w] for w, v in load[sname].items() if capacity.get(w))
        trains = max(fills, tonnes[sname] / service.max_tonnes)
        if isinstance(policy, HybridPolicy):
            trains += min(routed[sname], 24.0 / policy.max_wait)
        out[sname] = trains
    return out


def disruption_events(cfg: ScenarioConfig) -> dict[str, float]:
    """Expected random disruption events over the run, by key path: each unit of a
    breakdown target fails about once per ``mtbf + mttr`` (calendar hours, busy or
    idle); weather comes at its monthly rates."""
    run_h = cfg.simulation.days * 24.0
    out: dict[str, float] = {}
    for i, item in enumerate(cfg.disruptions.random.breakdowns):
        if item.hub is not None:
            units = cfg.hub.cranes.count
        else:
            node = cfg.corridor.nodes.get(item.node or "")
            processing = node.processing if node is not None else None
            units = processing.tracks if processing is not None else 1
        cycle_h = item.mtbf.mean + item.mttr.mean
        out[f"disruptions.random.breakdowns.{i}"] = units * run_h / cycle_h
    for i, weather in enumerate(cfg.disruptions.random.weather):
        per_year = sum(weather.events_per_month)  # a month is a twelfth of 365 days
        out[f"disruptions.random.weather.{i}"] = per_year * cfg.simulation.days / 365
    return out


def expected_entities(cfg: ScenarioConfig) -> float:
    """Shipments, trains and random disruption events a run of ``cfg`` is expected to
    create."""
    per_day = sum(units_per_day(cfg).values()) + trains_per_day(cfg)
    return per_day * cfg.simulation.days + sum(disruption_events(cfg).values())


def check_workload(cfg: ScenarioConfig) -> Problem | None:
    """The first reason ``cfg`` cannot run in bounded time and memory, or None."""
    for name, rate in units_per_day(cfg).items():
        if math.isinf(rate):
            return (
                f"demand.classes.{name}.payload_t",
                "the mean payload is 0 t, so the demand would be an infinite number of units",
                None,
            )
    for name, cls in cfg.demand.classes.items():
        if not cls.by_ramp and cls.teu > cfg.hub.yard.capacity_teu:
            return (
                "hub.yard.capacity_teu",
                f"smaller than one {name} unit ({cls.teu:g} TEU): no box could enter the yard",
                cfg.hub.yard.capacity_teu,
            )
    problem = _check_heaviest_unit(cfg)
    if problem:
        return problem
    limit = cfg.simulation.max_entities
    for where, count in disruption_events(cfg).items():
        if count > limit:
            fix = "a longer mtbf" if ".breakdowns." in where else "lower events_per_month"
            return (
                where,
                f"the run would see about {_count(count)} random disruption events over "
                f"{cfg.simulation.days:,g} days, more than max_entities ({limit:,}), and "
                f"keeps them all in memory; give {fix}, or raise simulation.max_entities",
                None,
            )
    expected = expected_entities(cfg)
    if expected > limit:
        units = sum(units_per_day(cfg).values())
        trains = trains_per_day(cfg)
        n_events = sum(disruption_events(cfg).values())
        events = f" + {_count(n_events)} disruption events" if n_events >= 1 else ""
        return (
            "simulation",
            f"the run would create about {_count(expected)} shipments and trains "
            f"({_count(units)} units/day + {_count(trains)} other trains/day over "
            f"{cfg.simulation.days:,g} days{events}), more than max_entities ({limit:,}), "
            "and keeps them all in memory; shorten simulation.days or lower the demand, or raise "
            "simulation.max_entities on a machine with the memory (about 2.5 GB a million)",
            None,
        )
    return None


def payload_upper_t(cls: CargoClassConfig) -> float:
    """The heaviest payload a unit of ``cls`` can have (inf for unbounded distributions)."""
    dist = cls.payload_t
    upper = math.inf
    if isinstance(dist, Constant):
        upper = float(dist.value)
    elif isinstance(dist, Uniform | Triangular):
        upper = float(dist.high)
    elif isinstance(dist, Empirical):
        upper = float(max(dist.values))
    return min(upper, cls.max_payload_t) if cls.max_payload_t is not None else upper


#: how far an unbounded payload distribution is taken to reach (a unit beyond it is rarer
#: than one in ten billion for the laws the configs take)
UNBOUNDED_SDS = 10.0


def _check_heaviest_unit(cfg: ScenarioConfig) -> Problem | None:
    """A unit heavier than its train's max_tonnes could never leave: it would wait in the
    yard until the end of the run, and hold up the service's queue behind it. Refused when
    the payload distribution says it can happen: its largest value, or for an unbounded
    one without max_payload_t, :data:`UNBOUNDED_SDS` standard deviations above its mean."""
    from silkroute_sim.config.cargo_rules import service_map

    for (cname, _), sname in service_map(cfg).items():
        cls = cfg.demand.classes[cname]
        upper = payload_upper_t(cls)
        if not math.isfinite(upper):  # unbounded: ten standard deviations above the mean
            upper = cls.payload_t.mean + UNBOUNDED_SDS * math.sqrt(cls.payload_t.variance)
        limit = cfg.services[sname].max_tonnes
        if upper > limit:
            return (
                f"demand.classes.{cname}.payload_t",
                f"payloads up to {upper:,g} t do not fit a train of services.{sname} "
                f"(max_tonnes {limit:,g}); such a unit would wait forever; cap it with "
                "max_payload_t or raise max_tonnes",
                None,
            )
    return None


def _count(n: float) -> str:
    if n >= 1e12:
        return f"{n:.2g}"
    if n >= 1e9:
        return f"{n / 1e9:,.3g} billion"
    if n >= 1e6:
        return f"{n / 1e6:,.3g} million"
    return f"{n:,.0f}"
