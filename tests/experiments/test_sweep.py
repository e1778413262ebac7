"""Sweeps: spec validation, designs, run keys, resume after SIGKILL, serial = parallel."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.config.errors import ConfigError, SilkrouteError
from silkroute_sim.experiments.sweep import (
    FAILED_DIR,
    RUNS_DIR,
    plan_sweep,
    run_key,
    run_sweep,
)
from silkroute_sim.outputs.storage import MARKER, complete_folders, is_complete

from ..conftest import tiny_raw

PY = sys.executable


#: what a sweep's run folder holds by default (records: summary), and what it leaves out
SUMMARY_FILES = ("summary.csv", "daily.csv", "manifest.json")
FULL_ONLY = ("shipments.csv", "node_events.csv", "trains.csv")


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def tiny_spec(tmp_path: Path, name: str = "spec", **fields: Any) -> Path:
    """A sweep over the tiny scenario (written next to it as tiny.yaml)."""
    if not (tmp_path / "tiny.yaml").exists():
        write_yaml(
            tmp_path / "tiny.yaml", tiny_raw(simulation={"days": 12, "warmup_days": 2, "seed": 1})
        )
    spec: dict[str, Any] = {
        "base": "tiny.yaml",
        "parameters": {
            "demand.tonnes_per_day": [60, 100],
            "hub.cranes.move_time": ["6 min", "12 min"],
        },
        "reps": 2,
        "seed": 5,
    }
    spec.update(fields)
    return write_yaml(tmp_path / f"{name}.yaml", spec)


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [PY, "-m", "silkroute_sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# --------------------------------------------------------------------------- designs


def test_grid_is_every_combination_first_parameter_outermost(tmp_path: Path) -> None:
    plan = plan_sweep(tiny_spec(tmp_path))
    assert [p.values for p in plan.points] == [
        {"demand.tonnes_per_day": 60, "hub.cranes.move_time": "6 min"},
        {"demand.tonnes_per_day": 60, "hub.cranes.move_time": "12 min"},
        {"demand.tonnes_per_day": 100, "hub.cranes.move_time": "6 min"},
        {"demand.tonnes_per_day": 100, "hub.cranes.move_time": "12 min"},
    ]
    assert len(plan.runs) == 8
    assert [(t.point, t.rep, t.seed) for t in plan.runs[:3]] == [(0, 0, 5), (0, 1, 6), (1, 0, 5)]
    # every point's config carries its values, resolved (durations in hours)
    assert plan.points[1].config["hub"]["cranes"]["move_time"]["value"] == pytest.approx(0.2)
    assert plan.points[2].config["demand"]["tonnes_per_day"] == 100


def test_zip_pairs_values_and_ranges_expand(tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path,
        design="zip",
        parameters={
            "demand.tonnes_per_day": {"from": 50, "to": 80, "step": 10},
            "hub.yard.capacity_teu": {"from": 100, "to": 160, "num": 4},
            "hub.customs.inspection_probability": {"from": 0.1, "to": 0.4, "step": 0.1},
        },
    )
    plan = plan_sweep(spec)
    assert [tuple(p.values.values()) for p in plan.points] == [
        (50, 100, 0.1),
        (60, 120, 0.2),
        (70, 140, 0.3),
        (80, 160, 0.4),
    ]


def test_latin_hypercube_puts_one_point_in_each_stratum(tmp_path: Path) -> None:
    n = 8
    params = {
        "demand.tonnes_per_day": {"dist": "uniform", "low": 40, "high": 120},
        "hub.yard.capacity_teu": {"dist": "integer", "low": 100, "high": 107},
        "hub.cranes.move_time": ["6 min", "8 min", "10 min", "12 min"],
    }
    spec = tiny_spec(tmp_path, design={"kind": "lhs", "n": n}, parameters=params, reps=1)
    plan = plan_sweep(spec)
    assert len(plan.points) == n
    demand = [p.values["demand.tonnes_per_day"] for p in plan.points]
    assert sorted(int((d - 40) / 80 * n) for d in demand) == list(range(n))
    yard = [p.values["hub.yard.capacity_teu"] for p in plan.points]
    assert sorted(yard) == list(range(100, 108))  # 8 integers, 8 strata: each once
    moves = [p.values["hub.cranes.move_time"] for p in plan.points]
    assert all(moves.count(m) == 2 for m in params["hub.cranes.move_time"])  # type: ignore[union-attr]
    # the same seed gives the same design; another seed another one
    assert [p.values for p in plan_sweep(spec).points] == [p.values for p in plan.points]
    other = plan_sweep(spec, seed=6)
    assert [p.values for p in other.points] != [p.values for p in plan.points]


def test_latin_hypercube_samples_the_config_distributions_stratum_by_stratum(
    tmp_path: Path,
) -> None:
    """Each value's distribution function lands in its own 1/n stratum: the inverse of the
    config's triangular, its normal truncated at 0, and the sweep's loguniform."""
    from statistics import NormalDist

    n = 16
    params = {
        "demand.tonnes_per_day": {"dist": "triangular", "low": 40, "mode": 60, "high": 120},
        "hub.yard.capacity_teu": {"dist": "loguniform", "low": 100, "high": 1000},
        "hub.gate.lanes": {"dist": "integer", "low": 1, "high": 4},
        "hub.cranes.move_time": {"dist": "normal", "mean": 0.1, "sd": 0.08},
    }
    spec = tiny_spec(tmp_path, design={"kind": "lhs", "n": n}, parameters=params, reps=1)
    plan = plan_sweep(spec)
    assert len(plan.points) == n

    def triangular(x: float) -> float:
        return (x - 40) ** 2 / (80 * 20) if x < 60 else 1 - (120 - x) ** 2 / (80 * 60)

    def loguniform(x: float) -> float:
        return math.log(x / 100) / math.log(10)

    law = NormalDist(0.1, 0.08)
    below = law.cdf(0)

    def truncated_normal(x: float) -> float:
        return (law.cdf(x) - below) / (1 - below)

    for path, cdf in [
        ("demand.tonnes_per_day", triangular),
        ("hub.yard.capacity_teu", loguniform),
        ("hub.cranes.move_time", truncated_normal),
    ]:
        values = [p.values[path] for p in plan.points]
        assert sorted(int(cdf(v) * n) for v in values) == list(range(n)), path
    assert all(p.values["hub.cranes.move_time"] > 0 for p in plan.points)  # truncated at 0
    lanes = [p.values["hub.gate.lanes"] for p in plan.points]
    assert all(lanes.count(k) == n // 4 for k in range(1, 5))


def test_constraints_skip_points_by_path_or_short_name(tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path,
        parameters={
            "demand.tonnes_per_day": [60, 80, 100],
            "hub.cranes.move_time": ["6 min", "12 min"],
        },
        constraints=[
            "not (demand.tonnes_per_day >= 100 and move_time == '12 min')",
            "tonnes_per_day != 80",
        ],
    )
    plan = plan_sweep(spec)
    kept = [tuple(p.values.values()) for p in plan.points]
    assert kept == [(60, "6 min"), (60, "12 min"), (100, "6 min")]
    assert plan.excluded == 3


def test_run_key_is_the_config_hash_of_the_run_and_changes_with_seed(tmp_path: Path) -> None:
    plan = plan_sweep(tiny_spec(tmp_path))
    keys = [t.key for t in plan.runs]
    assert len(set(keys)) == len(keys)
    from silkroute_sim.config.loader import validate_config

    task = plan.runs[3]
    data = json.loads(json.dumps(task.config))
    data["simulation"]["seed"] = task.seed
    assert validate_config(data).config_hash() == task.key
    assert run_key(task.config, task.seed + 1) != task.key
    # the same spec gives the same keys; a changed base changes them all
    assert [t.key for t in plan_sweep(tiny_spec(tmp_path)).runs] == keys
    longer = plan_sweep(tiny_spec(tmp_path), days=13)
    assert not set(keys) & {t.key for t in longer.runs}


def test_duplicate_points_are_run_once(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, parameters={"hub.cranes.move_time": ["6 min", "0.1 h", 0.1]})
    plan = plan_sweep(spec)
    assert len(plan.points) == 1
    assert plan.duplicates == 2


def test_packaged_capacity_sweep_plans_demand_by_gantries() -> None:
    plan = plan_sweep("capacity")
    demands = sorted({p.values["demand.tonnes_per_day"] for p in plan.points})
    cranes = sorted({p.values["hub.cranes.count"] for p in plan.points})
    assert demands == [2400, 3000, 3600, 4200, 4800, 5400]
    assert cranes == [2, 3, 4, 5]
    assert len(plan.runs) == 24 * plan.spec.reps and plan.spec.reps >= 2
    assert (
        plan.points[0].config["simulation"]["days"]
        > plan.points[0].config["simulation"]["warmup_days"]
    )


# --------------------------------------------------------------------------- bad specs

BAD_SPECS = [
    ({"parameters": {"hub.cranes.count": [1, 0]}}, "parameters.hub.cranes.count", "(got 0)"),
    ({"parameters": {"hub.cranes.cout": [1]}}, "parameters.hub.cranes.cout", "did you mean"),
    ({"paramters": {"hub.cranes.count": [1]}}, "paramters", "did you mean 'parameters'"),
    ({"parameters": {"hub.cranes.count": {"from": 1, "to": 3, "stp": 1}}}, ".stp", "step"),
    ({"parameters": {"hub.cranes.count": {"from": 3, "to": 1, "step": 1}}}, ".step", "negative"),
    (
        {"parameters": {"hub.cranes.count": {"dist": "uniform", "low": 1, "high": 3}}},
        "parameters.hub.cranes.count",
        "needs design lhs",
    ),
    ({"design": "lhs", "parameters": {"hub.cranes.count": [1, 2]}}, "design.n", "required"),
    (
        {
            "design": {"kind": "lhs", "n": 2},
            "parameters": {"demand.tonnes_per_day": {"dist": "normal", "mean": 90, "sd": 0}},
        },
        "parameters.demand.tonnes_per_day.sd",
        "must be above 0",
    ),
    (
        {
            "design": {"kind": "lhs", "n": 2},
            "parameters": {"demand.tonnes_per_day": {"dist": "uniform", "low": 90, "high": 60}},
        },
        "parameters.demand.tonnes_per_day.high",
        "must be above low",
    ),
    (
        {"design": "zip", "parameters": {"hub.cranes.count": [1, 2], "hub.gate.lanes": [1]}},
        "parameters.hub.gate.lanes",
        "equally long",
    ),
    (
        {"parameters": {"hub.cranes.count": [1]}, "constraints": ["count > 1 and lanes < 2"]},
        "constraints.0",
        "unknown name 'lanes'",
    ),
    (
        {"parameters": {"hub.cranes.count": [1]}, "constraints": ["__import__('os')"]},
        "constraints.0",
        "Call is not allowed",
    ),
    (  # text repeated a hundred billion times would take the machine's memory
        {
            "parameters": {"hub.cranes.move_time": ["6 min"]},
            "constraints": ["move_time * 99999999999 == 'x'"],
        },
        "constraints.0",
        "arithmetic takes numbers, not '6 min'",
    ),
    (
        {"parameters": {"hub.cranes.count": [1]}, "outputs": ["hub_dwel_h_mean"]},
        "outputs.0",
        "did you mean 'hub_dwell_h_mean'",
    ),
    (
        {"parameters": {"hub.cranes.count": [1]}, "set": {"hub.gate.lanes": 0}},
        "set.hub.gate.lanes",
        "(got 0)",
    ),
    (
        {"parameters": {"corridor.edges.9.speed": [10]}},
        "parameters.corridor.edges.9.speed",
        "out of range",
    ),
    ({"parameters": {"simulation.seed": [1, 2]}}, "parameters.simulation.seed", "seed"),
    ({"parameters": {"hub.cranes.count": [1]}, "reps": 0}, "reps", ">= 1"),
    ({"base": "missing.yaml", "parameters": {"hub.cranes.count": [1]}}, "base", "not found"),
]


@pytest.mark.parametrize(("fields", "path", "text"), BAD_SPECS)
def test_bad_spec_is_one_error_naming_file_and_key_path(
    tmp_path: Path, fields: dict[str, Any], path: str, text: str
) -> None:
    spec: dict[str, Any] = {"base": "tiny.yaml", **fields}
    write_yaml(tmp_path / "tiny.yaml", tiny_raw())
    file = write_yaml(tmp_path / "bad.yaml", spec)
    with pytest.raises(ConfigError) as info:
        plan_sweep(file)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"{file}: ")
    assert path in line and text in line, line


@pytest.mark.slow
def test_cli_bad_point_fails_fast_without_a_folder(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, parameters={"hub.cranes.count": [1, 2, -3]})
    result = cli("sweep", str(spec), "--out", "out", "--workers", "1", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "parameters.hub.cranes.count: point 2" in lines[0] and "(got -3)" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_dry_run_lists_points_and_runs_nothing(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, constraints=["tonnes_per_day < 100 or move_time == '6 min'"])
    result = cli("sweep", str(spec), "--dry-run", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 points × 2 rep(s) = 6 runs" in result.stdout
    assert "1 point(s) excluded by constraints" in result.stdout
    assert "12 min" in result.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_workers_and_scheduler_are_exclusive(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path)
    result = cli("sweep", str(spec), "--workers", "2", "--scheduler", "tcp://x:1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "not both" in result.stderr


# --------------------------------------------------------------------------- running

BASE_SPEC = {
    "name": "base10",
    "base": "baseline",
    "set": {"simulation.days": 10, "simulation.warmup_days": 3},
    "parameters": {"demand.tonnes_per_day": [3000, 4200], "hub.cranes.count": [3, 4]},
    "reps": 2,
    "seed": 7,
}


@pytest.fixture(scope="module")
def baseline_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An 8-run sweep of the baseline (10 days) run serially: (spec, folder)."""
    root = tmp_path_factory.mktemp("sweep-serial")
    spec = write_yaml(root / "base10.yaml", BASE_SPEC)
    outcome = run_sweep(spec, root / "serial", workers=1, plots=False)
    assert outcome.failed == 0 and outcome.ran == 8
    return spec, root / "serial"


@pytest.mark.slow
def test_serial_and_two_workers_give_identical_tables(
    baseline_sweep: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, serial = baseline_sweep
    parallel = run_sweep(spec, tmp_path / "parallel", workers=2, plots=False)
    assert parallel.ran == 8 and parallel.failed == 0
    assert "2 local processes" in parallel.executor
    assert (serial / "runs.csv").read_bytes() == (tmp_path / "parallel/runs.csv").read_bytes()
    assert (serial / "points.csv").read_bytes() == (tmp_path / "parallel/points.csv").read_bytes()
    for name in ("manifest.json", "report.html"):  # the same folder, however it ran
        assert (serial / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes()
    runs = pd.read_csv(serial / "runs.csv")
    assert list(runs["run_key"]) == sorted(runs["run_key"])
    assert set(runs["status"]) == {"ok"}
    assert runs["dispatched_t_per_day"].notna().all()
    # the replications differ (different seeds), the points too
    assert runs.groupby("point")["hub_dwell_h_mean"].nunique().min() == 2


@pytest.mark.slow
def test_run_folders_are_complete_and_keyed_by_their_config_hash(
    baseline_sweep: tuple[Path, Path],
) -> None:
    _, serial = baseline_sweep
    runs = pd.read_csv(serial / "runs.csv")
    folders = sorted(p.name for p in (serial / RUNS_DIR).iterdir())
    assert folders == sorted(runs["run_key"])
    for row in runs.to_dict("records"):
        folder = serial / RUNS_DIR / str(row["run_key"])
        assert is_complete(folder)
        assert all((folder / name).is_file() for name in SUMMARY_FILES)  # records: summary
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["config_hash"] == row["run_key"]
        assert manifest["seed"] == row["seed"] == 7 + row["rep"]
        config = manifest["config"]
        assert config["hub"]["cranes"]["count"] == row["hub.cranes.count"]
        assert config["demand"]["tonnes_per_day"] == row["demand.tonnes_per_day"]
    assert is_complete(serial)  # every run ok: the sweep folder is marked complete


@pytest.mark.slow
def test_sweep_runs_write_summary_records_by_default_and_full_when_asked(
    tmp_path: Path,
) -> None:
    """By default a sweep's run folder holds the KPI and daily tables, no per-shipment or
    per-event table and no plots; --records full writes them, with the same KPIs; on
    local workers the runs arrive through the shared disk and leave no staging folder."""
    spec = tiny_spec(tmp_path, parameters={"demand.tonnes_per_day": [60, 100]}, reps=1)
    small = run_sweep(spec, tmp_path / "summary", workers=2, plots=False)
    full = run_sweep(spec, tmp_path / "full", workers=1, plots=False, records="full")
    assert small.failed == 0 and full.failed == 0
    for outcome, level in ((small, "summary"), (full, "full")):
        manifest = json.loads((outcome.out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["records"] == level
        runs = outcome.out / RUNS_DIR
        assert not [p.name for p in runs.iterdir() if p.name.startswith(".")]
        for folder in runs.iterdir():
            assert all((folder / name).is_file() for name in SUMMARY_FILES)
            assert not (folder / "plots").exists()
            present = [name for name in FULL_ONLY if (folder / name).is_file()]
            assert present == ([] if level == "summary" else list(FULL_ONLY))
    assert (small.out / "runs.csv").read_bytes() == (full.out / "runs.csv").read_bytes()
    # a worker's staging folder left by a killed run goes on the next sweep, even when its
    # process id still looks alive (a killed worker not yet reaped; here: this process)
    key = small.plan.runs[0].key
    staged = small.out / RUNS_DIR / f".{key}.silkroute-tmp-{os.getpid()}-0123abcd"
    (staged / key).mkdir(parents=True)
    (staged / key / "summary.csv").write_text("half written", encoding="utf-8")
    again = run_sweep(spec, small.out, workers=1, plots=False)
    assert (again.done_before, again.ran) == (2, 0) and not staged.exists()
    with pytest.raises(SilkrouteError, match="records"):
        run_sweep(spec, tmp_path / "bad", workers=1, records="everything")
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_points_are_mean_and_ci_of_their_runs(baseline_sweep: tuple[Path, Path]) -> None:
    _, serial = baseline_sweep
    runs = pd.read_csv(serial / "runs.csv")
    points = pd.read_csv(serial / "points.csv")
    assert list(points["n"]) == [2, 2, 2, 2]
    for kpi in ("dispatched_t_per_day", "hub_dwell_h_mean", "crane_utilisation"):
        for point in points.itertuples():
            values = runs.loc[runs["point"] == point.point, kpi].to_numpy()
            mean, low, high, _ = mean_ci(values)
            row = points.loc[points["point"] == point.point].iloc[0]
            assert row[f"{kpi}_mean"] == pytest.approx(mean, abs=1e-3)
            assert row[f"{kpi}_ci_low"] == pytest.approx(low, abs=1e-3)
            assert row[f"{kpi}_ci_high"] == pytest.approx(high, abs=1e-3)
            assert low < mean < high


@pytest.mark.slow
def test_rerun_skips_complete_runs_and_redoes_a_missing_one(
    baseline_sweep: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    spec, serial = baseline_sweep
    copy = tmp_path / "copy"
    shutil.copytree(serial, copy)
    again = run_sweep(spec, copy, workers=1, plots=False)
    assert again.ran == 0 and again.done_before == 8
    victim = sorted((copy / RUNS_DIR).iterdir())[4]
    shutil.rmtree(victim)
    again = run_sweep(spec, copy, workers=1, plots=False)
    assert again.ran == 1 and is_complete(victim)
    assert (copy / "runs.csv").read_bytes() == (serial / "runs.csv").read_bytes()


def _complete_runs(out: Path) -> int:
    """Complete run folders; a staging folder (hidden, renamed into place when done) may
    already hold its marker, but is not a complete run until it is renamed."""
    return sum(1 for _ in complete_folders(out / RUNS_DIR))


@pytest.mark.slow
def test_sigkill_midway_then_rerun_finishes_with_each_run_once(
    baseline_sweep: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, serial = baseline_sweep
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = [PY, "-m", "silkroute_sim", "sweep", str(spec), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [*args, "--quiet", "--no-plots"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while _complete_runs(out) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the sweep ended before it could be killed"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers
        proc.wait(timeout=30)
    done = _complete_runs(out)
    assert 1 <= done < 8, done
    assert not (out / "runs.csv").exists()  # tables are written only at the end

    rerun = run_sweep(spec, out, workers=2, plots=False)
    assert (rerun.done_before, rerun.ran, rerun.failed) == (done, 8 - done, 0)
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 8 and runs["run_key"].is_unique and set(runs["status"]) == {"ok"}
    entries = sorted(p.name for p in (out / RUNS_DIR).iterdir())
    assert entries == sorted(runs["run_key"])  # no staging leftovers, no extra folders
    for key in entries:
        folder = out / RUNS_DIR / key
        assert (folder / MARKER).is_file() and all((folder / f).is_file() for f in SUMMARY_FILES)
    assert (out / "runs.csv").read_bytes() == (serial / "runs.csv").read_bytes()


@pytest.mark.slow
def test_a_failing_run_is_a_failed_row_and_is_retried_on_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import silkroute_sim.model.simulate as model
    from silkroute_sim.cli.app import cli as silkroute

    real = model.simulate

    def flaky(cfg: Any, seed: int | None = None, progress: Any = None) -> Any:
        if cfg.demand.tonnes_per_day == 100 and cfg.simulation.seed == 6:
            raise RuntimeError("crane 2 fell over")
        return real(cfg, seed, progress)

    monkeypatch.setattr(model, "simulate", flaky)
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet", "--no-plots"]
    result = CliRunner().invoke(silkroute, args)
    assert result.exit_code == 1
    runs = pd.read_csv(out / "runs.csv", keep_default_na=False)
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2 and len(runs) == 8
    assert set(failed["error"]) == {"RuntimeError: crane 2 fell over"}
    assert (failed["seed"] == 6).all()
    assert (failed["dispatched_t_per_day"] == "").all()  # no KPIs for a failed run
    assert (runs.loc[runs["status"] == "ok", "dispatched_t_per_day"] != "").all()
    assert sorted(p.stem for p in (out / FAILED_DIR).iterdir()) == sorted(failed["run_key"])
    assert not is_complete(out)
    points = pd.read_csv(out / "points.csv")
    assert sorted(points["n_failed"]) == [0, 0, 1, 1]

    monkeypatch.setattr(model, "simulate", real)
    result = CliRunner().invoke(silkroute, args)
    assert result.exit_code == 0, result.output
    assert "6 were complete, 2 run now" in result.output
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["status"]) == {"ok"} and len(runs) == 8
    assert not list((out / FAILED_DIR).iterdir())
    assert is_complete(out)


@pytest.mark.slow
def test_plots_heatmaps_and_report(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, outputs=["dispatched_t_per_day", "hub_dwell_h_mean"])
    outcome = run_sweep(spec, tmp_path / "out", workers=1, plots=True)
    names = sorted(p.name for p in outcome.plots)
    assert names == [
        "dispatched_t_per_day--demand.tonnes_per_day.png",
        "dispatched_t_per_day--hub.cranes.move_time.png",
        "heatmap--dispatched_t_per_day.png",
        "heatmap--hub_dwell_h_mean.png",
        "hub_dwell_h_mean--demand.tonnes_per_day.png",
        "hub_dwell_h_mean--hub.cranes.move_time.png",
    ]
    for path in outcome.plots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = pd.read_csv(tmp_path / "out/runs.csv")
    assert list(runs.columns[-3:]) == ["dispatched_t_per_day", "hub_dwell_h_mean", "warnings"]
    if outcome.report is not None:
        page = outcome.report.read_text(encoding="utf-8")
        assert "Sweep: spec" in page and "hub.cranes.move_time" in page
        assert page.count("data:image/png;base64") == len(outcome.plots)


@pytest.mark.slow
def test_lhs_sweep_with_categorical_values_runs_and_plots(tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path,
        design={"kind": "lhs", "n": 4},
        parameters={
            "demand.tonnes_per_day": {"dist": "uniform", "low": 50, "high": 110, "round": 1},
            "services.term.policy": [{"kind": "full"}, {"kind": "hybrid", "max_wait": "12 h"}],
        },
        reps=1,
        outputs=["hub_dwell_h_mean"],
    )
    outcome = run_sweep(spec, tmp_path / "out", workers=1, plots=True)
    assert outcome.failed == 0
    runs = pd.read_csv(tmp_path / "out/runs.csv")
    assert set(runs["services.term.policy"]) == {
        '{"kind":"full"}',
        '{"kind":"hybrid","max_wait":"12 h"}',
    }
    assert len(outcome.plots) == 2  # no heatmap for a Latin hypercube


@pytest.mark.slow
def test_sweep_refuses_foreign_and_run_folders_and_a_second_writer(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(SilkrouteError, match="not written by silkroute"):
        run_sweep(spec, foreign, workers=1)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]

    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.run_folder import write_run

    write_run(simulate(load_config(tmp_path / "tiny.yaml")), tmp_path / "run", plots=False)
    with pytest.raises(SilkrouteError, match="is a run folder"):
        run_sweep(spec, tmp_path / "run", workers=1)

    if sys.platform != "win32":
        import fcntl

        out = tmp_path / "busy"
        run_sweep(spec, out, workers=1, plots=False)
        with open(out / ".sweep.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            with pytest.raises(SilkrouteError, match="another sweep is writing"):
                run_sweep(spec, out, workers=1)


@pytest.mark.slow
def test_dask_and_plotting_are_imported_only_when_asked_for() -> None:
    code = (
        "import sys, silkroute_sim.cli.app, silkroute_sim.experiments.sweep\n"
        "import silkroute_sim.experiments.executor\n"
        "heavy = [m for m in ('dask', 'distributed', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _square_or_die(x: int) -> int:
    """A worker function for the pool tests: item 5 kills its worker process."""
    if x == 5:
        time.sleep(0.3)  # let the first items come back first
        os._exit(3)
    if x == 6:
        raise ValueError("six")
    return x * x


@pytest.mark.slow
def test_local_pool_survives_a_dead_worker_and_reports_each_item_once() -> None:
    from silkroute_sim.experiments.executor import ExecutorError, LocalPoolExecutor

    with LocalPoolExecutor(2) as pool:
        results = dict(pool.imap_unordered(_square_or_die, list(range(12))))
    assert sorted(results) == list(range(12))
    assert isinstance(results[5], ExecutorError) and "died" in str(results[5])
    assert isinstance(results[6], ValueError | ExecutorError)
    ok = {x: r for x, r in results.items() if not isinstance(r, BaseException)}
    assert all(r == x * x for x, r in ok.items())
    assert set(range(8, 12)) <= set(ok)  # after the break a fresh pool ran the rest


@pytest.mark.slow
def test_local_pool_that_cannot_run_anything_is_an_error() -> None:
    from silkroute_sim.experiments.executor import ExecutorError, LocalPoolExecutor

    with LocalPoolExecutor(2) as pool, pytest.raises(ExecutorError, match="before finishing"):
        list(pool.imap_unordered(_square_or_die, [5, 5, 5]))


@pytest.mark.parametrize(
    ("overrides", "days", "first_words"),
    [
        (["demand.tonnes_per_day=70"], None, "--set demand.tonnes_per_day=70: demand.tonnes_"),
        (["hub.gate.lanes=abc"], None, "--set hub.gate.lanes=abc: hub.gate.lanes: invalid"),
        ([], 0.0, "--days 0: simulation.days: invalid value"),
    ],
)
def test_an_option_the_sweep_cannot_take_is_named_as_the_option(
    tmp_path: Path, overrides: list[str], days: float | None, first_words: str
) -> None:
    spec = tiny_spec(tmp_path, set={"simulation.days": 4, "simulation.warmup_days": 1})
    with pytest.raises(ConfigError) as info:
        plan_sweep(spec, overrides, days=days)
    assert str(info.value).startswith(first_words), str(info.value)
    if overrides[:1] == ["demand.tonnes_per_day=70"]:  # a swept key: the point sets it
        assert "is a parameter of the sweep" in str(info.value)


def test_a_scenario_given_as_a_sweep_spec_is_named_as_such(tmp_path: Path) -> None:
    scenario = write_yaml(tmp_path / "s.yaml", {"extends": "baseline", "hub": {}})
    with pytest.raises(ConfigError, match=r"s.yaml: is a scenario config, not a sweep spec"):
        plan_sweep(scenario)
