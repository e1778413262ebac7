"""Numbers that mean what they say: recovery that lasts, intervals inside a quantity's
physical bound, differences printed with their digits, seasons not read as warm-up."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.kpis import CATALOGUE, lower_bound
from silkroute_sim.analysis.recovery import (
    NOT_RECOVERED,
    RECOVERED,
    Signal,
    Step,
    recovery,
    recovery_h,
)
from silkroute_sim.analysis.stats import mean_ci, metric_ci
from silkroute_sim.analysis.warmup import suggest_warmup, suggested_days, warmup_warning
from silkroute_sim.cli.compare import print_comparison

# --------------------------------------------------------------------------- recovery

START_H, END_H = 10 * 24.0, 15 * 24.0  # a 5-day event after 10 quiet days
NO_DISPATCH = (np.empty(0), np.empty(0))


def _queue(after: list[float], run_days: int = 40) -> Signal:
    """A node queue: 0 trains before the event, 20 during it, then ``after[k]`` on day
    ``k`` after its end (the last value to the end of the run)."""
    times = [0.0, START_H] + [END_H + 24.0 * k for k in range(len(after))]
    levels = [0.0, 20.0, *after]
    assert END_H + 24.0 * len(after) <= run_days * 24.0
    return Signal("queue:X", Step(np.array(times), np.array(levels)), floor=0.5)


def test_a_queue_that_dips_back_then_climbs_has_not_recovered() -> None:
    signal = _queue([0.0, 0.0, 0.0, 0.0, 5.0, 10.0, 20.0, 40.0])
    hours = recovery_h([signal], NO_DISPATCH, START_H, END_H, 40 * 24.0)
    assert math.isnan(hours)  # back for a few days, then far out of its band for good
    assert recovery([signal], NO_DISPATCH, START_H, END_H, 40 * 24.0)[1] == NOT_RECOVERED


def test_a_queue_that_comes_back_and_stays_recovers_on_the_first_lasting_day() -> None:
    # back on day 0 for two days, out again on days 2-4, back for good from day 5
    signal = _queue([0.0, 0.0, 8.0, 8.0, 8.0, 0.0])
    hours, status = recovery([signal], NO_DISPATCH, START_H, END_H, 40 * 24.0)
    assert status == RECOVERED
    assert hours == 5 * 24.0


def test_recovery_near_the_end_of_the_run_needs_every_day_left() -> None:
    signal = _queue([9.0, 9.0, 9.0, 0.0])
    hours, status = recovery([signal], NO_DISPATCH, START_H, END_H, END_H + 6 * 24.0)
    assert (hours, status) == (3 * 24.0, RECOVERED)  # days 3-5: all that is left


# --------------------------------------------------------------------------- intervals


def test_intervals_of_non_negative_kpis_are_clipped_at_zero() -> None:
    values = [0.0, 0.0, 0.0, 0.0, 3000.0]  # recovery_h of 5 replications: skewed
    mean, low, high, n = mean_ci(values)
    assert low < 0  # the t-interval itself reaches below 0
    for metric in ("recovery_h:khorgos", "affected_shipments:khorgos", "backlog_t_end"):
        assert lower_bound(metric) == 0.0
        c_mean, c_low, c_high, c_n = metric_ci(metric, values)
        assert (c_mean, c_high, c_n) == (mean, high, n)
        assert c_low == 0.0


def test_replicated_summaries_clip_intervals_at_zero() -> None:
    """The summary.csv of replications (and a sweep's points) use the clipped interval:
    a recovery time seen as 0, 0 and 900 h gets no negative lower end."""
    from silkroute_sim.outputs.replication_result import combine_summaries

    runs = [
        pd.DataFrame({"metric": ["recovery_h:x"], "value": [v], "unit": ["h"]})
        for v in (0.0, 0.0, 900.0)
    ]
    row = combine_summaries(runs).iloc[0]
    assert row["ci_low"] == 0.0 and row["ci_high"] > 900.0


def test_signed_quantities_keep_their_whole_interval() -> None:
    values = [-1.0, 0.5, -0.2, 0.1]
    for metric in ("extra_door_to_door_d_mean:khorgos", "conservation_error_t", "unknown_kpi"):
        assert lower_bound(metric) is None
        assert metric_ci(metric, values) == mean_ci(values)
    assert mean_ci(values)[1] < 0


def test_every_catalogued_kpi_has_a_bound_or_none() -> None:
    assert all(k.lower in (None, 0.0) for k in CATALOGUE.values())


# --------------------------------------------------------------------------- formatting


def test_a_small_real_difference_is_printed_with_its_digits() -> None:
    kpi = CATALOGUE["dispatched_t_per_day"]
    diff, width = kpi.interval_texts(-0.03, 0.012)
    assert (diff, width) == ("-0.030 t/day", "0.012 t/day")
    assert kpi.interval_texts(-120.3, 45.0) == ("-120 t/day", "45 t/day")
    assert CATALOGUE["crane_utilisation"].interval_texts(0.0123, 0.0031) == ("+1.23%", "0.31%")
    # no interval: two significant digits of the difference itself
    assert kpi.interval_texts(0.004, math.nan) == ("+0.0040 t/day", "")


def test_compare_prints_a_significant_small_difference_as_non_zero(capsys) -> None:
    table = pd.DataFrame(
        {
            "scenario": ["base", "other"],
            "metric": ["dispatched_t_per_day", "dispatched_t_per_day"],
            "mean": [3600.0, 3599.97],
            "diff": [math.nan, -0.03],
            "diff_ci_low": [math.nan, -0.042],
            "diff_ci_high": [math.nan, -0.018],
            "significant": [None, True],
            "method": ["", "paired"],
        }
    )
    comparison = SimpleNamespace(
        table=table, names=["base", "other"], base=SimpleNamespace(reps=[1, 2, 3]), ci=0.95
    )
    print_comparison(comparison)  # type: ignore[arg-type]
    line = next(x for x in capsys.readouterr().out.splitlines() if "dispatched" in x)
    assert "-0.030 t/day ± 0.012 t/day *" in line
    assert "0 t/day ± 0 t/day" not in line


# --------------------------------------------------------------------------- warm-up

DAYS = 365
#: the baseline's seasonal factors (January … December) and weekday factors
SEASONS = [0.92, 0.88, 0.96, 1.0, 1.02, 1.02, 1.03, 1.03, 1.04, 1.05, 1.04, 1.01]
WEEKDAYS = [1.05, 1.05, 1.05, 1.05, 1.0, 0.95, 0.85]


def _dailies(yard_start: float = 0.0, cranes_back_day: int = 0, reps: int = 3) -> list:
    """Daily tables of a steady hub under the baseline's seasons (noise, no transient
    unless asked): a yard that starts ``yard_start`` TEU too full and drains in about
    two weeks; or no dispatch before ``cranes_back_day`` and then the backlog cleared."""
    out = []
    for rep in range(reps):
        rng = np.random.default_rng(rep)
        day = np.arange(DAYS)
        month = np.minimum((day / (DAYS / 12)).astype(int), 11)
        level = 3600 * np.array(SEASONS)[month] * np.array(WEEKDAYS)[day % 7]
        arrived = level * rng.normal(1, 0.05, DAYS)
        dispatched = np.roll(arrived, 1) * rng.normal(1, 0.05, DAYS)
        dispatched[0] = 0.0
        if cranes_back_day:
            backlog = dispatched[:cranes_back_day].sum()
            dispatched[:cranes_back_day] = 0.0
            catch_up = np.arange(cranes_back_day, cranes_back_day + 20)
            dispatched[catch_up] += backlog / 20
        yard = level / 3600 * 1200 * rng.normal(1, 0.03, DAYS) + yard_start * np.exp(-day / 5)
        out.append(
            pd.DataFrame(
                {
                    "day": day,
                    "tonnes_arrived": arrived,
                    "tonnes_dispatched": dispatched,
                    "yard_teu_mean": yard,
                }
            )
        )
    return out


def test_the_seasonal_dip_is_not_read_as_a_warm_up() -> None:
    suggestions = suggest_warmup(_dailies())
    assert suggested_days(suggestions) is not None
    assert suggested_days(suggestions) <= 30
    assert warmup_warning(suggestions, 30) is None


def test_a_yard_that_starts_full_is_still_flagged() -> None:
    suggestions = suggest_warmup(_dailies(yard_start=3000.0))
    need = suggested_days(suggestions)
    assert need is not None and need > 7
    assert warmup_warning(suggestions, 5) is not None


def test_a_start_without_cranes_is_still_flagged() -> None:
    suggestions = suggest_warmup(_dailies(cranes_back_day=40))
    need = suggested_days(suggestions)
    assert need is not None and need > 30
    warning = warmup_warning(suggestions, 30)
    assert warning is not None and "tonnes_dispatched" in warning


def _baseline_dailies(*overrides: str) -> list[pd.DataFrame]:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate

    cfg = load_config("configs/baseline.yaml", list(overrides))
    return [Tables(simulate(cfg, seed=seed)).daily for seed in (1, 2)]


@pytest.mark.slow
def test_the_shipped_baseline_passes_and_a_crane_less_start_does_not() -> None:
    # a year of the baseline: its 30 warm-up days are enough (the seasons are demand)
    assert warmup_warning(suggest_warmup(_baseline_dailies()), 30) is None
    # the same year with the hub's cranes out for the first 40 days: a real transient
    closed = "disruptions.scheduled=[{hub: cranes, effect: close, start: 0 d, duration: 40 d}]"
    suggestions = suggest_warmup(_baseline_dailies(closed))
    assert warmup_warning(suggestions, 30) is not None


def test_without_arrivals_the_series_are_judged_as_they_are() -> None:
    frames = [d.drop(columns="tonnes_arrived") for d in _dailies()]
    judged = suggest_warmup(frames)
    assert [s.column for s in judged] == ["tonnes_dispatched", "yard_teu_mean"]
    raw = frames[0]["tonnes_dispatched"].to_numpy()
    mean = np.mean([f["tonnes_dispatched"].to_numpy() for f in frames], axis=0)
    assert judged[0].mean_series == pytest.approx(mean)
    assert raw.size == DAYS
