"""Both directions (issue 21): eastbound service trains over the corridor to the hub,
eastbound background streams, the ``direction`` column and the hub's box pool."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.directions import background_direction, hub_crossings
from silkroute_sim.analysis.tables import Tables, kpis
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw


def _two_borders() -> dict[str, Any]:
    """tiny_raw with a Chinese border ``Gate`` (1435 mm) between the hub and ``Border``:
    Hub –2 h– Gate (customs 0.5 h; gauge change 1 crane, 0.25 h a lift) –2 h– Border
    (customs 1 h) –2 h– Term. The hub has no corridor processing; almost no westbound
    cargo (one 10 t box every 240 h)."""
    raw = tiny_raw()
    nodes = raw["corridor"]["nodes"]
    del nodes["Hub"]["processing"]
    nodes["Hub"]["country"] = "CN"
    nodes["Gate"] = {
        "kind": "border",
        "country": "CN",
        "gauge_mm": 1435,
        "lat": 44.5,
        "lon": 84.0,
        "processing": {
            "tracks": 1,
            "customs": "30 min",
            "gauge_change": {"cranes": 1, "lift_time": "15 min"},
        },
    }
    nodes["Border"]["country"] = "KZ"
    raw["corridor"]["edges"] = [
        {"from": "Hub", "to": "Gate", "km": 100, "speed": 50},
        {"from": "Gate", "to": "Border", "km": 100, "speed": 50},
        {"from": "Border", "to": "Term", "km": 100, "speed": "1200 km/day"},
    ]
    raw["demand"]["arrivals"] = "deterministic"
    raw["demand"]["tonnes_per_day"] = 1
    return raw


def test_eastbound_train_exact_timeline() -> None:
    # Leaves Term at 12.0 (2 a day, cv 0); Term → Border 2 h: customs 14–15 (same gauge);
    # Border → Gate 2 h: customs 17–17.5, gauge change 1520 → 1435 17.5–18 (2 lifts of
    # 0.25 h, 1 crane); Gate → Hub 2 h: at the hub at 20, takes the track at once, one
    # crane unloads 20.0–20.1 (the loaded box) and 20.1–20.2 (the empty: into the pool);
    # the crane had craned the one westbound box at 12.0–12.1.
    # The loaded box waits 1 h, goes to a truck 21.1–21.2 and comes back stripped.
    raw = _two_borders()
    raw["simulation"]["days"] = 1
    raw["demand"]["tonnes_per_day"] = 20  # one westbound box, at 12.0: no train leaves
    raw["hub"]["inbound"] = {
        "europe": {
            "origin": "Term",
            "trains_per_day": 2,
            "interarrival_cv": 0,
            "boxes": 2,
            "dwell": "1 h",
            "loaded_share": 0.5,
        }
    }
    raw["hub"]["box_pool"] = {"initial_teu": 3}
    result = simulate(validate_config(raw))
    (train,) = result.records.inbound_trains
    assert train.direction == "east" and train.route == ["Term", "Border", "Gate", "Hub"]
    assert train.departed_h == 12.0
    assert (train.arrived_h, train.opened_h, train.loading_start_h) == pytest.approx((20, 20, 20))
    assert train.loaded_h == pytest.approx(20.2)
    events = [(e.node, e.kind, e.arrived_h, e.start_h, e.end_h) for e in result.records.node_events]
    assert events == [
        ("Border", "customs", 14.0, 14.0, 15.0),
        ("Gate", "customs", 17.0, 17.0, 17.5),
        ("Gate", "gauge_change", 17.5, 17.5, 18.0),
    ]
    pool = result.records.monitors["box_pool_teu"]
    assert [tuple(p) for p in zip(*pool.arrays(), strict=True)] == [
        (0.0, 3.0),
        pytest.approx((20.2, 5.0)),
        pytest.approx((21.2, 7.0)),
    ]
    tables = Tables(result)
    row = tables.trains.set_index("train_id").loc[train.train_id]
    assert (row["direction"], row["origin"], row["destination"]) == ("east", "Term", "Hub")
    assert row["route"] == "Term>Border>Gate>Hub" and row["km"] == 300
    assert (row["departed_h"], row["arrived_h"]) == pytest.approx((12.0, 20.0))
    k = kpis(tables.summary)
    assert k["eastbound_trains_per_day"] == pytest.approx(1.0)
    assert k["eastbound_running_h_median:Term"] == pytest.approx(8.0)
    assert k["eastbound_share:Border"] == 1.0 and k["eastbound_share:Gate"] == 1.0
    assert k["trains_dispatched_per_day"] == 0.0  # westbound KPIs do not count it


def test_box_pool_conserves_boxes() -> None:
    # Westbound loads (about 2 trains a day of 2 FEU) take empties; eastbound trains bring
    # 3 FEU each, 60 % loaded on average. Over the run: initial + in − out + leased = end.
    raw = tiny_raw()
    raw["simulation"]["days"] = 12
    raw["demand"]["tonnes_per_day"] = 40
    raw["hub"]["cranes"]["count"] = 3
    raw["hub"]["inbound"] = {
        "back": {
            "origin": "Term",
            "trains_per_day": 1.2,
            "boxes": 3,
            "dwell": {"dist": "exponential", "mean": "20 h"},
            "loaded_share": 0.6,
        }
    }
    raw["hub"]["box_pool"] = {"initial_teu": 4}
    result = simulate(validate_config(raw), seed=3)
    mons = result.records.monitors

    def total(name: str) -> float:
        return float(mons[name].arrays()[1][-1])

    level = mons["box_pool_teu"].arrays()[1]
    assert level.min() >= 0
    inflow = total("box_pool_empties_in_teu") + total("box_pool_stripped_in_teu")
    out, leased = total("box_pool_out_teu"), total("box_pool_leased_teu")
    assert level[-1] == 4 + inflow - out + leased
    assert out == sum(t.teu for t in result.records.trains)  # every westbound box
    assert leased > 0 and total("box_pool_stripped_in_teu") > 0
    unloaded = [t for t in result.records.inbound_trains if t.loaded_h < result.end_h]
    empties = total("box_pool_empties_in_teu") / 2
    loaded = sum(t.box_count for t in unloaded) - empties
    assert 0.4 < loaded / sum(t.box_count for t in unloaded) < 0.8
    assert total("box_pool_stripped_in_teu") <= 2 * loaded  # those collected so far
    daily = Tables(result).daily["box_pool_teu"].to_numpy()
    assert daily.shape == (12,) and (daily >= 0).all()


def _separate_east(**east: Any) -> dict[str, Any]:
    """Westbound traffic Hub → Border → Term as in tiny_raw; an eastern branch Far → East
    → Hub shares no node or edge with it, and the hub has room enough (tracks, cranes,
    yard) that nobody waits for anybody."""
    raw = tiny_raw()
    raw["simulation"]["days"] = 15
    raw["simulation"]["warmup_days"] = 2
    raw["demand"]["tonnes_per_day"] = 60
    raw["hub"]["cranes"]["count"] = 40
    raw["hub"]["loading"]["tracks"] = 20
    raw["hub"]["yard"]["capacity_teu"] = 10_000
    nodes = raw["corridor"]["nodes"]
    nodes["East"] = {
        "kind": "border",
        "gauge_mm": 1435,
        "lat": 44.0,
        "lon": 95.0,
        "processing": {"tracks": 1, "customs": {"dist": "exponential", "mean": "3 h"}},
    }
    nodes["Far"] = {"kind": "terminal", "gauge_mm": 1435, "lat": 44.0, "lon": 100.0}
    raw["corridor"]["edges"] += [
        {"from": "East", "to": "Hub", "km": 300, "speed": 50, "both_ways": False},
        {"from": "Far", "to": "East", "km": 300, "speed": 50, "both_ways": False},
    ]
    if east:
        raw["hub"]["inbound"] = {"far": {"origin": "Far", "dwell": "5 h", "boxes": 4, **east}}
        raw["corridor"]["background"] = {
            "far-east": {"route": ["Far", "East"], "trains_per_day": 3}
        }
    return raw


def test_westbound_kpis_unchanged_by_eastbound_traffic_that_does_not_compete() -> None:
    alone = Tables(simulate(validate_config(_separate_east()), seed=5))
    both = Tables(simulate(validate_config(_separate_east(trains_per_day=4)), seed=5))
    west = both.trains[both.trains["direction"] == "west"].reset_index(drop=True)
    assert (both.trains["direction"] == "east").sum() > 40
    assert set(both.trains["direction"]) == {"west", "east"}
    pd.testing.assert_frame_equal(west, alone.trains)
    pd.testing.assert_frame_equal(both.shipments, alone.shipments)
    # the hub's shared levels (yard, cranes, tracks) see the eastbound boxes, and node East
    # only eastbound trains; all else is westbound and exactly as without them
    shared = ("yard_teu", "crane_utilisation", "loading_tracks_busy", "inbound_", "eastbound_")
    k_alone, k_both = kpis(alone.summary), kpis(both.summary)
    assert "eastbound_share:East" in k_both and "eastbound_trains_per_day" in k_both
    compared = [m for m in k_alone if not m.startswith(shared) and not m.endswith(":East")]
    assert len(compared) > 30
    for metric in compared:
        a, b = k_alone[metric], k_both[metric]
        assert (a == b) or (np.isnan(a) and np.isnan(b)), metric
    daily_cols = ["tonnes_dispatched", "trains_dispatched", "tonnes_delivered", "backlog_t"]
    pd.testing.assert_frame_equal(both.daily[daily_cols], alone.daily[daily_cols])


def test_background_direction_from_config_or_longitude() -> None:
    raw = _two_borders()
    raw["corridor"]["background"] = {
        "in": {"route": ["Border", "Gate"], "trains_per_day": 1},  # 82° → 84°: east
        "out": {"route": ["Gate", "Border"], "trains_per_day": 1},
        "said": {"route": ["Gate", "Border"], "trains_per_day": 1, "direction": "east"},
    }
    cfg = validate_config(raw)
    got = {n: background_direction(cfg, s) for n, s in cfg.corridor.background.items()}
    assert got == {"in": "east", "out": "west", "said": "east"}
    assert hub_crossings(cfg) == ["Border"]  # the far side of the hub country's borders


def test_new_keys_left_out_keep_the_dump() -> None:
    cfg = validate_config(tiny_raw(), "t.yaml")
    dumped = cfg.model_dump(mode="json")
    assert "box_pool" not in dumped["hub"]
    raw = tiny_raw()
    raw["hub"]["inbound"] = {"x": {"trains_per_day": 1, "dwell": "1 h"}}
    raw["corridor"]["background"] = {"b": {"route": ["Border", "Term"], "trains_per_day": 1}}
    dumped = validate_config(raw).model_dump(mode="json")
    assert set(dumped["hub"]["inbound"]["x"]).isdisjoint({"origin", "loaded_share"})
    assert "direction" not in dumped["corridor"]["background"]["b"]


@pytest.mark.parametrize(
    ("hub", "expected"),
    [
        ({"box_pool": {"initial_teu": 10}}, "hub: box_pool counts the boxes of inbound trains"),
        (
            {"inbound": {"x": {"trains_per_day": 1, "dwell": "1 h", "loaded_share": 1.5}}},
            "hub.inbound.x.loaded_share",
        ),
        (
            {"inbound": {"x": {"trains_per_day": 1, "dwell": "1 h", "origin": "Trem"}}},
            "hub.inbound.x.origin: unknown node (did you mean 'Term'?)",
        ),
        (
            {"inbound": {"x": {"trains_per_day": 1, "dwell": "1 h", "origin": "Hub"}}},
            "hub.inbound.x.origin: Hub is the hub",
        ),
    ],
)
def test_bad_eastbound_configs_give_one_line(hub: dict[str, Any], expected: str) -> None:
    raw = tiny_raw()
    raw["hub"].update(hub)
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "t.yaml")
    text = str(info.value)
    assert expected in text and "\n" not in text


def test_eastbound_boxes_unloaded_without_the_crane_pool() -> None:
    # use_cranes false: the train holds the track for its 2 h of shunting (20–22) while
    # other equipment unloads it; its boxes then dwell 1 h (to 23) and take no crane time
    raw = _two_borders()
    raw["simulation"]["days"] = 1
    raw["hub"]["inbound"] = {
        "europe": {
            "origin": "Term",
            "trains_per_day": 2,
            "interarrival_cv": 0,
            "boxes": 2,
            "dwell": "1 h",
            "shunting_time": "2 h",
            "use_cranes": False,
        }
    }
    raw["hub"]["box_pool"] = {"initial_teu": 0}
    result = simulate(validate_config(raw))
    (train,) = result.records.inbound_trains
    assert (train.loading_start_h, train.loaded_h) == pytest.approx((20.0, 22.0))
    assert result.records.monitors["cranes_busy"].integral(0, result.end_h) == 0
    times, levels = result.records.monitors["inbound_yard_teu"].arrays()
    assert list(zip(times, levels, strict=True)) == [(0.0, 0.0), (20.0, 4.0), (23.0, 0.0)]
    pool = result.records.monitors["box_pool_teu"].arrays()
    assert (pool[0][-1], pool[1][-1]) == (23.0, 4.0)  # all loaded: back stripped at 23
