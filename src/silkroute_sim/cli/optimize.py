"""``silkroute optimize``: the cheapest configuration that meets a service level."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from silkroute_sim.cli.common import build_notice, fail
from silkroute_sim.cli.options import workers_option

if TYPE_CHECKING:
    from silkroute_sim.experiments.optimize import OptimizeOutcome, Progress


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Optimisation folder (default: results/<name>). Rerun into it to resume.",
)
@workers_option(None, "one per CPU core")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run the trials on an existing Dask cluster, e.g. tcp://host:8786.",
)
@click.option(
    "--trials",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Trials in all (replaces the spec's; a larger number continues a finished study).",
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no candidates table.")
def optimize(
    spec: str,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    trials: int | None,
    no_plots: bool,
    quiet: bool,
) -> None:
    """Find the configuration of least yearly cost that meets the constraints of SPEC.

    \b
    The spec (YAML) names a base scenario, the scenarios to judge at, the decision
    variables (dotted config paths with bounds and steps, or choices) and their
    capacity cost, the objective (or several, for a Pareto front) and constraints on
    KPIs. Optuna (TPE, or NSGA-II for several objectives) proposes trials; each is
    simulated with common random numbers, and a constraint counts as met only when its
    confidence interval is inside the limit. The best candidates are re-run with more
    replications and compared pairwise.

    \b
    The folder gets study.db (the Optuna study: rerun the same command to resume),
    trials.csv, candidates.csv, comparisons.csv, best.yaml, plots/ and report.html.
    Exit status 1 when no configuration met the constraints.
    """
    from silkroute_sim.experiments.optimize import OptimizeError, plan_optimization, require_optuna
    from silkroute_sim.experiments.optimize import optimize as run_optimization

    try:
        require_optuna()  # an optional extra: one line, and nothing written
    except OptimizeError as exc:
        fail(str(exc))
    if workers is not None and scheduler:
        fail("give either --workers (local processes) or --scheduler (Dask), not both")
    if workers == 0:
        workers = None  # one per core
    plan = plan_optimization(spec, trials=trials)
    build_notice(quiet)
    progress = _Progress(plan.name, quiet)
    try:
        outcome = run_optimization(
            plan,
            out,
            workers=workers,
            scheduler=scheduler,
            trials=trials,
            plots=not no_plots,
            progress=progress.update,
        )
    finally:
        progress.close()
    if trials is not None and len(outcome.trials) > trials:
        click.echo(
            f"note: the study in {outcome.out} already had {len(outcome.trials)} trials, more "
            f"than --trials {trials}: none were added (a larger number adds trials)",
            err=True,
        )
    _print_outcome(outcome, quiet)
    if outcome.final.best is None:
        fail("no configuration found" + (f": {outcome.final.confidence}" if quiet else ""), 1)


def _is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A bar of trials on a terminal; one line per batch otherwise (none when quiet)."""

    def __init__(self, name: str, quiet: bool) -> None:
        self.name = name
        self.quiet = quiet
        self.bar: Any = None
        self.terminal = _is_terminal()

    def update(self, event: Progress) -> None:
        if self.quiet:
            return
        from silkroute_sim.experiments.optimize.final import money

        best = "" if event.best is None else f", best so far {money(event.best)}"
        text = f"{event.simulations} simulations{best}"
        if not self.terminal:
            if event.phase == "trials":
                click.echo(
                    f"{self.name}: {event.trials_done}/{event.trials} trials, {text}", err=True
                )
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(
                total=event.trials,
                desc=self.name,
                unit="trial",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} trials{postfix} "
                "[{elapsed}<{remaining}]",
            )
        self.bar.n = event.trials_done
        self.bar.set_postfix_str(text, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _print_outcome(outcome: OptimizeOutcome, quiet: bool) -> None:
    plan = outcome.plan
    final = outcome.final
    if not quiet and final.candidates:
        from silkroute_sim.experiments.optimize.final import describe, money

        click.echo("final candidates (best first):")
        for rank, cand in enumerate(final.candidates, start=1):
            mean, low, high = cand.judged.objectives[0]
            verdict = "meets the constraints" if cand.feasible else "fails a constraint"
            click.echo(
                f"  {rank}. trial {cand.trial}: {describe(cand.params)}; "
                f"{plan.objectives[0].name} {money(mean)} ({money(low)} to {money(high)}), "
                f"{len(cand.judged.seeds)} reps, {verdict}"
            )
    click.echo(final.confidence)
    if final.reused:
        click.echo(
            f"final round: the runs of {final.reused} candidate(s) reused from the study "
            "(finished before with these seeds), not simulated again"
        )
    click.echo(
        f"optimize {plan.name}: {len(outcome.trials)} trials, {outcome.simulations} simulations "
        f"now in {outcome.wall_s:.1f} s on {outcome.executor}"
    )
    files = ", ".join(
        [*(p.name for p in outcome.best_files), "trials.csv", "candidates.csv"]
        + (["plots/"] if outcome.plots else [])
        + (["report.html"] if outcome.report is not None else [])
    )
    click.echo(f"results: {outcome.out} ({files})")
