"""Click options shared by several commands (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def replication_options(reps_help: str) -> Callable[[F], F]:
    """``--reps``, ``--workers`` and ``--ci``, shared by ``run`` and ``compare``."""

    def decorate(func: F) -> F:
        options = [
            click.option("--reps", type=click.IntRange(1, 100_000), default=None, help=reps_help),
            click.option(
                "--workers",
                type=click.IntRange(0, 1024),
                default=1,
                show_default=True,
                help="Runs at once in separate processes (0: one per CPU core).",
            ),
            click.option(
                "--ci",
                type=click.FloatRange(0, 1, min_open=True, max_open=True),
                default=0.95,
                show_default=True,
                help="Confidence level of the intervals over replications.",
            ),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate
