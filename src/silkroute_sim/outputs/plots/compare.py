"""Plots over replications and scenarios: the differences from the base (a forest plot,
:mod:`silkroute_sim.outputs.plots.differences`), each replication's values, daily
throughput overlaid, door-to-door ECDFs overlaid, border waits side by side, and the
warm-up check. Imported lazily (matplotlib); each function writes one PNG, returns its path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from silkroute_sim.analysis.stats import student_t
from silkroute_sim.outputs.plots.differences import differences, paired_table, per_replication
from silkroute_sim.outputs.plots.run import _shade_warmup
from silkroute_sim.outputs.plots.style import COLORS
from silkroute_sim.outputs.plots.style import pyplot as _plt
from silkroute_sim.outputs.plots.style import save as _save
from silkroute_sim.outputs.replication_result import ReplicationResult

SMOOTH_DAYS = 7


LINESTYLES = ["-", "--", "-.", ":"]


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _line(i: int) -> dict[str, object]:
    """Colour and dash of scenario ``i``: identical curves stay visible on top of each other."""
    return {"color": _color(i), "ls": LINESTYLES[i % len(LINESTYLES)], "lw": 2.0 if i == 0 else 1.6}


def _stat(rr: ReplicationResult, metric: str) -> tuple[float, float, float]:
    sel = rr.summary[rr.summary["metric"] == metric]
    if sel.empty:
        return math.nan, math.nan, math.nan
    row = sel.iloc[0]
    return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])


def _yerr(mean: float, low: float, high: float) -> tuple[float, float]:
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(mean)):
        return 0.0, 0.0
    return max(mean - low, 0.0), max(high - mean, 0.0)


def _daily_matrix(rr: ReplicationResult, column: str) -> np.ndarray:
    frames = [r.daily[column].to_numpy(dtype=float) for r in rr.reps if column in r.daily]
    if not frames:
        return np.empty((0, 0))
    m = min(len(f) for f in frames)
    return np.vstack([f[:m] for f in frames])


def _rolling(matrix: np.ndarray, days: int) -> np.ndarray:
    """Centred moving average of each row (shorter at both ends), so it does not lag."""
    if matrix.size == 0:
        return matrix
    frame = pd.DataFrame(matrix.T)
    return frame.rolling(days, min_periods=1, center=True).mean().to_numpy().T


def daily_throughput(
    results: Sequence[ReplicationResult], path: Path, column: str = "tonnes_dispatched"
) -> Path:
    """Daily tonnes dispatched, 7-day moving average, mean over replications with its
    confidence band; one line per scenario."""
    plt = _plt()
    fig, ax = plt.subplots()
    if results:
        _shade_warmup(ax, results[0].warmup_days if math.isfinite(results[0].warmup_days) else 0)
    targets: list[float] = []
    for i, rr in enumerate(results):
        mat = _rolling(_daily_matrix(rr, column), SMOOTH_DAYS)
        if mat.size == 0:
            continue
        days = np.arange(mat.shape[1]) + 0.5
        mean = mat.mean(axis=0)
        n = mat.shape[0]
        label = f"{rr.name} ({n} rep{'s' if n != 1 else ''})"
        ax.plot(days, mean, label=label, **_line(i))
        if n >= 2:
            half = student_t(0.5 + rr.ci / 2, n - 1) * mat.std(axis=0, ddof=1) / math.sqrt(n)
            ax.fill_between(days, mean - half, mean + half, color=_color(i), alpha=0.12, lw=0)
        target = rr.config.get("demand", {}).get("tonnes_per_day") if rr.config else None
        if isinstance(target, int | float) and float(target) not in targets:
            targets.append(float(target))
            ax.axhline(
                target,
                color="0.35",
                ls=":",
                lw=1,
                label=f"demand {target:,.0f} t/day (yearly mean)",
            )
    ax.set(
        title=f"Hub throughput ({SMOOTH_DAYS}-day centred moving average)",
        xlabel="day",
        ylabel="tonnes dispatched per day",
    )
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def door_to_door_ecdf(results: Sequence[ReplicationResult], path: Path) -> Path:
    """Empirical CDF of door-to-door times (boxes released after the warm-up, pooled over
    replications), one curve per scenario, medians marked."""
    plt = _plt()
    fig, ax = plt.subplots()
    probs = np.linspace(0, 1, 401)
    for i, rr in enumerate(results):
        pooled = np.concatenate([r.door_to_door_d for r in rr.reps]) if rr.reps else np.empty(0)
        pooled = pooled[np.isfinite(pooled)]
        if pooled.size == 0:
            continue
        q = np.quantile(pooled, probs)
        ax.step(
            q, probs, where="post", color=_color(i), lw=1.8, label=f"{rr.name} (n={pooled.size:,})"
        )
        med = float(np.median(pooled))
        ax.plot([med], [0.5], "o", color=_color(i), ms=5)
    ax.axhline(0.5, color="0.5", lw=0.8, ls="--")
    ax.set(
        title="Door to door: hub gate to release at the terminal",
        xlabel="days",
        ylabel="share of boxes delivered within",
    )
    ax.set_ylim(0, 1.01)
    ax.set_xlim(left=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def _border_nodes(results: Sequence[ReplicationResult]) -> list[str]:
    nodes: list[str] = []
    for rr in results:
        for metric in rr.summary["metric"]:
            if metric.startswith("border_wait_h_mean:"):
                node = metric.split(":", 1)[1]
                if node not in nodes:
                    nodes.append(node)
    return nodes


def border_waits(results: Sequence[ReplicationResult], path: Path) -> Path:
    """Mean wait of a train at each border crossing, scenarios side by side, with CIs."""
    plt = _plt()
    fig, ax = plt.subplots()
    nodes = _border_nodes(results)
    k = max(len(results), 1)
    width = 0.8 / k
    x = np.arange(len(nodes))
    for i, rr in enumerate(results):
        means, lows, highs = [], [], []
        for node in nodes:
            mean, low, high = _stat(rr, f"border_wait_h_mean:{node}")
            lo, hi = _yerr(mean, low, high)
            means.append(mean if math.isfinite(mean) else 0.0)
            lows.append(lo)
            highs.append(hi)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, means, width=width * 0.95, color=_color(i), alpha=0.85, label=rr.name)
        ax.errorbar(pos, means, yerr=[lows, highs], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_xticks(x)
    ax.set_xticklabels(nodes)
    level = f"{results[0].ci:.0%}" if results else ""
    ax.set(
        title=f"Border waits (all trains, mean with {level} CI)",
        ylabel="hours from arrival to start of processing",
    )
    if nodes:
        ax.legend(fontsize=8)
    return _save(fig, path)


def warmup_plot(rr: ReplicationResult, path: Path) -> Path:
    """Welch's method: each daily series averaged over replications, its moving average,
    the configured warm-up (shaded) and the suggested one (dashed)."""
    plt = _plt()
    panels = [s for s in rr.warmup if s.mean_series.size]
    fig, axes = plt.subplots(
        max(len(panels), 1), 1, figsize=(9, 2.6 * max(len(panels), 1) + 0.6), squeeze=False
    )
    for ax, s in zip(axes[:, 0], panels, strict=False):
        _shade_warmup(ax, rr.warmup_days if math.isfinite(rr.warmup_days) else 0)
        days = np.arange(s.mean_series.size)
        ax.plot(days, s.mean_series, color="0.6", lw=0.8, label=f"mean of {s.reps} rep(s)")
        if s.smoothed.size:
            ax.plot(
                np.arange(s.smoothed.size),
                s.smoothed,
                color=COLORS[0],
                lw=2,
                label=f"Welch moving average (w={s.window} d)",
            )
        if math.isfinite(s.level):
            ax.axhspan(s.level - s.band, s.level + s.band, color=COLORS[2], alpha=0.12, lw=0)
        if s.days is not None:
            ax.axvline(s.days, color=COLORS[1], ls="--", lw=1.5, label=f"suggested: {s.days} d")
        ax.set_ylabel(s.column.replace("_", " "))
        ax.legend(loc="lower right", fontsize=8)
    axes[-1, 0].set_xlabel("day")
    fig.suptitle("Warm-up check (Welch's method)")
    return _save(fig, path)


def replication_plots(rr: ReplicationResult, folder: Path) -> list[Path]:
    """The plots of one scenario's replications."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [
        daily_throughput([rr], folder / "throughput_reps.png"),
        door_to_door_ecdf([rr], folder / "door_to_door_ecdf.png"),
        border_waits([rr], folder / "border_waits.png"),
    ]
    if any(s.mean_series.size for s in rr.warmup):
        out.append(warmup_plot(rr, folder / "warmup.png"))
    return out


def comparison_plots(
    results: Sequence[ReplicationResult], folder: Path, table: pd.DataFrame | None = None
) -> list[Path]:
    """The plots of a comparison: the differences from the base (``table``: the comparison
    table, ``comparison.csv``; computed from ``results`` when not given), each
    replication's values, and the scenarios overlaid or side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    ci = results[0].ci if results else 0.95
    if table is None:
        table = paired_table(results, ci)
    return [
        differences(table, folder / "differences.png", ci),
        per_replication(results, folder / "per_replication.png"),
        daily_throughput(results, folder / "throughput.png"),
        door_to_door_ecdf(results, folder / "door_to_door_ecdf.png"),
        border_waits(results, folder / "border_waits.png"),
    ]
