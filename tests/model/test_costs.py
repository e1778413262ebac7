"""Cost and CO2e arithmetic on the tiny scenario (exact numbers worked by hand), the storage
tariff, and the config of costs, countries and dates (docs/costs.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from silkroute_sim.analysis.costs import COST_SHIPMENT_COLUMNS, storage_cost_per_teu
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.costs import StorageTariff
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import CONFIGS, tiny_raw

#: the tiny corridor: Hub (CN) -100 km- Border (KZ, gauge change) -100 km- Term (KZ)
COSTS = {
    "rail_usd_per_feu_km": {"CN": 2.0, "KZ": 1.0},
    "truck_to_hub_usd_per_feu": 7,
    "hub_handling_usd_per_feu": 5,
    "border_fee_usd_per_feu": 10,
    "gauge_change_usd_per_feu": 20,
    "destination_handling_usd_per_feu": 3,
    "subsidy": {"usd_per_feu": 100, "max_share": 0.2},
    "cargo_value_usd_per_feu": 36500,
    "carrying_rate_per_year": 0.1,
}
EMISSIONS = {
    "traction": {
        "CN": {"electric_share": 1.0, "grid_g_per_kwh": 1000},
        "KZ": {"electric_share": 0.0},
    },
    "electric_kwh_per_gross_tkm": 0.02,  # CN: 20 g per gross t-km
    "diesel_l_per_gross_tkm": 0.004,
    "diesel_kg_per_l_wtw": 2.5,  # KZ: 10 g per gross t-km
    "wagon_tare_t_per_feu": 10,
    "box_tare_t_per_feu": 4,
    "empty_running_factor": 1.5,
    "handling_kg_per_lift": 2,
    "hub_lifts": 2,
    "gauge_change_lifts": 1,
    "destination_lifts": 1,
    "truck_km_to_hub": 20,
    "truck_g_per_tkm": 50,
}


def _tiny_costed(**more: object) -> dict:
    raw = tiny_raw(costs={**COSTS, **more}, emissions=EMISSIONS)
    raw["demand"]["arrivals"] = "deterministic"
    nodes = raw["corridor"]["nodes"]
    nodes["Hub"]["country"] = "CN"
    nodes["Border"]["country"] = "KZ"
    nodes["Term"]["country"] = "KZ"
    return raw


def test_cost_and_co2_of_a_box_on_the_tiny_corridor_by_hand() -> None:
    tables = Tables(simulate(validate_config(_tiny_costed())))
    ships = tables.shipments
    done = ships[ships["delivered_h"].notna()]
    assert len(done) >= 4  # two trains or more of 2 boxes, 10 t each, FEU
    # freight: truck 7 + hub 5 + rail (50 km CN x 2 + 150 km KZ x 1 = 250; the Hub-Border
    # edge is split half and half) + 1 border station x 10 + 1 gauge change x 20 + terminal
    # 3 = 295, less the subsidy min(100, 0.2 x 250) = 50 -> 245 (no storage, no hold)
    assert done["freight_cost_usd"].tolist() == pytest.approx([245.0] * len(done))
    # inventory: 36,500 USD x 10 %/yr x door-to-door days / 365 = 10 USD per day
    assert done["inventory_cost_usd"].to_numpy() == pytest.approx(
        10.0 * done["door_to_door_d"].to_numpy()
    )
    assert done["logistics_cost_usd"].to_numpy() == pytest.approx(
        245.0 + 10.0 * done["door_to_door_d"].to_numpy()
    )
    # CO2e: a full train of 2 FEU: gross 2 x 10 (wagons) + 2 x 4 (boxes) + 20 t = 48 t for
    # 20 t net (x 2.4). Per gross t: 50 km x 20 g + 50 km x 10 g + 100 km x 10 g = 2,500 g;
    # per net t 6,000 g, x 1.5 empty running = 9 kg/t, x 10 t = 90 kg. Handling 2 kg x
    # (2 + 1 + 1) lifts = 8 kg; truck 20 km x 10 t x 50 g = 10 kg. Total 108 kg.
    assert done["co2_kg"].tolist() == pytest.approx([108.0] * len(done))
    assert done["tkm"].tolist() == pytest.approx([10 * (200 + 20)] * len(done))
    # not delivered: no cost yet
    assert ships.loc[ships["delivered_h"].isna(), COST_SHIPMENT_COLUMNS].isna().all().all()
    # per train: the sums over its delivered boxes
    first = tables.trains.iloc[0]
    assert first["freight_cost_usd"] == pytest.approx(490.0)
    assert first["co2_kg"] == pytest.approx(216.0)
    summary = dict(zip(tables.summary["metric"], tables.summary["value"], strict=True))
    assert summary["freight_cost_usd_per_feu_mean:Term"] == pytest.approx(245.0)
    assert summary["co2_kg_per_feu_mean:Term"] == pytest.approx(108.0)
    assert summary["co2_g_per_tkm_mean:Term"] == pytest.approx(108_000 / 2200)


def test_a_half_full_train_carries_its_wagons_for_fewer_boxes() -> None:
    """With one box on a 2-FEU train the gross weight per net tonne is higher:
    (20 + 4 + 10) / 10 = 3.4 instead of 2.4, so traction is 3.4 / 2.4 times 90 kg."""
    raw = _tiny_costed()
    raw["services"]["term"]["policy"] = {"kind": "hybrid", "max_wait": "1 h", "min_load": 0.1}
    tables = Tables(simulate(validate_config(raw)))
    ships = tables.shipments
    alone = ships["train_id"].map(ships["train_id"].value_counts()) == 1
    done = ships[ships["delivered_h"].notna() & alone]
    assert len(done) >= 1
    assert done["co2_kg"].tolist() == pytest.approx([90 * 3.4 / 2.4 + 18] * len(done))


def test_storage_tariff_tiers_and_one_off() -> None:
    """Duisburg's tariff (facts §13, in USD): days 1-4 free, 8.64/TEU-day days 5-10,
    14.04 days 11-16, 19.44 from day 17, and 40.50 once storage is charged."""
    tariff = StorageTariff.model_validate(
        {
            "one_off_usd_per_box": 40.5,
            "tiers": [
                {"after_days": 4, "usd_per_teu_day": 8.64},
                {"after_days": 10, "usd_per_teu_day": 14.04},
                {"after_days": 16, "usd_per_teu_day": 19.44},
            ],
        }
    )
    days = np.array([0.0, 4.0, 5.5, 10.0, 20.0, np.nan])
    expected = [0.0, 0.0, 1.5 * 8.64 + 40.5, 6 * 8.64 + 40.5]
    expected += [6 * 8.64 + 6 * 14.04 + 4 * 19.44 + 40.5, np.nan]
    assert storage_cost_per_teu(tariff, days) == pytest.approx(expected, nan_ok=True)


def test_holding_and_storage_are_charged_beyond_free_time() -> None:
    """Every hour at the hub is charged (free 0 days, 24 USD per TEU-day = 2 USD/h per FEU
    box); a closed terminal holds the train at Border: 100 USD per train-hour shared by
    its 2 boxes."""
    raw = _tiny_costed(
        hub_storage={"tiers": [{"after_days": 0, "usd_per_teu_day": 24}]},
        train_hold_usd_per_h=100,
        subsidy={"usd_per_feu": 0},
    )
    raw["simulation"]["days"] = 3
    raw["disruptions"] = {
        "scheduled": [{"id": "shut", "node": "Term", "effect": "close", "start": 0, "end": 20}]
    }
    tables = Tables(simulate(validate_config(raw)))
    parts, ships, events = tables.cost_parts, tables.shipments, tables.node_events
    done = ships["delivered_h"].notna()
    hub_h = (ships["departed_h"] - ships["arrived_h"])[done]
    assert parts.loc[done, "hub_storage_usd"].to_numpy() == pytest.approx(2.0 * hub_h.to_numpy())
    held = events[events["kind"] == "held"].groupby("train_id")["wait_h"].sum()
    assert len(held) >= 1
    expected = ships.loc[done, "train_id"].map(held).fillna(0.0) * 100 / 2
    assert parts.loc[done, "train_hold_usd"].to_numpy() == pytest.approx(expected.to_numpy())
    assert parts.loc[done, "train_hold_usd"].max() > 0


def test_configs_without_the_new_keys_keep_their_resolved_config() -> None:
    resolved = validate_config(tiny_raw()).resolved()
    assert "costs" not in resolved and "emissions" not in resolved
    assert "start_date" not in resolved["simulation"]  # type: ignore[operator]
    nodes = resolved["corridor"]["nodes"]  # type: ignore[index]
    assert all("country" not in node for node in nodes.values())
    edges = resolved["corridor"]["edges"]  # type: ignore[index]
    assert all("countries" not in edge for edge in edges)
    cfg = load_config(CONFIGS / "baseline.yaml")
    assert {node.country for node in cfg.corridor.nodes.values()} >= {"CN", "KZ", "RU", "DE"}
    assert all(node.country for node in cfg.corridor.nodes.values())


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("corridor", "nodes", "Hub", "country", "XX"), "not an ISO 3166-1 alpha-2"),
        (("costs", "rail_usd_per_feu_km", {"China": 1.0}), "not an ISO 3166-1 alpha-2"),
        (("costs", "gauge_change_usd_per_feu", -5), "a value >= 0"),
        (("costs", "carrying_rate_per_year", 2), "a value <= 1"),
        (("emissions", "empty_running_factor", 0.5), "a value >= 1"),
    ],
)
def test_bad_cost_values_give_one_line(change: tuple, words: str) -> None:
    raw = tiny_raw()
    *keys, last, value = change
    section = raw
    for key in keys:
        section = section.setdefault(key, {})
    section[last] = value
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    text = str(info.value)
    assert "\n" not in text and words in text and keys[0] in text


def test_storage_tiers_out_of_order_and_edge_countries_off_km() -> None:
    raw = tiny_raw(
        costs={
            "hub_storage": {
                "tiers": [
                    {"after_days": 5, "usd_per_teu_day": 1},
                    {"after_days": 2, "usd_per_teu_day": 2},
                ]
            }
        }
    )
    with pytest.raises(ConfigError, match="increasing after_days"):
        validate_config(raw)
    raw = tiny_raw()
    raw["corridor"]["edges"][0]["countries"] = {"CN": 40, "KZ": 50}
    with pytest.raises(ConfigError, match="sum to 90 km, not to the edge's km"):
        validate_config(raw)


def test_start_date_sets_the_month_and_ends_a_subsidy() -> None:
    raw = tiny_raw()
    raw["simulation"]["start_date"] = "2024-03-04"
    cfg = validate_config(raw)
    assert cfg.simulation.start_month == 3
    assert cfg.simulation.date_h(dt.date(2024, 3, 5)) == 24.0
    raw["simulation"]["start_month"] = 5
    with pytest.raises(ConfigError, match="is not the month of start_date"):
        validate_config(raw)
    # a subsidy that ends after the first day: boxes leaving later pay the full rate
    raw = _tiny_costed(subsidy={"usd_per_feu": 100, "max_share": 0.2, "ends": "2024-03-05"})
    raw["simulation"]["start_date"] = "2024-03-04"
    tables = Tables(simulate(validate_config(raw)))
    ships = tables.shipments[tables.shipments["delivered_h"].notna()]
    before = ships["departed_h"] < 24
    assert before.any() and (~before).any()
    assert ships.loc[before, "freight_cost_usd"].tolist() == pytest.approx([245.0] * before.sum())
    assert ships.loc[~before, "freight_cost_usd"].tolist() == pytest.approx(
        [295.0] * (~before).sum()
    )
