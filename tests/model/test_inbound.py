"""Inbound and return trains share the hub's tracks, cranes and yard (issue 4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.analysis.tables import Tables, kpis
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import CONFIGS, tiny_raw

#: the baseline without its eastbound trains (and their box pool): no inbound traffic
WITHOUT_EASTBOUND = ["hub.inbound={}", "hub.box_pool=null"]


def _quiet_tiny(**inbound: Any) -> dict[str, Any]:
    """tiny_raw with (almost) no outbound cargo: the first box arrives after 10 days."""
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["demand"]["tonnes_per_day"] = 1  # 10 t boxes: one every 240 h
    raw["hub"]["inbound"] = {"europe": inbound}
    return raw


def test_inbound_train_exact_timeline() -> None:
    # 2 trains a day, evenly spaced (cv 0): the first arrives at 12 h with 2 FEU. It
    # reserves 4 TEU, takes the track at once; one crane (cranes_per_train 1, 0.1 h a
    # move) unloads 12.0–12.1–12.2; the track is free at 12.2. Each box waits 1 h, then a
    # crane move to a truck: 13.1–13.2 and 13.2–13.3 free 2 TEU each.
    raw = _quiet_tiny(trains_per_day=2, interarrival_cv=0, boxes=2, dwell="1 h")
    raw["simulation"]["days"] = 0.9
    result = simulate(validate_config(raw))
    (train,) = result.records.inbound_trains
    assert (train.opened_h, train.loading_start_h) == pytest.approx((12.0, 12.0))
    assert (train.loaded_h, train.departed_h) == pytest.approx((12.2, 12.2))
    assert train.box_count == 2 and train.teu == 4
    times, levels = result.records.monitors["yard_teu"].arrays()
    assert list(zip(times, levels, strict=True)) == [
        (0.0, 0.0),
        pytest.approx((12.0, 4.0)),
        pytest.approx((13.2, 2.0)),
        pytest.approx((13.3, 0.0)),
    ]
    busy = result.records.monitors["cranes_busy"]
    assert busy.integral(0, result.end_h) == pytest.approx(4 * 0.1)  # 4 moves
    tracks = result.records.monitors["loading_tracks_busy"]
    assert tracks.integral(0, result.end_h) == pytest.approx(0.2)
    assert not result.records.shipments  # inbound boxes are not outbound cargo
    assert result.ledger.conservation_error_t == 0.0


def test_inbound_train_holds_the_track_an_outbound_train_needs() -> None:
    # One loading track. The first outbound train (2 boxes, full at 4.9) loads 4.9–5.1 and
    # leaves. A return train tied to it (share 1, lag 0) arrives at 5.1 and takes the
    # track: 5 h of shunting (5.1–10.1), then one crane unloads 10.1–10.2–10.3. The second
    # outbound train, called at 9.7 (boxes at 7.2 and 9.6), waits for the track until
    # 10.3, loads 10.3–10.5 and leaves at 10.5.
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = 0.5
    raw["hub"]["inbound"] = {
        "return": {"share_of_outbound": 1.0, "boxes": 2, "dwell": "10 h", "shunting_time": "5 h"}
    }
    result = simulate(validate_config(raw))
    first, second = result.records.trains[:2]
    assert first.departed_h == pytest.approx(5.1)
    back = result.records.inbound_trains[0]
    assert (back.opened_h, back.loading_start_h) == pytest.approx((5.1, 5.1))
    assert (back.loaded_h, back.departed_h) == pytest.approx((10.3, 10.3))
    assert second.called_h == pytest.approx(9.7)
    assert second.loading_start_h == pytest.approx(10.3)
    assert second.departed_h == pytest.approx(10.5)


def test_share_of_outbound_ties_inbound_to_departures() -> None:
    # share 1 and no lag: exactly one inbound train per outbound departure
    cfg = load_config(
        CONFIGS / "baseline.yaml",
        [
            *WITHOUT_EASTBOUND,
            "hub.inbound.return={share_of_outbound: 1.0, boxes: 41, dwell: '1 d', "
            "services: [duisburg, moscow]}",
        ],
        days=20,
        warmup_days=2,
        seed=3,
    )
    result = simulate(cfg)
    departed = [t for t in result.records.trains if t.service in ("duisburg", "moscow")]
    assert len(departed) > 10
    assert len(result.records.inbound_trains) == len(departed)
    arrivals = sorted(t.opened_h for t in result.records.inbound_trains)
    assert arrivals == pytest.approx(sorted(t.departed_h for t in departed))


# --------------------------------------------------------------------------- hub capacity

SEEDS = range(1, 5)
INBOUND = "hub.inbound.europe={trains_per_day: 1, interarrival_cv: 0, boxes: 41, dwell: '2 d'}"


@pytest.fixture(scope="module")
def paired_runs() -> list[tuple[dict[str, float], dict[str, float]]]:
    """Baseline (less its eastbound trains) without and with one inbound train a day,
    same seeds (common random numbers: inbound draws are on hub.inbound.* streams of
    their own)."""
    runs = []
    for seed in SEEDS:
        pair = []
        for overrides in (WITHOUT_EASTBOUND, [*WITHOUT_EASTBOUND, INBOUND]):
            cfg = load_config(
                CONFIGS / "baseline.yaml", overrides, days=50, warmup_days=10, seed=seed
            )
            pair.append(kpis(Tables(simulate(cfg)).summary))
        runs.append((pair[0], pair[1]))
    return runs


@pytest.mark.slow
def test_inbound_trains_raise_outbound_hub_dwell(paired_runs) -> None:
    # Inbound boxes take two crane moves each and a loading track per train: outbound
    # boxes wait longer for cranes and tracks. The paired difference in mean hub dwell
    # over the seeds has a 99 % CI above zero.
    diffs = [b["hub_dwell_h_mean"] - a["hub_dwell_h_mean"] for a, b in paired_runs]
    mean, low, _, n = mean_ci(diffs, 0.99)
    assert n == len(SEEDS)
    assert low > 0, diffs
    assert mean > 1.0  # hours: a visible effect, not a rounding artefact
    # the same outbound cargo went through: demand is unchanged (same random numbers)
    for a, b in paired_runs:
        assert a["demand_t_per_day"] == b["demand_t_per_day"]
        assert b["inbound_trains_per_day"] == pytest.approx(1.0, abs=0.03)
        assert b["inbound_boxes_per_day"] == pytest.approx(41, rel=0.03)


@pytest.mark.slow
def test_inbound_crane_work_matches_the_added_moves(paired_runs) -> None:
    # Theory: one train a day of 41 boxes, two moves a box at 8.5 min mean, shared by
    # 3 cranes over 24 h, adds 41 × 2 × 8.5/60 / 72 = 0.161 to crane utilisation. The
    # 99 % CI of the paired increase over the seeds contains it.
    cfg = load_config(CONFIGS / "baseline.yaml")
    move_h = cfg.hub.cranes.move_time.mean
    expected = 41 * 2 * move_h / (cfg.hub.cranes.count * 24)
    diffs = [b["crane_utilisation"] - a["crane_utilisation"] for a, b in paired_runs]
    _, low, high, _ = mean_ci(diffs, 0.99)
    assert low <= expected <= high, (diffs, expected)
    loads = [b["loading_tracks_busy_mean"] - a["loading_tracks_busy_mean"] for a, b in paired_runs]
    assert min(loads) > 0  # inbound trains hold loading tracks too
    assert np.mean([b["inbound_yard_teu_mean"] for _, b in paired_runs]) > 0


# --------------------------------------------------------------------------- bad configs


@pytest.mark.parametrize(
    ("inbound", "expected"),
    [
        (
            {"trains_per_day": 1, "share_of_outbound": 0.5, "dwell": "1 d"},
            "hub.inbound.europe: give either trains_per_day or share_of_outbound (not both)",
        ),
        (
            {"trains_per_day": 1, "services": ["term"], "dwell": "1 d"},
            "hub.inbound.europe: 'services' applies to share_of_outbound only",
        ),
        (
            {"share_of_outbound": 1, "services": ["trem"], "dwell": "1 d"},
            "hub.inbound.europe.services.0: unknown service (did you mean 'term'?)",
        ),
        ({"trains_per_day": 1}, "hub.inbound.europe.dwell: required"),
    ],
)
def test_bad_inbound_configs_give_one_line(inbound: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(_quiet_tiny(**inbound), "x.yaml")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
