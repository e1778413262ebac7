"""CLI: ``silkroute compare`` and ``silkroute report``, and the ``run --reps`` path.

Heavy imports (pandas, matplotlib, scipy) stay inside the functions so that
``silkroute --help`` stays fast.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from silkroute_sim.cli.options import replication_options

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.experiments.compare import Comparison

MAX_WARNINGS_SHOWN = 6


def _fail(message: str) -> NoReturn:
    from silkroute_sim.cli.main import fail

    fail(message)
    raise SystemExit(2)  # fail() exits; this line only tells the type checker


def _workers(workers: int) -> int:
    return workers if workers > 0 else max(os.cpu_count() or 1, 1)


def _bar(quiet: bool, reps: int, days: float, desc: str) -> tuple[Any, Any]:
    """A progress bar in simulated days, advanced as whole replications finish."""
    from silkroute_sim.cli.main import _progress

    bar = _progress(not quiet, reps * days, desc)

    def tick(done: int, total: int) -> None:
        if bar is not None:
            bar.n = done * days
            bar.refresh()

    return bar, (tick if bar is not None else None)


def _echo_warnings(warnings: list[str]) -> None:
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {warning}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(
            f"warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more (see manifest.json)",
            err=True,
        )


def print_kpis_ci(summary: pd.DataFrame, title: str) -> None:
    """The run's KPI table with the half-width of each confidence interval."""
    from silkroute_sim.cli.main import KPI_ROWS

    click.echo(title)
    rows = summary.set_index("metric")
    width = max(len(label) for _, label, _ in KPI_ROWS)
    for key, label, fmt in KPI_ROWS:
        if key not in rows.index:
            continue
        mean, low, high = (float(rows.loc[key, c]) for c in ("mean", "ci_low", "ci_high"))
        if math.isnan(mean):
            text = "—"
        else:
            text = fmt.format(mean)
            if math.isfinite(low) and math.isfinite(high):
                text += f"  ± {fmt.format((high - low) / 2)}"
        click.echo(f"  {label:<{width}}  {text}")


def run_replications_command(
    cfg: ScenarioConfig,
    target: Path,
    reps: int,
    workers: int,
    ci: float,
    plots: bool,
    force: bool,
    quiet: bool,
) -> None:
    """``silkroute run CONFIG --reps N``: replications into ``target`` (called by ``run``)."""
    from silkroute_sim.experiments.replications import write_replications

    bar, tick = _bar(quiet, reps, cfg.simulation.days, f"{cfg.name} ×{reps}")
    try:
        folder, rr = write_replications(
            cfg,
            target,
            reps,
            workers=_workers(workers),
            ci=ci,
            plots=plots,
            force=force,
            progress=tick,
        )
    finally:
        if bar is not None:
            bar.close()
    _echo_warnings(rr.warnings)
    if quiet:
        return
    seeds = rr.seeds
    print_kpis_ci(
        rr.summary,
        f"{rr.name}: {reps} replications (seeds {seeds[0]}…{seeds[-1]}), "
        f"{cfg.simulation.days:g} days ({cfg.simulation.warmup_days:g} warm-up), "
        f"{rr.ci:.0%} CI, {rr.wall_s:.1f} s",
    )
    suggested = rr.warmup_suggestion()
    if suggested is not None:
        click.echo(f"  warm-up check (Welch's method): at least {suggested} days suggested")
    click.echo(f"results: {folder}")


def print_comparison(comparison: Comparison) -> None:
    """Headline KPIs: base mean, then per scenario the difference ± half-width, * if
    significant."""
    from silkroute_sim.cli.main import KPI_ROWS

    table = comparison.table
    names = comparison.names
    click.echo(
        f"{' vs '.join(names)}: {len(comparison.base.reps)} replications each, "
        f"{comparison.ci:.0%} CI, differences vs {names[0]}"
        + (" (paired, common random numbers)" if _all_paired(table) else "")
    )
    width = max(len(label) for _, label, _ in KPI_ROWS)
    for key, label, fmt in KPI_ROWS:
        sel = table[table["metric"] == key]
        if sel.empty:
            continue
        base = sel.iloc[0]
        cells = [_fmt(fmt, base["mean"])]
        for _, row in sel.iloc[1:].iterrows():
            diff, low, high = (
                float(row["diff"]),
                float(row["diff_ci_low"]),
                float(row["diff_ci_high"]),
            )
            if math.isnan(diff):
                cells.append("—")
                continue
            text = _signed(fmt, diff)
            if math.isfinite(low) and math.isfinite(high):
                text += f" ± {_fmt(fmt, (high - low) / 2)}"
            if row["significant"] is True:
                text += " *"
            cells.append(text)
        click.echo(f"  {label:<{width}}  " + "  |  ".join(cells))
    click.echo("  (* significant: the interval of the difference excludes 0)")


def _signed(fmt: str, value: float) -> str:
    """``+1.2 h``, ``-0.4 h``, ``0.0 h`` (no sign on a value that rounds to zero)."""
    text = _fmt(fmt, abs(value))
    if not any(ch in "123456789" for ch in text):
        return text
    return ("+" if value > 0 else "-") + text


def _all_paired(table: pd.DataFrame) -> bool:
    methods = set(table["method"].dropna()) - {""}
    return methods <= {"paired"}


def _fmt(fmt: str, value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(v) else fmt.format(v)


def _default_out(names: list[str]) -> Path:
    text = "compare-" + "-vs-".join(names)
    if len(text) > 100:
        text = f"compare-{names[0]}-vs-{len(names) - 1}-scenarios"
    return Path("results") / text


def register(group: click.Group) -> None:
    """Add ``compare`` and ``report`` to the ``silkroute`` group."""
    from silkroute_sim.cli.main import _config_options

    group.add_command(_config_options(compare_command))
    group.add_command(report)


@click.command("compare")
@click.argument("inputs", nargs=-1, required=True, metavar="BASE OTHER…")
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
@click.option(
    "--force",
    is_flag=True,
    help="Write into an existing --out folder that silkroute did not create.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
def compare_command(
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
    from silkroute_sim.outputs.storage import check_output_target

    if len(inputs) < 2:
        _fail("compare needs at least two scenarios (BASE OTHER …)")
    dirs = [Path(p).is_dir() for p in inputs]
    if any(dirs) and not all(dirs):
        bad = next(p for p, d in zip(inputs, dirs, strict=True) if not d)
        _fail(
            f"{bad}: mix of result folders and config files; compare either finished result "
            "folders or scenario configs"
        )
    plots = not no_plots
    if all(dirs):
        given = [
            name
            for name, value in (
                ("--reps", reps),
                ("--seed", seed),
                ("--days", days),
                ("--warmup-days", warmup_days),
            )
            if value is not None
        ]
        if overrides:
            given.append("--set")
        if keep_runs:
            given.append("--keep-runs")
        if given:
            _fail(f"{', '.join(given)}: only for configs; finished runs are compared as they are")
        _compare_folders([Path(p) for p in inputs], ci, out, plots, force, quiet)
        return

    from silkroute_sim.config.loader import load_config

    configs = [
        load_config(p, overrides, days=days, warmup_days=warmup_days, seed=seed) for p in inputs
    ]
    n_reps = 5 if reps is None else reps
    target = out if out is not None else _default_out([c.name for c in configs])
    check_output_target(target, force)
    from silkroute_sim.cli.main import build_notice
    from silkroute_sim.experiments.compare import write_comparison

    build_notice(quiet)
    total_days = sum(c.simulation.days for c in configs)
    bar, tick = _bar(quiet, n_reps, total_days, f"compare ×{n_reps}")
    try:
        folder, comparison = write_comparison(
            configs,
            target,
            n_reps,
            workers=_workers(workers),
            ci=ci,
            plots=plots,
            keep_runs=keep_runs,
            force=force,
            progress=(lambda done, total: tick(done / len(configs), total)) if tick else None,
        )
    finally:
        if bar is not None:
            bar.close()
    _echo_warnings(
        comparison.warnings
        + [f"{rr.name}: {w}" for rr in comparison.scenarios for w in rr.warnings]
    )
    if not quiet:
        print_comparison(comparison)
        click.echo(f"results: {folder}")


def _compare_folders(
    folders: list[Path], ci: float, out: Path | None, plots: bool, force: bool, quiet: bool
) -> None:
    from silkroute_sim.experiments.compare import compare_results, write_comparison_of_results
    from silkroute_sim.experiments.replications import load_replications
    from silkroute_sim.outputs.storage import check_output_target

    results = [load_replications(f, ci) for f in folders]
    comparison = compare_results(results, ci)
    target = out if out is not None else _default_out(comparison.names)
    if any(target.resolve() == f.resolve() for f in folders):
        _fail(f"{target}: --out must not be one of the folders being compared")
    check_output_target(target, force)
    folder = write_comparison_of_results(comparison, target, plots=plots, force=force)
    _echo_warnings(comparison.warnings)
    if not quiet:
        print_comparison(comparison)
        click.echo(f"results: {folder}")


@click.command("report")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the page (default: FOLDER/report.html).",
)
def report(folder: Path, out: Path | None) -> None:
    """Write report.html for a finished run, replication or comparison folder.

    One self-contained page (plots embedded): the scenario description, the KPI table
    (with confidence intervals where there are replications) and every plot in
    FOLDER/plots. It opens in any browser with no server and no network.
    """
    from silkroute_sim.experiments.replications import folder_kind
    from silkroute_sim.outputs.report import folder_report

    if not folder.is_dir():
        _fail(f"{folder}: no such folder")
    if folder_kind(folder) is None:
        _fail(f"{folder}: not a complete silkroute result folder")
    path = folder_report(folder, out)
    click.echo(f"report: {path}")
