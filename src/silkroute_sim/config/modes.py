"""The same shipment by sea and by air (the ``modes`` section), for the modal comparison.

Each figure of the sea and air alternatives is a sourced :class:`Range` (``low``, ``high``
and, where a source gives a most likely value, ``mode``), so the comparison can show the
spread of published figures beside rail's simulated distribution. Defaults are in
``configs/modes.yaml`` (sources: ``corridor-facts.md`` sections 9, 13 and 14); the method
is in ``docs/modes.md``.

Per destination: ``destinations.<terminal>`` gives its alternatives; ``default`` those of
every other destination (none when absent). An alternative left out (``sea: null``) is
not compared: Central Asian terminals have no sea route worth the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from silkroute_sim.config.fields import Name, NonNegFloat, StrictModel, one_of

#: nautical miles to km
KM_PER_NM = 1.852


class Range(StrictModel):
    """A sourced figure as a range: ``low`` to ``high``, most likely ``mode`` (the
    midpoint when no source gives one). Read as a triangular distribution; a single
    number in YAML is a range of width 0."""

    low: NonNegFloat = Field(le=1e9)
    mode: NonNegFloat | None = Field(None, le=1e9)
    high: NonNegFloat = Field(le=1e9)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(
                f"mode ({self.mode:g}) must lie between low ({self.low:g}) and high ({self.high:g})"
            )
        return self

    @property
    def central(self) -> float:
        """The most likely value (``mode``, else the midpoint)."""
        return self.mode if self.mode is not None else (self.low + self.high) / 2

    @property
    def mean(self) -> float:
        """The mean of the triangular distribution on ``low``, ``central``, ``high``."""
        return (self.low + self.central + self.high) / 3

    def scaled(self, factor: float) -> Range:
        mode = None if self.mode is None else self.mode * factor
        return Range(low=self.low * factor, mode=mode, high=self.high * factor)


def _number_is_range(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"low": value, "high": value}
    return value


def _positive(value: Range) -> Range:
    if value.low <= 0:
        raise ValueError(f"must be above 0 (low is {value.low:g}): a leg takes distance and time")
    return value


#: a range, or one number (a range of width 0)
RangeField = Annotated[Range, BeforeValidator(_number_is_range)]
#: a range above 0: a distance, a time or a weight that a leg cannot do without
PositiveRange = Annotated[Range, BeforeValidator(_number_is_range), AfterValidator(_positive)]


class LandLeg(StrictModel):
    """A leg by rail, truck or barge: distance, time, price per FEU and CO2e (well to
    wheel) per tonne-km of cargo."""

    km: RangeField
    days: RangeField
    cost_usd_per_feu: RangeField
    co2_g_per_tkm: RangeField


class PortCalls(StrictModel):
    """Both ports together: the days a box waits for and after the ship, terminal
    handling charges and the CO2e of handling, per FEU."""

    days: RangeField
    cost_usd_per_feu: RangeField
    co2_kg_per_feu: RangeField


class SeaLeg(StrictModel):
    """Port to port: distance (``km`` or ``nm``), sailing time, the ocean rate per FEU and
    CO2e (well to wake) per TEU-km, the unit of the GLEC trade-lane factors."""

    km: PositiveRange | None = None
    nm: PositiveRange | None = None
    days: PositiveRange
    rate_usd_per_feu: RangeField
    co2_g_per_teu_km: RangeField

    @model_validator(mode="after")
    def _one_distance(self) -> SeaLeg:
        one_of(self, "km", "nm")  # the sea distance
        return self

    @property
    def distance_km(self) -> Range:
        """The distance in km (from ``nm`` where given that way)."""
        if self.km is not None:
            return self.km
        assert self.nm is not None
        return self.nm.scaled(KM_PER_NM)


class SeaAlternative(StrictModel):
    """The box by sea: rail from the hub to a Chinese port, the port calls, the ship, and
    the last leg from the European port to the destination."""

    via: str = Field("", max_length=200, description="the route in words, for tables and plots")
    inland: LandLeg
    ports: PortCalls
    sea: SeaLeg
    last_leg: LandLeg


class Trucking(StrictModel):
    """The trucks to and from the airports, both together (time is in the air
    alternative's door-to-door days)."""

    km: RangeField
    cost_usd_per_feu: RangeField
    co2_g_per_tkm: RangeField


class AirAlternative(StrictModel):
    """The cargo of one FEU by air: the rate per chargeable kg times the chargeable kg of
    an FEU-equivalent; CO2e per tonne-km of the chargeable tonnes (GLEC, well to wake)."""

    via: str = Field("", max_length=200, description="the route in words, for tables and plots")
    rate_usd_per_kg: PositiveRange
    chargeable_kg_per_feu: PositiveRange
    flight_km: PositiveRange
    days: PositiveRange = Field(description="door to door, trucking and handling included")
    co2_g_per_tkm: RangeField
    trucking: Trucking


class Alternatives(StrictModel):
    """The sea and air alternatives to rail for one destination (either may be absent)."""

    sea: SeaAlternative | None = None
    air: AirAlternative | None = None


class ModesConfig(StrictModel):
    """Door-to-door time, cost and CO2 of the sea and air alternatives to rail."""

    default: Alternatives | None = Field(
        None, description="the alternatives of every destination not named in destinations"
    )
    destinations: dict[Name, Alternatives] = Field(default_factory=dict, max_length=1000)

    def any(self) -> bool:
        """Whether any destination has a sea or air alternative to compare."""
        sections = [self.default, *self.destinations.values()]
        return any(a is not None and (a.sea or a.air) for a in sections)

    def for_destination(self, destination: str) -> Alternatives | None:
        """The alternatives configured for ``destination`` (its own, else the default)."""
        return self.destinations.get(destination, self.default)


def check_modes(modes: ModesConfig, destinations: Sequence[str]) -> tuple[str, str, Any] | None:
    """A destination named under ``modes.destinations`` that no service calls at (a typo
    would silently drop its comparison), as ``(key path, message, value)``; or None."""
    known = set(destinations)
    for name in modes.destinations:
        if name not in known:
            allowed = ", ".join(destinations)
            return (
                f"modes.destinations.{name}",
                f"no service calls at {name!r}; destinations are: {allowed}",
                name,
            )
    return None
