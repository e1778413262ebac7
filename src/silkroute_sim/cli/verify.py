"""``silkroute verify``: the model against queueing theory and published figures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from silkroute_sim.experiments.verify import Check, VerifyResult

STATUS_MARK = {"pass": "ok  ", "explained": "expl", "fail": "FAIL"}


def _bar(enabled: bool, total: int) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="verify",
        unit="run",
        file=sys.stderr,
        delay=2.0,
        dynamic_ncols=True,
        leave=False,
    )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(result: VerifyResult) -> None:
    from silkroute_sim.experiments.verify import GROUPS, estimate_text, target_text

    titles = {
        "analytic": "analytic (closed forms)",
        "little": "Little's law (monitors vs records)",
        "exact": "exact (deterministic)",
        "validation": "validation (corridor-facts.md)",
    }
    for group in GROUPS:
        rows: list[Check] = [c for c in result.checks if c.group == group]
        if not rows:
            continue
        click.echo(f"\n{titles[group]}")
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


def register(group: click.Group) -> None:
    @group.command()
    @click.option(
        "--quick",
        is_flag=True,
        help="The CI-sized suite (about a minute on two cores); without it, the full "
        "suite (tighter intervals, more cases; several minutes).",
    )
    @click.option(
        "--only",
        "part",
        type=click.Choice(["verification", "validation"]),
        default=None,
        help="Run only the analytic/Little/exact checks, or only the validation "
        "against published figures (default: both).",
    )
    @click.option("--seed", type=int, default=1, show_default=True, help="First seed.")
    @click.option(
        "--reps",
        type=int,
        default=None,
        help="Replications per queue case (default: 10 quick, 20 full).",
    )
    @click.option(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help="Worker processes (default: the number of CPUs, at most 8).",
    )
    @click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("results") / "verify",
        show_default=True,
        help="Folder for verify.csv, verify.md and manifest.json.",
    )
    @click.option(
        "--force",
        is_flag=True,
        help="Write into an existing --out folder that silkroute did not create.",
    )
    @click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
    def verify(
        quick: bool,
        part: str | None,
        seed: int,
        reps: int | None,
        jobs: int | None,
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
        validation  baseline runs against corridor-facts.md targets and bands

        Prints a pass/fail table and writes verify.csv, verify.md and manifest.json
        to --out. Exit status 0 when every check passes or its miss is explained, 1
        when any check fails.
        """
        from silkroute_sim.cli.main import fail
        from silkroute_sim.experiments.verify import (
            default_jobs,
            make_plan,
            plan_tasks,
            run_verify,
            write_verify,
        )
        from silkroute_sim.outputs.storage import check_output_target

        if seed < 0:
            fail(f"--seed must be >= 0 (got {seed})")
        if reps is not None and reps < 2:
            fail(f"--reps must be at least 2 for a confidence interval (got {reps})")
        if jobs is not None and jobs < 1:
            fail(f"--jobs must be at least 1 (got {jobs})")
        check_output_target(out, force)  # refuse before spending minutes on the runs
        workers = jobs or default_jobs()
        which = part or "all"
        total = len(plan_tasks(make_plan(quick, reps), seed, which))
        bar = _bar(not quiet, total)

        def tick(done: int, _total: int) -> None:
            if bar is not None:
                bar.n = done
                bar.refresh()

        result = run_verify(
            quick,
            seed=seed,
            jobs=workers,
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
