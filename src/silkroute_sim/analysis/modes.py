"""Rail against sea and air: the modal comparison (``modes.csv``).

One row per destination × cargo class × mode (``rail``, ``sea``, ``air``):

* **rail** from the simulated shipments delivered in the observation window: the
  distribution of door-to-door days (median, 90th percentile, 5th–95th percentiles as
  ``_low``/``_high``), and the mean freight cost, logistics cost (freight + inventory) and
  CO2e per FEU, each with its 5th–95th percentiles over the shipments;
* **sea** and **air** from the sourced ranges of the ``modes`` config section
  (:mod:`silkroute_sim.config.modes`): every figure read as a triangular distribution on
  ``low``, ``mode``, ``high``; costs and CO2e are means (sums and products of the legs'
  means, legs independent), ``_low``/``_high`` the sums of the legs' lows and highs (the
  published envelope); door-to-door median and 90th percentile from a fixed-seed sample
  of the legs' days (the same config gives the same table).

Per FEU means per 40 ft box: a shipment's value divided by ``teu / 2``. The same FEU by
sea carries the class's mean tonnes per FEU on that destination's rail shipments; by air
an FEU-equivalent is the configured chargeable weight (the published convention).

The value of time at which rail beats a mode, on the sea and air rows: rail costs
``f_r`` (mean freight per FEU) and takes ``d_r`` days (mean), the mode ``f_m`` and
``d_m``; with ``v`` the cost of one FEU-day in transit (cargo value × carrying rate /
365) rail is cheaper when ``f_r + v d_r < f_m + v d_m``, i.e. when ``v`` is above (sea:
rail faster and dearer) or below (air: rail slower and cheaper)
``breakeven = (f_r - f_m) / (d_m - d_r)`` USD per FEU-day. ``breakeven_value_usd_per_feu``
is the cargo value at which the class's carrying rate makes ``v`` equal to it.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from silkroute_sim.config.modes import (
    AirAlternative,
    LandLeg,
    ModesConfig,
    Range,
    SeaAlternative,
)

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.model.simulate import RunResult

NAN = math.nan
DAYS_PER_YEAR = 365.0
MODES = ("rail", "sea", "air")
#: draws of the legs' days for the sea and air door-to-door median and 90th percentile
DRAWS = 20_000
#: the seed of those draws (with the destination and mode: rows do not depend on order)
SEED = 2022
#: the rail distribution's reported spread: these percentiles over the shipments
RAIL_LOW_Q, RAIL_HIGH_Q = 0.05, 0.95

#: the figures that come as a central value with a low and a high
RANGED = (
    "door_to_door_d",
    "freight_cost_usd_per_feu",
    "logistics_cost_usd_per_feu",
    "co2_kg_per_feu",
)
MODES_COLUMNS = [
    "destination",
    "cargo_class",
    "mode",
    "via",
    "shipments",
    "door_to_door_d_median",
    "door_to_door_d_p90",
    "door_to_door_d_mean",
    "door_to_door_d_low",
    "door_to_door_d_high",
    "freight_cost_usd_per_feu",
    "freight_cost_usd_per_feu_low",
    "freight_cost_usd_per_feu_high",
    "logistics_cost_usd_per_feu",
    "logistics_cost_usd_per_feu_low",
    "logistics_cost_usd_per_feu_high",
    "co2_kg_per_feu",
    "co2_kg_per_feu_low",
    "co2_kg_per_feu_high",
    "co2_g_per_tkm",
    "tonnes_per_feu",
    "value_usd_per_feu",
    "value_of_time_usd_per_feu_day",
    "breakeven_usd_per_feu_day",
    "breakeven_value_usd_per_feu",
    "breakeven_value_usd_per_kg",
    "rail_wins_when_value_of_time",
    "rail_cheaper",
]
#: the shipments columns the rail rows need
SHIPMENT_INPUTS = (
    "destination",
    "cargo_class",
    "teu",
    "tonnes",
    "delivered_h",
    "door_to_door_d",
    "freight_cost_usd",
    "logistics_cost_usd",
    "co2_kg",
    "tkm",
)


@dataclass(frozen=True)
class Figure:
    """A figure of an alternative: its mean, the envelope ``low``–``high``."""

    mean: float
    low: float
    high: float

    @staticmethod
    def of(r: Range) -> Figure:
        return Figure(r.mean, r.low, r.high)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.mean + other.mean, self.low + other.low, self.high + other.high)

    def times(self, other: Figure) -> Figure:
        """The product of two independent figures."""
        return Figure(self.mean * other.mean, self.low * other.low, self.high * other.high)

    def scaled(self, factor: float) -> Figure:
        return Figure(self.mean * factor, self.low * factor, self.high * factor)


ZERO = Figure(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ClassCost:
    """The cost of time of a cargo class: its value per FEU where its shipments carry
    none of their own (``value_usd``), and its inventory carrying rate per year."""

    value_usd_per_feu: float
    carrying_rate_per_year: float


@dataclass(frozen=True)
class ClassInputs:
    """What the alternatives need to know of a class's FEU on one destination."""

    tonnes_per_feu: float
    value_usd_per_feu: float
    carrying_rate_per_year: float

    @property
    def usd_per_feu_day(self) -> float:
        """The inventory carrying cost of one FEU for one day."""
        return self.value_usd_per_feu * self.carrying_rate_per_year / DAYS_PER_YEAR


def _sample_days(ranges: Sequence[Range], key: str) -> tuple[float, float]:
    """(median, 90th percentile) of the sum of independent triangular ``ranges``."""
    return _sampled_days(tuple((r.low, r.central, r.high) for r in ranges), key)


@functools.lru_cache(maxsize=256)
def _sampled_days(ranges: tuple[tuple[float, float, float], ...], key: str) -> tuple[float, float]:
    """:func:`_sample_days` of ``(low, central, high)`` triples: the same draws for the
    same figures and key, so each is worked out once per process (for every class of a
    destination, and every run of a sweep's worker)."""
    rng = np.random.default_rng([SEED, zlib.crc32(key.encode("utf-8"))])
    total = np.zeros(DRAWS)
    for low, central, high in ranges:
        if high > low:
            total += rng.triangular(low, central, high, DRAWS)
        else:
            total += low
    return float(np.median(total)), float(np.quantile(total, 0.9))


def _land_co2_kg(leg: LandLeg, tonnes: float) -> Figure:
    """CO2e (kg) of ``tonnes`` of cargo over a land leg."""
    return Figure.of(leg.km).times(Figure.of(leg.co2_g_per_tkm)).scaled(tonnes / 1000.0)


def _alternative_row(
    mode: str,
    via: str,
    days: Sequence[Range],
    freight: Figure,
    co2_kg: Figure,
    tkm: float,
    inputs: ClassInputs,
    key: str,
) -> dict[str, Any]:
    """The row of a sea or air alternative from its legs' figures."""
    days_fig = ZERO
    for r in days:
        days_fig = days_fig + Figure.of(r)
    median, p90 = _sample_days(days, key)
    inventory = days_fig.scaled(inputs.usd_per_feu_day) if inputs.usd_per_feu_day else ZERO
    logistics = freight + inventory
    return {
        "mode": mode,
        "via": via,
        "shipments": 0,
        "door_to_door_d_median": median,
        "door_to_door_d_p90": p90,
        "door_to_door_d_mean": days_fig.mean,
        "door_to_door_d_low": days_fig.low,
        "door_to_door_d_high": days_fig.high,
        **_ranged("freight_cost_usd_per_feu", freight),
        **_ranged("logistics_cost_usd_per_feu", logistics),
        **_ranged("co2_kg_per_feu", co2_kg),
        "co2_g_per_tkm": co2_kg.mean * 1000.0 / tkm if tkm > 0 else NAN,
    }


def _ranged(name: str, fig: Figure) -> dict[str, float]:
    return {name: fig.mean, f"{name}_low": fig.low, f"{name}_high": fig.high}


def sea_row(sea: SeaAlternative, inputs: ClassInputs, key: str) -> dict[str, Any]:
    """The same FEU by sea: rail to a Chinese port, the port calls, the ship, the last
    leg. CO2e of the land legs per tonne-km of the FEU's cargo, of the ship per TEU-km
    (two TEU)."""
    t = inputs.tonnes_per_feu
    sea_km = sea.sea.distance_km
    freight = (
        Figure.of(sea.inland.cost_usd_per_feu)
        + Figure.of(sea.ports.cost_usd_per_feu)
        + Figure.of(sea.sea.rate_usd_per_feu)
        + Figure.of(sea.last_leg.cost_usd_per_feu)
    )
    co2 = (
        _land_co2_kg(sea.inland, t)
        + Figure.of(sea.ports.co2_kg_per_feu)
        + Figure.of(sea_km).times(Figure.of(sea.sea.co2_g_per_teu_km)).scaled(2.0 / 1000.0)
        + _land_co2_kg(sea.last_leg, t)
    )
    tkm = t * (sea.inland.km.mean + sea_km.mean + sea.last_leg.km.mean)
    days = (sea.inland.days, sea.ports.days, sea.sea.days, sea.last_leg.days)
    return _alternative_row("sea", sea.via, days, freight, co2, tkm, inputs, key)


def air_row(air: AirAlternative, inputs: ClassInputs, key: str) -> dict[str, Any]:
    """The cargo of one FEU by air: the rate times the chargeable kg of an
    FEU-equivalent, plus the trucks; CO2e on the chargeable tonnes flown and trucked."""
    chargeable_t = Figure.of(air.chargeable_kg_per_feu).scaled(1.0 / 1000.0)
    freight = Figure.of(air.rate_usd_per_kg).times(chargeable_t.scaled(1000.0)) + Figure.of(
        air.trucking.cost_usd_per_feu
    )
    flight = Figure.of(air.flight_km).times(Figure.of(air.co2_g_per_tkm))
    truck = Figure.of(air.trucking.km).times(Figure.of(air.trucking.co2_g_per_tkm))
    co2 = (flight + truck).times(chargeable_t).scaled(1.0 / 1000.0)
    tkm = chargeable_t.mean * (air.flight_km.mean + air.trucking.km.mean)
    return _alternative_row("air", air.via, (air.days,), freight, co2, tkm, inputs, key)


#: the shipments' columns the comparison reads (those the table has)
MODES_SHIPMENT_COLUMNS = frozenset(
    {
        "destination",
        "cargo_class",
        "feu",
        "teu",
        "tonnes",
        "value_usd",
        "door_to_door_d",
        "freight_cost_usd",
        "logistics_cost_usd",
        "co2_kg",
        "tkm",
    }
)


def feu_of(ships: pd.DataFrame) -> np.ndarray:
    """FEU each shipment counts as: its ``feu`` column where the table has one (the cost
    model's count, units on wagons included), else ``teu / 2``; NaN where not positive
    (a unit that takes no yard TEU: per FEU is undefined for it)."""
    column = ships["feu"] if "feu" in ships else ships["teu"] / 2.0
    feu = column.to_numpy(dtype=float)
    return np.where(feu > 0, feu, NAN)


def _quantile(values: np.ndarray, q: float) -> float:
    values = values[np.isfinite(values)]
    return float(np.quantile(values, q)) if values.size else NAN


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else NAN


def rail_row(ships: pd.DataFrame) -> dict[str, Any]:
    """The rail row of one destination and class from its delivered shipments: the
    door-to-door distribution and per-FEU cost and CO2e (means, 5th–95th percentiles)."""
    feu = feu_of(ships)
    days = ships["door_to_door_d"].to_numpy(dtype=float)
    row: dict[str, Any] = {
        "mode": "rail",
        "via": "rail over the corridor (simulated)",
        "shipments": len(ships),
        "door_to_door_d_median": _quantile(days, 0.5),
        "door_to_door_d_p90": _quantile(days, 0.9),
        "door_to_door_d_mean": _mean(days),
        "door_to_door_d_low": _quantile(days, RAIL_LOW_Q),
        "door_to_door_d_high": _quantile(days, RAIL_HIGH_Q),
    }
    for name, column in (
        ("freight_cost_usd_per_feu", "freight_cost_usd"),
        ("logistics_cost_usd_per_feu", "logistics_cost_usd"),
        ("co2_kg_per_feu", "co2_kg"),
    ):
        per_feu = ships[column].to_numpy(dtype=float) / feu
        row[name] = _mean(per_feu)
        row[f"{name}_low"] = _quantile(per_feu, RAIL_LOW_Q)
        row[f"{name}_high"] = _quantile(per_feu, RAIL_HIGH_Q)
    tkm = float(np.nansum(ships["tkm"].to_numpy(dtype=float)))
    co2 = float(np.nansum(ships["co2_kg"].to_numpy(dtype=float)))
    row["co2_g_per_tkm"] = co2 * 1000.0 / tkm if tkm > 0 else NAN
    return row


def breakeven(
    rail: Mapping[str, Any], other: Mapping[str, Any], inputs: ClassInputs
) -> dict[str, Any]:
    """The value of time at which rail and ``other`` cost the same, which side of it rail
    wins, and whether rail is cheaper at the class's own value (see the module docstring)."""
    saved_d = other["door_to_door_d_mean"] - rail["door_to_door_d_mean"]
    extra_usd = rail["freight_cost_usd_per_feu"] - other["freight_cost_usd_per_feu"]
    rate = inputs.carrying_rate_per_year
    value = NAN
    if not all(math.isfinite(x) for x in (saved_d, extra_usd)):
        side = ""
    elif saved_d > 0:
        side = "always" if extra_usd <= 0 else "above"
    elif saved_d < 0:
        side = "never" if extra_usd >= 0 else "below"
    else:
        side = "always" if extra_usd < 0 else "never"
    if side in ("above", "below"):
        value = extra_usd / saved_d
    return {
        "breakeven_usd_per_feu_day": value,
        "breakeven_value_usd_per_feu": value * DAYS_PER_YEAR / rate if rate > 0 else NAN,
        "breakeven_value_usd_per_kg": (
            value * DAYS_PER_YEAR / rate / (inputs.tonnes_per_feu * 1000.0)
            if rate > 0 and inputs.tonnes_per_feu > 0
            else NAN
        ),
        "rail_wins_when_value_of_time": side,
        "rail_cheaper": bool(
            rail["logistics_cost_usd_per_feu"] < other["logistics_cost_usd_per_feu"]
        ),
    }


def _class_inputs(ships: pd.DataFrame, cost: ClassCost) -> ClassInputs:
    """The class's FEU on one destination: mean tonnes and value per FEU of its
    shipments (the class's configured value where they carry none)."""
    feu = feu_of(ships)
    value = cost.value_usd_per_feu
    if "value_usd" in ships:
        own = _mean(ships["value_usd"].to_numpy(dtype=float) / feu)
        value = own if math.isfinite(own) else value
    tonnes = _mean(ships["tonnes"].to_numpy(dtype=float) / feu)
    return ClassInputs(tonnes, value, cost.carrying_rate_per_year)


def compare_modes(
    shipments: pd.DataFrame,
    modes: ModesConfig,
    destinations: Sequence[str],
    classes: Mapping[str, ClassCost],
    window_h: tuple[float, float],
) -> pd.DataFrame:
    """The modal comparison (:data:`MODES_COLUMNS`) of the shipments delivered in
    ``window_h``, for each destination (in order) × class (in order) with deliveries."""
    import pandas as pd

    w0, w1 = window_h
    delivered = shipments["delivered_h"]
    # delivered in the window, and counted in FEU; only the columns read below (a long
    # run's shipments table is large)
    keep = np.asarray((delivered >= w0) & (delivered < w1) & np.isfinite(feu_of(shipments)))
    columns = [c for c in shipments.columns if c in MODES_SHIPMENT_COLUMNS]
    column_at = shipments.columns.get_indexer(pd.Index(columns))
    # masks of each destination and class, compared as the texts are kept (numbering
    # them would make a Python text per row); only each group's rows are taken, of the
    # columns read
    of_class = {cls: (shipments["cargo_class"] == cls).to_numpy(dtype=bool) for cls in classes}
    rows: list[dict[str, Any]] = []
    for dest in destinations:
        alternatives = modes.for_destination(dest)
        here = keep & (shipments["destination"] == dest).to_numpy(dtype=bool)
        for cls, cost in classes.items():
            picked = np.flatnonzero(here & of_class[cls])
            if not len(picked):
                continue
            group = shipments.iloc[picked, column_at]  # its rows in order, as a mask picks them
            inputs = _class_inputs(group, cost)
            common = {
                "destination": dest,
                "cargo_class": cls,
                "tonnes_per_feu": inputs.tonnes_per_feu,
                "value_usd_per_feu": inputs.value_usd_per_feu,
                "value_of_time_usd_per_feu_day": inputs.usd_per_feu_day,
            }
            rail = rail_row(group)
            rows.append({**common, **rail})
            sea = alternatives.sea if alternatives else None
            air = alternatives.air if alternatives else None
            others = [sea_row(sea, inputs, f"{dest}|sea")] if sea else []
            others += [air_row(air, inputs, f"{dest}|air")] if air else []
            rows += [{**common, **row, **breakeven(rail, row, inputs)} for row in others]
    frame = pd.DataFrame(rows, columns=MODES_COLUMNS)
    # True/False, empty on rail's own rows: a nullable boolean, so it reads back as written
    frame["rail_cheaper"] = frame["rail_cheaper"].astype("boolean")
    return frame


def class_costs(config: ScenarioConfig) -> dict[str, ClassCost]:
    """Each cargo class's cost of time from the ``costs`` section (in config order)."""
    costs = config.costs
    return {
        name: ClassCost(
            costs.cargo_value_usd_per_feu,
            costs.carrying_rate_by_class.get(name, costs.carrying_rate_per_year),
        )
        for name in config.demand.classes
    }


def modes_frame(result: RunResult, shipments: pd.DataFrame) -> pd.DataFrame:
    """``modes.csv`` of a run: rail (its shipments delivered after the warm-up) against
    the sea and air alternatives of its ``modes`` config section."""
    config = result.config
    return compare_modes(
        shipments,
        config.modes,
        config.services_destinations(),
        class_costs(config),
        (result.warmup_h, result.end_h),
    )


def modes_table(result: RunResult, shipments: pd.DataFrame) -> pd.DataFrame | None:
    """:func:`modes_frame`, or None when the config compares no alternative (a run
    folder then has no ``modes.csv``)."""
    return modes_frame(result, shipments) if result.config.modes.any() else None
