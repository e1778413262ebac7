"""Confidence intervals and small statistics helpers (no pandas)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def student_t(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy import stats as _st  # imported lazily: scipy is slow to import

    return float(_st.t.ppf(p, df))


def mean_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, int]:
    """(mean, ci_low, ci_high, n) with a Student-t interval over independent values.

    NaN values are dropped. With n < 2 the interval is undefined and returned as NaN.
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
    return mean, mean - half, mean + half, n
