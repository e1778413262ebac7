"""Sums across a frame's columns, one column at a time (no copy of them all)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

_PANDAS_MAJOR = int(pd.__version__.split(".")[0])


def row_sum(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """``frame[columns].sum(axis=1, min_count=1)`` to the bit — missing values count as
    0, in column order, NaN where every one is missing — one column at a time instead of
    a copy of them all (a long run's parts are hundreds of MB). pandas' own sum where
    that order is not pandas' (before pandas 3, eight columns or more are added in
    numpy's unrolled order) or the columns are not all floats (its result's dtype)."""
    names = list(columns)
    if _PANDAS_MAJOR < 3 or any(frame[c].dtype != np.float64 for c in names):
        return frame[names].sum(axis=1, min_count=1)
    total = np.zeros(len(frame))
    present = np.zeros(len(frame), dtype=bool)
    for column in names:
        values = frame[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        present |= known
        total += np.where(known, values, 0.0)
    return pd.Series(np.where(present, total, math.nan), index=frame.index)
