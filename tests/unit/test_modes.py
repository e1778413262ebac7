"""The modal comparison (issue 22): the ``modes`` config section, the rows of modes.csv
computed by hand on hand-built shipments, the value of time at which rail beats sea, and
the modal plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.modes import (
    MODES_COLUMNS,
    ClassCost,
    breakeven,
    compare_modes,
)
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config
from silkroute_sim.config.modes import KM_PER_NM, ModesConfig, Range, check_modes


def _tri_mean(low: float, mode: float, high: float) -> float:
    return (low + mode + high) / 3


SEA: dict[str, Any] = {
    "via": "test sea",
    "inland": {
        "km": 1000,
        "days": {"low": 4, "high": 6},
        "cost_usd_per_feu": {"low": 900, "mode": 1000, "high": 1400},
        "co2_g_per_tkm": 20,
    },
    "ports": {"days": 4, "cost_usd_per_feu": 500, "co2_kg_per_feu": 30},
    "sea": {
        "nm": 10000,
        "days": {"low": 28, "mode": 30, "high": 35},
        "rate_usd_per_feu": {"low": 1300, "mode": 2400, "high": 5300},
        "co2_g_per_teu_km": 50,
    },
    "last_leg": {"km": 200, "days": 2, "cost_usd_per_feu": 400, "co2_g_per_tkm": 30},
}
AIR: dict[str, Any] = {
    "via": "test air",
    "rate_usd_per_kg": {"low": 3, "high": 5},
    "chargeable_kg_per_feu": 9600,
    "flight_km": 6000,
    "days": {"low": 3, "mode": 5, "high": 7},
    "co2_g_per_tkm": {"low": 600, "mode": 800, "high": 880},
    "trucking": {"km": 200, "cost_usd_per_feu": 600, "co2_g_per_tkm": 100},
}
#: the sea alternative's means by hand
SEA_FREIGHT = _tri_mean(900, 1000, 1400) + 500 + _tri_mean(1300, 2400, 5300) + 400
SEA_DAYS = 5 + 4 + _tri_mean(28, 30, 35) + 2
AIR_FREIGHT = 4 * 9600 + 600
AIR_DAYS = 5


def _modes(**destinations: Any) -> ModesConfig:
    return ModesConfig.model_validate({"destinations": destinations})


def _shipments(n: int = 200, seed: int = 1) -> pd.DataFrame:
    """Hand-built shipments with the cost model's columns: boxes of 2 TEU to A and B
    (and one box of 4 TEU), some delivered outside the window [100, 900) h."""
    rng = np.random.default_rng(seed)
    days = 15 + rng.gamma(4, 0.5, n)
    tonnes = rng.uniform(15, 21, n)
    ships = pd.DataFrame(
        {
            "destination": np.where(np.arange(n) % 2 == 0, "A", "B"),
            "cargo_class": "box",
            "teu": 2.0,
            "tonnes": tonnes,
            "delivered_h": np.linspace(0, 1000, n),
            "door_to_door_d": days,
            "freight_cost_usd": rng.normal(8000, 400, n),
            "tkm": tonnes * 7000,
            "value_usd": np.nan,
        }
    )
    ships["co2_kg"] = ships["tkm"] * 20 / 1000
    ships["logistics_cost_usd"] = ships["freight_cost_usd"] + 100_000 * 0.1 / 365 * days
    return ships


def _frame(ships: pd.DataFrame, modes: ModesConfig, dests: list[str] | None = None) -> pd.DataFrame:
    classes = {"box": ClassCost(100_000, 0.1)}
    return compare_modes(ships, modes, dests or ["A", "B"], classes, (100.0, 900.0))


# ----------------------------------------------------------------- config


def test_baseline_modes_section() -> None:
    cfg = load_config(None)
    modes = cfg.modes
    dests = cfg.services_destinations()
    assert check_modes(modes, dests) is None
    duisburg = modes.for_destination("Duisburg")
    assert duisburg is not None and duisburg.sea is not None and duisburg.air is not None
    # Central Asia: no alternative configured
    assert modes.for_destination("Almaty") is None
    sea = duisburg.sea.sea
    assert sea.km is None and sea.nm is not None
    assert sea.distance_km.central == pytest.approx(sea.nm.central * KM_PER_NM)
    # the YAML anchors: Hamburg shares the inland leg and overrides the sea distance
    hamburg = modes.for_destination("Hamburg")
    assert hamburg is not None and hamburg.sea is not None
    assert hamburg.sea.inland == duisburg.sea.inland
    assert hamburg.sea.sea.distance_km.low > sea.distance_km.low


def test_range_reads_a_number_and_checks_order() -> None:
    r = Range.model_validate({"low": 1, "high": 4})
    assert (r.central, r.mean) == (2.5, 2.5)
    assert Range.model_validate({"low": 1, "mode": 1, "high": 4}).mean == pytest.approx(2.0)
    leg = ModesConfig.model_validate({"default": {"air": AIR}}).default
    assert leg is not None and leg.air is not None
    assert (leg.air.flight_km.low, leg.air.flight_km.high) == (6000, 6000)
    with pytest.raises(ValueError, match="mode"):
        Range.model_validate({"low": 1, "mode": 5, "high": 4})
    with pytest.raises(ValueError, match="low"):
        Range.model_validate({"low": 5, "high": 4})


def test_a_bad_range_is_one_line_naming_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, ["modes.destinations.Duisburg.air.days.mode=20"])
    text = str(info.value)
    assert "\n" not in text
    assert "modes.destinations.Duisburg.air.days" in text and "mode" in text


@pytest.mark.parametrize(
    "key",
    [
        "modes.destinations.Duisburg.air.chargeable_kg_per_feu",
        "modes.destinations.Duisburg.air.days",
        "modes.destinations.Duisburg.air.flight_km",
        "modes.destinations.Duisburg.sea.sea.nm",
        "modes.destinations.Duisburg.sea.sea.days",
    ],
)
def test_a_leg_without_distance_time_or_weight_is_refused(key: str) -> None:
    """A zero here would write an air or sea row of 0 days or 0 kg CO2e."""
    with pytest.raises(ConfigError) as info:
        load_config(None, [f"{key}=0"])
    text = str(info.value)
    assert "\n" not in text and key in text and "must be above 0" in text


def test_sea_distance_is_km_or_nm() -> None:
    both = {**SEA, "sea": {**SEA["sea"], "km": 18000}}
    with pytest.raises(ValueError, match="either km or nm"):
        _modes(A={"sea": both})
    neither = {**SEA, "sea": {k: v for k, v in SEA["sea"].items() if k != "nm"}}
    with pytest.raises(ValueError, match=r"give km or nm \(neither is given\)"):
        _modes(A={"sea": neither})


def test_check_modes_names_an_unknown_destination() -> None:
    modes = _modes(Duisberg={"air": AIR})
    problem = check_modes(modes, ["Duisburg", "Hamburg"])
    assert problem is not None
    where, message, value = problem
    assert where == "modes.destinations.Duisberg" and value == "Duisberg"
    assert "Duisburg, Hamburg" in message


# ----------------------------------------------------------------- the table


def test_rail_rows_are_the_shipments_distribution() -> None:
    ships = _shipments()
    frame = _frame(ships, _modes())
    assert list(frame.columns) == MODES_COLUMNS
    assert list(frame["mode"]) == ["rail", "rail"]  # no alternative configured
    sel = ships[(ships["delivered_h"] >= 100) & (ships["delivered_h"] < 900)]
    a = sel[sel["destination"] == "A"]
    row = frame.iloc[0]
    assert (
        row["destination"] == "A"
        and row["shipments"] == len(a) < (ships["destination"] == "A").sum()
    )
    assert row["door_to_door_d_median"] == pytest.approx(a["door_to_door_d"].median())
    assert row["door_to_door_d_p90"] == pytest.approx(a["door_to_door_d"].quantile(0.9))
    assert row["door_to_door_d_low"] < row["door_to_door_d_median"] < row["door_to_door_d_high"]
    assert row["freight_cost_usd_per_feu"] == pytest.approx(a["freight_cost_usd"].mean())
    assert row["co2_g_per_tkm"] == pytest.approx(20.0)
    assert row["tonnes_per_feu"] == pytest.approx(a["tonnes"].mean())
    assert row["value_usd_per_feu"] == 100_000  # the class's configured value
    assert row["value_of_time_usd_per_feu_day"] == pytest.approx(100_000 * 0.1 / 365)
    assert math.isnan(row["breakeven_usd_per_feu_day"])


def test_per_feu_divides_by_half_the_teu() -> None:
    ships = _shipments()
    ships.loc[ships.index[10], "teu"] = 4.0  # a box of 2 FEU paying twice: same per FEU
    ships.loc[ships.index[10], "freight_cost_usd"] = 16_000.0
    ships.loc[ships.index[12], "freight_cost_usd"] = 8_000.0
    row = _frame(ships, _modes()).iloc[0]
    sel = ships[(ships["delivered_h"] >= 100) & (ships["delivered_h"] < 900)]
    per_feu = sel[sel["destination"] == "A"]["freight_cost_usd"] / (
        sel[sel["destination"] == "A"]["teu"] / 2
    )
    assert row["freight_cost_usd_per_feu"] == pytest.approx(per_feu.mean())


def test_sea_and_air_rows_by_hand() -> None:
    ships = _shipments()
    frame = _frame(ships, _modes(A={"sea": SEA, "air": AIR}))
    assert list(frame["mode"]) == ["rail", "sea", "air", "rail"]
    rail, sea, air = (frame.iloc[i] for i in range(3))
    t = rail["tonnes_per_feu"]
    assert sea["tonnes_per_feu"] == t
    assert sea["freight_cost_usd_per_feu"] == pytest.approx(SEA_FREIGHT)
    assert sea["freight_cost_usd_per_feu_low"] == pytest.approx(900 + 500 + 1300 + 400)
    assert sea["freight_cost_usd_per_feu_high"] == pytest.approx(1400 + 500 + 5300 + 400)
    assert sea["door_to_door_d_mean"] == pytest.approx(SEA_DAYS)
    co2 = t * 1000 * 20 / 1000 + 30 + 10000 * KM_PER_NM * 2 * 50 / 1000 + t * 200 * 30 / 1000
    assert sea["co2_kg_per_feu"] == pytest.approx(co2)
    tkm = t * (1000 + 10000 * KM_PER_NM + 200)
    assert sea["co2_g_per_tkm"] == pytest.approx(co2 * 1000 / tkm)
    per_day = 100_000 * 0.1 / 365
    assert sea["logistics_cost_usd_per_feu"] == pytest.approx(SEA_FREIGHT + per_day * SEA_DAYS)
    # air: the chargeable tonnes of an FEU-equivalent, not the box's payload
    assert air["freight_cost_usd_per_feu"] == pytest.approx(AIR_FREIGHT)
    assert air["freight_cost_usd_per_feu_low"] == pytest.approx(3 * 9600 + 600)
    air_co2 = 9.6 * (6000 * _tri_mean(600, 800, 880) + 200 * 100) / 1000
    assert air["co2_kg_per_feu"] == pytest.approx(air_co2)
    assert air["co2_kg_per_feu_low"] == pytest.approx(9.6 * (6000 * 600 + 200 * 100) / 1000)
    # the sampled door to door lies inside the envelope; symmetric legs: median = mean
    for row in (sea, air):
        assert row["door_to_door_d_low"] < row["door_to_door_d_median"] < row["door_to_door_d_p90"]
        assert row["door_to_door_d_p90"] < row["door_to_door_d_high"]
    assert air["door_to_door_d_median"] == pytest.approx(5.0, abs=0.05)


def test_breakeven_value_of_time() -> None:
    ships = _shipments()
    frame = _frame(ships, _modes(A={"sea": SEA, "air": AIR}))
    rail, sea, air = (frame.iloc[i] for i in range(3))
    f_r, d_r = rail["freight_cost_usd_per_feu"], rail["door_to_door_d_mean"]
    # sea: rail is faster and dearer, so it wins when a day is worth more than this
    assert sea["rail_wins_when_value_of_time"] == "above"
    expected = (f_r - SEA_FREIGHT) / (SEA_DAYS - d_r)
    assert sea["breakeven_usd_per_feu_day"] == pytest.approx(expected)
    assert sea["breakeven_value_usd_per_feu"] == pytest.approx(expected * 365 / 0.1)
    assert sea["breakeven_value_usd_per_kg"] == pytest.approx(
        expected * 365 / 0.1 / (rail["tonnes_per_feu"] * 1000)
    )
    # at the class's value (USD 27/FEU-day) sea is cheaper; the flag agrees with the costs
    assert sea["value_of_time_usd_per_feu_day"] < expected
    assert not sea["rail_cheaper"]
    assert sea["logistics_cost_usd_per_feu"] < rail["logistics_cost_usd_per_feu"]
    # air: rail is slower and cheaper, so it wins below the break-even
    assert air["rail_wins_when_value_of_time"] == "below"
    assert air["breakeven_usd_per_feu_day"] == pytest.approx((f_r - AIR_FREIGHT) / (AIR_DAYS - d_r))
    assert air["rail_cheaper"]
    # at exactly the break-even value of time both cost the same
    v = expected
    assert f_r + v * d_r == pytest.approx(SEA_FREIGHT + v * SEA_DAYS)


@pytest.mark.parametrize(
    ("rail", "other", "side"),
    [
        ((5000, 10), (4000, 40), "above"),
        ((3000, 10), (4000, 40), "always"),  # cheaper and faster
        ((5000, 50), (4000, 40), "never"),  # dearer and slower
        ((5000, 10), (40000, 5), "below"),
        ((5000, 10), (6000, 10), "always"),  # as fast and cheaper
    ],
)
def test_breakeven_sides(rail: tuple[float, float], other: tuple[float, float], side: str) -> None:
    from silkroute_sim.analysis.modes import ClassInputs

    def row(f: float, d: float) -> dict[str, float]:
        return {
            "freight_cost_usd_per_feu": f,
            "door_to_door_d_mean": d,
            "logistics_cost_usd_per_feu": f + 10 * d,
        }

    out = breakeven(row(*rail), row(*other), ClassInputs(18.0, 100_000, 0.1))
    assert out["rail_wins_when_value_of_time"] == side
    assert math.isfinite(out["breakeven_usd_per_feu_day"]) == (side in ("above", "below"))
    if side in ("above", "below"):
        assert out["breakeven_usd_per_feu_day"] > 0


def test_rows_do_not_depend_on_order_or_repetition() -> None:
    ships = _shipments()
    modes = _modes(A={"sea": SEA, "air": AIR}, B={"sea": SEA})
    ab = _frame(ships, modes, ["A", "B"])
    ba = _frame(ships, modes, ["B", "A"])
    pd.testing.assert_frame_equal(ab, _frame(ships, modes, ["A", "B"]))
    key = ["destination", "mode"]
    pd.testing.assert_frame_equal(
        ab.sort_values(key).reset_index(drop=True), ba.sort_values(key).reset_index(drop=True)
    )
    assert list(ab["mode"]) == ["rail", "sea", "air", "rail", "sea"]


def test_default_alternatives_and_a_class_value() -> None:
    ships = _shipments()
    ships["value_usd"] = 50_000.0  # the shipments' own value wins over the class default
    modes = ModesConfig.model_validate({"default": {"air": AIR}, "destinations": {"B": {}}})
    frame = _frame(ships, modes)
    assert list(zip(frame["destination"], frame["mode"], strict=True)) == [
        ("A", "rail"),
        ("A", "air"),
        ("B", "rail"),
    ]
    assert set(frame["value_usd_per_feu"]) == {50_000.0}


# ----------------------------------------------------------------- the plot


@pytest.mark.slow
def test_modes_plot_writes_the_same_png_twice(tmp_path: Path) -> None:
    from silkroute_sim.outputs.plots.modes import modes_plot

    ships = _shipments()
    frame = _frame(ships, _modes(A={"sea": SEA, "air": AIR}))
    first = modes_plot(frame, ships, tmp_path / "a.png", warmup_h=100.0)
    second = modes_plot(frame, ships, tmp_path / "b.png", warmup_h=100.0)
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.read_bytes() == second.read_bytes()
    empty = modes_plot(frame.iloc[:0], ships.iloc[:0], tmp_path / "c.png")
    assert empty.stat().st_size > 0


def test_units_without_teu_count_only_with_an_feu_column() -> None:
    """A car takes no yard TEU: per FEU it needs the cost model's ``feu`` count."""
    ships = _shipments()
    ships["teu"] = 0.0
    assert _frame(ships, _modes()).empty
    ships["feu"] = 0.5  # a quarter of a car carrier charged as 2 FEU
    frame = _frame(ships, _modes())
    assert list(frame["mode"]) == ["rail", "rail"]
    sel = ships[(ships["delivered_h"] >= 100) & (ships["delivered_h"] < 900)]
    a = sel[sel["destination"] == "A"]
    assert frame.iloc[0]["freight_cost_usd_per_feu"] == pytest.approx(
        (a["freight_cost_usd"] / 0.5).mean()
    )


def test_modes_any() -> None:
    assert not ModesConfig().any()
    assert not _modes(A={}).any()
    assert _modes(A={"air": AIR}).any()
    assert ModesConfig.model_validate({"default": {"sea": SEA}}).any()
    assert load_config(None).modes.any()


def test_a_mean_outside_the_spread_draws_without_error() -> None:
    """With a few skewed boxes the mean can lie below the 5th percentile: the marker is
    drawn with a zero-length bar on that side instead of failing the whole run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from silkroute_sim.outputs.plots.modes import _mode_marker

    row = pd.Series(
        {
            "mode": "rail",
            "door_to_door_d_median": 12.0,
            "door_to_door_d_low": 11.0,
            "door_to_door_d_high": 14.0,
            "co2_kg_per_feu": 2000.0,
            "co2_kg_per_feu_low": 2100.0,  # above the mean
            "co2_kg_per_feu_high": 2500.0,
        }
    )
    fig, ax = plt.subplots()
    try:
        _mode_marker(ax, row, "co2_kg_per_feu", 1.0, "o")
        assert len(ax.containers) == 1  # the error-bar marker was drawn
    finally:
        plt.close(fig)
