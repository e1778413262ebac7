"""Background-stream profiles: the rate of a stream changes over periods of the run (by
day or by calendar date). A Poisson stream becomes a non-homogeneous Poisson process with
a piecewise-constant rate; streams without a profile keep their trains exactly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.model.corridor import profile_time
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw


def _departures(streams: dict[str, Any], days: float = 40, seed: int = 7) -> dict[str, list]:
    """Departure hours of each background stream's trains (a terminal route: no queues)."""
    raw = tiny_raw()
    raw["simulation"] = {"days": days, "warmup_days": 1, "seed": seed, "start_date": "2025-01-01"}
    raw["corridor"]["background"] = streams
    result = simulate(validate_config(raw))
    out: dict[str, list] = {name: [] for name in streams}
    for train in result.records.background_trains:
        out[train.service].append((train.train_id, train.departed_h))
    return out


def test_profile_time_stretches_the_streams_clock_by_period() -> None:
    segments = [(10.0, 20.0, 2.0), (30.0, 40.0, 0.0)]
    assert profile_time(segments, 0.0, 4.0) == 4.0  # before any period: base rate
    assert profile_time(segments, 8.0, 4.0) == 11.0  # 2 h at 1, then 2 h of work at 2x
    assert profile_time(segments, 12.0, 30.0) == 44.0  # 16 in 12–20, 10 to 30, paused, 4
    assert profile_time(segments, 45.0, 3.0) == 48.0
    assert profile_time([], 5.0, 2.5) == 7.5


def test_a_deterministic_stream_follows_its_profile_exactly() -> None:
    # 4 trains/day evenly spaced; 12/day on days 10–20; none on days 25–30; 2/day on
    # 1–5 February (days 31–36, the end date inclusive)
    stream = {
        "route": ["Term"],
        "trains_per_day": 4,
        "interarrival_cv": 0,
        "profile": [
            {"from": "10 d", "to": "20 d", "factor": 3},
            {"from": "25 d", "to": "30 d", "trains_per_day": 0},
            {"from": "2025-02-01", "to": "2025-02-05", "trains_per_day": 2},
        ],
    }
    times = [t for _, t in _departures({"s": stream})["s"]]
    windows = [(0, 10, 40), (10, 20, 120), (20, 25, 20), (25, 30, 0), (30, 31, 4), (31, 36, 10)]
    for lo, hi, expected in windows:
        got = sum(lo * 24 < t <= hi * 24 for t in times)
        assert got == expected, (lo, hi)


def test_a_poisson_profile_counts_match_the_piecewise_rates() -> None:
    stream = {
        "route": ["Term"],
        "trains_per_day": 20,
        "profile": [
            {"from": "10 d", "to": "20 d", "factor": 3},
            {"from": "25 d", "to": "30 d", "trains_per_day": 0},
            {"from": "2025-02-01", "to": "2025-02-05", "trains_per_day": 5},
        ],
    }
    times = [t for _, t in _departures({"s": stream})["s"]]
    windows = [(0, 10, 20), (10, 20, 60), (20, 25, 20), (25, 30, 0), (31, 36, 5), (36, 40, 20)]
    for lo, hi, per_day in windows:
        count = sum(lo * 24 <= t < hi * 24 for t in times)
        mean = per_day * (hi - lo)
        # Poisson count: within 4 standard deviations (two-sided p ~ 6e-5 a window)
        assert abs(count - mean) <= 4 * math.sqrt(mean), (lo, hi, count, mean)


def test_streams_without_a_profile_keep_their_trains() -> None:
    plain = {"route": ["Term"], "trains_per_day": 6, "interarrival_cv": 1.3}
    surged = {
        "route": ["Term"],
        "trains_per_day": 6,
        "profile": [{"from": "2025-01-05", "to": "2025-01-12", "factor": 4}],
    }
    alone = _departures({"plain": plain}, days=20)
    beside = _departures({"plain": plain, "surged": surged}, days=20)
    assert beside["plain"] == alone["plain"]  # each stream draws from its own RNG stream
    assert len(beside["surged"]) > len(alone["plain"])


def test_a_profile_at_factor_one_is_the_stream_without_one() -> None:
    plain = {"route": ["Term"], "trains_per_day": 6}
    flat = {**plain, "profile": [{"from": 0, "to": "20 d", "factor": 1}]}
    a = _departures({"s": plain}, days=20)["s"]
    b = _departures({"s": flat}, days=20)["s"]
    assert [i for i, _ in a] == [i for i, _ in b]
    assert [t for _, t in a] == pytest.approx([t for _, t in b], rel=1e-12)


def test_the_kazakh_backlog_scenario_is_a_dated_winter_surge_only() -> None:
    configs = Path(__file__).resolve().parents[2] / "configs"
    path = configs / "scenarios" / "kazakh-backlog-2020.yaml"
    text = path.read_text(encoding="utf-8")
    assert sum(line.startswith("#") for line in text.splitlines()) >= 6
    assert yaml.safe_load(text)["extends"] == "../baseline.yaml"
    cfg = load_config(path)
    base = load_config(configs / "baseline.yaml")
    assert cfg.name == "kazakh-backlog-2020" and len(cfg.description) > 60
    assert str(cfg.simulation.start_date) == "2020-10-01" and cfg.simulation.start_month == 10
    assert cfg.simulation.days == base.simulation.days
    surge = (45 * 24.0, 151 * 24.0, 1.26)  # 15 November to 28 February, inclusive
    for name, stream in cfg.corridor.background.items():
        before = base.corridor.background[name]
        assert stream.trains_per_day == before.trains_per_day
        dostyk_or_altynkol = name in ("alashankou-dostyk", "khorgos-altynkol")
        assert stream.rate_segments() == ([surge] if dostyk_or_altynkol else [])
    assert not cfg.disruptions.any()
