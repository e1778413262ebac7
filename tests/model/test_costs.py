"""Cost and CO2e arithmetic on the tiny scenario (exact numbers worked by hand), the storage
tariff, and the config of costs, countries and dates (docs/costs.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from silkroute_sim.analysis.costs import COST_SHIPMENT_COLUMNS, storage_cost_per_teu
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.costs import StorageTariff, check_costs
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.config.schema import ScenarioConfig
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
    costs = [c for c in COST_SHIPMENT_COLUMNS if c != "feu"]  # feu: what any box counts as
    assert ships.loc[ships["delivered_h"].isna(), costs].isna().all().all()
    assert (ships["feu"] == 1.0).all()  # FEU boxes on the tiny corridor
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
    assert all("countries" not in edge and "mode" not in edge for edge in edges)
    # a costs section without the sea-leg keys leaves them out too
    resolved = validate_config(tiny_raw(costs={"truck_to_hub_usd_per_feu": 1})).resolved()
    costs, emissions = resolved["costs"], validate_config(tiny_raw()).emissions.model_dump()
    assert costs["truck_to_hub_usd_per_feu"] == 1.0  # type: ignore[index]
    for key in ("ferry_usd_per_feu", "ferry_usd_per_feu_km", "port_handling_by_node"):
        assert key not in costs  # type: ignore[operator]
    assert "ferry_g_per_tkm" not in emissions and "port_handling_kg_per_feu" not in emissions
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
        (("costs", "ferry_usd_per_feu", -300), "a value >= 0"),
        (("costs", "ferry_usd_per_feu_km", -0.5), "a value >= 0"),
        (("costs", "port_handling_usd_per_feu", -1), "a value >= 0"),
        (("costs", "port_handling_by_node", {"Aktau": -60}), "a value >= 0"),
        (("emissions", "ferry_g_per_tkm", -50), "a value >= 0"),
        (("emissions", "port_handling_kg_per_feu", 5000), "a value <= 1000"),
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


#: a sea leg on the tiny corridor: Hub (CN) -100 km- Border (KZ, gauge change) -100 km-
#: Aktau (KZ) =400 km by ferry= Baku (AZ) -100 km- Term (AZ)
SEA_COSTS = {
    "rail_other_usd_per_feu_km": 1.5,  # AZ is not listed
    "ferry_usd_per_feu": 300,
    "ferry_usd_per_feu_km": 0.5,
    "port_handling_usd_per_feu": 40,
    "port_handling_by_node": {"Aktau": 60},
}
SEA_EMISSIONS = {
    **EMISSIONS,
    "traction_other": {"electric_share": 0.0},  # AZ: diesel, 10 g per gross t-km
    "ferry_g_per_tkm": 50,
    "port_handling_kg_per_feu": 3,
}


#: the sea leg's ferry line: a vessel every hour with room for any train
FERRY = {"ferry": {"capacity_wagons": 100, "sailing": {"every": "1 h"}}}


def _tiny_sea(**more: object) -> dict:
    raw = _tiny_costed(**{**SEA_COSTS, **more})
    raw["emissions"] = SEA_EMISSIONS
    raw["simulation"]["days"] = 3
    corridor = raw["corridor"]
    nodes = corridor["nodes"]
    for name, lon, country in (("Aktau", 51.2, "KZ"), ("Baku", 49.4, "AZ")):
        nodes[name] = {"kind": "junction", "gauge_mm": 1520, "lat": 43.0, "lon": lon}
        nodes[name]["country"] = country
    nodes["Term"]["country"] = "AZ"
    corridor["edges"][1]["to"] = "Aktau"
    corridor["edges"] += [
        {"from": "Aktau", "to": "Baku", "km": 400, "speed": 20, "mode": "ferry", **FERRY},
        {"from": "Baku", "to": "Term", "km": 100, "speed": 50},
    ]
    return raw


def test_a_sea_leg_and_its_ports_are_priced_and_emitted_by_their_own_factors() -> None:
    cfg = validate_config(_tiny_sea())
    assert cfg.corridor.edges[2].mode == "ferry"
    assert cfg.resolved()["corridor"]["edges"][2]["mode"] == "ferry"  # type: ignore[index]
    tables = Tables(simulate(cfg))
    ships, parts = tables.shipments, tables.cost_parts
    done = ships["delivered_h"].notna()
    assert done.sum() >= 4
    assert tables.trains["route"].iloc[0] == "Hub>Border>Aktau>Baku>Term"
    # ferry: 300 per leg + 0.5 x 400 km = 500; ports: Aktau 60 (its own) + Baku 40 = 100
    assert parts.loc[done, "ferry_usd"].tolist() == pytest.approx([500.0] * done.sum())
    assert parts.loc[done, "port_usd"].tolist() == pytest.approx([100.0] * done.sum())
    # rail: 50 km CN x 2 + 150 km KZ x 1 + 100 km AZ x 1.5 = 400 (the sea km pay no rail)
    assert parts.loc[done, "rail_usd"].tolist() == pytest.approx([400.0] * done.sum())
    assert parts.loc[done, "rail_km"].tolist() == pytest.approx([300.0] * done.sum())
    # freight: truck 7 + hub 5 + border 10 + gauge change 20 + terminal 3 + rail 400 +
    # ferry 500 + ports 100 = 1,045, less the subsidy min(100, 0.2 x rail 400) = 80 -> 965
    assert ships.loc[done, "freight_cost_usd"].tolist() == pytest.approx([965.0] * done.sum())
    # CO2e: ferry 50 g x 400 km x 10 t = 200 kg (no traction on the sea leg); traction per
    # gross t 50 x 20 + 50 x 10 + 100 x 10 + 100 x 10 = 3,500 g, x 2.4 gross/net x 1.5 x
    # 10 t = 126 kg; handling 2 kg x 4 lifts + 3 kg x 2 ports = 14 kg; truck 10 kg
    assert parts.loc[done, "ferry_kg"].tolist() == pytest.approx([200.0] * done.sum())
    assert parts.loc[done, "traction_kg"].tolist() == pytest.approx([126.0] * done.sum())
    assert parts.loc[done, "handling_kg"].tolist() == pytest.approx([14.0] * done.sum())
    assert ships.loc[done, "co2_kg"].tolist() == pytest.approx([350.0] * done.sum())
    assert ships.loc[done, "tkm"].tolist() == pytest.approx([10 * (300 + 20 + 400)] * done.sum())
    summary = dict(zip(tables.summary["metric"], tables.summary["value"], strict=True))
    assert summary["freight_cost_usd_per_feu_mean:Term"] == pytest.approx(965.0)
    assert summary["co2_g_per_tkm_mean:Term"] == pytest.approx(350_000 / 7200)


def test_a_rail_edge_marked_rail_costs_as_before() -> None:
    """``mode: rail`` is the default: written out, nothing changes (hash included)."""
    raw = _tiny_costed()
    plain = validate_config(raw)
    for edge in raw["corridor"]["edges"]:
        edge["mode"] = "rail"
    marked = validate_config(raw)
    assert marked.config_hash() == plain.config_hash()
    ships = Tables(simulate(marked)).shipments
    done = ships[ships["delivered_h"].notna()]
    assert done["freight_cost_usd"].tolist() == pytest.approx([245.0] * len(done))
    assert done["co2_kg"].tolist() == pytest.approx([108.0] * len(done))


@pytest.mark.parametrize(
    ("costs", "path", "words"),
    [
        (
            {"carrying_rate_by_class": {"container": 0.2}},
            "costs.carrying_rate_by_class.container",
            "unknown cargo class (did you mean 'containers'?)",
        ),
        (
            {"destination_handling_by_node": {"Trem": 50}},
            "costs.destination_handling_by_node.Trem",
            "unknown node (did you mean 'Term'?)",
        ),
        (
            {"port_handling_by_node": {"Aktua": 60}},
            "costs.port_handling_by_node.Aktua",
            "unknown node (did you mean 'Aktau'?)",
        ),
        (
            {"port_handling_by_node": {"Border": 60}},
            "costs.port_handling_by_node.Border",
            "Border is not a port (no edge with mode: ferry ends there); ports: Aktau, Baku",
        ),
    ],
)
def test_misspelt_names_in_costs_are_refused_in_one_line(
    costs: dict, path: str, words: str
) -> None:
    raw = _tiny_sea(**costs)
    assert check_costs(validate_config(_tiny_sea())) is None
    problem = check_costs(ScenarioConfig.model_validate(raw))
    assert problem is not None
    assert problem[0] == path and words in problem[1]
    text = str(ConfigError("costs.yaml", *problem, has_value=True))
    assert "\n" not in text and path in text and words in text
    # the sourced defaults name no node or class the baseline does not have
    assert check_costs(load_config(CONFIGS / "baseline.yaml")) is None


def test_an_edge_mode_other_than_rail_or_ferry_is_refused() -> None:
    raw = tiny_raw()
    raw["corridor"]["edges"][0]["mode"] = "boat"
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    text = str(info.value)
    assert "\n" not in text and "corridor.edges.0.mode" in text and "'ferry'" in text
