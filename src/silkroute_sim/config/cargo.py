"""Wagon types and cargo demand: the ``wagon_types`` and ``demand`` sections."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from silkroute_sim.config.distributions import QuantityDist
from silkroute_sim.config.fields import Fraction, Name, NonNegFloat, PositiveFloat, StrictModel

#: the built-in wagon type of container classes and of ``services.<name>.capacity_teu``
CONTAINER_WAGON = "container"


class WagonTypeConfig(StrictModel):
    """A kind of wagon. ``carries: teu``: a wagon takes ``teu_per_wagon`` TEU of boxes
    (a 40 ft container flat: 2 TEU); ``carries: units``: a wagon takes
    ``units_per_wagon`` units of the class on it (car carriers 8–10 cars)."""

    carries: Literal["teu", "units"] = "units"
    teu_per_wagon: PositiveFloat | None = Field(None, le=100)

    @model_validator(mode="after")
    def _teu_per_wagon(self) -> WagonTypeConfig:
        if self.carries == "teu" and self.teu_per_wagon is None:
            raise ValueError("a wagon type that carries teu needs teu_per_wagon (e.g. 2)")
        if self.carries == "units" and self.teu_per_wagon is not None:
            raise ValueError("teu_per_wagon applies to wagon types that carry teu")
        return self


def default_wagon_types() -> dict[str, WagonTypeConfig]:
    return {CONTAINER_WAGON: WagonTypeConfig(carries="teu", teu_per_wagon=2.0)}


def with_container_wagon(value: dict[str, WagonTypeConfig]) -> dict[str, WagonTypeConfig]:
    """The built-in container wagon is always there (a config may redefine it)."""
    if CONTAINER_WAGON in value:
        return value
    return {**default_wagon_types(), **value}


class OriginConfig(StrictModel):
    """A named origin (e.g. a factory) of a units-based cargo class: it makes
    ``units_per_year`` of the class and sends ``export_share`` of them through the hub."""

    units_per_year: PositiveFloat = Field(le=100_000_000)
    export_share: Fraction = 1.0


class CargoClassConfig(StrictModel):
    """A class of cargo arriving at the hub gate, e.g. 40 ft containers (FEU) or heavy
    trucks. It arrives either as a ``share`` of ``demand.tonnes_per_day`` or as units
    per year from named ``origins`` (factories); it rides on one ``wagon_type``."""

    unit: Literal["box", "vehicle"] = "box"
    share: Fraction = 1.0
    origins: dict[Name, OriginConfig] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="units-based arrivals from named origins instead of a share of tonnes",
    )
    group: Name | None = Field(
        None, description="a group whose classes are also reported together (e.g. vehicles)"
    )
    teu: PositiveFloat = Field(
        2.0, le=10, description="TEU per unit in the yard and on TEU wagons; a 40 ft box is 2 TEU"
    )
    payload_t: QuantityDist
    max_payload_t: PositiveFloat | None = Field(
        None, description="payloads above this are capped (e.g. 21 t cargo per FEU)"
    )
    value_usd: QuantityDist | None = Field(None, description="value of one unit (USD)")
    destinations: dict[Name, PositiveFloat] = Field(min_length=1, max_length=1000)
    wagon_type: Name = Field(CONTAINER_WAGON, description="the wagon type of wagon_types it needs")
    units_per_wagon: PositiveFloat | None = Field(
        None,
        le=1000,
        description="units one wagon takes, on wagon types that carry units (default 1)",
    )
    handling: Literal["crane", "ramp"] | None = Field(
        None, description="crane (yard, the default for boxes) or ramp (compound, for vehicles)"
    )

    @model_validator(mode="after")
    def _share_or_origins(self) -> CargoClassConfig:
        if self.origins is not None and "share" in self.model_fields_set:
            raise ValueError("give either 'share' (of tonnes_per_day) or 'origins', not both")
        return self

    @property
    def by_ramp(self) -> bool:
        """Loaded by ramp from the vehicle compound (not by crane from the yard)."""
        if self.handling is None:
            return self.unit == "vehicle"
        return self.handling == "ramp"

    def units_per_day(self) -> float:
        """Expected arrivals of a units-based class (0 for a share-of-tonnes class)."""
        if self.origins is None:
            return 0.0
        return sum(o.units_per_year * o.export_share for o in self.origins.values()) / 365


class DemandConfig(StrictModel):
    """Cargo arriving at the hub: a Poisson process modulated by weekday and season."""

    tonnes_per_day: PositiveFloat = Field(le=10_000_000)
    arrivals: Literal["poisson", "deterministic"] = Field(
        "poisson", description="poisson, or evenly spaced (for exact-timeline checks)"
    )
    weekday_factors: list[Annotated[NonNegFloat, Field(le=1e6)]] = Field(
        default_factory=lambda: [1.0] * 7, min_length=7, max_length=7
    )
    seasonal_factors: list[Annotated[NonNegFloat, Field(le=1e6)]] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12
    )
    classes: dict[Name, CargoClassConfig] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _factors_and_shares(self) -> DemandConfig:
        if sum(self.weekday_factors) <= 0:
            raise ValueError("weekday_factors must not all be 0")
        if sum(self.seasonal_factors) <= 0:
            raise ValueError("seasonal_factors must not all be 0")
        shares = [c.share for c in self.classes.values() if c.origins is None]
        total = sum(shares)
        if shares and abs(total - 1.0) > 1e-6:  # units-based classes (origins) are apart
            raise ValueError(f"class shares must sum to 1 (they sum to {total:g})")
        return self
