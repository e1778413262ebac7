"""Click options shared by several commands (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):  # the first option is listed first in --help
        func = option(func)
    return func


def workers_option(default: int | None, default_text: str) -> Callable[[F], F]:
    """``--workers/-j``: how many simulations run at once, on every command that runs
    more than one (0: one per CPU core)."""
    return click.option(
        "--workers",
        "-j",
        type=click.IntRange(0, 4096),
        default=default,
        show_default=default_text if default is None else True,
        help="Simulations at once, each in its own process (0: one per CPU core; "
        "1: one after another in this process).",
    )


#: ``--force`` on every command that writes a result folder
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into an existing --out folder that silkroute did not create, that holds "
    "another kind of result, or (run) another run's result (another config, seed or "
    "horizon). Only files silkroute wrote are replaced; if a "
    "file of yours is where silkroute would write one, nothing is written and the "
    "error names it.",
)


def config_options(func: F) -> F:
    """``--set``, ``--seed``, ``--warmup-days`` and ``--days``: how a scenario is adjusted
    after loading (``run`` and ``compare``)."""
    return _apply(
        func,
        [
            click.option(
                "--set",
                "overrides",
                multiple=True,
                metavar="KEY=VALUE",
                help="Override a config value by dotted path, e.g. "
                "--set hub.cranes.count=4 (repeatable; values are YAML).",
            ),
            click.option(
                "--seed",
                type=int,
                default=None,
                help="Random seed (default: simulation.seed in the config).",
            ),
            click.option(
                "--warmup-days",
                type=float,
                default=None,
                help="Days cut before any KPI (default: simulation.warmup_days).",
            ),
            click.option(
                "--days",
                type=float,
                default=None,
                help="Simulated days including warm-up (default: simulation.days).",
            ),
        ],
    )


def replication_options(reps_help: str) -> Callable[[F], F]:
    """``--reps``, ``--workers`` and ``--ci``, shared by ``run`` and ``compare``."""

    def decorate(func: F) -> F:
        return _apply(
            func,
            [
                click.option(
                    "--reps", type=click.IntRange(1, 100_000), default=None, help=reps_help
                ),
                workers_option(1, ""),
                click.option(
                    "--ci",
                    type=click.FloatRange(0, 1, min_open=True, max_open=True),
                    default=0.95,
                    show_default=True,
                    help="Confidence level of the intervals over replications.",
                ),
            ],
        )

    return decorate


#: ``--records``: how much of a run is written
records_option = click.option(
    "--records",
    type=click.Choice(["full", "summary"]),
    default="full",
    show_default=True,
    help="full: every table; summary: summary.csv and daily.csv only (KPIs, per cargo "
    "class too), without the per-shipment and per-event tables.",
)

#: ``--format``: the file format of the per-shipment and per-event tables
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the per-shipment and per-event tables (trains, shipments, "
    "node_events, disruptions; parquet adds daily_long, the daily table in long form); "
    "summary.csv and daily.csv are always CSV.",
)
