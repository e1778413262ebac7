"""Figures of a sweep: each KPI against each swept parameter, and grid heatmaps.

For a grid or zip design each KPI is drawn against each parameter as lines of point means
with their confidence band, one line per combination of the other parameters (up to
:data:`MAX_LINES`; beyond that, points with error bars). For a Latin hypercube, the
points are scattered with error bars. A two-parameter grid also gets one heatmap per KPI.
Where the swept parameter is the demand in t/day, t/day KPIs get the ``y = demand`` line:
the gap between it and the dispatched line is the hub's shortfall. Imported lazily.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.outputs.plots.run import COLORS, _plt, _save

MAX_LINES = 10
DEMAND_PATH = "demand.tonnes_per_day"
#: the KPI of the demand that arrived in the observation window
ARRIVED = "demand_t_per_day"
#: KPIs that are checks, not results: kept in runs.csv, not plotted
NOT_PLOTTED = {"conservation_error_t"}


def slug(text: str) -> str:
    """A file-name-safe ASCII form of a KPI or parameter name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("_") or "x"


def _numeric(values: pd.Series) -> pd.Series | None:
    converted = pd.to_numeric(values, errors="coerce")
    return converted if bool(converted.notna().all()) else None


def _axis(points: pd.DataFrame, param: str) -> tuple[np.ndarray, list[str] | None]:
    """x positions for ``param``: its numbers, or category positions with labels."""
    numeric = _numeric(points[param])
    if numeric is not None:
        return numeric.to_numpy(dtype=float), None
    labels = list(dict.fromkeys(str(v) for v in points[param]))
    where = {label: i for i, label in enumerate(labels)}
    return np.array([where[str(v)] for v in points[param]], dtype=float), labels


def _short(path: str) -> str:
    """The last two segments of a dotted path: ``cranes.count``, ``demand.tonnes_per_day``."""
    return ".".join(path.split(".")[-2:])


def _label(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit and unit != "nan" else name


def kpi_vs_parameter(
    points: pd.DataFrame,
    params: list[str],
    param: str,
    kpi: str,
    unit: str,
    design: str,
    path: Path,
) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    x_all, labels = _axis(points, param)
    mean = points[f"{kpi}_mean"].to_numpy(dtype=float)
    low = points[f"{kpi}_ci_low"].to_numpy(dtype=float)
    high = points[f"{kpi}_ci_high"].to_numpy(dtype=float)
    others = [p for p in params if p != param]
    groups: list[tuple[str, np.ndarray]] = []
    if design != "lhs":
        if others:
            keys = points[others].astype(str).agg(", ".join, axis=1)
            names = list(dict.fromkeys(keys))
            if len(names) <= MAX_LINES:
                short = ", ".join(_short(o) for o in others)
                groups = [(f"{short} = {n}", (keys == n).to_numpy()) for n in names]
        else:
            groups = [("", np.ones(len(points), dtype=bool))]
    if groups:
        for i, (name, mask) in enumerate(groups):
            order = np.argsort(x_all[mask], kind="stable")
            x, y = x_all[mask][order], mean[mask][order]
            lo, hi = low[mask][order], high[mask][order]
            color = COLORS[i % len(COLORS)]
            ax.plot(x, y, "o-", color=color, lw=1.8, ms=4, label=name or "mean")
            band = np.isfinite(lo) & np.isfinite(hi)
            if band.any():
                ax.fill_between(x, lo, hi, where=band, color=color, alpha=0.18, lw=0)
        if any(np.isfinite(low)):
            ax.plot([], [], color="0.6", lw=6, alpha=0.4, label="95% CI")
    else:
        err = np.vstack([mean - low, high - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(x_all, mean, yerr=err, fmt="o", color=COLORS[0], ms=4, capsize=2, lw=1)
    if param == DEMAND_PATH and unit == "t/day" and labels is None and kpi != ARRIVED:
        if f"{ARRIVED}_mean" in points:  # what arrived (seasons, weekdays) beats the nominal
            arrived = (
                pd.DataFrame({"x": x_all, "y": points[f"{ARRIVED}_mean"].to_numpy(dtype=float)})
                .groupby("x")["y"]
                .mean()
            )
            ax.plot(arrived.index, arrived.to_numpy(), "--", color="0.4", lw=1, label="demand")
        else:
            lo_x, hi_x = float(np.nanmin(x_all)), float(np.nanmax(x_all))
            ax.plot([lo_x, hi_x], [lo_x, hi_x], "--", color="0.4", lw=1, label="y = demand")
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    else:
        ticks = np.unique(x_all[np.isfinite(x_all)])
        if design != "lhs" and len(ticks) <= 16:
            ax.set_xticks(ticks, [_fmt_tick(float(t)) for t in ticks])
    ax.set_xlabel(param)
    ax.set_ylabel(_label(kpi, unit))
    ax.set_title(f"{kpi} vs {_short(param)}")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def heatmap(
    points: pd.DataFrame, params: list[str], kpi: str, unit: str, path: Path
) -> Path | None:
    """Point means on the grid of two parameters (rows: the second, columns: the first)."""
    col_param, row_param = params
    table = points.pivot_table(
        index=row_param, columns=col_param, values=f"{kpi}_mean", aggfunc="first", sort=False
    )
    if table.empty:
        return None
    cols = _sorted_labels(list(table.columns))
    rows = _sorted_labels(list(table.index))
    table = table.loc[rows, cols]
    data = table.to_numpy(dtype=float)
    plt = _plt()
    fig, ax = plt.subplots(
        figsize=(max(5.5, 1.0 + 0.9 * len(cols)), max(3.5, 1.2 + 0.5 * len(rows)))
    )
    image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis", origin="lower")
    ax.set_xticks(range(len(cols)), [_fmt_tick(c) for c in cols])
    ax.set_yticks(range(len(rows)), [_fmt_tick(r) for r in rows])
    ax.set_xlabel(col_param)
    ax.set_ylabel(row_param)
    ax.grid(False)
    finite = data[np.isfinite(data)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    size = float(np.abs(finite).max()) if finite.size else 0.0
    fmt = "{:,.0f}" if size >= 100 else "{:.1f}" if size >= 10 else "{:.2f}"
    for (r, c), value in np.ndenumerate(data):
        if math.isfinite(value):
            ax.text(
                c,
                r,
                fmt.format(value),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value < mid else "black",
            )
    fig.colorbar(image, ax=ax, label=_label(kpi, unit))
    ax.set_title(f"{kpi} (mean)")
    return _save(fig, path)


def _sorted_labels(values: list[Any]) -> list[Any]:
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return values


def _fmt_tick(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def sweep_plots(
    points: pd.DataFrame,
    params: Sequence[str],
    kpis: Sequence[str],
    units: Mapping[str, str],
    design: str,
    folder: Path,
) -> list[Path]:
    """Write every sweep figure into ``folder``; returns their paths.

    ``points`` is the sweep's points table (points.csv: the parameter columns ``params``,
    ``saturated_share`` and ``<kpi>_mean``, ``_ci_low``, ``_ci_high`` for each of ``kpis``),
    ``units`` the KPIs' units and ``design`` ``grid``, ``zip`` or ``lhs``."""
    points = points.copy()
    params = list(params)
    kpis = [k for k in kpis if k not in NOT_PLOTTED]
    units = dict(units)
    if "saturated_share" in points and bool((points["saturated_share"] > 0).any()):
        points["saturated_share_mean"] = points["saturated_share"]
        points["saturated_share_ci_low"] = np.nan
        points["saturated_share_ci_high"] = np.nan
        kpis.append("saturated_share")
        units["saturated_share"] = "share of runs"
    if points.empty or not kpis:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kpi in kpis:
        if points[f"{kpi}_mean"].isna().all():
            continue
        unit = units.get(kpi, "")
        for param in params:
            path = folder / f"{slug(kpi)}--{slug(param)}.png"
            written.append(kpi_vs_parameter(points, params, param, kpi, unit, design, path))
        if design == "grid" and len(params) == 2:
            hm = heatmap(points, params, kpi, unit, folder / f"heatmap--{slug(kpi)}.png")
            if hm is not None:
                written.append(hm)
    return written
