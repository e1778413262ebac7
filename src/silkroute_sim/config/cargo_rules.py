"""Cargo classes, wagon types and which service carries what: facts derived once from a
validated config, shared by the checks, demand, the hub and metrics.

* :class:`ClassSpec` — per cargo class: its unit, whether it is driven on by ramp (from
  the vehicle compound) or craned (from the TEU yard), its wagon type, the capacity one
  unit takes on that wagon type (``size``) and its TEU footprint in the yard.
* :func:`service_map` — the one service that carries each (class, destination) pair. A
  service with a ``classes`` list carries those classes to its stops; a service without
  one carries every class bound for its stops that no service lists explicitly.
* :func:`check_cargo` — the cross-field checks of classes, wagon types and services.

Capacity is counted per wagon type in that type's measure: TEU for wagons that carry
``teu`` (a 40 ft container flat takes 2 TEU), wagons for wagons that carry ``units``
(a unit of a class with ``units_per_wagon: 9`` takes 1/9 of a car carrier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from silkroute_sim.config.errors import did_you_mean
from silkroute_sim.config.schema import (
    CONTAINER_WAGON,
    CargoClassConfig,
    ScenarioConfig,
    ServiceConfig,
    WagonTypeConfig,
)

Problem = tuple[str, str, object]
EPS: Final = 1e-9


@dataclass(frozen=True)
class ClassSpec:
    """What the model needs to know about one cargo class."""

    name: str
    unit: str
    group: str
    ramp: bool
    wagon_type: str
    size: float  # capacity of ``wagon_type`` one unit takes (TEU, or wagons)
    teu: float  # footprint in the yard (0: the class waits in the vehicle compound)


def unit_size(wagon: WagonTypeConfig, cls: CargoClassConfig) -> float:
    """Capacity one unit of ``cls`` takes on a ``wagon`` (TEU, or a fraction of a wagon)."""
    if wagon.carries == "teu":
        return cls.teu
    return 1.0 / (cls.units_per_wagon or 1.0)


def class_specs(cfg: ScenarioConfig) -> dict[str, ClassSpec]:
    out = {}
    for name, cls in cfg.demand.classes.items():
        ramp = cls.by_ramp
        out[name] = ClassSpec(
            name=name,
            unit=cls.unit,
            group=cls.group or name,
            ramp=ramp,
            wagon_type=cls.wagon_type,
            size=unit_size(cfg.wagon_types[cls.wagon_type], cls),
            teu=0.0 if ramp else cls.teu,
        )
    return out


def wagon_capacity(
    wagon_types: Mapping[str, WagonTypeConfig], service: ServiceConfig
) -> dict[str, float]:
    """The train's capacity by wagon type: TEU (``capacity_teu`` is the container
    wagons' TEU) or a number of wagons."""
    out: dict[str, float] = {}
    if service.capacity_teu is not None:
        out[CONTAINER_WAGON] = service.capacity_teu
    for name, count in service.wagons.items():
        wagon = wagon_types[name]
        out[name] = count * wagon.teu_per_wagon if wagon.teu_per_wagon else float(count)
    return out


# --------------------------------------------------------------------------- who carries what


def service_candidates(cfg: ScenarioConfig) -> dict[tuple[str, str], list[str]]:
    """The services that would carry each (class, destination) pair: those that list the
    class, or else those without a ``classes`` list calling there."""
    explicit: dict[tuple[str, str], list[str]] = {}
    implicit: dict[str, list[str]] = {}
    for sname, service in cfg.services.items():
        for stop in service.stops:
            if service.classes is None:
                implicit.setdefault(stop, []).append(sname)
            else:
                for cname in service.classes:
                    explicit.setdefault((cname, stop), []).append(sname)
    out = {}
    for cname, cls in cfg.demand.classes.items():
        for dest in cls.destinations:
            out[(cname, dest)] = explicit.get((cname, dest)) or implicit.get(dest, [])
    return out


def service_map(cfg: ScenarioConfig) -> dict[tuple[str, str], str]:
    """(class, destination) → the service that carries it (the config is validated)."""
    return {pair: names[0] for pair, names in service_candidates(cfg).items() if names}


def _unknown(kind: str, name: str, allowed: Iterable[str], where: str) -> str:
    names = list(allowed)
    hint = did_you_mean(name, names)
    return f"unknown {kind}{hint}; it must be one of {where}: {', '.join(names)}"


def check_cargo(cfg: ScenarioConfig) -> Problem | None:
    """Cross-checks of classes, wagon types and services; the first problem or None."""
    classes = cfg.demand.classes
    wagon_types = cfg.wagon_types
    for cname, cls in classes.items():
        where = f"demand.classes.{cname}"
        if cls.wagon_type not in wagon_types:
            message = _unknown("wagon type", cls.wagon_type, wagon_types, "wagon_types")
            return (f"{where}.wagon_type", message, cls.wagon_type)
        wagon = wagon_types[cls.wagon_type]
        if cls.units_per_wagon is not None and wagon.carries == "teu":
            return (
                f"{where}.units_per_wagon",
                f"wagon type {cls.wagon_type!r} carries teu: a unit takes its teu "
                f"({cls.teu:g}); units_per_wagon applies to wagon types that carry units",
                cls.units_per_wagon,
            )
        if cls.by_ramp and cfg.hub.compound is None:
            return (
                "hub.compound",
                f"required: class {cname!r} is driven on by ramp from the vehicle compound; "
                "give capacity_units, ramps and drive_on_time",
                None,
            )
    for sname, service in cfg.services.items():
        for wname in service.wagons:
            if wname not in wagon_types:
                message = _unknown("wagon type", wname, wagon_types, "wagon_types")
                return (f"services.{sname}.wagons.{wname}", message, wname)
        for k, cname in enumerate(service.classes or []):
            if cname not in classes:
                message = _unknown("cargo class", cname, classes, "demand.classes")
                return (f"services.{sname}.classes.{k}", message, cname)
    problem = _check_service_of(cfg)
    if problem:
        return problem
    return _check_capacity(cfg)


def _check_service_of(cfg: ScenarioConfig) -> Problem | None:
    calling: dict[str, list[str]] = {}
    for sname, service in cfg.services.items():
        for stop in service.stops:
            calling.setdefault(stop, []).append(sname)
    for (cname, dest), names in service_candidates(cfg).items():
        where = f"demand.classes.{cname}.destinations.{dest}"
        if not names and dest not in calling:
            return (where, f"no service calls at {dest}; add it to the stops of a service", dest)
        if not names:
            return (
                where,
                f"no service carries {cname} to {dest}: the services calling there "
                f"({', '.join(calling[dest])}) list other classes; add {cname} to the "
                "classes of one",
                dest,
            )
        if len(names) > 1:
            second = cfg.services[names[1]]
            if second.classes is None:
                return (
                    f"services.{names[1]}.stops.{second.stops.index(dest)}",
                    f"{dest} is already served by service {names[0]!r}; each destination "
                    "has one service per cargo class (list the classes each one carries)",
                    dest,
                )
            return (
                f"services.{names[1]}.classes.{second.classes.index(cname)}",
                f"{cname} to {dest} is already carried by service {names[0]!r}; each "
                "(class, destination) has exactly one service",
                cname,
            )
    return None


def _check_capacity(cfg: ScenarioConfig) -> Problem | None:
    carried: dict[str, list[str]] = {}
    for (cname, _), sname in service_map(cfg).items():
        if cname not in carried.setdefault(sname, []):
            carried[sname].append(cname)
    for sname, service in cfg.services.items():
        capacity = wagon_capacity(cfg.wagon_types, service)
        for cname in carried.get(sname, []):
            cls = cfg.demand.classes[cname]
            wtype = cls.wagon_type
            key = "capacity_teu" if wtype == CONTAINER_WAGON else f"wagons.{wtype}"
            if wtype not in capacity:
                return (
                    f"services.{sname}",
                    f"carries {cname}, which rides on {wtype!r} wagons, but its train has "
                    f"none; give {key} (or a service with classes: [{cname}])",
                    None,
                )
            size = unit_size(cfg.wagon_types[wtype], cls)
            if capacity[wtype] < size - EPS:
                if wtype == CONTAINER_WAGON:
                    message = f"a train smaller than one {cname} unit ({cls.teu:g} TEU)"
                else:
                    message = f"fewer {wtype} wagons than one {cname} unit takes ({size:g})"
                return (f"services.{sname}.{key}", message, capacity[wtype])
            top = cls.max_payload_t or cls.payload_t.mean
            if service.max_tonnes < top:
                return (
                    f"services.{sname}.max_tonnes",
                    f"below one {cname} unit ({top:g} t)",
                    service.max_tonnes,
                )
    for name, stream in cfg.hub.inbound.items():
        for k, sname in enumerate(stream.services or []):
            if sname not in cfg.services:
                message = _unknown("service", sname, cfg.services, "services")
                return (f"hub.inbound.{name}.services.{k}", message, sname)
    return None
