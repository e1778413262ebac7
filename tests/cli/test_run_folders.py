"""Run folders: a run never replaces a different run's result without --force.

Rerunning the same command replaces its own result; another horizon, seed or --set goes
to a folder of its own when no --out is given, and the run says where; an --out that
holds another run is refused with one line saying what to do.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from silkroute_sim.cli.app import cli
from silkroute_sim.outputs.loaders import load_run

from ..conftest import tiny_raw

QUIET = ("--no-plots", "-q")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # results/ is relative to the current folder


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``silkroute run ARGS`` in this process (as fast as a test can be; the subprocess
    path is tested in ``test_cli.py``)."""
    result = CliRunner().invoke(cli, ["run", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_raw()), encoding="utf-8")
    return path


@pytest.mark.slow
def test_another_horizon_goes_to_its_own_folder_and_both_load(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path)
    first = run(str(cfg), "--days", "3", *QUIET)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "results" / "tiny" / "shipments.csv").read_bytes()

    second = run(str(cfg), "--days", "2", "--seed", "7", *QUIET)
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip() == (
        "note: results/tiny holds another run (tiny, 3 days (0 warm-up), seed 1); this run "
        "goes to results/tiny-2d-seed7"
    )
    assert (tmp_path / "results" / "tiny" / "shipments.csv").read_bytes() == before
    a = load_run(tmp_path / "results" / "tiny")
    b = load_run(tmp_path / "results" / "tiny-2d-seed7")
    assert (a.manifest["simulated_days"], a.seed) == (3, 1)
    assert (b.manifest["simulated_days"], b.seed) == (2, 7)
    assert a.daily["day"].tolist() == [0, 1, 2] and b.daily["day"].tolist() == [0, 1]
    assert a.shipments is not None and b.shipments is not None
    assert a.shipments["arrived_h"].max() > 48 > b.shipments["arrived_h"].max()

    # the same command again replaces its own result, in its own folder
    again = run(str(cfg), "--days", "2", "--seed", "7", *QUIET)
    assert again.returncode == 0, again.stderr
    assert "this run goes to results/tiny-2d-seed7" in again.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["tiny", "tiny-2d-seed7"]
    marker = json.loads(
        (tmp_path / "results" / "tiny-2d-seed7" / ".silkroute-complete").read_text()
    )
    assert marker["seed"] == 7
    first_again = run(str(cfg), "--days", "3", *QUIET)
    assert first_again.returncode == 0 and first_again.stderr == ""  # its own folder
    assert (tmp_path / "results" / "tiny" / "shipments.csv").read_bytes() == before

    # a --set override with the same days and seed is another run: a name with its hash
    varied = run(str(cfg), "--days", "3", "--set", "demand.tonnes_per_day=50", *QUIET)
    assert varied.returncode == 0, varied.stderr
    made = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(made) == 3 and made[2].startswith("tiny-3d-seed1-"), made
    assert load_run(tmp_path / "results" / made[2]).seed == 1


def test_an_out_holding_another_run_is_refused_in_one_line(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path)
    out = tmp_path / "out"
    assert run(str(cfg), "--days", "2", "--out", str(out), *QUIET).returncode == 0
    before = (out / "summary.csv").read_bytes()
    proc = run(str(cfg), "--days", "2", "--seed", "5", "--out", str(out), *QUIET)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: {out}: holds another run (tiny, 2 days (0 warm-up), seed 1); pass --force "
        "to replace it or choose another --out"
    ]
    assert (out / "summary.csv").read_bytes() == before
    # replications are runs too: another set of seeds is another run
    proc = run(str(cfg), "--days", "2", "--reps", "2", "--out", str(out), *QUIET)
    assert proc.returncode == 2 and "holds another run" in proc.stderr


def test_records_and_format_from_the_command_line(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path)
    out = tmp_path / "pq"
    proc = run(str(cfg), "--days", "2", "--format", "parquet", "--out", str(out), *QUIET)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"shipments.parquet", "trains.parquet", "node_events.parquet"} <= names
    assert {"summary.csv", "daily.csv", "daily_long.parquet"} <= names
    assert not any(n.startswith("shipments.csv") for n in names)
    # the same run with summary records replaces its own folder: no big tables left
    proc = run(str(cfg), "--days", "2", "--records", "summary", "--out", str(out), *QUIET)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {
        "summary.csv",
        "daily.csv",
        "manifest.json",
        ".silkroute-complete",
    }
    header = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "metric,value,unit,kpi,by,key"
    assert json.loads((out / "manifest.json").read_text())["records"] == "summary"


@pytest.mark.slow
def test_finished_summary_runs_compare_and_load_back(tmp_path: Path) -> None:
    """Runs written without their per-shipment tables (records=summary, Parquet) can
    still be compared; the comparison reads back with load_comparison."""
    cfg = _tiny(tmp_path)
    for seed in ("1", "2"):
        proc = run(str(cfg), "--days", "2", "--seed", seed, "--records", "summary", *QUIET)
        assert proc.returncode == 0, proc.stderr
    result = CliRunner().invoke(
        cli, ["compare", "results/tiny", "results/tiny-2d-seed2", "--out", "cmp", "-q"]
    )
    assert result.exit_code == 0, result.output
    from silkroute_sim import load_comparison

    loaded = load_comparison(tmp_path / "cmp")
    assert loaded.scenarios == ["tiny", "tiny-2"]
    assert set(loaded.replications["seed"]) == {1, 2}
    assert "demand_t_per_day" in set(loaded.comparison["metric"])


def test_replications_take_records_and_format(tmp_path: Path) -> None:
    """--reps with --records summary --format parquet: each rep-<seed> folder is a
    summary-level run (summary and daily, no per-shipment table) that load_run reads."""
    cfg = _tiny(tmp_path)
    out = tmp_path / "reps"
    args = ("--days", "3", "--reps", "2", "--records", "summary", "--format", "parquet")
    proc = run(str(cfg), *args, "--out", str(out), *QUIET)
    assert proc.returncode == 0, proc.stderr
    reps = sorted(out.glob("rep-*"))
    assert len(reps) == 2 and (out / "summary.csv").is_file()
    for folder in reps:
        loaded = load_run(folder)
        assert loaded.records == "summary" and loaded.format == "parquet"
        assert loaded.shipments is None and not (folder / "shipments.parquet").exists()
        assert loaded.kpis()["demand_t_per_day"] > 0
