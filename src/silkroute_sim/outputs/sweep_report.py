"""The report page of a sweep folder, built from its files alone.

``report.html`` shows the sweep's description (manifest.json), the run counts (runs.csv),
one row per parameter point with the mean and 95 % confidence interval of each KPI
(points.csv) and every figure in ``plots/``. It needs nothing from the process that ran the
sweep, so ``silkroute report`` rebuilds it for any finished or interrupted sweep folder.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.report import write_report

if TYPE_CHECKING:
    import pandas as pd


def write_sweep_report(folder: str | os.PathLike[str]) -> Path:
    """Write ``report.html`` of a sweep folder from its files: the points table (mean and CI
    of each KPI, from points.csv), the run counts (runs.csv), the sweep's description
    (manifest.json) and every plot in plots/. Returns the page's path."""
    import pandas as pd

    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        points = pd.read_csv(folder / "points.csv")
        runs = pd.read_csv(folder / "runs.csv", usecols=["status"])
    except (OSError, ValueError, KeyError) as exc:
        raise SilkrouteError(f"{folder}: cannot build the sweep report ({exc})") from None
    failed = int((runs["status"] != "ok").sum())
    meta = _meta(manifest, folder.name, len(points), len(runs), failed)
    figures = sorted((folder / "plots").glob("*.png"))
    figures.sort(key=lambda p: not p.name.startswith("heatmap--saturated"))  # stable
    description = (manifest.get("spec") or {}).get("description", "")
    return write_report(
        folder / "report.html",
        f"Sweep: {meta['sweep']}",
        str(description or ""),
        points_table(points, manifest),
        figures,
        meta=meta,
        table_title="Points: mean and 95% confidence interval over replications",
        table_note="One row per parameter point; runs.csv has one row per run, "
        "points.csv the same figures as numbers.",
    )


def points_table(points: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """The report's table: one row per point, its parameters as text, the runs ok (and
    failed, saturated where any) and each KPI as ``mean (low to high)``."""
    import pandas as pd

    params: list[str] = list(manifest.get("parameters", []))
    units: dict[str, str] = dict(manifest.get("units", {}))
    kpis = [
        k
        for k in manifest.get("kpis", [])
        if all(f"{k}_{part}" in points for part in ("mean", "ci_low", "ci_high"))
    ]
    table = pd.DataFrame({"point": points["point"]})
    for path in params:
        table[path] = points[path].astype(str)
    table["runs ok"] = points["n"]
    if bool((points["n_failed"] > 0).any()):
        table["failed"] = points["n_failed"]
    if bool((points["saturated_share"] > 0).any()):
        table["saturated"] = points["saturated_share"].map(
            lambda v: "" if not math.isfinite(v) else f"{v:.0%}"
        )
    for kpi in kpis:
        unit = units.get(kpi, "")
        label = f"{kpi} [{unit}]" if unit and unit != "nan" else kpi
        table[label] = [
            _interval(m, lo, hi)
            for m, lo, hi in zip(
                points[f"{kpi}_mean"],
                points[f"{kpi}_ci_low"],
                points[f"{kpi}_ci_high"],
                strict=True,
            )
        ]
    return table


def _meta(
    manifest: dict[str, Any], folder_name: str, n_points: int, n_runs: int, failed: int
) -> dict[str, Any]:
    reps, seed = manifest.get("reps"), manifest.get("seed")
    meta: dict[str, Any] = {
        "sweep": manifest.get("name", folder_name),
        "spec": manifest.get("spec_file", ""),
        "base scenario": manifest.get("base", ""),
        "design": manifest.get("design", ""),
        "parameters": ", ".join(manifest.get("parameters", [])),
        "points": n_points,
        "replications": f"{reps} (seeds {seed}..{seed + reps - 1})"
        if isinstance(reps, int) and isinstance(seed, int)
        else reps,
        "runs": f"{n_runs} ({failed} not ok)" if failed else n_runs,
    }
    if manifest.get("overrides"):
        meta["overrides"] = ", ".join(manifest["overrides"])
    return meta


def _interval(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return ""
    digits = 0 if abs(mean) >= 100 else 3 if abs(mean) < 1 else 2
    text = f"{mean:,.{digits}f}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" ({low:,.{digits}f} to {high:,.{digits}f})"
    return text
