"""``silkroute run``: one scenario, or its replications with ``--reps``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from silkroute_sim.cli.common import (
    OUTPUT_BLOCK_BYTES,
    build_notice,
    command_executor,
    echo_warnings,
    map_large_blocks,
    one_allocator,
    print_kpis,
    print_kpis_ci,
    progress_bar,
)
from silkroute_sim.cli.options import (
    config_options,
    force_option,
    format_option,
    records_option,
    replication_options,
)

if TYPE_CHECKING:
    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.outputs.run_identity import RunIdentity


@click.command()
@click.argument("config", required=False, metavar="[CONFIG]")
@config_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Result folder (default: results/<scenario-name>, or, when that holds another "
    "run, results/<scenario-name>-<days>d-seed<seed>…).",
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (faster).")
@records_option
@format_option
@force_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no KPI table.")
@replication_options(
    "Replications: run seeds SEED … SEED+N-1; each goes to OUT/rep-<seed>/ and "
    "summary.csv gets mean, ci_low, ci_high, n per KPI."
)
def run(
    config: str | None,
    overrides: tuple[str, ...],
    seed: int | None,
    warmup_days: float | None,
    days: float | None,
    out: Path | None,
    no_plots: bool,
    records: str,
    fmt: str,
    force: bool,
    quiet: bool,
    reps: int | None,
    workers: int,
    ci: float,
) -> None:
    """Run one scenario and write its result folder.

    CONFIG is a YAML file or the name of a built-in scenario (default: baseline).
    The folder gets summary.csv, daily.csv, trains, shipments, node_events (CSV or,
    with --format parquet, Parquet, with daily_long beside them), manifest.json,
    plots/*.png and report.html; it appears only when complete. A folder holding another
    run (another config, seed, horizon or --set) is never replaced without --force:
    without --out such a run goes to a folder of its own, and the run says where. With
    --reps N, OUT/rep-<seed>/ holds each replication and OUT the combined summary.csv
    (with confidence intervals), replications.csv, manifest.json and report.html.
    """
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.outputs.run_identity import check_run_target

    cfg = load_config(config, overrides, days=days, warmup_days=warmup_days, seed=seed)
    identity = _identity(cfg, reps)
    target = (
        out if out is not None else _default_target(cfg, identity, force, overrides, warmup_days)
    )
    check_run_target(target, identity, force)  # refuse before spending minutes on the run
    build_notice(quiet)
    one_allocator()
    plots = not no_plots and cfg.outputs.plots
    if reps is None:
        _run_one(cfg, target, plots, force, quiet, records, fmt)
    else:
        _run_replications(cfg, target, reps, workers, ci, plots, force, quiet, records, fmt)


def _identity(cfg: ScenarioConfig, reps: int | None) -> RunIdentity:
    from silkroute_sim.outputs.run_identity import config_identity

    return config_identity(cfg, reps)


def _default_target(
    cfg: ScenarioConfig,
    identity: RunIdentity,
    force: bool,
    overrides: tuple[str, ...],
    warmup_days: float | None,
) -> Path:
    """``results/<name>``, or when that holds another run a folder named after this one;
    says so on stderr when it is not ``results/<name>``."""
    from silkroute_sim.outputs.run_identity import default_folder, folder_identity

    root = Path("results")
    target = default_folder(
        root, identity, force=force, warmup_given=warmup_days is not None, varied=bool(overrides)
    )
    first = root / cfg.name
    if target != first:
        theirs = folder_identity(first)
        what = f"another run ({theirs.describe()})" if theirs is not None else "another result"
        click.echo(f"note: {first} holds {what}; this run goes to {target}", err=True)
    return target


def _run_one(
    cfg: ScenarioConfig,
    target: Path,
    plots: bool,
    force: bool,
    quiet: bool,
    records: str = "full",
    fmt: str = "csv",
) -> None:
    from silkroute_sim.analysis.tables import kpis
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.run_folder import write_run

    bar = progress_bar(not quiet, cfg.simulation.days, cfg.name)

    def tick(day: float, total: float) -> None:
        if bar is not None:
            bar.n = day
            bar.refresh() if bar.n >= total or int(day) % 5 == 0 else None

    result = simulate(cfg, progress=tick if bar is not None else None)
    if bar is not None:
        bar.close()
    folder, tables, warnings = write_run(
        result,
        target,
        plots=plots,
        force=force,
        records="summary" if records == "summary" else "full",
        fmt=fmt,
        release=True,  # the result is not used afterwards
        on_tables=lambda: map_large_blocks(OUTPUT_BLOCK_BYTES),  # its files and figures next
    )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_kpis(
            kpis(tables.summary),
            f"{cfg.name}: {cfg.simulation.days:g} days "
            f"({cfg.simulation.warmup_days:g} warm-up), seed {result.seed}, "
            f"{result.wall_s:.1f} s",
        )
        click.echo(f"results: {folder}")


def _run_replications(
    cfg: ScenarioConfig,
    target: Path,
    reps: int,
    workers: int,
    ci: float,
    plots: bool,
    force: bool,
    quiet: bool,
    records: str = "full",
    fmt: str = "csv",
) -> None:
    """``silkroute run CONFIG --reps N``: replications into ``target``."""
    from silkroute_sim.experiments.replications import write_replications

    days = cfg.simulation.days
    bar = progress_bar(not quiet, reps * days, f"{cfg.name} ×{reps}")

    def tick(done: int, _total: int) -> None:
        if bar is not None:
            bar.n = done * days
            bar.refresh()

    try:
        with command_executor(workers, reps) as executor:
            folder, rr = write_replications(
                cfg,
                target,
                reps,
                ci=ci,
                plots=plots,
                force=force,
                progress=tick if bar is not None else None,
                executor=executor,
                records="summary" if records == "summary" else "full",
                fmt=fmt,
            )
    finally:
        if bar is not None:
            bar.close()
    echo_warnings(rr.warnings)
    if quiet:
        return
    seeds = rr.seeds
    print_kpis_ci(
        rr.summary,
        f"{rr.name}: {reps} replications (seeds {seeds[0]}…{seeds[-1]}), "
        f"{days:g} days ({cfg.simulation.warmup_days:g} warm-up), "
        f"{rr.ci:.0%} CI, {rr.wall_s:.1f} s",
    )
    suggested = rr.warmup_suggestion()
    if suggested is not None:
        click.echo(f"  warm-up check (Welch's method): at least {suggested} days suggested")
    click.echo(f"results: {folder}")
