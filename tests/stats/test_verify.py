"""``silkroute verify``: the quick suite passes in CI, its checks can fail, and Little's
law holds on the baseline's sample paths."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import silkroute_sim.experiments.verify as v
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.engine.monitors import LevelMonitor

# ----------------------------------------------------------------- the quick suite, end to end


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("verify") / "quick"
    proc = subprocess.run(
        [sys.executable, "-m", "silkroute_sim", "verify", "--quick", "-j", "2", "-q", "--out", out],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, out


@pytest.fixture(scope="module")
def quick_rows(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> list[dict[str, str]]:
    proc, out = quick_run
    assert (out / "verify.csv").is_file(), proc.stderr
    with open(out / "verify.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _f(row: dict[str, str], key: str) -> float:
    return float(row[key]) if row[key] != "" else math.nan


@pytest.mark.slow
def test_quick_suite_exits_zero_and_writes_a_complete_folder(
    quick_run: tuple[subprocess.CompletedProcess[str], Path], quick_rows: list[dict[str, str]]
) -> None:
    proc, out = quick_run
    failed = [r["name"] for r in quick_rows if r["status"] == "fail"]
    assert proc.returncode == 0, (failed, proc.stderr[-2000:])
    assert not failed
    assert (out / ".silkroute-complete").is_file()
    assert (out / "verify.md").read_text(encoding="utf-8").startswith("# silkroute verify")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "verify" and manifest["plan"] == "quick" and manifest["ok"]
    assert manifest["counts"]["fail"] == 0
    # what the checks found, not when, how long or on how many workers (the same folder)
    assert not {"started", "wall_s", "workers"} & set(manifest)
    assert " wall" not in (out / "verify.md").read_text(encoding="utf-8")
    assert {r["group"] for r in quick_rows} == set(v.GROUPS)


@pytest.mark.slow
def test_mmc_checked_at_the_required_loads(quick_rows: list[dict[str, str]]) -> None:
    names = {r["name"] for r in quick_rows if r["group"] == "analytic"}
    for rho in ("0.5", "0.8", "0.95"):
        assert f"mm3_rho{rho}:lq" in names and f"mm3_rho{rho}:w_records" in names
    assert any(n.startswith("md1_") for n in names)
    assert any(n.startswith("border_") for n in names)


@pytest.mark.slow
def test_every_analytic_estimate_is_within_its_ci_tolerance(
    quick_rows: list[dict[str, str]],
) -> None:
    analytic = [r for r in quick_rows if r["group"] == "analytic"]
    plan = v.make_plan(quick=True)
    precision = {c.name: c.precision for c in plan.cases}
    assert len(analytic) == v.analytic_family(plan)
    for row in analytic:
        est, target, tol = _f(row, "estimate"), _f(row, "target"), _f(row, "tolerance")
        low, high = _f(row, "ci_low"), _f(row, "ci_high")
        assert int(row["n"]) == plan.reps
        # the pass band comes from the replications' interval, not from a fixed number
        half = (high - low) / 2
        assert 0 < half < tol < 3 * half, row
        assert abs(est - target) <= tol, row
        assert half / abs(target) <= precision[row["name"].split(":")[0]], row


@pytest.mark.slow
def test_little_and_exact_checks_agree_to_rounding(quick_rows: list[dict[str, str]]) -> None:
    rows = [r for r in quick_rows if r["group"] in ("little", "exact")]
    names = {r["name"] for r in rows}
    assert "baseline:yard" in names
    for node in ("Dostyk", "Altynkol", "Brest", "Małaszewicze"):
        assert f"baseline:queue:{node}" in names
    assert "deterministic:transit" in names
    for row in rows:
        assert row["status"] == "pass", row
        if row["name"] == "baseline:yard":
            assert _f(row, "low") <= _f(row, "estimate") <= _f(row, "high")
        else:
            assert abs(_f(row, "estimate") - _f(row, "target")) <= _f(row, "tolerance") + 1e-12


@pytest.mark.slow
def test_published_table_covers_the_facts_and_explains_every_miss(
    quick_rows: list[dict[str, str]],
) -> None:
    rows = {r["name"]: r for r in quick_rows if r["group"] == "published"}
    assert set(rows) == {t.name for t in v.load_targets()}
    for name in ("hub_handled", "urumqi_trains", "transit_duisburg", "gc_dostyk", "gc_altynkol"):
        assert name in rows
    for row in rows.values():
        assert "corridor-facts.md §" in row["source"], row
        est, low, high = _f(row, "estimate"), _f(row, "low"), _f(row, "high")
        if row["status"] == "pass":
            assert low <= est <= high, row
        else:
            assert row["status"] == "explained", row
            assert row["note"], row
            assert not (low <= est <= high), row
    # the hub's published throughput is a must-meet target
    assert rows["hub_handled"]["status"] == "pass"


@pytest.mark.slow
def test_published_costs_on_the_one_year_baseline(quick_rows: list[dict[str, str]]) -> None:
    """Issue 22 on the suite's one-year runs: rail's freight and CO2e per FEU to Duisburg
    and the sea and air rows of the modal comparison inside their published ranges."""
    rows = {r["name"]: r for r in quick_rows if r["group"] == "published"}
    plan = v.make_plan(quick=True)
    for name in (
        "rail_cost_duisburg",
        "rail_co2_feu_duisburg",
        "rail_co2_tkm_duisburg",
        "sea_cost_duisburg",
        "sea_co2_feu_duisburg",
        "air_cost_duisburg",
        "air_co2_feu_duisburg",
    ):
        row = rows[name]
        assert row["status"] == "pass", row
        assert int(row["n"]) == plan.baseline_reps, row
    assert rows["breakeven_sea_duisburg"]["status"] in ("pass", "explained")


@pytest.mark.slow
def test_report_shows_the_table(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = quick_run
    text = (out / "verify.md").read_text(encoding="utf-8")
    for heading in ("Analytic verification", "Little's law", "Exact checks", "Published figures"):
        assert heading in text
    assert "Bonferroni" in text
    if importlib.util.find_spec("silkroute_sim.outputs.report") is not None:
        import xml.dom.minidom

        page = out / "report.html"
        xml.dom.minidom.parse(str(page))  # well-formed, self-contained
        assert "silkroute verify" in page.read_text(encoding="utf-8")


# ----------------------------------------------------------------- the checks can fail


@pytest.mark.slow
def test_a_slower_crane_is_caught() -> None:
    """Power: cranes 10 % slower than the config declares fail every analytic row."""
    plan = v.make_plan(True)
    case = plan.cases[0]  # M/M/3 at rho 0.5
    assert case.name == "mm3_rho0.5"
    raw = v.queue_raw(case)
    raw["hub"]["cranes"]["move_time"]["mean"] = case.mean_service_h * 1.1
    reps = [v.queue_replication(case, seed, raw) for seed in range(1, 6)]
    checks = v.queue_checks(case, reps, v.analytic_family(plan))
    assert [c.status for c in checks] == [v.FAIL] * 3
    # rejected for bias (the estimate is above the band), not merely for imprecision
    assert all(c.estimate > c.high for c in checks)


def test_an_imprecise_estimate_fails_even_when_centred() -> None:
    values = np.array([0.5, 1.5, 0.6, 1.4, 1.0])
    check = v.analytic_check("wide", "wide", values, 1.0, "h", 10, 0.1, "", "")
    assert abs(check.estimate - check.target) < 1e-12
    assert check.status == v.FAIL and "too wide" in check.note
    tight = v.analytic_check("tight", "tight", values * 0.01 + 0.99, 1.0, "h", 10, 0.1, "", "")
    assert tight.status == v.PASS and tight.in_ci95


def test_a_wrong_constant_breaks_the_deterministic_corridor() -> None:
    raw = v.deterministic_raw()
    raw["corridor"]["nodes"]["Border"]["processing"]["customs"] = 1.25  # declared: 1 h
    values = v.deterministic_replication(1, raw)
    checks = {c.name: c for c in v.deterministic_checks([values])}
    assert checks["deterministic:customs"].status == v.FAIL
    assert checks["deterministic:transit"].status == v.FAIL
    assert checks["deterministic:gate_to_yard"].status == v.PASS
    exact = {c.name: c for c in v.deterministic_checks([v.deterministic_replication(1)])}
    assert all(c.status == v.PASS for c in exact.values())


def _target(**kw: Any) -> v.Target:
    base: dict[str, Any] = dict(
        name="t", title="t", metric="m", unit="u", value=10, low=8, high=12, source="s", band="b"
    )
    base.update(kw)
    return v.Target(**base)


@pytest.mark.parametrize(
    ("values", "kw", "status"),
    [
        ([10.0, 10.5], {}, v.PASS),
        ([5.0, 5.5], {}, v.FAIL),
        ([5.0, 5.5], {"explain_below": "a reason"}, v.EXPLAINED),
        ([15.0, 15.5], {"explain_below": "a reason"}, v.FAIL),  # only in the declared direction
        ([15.0, 15.5], {"explain_above": "a reason"}, v.EXPLAINED),
        ([math.nan, math.nan], {}, v.FAIL),
        ([math.nan, math.nan], {"explain_missing": "not modelled"}, v.EXPLAINED),
    ],
)
def test_published_status(values: list[float], kw: dict[str, Any], status: str) -> None:
    check = v.published_check(_target(**kw), [{"m": x} for x in values], None)
    assert check.status == status
    assert check.passed == (status != v.FAIL)


def test_published_targets_file() -> None:
    """The data file shipped in the package: every figure cited, inside its own band,
    measured by a named metric, and any declared reason filled in from the shared texts."""
    targets = v.load_targets()
    assert len(targets) >= 20
    assert len({t.name for t in targets}) == len(targets)
    for t in targets:
        assert t.source.startswith("corridor-facts.md §"), t
        assert t.low <= t.value <= t.high, t
        assert t.metric and t.unit and t.band, t
        for text in (t.title, t.source, t.band, t.explain_below, t.explain_above):
            assert "{" not in text and "}" not in text, t
    by_name = {t.name: t for t in targets}
    hub = by_name["hub_handled"]
    assert (hub.value, hub.low, hub.high) == (3600, pytest.approx(3420), pytest.approx(3780))
    assert by_name["count_dostyk"].explain_below.startswith("the baseline models traffic in both")


def test_published_targets_reject_a_bad_entry() -> None:
    data: dict[str, Any] = {
        "facts": "f.md",
        "texts": {"why": "a reason"},
        "targets": [
            dict(
                name="t",
                title="t",
                metric="m",
                unit="u",
                value=10,
                within=0.1,
                source="{facts}",
                band="b",
                explain_below="{why}; more",
            ),
        ],
    }
    (target,) = v.targets_from_data(data)
    assert (target.low, target.high) == (pytest.approx(9.0), pytest.approx(11.0))
    assert target.source == "f.md"
    assert target.explain_below == "a reason; more"
    data["targets"][0]["wihtin"] = 0.2
    with pytest.raises(ValueError, match="unknown fields wihtin"):
        v.targets_from_data(data)


# ----------------------------------------------------------------- Little's law helpers


def _monitor(points: list[tuple[float, float]]) -> LevelMonitor:
    mon = LevelMonitor("q", "n")
    for t, level in points:
        mon.set(t, level)
    return mon


def test_little_on_a_hand_made_sample_path() -> None:
    # A arrives at 1, waits until 3; B arrives at 2, waits until 5; C arrives at 7, until 8
    mon = _monitor([(1, 1), (2, 2), (3, 1), (5, 0), (7, 1), (8, 0)])
    times, levels = mon.arrays()
    assert v.empty_window(times, levels, 0.5, 10.0) == (0.5, 10.0)
    assert v.empty_window(times, levels, 1.5, 6.0) == (5.0, 6.0)
    assert v.empty_window(times, levels, 1.5, 4.0) is None
    sample = v.queue_little(
        times, levels, np.array([1.0, 2.0, 7.0]), np.array([3.0, 5.0, 8.0]), 0.0, 10.0
    )
    assert sample is not None
    # L = (2 + 3 + 1) / 10 = 0.6 = lam W = (3 / 10) * 2
    assert sample.level == pytest.approx(0.6)
    assert sample.lam_w == pytest.approx(0.6)
    assert sample.rel_error < 1e-12
    assert v.overlap_sum(np.array([1.0, 2.0]), np.array([3.0, math.nan]), 2.5, 4.0) == 2.0


@pytest.mark.slow
def test_little_on_the_baseline() -> None:
    """L from the time-weighted monitors equals lam W from the records, on the baseline:
    exactly on each border queue (empty-to-empty windows), within the exact bracket on
    the yard (space is reserved at the gate before the unloading lift)."""
    from silkroute_sim.analysis.tables import node_events_frame
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate

    cfg = load_config(None, days=60, warmup_days=10)
    result = simulate(cfg, seed=3)
    yard = v.yard_little(result)
    assert yard.inside
    assert yard.lower < yard.upper < 1.1 * yard.lower  # the bracket is informative
    events = node_events_frame(result)
    queued = 0
    for node, spec in cfg.corridor.nodes.items():
        if spec.kind != "border" or spec.processing is None:
            continue
        sample = v.border_little(result, events, node)
        assert sample is not None, node
        assert sample.rel_error <= v.EXACT_REL_TOL, node
        queued += sample.level > 0.05
    assert queued >= 2  # some borders do queue, so the law is not checked on zeros only


# ----------------------------------------------------------------- the command line


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "silkroute_sim", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--reps", "1"], "--reps"),
        (["--jobs", "0"], "--jobs"),
        (["--only", "everything"], "--only"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "v"
    proc = _cli("--quick", "--out", str(out), *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_refuses_a_foreign_folder_before_running(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    proc = _cli("--quick", "--out", str(out))
    assert proc.returncode == 2 and "not written by silkroute" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_plan_parts() -> None:
    plan = v.make_plan(True)
    kinds = {t.kind for t in v.plan_tasks(plan, 1, "verification")}
    assert kinds == {"queue", "deterministic"}
    assert {t.kind for t in v.plan_tasks(plan, 1, "published")} == {"baseline"}
    # the group's former name, still passed by `--only validation`
    assert v.plan_tasks(plan, 1, "validation") == v.plan_tasks(plan, 1, "published")
    with pytest.raises(SilkrouteError, match="part must be one of"):
        v.plan_tasks(plan, 1, "everything")
    full = v.make_plan(False)
    assert full.reps > plan.reps and len(full.cases) > len(plan.cases)
    assert all(f.precision <= q.precision for f, q in zip(full.cases, plan.cases, strict=False))
