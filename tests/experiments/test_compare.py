"""Comparisons with common random numbers: paired intervals, significance, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.compare import (
    COMPARISON_COLUMNS,
    compare_configs,
    compare_results,
    unpaired_difference,
)
from silkroute_sim.experiments.replications import run_replications
from silkroute_sim.outputs.storage import folder_kind

from ..conftest import silkroute

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "configs" / "baseline.yaml"
GANTRY = REPO / "configs" / "scenarios" / "extra-gantry.yaml"
SHORT = {"days": 30, "warmup_days": 10}
REPS = 6


@pytest.fixture(scope="module")
def gantry():
    """Baseline vs extra gantry, same seeds (CRN); and the gantry again on other seeds."""
    base_cfg, gantry_cfg = load_config(BASELINE, **SHORT), load_config(GANTRY, **SHORT)
    crn = compare_configs([base_cfg, gantry_cfg], REPS, workers=2)
    independent = run_replications(gantry_cfg, REPS, workers=2, seeds=range(9_000, 9_000 + REPS))
    return crn, independent


def _width(low: float, high: float) -> float:
    return high - low


def test_paired_interval_is_narrower_than_unpaired_on_extra_gantry(gantry) -> None:
    crn, independent = gantry
    metric = "hub_dwell_h_mean"
    row = crn.row("extra-gantry", metric)
    assert row["method"] == "paired"
    paired = _width(row["diff_ci_low"], row["diff_ci_high"])
    # the same runs, ignoring the pairing
    _, low, high = unpaired_difference(crn.base, crn.scenarios[1], metric)
    assert paired < _width(low, high)
    # independent runs (no common random numbers): Welch's interval
    unpaired = compare_results([crn.base, independent])
    indep_row = unpaired.row("extra-gantry", metric)
    assert indep_row["method"] == "welch"
    assert paired < _width(indep_row["diff_ci_low"], indep_row["diff_ci_high"])
    assert unpaired.warnings == [
        "extra-gantry: shares no seed with baseline (a paired interval needs 2 replications "
        "or more on common seeds); its differences use Welch's unpaired interval (no common "
        "random numbers)"
    ]


def test_a_comparison_of_runs_over_other_horizons_says_so(gantry) -> None:
    crn, _ = gantry
    base, other = crn.scenarios[0], crn.scenarios[1]
    longer = dataclasses.replace(other, days=other.days + 5)
    warnings = compare_results([base, longer]).warnings
    assert warnings == [
        "extra-gantry: ran 35 days (10 warm-up), baseline 30 days (10 warm-up); their KPIs "
        "cover different windows, so the differences mix the horizon with the scenario"
    ]


def test_differences_and_significance_are_computed_correctly(gantry) -> None:
    crn, _ = gantry
    table = crn.table
    assert list(table.columns) == COMPARISON_COLUMNS
    base_vals, other_vals = crn.base.values(), crn.scenarios[1].values()
    others = table[table["scenario"] == "extra-gantry"]
    checked = 0
    for row in others.itertuples():
        d = other_vals[row.metric] - base_vals[row.metric]
        mean, low, high, n = mean_ci(d.to_numpy(dtype=float), 0.95)
        if n == 0:
            assert math.isnan(row.diff)
            continue
        assert row.diff == pytest.approx(mean, abs=1e-9)
        if n >= 2:
            assert row.diff_ci_low == pytest.approx(low, abs=1e-9)
            assert row.diff_ci_high == pytest.approx(high, abs=1e-9)
            assert bool(row.significant) == (low > 0 or high < 0)
            checked += 1
    assert checked > 30
    # the base rows carry no difference
    base_rows = table[table["scenario"] == "baseline"]
    assert base_rows["diff"].isna().all() and base_rows["significant"].isna().all()
    # what the scenario is about: a fourth gantry cuts dwell and crane utilisation
    for metric in ("hub_dwell_h_mean", "crane_utilisation", "yard_teu_mean"):
        row = crn.row("extra-gantry", metric)
        assert row["significant"] and row["diff_ci_high"] < 0, metric
    # common random numbers: the same cargo arrived in both scenarios
    demand = crn.row("extra-gantry", "demand_t_per_day")
    assert demand["diff"] == 0 and not demand["significant"]


def test_cli_compare_configs_and_finished_runs_agree(tmp_path) -> None:
    """`compare A.yaml B.yaml --keep-runs` and then `compare DIR_A DIR_B` on the kept
    replication folders give the same paired differences; the folders are complete."""
    proc = silkroute(
        "compare", str(BASELINE), str(GANTRY), "--days", "20", "--warmup-days", "5",
        "--reps", "3", "--workers", "2", "--keep-runs", "--out", "cmp", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "hub dwell (mean)" in proc.stdout and "paired" in proc.stdout
    out = tmp_path / "cmp"
    for name in ("comparison.csv", "replications.csv", "manifest.json", "report.html"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        "border_waits.png",
        "differences.png",
        "door_to_door_ecdf.png",
        "per_replication.png",
        "throughput.png",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "comparison" and manifest["paired"] is True
    seeds = [20180101, 20180102, 20180103]
    assert [s["seeds"] for s in manifest["scenarios"]] == [seeds] * 2
    for name in ("baseline", "extra-gantry"):
        kept = out / "runs" / name
        assert folder_kind(kept) == "replications"
        assert [folder_kind(kept / f"rep-{s}") for s in seeds] == ["run"] * 3

    again = silkroute(
        "compare", "cmp/runs/baseline", "cmp/runs/extra-gantry", "--out", "cmp2", "--no-plots",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    first = pd.read_csv(out / "comparison.csv").set_index(["scenario", "metric"])
    second = pd.read_csv(tmp_path / "cmp2" / "comparison.csv").set_index(["scenario", "metric"])
    key = ("extra-gantry", "hub_dwell_h_mean")
    assert second.loc[key, "method"] == "paired"
    for col in ("diff", "diff_ci_low", "diff_ci_high"):
        assert second.loc[key, col] == pytest.approx(first.loc[key, col], abs=1e-3)
    assert second.loc[key, "significant"] == first.loc[key, "significant"]
    assert not (tmp_path / "cmp2" / "report.html").exists()  # --no-plots: no report


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["baseline", "--days", "3"], "at least two"),
        (["baseline", "scenarios/extra-gantry", "--ci", "1.5"], "--ci"),
        (["baseline", "no-such.yaml", "--days", "3", "--warmup-days", "1"], "no-such.yaml"),
        (["baseline", "scenarios/extra-gantry", "--set", "hub.cranes.cout=4"], "cout"),
        (["folder", "baseline"], "mix of result folders"),
        (["folder", "folder2", "--reps", "3"], "--reps"),
        (["folder", "folder2"], "not a complete silkroute result folder"),
    ],
)
def test_cli_compare_bad_input_is_one_line_and_writes_nothing(tmp_path, args, needle) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder2").mkdir()
    proc = silkroute("compare", *args, "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert needle in lines[0]
    assert not (tmp_path / "out").exists()
