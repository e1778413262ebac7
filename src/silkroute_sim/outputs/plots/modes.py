"""The modal plot: door-to-door days against cost and CO2e per FEU, rail against sea and air.

One row of two panels per cargo class: logistics cost per FEU (freight + inventory
carrying cost) and CO2e per FEU, both against door-to-door days, on log axes (air costs
and emits ten to thirty times what rail does). Rail is its simulated distribution: a dot
per shipment delivered after the warm-up, and per destination a marker at the median days
and mean cost with bars over the 5th–95th percentiles. Sea and air are the published
ranges of ``modes.csv``: a shaded box over the low–high envelope and a marker at the median
days and mean cost. Colours from :mod:`silkroute_sim.outputs.plots.style` (Okabe–Ito).
Imported lazily (matplotlib is heavy).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.modes import feu_of
from silkroute_sim.outputs.plots.style import BLUE, GREEN, VERMILLION, pyplot, save

#: colour of each mode
MODE_COLORS = {"rail": BLUE, "sea": GREEN, "air": VERMILLION}
#: marker of each destination, in the order destinations first appear in modes.csv
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
#: at most this many shipment dots per panel (every k-th shipment, so the same each time)
MAX_DOTS = 4000

#: (column stem of modes.csv, column of shipments.csv, axis label, scale to the axis unit)
PANELS = (
    (
        "logistics_cost_usd_per_feu",
        "logistics_cost_usd",
        "logistics cost per FEU, USD\n(freight + inventory carrying; log scale)",
        1.0,
    ),
    (
        "co2_kg_per_feu",
        "co2_kg",
        "CO2e per FEU, tonnes\n(well to wheel; log scale)",
        1e-3,
    ),
)


def _thousands(value: float, _pos: int) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def _log_axes(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(_thousands))
        axis.set_minor_formatter(FuncFormatter(lambda _v, _p: ""))


def _rail_dots(ax: Any, ships: pd.DataFrame, column: str, scale: float) -> None:
    """A dot per shipment: door-to-door days and the per-FEU value of ``column``."""
    feu = feu_of(ships)
    x = ships["door_to_door_d"].to_numpy(dtype=float)
    y = ships[column].to_numpy(dtype=float) / feu * scale
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    x, y = x[ok], y[ok]
    step = max(1, math.ceil(len(x) / MAX_DOTS))
    ax.scatter(
        x[::step],
        y[::step],
        s=5,
        color=MODE_COLORS["rail"],
        alpha=0.12,
        lw=0,
        rasterized=True,
        zorder=1,
    )


def _mode_marker(ax: Any, row: pd.Series, stem: str, scale: float, marker: str) -> None:
    """A marker at (median days, mean) with bars over low–high; for sea and air also the
    shaded envelope box."""
    color = MODE_COLORS.get(str(row["mode"]), "0.3")
    x, y = row["door_to_door_d_median"], row[stem] * scale
    x_lo, x_hi = row["door_to_door_d_low"], row["door_to_door_d_high"]
    y_lo, y_hi = row[f"{stem}_low"] * scale, row[f"{stem}_high"] * scale
    if not all(np.isfinite([x, y, x_lo, x_hi, y_lo, y_hi])) or min(x, y, x_lo, y_lo) <= 0:
        return
    if row["mode"] != "rail":
        ax.fill_between([x_lo, x_hi], y_lo, y_hi, color=color, alpha=0.08, lw=0.8, zorder=0)
    ax.errorbar(
        x,
        y,
        # a mean may lie outside the 5-95 % spread of a few skewed boxes: no bar then
        xerr=[[max(x - x_lo, 0.0)], [max(x_hi - x, 0.0)]],
        yerr=[[max(y - y_lo, 0.0)], [max(y_hi - y, 0.0)]],
        fmt=marker,
        ms=7,
        color=color,
        mec="black",
        mew=0.6,
        elinewidth=1.0,
        capsize=2,
        zorder=3,
    )


def _breakeven_text(rows: pd.DataFrame) -> str:
    """One line per destination: the value of time at which rail beats sea."""
    lines = []
    for _, row in rows[rows["mode"] == "sea"].iterrows():
        side = row["rail_wins_when_value_of_time"]
        value = row["breakeven_usd_per_feu_day"]
        if side == "above" and np.isfinite(value):
            cargo = row["breakeven_value_usd_per_feu"]
            worth = f", cargo ≥ USD {cargo / 1000:,.0f}k/FEU" if np.isfinite(cargo) else ""
            lines.append(f"{row['destination']}: > USD {value:,.0f}/FEU-day{worth}")
        elif side == "always":
            lines.append(f"{row['destination']}: always (cheaper and faster)")
        elif side == "never":
            lines.append(f"{row['destination']}: never (dearer and slower)")
    if not lines:
        return ""
    return "rail beats sea when a day in transit is worth\n" + "\n".join(lines)


def _class_title(rows: pd.DataFrame, cls: str) -> str:
    first = rows.iloc[0]
    value, per_day = first["value_usd_per_feu"], first["value_of_time_usd_per_feu_day"]
    if np.isfinite(value) and value > 0:
        return f"{cls}: cargo USD {value:,.0f} per FEU, time worth USD {per_day:,.0f} per FEU-day"
    return f"{cls}: no cargo value configured (freight only)"


def _legend(fig: Any, markers: dict[str, str]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=4,
            color=MODE_COLORS["rail"],
            alpha=0.4,
            label="rail, one dot per shipment (simulated)",
        ),
        Line2D(
            [],
            [],
            ls="-",
            marker="o",
            color=MODE_COLORS["rail"],
            mec="black",
            label="rail: median days, mean; bars 5–95 %",
        ),
        Patch(
            color=MODE_COLORS["sea"], alpha=0.3, label="sea: published range; marker median, mean"
        ),
        Patch(
            color=MODE_COLORS["air"], alpha=0.3, label="air: published range; marker median, mean"
        ),
    ]
    handles += [
        Line2D([], [], ls="", marker=m, color="0.5", mec="black", label=dest)
        for dest, m in markers.items()
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)


def modes_plot(
    modes: pd.DataFrame, shipments: pd.DataFrame, path: Path, warmup_h: float = 0.0
) -> Path:
    """Write the modal plot of ``modes`` (``modes.csv``) with rail's shipments (those
    delivered from ``warmup_h`` on) to ``path``; returns ``path``."""
    plt = pyplot()
    classes = list(dict.fromkeys(modes["cargo_class"]))
    markers = {
        dest: MARKERS[i % len(MARKERS)]
        for i, dest in enumerate(dict.fromkeys(modes["destination"]))
    }
    n = max(1, len(classes))
    fig, axes = plt.subplots(n, 2, figsize=(12, 4.6 * n + 1.2), squeeze=False)
    # the columns drawn, not a copy of every column (a 10-year table has ~700,000 rows)
    wanted = ["cargo_class", "door_to_door_d", "feu", "teu", *(p[1] for p in PANELS)]
    delivered = shipments.loc[
        shipments["delivered_h"] >= warmup_h, [c for c in wanted if c in shipments]
    ]
    for r, cls in enumerate(classes):
        rows = modes[modes["cargo_class"] == cls]
        ships = delivered[delivered["cargo_class"] == cls]
        for c, (stem, column, label, scale) in enumerate(PANELS):
            ax = axes[r][c]
            _rail_dots(ax, ships, column, scale)
            for _, row in rows.iterrows():
                _mode_marker(ax, row, stem, scale, markers[str(row["destination"])])
            _log_axes(ax)
            ax.set_xlabel("door to door, days (log scale)")
            ax.set_ylabel(label)
            ax.set_title(_class_title(rows, cls) if c == 0 else f"{cls}: CO2e", fontsize=10)
            ax.grid(True, which="major", alpha=0.3)
        text = _breakeven_text(rows)
        if text:
            axes[r][0].text(
                0.98,
                0.02,
                text,
                transform=axes[r][0].transAxes,
                ha="right",
                multialignment="left",
                va="bottom",
                fontsize=7,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.9},
            )
    if not classes:
        axes[0][0].text(0.5, 0.5, "no shipments delivered", ha="center", va="center")
    fig.suptitle("Rail (simulated) against sea and air (published ranges), door to door")
    _legend(fig, markers)
    # the legend sits below the panels: lay them out above it
    return save(fig, path, rect=(0, 0.1 / n + 0.02, 1, 0.97))
