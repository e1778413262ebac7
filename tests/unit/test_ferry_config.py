"""The ferry block of a sea leg (config/ferry.py): one-line errors, timetables, the mean
wait routing counts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from silkroute_sim.config.errors import from_validation_error
from silkroute_sim.config.ferry import FerryConfig, SailingConfig, week_hour

OK: dict[str, Any] = {"capacity_wagons": 50, "sailing": {"every": "24 h"}}


def _problem(**changes: Any) -> str:
    """The one-line error of the ferry block ``OK`` with ``changes``."""
    raw = {**OK, **changes}
    with pytest.raises(ValidationError) as info:
        FerryConfig.model_validate(raw)
    text = str(from_validation_error(info.value, "x.yaml", raw, FerryConfig))
    assert "\n" not in text and text.startswith("x.yaml: ")
    return text


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"capacity_teu": 100}, "x.yaml: ", "give either capacity_wagons or capacity_teu"),
        ({"capacity_wagons": None}, "x.yaml: ", "give capacity_wagons or capacity_teu (neither"),
        ({"capacity_wagons": None, "capacity_teu": 1}, "x.yaml: ", "holds no wagon"),
        ({"capacity_wagons": 0}, "capacity_wagons", ">= 1"),
        ({"sailing": {}}, "sailing", "give one sailing rule"),
        ({"sailing": {"every": "24 h", "when_full": True}}, "sailing", "given: every, when_full"),
        ({"sailing": {"when_full": True, "first": "2 h"}}, "sailing", "first goes with every"),
        ({"sailing": {"every": "1 d", "max_wait": "2 d"}}, "sailing", "max_wait goes with"),
        ({"sailing": {"weekly": ["Mon 8:00", "Fry 10:00"]}}, "sailing.weekly", "'Fry 10:00'"),
        ({"sailing": {"weekly": ["Mon 25:00"]}}, "sailing.weekly", "e.g. 'Mon 08:00'"),
        ({"sailing": {"every": "0 h"}}, "sailing.every", "> 0"),
        ({"sailing": {"every": "1 s"}}, "sailing.every", ">= 1.0"),  # a sailing a second
        ({"sailing": {"every": "24 h", "retry_after": "1 min"}}, "sailing.retry_after", ">= 1"),
        ({"cancel_by_month": [0.5] * 11}, "cancel_by_month", "give 12 probabilities"),
        ({"cancel_by_month": [0.5] * 11 + [1.5]}, "cancel_by_month.11", "<= 1"),
        ({"vessels": 0}, "vessels", ">= 1"),
        ({"crossing": "fast"}, "crossing", ""),
        ({"harbour": 2}, "harbour", "unknown key"),
    ],
)
def test_bad_ferry_blocks_are_refused_in_one_line(changes: dict, path: str, words: str) -> None:
    text = _problem(**changes)
    assert path in text and words in text


def test_a_ferry_block_reads_as_written_and_dumps_only_its_rule() -> None:
    ferry = FerryConfig.model_validate(
        {
            "capacity_teu": 101,
            "sailing": {"when_full": True, "max_wait": "3 d"},
            "loading": "10 h",
            "unloading": "10 h",
            "vessels": 3,
            "cancel_by_month": [0.5] + [0.0] * 10 + [0.5],
        }
    )
    assert ferry.wagons == 50  # a wagon with its box takes 2 TEU
    assert ferry.sailing.max_wait == 72 and ferry.sailing.retry_after == 24
    dumped = ferry.model_dump()
    assert dumped["sailing"] == {"when_full": True, "max_wait": 72.0, "retry_after": 24.0}
    assert "capacity_wagons" not in dumped and "crossing" not in dumped
    assert FerryConfig.model_validate(dumped) == ferry
    timetable = FerryConfig.model_validate(OK)
    assert timetable.model_dump()["sailing"] == {"every": 24.0, "first": 0.0}
    assert FerryConfig.model_validate(timetable.model_dump()) == timetable


def test_timetable_slots() -> None:
    every = SailingConfig(every=10.0, first=3.0)
    assert [every.slots_after(t) for t in (0.0, 3.0, 3.1, 13.0, 13.000001)] == [
        3.0,
        3.0,
        13.0,
        13.0,
        23.0,
    ]
    weekly = SailingConfig.model_validate({"weekly": ["Thu 20:00", "mon 08:00"]})
    assert week_hour("Thu 20:00") == 92.0 and week_hour("mon 08:30") == 8.5
    assert [weekly.slots_after(t) for t in (0.0, 8.0, 9.0, 93.0)] == [8.0, 8.0, 92.0, 176.0]
    # day 0 a Wednesday (48 h after Monday 00:00): Thursday 20:00 is 44 h in
    assert weekly.slots_after(0.0, week_offset_h=48.0) == 44.0
    assert weekly.slots_after(45.0, week_offset_h=48.0) == 128.0


def test_the_mean_wait_for_a_sailing() -> None:
    assert SailingConfig(every=24.0).mean_wait_h() == 12.0
    # gaps of 60 h and 108 h in a week: (60² + 108²) / (2 x 168)
    weekly = SailingConfig.model_validate({"weekly": ["Mon 08:00", "Wed 20:00"]})
    assert weekly.mean_wait_h() == pytest.approx((60**2 + 108**2) / 336)
    assert weekly.mean_interval_h() == 84.0
    full = SailingConfig.model_validate({"when_full": True, "max_wait": "2 d"})
    assert full.mean_wait_h() == 24.0 and full.mean_interval_h() == 0.0
    # a fleet of 2 whose round trip is 2 x (10 + 20 + 10) = 80 h sails each way every 40 h,
    # not every 24 h: the wait stretches to 20 h; cancellations (mean 0.2) add 40 x 0.25
    ferry = FerryConfig.model_validate(
        {
            "capacity_wagons": 10,
            "sailing": {"every": "24 h"},
            "loading": "10 h",
            "unloading": "10 h",
            "vessels": 2,
            "cancel_by_month": [0.2] * 12,
        }
    )
    assert ferry.expected_h(20.0) == pytest.approx(20 + 10 + 40)
    assert FerryConfig.model_validate(OK).expected_h(20.0) == pytest.approx(12 + 20)
