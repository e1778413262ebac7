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
from silkroute_sim.config.schema import CargoClassConfig, ScenarioConfig

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
    background = sum(s.trains_per_day for s in cfg.corridor.background.values())
    inbound = sum((s.trains_per_day or 0.0) * (s.boxes + 1) for s in cfg.hub.inbound.values())
    return background + inbound


def expected_entities(cfg: ScenarioConfig) -> float:
    """Shipments and trains a run of ``cfg`` is expected to create."""
    per_day = sum(units_per_day(cfg).values()) + trains_per_day(cfg)
    return per_day * cfg.simulation.days


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
    expected = expected_entities(cfg)
    limit = cfg.simulation.max_entities
    if expected > limit:
        units = sum(units_per_day(cfg).values())
        trains = trains_per_day(cfg)
        return (
            "simulation",
            f"the run would create about {_count(expected)} shipments and trains "
            f"({_count(units)} units/day + {_count(trains)} other trains/day over "
            f"{cfg.simulation.days:,g} days), more than max_entities ({limit:,}), and keeps "
            "them all in memory; shorten simulation.days or lower the demand, or raise "
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


def _check_heaviest_unit(cfg: ScenarioConfig) -> Problem | None:
    """A unit heavier than its train's max_tonnes could never leave: it would wait in the
    yard until the end of the run. Refused when the payload distribution says it can
    happen (bounded distributions, or max_payload_t)."""
    from silkroute_sim.config.cargo_rules import service_map

    for (cname, _), sname in service_map(cfg).items():
        cls = cfg.demand.classes[cname]
        upper = payload_upper_t(cls)
        limit = cfg.services[sname].max_tonnes
        if math.isfinite(upper) and upper > limit:
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
