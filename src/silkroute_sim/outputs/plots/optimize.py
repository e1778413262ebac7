"""Figures of an optimisation: convergence of the best feasible objective, the Pareto front.

Both are drawn from ``trials.csv``'s table: one row per trial with its state, whether it
met the constraints (``feasible``) and the mean of each objective (``<name>_mean``).
Imported lazily (matplotlib is heavy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.outputs.plots.style import BLUE, GREY, VERMILLION, pyplot, save

#: an objective's axis: its label for people and its unit (``USD/yr``, ``t/yr``, or "")
Axis = tuple[str, str]


def _scaled(values: pd.Series, axis: Axis) -> tuple[pd.Series, str]:
    """Amounts of a million or more in millions (the axis reads 28.4 million USD/yr, not
    2.84e7); smaller ones as they are. The label carries the unit."""
    label, unit = axis
    finite = values[values.notna()]
    if len(finite) and float(finite.abs().max()) >= 1e6:
        return values / 1e6, f"{label} (million {unit})".replace(" )", ")")
    return values, f"{label} ({unit})" if unit else label


def _plain(ax: Any, values: pd.Series, which: str) -> None:
    """No offset and no scientific notation on the ``which`` axis; thousands separated."""
    from matplotlib.ticker import FuncFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    finite = values[values.notna()]
    if len(finite) and float(finite.abs().max()) >= 1000:
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    else:
        ax.ticklabel_format(axis=which, useOffset=False, style="plain")


def convergence(
    trials: pd.DataFrame, objective: str, direction: str, path: Path, axis: Axis | None = None
) -> Path | None:
    """Each evaluated trial's objective (feasible dots, infeasible crosses) and the best
    feasible value so far as a step line; ``axis`` the objective's label and unit. None
    when no trial has a value."""
    column = f"{objective}_mean"
    if column not in trials or trials[column].notna().sum() == 0:
        return None
    plt = pyplot()
    fig, ax = plt.subplots()
    axis = axis or (objective, "")
    scaled, ylabel = _scaled(trials[column], axis)
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
    _plain(ax, trials[column], "y")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Convergence: {axis[0]}")
    ax.legend(loc="best")
    return save(fig, path)


def pareto(
    trials: pd.DataFrame,
    objectives: Sequence[str],
    front: Sequence[int],
    path: Path,
    axes: Sequence[Axis] = (),
) -> Path | None:
    """The first two objectives of every evaluated trial, the feasible front joined;
    ``axes`` the objectives' labels and units."""
    x, y = (f"{o}_mean" for o in objectives[:2])
    if x not in trials or y not in trials:
        return None
    valued = trials[trials[x].notna() & trials[y].notna()]
    if valued.empty:
        return None
    named = list(axes) or [(o, "") for o in objectives]
    xs, xlabel = _scaled(valued[x], named[0])
    ys, ylabel = _scaled(valued[y], named[1])
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
    _plain(ax, valued[x], "x")
    _plain(ax, valued[y], "y")
    ax.set_title("Trade-off between the objectives")
    ax.legend(loc="best")
    return save(fig, path)
