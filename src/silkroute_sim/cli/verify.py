"""``silkroute verify``: the model against queueing theory and published figures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from silkroute_sim.cli.common import build_notice, fail, progress_bar, workers_count
from silkroute_sim.cli.options import force_option, workers_option

if TYPE_CHECKING:
    from silkroute_sim.experiments.verify import Check, VerifyResult

#: at most this many replications per check (each is a run)
MAX_VERIFY_REPS = 10_000
STATUS_MARK = {"pass": "ok  ", "explained": "expl", "fail": "FAIL"}


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(result: VerifyResult) -> None:
    from silkroute_sim.experiments.verify import GROUPS, estimate_text, target_text

    titles = {
        "analytic": "analytic (closed forms)",
        "little": "Little's law (monitors vs records)",
        "exact": "exact (deterministic)",
        "published": "published figures (published_targets.yaml)",
    }
    for group in GROUPS:
        rows: list[Check] = [c for c in result.checks if c.group == group]
        if not rows:
            continue
        click.echo(f"\n{titles.get(group, group)}")
        for c in rows:
            est = estimate_text(c)
            tgt = target_text(c)
            unit = f" {c.unit}" if c.unit else ""
            click.echo(
                f"  {STATUS_MARK.get(c.status, c.status)}  {_short(c.title, 58):<58}  "
                f"{est:>24}  vs {tgt}{unit}"
            )
            if c.status != "pass":
                click.echo(f"        {_short(c.note, 140)}")


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="The CI-sized suite (about a minute on two cores); without it, the full "
    "suite (tighter intervals, more cases; several minutes).",
)
@click.option(
    "--only",
    "part",
    type=click.Choice(["verification", "published", "validation"]),
    default=None,
    help="Run only the analytic/Little/exact checks, or only the baseline against "
    "published figures ('validation' is its former name; default: both).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="First seed.")
@click.option(
    "--reps",
    type=int,
    default=None,
    help="Replications per queue case (default: 10 quick, 20 full).",
)
@workers_option(None, "the number of CPU cores, at most 8")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results") / "verify",
    show_default=True,
    help="Folder for verify.csv, verify.md and manifest.json.",
)
@force_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
def verify(
    quick: bool,
    part: str | None,
    seed: int,
    reps: int | None,
    workers: int | None,
    out: Path,
    force: bool,
    quiet: bool,
) -> None:
    """Check the model against queueing theory and published figures.

    \b
    analytic    the hub's crane pool reduced by config to M/M/c (rho 0.5, 0.8,
                0.95), M/D/1 and M/G/1, and a border to M/M/c, against Erlang C
                and Pollaczek-Khinchine over replications
    little      L = lam W from the time-weighted monitors vs the records
                (crane system, yard, every border queue of the baseline)
    exact       a constant-time corridor whose timeline is known exactly
    published   baseline runs against published figures and their bands
                (published_targets.yaml, each with its source)

    Prints a pass/fail table and writes verify.csv, verify.md and manifest.json
    to --out. Exit status 0 when every check passes or its miss is explained, 1
    when any check fails.
    """
    from silkroute_sim.config.simulation import MAX_SEED
    from silkroute_sim.experiments.verify import (
        default_jobs,
        make_plan,
        plan_tasks,
        run_verify,
        write_verify,
    )
    from silkroute_sim.outputs.storage import check_output_target

    if not 0 <= seed <= MAX_SEED - MAX_VERIFY_REPS:
        fail(f"--seed must be between 0 and {MAX_SEED - MAX_VERIFY_REPS} (got {seed})")
    if reps is not None and reps < 2:
        fail(f"--reps must be at least 2 for a confidence interval (got {reps})")
    if reps is not None and reps > MAX_VERIFY_REPS:
        fail(f"--reps must be at most {MAX_VERIFY_REPS:,} (got {reps:,})")
    check_output_target(out, force, "verify")  # refuse before spending minutes on the runs
    build_notice(quiet)
    workers = default_jobs() if workers is None else workers_count(workers)
    which = part or "all"
    total = len(plan_tasks(make_plan(quick, reps), seed, which))
    bar = progress_bar(not quiet, total, "verify", unit="run")

    def tick(done: int, _total: int) -> None:
        if bar is not None:
            bar.n = done
            bar.refresh()

    result = run_verify(
        quick,
        seed=seed,
        workers=workers,
        reps=reps,
        part=which,
        progress=tick if bar is not None else None,
    )
    if bar is not None:
        bar.close()
    folder = write_verify(result, out, force=force)
    counts = result.counts()
    if not quiet:
        print_table(result)
        click.echo(
            f"\n{result.plan.name}: {counts['pass']} pass, {counts['explained']} explained, "
            f"{counts['fail']} fail in {result.wall_s:.0f} s ({workers} workers)"
        )
        click.echo(f"results: {folder}")
    if not result.ok:
        names = ", ".join(c.name for c in result.failed)
        click.echo(f"error: verification failed: {_short(names, 300)}", err=True)
        sys.exit(1)
