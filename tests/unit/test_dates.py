"""Calendar dates in configs: disruption windows and background-stream profiles given as
dates resolve once, at load, to hours from ``simulation.start_date``; bad dates are one
clear line (file, key path, value, what to do)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import parse_yaml, validate_config

from ..conftest import tiny_raw


def _raw(start_date: str | None = "2025-09-01", days: float = 40) -> dict[str, Any]:
    raw = tiny_raw()
    raw["simulation"] = {"days": days, "warmup_days": 2, "seed": 1}
    if start_date is not None:
        raw["simulation"]["start_date"] = start_date
    return raw


def _closure(**window: Any) -> dict[str, Any]:
    return {"scheduled": [{"id": "shut", "node": "Border", "effect": "close", **window}]}


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "s.yaml")
    return str(info.value)


def test_a_date_window_resolves_to_exact_hours() -> None:
    raw = _raw(days=40)
    raw["disruptions"] = parse_yaml(
        "scheduled: [{node: Border, effect: close, start: 2025-09-12, end: 2025-09-25}]"
    )
    event = validate_config(raw).disruptions.scheduled[0]
    assert event.start == 11 * 24.0  # 00:00 on 12 September, day 0 being 1 September
    assert event.end_h == 25 * 24.0  # an end date is inclusive: 24:00 on 25 September


def test_dates_and_hours_mix_and_a_date_across_a_month_and_a_leap_day() -> None:
    raw = _raw("2024-02-20", days=30)
    raw["disruptions"] = _closure(start=dt.date(2024, 3, 1), duration="36 h")
    event = validate_config(raw).disruptions.scheduled[0]
    assert (event.start, event.end_h) == (10 * 24.0, 10 * 24.0 + 36)  # 29 February counted
    raw["disruptions"] = _closure(start="12 h", end=dt.date(2024, 2, 20))
    assert validate_config(raw).disruptions.scheduled[0].end_h == 24.0


def test_a_window_by_date_is_the_same_scenario_as_the_same_window_in_hours() -> None:
    by_date, by_hours = _raw(), _raw()
    by_date["disruptions"] = _closure(start=dt.date(2025, 9, 3), end=dt.date(2025, 9, 4))
    by_hours["disruptions"] = _closure(start="2 d", end="4 d")
    assert validate_config(by_date).config_hash() == validate_config(by_hours).config_hash()


def test_configs_in_hours_dump_as_before() -> None:
    raw = _raw(start_date=None)
    raw["disruptions"] = _closure(start="2 d", duration="1 d")
    raw["corridor"]["background"] = {"x": {"route": ["Term"], "trains_per_day": 3}}
    resolved = validate_config(raw).resolved()
    assert "start_date" not in resolved["simulation"]  # type: ignore[operator]
    assert resolved["corridor"]["background"]["x"] == {  # type: ignore[index]
        "route": ["Term"],
        "trains_per_day": 3.0,
        "interarrival_cv": 1.0,
        "boxes": 45,
    }


def test_a_date_without_a_start_date_is_one_line_saying_what_to_do() -> None:
    raw = _raw(start_date=None)
    raw["disruptions"] = _closure(start=dt.date(2025, 9, 12), duration="1 d")
    message = _error(raw)
    assert message.startswith(
        "s.yaml: disruptions.scheduled.0.start: a calendar date (2025-09-12) needs "
        "simulation.start_date (the date of day 0); add it, or give a time from the start of "
        "the run such as 30 d (got "
    )
    assert "\n" not in message


def test_a_date_outside_the_run_names_the_runs_dates() -> None:
    raw = _raw("2025-09-01", days=30)
    raw["disruptions"] = _closure(start="1 d", end=dt.date(2025, 10, 1))
    message = _error(raw)
    assert message.startswith("s.yaml: disruptions.scheduled.0.end: 2025-10-01 is outside the run")
    assert "(2025-09-01 to 2025-09-30: simulation.start_date and 30 days)" in message
    raw["disruptions"] = _closure(start=dt.date(2025, 8, 31), duration="1 d")
    assert "scheduled.0.start: 2025-08-31 is outside the run" in _error(raw)
    raw["disruptions"] = _closure(start=dt.date(2025, 9, 30), duration="1 d")
    assert validate_config(raw).disruptions.scheduled[0].start == 29 * 24.0  # the last day


def test_a_date_with_a_time_of_day_and_an_end_before_the_start_are_refused() -> None:
    raw = _raw()
    raw["disruptions"] = _closure(start=dt.datetime(2025, 9, 3, 6), duration="1 d")
    assert "start: give a date without a time of day, e.g. 2025-09-03" in _error(raw)
    raw["disruptions"] = _closure(start=dt.date(2025, 9, 5), end=dt.date(2025, 9, 3))
    assert "end (72 h) must be after start (96 h)" in _error(raw)


def test_a_date_does_not_borrow_the_calendar_of_the_previous_scenario() -> None:
    validate_config(_raw("2025-09-01"))
    raw = _raw(start_date=None)
    raw["disruptions"] = _closure(start=dt.date(2025, 9, 12), duration="1 d")
    assert "needs simulation.start_date" in _error(raw)
    raw.pop("simulation")  # the default section: no calendar either
    assert "needs simulation.start_date" in _error(copy.deepcopy(raw))


def _profile(*periods: dict[str, Any]) -> dict[str, Any]:
    raw = _raw("2020-11-01", days=120)
    raw["corridor"]["background"] = {
        "surge": {"route": ["Term"], "trains_per_day": 10, "profile": list(periods)}
    }
    return raw


def test_profile_periods_by_date_and_by_day_resolve_to_hours() -> None:
    raw = _profile(
        {"from": dt.date(2020, 12, 1), "to": dt.date(2021, 1, 31), "factor": 1.6},
        {"from": "100 d", "to": "110 d", "trains_per_day": 0},
    )
    stream = validate_config(raw).corridor.background["surge"]
    assert stream.rate_segments() == [(30 * 24.0, 92 * 24.0, 1.6), (2400.0, 2640.0, 0.0)]
    dumped = validate_config(raw).resolved()["corridor"]["background"]["surge"]  # type: ignore[index]
    assert dumped["profile"][0] == {"from": 720.0, "to": 2208.0, "factor": 1.6}


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        (
            [
                {"from": dt.date(2020, 12, 1), "to": dt.date(2020, 12, 31), "factor": 2},
                {"from": "59 d", "to": "70 d", "factor": 0.5},
            ],
            "s.yaml: corridor.background.surge: profile periods overlap: 30 d–61 d and "
            "59 d–70 d from the start of the run; give each time one rate",
        ),
        (
            [{"from": "1 d", "to": "2 d", "factor": 2, "trains_per_day": 3}],
            "corridor.background.surge.profile.0: give either factor or trains_per_day (not both)",
        ),
        (
            [{"from": "3 d", "to": "2 d", "factor": 2}],
            "profile.0: 'to' (2 d) must be after 'from' (3 d), both counted from the start",
        ),
        (
            [{"from": dt.date(2021, 6, 1), "to": "200 d", "factor": 2}],
            "profile.0.from: 2021-06-01 is outside the run (2020-11-01 to 2021-02-28",
        ),
        ([{"from": "1 d", "to": "2 d", "factor": -1}], "profile.0.factor"),
    ],
)
def test_bad_profiles_are_one_line(periods: list[dict[str, Any]], expected: str) -> None:
    message = _error(_profile(*periods))
    assert expected in message and "\n" not in message


def test_a_profiles_mean_rate_over_the_run() -> None:
    raw = _profile(
        {"from": "10 d", "to": "40 d", "factor": 2},
        {"from": "110 d", "to": "130 d", "trains_per_day": 0},
    )
    stream = validate_config(raw).corridor.background["surge"]
    # 120 days at 10/day, 30 of them doubled, the last 10 paused (the period runs past the end)
    assert stream.mean_trains_per_day(120 * 24.0) == pytest.approx(10 * (120 + 30 - 10) / 120)


def test_a_start_date_whose_run_leaves_the_calendar_is_refused_at_validation() -> None:
    with pytest.raises(ConfigError, match=r"runs past the calendar's last date \(9999-12-31\)"):
        validate_config(_raw("9999-12-01", days=40), "s.yaml")
    validate_config(_raw("9998-01-01", days=40), "s.yaml")  # a year to spare: fine


def test_a_date_in_a_manifest_is_written_as_its_iso_text() -> None:
    from silkroute_sim.outputs.guard import _jsonable

    assert _jsonable({"set": {"simulation.start_date": dt.date(2020, 1, 1)}}) == {
        "set": {"simulation.start_date": "2020-01-01"}
    }
