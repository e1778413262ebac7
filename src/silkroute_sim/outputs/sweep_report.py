"""The report page of a sweep folder, built from its files alone.

``report.html`` shows the sweep's description (manifest.json), the run counts (runs.csv), a
curated set of figures (:func:`curated`: saturation, throughput against the demand line,
backlog, dwell, door to door, crane utilisation) with every other figure in ``plots/``
linked, then one row per parameter point with the mean and 95 % confidence interval of
each KPI (points.csv), labelled from the KPI catalogue, in a box that scrolls by itself.
It needs nothing from the process that ran the sweep, so ``silkroute report`` rebuilds it
for any finished or interrupted sweep folder.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.analysis.kpis import lookup
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.plots.sweep import (
    DEMAND_PATH,
    kpi_axis_label,
    parameter_label,
    slug,
)
from silkroute_sim.outputs.report import ci_text, write_report

#: the KPIs whose figures a sweep's report shows first, in order (the rest are linked)
CURATED_KPIS = (
    "dispatched_t_per_day",
    "backlog_t_end",
    "hub_dwell_h_mean",
    "door_to_door_d_median",
    "crane_utilisation",
)
#: how many figures the report embeds at most
MAX_SHOWN = 6

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
    shown, linked = curated(figures, list(manifest.get("parameters", [])))
    description = (manifest.get("spec") or {}).get("description", "")
    return write_report(
        folder / "report.html",
        f"Sweep: {meta['sweep']}",
        str(description or ""),
        points_table(points, manifest),
        shown,
        meta=meta,
        table_title="Points: mean and 95% confidence interval over replications",
        table_note="One row per parameter point; runs.csv has one row per run, "
        "points.csv the same figures as numbers.",
        captions={p.stem: figure_caption(p.stem) for p in figures},
        titles={p.stem: figure_title(p.stem) for p in figures},
        more_plots=linked,
    )


def curated(figures: list[Path], params: list[str]) -> tuple[list[Path], list[Path]]:
    """(shown, linked): the saturation heatmap, then each of :data:`CURATED_KPIS` against
    the demand (or the first parameter), filled up with the other figures in name order to
    :data:`MAX_SHOWN`; the rest linked."""
    by_stem = {p.stem: p for p in figures}
    main = DEMAND_PATH if DEMAND_PATH in params else (params[0] if params else "")
    wanted = ["heatmap--saturated_share"] + [f"{slug(k)}--{slug(main)}" for k in CURATED_KPIS]
    shown = [by_stem[w] for w in wanted if w in by_stem][:MAX_SHOWN]
    shown += [p for p in figures if p not in shown][: MAX_SHOWN - len(shown)]
    return shown, [p for p in figures if p not in shown]


def _split(stem: str) -> tuple[str, str]:
    kpi, _, param = stem.partition("--")
    return kpi, param


def figure_title(stem: str) -> str:
    """``Backlog at end vs demand`` for ``backlog_t_end--demand.tonnes_per_day``."""
    kpi, param = _split(stem)
    if kpi == "heatmap":
        return f"{kpi_axis_label(param).split(' (')[0]}: heatmap"
    return (
        f"{kpi_axis_label(kpi).split(' (')[0]} vs {parameter_label(param).split(' (')[0].lower()}"
    )


def figure_caption(stem: str) -> str:
    """A sentence under a sweep figure."""
    kpi, param = _split(stem)
    if kpi == "heatmap" and param == "saturated_share":
        return (
            "Share of runs whose backlog kept growing (the hub saturated), per point of the grid."
        )
    if kpi == "heatmap":
        return f"{figure_title(stem)}: the mean over runs at each point of the grid."
    text = f"{figure_title(stem)}: point means with their 95% confidence band"
    if param == "demand.tonnes_per_day":
        text += "; dotted: the 3,600 t/day the hub is stated to handle"
        entry = lookup(kpi)
        if entry is not None and entry.unit == "t/day":
            text += "; dashed: the demand that arrived (the gap below it is the shortfall)"
    return text + "."


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
        table[parameter_label(path)] = points[path].astype(str)
    table["runs ok"] = points["n"]
    if bool((points["n_failed"] > 0).any()):
        table["failed"] = points["n_failed"]
    if bool((points["saturated_share"] > 0).any()):
        table["saturated"] = points["saturated_share"].map(
            lambda v: "" if not math.isfinite(v) else f"{v:.0%}"
        )
    for kpi in kpis:
        name = kpi_axis_label(kpi, units.get(kpi, ""))
        if name in table.columns:  # the demand that arrived, beside the demand set
            name = name.replace(" (", ", measured (", 1) if " (" in name else f"{name}, measured"
        table[name] = [
            ci_text(kpi, m, lo, hi, units.get(kpi, ""))
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
