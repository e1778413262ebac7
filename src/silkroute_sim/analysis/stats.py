"""Confidence intervals and small statistics helpers (no pandas)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from silkroute_sim.analysis.kpis import lower_bound


def student_t(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom: scipy's
    ``stdtrit``, the function ``scipy.stats.t.ppf`` calls (the same floats), imported
    lazily from ``scipy.special`` (about 0.1 s) rather than through ``scipy.stats``
    (about 0.5 s, paid at the end of every sweep, comparison and set of replications)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def mean_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95, lower: float | None = None
) -> tuple[float, float, float, int]:
    """(mean, ci_low, ci_high, n) with a Student-t interval over independent values.

    NaN values are dropped. With n < 2 the interval is undefined and returned as NaN.
    With a ``lower`` bound (a quantity that cannot be below it: a count, a time, tonnes)
    the interval's ends are clipped at it: with few, skewed values the t-interval can
    reach below a bound the quantity never crosses.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = student_t(0.5 + level / 2, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half, mean + half
    if lower is not None:
        low, high = max(low, lower), max(high, lower)
    return mean, low, high, n


def metric_ci(
    metric: str, values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, int]:
    """:func:`mean_ci` of a KPI over replications, clipped at the quantity's physical
    bound from the KPI catalogue (:func:`silkroute_sim.analysis.kpis.lower_bound`)."""
    return mean_ci(values, level, lower_bound(metric))


def ci_note(n: int, what: str = "replication") -> str | None:
    """What to tell the user when ``n`` values give no interval (n < 2), else None."""
    if n >= 2:
        return None
    count = f"{n} {what}" if n == 1 else f"no {what}s"
    return (
        f"{count}: no confidence intervals (ci_low and ci_high are empty; "
        f"they need at least 2 {what}s)"
    )


def welch_diff_ci(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, float]:
    """(mean(b) - mean(a), ci_low, ci_high, df) for two independent samples.

    Welch's interval (unequal variances, Welch–Satterthwaite degrees of freedom): the
    unpaired comparison, for runs that do not share random numbers. NaN values are
    dropped; with fewer than 2 values on either side the interval is NaN.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size == 0 or y.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    diff = float(y.mean() - x.mean())
    if x.size < 2 or y.size < 2:
        return diff, math.nan, math.nan, math.nan
    vx, vy = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se2 = vx + vy
    if se2 == 0:
        return diff, diff, diff, float(x.size + y.size - 2)
    df = se2**2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = student_t(0.5 + level / 2, df) * math.sqrt(se2)
    return diff, diff - half, diff + half, df
