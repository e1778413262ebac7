"""Figures of a sweep: each KPI against each swept parameter, and grid heatmaps.

For a grid or zip design each KPI is drawn against each parameter as lines of point means
with their confidence band, one line per combination of the other parameters (up to
:data:`MAX_LINES`; beyond that, points with error bars). For a Latin hypercube, the points
are scattered with error bars. A two-parameter grid also gets one heatmap per KPI.

Axes and titles read as words with units: KPIs are labelled from the KPI catalogue
(:mod:`silkroute_sim.analysis.kpis`), parameters from :data:`PARAMETER_LABELS` or from
their dotted path (``hub.cranes.count`` → "Cranes: count"). Bands are clipped to what the
quantity can take (the catalogue's ``lower``, 100 % for a share) and left out where a
point has fewer than :data:`MIN_BAND_N` runs (the legend says so). Where the swept
parameter is the demand in t/day, t/day KPIs get the demand that arrived drawn on top
(the gap to the dispatched line is the hub's shortfall) and the 3,600 t/day the hub is
stated to handle; a KPI that measures a swept input (the demand against the demand) is
not drawn against it. Imported lazily.
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

from silkroute_sim.analysis.kpis import label as kpi_label
from silkroute_sim.analysis.kpis import lookup
from silkroute_sim.outputs.plots.style import BLACK, GREY, SEQUENTIAL, VERMILLION, color
from silkroute_sim.outputs.plots.style import pyplot as _plt
from silkroute_sim.outputs.plots.style import save as _save

MAX_LINES = 10
DEMAND_PATH = "demand.tonnes_per_day"
#: the KPI of the demand that arrived in the observation window
ARRIVED = "demand_t_per_day"
#: KPIs that are checks, not results: kept in runs.csv, not plotted
NOT_PLOTTED = {"conservation_error_t"}
#: a KPI that measures a swept input, by the input's path: never drawn against it
MEASURES_INPUT = {ARRIVED: DEMAND_PATH}
#: the daily tonnes the Urumqi hub is stated to handle (corridor facts [1])
STATED_CAPACITY_T_PER_DAY = 3600.0
#: fewest runs at a point for a confidence band (two give an interval, but a useless one)
MIN_BAND_N = 3
#: labels of the parameters sweeps usually vary, with their units
PARAMETER_LABELS = {
    "demand.tonnes_per_day": "Demand (t/day)",
    "hub.cranes.count": "Gantry cranes",
    "hub.loading.tracks": "Loading tracks",
    "hub.yard.capacity_teu": "Yard capacity (TEU)",
    "hub.gate.lanes": "Gate lanes",
    "hub.loading.cranes_per_train": "Cranes per train",
    "hub.customs.inspection_probability": "Customs inspection share",
}
#: unit suffixes of config names and how people write them
_SUFFIX_UNITS = (
    ("_tonnes_per_day", "t/day"),
    ("_per_day", "/day"),
    ("_teu", "TEU"),
    ("_km_h", "km/h"),
    ("_km", "km"),
    ("_mm", "mm"),
    ("_h", "h"),
    ("_d", "d"),
    ("_t", "t"),
)


def slug(text: str) -> str:
    """A file-name-safe ASCII form of a KPI or parameter name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("_") or "x"


def parameter_label(path: str) -> str:
    """A swept parameter for people: ``Demand (t/day)`` for ``demand.tonnes_per_day``; an
    unknown dotted path reads from its last two names with the unit its suffix gives
    (``corridor.nodes.Brest.tracks`` → "Brest: tracks")."""
    if path in PARAMETER_LABELS:
        return PARAMETER_LABELS[path]
    parts = path.split(".")
    last = "_" + parts[-1]
    unit = ""
    for suffix, name in _SUFFIX_UNITS:
        if last.endswith(suffix) and last != suffix:
            last, unit = last[: -len(suffix)], name
            break
    words = last.strip("_").replace("_", " ")
    text = f"{parts[-2].replace('_', ' ')}: {words}" if len(parts) > 1 else words
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def kpi_axis_label(kpi: str, unit: str = "") -> str:
    """A KPI's axis label from the catalogue: ``Hub dwell (mean) (h)``, fractions in %."""
    entry = lookup(kpi)
    if kpi == "saturated_share":
        return "Runs saturated (%)"
    name = kpi_label(kpi) if entry is not None else kpi.replace("_", " ")
    shown = entry.axis_unit if entry is not None else unit
    name = name[:1].upper() + name[1:]
    return f"{name} ({shown})" if shown and shown != "nan" else name


def _scale(kpi: str) -> float:
    entry = lookup(kpi)
    return entry.scale if entry is not None else 100.0 if kpi == "saturated_share" else 1.0


def _bounds(kpi: str) -> tuple[float, float]:
    """What the quantity can take, in plotted units: (lower, upper)."""
    entry = lookup(kpi)
    if kpi == "saturated_share" or (entry is not None and entry.unit == "fraction"):
        return 0.0, 100.0
    if entry is None or entry.lower is None:
        return -math.inf, math.inf
    return entry.lower, math.inf


def plotted_pairs(kpis: Sequence[str], params: Sequence[str]) -> list[tuple[str, str]]:
    """The (kpi, parameter) figures a sweep draws: every KPI against every parameter except
    a KPI measuring that very input (:data:`MEASURES_INPUT`) and the checks
    (:data:`NOT_PLOTTED`)."""
    return [
        (k, p) for k in kpis if k not in NOT_PLOTTED for p in params if MEASURES_INPUT.get(k) != p
    ]


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


def _band(points: pd.DataFrame, kpi: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high) in plotted units, the interval clipped to the quantity's bounds and
    NaN where the point has fewer than :data:`MIN_BAND_N` runs."""
    scale = _scale(kpi)
    mean = points[f"{kpi}_mean"].to_numpy(dtype=float) * scale
    low = points[f"{kpi}_ci_low"].to_numpy(dtype=float) * scale
    high = points[f"{kpi}_ci_high"].to_numpy(dtype=float) * scale
    lo_bound, hi_bound = _bounds(kpi)
    low, high = np.clip(low, lo_bound, hi_bound), np.clip(high, lo_bound, hi_bound)
    if "n" in points:
        few = points["n"].to_numpy(dtype=float) < MIN_BAND_N
        low, high = np.where(few, np.nan, low), np.where(few, np.nan, high)
    return mean, low, high


def _groups(points: pd.DataFrame, params: list[str], param: str, design: str) -> list[Any]:
    others = [p for p in params if p != param]
    if design == "lhs":
        return []
    if not others:
        return [("", np.ones(len(points), dtype=bool))]
    keys = points[others].astype(str).agg(", ".join, axis=1)
    names = list(dict.fromkeys(keys))
    if len(names) > MAX_LINES:
        return []
    firsts = points[others].drop_duplicates().astype(str)
    labels = {
        ", ".join(row): ", ".join(_value_label(o, v) for o, v in zip(others, row, strict=True))
        for row in firsts.itertuples(index=False)
    }
    return [(labels.get(n, n), (keys == n).to_numpy()) for n in names]


def _value_label(path: str, value: Any) -> str:
    """``Demand = 2,400 t/day``, ``Gantry cranes = 3``."""
    name = parameter_label(path)
    unit = ""
    if name.endswith(")") and " (" in name:
        name, unit = name[:-1].rsplit(" (", 1)
    try:
        number = float(value)
        text = f"{number:,.0f}" if number.is_integer() else f"{number:,g}"
    except (TypeError, ValueError):
        text = str(value)
    return f"{name} = {text}" + (f" {unit}" if unit else "")


def _references(
    ax: Any,
    points: pd.DataFrame,
    x_all: np.ndarray,
    param: str,
    kpi: str,
    reference: tuple[float, str] | None = None,
) -> None:
    """The demand that arrived (on top of the lines, where the x axis is the demand), the
    stated capacity, 100 % for a share, and ``reference`` (a value in the KPI's unit and
    its label: the yard's capacity for the yard's KPIs) as a horizontal line."""
    if reference is not None:
        value, text = reference
        ax.axhline(value * _scale(kpi), color=VERMILLION, ls="--", lw=1.2, zorder=4, label=text)
    entry = lookup(kpi)
    unit = entry.unit if entry is not None else ""
    on_demand = param == DEMAND_PATH
    if on_demand:
        ax.axvline(STATED_CAPACITY_T_PER_DAY, color=VERMILLION, ls=":", lw=1.4, zorder=4)
        ax.annotate(
            "3,600 t/day\nstated capacity",
            (STATED_CAPACITY_T_PER_DAY, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize=7.5,
            color=VERMILLION,
        )
    if unit == "t/day" and on_demand and kpi != ARRIVED:
        if f"{ARRIVED}_mean" in points:  # what arrived (seasons, weekdays) beats the nominal
            arrived = (
                pd.DataFrame({"x": x_all, "y": points[f"{ARRIVED}_mean"].to_numpy(dtype=float)})
                .groupby("x")["y"]
                .mean()
            )
            xs, ys = arrived.index.to_numpy(dtype=float), arrived.to_numpy()
            label = "demand (arrived)"
        else:
            xs = np.unique(x_all[np.isfinite(x_all)])
            ys, label = xs, "y = demand"
        ax.plot(xs, ys, ls=(0, (4, 2)), color=BLACK, lw=1.6, zorder=5, label=label)
    if unit == "fraction" or kpi == "saturated_share":
        ax.axhline(100, color=GREY, ls="--", lw=1, zorder=1)


def kpi_vs_parameter(
    points: pd.DataFrame,
    params: list[str],
    param: str,
    kpi: str,
    unit: str,
    design: str,
    path: Path,
    reference: tuple[float, str] | None = None,
) -> Path:
    """One KPI against one swept parameter (see the module's docstring); ``reference``: a
    capacity to draw as a line, in the KPI's unit, with its label."""
    plt = _plt()
    fig, ax = plt.subplots()
    x_all, labels = _axis(points, param)
    mean, low, high = _band(points, kpi)
    groups = _groups(points, params, param, design)
    few = "n" in points and bool((points["n"] < MIN_BAND_N).any())
    if groups:
        for i, (name, mask) in enumerate(groups):
            order = np.argsort(x_all[mask], kind="stable")
            x, y = x_all[mask][order], mean[mask][order]
            lo, hi = low[mask][order], high[mask][order]
            ax.plot(x, y, "o-", color=color(i), lw=1.8, ms=4, label=name or "mean", zorder=3)
            band = np.isfinite(lo) & np.isfinite(hi)
            if band.any():
                ax.fill_between(x, lo, hi, where=band, color=color(i), alpha=0.18, lw=0)
        if np.isfinite(low).any():
            ax.plot([], [], color="0.6", lw=6, alpha=0.4, label="95% CI")
    else:
        err = np.vstack([mean - low, high - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(x_all, mean, yerr=err, fmt="o", color=color(0), ms=4, capsize=2, lw=1)
    if few:
        ax.plot([], [], " ", label=f"no CI where a point has < {MIN_BAND_N} runs")
    if labels is None:
        _references(ax, points, x_all, param, kpi, reference)
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    else:
        ticks = np.unique(x_all[np.isfinite(x_all)])
        if design != "lhs" and len(ticks) <= 16:
            ax.set_xticks(ticks, [_fmt_tick(float(t)) for t in ticks])
    lo_bound, _ = _bounds(kpi)
    if lo_bound == 0 and np.nanmin(np.append(mean, 0)) >= 0:
        ax.set_ylim(bottom=0)
    if np.nanmax(np.abs(np.append(mean, 0))) >= 1000:
        from matplotlib.ticker import StrMethodFormatter

        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel(parameter_label(param))
    ax.set_ylabel(kpi_axis_label(kpi, unit))
    title = kpi_axis_label(kpi, unit).split(" (")[0]
    ax.set_title(f"{title} vs {parameter_label(param).split(' (')[0].lower()}")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def heatmap(
    points: pd.DataFrame, params: list[str], kpi: str, unit: str, path: Path
) -> Path | None:
    """Point means on the grid of two parameters (rows: the second, columns: the first)."""
    col_param, row_param = params
    scaled = points.assign(**{f"{kpi}_mean": points[f"{kpi}_mean"] * _scale(kpi)})
    table = scaled.pivot_table(
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
    image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=SEQUENTIAL, origin="lower")
    ax.set_xticks(range(len(cols)), [_fmt_tick(c) for c in cols])
    ax.set_yticks(range(len(rows)), [_fmt_tick(r) for r in rows])
    ax.set_xlabel(parameter_label(col_param))
    ax.set_ylabel(parameter_label(row_param))
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
    fig.colorbar(image, ax=ax, label=kpi_axis_label(kpi, unit))
    ax.set_title(f"{kpi_axis_label(kpi, unit).split(' (')[0]} (mean over runs)")
    return _save(fig, path)


def _sorted_labels(values: list[Any]) -> list[Any]:
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return values


def _fmt_tick(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def sweep_plots(
    points: pd.DataFrame,
    params: Sequence[str],
    kpis: Sequence[str],
    units: Mapping[str, str],
    design: str,
    folder: Path,
    references: Mapping[str, tuple[float, str]] | None = None,
) -> list[Path]:
    """Write every sweep figure into ``folder``; returns their paths.

    ``points`` is the sweep's points table (points.csv: the parameter columns ``params``,
    ``n``, ``saturated_share`` and ``<kpi>_mean``, ``_ci_low``, ``_ci_high`` for each of
    ``kpis``), ``units`` the KPIs' units and ``design`` ``grid``, ``zip`` or ``lhs``;
    ``references`` maps a KPI to a capacity drawn on its figures, ``(value, label)`` (e.g.
    ``{"yard_teu_max": (4000, "yard capacity 4,000 TEU")}``) where the base scenario
    knows it and no swept parameter changes it."""
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
    pairs = plotted_pairs(kpis, params)
    for kpi in kpis:
        if points[f"{kpi}_mean"].isna().all():
            continue
        unit = units.get(kpi, "")
        for param in (p for k, p in pairs if k == kpi):
            path = folder / f"{slug(kpi)}--{slug(param)}.png"
            reference = (references or {}).get(kpi)
            written.append(
                kpi_vs_parameter(points, params, param, kpi, unit, design, path, reference)
            )
        if design == "grid" and len(params) == 2 and kpi != ARRIVED:
            hm = heatmap(points, params, kpi, unit, folder / f"heatmap--{slug(kpi)}.png")
            if hm is not None:
                written.append(hm)
    return written
