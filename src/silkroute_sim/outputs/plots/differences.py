"""What a comparison shows: differences, not two bars side by side.

:func:`differences` draws the forest plot of a comparison: per KPI the difference of each
scenario from the base with its confidence interval (paired over common random numbers
where the scenarios share seeds) and a line at zero, so 9.1 against 9.0 days that the
pairing says differ reads as a difference. :func:`per_replication` shows each seed's
value per scenario, the same seed joined across scenarios. Imported lazily (matplotlib).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.kpis import KPI, base_name, lookup
from silkroute_sim.analysis.kpis import label as kpi_label
from silkroute_sim.analysis.stats import mean_ci, welch_diff_ci
from silkroute_sim.outputs.plots.style import (
    BETTER,
    BLACK,
    NOT_SIGNIFICANT,
    WORSE,
    color,
    pyplot,
    save,
)
from silkroute_sim.outputs.replication_result import ReplicationResult
from silkroute_sim.outputs.report import difference_text

#: the groups of the forest plot's rows, in order, by the KPI's base name (the demand is
#: left out: an input, the same in every scenario on common random numbers)
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Throughput",
        (
            "dispatched_t_per_day",
            "delivered_t_per_day",
            "trains_dispatched_per_day",
            "train_load_factor_mean",
        ),
    ),
    (
        "Hub",
        (
            "hub_dwell_h_mean",
            "hub_dwell_h_p95",
            "yard_teu_mean",
            "crane_utilisation",
            "loading_tracks_busy_mean",
            "backlog_t_end",
        ),
    ),
    ("Door to door", ("door_to_door_d_median", "door_to_door_d_p90")),
    ("Borders", ("border_wait_h_mean",)),
    (
        "Cost and CO2e",
        (
            "logistics_cost_usd_per_year",
            "inventory_cost_usd_per_year",
            "co2_t_per_year",
        ),
    ),
    ("Disruptions", ("stranded_trains_max", "recovery_h_max", "backlog_t_max")),
)

#: the KPIs whose per-node rows (``<base>:<node>``) the forest plot shows; of the others it
#: shows the overall row only (per destination or cargo class they are in comparison.csv)
PER_NODE = ("border_wait_h_mean",)

VERDICT_COLORS = {
    "better": BETTER,
    "worse": WORSE,
    "changed": BLACK,
    "not significant": NOT_SIGNIFICANT,
}


def forest_rows(table: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """The rows of the forest plot of ``scenario`` against the base (the table's first
    scenario), from a comparison table (``comparison.csv``, as
    :func:`silkroute_sim.experiments.compare.comparison_frame` makes it).

    Columns: ``group, metric, label, base, diff, diff_ci_low, diff_ci_high, rel, rel_low,
    rel_high, verdict``, in :data:`GROUPS` order; ``diff*`` are the table's numbers,
    ``rel*`` the same in per cent of the base's mean (NaN where that mean is 0);
    ``verdict`` is ``better``, ``worse``, ``changed`` (significant, no better direction)
    or ``not significant`` (the interval holds 0, or there is none)."""
    names = list(dict.fromkeys(table["scenario"]))
    base = table[table["scenario"] == names[0]].set_index("metric")
    mine = table[table["scenario"] == scenario].set_index("metric")
    rows = []
    for rank, (group, members) in enumerate(GROUPS):
        for metric in mine.index:
            if base_name(metric) not in members or (
                ":" in metric and base_name(metric) not in PER_NODE
            ):
                continue
            r = mine.loc[metric]
            ref = float(base.loc[metric, "mean"]) if metric in base.index else math.nan
            diff, low, high = (float(r["diff"]), float(r["diff_ci_low"]), float(r["diff_ci_high"]))
            if ref == 0 and diff == 0 and not high > low:
                continue  # nothing there in either scenario (a crossing no train uses)
            scale = 100 / abs(ref) if math.isfinite(ref) and ref != 0 else math.nan
            rows.append(
                {
                    "rank": (rank, members.index(base_name(metric))),
                    "group": group,
                    "metric": metric,
                    "label": kpi_label(metric),
                    "base": ref,
                    "diff": diff,
                    "diff_ci_low": low,
                    "diff_ci_high": high,
                    "rel": diff * scale,
                    "rel_low": low * scale,
                    "rel_high": high * scale,
                    "verdict": verdict(lookup(metric), low, high),
                }
            )
    rows.sort(key=lambda r: r["rank"])  # stable: per-node rows keep the table's order
    frame = pd.DataFrame(rows)
    return frame.drop(columns=["rank"]) if not frame.empty else frame


def verdict(kpi: KPI | None, low: float, high: float) -> str:
    """``better``, ``worse``, ``changed`` or ``not significant`` for a difference whose
    interval is [low, high], by the catalogue's ``better`` direction."""
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return "not significant"
    direction = None if kpi is None else kpi.better
    if direction == "higher":
        return "better" if low > 0 else "worse"
    if direction == "lower":
        return "better" if high < 0 else "worse"
    return "changed"


def differences(
    table: pd.DataFrame, path: Path, ci: float = 0.95, paired: bool | None = None
) -> Path:
    """The forest plot of a comparison: per KPI (rows grouped and labelled from the KPI
    catalogue) the difference of a scenario from the base with its confidence interval,
    in per cent of the base's mean, and a line at zero; coloured better / worse / not
    significant by the catalogue's direction; the difference in the KPI's own unit written
    beside its row. One panel per scenario after the base, one under the other."""
    plt = pyplot()
    names = list(dict.fromkeys(table["scenario"]))
    others = names[1:]
    frames = [forest_rows(table, s) for s in others]
    n_rows = max((len(f) + f["group"].nunique() for f in frames if not f.empty), default=1)
    panels = max(len(others), 1)
    height = 0.9 + (0.6 + 0.3 * n_rows) * panels
    fig, axes = plt.subplots(panels, 1, figsize=(8.6, height), squeeze=False)
    if paired is None:
        paired = set(table["method"].dropna()) - {""} <= {"paired"}
    for ax, scenario, rows in zip(axes[:, 0], others, frames, strict=False):
        _forest_panel(ax, rows, f"{scenario} − {names[0] if names else ''}")
    handles = [
        plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLORS.items()
    ]
    how = "paired over common random numbers" if paired else "Welch's unpaired interval"
    fig.suptitle(
        f"Difference from {names[0] if names else 'the base'} with its {ci:.0%} "
        f"confidence interval ({how})",
        fontsize=11,
    )
    fig.legend(
        handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False, borderaxespad=0.2
    )
    return save(fig, path, rect=(0, 0.4 / height, 1, 1 - 0.1 / height))


def _forest_panel(ax: Any, rows: pd.DataFrame, title: str) -> None:
    y, labels, ticks = 0, [], []
    spans: list[float] = []
    groups = list(dict.fromkeys(rows["group"])) if not rows.empty else []
    for group in groups:
        ticks.append(y)
        labels.append(group)
        y -= 1
        for r in rows[rows["group"] == group].itertuples(index=False):
            shade = VERDICT_COLORS[str(r.verdict)]
            if math.isfinite(r.rel):
                if math.isfinite(r.rel_low) and math.isfinite(r.rel_high):
                    ax.plot([r.rel_low, r.rel_high], [y, y], color=shade, lw=2.4)
                    spans += [r.rel_low, r.rel_high]
                ax.plot([r.rel], [y], "o", color=shade, ms=6, zorder=3)
                spans.append(r.rel)
            text = difference_text(str(r.metric), r.diff, r.diff_ci_low, r.diff_ci_high)
            if not math.isfinite(r.rel) and text != "—":
                text += " (base is 0)"
            ax.annotate(
                text,
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color="0.3" if shade == NOT_SIGNIFICANT else shade,
            )
            ticks.append(y)
            labels.append(str(r.label))
            y -= 1
    ax.axvline(0, color="0.15", lw=1)
    ax.set_yticks(ticks, labels, fontsize=8.5)
    for tick, text in zip(ax.get_yticklabels(), labels, strict=True):
        if text in groups:
            tick.set_fontweight("bold")
    ax.set_ylim(y + 0.4, 0.6)
    width = max([abs(v) for v in spans if math.isfinite(v)] + [0.5]) * 1.12
    ax.set_xlim(-width, width)
    ax.set_xlabel("difference, % of the base's mean")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def per_replication(
    results: Sequence[ReplicationResult],
    path: Path,
    metrics: Sequence[str] = ("door_to_door_d_median", "hub_dwell_h_mean", "dispatched_t_per_day"),
) -> Path:
    """Each replication's value of a few KPIs per scenario, the same seed joined by a grey
    line across scenarios: the pairing that makes differences tight shows, and so does the
    spread that a mean hides."""
    plt = pyplot()
    values = [rr.values() for rr in results]
    shown = [m for m in metrics if any(m in v.columns for v in values)]
    fig, axes = plt.subplots(
        1, max(len(shown), 1), figsize=(3.4 * max(len(shown), 1) + 1.2, 4.2), squeeze=False
    )
    x = np.arange(len(results))
    for ax, metric in zip(axes[0], shown, strict=False):
        kpi = lookup(metric)
        scale = kpi.scale if kpi is not None else 1.0
        wide = pd.DataFrame(
            {
                rr.name: v[metric] if metric in v.columns else np.nan
                for rr, v in zip(results, values, strict=True)
            }
        )
        for row in wide.to_numpy(dtype=float):
            ax.plot(x, row * scale, color="0.75", lw=0.8, zorder=1)
        for i, name in enumerate(wide.columns):
            column = wide[name].to_numpy(dtype=float) * scale
            ax.plot(np.full(column.size, i), column, "o", color=color(i), ms=5, zorder=2)
            finite = column[np.isfinite(column)]
            if finite.size:
                ax.plot([i - 0.22, i + 0.22], [finite.mean()] * 2, color="0.1", lw=2, zorder=3)
        ax.set_xticks(x, [rr.name for rr in results], rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.5, len(results) - 0.5)
        ax.set_title(kpi_label(metric), fontsize=10)
        ax.set_ylabel(kpi.axis_unit if kpi is not None else "")
    seeds = len(results[0].reps) if results else 0
    fig.suptitle(
        f"Per replication ({seeds} seeds): grey lines join the same seed, bars mark the mean",
        fontsize=11,
    )
    return save(fig, path)


def paired_table(results: Sequence[ReplicationResult], ci: float = 0.95) -> pd.DataFrame:
    """A comparison table (``scenario, metric, mean, diff, diff_ci_low, diff_ci_high,
    method``) for :func:`differences` when the caller has none: each scenario minus the
    first, paired over the seeds they share (at least 2; Welch's interval otherwise), the
    intervals :func:`silkroute_sim.experiments.compare.comparison_frame` writes."""
    rows: list[dict[str, Any]] = []
    base = results[0].values() if results else pd.DataFrame()
    for i, rr in enumerate(results):
        values = rr.values()
        means = dict(zip(rr.summary["metric"], rr.summary["mean"], strict=False))
        for metric in rr.summary["metric"]:
            diff = low = high = math.nan
            method = ""
            if i > 0 and metric in base.columns:
                common = [s for s in values.index if s in set(base.index)]
                if len(common) >= 2:
                    d = values.loc[common, metric].to_numpy(dtype=float) - base.loc[
                        common, metric
                    ].to_numpy(dtype=float)
                    diff, low, high, _ = mean_ci(d, ci)
                    method = "paired"
                else:
                    diff, low, high, _ = welch_diff_ci(
                        base[metric].to_numpy(), values[metric].to_numpy(), ci
                    )
                    method = "welch"
            rows.append(
                {
                    "scenario": rr.name,
                    "metric": metric,
                    "mean": means[metric],
                    "diff": diff,
                    "diff_ci_low": low,
                    "diff_ci_high": high,
                    "method": method,
                }
            )
    return pd.DataFrame(rows)
