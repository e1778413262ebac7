"""Figures of an optimisation: convergence of the best feasible objective, the Pareto front.

Both are drawn from ``trials.csv``'s table: one row per trial with its state, whether it
met the constraints (``feasible``) and the mean of each objective (``<name>_mean``).
Imported lazily (matplotlib is heavy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from silkroute_sim.outputs.plots.style import BLUE, GREY, VERMILLION, pyplot, save


def _scaled(values: pd.Series, name: str) -> tuple[pd.Series, str]:
    """Large amounts (USD a year) in millions, so the axis reads 28.4, not 2.84e7."""
    finite = values[values.notna()]
    if len(finite) and float(finite.abs().max()) >= 1e5:
        return values / 1e6, f"{name} (millions)"
    return values, name


def convergence(
    trials: pd.DataFrame, objective: str, direction: str, path: Path, label: str = ""
) -> Path | None:
    """Each evaluated trial's objective (feasible dots, infeasible crosses) and the best
    feasible value so far as a step line. None when no trial has a value."""
    column = f"{objective}_mean"
    if column not in trials or trials[column].notna().sum() == 0:
        return None
    plt = pyplot()
    fig, ax = plt.subplots()
    scaled, ylabel = _scaled(trials[column], label or objective)
    trials = trials.assign(**{column: scaled})
    valued = trials[trials[column].notna()]
    ok = valued[valued["feasible"].astype(bool)]
    bad = valued[~valued["feasible"].astype(bool)]
    ax.scatter(bad["trial"], bad[column], marker="x", color=GREY, label="constraints not met")
    ax.scatter(ok["trial"], ok[column], color=BLUE, label="meets the constraints")
    best: list[float] = []
    current = math.nan
    pick = min if direction == "minimize" else max
    by_trial = dict(zip(ok["trial"], ok[column], strict=True))
    for trial in trials["trial"]:
        if trial in by_trial:
            current = by_trial[trial] if math.isnan(current) else pick(current, by_trial[trial])
        best.append(current)
    ax.step(trials["trial"], best, where="post", color=VERMILLION, label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Convergence: {objective}")
    ax.legend(loc="best")
    return save(fig, path)


def pareto(
    trials: pd.DataFrame,
    objectives: Sequence[str],
    front: Sequence[int],
    path: Path,
) -> Path | None:
    """The first two objectives of every evaluated trial, the feasible front joined."""
    x, y = (f"{o}_mean" for o in objectives[:2])
    if x not in trials or y not in trials:
        return None
    valued = trials[trials[x].notna() & trials[y].notna()]
    if valued.empty:
        return None
    xs, xlabel = _scaled(valued[x], objectives[0])
    ys, ylabel = _scaled(valued[y], objectives[1])
    valued = valued.assign(**{x: xs, y: ys})
    plt = pyplot()
    fig, ax = plt.subplots()
    feasible = valued["feasible"].astype(bool)
    ax.scatter(
        valued.loc[~feasible, x],
        valued.loc[~feasible, y],
        marker="x",
        color=GREY,
        label="constraints not met",
    )
    ax.scatter(
        valued.loc[feasible, x],
        valued.loc[feasible, y],
        color=BLUE,
        alpha=0.6,
        label="meets the constraints",
    )
    on_front = valued[valued["trial"].isin(list(front))].sort_values(x)
    if not on_front.empty:
        ax.plot(on_front[x], on_front[y], "o-", color=VERMILLION, label="Pareto front")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("Trade-off between the objectives")
    ax.legend(loc="best")
    return save(fig, path)
