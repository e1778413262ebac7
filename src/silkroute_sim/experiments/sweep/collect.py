"""The sweep's tables, rebuilt from its run folders: ``runs.csv`` and ``points.csv``.

``runs`` has one row per planned run (parameters, seed, status, error, KPIs, warnings),
sorted by run key; ``points`` one row per parameter point with the mean and the Student-t
confidence interval of each KPI over the point's complete runs. Rows come from the plan,
so a run is present exactly once whatever the folder holds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.analysis.stats import metric_ci
from silkroute_sim.experiments.sweep.plan import Point, RunTask, SweepPlan
from silkroute_sim.experiments.sweep.spec import cell_text
from silkroute_sim.outputs.storage import is_complete, read_marker

if TYPE_CHECKING:
    import pandas as pd

CI_LEVEL = 0.95
RUNS_DIR = "runs"
FAILED_DIR = "failed"
#: the run warning (outputs.saturation_warning) counted in points.csv's saturated_share
SATURATION_TEXT = "the hub is saturated"


@dataclass
class SweepResults:
    """The tables of a sweep, rebuilt from its run folders."""

    runs: pd.DataFrame
    points: pd.DataFrame
    kpis: list[str]
    units: dict[str, str]


def _param_column(values: list[Any]) -> list[Any]:
    return [cell_text(v) if isinstance(v, dict | list) else v for v in values]


def collect_results(plan: SweepPlan, out: Path) -> SweepResults:
    """Build ``runs.csv`` and ``points.csv`` rows from the complete run folders and the
    failure records; a run is present at most once because rows come from the plan."""
    import pandas as pd

    kpi_rows: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    rows = [_run_row(plan, task, out, kpi_rows, units) for task in plan.runs]
    kpis = list(plan.outputs) if plan.outputs is not None else list(units)
    for row in rows:
        values = kpi_rows.get(row["run_key"], {})
        for k in kpis:
            row[k] = values.get(k, math.nan)
    columns = [
        "run_key",
        "point",
        "rep",
        *plan.param_paths,
        "seed",
        "status",
        "error",
        *kpis,
        "warnings",
    ]
    runs = pd.DataFrame(rows, columns=columns)
    for path in plan.param_paths:
        runs[path] = _param_column(list(runs[path]))
    runs = runs.sort_values("run_key", kind="stable").reset_index(drop=True)
    by_point = {p: g for p, g in runs.groupby("point", sort=True)}
    points = pd.DataFrame(
        [_point_row(pt, by_point.get(pt.index, runs.iloc[0:0]), kpis) for pt in plan.points]
    )
    for path in plan.param_paths:
        points[path] = _param_column(list(points[path]))
    return SweepResults(runs, points, kpis, {k: units.get(k, "") for k in kpis})


def _run_row(
    plan: SweepPlan,
    task: RunTask,
    out: Path,
    kpi_rows: dict[str, dict[str, float]],
    units: dict[str, str],
) -> dict[str, Any]:
    """The row of one run without its KPIs; a complete run's KPIs go to ``kpi_rows`` and
    the units of KPIs not seen before to ``units`` (in the order first seen)."""
    import pandas as pd

    folder = out / RUNS_DIR / task.key
    row: dict[str, Any] = {"run_key": task.key, "point": task.point, "rep": task.rep}
    for path, value in plan.points[task.point].values.items():
        row[path] = value
    row["seed"] = task.seed
    if run_is_trusted(folder, task):
        summary = pd.read_csv(folder / "summary.csv", keep_default_na=True)
        values = dict(zip(summary["metric"], summary["value"].astype(float), strict=False))
        for metric, unit in zip(summary["metric"], summary["unit"], strict=False):
            units.setdefault(metric, str(unit))
        kpi_rows[task.key] = values
        row.update(status="ok", error="", warnings=" | ".join(_read_warnings(folder)))
        return row
    failure = out / FAILED_DIR / f"{task.key}.json"
    if failure.is_file():
        try:
            error = str(json.loads(failure.read_text(encoding="utf-8"))["error"])
        except (OSError, ValueError, KeyError):
            error = "failed (unreadable failure record)"
        row.update(status="failed", error=error, warnings="")
    else:
        row.update(status="missing", error="not run yet", warnings="")
    return row


def run_is_trusted(folder: Path, task: RunTask) -> bool:
    """``folder`` holds ``task``'s complete run: its marker and its manifest both carry the
    task's key as config hash and the task's seed (a run copied there from elsewhere, or
    left by another spec, is not the point's result)."""
    if not is_complete(folder):
        return False
    marker = read_marker(folder) or {}
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    return all(
        info.get("config_hash") == task.key and info.get("seed") == task.seed
        for info in (marker, manifest)
    )


def _point_row(pt: Point, group: pd.DataFrame, kpis: list[str]) -> dict[str, Any]:
    """Mean and confidence interval of each KPI over the point's complete runs."""
    ok = group[group["status"] == "ok"]
    row: dict[str, Any] = {"point": pt.index}
    for path, value in pt.values.items():
        row[path] = value
    row["n"] = len(ok)
    row["n_failed"] = int((group["status"] == "failed").sum())
    saturated = ok["warnings"].astype(str).str.contains(SATURATION_TEXT, regex=False)
    row["saturated_share"] = float(saturated.mean()) if len(ok) else math.nan
    for k in kpis:
        mean, low, high, _ = metric_ci(k, ok[k].to_numpy(dtype=float), CI_LEVEL)
        row[f"{k}_mean"] = mean
        row[f"{k}_ci_low"] = low
        row[f"{k}_ci_high"] = high
    return row


def _read_warnings(folder: Path) -> list[str]:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return [str(w) for w in data.get("warnings", [])]
    except (OSError, ValueError, AttributeError):
        return []
