"""The ``report.html`` of a finished result folder, built from its files alone.

:func:`folder_report` reads a run, replication, comparison or sweep folder
(``summary.csv`` or ``comparison.csv``, ``manifest.json``, ``plots/*.png``) and writes its
page with :func:`silkroute_sim.outputs.report.write_report`; ``silkroute report`` calls it
for a folder written earlier, and every writer of a folder calls it last.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.analysis.kpis import COMPARED, COMPARED_PER_NODE, HEADLINE, label
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.inplace import check_page_target, claim
from silkroute_sim.outputs.report import (
    REPORT_NAME,
    ci_text,
    difference_text,
    kpi_text,
    ordered_plots,
    render_table,
    write_report,
)
from silkroute_sim.outputs.storage import atomic_write_text
from silkroute_sim.outputs.sweep_report import write_sweep_report


def _manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest (empty for a folder written without one); a damaged one
    refuses the report, naming it, rather than a page without what it says."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise SilkrouteError(
            f"{path}: cannot read it ({reason}); the result is damaged: run it again"
        ) from None
    if not isinstance(data, dict):
        raise SilkrouteError(f"{path}: not a manifest (a JSON object); run the result again")
    return data


def _report_kind(folder: Path, manifest: Mapping[str, Any]) -> str:
    kind = manifest.get("kind")
    if isinstance(kind, str) and kind:
        return kind
    if (folder / "comparison.csv").is_file():
        return "comparison"
    return "run"


def folder_report(folder: Path, out: Path | None = None) -> Path:
    """Build ``report.html`` for a run, replication, comparison or sweep folder from its files
    (``summary.csv`` or ``comparison.csv``, ``manifest.json``, ``plots/*.png``)."""
    folder = Path(folder)
    if out is not None:
        check_page_target(folder, Path(out))
    manifest = _manifest(folder)
    kind = _report_kind(folder, manifest)
    out = Path(out) if out is not None else folder / REPORT_NAME
    images = ordered_plots(folder / "plots")
    try:
        if kind == "comparison":
            return _comparison_report(folder, manifest, images, out)
        if kind == "replications":
            return _replications_report(folder, manifest, images, out)
        if kind == "run":
            return _run_report(folder, manifest, images, out)
        if kind == "sweep":
            written = write_sweep_report(folder)
            if written is not None and written.resolve() != out.resolve():
                page = written.read_text(encoding="utf-8")
                atomic_write_text(claim(out.parent, out.name), page)
            return out
    except (OSError, ValueError, KeyError) as exc:
        raise SilkrouteError(f"{folder}: cannot build the report ({exc})") from None
    raise SilkrouteError(f"{folder}: no report for a {kind!r} folder yet")


def _description(manifest: Mapping[str, Any]) -> str:
    config = manifest.get("config")
    if isinstance(config, dict) and config.get("description"):
        return str(config["description"])
    return str(manifest.get("description", ""))


def _common_meta(manifest: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    days = manifest.get("simulated_days")
    warm = manifest.get("warmup_days")
    if days is not None:
        meta["simulated days"] = f"{float(days):g} (of which {float(warm or 0):g} warm-up)"
    if manifest.get("config_hash"):
        meta["config hash"] = manifest["config_hash"]
    return meta


def _all_table(table: pd.DataFrame, what: str) -> str:
    """Every row of a folder's table, folded under a summary line (the headline table
    above it holds the few a reader looks for first)."""
    return (
        f'<details id="all-indicators"><summary>All {len(table)} {what}</summary>'
        f"{render_table(table, 'full')}</details>"
    )


def _headline_first(metrics: Sequence[str]) -> list[str]:
    """The headline KPIs present in ``metrics``, in the catalogue's order."""
    present = set(metrics)
    return [m for m in HEADLINE if m in present]


def _run_report(folder: Path, manifest: Mapping[str, Any], images: list[Path], out: Path) -> Path:
    summary = pd.read_csv(folder / "summary.csv")
    units = summary["unit"].fillna("").astype(str)
    table = pd.DataFrame(
        {
            "indicator": [label(m) for m in summary["metric"]],
            "value": [
                kpi_text(m, v, u)
                for m, v, u in zip(summary["metric"], summary["value"], units, strict=True)
            ],
            "metric": summary["metric"],
        }
    )
    key = table.set_index("metric").loc[_headline_first(list(summary["metric"]))].reset_index()
    name = manifest.get("name", folder.name)
    meta = {"scenario": name, "seed": manifest.get("seed"), **_common_meta(manifest)}
    if manifest.get("events") is not None:
        meta["events processed"] = manifest.get("events")
    return write_report(
        out,
        f"{name}: simulation run",
        _description(manifest),
        key[["indicator", "value", "metric"]],
        images,
        meta=meta,
        warnings=list(manifest.get("warnings", [])),
        table_title="Key indicators",
        table_note="One run, one seed: no confidence intervals (run with --reps for them). "
        "metric: the name in summary.csv.",
        after_table=_all_table(table, "indicators (summary.csv)"),
    )


def _replications_report(
    folder: Path, manifest: Mapping[str, Any], images: list[Path], out: Path
) -> Path:
    summary = pd.read_csv(folder / "summary.csv")
    level = float(manifest.get("ci", 0.95))
    units = summary["unit"].fillna("").astype(str)
    table = pd.DataFrame(
        {
            "indicator": [label(m) for m in summary["metric"]],
            f"mean ({level:.0%} CI)": [
                ci_text(m, mean, lo, hi, u)
                for m, mean, lo, hi, u in zip(
                    summary["metric"],
                    summary["mean"],
                    summary["ci_low"],
                    summary["ci_high"],
                    units,
                    strict=True,
                )
            ],
            "n": summary["n"],
            "metric": summary["metric"],
        }
    )
    key = table.set_index("metric").loc[_headline_first(list(summary["metric"]))].reset_index()
    key = key[list(table.columns)]
    seeds = list(manifest.get("seeds", []))
    name = manifest.get("name", folder.name)
    meta: dict[str, Any] = {"scenario": name, "replications": len(seeds)}
    if seeds:
        meta["seeds"] = f"{seeds[0]} … {seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    meta.update(_common_meta(manifest))
    suggested = manifest.get("warmup_suggested_days")
    meta["suggested warm-up (Welch)"] = (
        f"{suggested} days" if suggested is not None else "could not tell (run too short?)"
    )
    links = [
        f'<li><a href="rep-{int(s)}/{REPORT_NAME}">seed {int(s)}</a></li>'
        for s in seeds
        if (folder / f"rep-{int(s)}" / REPORT_NAME).is_file()
    ]
    extra = (
        '<section id="replications"><h2>Replications</h2>'
        '<p class="note">Each replication is a complete run folder with its own report.</p>'
        f"<ul>{''.join(links)}</ul></section>"
        if links
        else ""
    )
    return write_report(
        out,
        f"{name}: {len(seeds)} replications",
        _description(manifest),
        key,
        images,
        extra,
        meta=meta,
        warnings=list(manifest.get("warnings", [])),
        table_title="Key indicators",
        table_note=f"Mean over replications (its Student-t {level:.0%} confidence interval); "
        "each replication is measured after the warm-up. metric: the name in summary.csv.",
        after_table=_all_table(table, "indicators (summary.csv)"),
    )


def key_metrics(metrics: Sequence[str]) -> list[str]:
    """The metrics shown in a comparison's headline table, in the catalogue's order
    (:data:`~silkroute_sim.analysis.kpis.COMPARED`, then the per-node ones)."""
    chosen = [m for m in COMPARED if m in metrics]
    for base in COMPARED_PER_NODE:
        chosen.extend(m for m in metrics if m.startswith(f"{base}:"))
    return chosen


def comparison_table(comparison: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Headline table of a comparison: one row per key metric, labelled from the KPI
    catalogue; per scenario its mean (CI) and, after the base, the difference (CI) with
    ``*`` when significant; the metric's name last."""
    scenarios = list(dict.fromkeys(comparison["scenario"]))
    metrics = key_metrics(list(dict.fromkeys(comparison["metric"])))
    indexed = comparison.set_index(["scenario", "metric"])
    rows = []
    for metric in metrics:
        row: dict[str, str] = {"indicator": label(metric)}
        for i, scenario in enumerate(scenarios):
            if (scenario, metric) not in indexed.index:
                row[scenario] = "—"
                continue
            r = indexed.loc[(scenario, metric)]
            unit = str(r["unit"]) if isinstance(r["unit"], str) else ""
            row[scenario] = ci_text(metric, r["mean"], r["ci_low"], r["ci_high"], unit)
            if i > 0:
                text = difference_text(metric, r["diff"], r["diff_ci_low"], r["diff_ci_high"])
                sig = r["significant"]
                if isinstance(sig, str):
                    sig = sig.strip().lower() == "true"
                row[f"Δ {scenario}"] = text + (" *" if sig is True else "")
        row["metric"] = metric
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison_report(
    folder: Path, manifest: Mapping[str, Any], images: list[Path], out: Path
) -> Path:
    comparison = pd.read_csv(folder / "comparison.csv")
    level = float(manifest.get("ci", 0.95))
    scenarios = manifest.get("scenarios") or [
        {"name": n} for n in dict.fromkeys(comparison["scenario"])
    ]
    names = [str(s.get("name")) for s in scenarios]
    base = names[0] if names else ""
    seeds = list(scenarios[0].get("seeds", [])) if scenarios else []
    paired = bool(manifest.get("paired", True))
    description = (
        f"{len(names)} scenarios compared over {len(seeds)} replications each"
        + (f" (seeds {seeds[0]} … {seeds[-1]})" if len(seeds) > 1 else "")
        + ". "
        + (
            "Every scenario ran with the same seeds, so replication k of each saw the same "
            "demand and background trains (common random numbers); each difference from "
            f"'{base}' is the mean of the per-seed differences with its paired Student-t "
            "interval."
            if paired
            else "Some scenarios do not share seeds: their differences use Welch's unpaired "
            "interval."
        )
    )
    items = "".join(
        f"<dt>{html.escape(str(s.get('name')))}</dt>"
        f"<dd>{html.escape(' '.join(str(s.get('description') or '(no description)').split()))}"
        "</dd>"
        for s in scenarios
    )
    full = comparison.copy()
    full["significant"] = full["significant"].map(
        lambda v: "" if pd.isna(v) else ("yes" if str(v).lower() == "true" else "no")
    )
    full["unit"] = full["unit"].fillna("")
    full["method"] = full["method"].fillna("")
    full.insert(1, "indicator", [label(m) for m in full["metric"]])
    extra = (
        f'<section id="scenarios"><h2>Scenarios</h2><dl>{items}</dl></section>'
        '<section id="full-table"><details><summary>All metrics (comparison.csv)</summary>'
        f"{render_table(full, 'full')}</details></section>"
    )
    meta: dict[str, Any] = {
        "base scenario": base,
        "replications": len(seeds),
        "confidence level": f"{level:.0%}",
    }
    first = scenarios[0] if scenarios else {}
    if first.get("simulated_days") is not None:
        meta["simulated days"] = (
            f"{float(first['simulated_days']):g} "
            f"(of which {float(first.get('warmup_days') or 0):g} warm-up)"
        )
    return write_report(
        out,
        "Comparison: " + " vs ".join(names),
        description,
        comparison_table(comparison, level),
        images,
        extra,
        meta=meta,
        warnings=list(manifest.get("warnings", [])),
        table_title="Key indicators",
        table_note=f"Mean ({level:.0%} CI) per scenario; Δ: difference from '{base}' (its "
        "CI), fractions in percentage points (pp); * the difference is significant (its "
        "interval excludes 0).",
    )
