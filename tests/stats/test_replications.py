"""Replications: Student-t intervals over seeds, parallel = serial, common random numbers,
warm-up detection (Welch's method)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.analysis.warmup import (
    mser5,
    suggest_warmup,
    warmup_warning,
    welch_moving_average,
    welch_truncation,
)
from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.replications import run_replications, write_replications
from silkroute_sim.model.simulate import simulate
from silkroute_sim.outputs.replication_result import combine_summaries
from silkroute_sim.outputs.replications_folder import load_replications
from silkroute_sim.outputs.storage import folder_kind

from ..conftest import silkroute

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "configs" / "baseline.yaml"
MAIN_KPIS = [
    "dispatched_t_per_day",
    "trains_dispatched_per_day",
    "hub_dwell_h_mean",
    "yard_teu_mean",
    "crane_utilisation",
    "door_to_door_d_median",
]


# --------------------------------------------------------------------------- CIs


@pytest.mark.slow
def test_cli_reps5_intervals_contain_the_mean_of_an_independent_20_rep_run(tmp_path) -> None:
    """`run --reps 5`: each main KPI's 95 % interval contains the mean of 20 other seeds.

    The 20-rep mean is itself uncertain, so the coverage of this check is ~93 % per KPI
    rather than 95 %: a failure on one KPI is possible but rare; on several, a bug."""
    out = tmp_path / "five"
    proc = silkroute(
        "run",
        str(BASELINE),
        "--days",
        "30",
        "--warmup-days",
        "10",
        "--reps",
        "5",
        "--workers",
        "2",
        "--no-plots",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hub dwell (mean)" in proc.stdout and "±" in proc.stdout
    five = pd.read_csv(out / "summary.csv").set_index("metric")
    # every metric is defined in all five runs, or in none (a border of an alternative route
    # that no train crossed in 30 days has no wait to average: n = 0, mean NaN)
    assert five["n"].isin([0, 5]).all(), five[~five["n"].isin([0, 5])]
    assert (five.loc[MAIN_KPIS, "n"] == 5).all()

    cfg = load_config(BASELINE, days=30, warmup_days=10)
    twenty = run_replications(cfg, 20, workers=2, seeds=range(7_000, 7_020))
    assert twenty.seeds == list(range(7_000, 7_020))
    means20 = twenty.summary.set_index("metric")["mean"]
    for kpi in MAIN_KPIS:
        low, high = five.loc[kpi, "ci_low"], five.loc[kpi, "ci_high"]
        assert low < high
        assert low <= means20[kpi] <= high, (kpi, low, means20[kpi], high)


def test_combined_summary_is_mean_and_student_t_of_the_replications() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(10, 2, size=6)
    frames = [
        pd.DataFrame({"metric": ["a", "b"], "value": [v, math.nan], "unit": ["h", "t"]})
        for v in values
    ]
    combined = combine_summaries(frames, 0.95).set_index("metric")
    assert list(combined.columns) == ["value", "unit", "mean", "ci_low", "ci_high", "n"]
    assert combined.loc["a", "mean"] == pytest.approx(values.mean())
    assert combined.loc["a", "value"] == combined.loc["a", "mean"]
    half = 2.570582 * values.std(ddof=1) / math.sqrt(6)  # t(0.975, 5)
    assert combined.loc["a", "ci_high"] - combined.loc["a", "mean"] == pytest.approx(half, 1e-5)
    assert combined.loc["a", "n"] == 6
    # a KPI with nothing to measure stays empty, never a silent 0
    assert combined.loc["b", "n"] == 0 and math.isnan(combined.loc["b", "mean"])
    narrow = combine_summaries(frames, 0.80).set_index("metric")
    assert narrow.loc["a", "ci_high"] - narrow.loc["a", "ci_low"] < half * 2


# --------------------------------------------------------------------------- folders


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory) -> tuple[Path, Path]:
    """Three 30-day replications with no warm-up, written serially and with 2 workers."""
    root = tmp_path_factory.mktemp("reps")
    cfg = load_config(BASELINE, days=30, warmup_days=0, seed=11)
    serial, _ = write_replications(cfg, root / "serial", 3, workers=1, plots=False)
    parallel, _ = write_replications(cfg, root / "parallel", 3, workers=2, plots=False)
    return serial, parallel


@pytest.mark.slow
def test_parallel_replications_are_byte_identical_to_serial(serial_and_parallel) -> None:
    serial, parallel = serial_and_parallel
    files = sorted(p.relative_to(serial) for p in serial.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(parallel) for p in parallel.rglob("*") if p.is_file())
    csvs = [f for f in files if f.suffix == ".csv"]
    assert len(csvs) == 2 + 3 * 6  # summary + replications, and 6 tables per replication (modes)
    for name in files:  # every file, manifests and markers too: nothing says how it ran
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name


@pytest.mark.slow
def test_replication_folder_layout_and_summary(serial_and_parallel) -> None:
    folder, _ = serial_and_parallel
    assert folder_kind(folder) == "replications"
    seeds = [11, 12, 13]
    for seed in seeds:
        assert folder_kind(folder / f"rep-{seed}") == "run"
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == [
        *["metric", "value", "unit", "mean", "ci_low", "ci_high", "n"],
        *["kpi", "by", "key"],  # the qualifier split, as in a run's summary.csv
    ]
    per_rep = [pd.read_csv(folder / f"rep-{s}" / "summary.csv").set_index("metric") for s in seeds]
    for row in summary.itertuples():
        values = [float(p.loc[row.metric, "value"]) for p in per_rep]
        if all(math.isnan(v) for v in values):
            assert row.n == 0
            continue
        assert row.value == row.mean
        assert row.mean == pytest.approx(np.nanmean(values), abs=2e-4)
        if row.n >= 2:
            assert row.ci_low <= row.mean <= row.ci_high
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["seeds"] == seeds and manifest["reps"] == 3 and manifest["kind"] == "replications"
    )
    long = pd.read_csv(folder / "replications.csv")
    assert sorted(long["seed"].unique()) == seeds


@pytest.mark.slow
def test_short_warmup_is_flagged(serial_and_parallel) -> None:
    """The runs start empty and cut no warm-up: Welch's method must say it is too short."""
    folder, _ = serial_and_parallel
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    suggested = manifest["warmup_suggested_days"]
    assert suggested is not None and suggested >= 1
    assert any("looks too short" in w for w in manifest["warnings"])


@pytest.mark.slow
def test_reading_a_replication_folder_back(serial_and_parallel) -> None:
    folder, _ = serial_and_parallel
    written = pd.read_csv(folder / "summary.csv").set_index("metric")
    again = load_replications(folder).summary.set_index("metric")
    assert list(again.index) == list(written.index)
    pd.testing.assert_series_equal(
        again["mean"], written["mean"], check_exact=False, atol=2e-4, check_names=False
    )
    assert load_replications(folder).seeds == [11, 12, 13]


@pytest.mark.slow
def test_cli_reps_bad_options_are_one_line_errors(tmp_path) -> None:
    for args in (
        ["--reps", "0"],
        ["--reps", "2", "--ci", "1.5"],
        ["--reps", "2", "--workers", "-1"],
    ):
        proc = silkroute("run", str(BASELINE), "--days", "5", "--out", "x", *args, cwd=tmp_path)
        assert proc.returncode == 2, args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
        assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- CRN


@pytest.mark.slow
def test_same_seed_gives_same_arrivals_whatever_the_hub_capacity() -> None:
    """Common random numbers: hub capacity changes what happens to the boxes, never which
    boxes arrive, when, or which background trains reach the borders."""
    kw = {"days": 12, "warmup_days": 0, "seed": 5}
    base = Tables(simulate(load_config(BASELINE, **kw)))
    bigger = Tables(
        simulate(
            load_config(
                BASELINE,
                ["hub.cranes.count=5", "hub.loading.tracks=6", "hub.yard.capacity_teu=3000"],
                **kw,
            )
        )
    )
    cols = ["shipment_id", "destination", "tonnes", "teu", "arrived_h"]
    pd.testing.assert_frame_equal(base.shipments[cols], bigger.shipments[cols])
    # ... while what happens to them does differ
    assert not np.allclose(base.shipments["yard_in_h"], bigger.shipments["yard_in_h"])

    def first_arrivals(tables: Tables) -> pd.DataFrame:
        """Background trains' arrivals at their first node (a train is recorded once
        processed, so keep those that arrived well before the end)."""
        ev = tables.node_events
        bg = ev[ev["background"]].drop_duplicates("train_id", keep="first")
        bg = bg[bg["arrived_h"] < 8 * 24].sort_values(["arrived_h", "node"])
        return bg[["node", "arrived_h"]].reset_index(drop=True)

    bg_base, bg_bigger = first_arrivals(base), first_arrivals(bigger)
    assert len(bg_base) > 50
    pd.testing.assert_frame_equal(bg_base, bg_bigger)
    other_seed = Tables(simulate(load_config(BASELINE, days=12, warmup_days=0, seed=6)))
    assert (
        not other_seed.shipments["arrived_h"].head(50).equals(base.shipments["arrived_h"].head(50))
    )


# --------------------------------------------------------------------------- warm-up


def test_welch_moving_average_definition() -> None:
    y = np.arange(10, dtype=float)
    ma = welch_moving_average(y, 2)
    # i=0: y0; i=1: mean(y0..y2); i>=2: mean(y[i-2..i+2]); m - w points
    assert ma.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert welch_moving_average(y, 20).size == 0


def test_welch_finds_the_end_of_an_exponential_transient() -> None:
    """A curve rising to 100 with time constant 5 days is within 5 % after ~15 days; the
    smoothed curve's look-ahead makes the pick a few days early at most, never late by
    more than the window."""
    t = np.arange(120, dtype=float)
    rng = np.random.default_rng(0)
    reps = [100 * (1 - np.exp(-t / 5)) + rng.normal(0, 1, t.size) for _ in range(5)]
    dailies = [pd.DataFrame({"tonnes_dispatched": r}) for r in reps]
    (s,) = suggest_warmup(dailies, columns=["tonnes_dispatched"])
    true_settle = 5 * math.log(20)  # 15.0 days
    assert s.days is not None
    assert true_settle - 7 <= s.days <= true_settle + 7
    assert s.level == pytest.approx(100, abs=1)
    mser = mser5(np.mean(reps, axis=0))
    # MSER cuts until the bias is below the noise: later than the 5 % band, but bounded
    assert mser is not None and true_settle <= mser <= 40


def test_welch_on_a_stationary_series_needs_no_warmup_and_short_runs_cannot_tell() -> None:
    rng = np.random.default_rng(1)
    day, *_ = welch_truncation(50 + rng.normal(0, 3, 200), window=7)
    assert day is not None and day <= 7
    day, _, _, _, reason = welch_truncation(np.ones(20), window=7)
    assert day is None and "too short" in reason


def test_warmup_warning_only_when_the_configured_warmup_is_shorter() -> None:
    t = np.arange(100, dtype=float)
    dailies = [pd.DataFrame({"tonnes_dispatched": 100 * (1 - np.exp(-t / 4))})]
    suggestions = suggest_warmup(dailies, columns=["tonnes_dispatched"])
    need = suggestions[0].days
    assert need is not None and need > 5
    warning = warmup_warning(suggestions, 2)
    assert warning is not None and "looks too short" in warning and str(need) in warning
    assert warmup_warning(suggestions, need) is None
    growing = [pd.DataFrame({"tonnes_dispatched": t**2})]
    note = warmup_warning(suggest_warmup(growing, columns=["tonnes_dispatched"]), 30)
    assert note is not None and "never settles" in note
