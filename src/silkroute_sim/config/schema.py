"""Scenario configuration: the top-level :class:`ScenarioConfig` and its hash.

Everything the model needs is validated once, at the boundary, by the section models:
:mod:`~silkroute_sim.config.simulation`, :mod:`~silkroute_sim.config.cargo` (wagon types,
demand), :mod:`~silkroute_sim.config.hub`, :mod:`~silkroute_sim.config.services`,
:mod:`~silkroute_sim.config.corridor` and :mod:`~silkroute_sim.config.disruptions`, on the
field types of :mod:`~silkroute_sim.config.fields`. Defaults live in these models and nowhere
else. This module re-exports the section models, so ``silkroute_sim.config.schema`` stays the
one place to import them from. Loading YAML (``extends:``, ``--set`` overrides) is in
:mod:`silkroute_sim.config.loader`; error formatting in :mod:`silkroute_sim.config.errors`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from pydantic import AfterValidator, Field

from silkroute_sim.config.cargo import (
    CONTAINER_WAGON,
    CargoClassConfig,
    DemandConfig,
    OriginConfig,
    WagonTypeConfig,
    default_wagon_types,
    with_container_wagon,
)
from silkroute_sim.config.corridor import (
    BackgroundStreamConfig,
    CorridorConfig,
    EdgeConfig,
    NodeConfig,
    ProcessingConfig,
)
from silkroute_sim.config.costs import CostsConfig, EmissionsConfig
from silkroute_sim.config.disruptions import (
    BreakdownConfig,
    DisruptionEffect,
    DisruptionsConfig,
    DisruptionTarget,
    ScheduledDisruption,
    WeatherDisruption,
)
from silkroute_sim.config.distributions import Hours
from silkroute_sim.config.fields import FolderName, Name, StrictModel
from silkroute_sim.config.hub import CompoundConfig, CustomsConfig, HubConfig, InboundStreamConfig
from silkroute_sim.config.modes import ModesConfig
from silkroute_sim.config.services import FullPolicy, HybridPolicy, SchedulePolicy, ServiceConfig
from silkroute_sim.config.simulation import DEFAULT_MAX_ENTITIES, SimulationConfig

# --------------------------------------------------------------------------- outputs


class OutputConfig(StrictModel):
    plots: bool = True
    string_line_trains: int = Field(40, ge=0, le=10_000)
    string_line_background: bool = Field(
        False, description="draw background trains on the time-distance diagram"
    )


# --------------------------------------------------------------------------- scenario

#: cargo-class, service and hub keys left out of the resolved config while at their
#: default, so configs written before they existed keep their hash (and their sweep runs)
_CLASS_DEFAULTS: dict[str, object] = {
    "origins": None,
    "group": None,
    "value_usd": None,
    "wagon_type": CONTAINER_WAGON,
    "units_per_wagon": None,
    "handling": None,
}
_SERVICE_DEFAULTS: dict[str, object] = {"wagons": {}, "classes": None}
_HUB_DEFAULTS: dict[str, object] = {"compound": None, "inbound": {}}


def _drop_default_cargo_keys(data: dict[str, object]) -> None:
    def drop(section: object, defaults: dict[str, object]) -> None:
        if isinstance(section, dict):
            for key, default in defaults.items():
                if key in section and section[key] == default:
                    del section[key]

    demand = data.get("demand")
    if isinstance(demand, dict) and isinstance(demand.get("classes"), dict):
        for cls in demand["classes"].values():
            drop(cls, _CLASS_DEFAULTS)
            if isinstance(cls, dict) and cls.get("origins") is not None:
                cls.pop("share", None)  # units-based: no share of tonnes
    services = data.get("services")
    if isinstance(services, dict):
        for service in services.values():
            drop(service, _SERVICE_DEFAULTS)
    drop(data.get("hub"), _HUB_DEFAULTS)
    default_wagons = {
        name: wagon.model_dump(mode="json") for name, wagon in default_wagon_types().items()
    }
    drop(data, {"wagon_types": default_wagons})


class ScenarioConfig(StrictModel):
    name: FolderName = "scenario"
    description: str = ""
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    demand: DemandConfig
    hub: HubConfig
    services: dict[Name, ServiceConfig] = Field(min_length=1, max_length=1000)
    corridor: CorridorConfig
    outputs: OutputConfig = Field(default_factory=OutputConfig)
    disruptions: DisruptionsConfig = Field(default_factory=DisruptionsConfig)
    costs: CostsConfig = Field(default_factory=CostsConfig)
    emissions: EmissionsConfig = Field(default_factory=EmissionsConfig)
    modes: ModesConfig = Field(default_factory=ModesConfig)
    wagon_types: Annotated[dict[Name, WagonTypeConfig], AfterValidator(with_container_wagon)] = (
        Field(default_factory=default_wagon_types, max_length=100)
    )

    def services_destinations(self) -> list[str]:
        """Every terminal a service calls at, in service order (each once)."""
        stops = [stop for service in self.services.values() for stop in service.stops]
        return list(dict.fromkeys(stops))

    def resolved(self) -> dict[str, object]:
        """The fully resolved config as plain JSON-able data (units: hours, km/h)."""
        data = self.model_dump(mode="json", by_alias=True)
        if not self.disruptions.any():  # keeps the hash of configs without disruptions
            data.pop("disruptions", None)
        sim = data.get("simulation")
        if isinstance(sim, dict) and sim.get("max_entities") == DEFAULT_MAX_ENTITIES:
            del sim["max_entities"]  # a memory guard at its default: keeps older hashes
        _drop_default_cargo_keys(data)
        outputs = data.get("outputs")
        if isinstance(outputs, dict) and outputs.get("string_line_background") is False:
            del outputs["string_line_background"]  # at its default: keeps older hashes
        for section, model in (
            ("costs", CostsConfig),
            ("emissions", EmissionsConfig),
            ("modes", ModesConfig),
        ):
            if data.get(section) == model().model_dump(mode="json", by_alias=True):
                del data[section]  # at its default: configs written before it keep their hash
        return data

    def config_hash(self) -> str:
        canonical = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


__all__ = [
    "CONTAINER_WAGON",
    "BackgroundStreamConfig",
    "BreakdownConfig",
    "CargoClassConfig",
    "CompoundConfig",
    "CorridorConfig",
    "CostsConfig",
    "CustomsConfig",
    "DemandConfig",
    "DisruptionEffect",
    "DisruptionTarget",
    "DisruptionsConfig",
    "EdgeConfig",
    "EmissionsConfig",
    "FullPolicy",
    "Hours",
    "HubConfig",
    "HybridPolicy",
    "InboundStreamConfig",
    "ModesConfig",
    "NodeConfig",
    "OriginConfig",
    "ProcessingConfig",
    "ScenarioConfig",
    "SchedulePolicy",
    "ScheduledDisruption",
    "ServiceConfig",
    "SimulationConfig",
    "StrictModel",
    "WagonTypeConfig",
    "WeatherDisruption",
]
