"""``silkroute compare``: scenarios over common random numbers, or finished runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from silkroute_sim.analysis.kpis import KPI, headline
from silkroute_sim.cli.common import (
    build_notice,
    command_executor,
    echo_warnings,
    fail,
    progress_bar,
)
from silkroute_sim.cli.options import config_options, force_option, replication_options

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.outputs.comparison_folder import Comparison


def print_comparison(comparison: Comparison) -> None:
    """Headline KPIs under column headers: the base's mean, then per scenario its
    difference from the base ± the half-width of its interval, * if significant;
    fractions' differences in percentage points (pp)."""
    table = comparison.table
    names = comparison.names
    click.echo(
        f"{' vs '.join(names)}: {len(comparison.base.reps)} replications each, "
        f"{comparison.ci:.0%} CI, differences vs {names[0]}"
        + (" (paired, common random numbers)" if _all_paired(table) else "")
    )
    header = ["KPI", f"{names[0]} (mean)"] + [f"{n} − {names[0]}" for n in names[1:]]
    rows = [header]
    for kpi in headline():
        sel = table[table["metric"] == kpi.name]
        if sel.empty:
            continue
        cells = [kpi.label, kpi.text(_float(sel.iloc[0]["mean"]))]
        for _, row in sel.iloc[1:].iterrows():
            cells.append(
                difference_cell(
                    kpi,
                    float(row["diff"]),
                    float(row["diff_ci_low"]),
                    float(row["diff_ci_high"]),
                    row["significant"] is True,
                )
            )
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(header))]
    for j, cells in enumerate(rows):
        line = "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)
        )
        click.echo("  " + line.rstrip())
        if j == 0:
            click.echo("  " + "  ".join("-" * w for w in widths))
    click.echo(
        f"  (± half-width of the {comparison.ci:.0%} interval; * significant: the interval "
        "excludes 0; pp: percentage points)"
    )


def difference_cell(kpi: KPI, diff: float, low: float, high: float, significant: bool) -> str:
    """``-1.95 h ± 0.42 h *``; a fraction's difference in percentage points:
    ``-17.4 pp ± 0.31 pp``."""
    if math.isnan(diff):
        return "—"
    half = (high - low) / 2 if math.isfinite(low) and math.isfinite(high) else math.nan
    if kpi.unit == "fraction":
        pp, half_pp = _noise_free(diff * 100), _noise_free(half * 100)
        decimals = max(_decimals_for(half_pp), 0) if half_pp > 0 else 0
        if not (half_pp > 0) and pp != 0:
            decimals = max(_decimals_for(pp), 0)
        text = f"{pp:+.{decimals}f} pp" if pp != 0 else f"{0:.{decimals}f} pp"
        spread = f"{half_pp:.{decimals}f} pp" if math.isfinite(half_pp) else ""
    else:
        text, spread = kpi.interval_texts(diff, half)  # enough digits to show both
    if spread:
        text += f" ± {spread}"
    return text + (" *" if significant else "")


def _noise_free(value: float) -> float:
    """0 for a rounding residue (|value| < 1e-9 percentage points), else ``value``."""
    return 0.0 if math.isfinite(value) and abs(value) < 1e-9 else value


def _decimals_for(value: float) -> int:
    """Decimals that show two significant digits of ``value`` (0 to 12)."""
    if not math.isfinite(value) or value == 0:
        return 0
    return min(1 - math.floor(math.log10(abs(value))), 12)


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _all_paired(table: pd.DataFrame) -> bool:
    methods = set(table["method"].dropna()) - {""}
    return methods <= {"paired"}


def _default_out(names: list[str]) -> Path:
    text = "compare-" + "-vs-".join(names)
    if len(text) > 100:
        text = f"compare-{names[0]}-vs-{len(names) - 1}-scenarios"
    return Path("results") / text


@click.command("compare")
@click.argument("inputs", nargs=-1, required=True, metavar="BASE OTHER…")
@config_options
@replication_options(
    "Replications per scenario, over seeds SEED … SEED+N-1 shared by all scenarios (default: 5)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Result folder (default: results/compare-<base>-vs-<other>…).",
)
@click.option("--no-plots", is_flag=True, help="Skip the plots and report.html.")
@click.option(
    "--keep-runs",
    is_flag=True,
    help="Also keep every run's folder under OUT/runs/<scenario>/rep-<seed>/.",
)
@force_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
def compare(
    inputs: tuple[str, ...],
    overrides: tuple[str, ...],
    seed: int | None,
    warmup_days: float | None,
    days: float | None,
    reps: int | None,
    workers: int,
    ci: float,
    out: Path | None,
    no_plots: bool,
    keep_runs: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Compare scenarios with common random numbers.

    \b
    silkroute compare BASE.yaml OTHER.yaml … --reps N --out DIR
        runs every scenario over the same seeds, so each sees the same demand and
        background trains, and compares KPIs with paired confidence intervals;
    silkroute compare RESULT_DIR RESULT_DIR …
        compares finished runs (folders of 'silkroute run', with or without --reps).

    The first scenario is the base. DIR gets comparison.csv (per scenario and KPI: mean,
    CI, difference vs the base with its CI and whether it is significant),
    replications.csv, manifest.json, plots/ and report.html.
    """
    if len(inputs) < 2:
        fail("compare needs at least two scenarios (BASE OTHER …)")
    dirs = [Path(p).is_dir() for p in inputs]
    if any(dirs) and not all(dirs):
        bad = next(p for p, d in zip(inputs, dirs, strict=True) if not d)
        fail(
            f"{bad}: mix of result folders and config files; compare either finished result "
            "folders or scenario configs"
        )
    if all(dirs):
        given = [
            name
            for name, value in (
                ("--reps", reps),
                ("--seed", seed),
                ("--days", days),
                ("--warmup-days", warmup_days),
                ("--set", overrides or None),
                ("--keep-runs", keep_runs or None),
            )
            if value is not None
        ]
        if given:
            fail(f"{', '.join(given)}: only for configs; finished runs are compared as they are")
        _compare_folders([Path(p) for p in inputs], ci, out, not no_plots, force, quiet)
        return
    from silkroute_sim.config.loader import load_config

    configs = [
        load_config(p, overrides, days=days, warmup_days=warmup_days, seed=seed) for p in inputs
    ]
    _compare_configs(
        configs,
        5 if reps is None else reps,
        workers,
        ci,
        out,
        not no_plots,
        keep_runs,
        force,
        quiet,
    )


def _compare_configs(
    configs: list[ScenarioConfig],
    reps: int,
    workers: int,
    ci: float,
    out: Path | None,
    plots: bool,
    keep_runs: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Run the scenarios over common seeds on one executor and write the comparison."""
    from silkroute_sim.experiments.compare import write_comparison
    from silkroute_sim.outputs.storage import check_output_target

    target = out if out is not None else _default_out([c.name for c in configs])
    check_output_target(target, force, "comparison")
    build_notice(quiet)
    total_days = sum(c.simulation.days for c in configs)
    bar = progress_bar(not quiet, reps * total_days, f"compare ×{reps}")

    def tick(done: int, _total: int) -> None:
        if bar is not None:
            bar.n = done / len(configs) * total_days
            bar.refresh()

    try:
        with command_executor(workers, reps * len(configs)) as executor:
            folder, comparison = write_comparison(
                configs,
                target,
                reps,
                ci=ci,
                plots=plots,
                keep_runs=keep_runs,
                force=force,
                progress=tick if bar is not None else None,
                executor=executor,
            )
    finally:
        if bar is not None:
            bar.close()
    echo_warnings(
        comparison.warnings
        + [f"{rr.name}: {w}" for rr in comparison.scenarios for w in rr.warnings]
    )
    if not quiet:
        print_comparison(comparison)
        click.echo(f"results: {folder}")


def _compare_folders(
    folders: list[Path], ci: float, out: Path | None, plots: bool, force: bool, quiet: bool
) -> None:
    from silkroute_sim.experiments.compare import compare_results
    from silkroute_sim.outputs.comparison_folder import write_comparison_of_results
    from silkroute_sim.outputs.replications_folder import load_replications
    from silkroute_sim.outputs.storage import check_output_target

    results = [load_replications(f, ci) for f in folders]
    comparison = compare_results(results, ci)
    target = out if out is not None else _default_out(comparison.names)
    if any(target.resolve() == f.resolve() for f in folders):
        fail(f"{target}: --out must not be one of the folders being compared")
    check_output_target(target, force, "comparison")
    folder = write_comparison_of_results(comparison, target, plots=plots, force=force)
    echo_warnings(comparison.warnings)
    if not quiet:
        print_comparison(comparison)
        click.echo(f"results: {folder}")
