"""``silkroute sweep``: run a sweep spec on local processes or a Dask cluster."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from silkroute_sim.analysis.kpis import SWEEP_SHOWN
from silkroute_sim.cli.common import build_notice, fail, stderr_is_terminal
from silkroute_sim.cli.options import workers_option

if TYPE_CHECKING:
    from silkroute_sim.experiments.sweep import Progress, SweepOutcome, SweepPlan

MAX_SHOWN_POINTS = 40


@click.command()
@click.argument("spec", metavar="SPEC")
@workers_option(None, "one per CPU core")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on an existing Dask cluster, e.g. tcp://host:8786 "
    "(needs: pip install 'silkroute-sim[distributed]').",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sweep folder (default: results/<sweep name>). Rerun into it to resume.",
)
@click.option("--dry-run", is_flag=True, help="List the points and the run count; run nothing.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override the base scenario by dotted path before the parameters (repeatable).",
)
@click.option("--days", type=float, default=None, help="Simulated days per run (incl. warm-up).")
@click.option("--warmup-days", type=float, default=None, help="Warm-up days cut before KPIs.")
@click.option("--reps", type=click.IntRange(1, 10_000), default=None, help="Replace reps.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Replace the sweep's seed.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option(
    "--records",
    type=click.Choice(["summary", "full"]),
    default="summary",
    show_default=True,
    help="What each run folder holds: summary (summary.csv, daily and per-class KPIs; "
    "no per-shipment or per-event tables) or full (every table, as `silkroute run`).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no points table.")
def sweep(
    spec: str,
    workers: int | None,
    scheduler: str | None,
    out: Path | None,
    dry_run: bool,
    overrides: tuple[str, ...],
    days: float | None,
    warmup_days: float | None,
    reps: int | None,
    seed: int | None,
    no_plots: bool,
    records: str,
    quiet: bool,
) -> None:
    """Run every point of a sweep SPEC (YAML) with replications.

    \b
    The spec names a base scenario, the parameters (dotted config paths) with lists,
    {from, to, step} ranges or distributions, a design (grid, zip, {kind: lhs, n}),
    reps, seed, constraints and outputs. Every generated config is validated first.

    \b
    The folder gets runs/<run key>/ (one result folder per run: by default its KPIs and
    daily tables only, see --records; no plots), runs.csv (one row per run: parameters,
    seed, status, error, KPIs), points.csv (mean and 95% CI per point) and plots/. A run
    that fails is a failed row; the sweep goes on and exits with status 1 at the end.
    Rerunning the command resumes: complete runs are skipped, failed ones retried.
    """
    from silkroute_sim.experiments.sweep import pending_runs, plan_sweep, run_sweep

    if workers is not None and scheduler:
        fail("give either --workers (local processes) or --scheduler (Dask), not both")
    if workers == 0:
        workers = None  # one per core
    plan = plan_sweep(spec, overrides, days=days, warmup_days=warmup_days, reps=reps, seed=seed)
    target = out if out is not None else Path("results") / plan.name
    if dry_run:
        _print_plan(plan, target, pending_runs(plan, target) if target.is_dir() else None)
        return
    build_notice(quiet)
    bar = _Bar(plan.name) if not quiet else None
    try:
        outcome = run_sweep(
            plan,
            target,
            workers=workers,
            scheduler=scheduler,
            plots=not no_plots,
            progress=bar.update if bar is not None else None,
            records=records,
        )
    finally:
        if bar is not None:
            bar.close()
    _print_outcome(outcome, quiet)
    failed = outcome.results.runs[outcome.results.runs["status"] != "ok"]
    if len(failed):
        for row in failed.head(5).itertuples():
            click.echo(
                f"failed: run {row.run_key} (point {row.point}, rep {row.rep}): {row.error}",
                err=True,
            )
        fail(
            f"{len(failed)} of {len(outcome.plan.runs)} runs failed (errors in "
            f"{outcome.out / 'runs.csv'}); rerun the same command to retry them",
            1,
        )


class _Bar:
    """Runs done / failed / ETA on stderr."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: Any = None

    def update(self, event: Progress) -> None:
        if not stderr_is_terminal():  # a log or a pipe: no \r frames (as run and compare)
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(
                total=event.total,
                initial=event.done_before,
                desc=self.name,
                unit="run",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} runs{postfix} "
                "[{elapsed}<{remaining}, {rate_fmt}]",
            )
            return
        if event.failed:
            self.bar.set_postfix_str(f"{event.failed} failed", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _print_plan(plan: SweepPlan, target: Path, pending: list[Any] | None) -> None:
    reps = plan.spec.reps
    click.echo(
        f"sweep {plan.name}: {plan.design} over {len(plan.parameters)} parameter(s), "
        f"{len(plan.points)} points × {reps} rep(s) = {len(plan.runs)} runs "
        f"(seeds {plan.seed}..{plan.seed + reps - 1})"
    )
    if plan.excluded:
        click.echo(f"  {plan.excluded} point(s) excluded by constraints")
    if plan.duplicates:
        click.echo(f"  {plan.duplicates} duplicate point(s) dropped (same resolved config)")
    done_keys: set[str] | None = None
    if pending is not None:
        todo = {t.key for t in pending}
        done_keys = {t.key for t in plan.runs} - todo
    header = ["point", *plan.param_paths, "runs"] + (["done"] if done_keys is not None else [])
    rows: list[list[str]] = []
    for point in plan.points:
        keys = [t.key for t in plan.runs if t.point == point.index]
        row = [str(point.index), *(_text(v) for v in point.values.values()), str(len(keys))]
        if done_keys is not None:
            row.append(str(sum(k in done_keys for k in keys)))
        rows.append(row)
    _table(header, rows)
    if pending is None:
        click.echo(f"{len(plan.runs)} runs to do; results would go to {target}")
    else:
        click.echo(
            f"{len(plan.runs) - len(pending)} of {len(plan.runs)} runs already complete in "
            f"{target}; {len(pending)} to do"
        )


def _text(value: Any) -> str:
    from silkroute_sim.experiments.sweep import cell_text

    return cell_text(value)


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    click.echo("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        click.echo("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return "—"
    digits = 0 if abs(mean) >= 100 else 2
    if math.isfinite(low) and math.isfinite(high):
        return f"{mean:,.{digits}f} ± {(high - low) / 2:,.{digits}f}"
    return f"{mean:,.{digits}f}"


def _print_outcome(outcome: SweepOutcome, quiet: bool) -> None:
    plan = outcome.plan
    runs = outcome.results.runs
    ok = int((runs["status"] == "ok").sum())
    rate = outcome.ran / outcome.wall_s * 60 if outcome.wall_s > 0 else math.nan
    if not quiet:
        points = outcome.results.points
        shown = [k for k in SWEEP_SHOWN if k in outcome.results.kpis] or outcome.results.kpis[:4]
        if len(points) <= MAX_SHOWN_POINTS and shown:
            header = ["point", *plan.param_paths, "n", *shown]
            rows = [
                [
                    str(r["point"]),
                    *(_text(r[p]) for p in plan.param_paths),
                    str(r["n"]),
                    *(_fmt(r[f"{k}_mean"], r[f"{k}_ci_low"], r[f"{k}_ci_high"]) for k in shown),
                ]
                for r in points.to_dict("records")
            ]
            _table(header, rows)
    click.echo(
        f"sweep {plan.name}: {len(plan.runs)} runs ({len(plan.points)} points × "
        f"{plan.spec.reps} reps): {ok} ok, {len(runs) - ok} failed; {outcome.done_before} "
        f"were complete, {outcome.ran} run now in {outcome.wall_s:.1f} s "
        f"({rate:.1f} runs/min) on {outcome.executor}"
    )
    if outcome.stale_runs:
        click.echo(
            f"note: {outcome.stale_runs} run folder(s) in {outcome.out / 'runs'} belong to no "
            "point of this spec (kept, not in runs.csv)"
        )
    extra = ", plots/" if outcome.plots else ""
    report = f", {outcome.report.name}" if outcome.report is not None else ""
    click.echo(f"results: {outcome.out} (runs.csv, points.csv{extra}{report})")
