"""Costs and emissions of moving a box (the ``costs`` and ``emissions`` sections).

Every amount is in USD (euro tariffs converted in ``configs/costs.yaml``), per FEU (a 40 ft
box; a 20 ft box pays half) unless the name says otherwise. The defaults here are neutral
(no charge, no emission), so a config without the sections costs nothing and keeps its
hash; the sourced values live in ``configs/costs.yaml``. See docs/costs.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from silkroute_sim.config.corridor import CountryCode
from silkroute_sim.config.errors import did_you_mean
from silkroute_sim.config.fields import Fraction, Name, NonNegFloat, StrictModel

if TYPE_CHECKING:
    from silkroute_sim.config.schema import ScenarioConfig

#: the largest plausible amount per FEU of one charge (USD); well above any tariff seen
MAX_USD = 1_000_000.0


class StorageTier(StrictModel):
    """From ``after_days`` (days since the box arrived) on, ``usd_per_teu_day``."""

    after_days: NonNegFloat = Field(le=3650)
    usd_per_teu_day: NonNegFloat = Field(le=10_000)


class StorageTariff(StrictModel):
    """Storage of a box at a terminal: free until the first tier's ``after_days``, then
    each tier's daily rate per TEU until the next tier starts. Days are counted in
    fractions (a tariff billed per started day charges a little more)."""

    tiers: list[StorageTier] = Field(default_factory=list, max_length=50)
    one_off_usd_per_box: NonNegFloat = Field(
        0.0, le=MAX_USD, description="a fee charged once a box pays any storage"
    )

    @model_validator(mode="after")
    def _tiers_in_order(self) -> StorageTariff:
        starts = [tier.after_days for tier in self.tiers]
        if starts != sorted(set(starts)):
            raise ValueError(
                f"storage tiers must start at increasing after_days, got {starts}; "
                "list them in order, each day once"
            )
        return self


class SubsidyConfig(StrictModel):
    """A subsidy to the rail freight of boxes that leave the hub before ``ends``: the
    smaller of ``usd_per_feu`` and ``max_share`` of the rail freight before it."""

    usd_per_feu: NonNegFloat = Field(0.0, le=MAX_USD)
    max_share: Fraction = 1.0
    ends: dt.date | None = Field(
        None,
        description="boxes leaving the hub on or after this date get none (needs "
        "simulation.start_date)",
    )


class CostsConfig(StrictModel):
    """What the shipper pays the carriers, by segment, and the cost of time."""

    rail_usd_per_feu_km: dict[CountryCode, Annotated[NonNegFloat, Field(le=100)]] = Field(
        default_factory=dict,
        max_length=300,
        description="rail tariff per loaded FEU-km on each national network",
    )
    rail_other_usd_per_feu_km: NonNegFloat = Field(
        0.0, le=100, description="tariff on a network not listed (or a node without country)"
    )
    truck_to_hub_usd_per_feu: NonNegFloat = Field(0.0, le=MAX_USD)
    hub_handling_usd_per_feu: NonNegFloat = Field(0.0, le=MAX_USD)
    border_fee_usd_per_feu: NonNegFloat = Field(
        0.0, le=MAX_USD, description="at each border station a box's train passes"
    )
    gauge_change_usd_per_feu: NonNegFloat = Field(
        0.0, le=MAX_USD, description="at each gauge change along the route"
    )
    destination_handling_usd_per_feu: NonNegFloat = Field(0.0, le=MAX_USD)
    destination_handling_by_node: dict[Name, Annotated[NonNegFloat, Field(le=MAX_USD)]] = Field(
        default_factory=dict, max_length=1000, description="a terminal's own handling charge"
    )
    hub_storage: StorageTariff = Field(default_factory=StorageTariff)
    destination_storage: StorageTariff = Field(default_factory=StorageTariff)
    train_hold_usd_per_h: NonNegFloat = Field(
        0.0, le=100_000, description="a train held on the corridor (wagons, locomotive, crew)"
    )
    train_hold_free_h: NonNegFloat = Field(0.0, le=10_000)
    wagon_feu_equivalent: NonNegFloat = Field(
        2.0, gt=0, le=10, description="FEU a wagon of unit cargo (cars) is charged as"
    )
    subsidy: SubsidyConfig = Field(default_factory=SubsidyConfig)
    cargo_value_usd_per_feu: NonNegFloat = Field(
        0.0, le=100_000_000, description="cargo value of a class without its own value_usd"
    )
    carrying_rate_per_year: Fraction = Field(
        0.0, description="inventory carrying cost, share of the cargo value per year"
    )
    carrying_rate_by_class: dict[Name, Fraction] = Field(default_factory=dict, max_length=1000)
    ferry_usd_per_feu: NonNegFloat = Field(
        0.0, le=MAX_USD, description="freight of a sea leg (an edge with mode: ferry), per leg"
    )
    ferry_usd_per_feu_km: NonNegFloat = Field(
        0.0, le=100, description="freight of a sea leg per FEU-km, on top of the per-leg charge"
    )
    port_handling_usd_per_feu: NonNegFloat = Field(
        0.0, le=MAX_USD, description="at each port (an end of a ferry edge) a box calls at"
    )
    port_handling_by_node: dict[Name, Annotated[NonNegFloat, Field(le=MAX_USD)]] = Field(
        default_factory=dict, max_length=1000, description="a port's own handling charge"
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_at_default(self, handler, SEA_COST_KEYS)


class TractionConfig(StrictModel):
    """How trains are hauled on one national network."""

    electric_share: Fraction = 0.0
    grid_g_per_kwh: NonNegFloat = Field(0.0, le=2000, description="lifecycle CO2e of power")


class EmissionsConfig(StrictModel):
    """Well-to-wheel CO2e factors by segment, GLEC style: traction energy per gross
    tonne-km of the train (wagons, boxes, cargo) shared among its boxes by their tonnes,
    handling per lift, and the truck to the hub."""

    traction: dict[CountryCode, TractionConfig] = Field(default_factory=dict, max_length=300)
    traction_other: TractionConfig = Field(default_factory=TractionConfig)
    electric_kwh_per_gross_tkm: NonNegFloat = Field(0.0, le=1)
    grid_losses: NonNegFloat = Field(0.0, le=1, description="transmission losses (share)")
    diesel_l_per_gross_tkm: NonNegFloat = Field(0.0, le=0.1)
    diesel_kg_per_l_wtw: NonNegFloat = Field(0.0, le=10)
    wagon_tare_t_per_feu: NonNegFloat = Field(0.0, le=100)
    box_tare_t_per_feu: NonNegFloat = Field(0.0, le=20)
    empty_running_factor: float = Field(1.0, ge=1, le=5)
    handling_kg_per_lift: NonNegFloat = Field(0.0, le=1000)
    hub_lifts: NonNegFloat = Field(0.0, le=20)
    gauge_change_lifts: NonNegFloat = Field(0.0, le=20)
    destination_lifts: NonNegFloat = Field(0.0, le=20)
    truck_km_to_hub: NonNegFloat = Field(0.0, le=10_000)
    truck_g_per_tkm: NonNegFloat = Field(0.0, le=1000)
    ferry_g_per_tkm: NonNegFloat = Field(
        0.0, le=1000, description="a sea leg, well to wheel, per tonne of cargo and km"
    )
    port_handling_kg_per_feu: NonNegFloat = Field(
        0.0, le=1000, description="handling of a box at each port it calls at"
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_at_default(self, handler, SEA_EMISSION_KEYS)


#: keys added for sea legs; left out of the resolved config at their default (no charge), so
#: configs written before them keep their hash
SEA_COST_KEYS: dict[str, object] = {
    "ferry_usd_per_feu": 0.0,
    "ferry_usd_per_feu_km": 0.0,
    "port_handling_usd_per_feu": 0.0,
    "port_handling_by_node": {},
}
SEA_EMISSION_KEYS: dict[str, object] = {"ferry_g_per_tkm": 0.0, "port_handling_kg_per_feu": 0.0}


def _drop_at_default(
    model: Any, handler: SerializerFunctionWrapHandler, defaults: Mapping[str, object]
) -> dict[str, Any]:
    data: dict[str, Any] = handler(model)
    for key, default in defaults.items():
        if key in data and data[key] == default:
            del data[key]
    return data


def _unknown(kind: str, name: str, known: Iterable[str], allowed: str) -> str:
    return f"unknown {kind}{did_you_mean(name, known)}; it must be one of {allowed}"


def check_costs(cfg: ScenarioConfig) -> tuple[str, str, object] | None:
    """The first name in ``costs`` that the scenario does not know, as ``(key path,
    message, value)``, or None: a misspelt name would silently fall back to the default
    rate. Cargo classes of ``carrying_rate_by_class`` must be ``demand.classes``; nodes of
    ``destination_handling_by_node`` corridor nodes; ports of ``port_handling_by_node``
    corridor nodes at an end of an edge with ``mode: ferry``."""
    costs, nodes = cfg.costs, cfg.corridor.nodes
    classes = cfg.demand.classes
    for name in costs.carrying_rate_by_class:
        if name not in classes:
            message = _unknown("cargo class", name, classes, "demand.classes")
            return (f"costs.carrying_rate_by_class.{name}", message, name)
    for name in costs.destination_handling_by_node:
        if name not in nodes:
            message = _unknown("node", name, nodes, "corridor.nodes")
            return (f"costs.destination_handling_by_node.{name}", message, name)
    ports = sorted(
        {n for e in cfg.corridor.edges if e.mode == "ferry" for n in (e.source, e.target)}
    )
    for name in costs.port_handling_by_node:
        where = f"costs.port_handling_by_node.{name}"
        if name not in nodes:
            return (where, _unknown("node", name, nodes, "corridor.nodes"), name)
        if name not in ports:
            listed = ", ".join(ports) if ports else "none: no edge has mode: ferry"
            message = f"{name} is not a port (no edge with mode: ferry ends there); ports: {listed}"
            return (where, message, name)
    return None
