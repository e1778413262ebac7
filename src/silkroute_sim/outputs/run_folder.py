"""Writing one run's result folder: CSVs, manifest, plots, completion marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.folder_report import folder_report
from silkroute_sim.outputs.plots.run import all_run_plots
from silkroute_sim.outputs.storage import (
    base_manifest,
    mark_complete,
    write_csv,
    write_folder,
    write_json,
)


def saturation_warning(result: RunResult, tables: Tables) -> str | None:
    """A warning when the backlog grew over the observation window."""
    daily = tables.daily
    window = daily[~daily["warmup"]]
    if len(window) < 2:
        return None
    start, end = float(window["backlog_t"].iloc[0]), float(window["backlog_t"].iloc[-1])
    demand = result.config.demand.tonnes_per_day
    if end - start > 2 * demand and end > 1.5 * max(start, 1.0):
        return (
            f"the hub is saturated: backlog grew from {start:,.0f} t to {end:,.0f} t "
            "over the observation window"
        )
    return None


def empty_kpis_warning(result: RunResult, tables: Tables) -> str | None:
    """Say which KPIs are empty and why: an empty cell means "nothing to measure", and a
    run where that happens (no train left, nothing delivered) should not pass unnoticed."""
    summary = tables.summary
    empty = [str(m) for m in summary.loc[summary["value"].isna(), "metric"]]
    if not empty:
        return None
    values = dict(zip(summary["metric"], summary["value"], strict=False))
    if values.get("demand_t_per_day") == 0:
        why = "no cargo arrived"
    elif values.get("trains_dispatched_per_day") == 0:
        why = "no train left the hub"
    elif values.get("delivered_t_per_day") == 0:
        why = "nothing was delivered"
    else:
        why = "nothing to measure for them"
    names = sorted({m.split(":")[0] for m in empty})
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return (
        f"{len(empty)} KPIs are empty ({why} between day {result.warmup_h / 24:g} and day "
        f"{result.end_h / 24:g}): {shown}"
    )


def manifest(result: RunResult, warnings: list[str]) -> dict[str, Any]:
    data = base_manifest()
    data.update(
        {
            "name": result.config.name,
            "seed": result.seed,
            "config_hash": result.config.config_hash(),
            "wall_s": round(result.wall_s, 3),
            "events": result.events,
            "simulated_days": result.end_h / 24,
            "warmup_days": result.warmup_h / 24,
            "warnings": warnings,
            "files": [*sorted(_csv_names(result)), "manifest.json"],
            "config": result.config.resolved(),
        }
    )
    return data


def _csv_names(result: RunResult) -> list[str]:
    names = ["summary.csv", "daily.csv", "trains.csv", "shipments.csv", "node_events.csv"]
    if result.disruptions is not None:
        names.append("disruptions.csv")
    return names


def write_run(
    result: RunResult,
    out: Path,
    *,
    plots: bool = True,
    force: bool = False,
    tables: Tables | None = None,
) -> tuple[Path, Tables, list[str]]:
    """Write the result folder for ``result`` atomically; returns (folder, tables, warnings)."""
    tables = tables or Tables(result)
    warnings = list(result.records.warnings)
    for warning in (saturation_warning(result, tables), empty_kpis_warning(result, tables)):
        if warning:
            warnings.append(warning)

    def fill(folder: Path) -> None:
        write_csv(tables.summary, folder / "summary.csv")
        write_csv(tables.daily, folder / "daily.csv")
        write_csv(tables.trains, folder / "trains.csv")
        write_csv(tables.shipments, folder / "shipments.csv")
        write_csv(tables.node_events, folder / "node_events.csv")
        if tables.disruptions is not None:
            write_csv(tables.disruptions, folder / "disruptions.csv")
        if plots:
            all_run_plots(result, tables, folder / "plots")
        write_json(manifest(result, warnings), folder / "manifest.json")
        if plots:  # the self-contained page: description, KPI table, plots embedded
            folder_report(folder)
        mark_complete(
            folder, {"kind": "run", "config_hash": result.config.config_hash(), "seed": result.seed}
        )

    folder = write_folder(Path(out), fill, force=force, kind="run")
    return folder, tables, warnings
