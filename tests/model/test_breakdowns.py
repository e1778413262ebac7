"""Random breakdowns: a bare ``mtbf`` / ``mttr`` is an exponential mean (the reliability
convention), each unit draws its own failures from its own streams, and the draws are
common random numbers across scenarios run on the same seed."""

from __future__ import annotations

import copy
import itertools
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.config.distributions import Constant, Exponential
from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.records import DisruptionWindow
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw

MTBF_H, MTTR_H = 4.0, 1.0


def _raw(breakdown: dict[str, Any], tracks: int = 4, days: float = 20) -> dict[str, Any]:
    """The tiny scenario with ``tracks`` processing tracks at Border, which break down."""
    raw = tiny_raw()
    raw["simulation"]["days"] = days
    raw["corridor"]["nodes"]["Border"]["processing"]["tracks"] = tracks
    raw["disruptions"] = {"random": {"breakdowns": [{"node": "Border", **breakdown}]}}
    return raw


def _windows(raw: dict[str, Any], seed: int = 1) -> dict[str, list[DisruptionWindow]]:
    """Each unit's breakdowns, by target (``Border[0]`` …), in time order."""
    result = simulate(validate_config(copy.deepcopy(raw)), seed=seed)
    assert result.disruptions is not None
    by_unit: dict[str, list[DisruptionWindow]] = defaultdict(list)
    for window in result.disruptions.windows:
        if window.kind == "breakdown":
            by_unit[window.target].append(window)
    return {unit: sorted(ws, key=lambda w: w.start_h) for unit, ws in sorted(by_unit.items())}


def test_a_bare_mtbf_and_mttr_are_exponential_means_and_a_constant_is_written_so() -> None:
    bare = validate_config(_raw({"mtbf": "400 h", "mttr": "6 h"}))
    (spec,) = bare.disruptions.random.breakdowns
    assert isinstance(spec.mtbf, Exponential) and spec.mtbf.mean == 400
    assert isinstance(spec.mttr, Exponential) and spec.mttr.mean == 6
    written = validate_config(
        _raw({"mtbf": {"dist": "constant", "value": "400 h"}, "mttr": {"dist": "constant",
                                                                        "value": 6}})
    )  # fmt: skip
    (spec,) = written.disruptions.random.breakdowns
    assert isinstance(spec.mtbf, Constant) and isinstance(spec.mttr, Constant)
    # elsewhere a bare duration is still a constant
    assert isinstance(bare.hub.cranes.move_time, Constant)


def test_each_track_fails_at_its_own_random_times() -> None:
    units = _windows(_raw({"mtbf": f"{MTBF_H} h", "mttr": f"{MTTR_H} h"}))
    assert list(units) == ["Border[0]", "Border[1]", "Border[2]", "Border[3]"]
    firsts = [ws[0].start_h for ws in units.values()]
    assert len(set(firsts)) == 4  # not all at MTBF, as a constant would have it
    starts = [round(w.start_h, 9) for ws in units.values() for w in ws]
    assert len(set(starts)) == len(starts)  # no two tracks ever fail at the same instant
    for ws in units.values():  # a unit is up between its repairs
        assert all(a.end_h <= b.start_h for a, b in itertools.pairwise(ws))


def test_up_and_repair_times_have_the_exponential_means_and_spread() -> None:
    units = _windows(_raw({"mtbf": f"{MTBF_H} h", "mttr": f"{MTTR_H} h"}))
    ups: list[float] = []
    repairs: list[float] = []
    for ws in units.values():
        ups.append(ws[0].start_h)
        ups += [b.start_h - a.end_h for a, b in itertools.pairwise(ws)]
        repairs += [w.end_h - w.start_h for w in ws[:-1]]  # the last may end after the run
    assert len(ups) > 300 and len(repairs) > 300
    for sample, mean in ((ups, MTBF_H), (repairs, MTTR_H)):
        _, low, high, _ = mean_ci(sample, level=0.999)
        assert low <= mean <= high, (mean, low, high)
        cv = float(np.std(sample, ddof=1) / np.mean(sample))
        assert 0.8 < cv < 1.2, cv  # exponential: cv 1 (a constant: 0)


def test_a_written_constant_fails_every_track_on_the_same_clock() -> None:
    constant = {"mtbf": {"dist": "constant", "value": "400 h"},
                "mttr": {"dist": "constant", "value": "6 h"}}  # fmt: skip
    units = _windows(_raw(constant, days=60))
    for ws in units.values():
        assert [w.start_h for w in ws] == pytest.approx([400, 806, 1212])


def test_breakdown_draws_are_common_random_numbers_across_scenarios() -> None:
    breakdown = {"mtbf": "30 h", "mttr": "2 h"}
    base = _windows(_raw(breakdown, days=10))
    busier = _raw(breakdown, days=10)
    busier["demand"]["tonnes_per_day"] = 150
    assert _windows(busier) == base  # more cargo, the same failures
    more_tracks = _windows(_raw(breakdown, tracks=5, days=10))
    assert {unit: more_tracks[unit] for unit in base} == base  # the new track draws its own
    assert "Border[4]" in more_tracks
    other_seed = _windows(_raw(breakdown, days=10), seed=2)
    assert other_seed != base
    assert not math.isclose(other_seed["Border[0]"][0].start_h, base["Border[0]"][0].start_h)
