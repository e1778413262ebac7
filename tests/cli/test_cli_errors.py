"""What the CLI answers when things go wrong, and how it says what a run could not measure.

* Usage and config mistakes: exit 2 and one ``error:`` line, never a traceback, no folder.
* Errors of the machine (OSError, memory) and internal errors: exit 1 and one line.
* Runs that are unstable, too big, or have nothing to measure finish (or are refused)
  with a clear warning or error instead of silently odd numbers.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import silkroute_sim.cli.app as cli

from ..conftest import CONFIGS, silkroute, tiny_raw


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]


def _error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = _lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _tiny(path: Path, **sections: Any) -> Path:
    raw = tiny_raw()
    for key, value in sections.items():
        raw[key].update(value)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- usage and config


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rnu"], "error: No such command 'rnu'."),
        (["run", "--dayz", "3"], "error: No such option '--dayz'. Did you mean '--days'?"),
        (["run", "--days", "three"], "error: Invalid value for '--days': 'three' is not a valid"),
        (["run", "--set"], "error: Option '--set' requires an argument."),
        (["run", "--set", "hub.cranes"], "error: --set: hub.cranes: expected KEY.PATH=VALUE"),
        (["run", "--days", "nan"], "error: --days nan: must be a finite number (got nan)"),
        (["run", "--days", "1e400"], "error: --days inf: must be a finite number (got inf)"),
        (["run", "--days", "-3"], "error: --days -3: invalid value; allowed: a value > 0"),
        (["run", "--seed", "-1"], "error: --seed -1: invalid value; allowed: a value >= 0"),
        (
            ["run", "--set", "hub.cranes.cout=4"],
            "--set hub.cranes.cout=4: unknown key 'cout' under hub.cranes (did you mean 'count'?)",
        ),
        (["run", "--set", "hub.cranes.count=yes"], "--set hub.cranes.count=yes: expected a number"),
        (["run", "--set", "corridor.edges.x.km=5"], "corridor.edges.x: expected a list index"),
        (["run", "nowhere.yaml"], "error: nowhere.yaml: file not found"),
        (
            ["run", "khorgos-closed"],
            "error: khorgos-closed: file not found, and no packaged config has that name "
            "(did you mean 'khorgos-closed-7d'?); packaged configs: baseline, ",
        ),
        (
            ["validate", "--set", "demand.tonnes_per_dy=5000"],
            "error: --set demand.tonnes_per_dy=5000: unknown key 'tonnes_per_dy' under demand "
            "(did you mean 'tonnes_per_day'?); allowed keys: tonnes_per_day, ",
        ),
        (["validate", "--set", "simulation.days=36500"], "more than max_entities (5,000,000)"),
        (
            [
                "validate",
                "--set",
                "demand.classes.containers.payload_t={dist: uniform, low: 10, high: 2000}",
                "--set",
                "demand.classes.containers.max_payload_t=null",
            ],
            "payloads up to 2,000 t do not fit a train of services.duisburg (max_tonnes 1,300)",
        ),
    ],
)
def test_mistakes_are_one_line_with_exit_2_and_no_folder(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    proc = silkroute(*args, cwd=tmp_path)
    line = _error(proc)
    assert expected in line
    assert list(tmp_path.iterdir()) == []


def test_the_run_limit_can_be_raised_on_purpose(tmp_path: Path) -> None:
    proc = silkroute(
        "validate",
        "--set",
        "simulation.days=36500",
        "--set",
        "simulation.max_entities=20000000",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: baseline")


def test_packaged_scenarios_run_by_name_from_any_folder(tmp_path: Path) -> None:
    proc = silkroute("validate", "khorgos-closed-7d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: khorgos-closed-7d (config hash ")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- names and runaways

NAME_RULE_TEXT = "invalid value; allowed: letters (any script), digits, spaces and - _ . ( ) ' & +"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["validate", "--set", "name=.."],
            f"error: --set name=..: {NAME_RULE_TEXT}",
        ),
        (
            ["validate", "--set", "name=."],
            f"error: --set name=.: {NAME_RULE_TEXT}",
        ),
        (
            ["run", "--days", "5", "--warmup-days", "1", "--no-plots", "-q", "--set", "name=.."],
            f"error: --set name=..: {NAME_RULE_TEXT}",
        ),
        (
            [
                "run",
                "--set",
                "disruptions.random.breakdowns=[{hub: cranes, mtbf: 0.001 s, mttr: 0.001 s}]",
            ],
            "disruptions.random.breakdowns.0: the run would see about 47.3 billion random "
            "disruption events over 365 days, more than max_entities (5,000,000)",
        ),
    ],
)
def test_path_names_and_runaway_disruptions_are_refused_before_running(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    proc = silkroute(*args, cwd=tmp_path, timeout=120)
    line = _error(proc)
    assert expected in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_node_named_with_the_route_separator_is_refused(tmp_path: Path) -> None:
    raw = tiny_raw()
    nodes = raw["corridor"]["nodes"]
    nodes["Bor>der"] = nodes.pop("Border")
    raw["corridor"]["edges"][0]["to"] = "Bor>der"
    raw["corridor"]["edges"][1]["from"] = "Bor>der"
    cfg = tmp_path / "border.yaml"
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    for command in ("validate", "run"):
        line = _error(silkroute(command, str(cfg), cwd=tmp_path))
        assert line == (
            f"error: {cfg}: corridor.nodes.Bor>der: {NAME_RULE_TEXT} only; not starting with "
            "'.' or a space, not ending with a space (got 'Bor>der')"
        )
    assert [p.name for p in tmp_path.iterdir()] == ["border.yaml"]


# --------------------------------------------------------------------------- machine and bugs


def _invoke(
    args: list[str], monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> tuple[int, str]:
    """Run the CLI in-process with ``model.simulate`` raising ``exc``."""
    import silkroute_sim.model.simulate as model

    def boom(*_a: Any, **_k: Any) -> Any:
        raise exc

    monkeypatch.setattr(model, "simulate", boom)
    monkeypatch.delenv("SILKROUTE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.cli.main(args, "silkroute")
    return int(info.value.code or 0), ""


@pytest.mark.parametrize(
    ("exc", "code", "expected"),
    [
        (RuntimeError("boom\nsecond line"), 1, "error: internal error: RuntimeError: boom second"),
        (PermissionError(13, "Permission denied", "/data/x.csv"), 1, "error: /data/x.csv: Perm"),
        (MemoryError(), 1, "error: out of memory: a run keeps every shipment and train in"),
    ],
)
def test_machine_errors_and_bugs_are_one_line_with_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    expected: str,
) -> None:
    cfg = _tiny(tmp_path / "t.yaml")
    status, _ = _invoke(["run", str(cfg), "--out", str(tmp_path / "res"), "-q"], monkeypatch, exc)
    assert status == code
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert not (tmp_path / "res").exists()


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import silkroute_sim.model.simulate as model

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(model, "simulate", boom)
    monkeypatch.setenv("SILKROUTE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli.cli.main(["run", str(_tiny(tmp_path / "t.yaml")), "-q"], "silkroute")


# --------------------------------------------------------------------------- honest results


def _summary(folder: Path) -> dict[str, str]:
    with open(folder / "summary.csv", encoding="utf-8") as fh:
        return {row["metric"]: row["value"] for row in csv.DictReader(fh)}


@pytest.mark.slow
def test_an_unstable_hub_finishes_with_a_saturation_warning(tmp_path: Path) -> None:
    """10× what one crane can move: the run ends, keeps every box, and says so."""
    cfg = _tiny(tmp_path / "t.yaml", demand={"tonnes_per_day": 5000})
    proc = silkroute("run", str(cfg), "--days", "10", "--out", "res", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in _lines(proc.stderr) if line.startswith("warning: ")]
    assert any(w.startswith("warning: the hub is saturated: backlog grew from ") for w in warnings)
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text(encoding="utf-8"))
    assert any("the hub is saturated" in w for w in manifest["warnings"])
    summary = _summary(tmp_path / "res")
    assert float(summary["conservation_error_t"]) == 0
    assert float(summary["backlog_t_end"]) > 10 * 2500  # nothing was dropped


@pytest.mark.slow
def test_a_run_with_nothing_delivered_reports_empty_kpis_and_says_why(tmp_path: Path) -> None:
    """At 1 km/h no train reaches its terminal in 2 days: delivery KPIs are empty cells
    (not 0, not 'nan'), and a warning names them."""
    cfg = tiny_raw()
    cfg["corridor"]["edges"][0]["speed"] = 1
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    proc = silkroute("run", str(path), "--out", "res", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(tmp_path / "res")
    assert float(summary["trains_dispatched_per_day"]) > 0
    for metric in ("door_to_door_d_mean", "door_to_door_d_median", "door_to_door_d_p90"):
        assert summary[metric] == ""
    assert "nan" not in (tmp_path / "res" / "summary.csv").read_text().lower()
    warnings = [line for line in _lines(proc.stderr) if line.startswith("warning: ")]
    assert any(
        "KPIs are empty (nothing was delivered between day 0 and day 2)" in w for w in warnings
    )
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text(encoding="utf-8"))
    assert any("KPIs are empty" in w for w in manifest["warnings"])


@pytest.mark.slow
def test_one_replication_says_it_has_no_confidence_interval(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path / "t.yaml")
    proc = silkroute(
        "run", str(cfg), "--reps", "1", "--out", "res", "-q", "--no-plots", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert any("1 replication: no confidence intervals" in line for line in _lines(proc.stderr)), (
        proc.stderr
    )
    with open(tmp_path / "res" / "summary.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["ci_low"] == "" and r["ci_high"] == "" for r in rows)


@pytest.mark.slow
def test_a_twenty_year_run_finishes_and_logs_no_progress_frames(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path / "t.yaml", demand={"tonnes_per_day": 20})
    proc = silkroute("run", str(cfg), "--days", "7300", "--out", "res", "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # stderr is a pipe here, as in a log: no bar, no carriage-return frames
    assert "\r" not in proc.stderr and "days [" not in proc.stderr, proc.stderr[:300]
    assert "conservation error" in proc.stdout
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulated_days"] == 7300
    assert float(_summary(tmp_path / "res")["conservation_error_t"]) == 0


@pytest.mark.slow
def test_packaged_configs_pass_the_stricter_loader() -> None:
    """No duplicate keys, no true/false for numbers, within every limit."""
    from silkroute_sim.config.loader import load_config

    paths = [CONFIGS / "baseline.yaml", *sorted((CONFIGS / "scenarios").glob("*.yaml"))]
    assert len(paths) > 1
    for path in paths:
        assert load_config(path).name
