"""Layer 6: the CLI in a subprocess — exit codes, error text, result folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from silkroute_sim.analysis.kpis import HEADLINE, lookup

from ..conftest import CONFIGS, silkroute, tiny_raw

RUN_FILES = {
    "summary.csv",
    "daily.csv",
    "trains.csv",
    "shipments.csv",
    "node_events.csv",
    "manifest.json",
    ".silkroute-complete",
}


def _yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_help_explains_commands() -> None:
    proc = silkroute("--help")
    assert proc.returncode == 0
    assert "run" in proc.stdout and "validate" in proc.stdout
    proc = silkroute("run", "--help")
    assert proc.returncode == 0
    for option in ("--days", "--warmup-days", "--seed", "--out", "--set", "--no-plots"):
        assert option in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "runs_many"),
    [
        ("run", True),
        ("validate", False),
        ("compare", True),
        ("report", False),
        ("sweep", True),
        ("verify", True),
    ],
)
def test_every_command_has_help_and_workers_where_it_runs_many(
    command: str, runs_many: bool
) -> None:
    proc = silkroute(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Usage: silkroute {command} ")
    assert ("-j, --workers" in proc.stdout) is runs_many
    assert "--jobs" not in proc.stdout


@pytest.mark.slow
def test_every_kpi_of_a_run_is_in_the_catalogue(tmp_path: Path) -> None:
    """The catalogue describes every metric a run writes (the disruption scenario has
    per-event, per-node and per-destination ones too), in the unit summary.csv gives, and
    the run's table shows the headline KPIs by their catalogue labels."""
    scenario = CONFIGS / "scenarios" / "khorgos-closed-7d.yaml"
    out = tmp_path / "out"
    proc = silkroute(
        "run",
        str(scenario),
        "--days",
        "40",
        "--warmup-days",
        "5",
        "--set",
        "disruptions.scheduled.0.start=10 d",  # inside the run: its reroutes and holds too
        "--no-plots",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(",") for line in (out / "summary.csv").read_text().splitlines()[1:]]
    assert len(rows) > 50
    assert any(row[0].startswith("rerouted_trains:khorgos-closed") for row in rows)
    for metric, _value, unit, *_split in rows:
        entry = lookup(metric)
        assert entry is not None, metric
        assert entry.unit == unit, metric
    shown = proc.stdout.splitlines()[1 : 1 + len(HEADLINE)]
    labels = [line.strip().split("  ")[0] for line in shown]
    assert labels == [lookup(name).label for name in HEADLINE]  # type: ignore[union-attr]


@pytest.mark.slow
def test_run_writes_complete_folder(tmp_path: Path) -> None:
    cfg = _yaml(tmp_path / "tiny.yaml", tiny_raw())
    out = tmp_path / "out"
    proc = silkroute(
        "run", str(cfg), "--days", "3", "--out", str(out), "--set", "outputs.plots=true"
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} >= RUN_FILES
    assert {p.name for p in (out / "plots").iterdir()} >= {
        "throughput.png",
        "yard_level.png",
        "hub_dwell.png",
        "door_to_door.png",
        "corridor_map.png",
        "border_queues.png",
        "string_line.png",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    for key in (
        "config",
        "config_hash",
        "seed",
        "version",
        "python",
        "packages",
        "build",
        "events",
        "warnings",
    ):
        assert key in manifest
    assert "wall_s" not in manifest  # how long it took is not part of the result
    assert manifest["config"]["simulation"]["days"] == 3
    header = (out / "shipments.csv").read_text().splitlines()[0].split(",")
    assert header[:10] == [
        "shipment_id",
        "cargo_class",
        "destination",
        "service",
        "tonnes",
        "teu",
        "arrived_h",
        "yard_in_h",
        "ready_h",
        "loaded_h",
    ]
    assert "conservation error" in proc.stdout
    # another run (2 days, not 3) is refused in this --out, and replaces it with --force
    proc = silkroute("run", str(cfg), "--days", "2", "--out", str(out), "--no-plots")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {out}: holds another run (tiny, 3 days (0 warm-up), seed 1); pass --force "
        "to replace it or choose another --out"
    ]
    assert json.loads((out / "manifest.json").read_text())["config"]["simulation"]["days"] == 3
    proc = silkroute("run", str(cfg), "--days", "2", "--out", str(out), "--no-plots", "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "manifest.json").read_text())["config"]["simulation"]["days"] == 2


@pytest.mark.slow
def test_default_out_is_results_name(tmp_path: Path) -> None:
    cfg = _yaml(tmp_path / "tiny.yaml", tiny_raw())
    proc = silkroute("run", str(cfg), "--days", "1", "--no-plots", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results" / "tiny" / ".silkroute-complete").exists()


def test_validate_ok_and_error() -> None:
    proc = silkroute("validate", "configs/baseline.yaml")
    assert proc.returncode == 0
    assert proc.stdout.startswith("ok")


BAD_CONFIGS = {
    "unknown-key": (
        lambda r: r["hub"]["cranes"].update(cout=3),
        "hub.cranes.cout: unknown key 'cout' (did you mean 'count'?)",
    ),
    "wrong-type": (
        lambda r: r["hub"]["loading"].update(tracks="four"),
        "hub.loading.tracks: invalid value; allowed: an integer",
    ),
    "negative-capacity": (
        lambda r: r["hub"]["yard"].update(capacity_teu=-100),
        "hub.yard.capacity_teu: invalid value; allowed: a value > 0",
    ),
    "unknown-destination": (
        lambda r: r["demand"]["classes"]["containers"].update(destinations={"Atlantis": 1}),
        "destinations.Atlantis: unknown node",
    ),
    "train-smaller-than-box": (
        lambda r: r["services"]["term"].update(capacity_teu=1),
        "services.term.capacity_teu: a train smaller than one",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_exit_2_one_line_no_folder(case: str, tmp_path: Path) -> None:
    mutate, expected = BAD_CONFIGS[case]
    raw = tiny_raw()
    mutate(raw)
    cfg = _yaml(tmp_path / "bad.yaml", raw)
    out = tmp_path / "out"
    proc = silkroute("run", str(cfg), "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {cfg}: ")
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_extends_cycle_exit_2(tmp_path: Path) -> None:
    _yaml(tmp_path / "a.yaml", {"extends": "b.yaml"})
    _yaml(tmp_path / "b.yaml", {"extends": "a.yaml"})
    proc = silkroute("run", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "cycle in extends" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_bad_usage_exit_2(tmp_path: Path) -> None:
    proc = silkroute("run", "--days", "many")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = silkroute("run", "--set", "nonsense")
    assert proc.returncode == 2
    assert "expected KEY.PATH=VALUE" in proc.stderr


def test_foreign_out_folder_is_never_touched(tmp_path: Path) -> None:
    cfg = _yaml(tmp_path / "tiny.yaml", tiny_raw())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    proc = silkroute("run", str(cfg), "--days", "1", "--out", str(out))
    assert proc.returncode == 2
    assert "was not written by silkroute" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def test_version_works_without_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--version`` and the manifest's version come from the package itself, so running
    from a source tree (PYTHONPATH=src, no pip install) works too."""
    from importlib import metadata

    from click.testing import CliRunner

    import silkroute_sim
    import silkroute_sim.outputs.storage as io
    from silkroute_sim.cli.app import cli

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    assert silkroute_sim.__version__ in result.output
    assert io.package_version() == silkroute_sim.__version__
