"""Means per group over many row selections of one table, as pandas takes them.

The disruption table compares the boxes each event touched with the mean per destination
of the boxes it did not: one ``groupby(...).mean()`` over nearly every row of the run, per
event. pandas adds each group's values in row order with Kahan's compensation
(``pandas._libs.groupby.group_mean``); a selection copied out, its keys factorised and
sorted again, costs many times that pass. :class:`GroupMeans` factorises the keys once and
hands pandas' own routine every row with the rows outside the selection labelled ``-1``
(skipped), so each mean is the same float as the ``groupby`` of the selection. Where that
routine is not there or not callable so (another pandas), it takes the ``groupby``.
:func:`pair_codes` numbers the pairs of two key columns once, in the order a ``groupby``
over both sorts them; :class:`YearlyTotals` sums cost columns per such pair;
:func:`text_positions` numbers a long column of texts by a short index of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def _pandas_group_mean() -> Callable[..., Any] | None:
    try:
        from pandas._libs.groupby import group_mean  # pandas' groupby(...).mean() routine
    except ImportError:  # pragma: no cover - a pandas without it
        return None
    return group_mean


class GroupMeans:
    """``values`` (float columns) grouped by ``keys`` (one per row; NaN keys belong to no
    group), for many row selections: :meth:`arrays` of a selection are the means of
    ``values[rows].groupby(keys[rows]).mean()``, by key code."""

    def __init__(self, keys: pd.Series, values: pd.DataFrame) -> None:
        self.keys = keys
        self.values = values
        codes, self.names = pd.factorize(keys)
        self.codes = codes.astype(np.intp, copy=False)
        self._array = values.to_numpy(dtype=np.float64) if len(values.columns) else None
        floats = all(dtype == np.float64 for dtype in values.dtypes)
        self._group_mean = _pandas_group_mean() if floats and self._array is not None else None

    def arrays(self, rows: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """``(seen, means)`` of the selected rows by key code (:attr:`codes`), with a last
        entry for rows without a key (code -1): ``seen[code]``, whether the key is among
        the rows; ``means[code, column]``, its mean (NaN where not seen or all NaN)."""
        rows = np.asarray(rows, dtype=bool)
        if self._group_mean is not None:
            try:
                return self._fast(rows)
            except (TypeError, ValueError):  # another pandas' signature or buffer types:
                self._group_mean = None  # its groupby from now on (slower, the same floats)
        frame = self.values[rows].groupby(self.keys[rows]).mean()
        groups = len(self.names)
        seen = np.zeros(groups + 1, dtype=bool)
        means = np.full((groups + 1, len(self.values.columns)), np.nan)
        at = self.names.get_indexer(frame.index)
        seen[at] = True
        means[at] = frame.to_numpy(dtype=np.float64)
        return seen, means

    def _fast(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`arrays` through pandas' routine: every row, those not selected labelled
        -1 (skipped); a group no selected row has gets no count and a NaN mean."""
        assert self._group_mean is not None and self._array is not None
        labels = np.where(rows, self.codes, -1)
        groups = len(self.names)
        means = np.empty((groups + 1, self._array.shape[1]), dtype=np.float64)
        counts = np.zeros(groups, dtype=np.int64)
        self._group_mean(means[:-1], counts, self._array, labels, -1)
        means[-1] = np.nan
        return np.append(counts > 0, False), means


def text_positions(index: pd.Index, values: np.ndarray) -> np.ndarray:
    """The position in ``index`` (unique texts) of each of ``values``, -1 for one it does
    not hold (NaN among them), looked up as Python objects: pandas would first copy a long
    column of texts into its own text type."""
    return np.asarray(index.get_indexer(pd.Index(values, dtype=object, copy=False)))


def pair_codes(shipments: pd.DataFrame) -> np.ndarray:
    """A number for each shipment's (destination, cargo class) pair, in the order a
    groupby over both columns sorts the pairs: each column numbered once by hashing, in its
    sorted order, instead of grouping by both texts for every total."""
    destination = pd.factorize(shipments["destination"], sort=True)[0]
    cargo_class, classes = pd.factorize(shipments["cargo_class"], sort=True)
    return destination.astype(np.int64) * max(len(classes), 1) + cargo_class


class YearlyTotals:
    """Cost columns summed over the demand of the window: per destination and cargo
    class, a column's mean per FEU over the shipments released in the window times the
    FEU that arrived in it. Scenarios on common random numbers then differ by what a box
    costs, not by how many boxes happen to be released before the run ends. A group with
    demand and no release makes the total NaN (its cost is unknown). What every total
    shares (the groups, the FEU released, the demand) is worked out once. ``codes``:
    :func:`pair_codes` of the shipments, where the caller has them."""

    def __init__(
        self,
        parts: pd.DataFrame,
        shipments: pd.DataFrame,
        released: pd.Series,
        arrived: pd.Series,
        codes: np.ndarray | None = None,
    ) -> None:
        if codes is None:
            codes = pair_codes(shipments)
        self._released = released.to_numpy(dtype=bool)
        self._codes = codes[self._released]
        self._feu = parts["feu"].to_numpy()[self._released]
        in_window = arrived.to_numpy(dtype=bool)
        self._demand = parts.loc[arrived, "feu"].groupby(codes[in_window]).sum()

    def total(self, parts: pd.DataFrame, column: str) -> float:
        """``column`` of ``parts`` (the parts these totals were made for) in total."""
        if not len(self._demand):
            return math.nan
        with np.errstate(divide="ignore", invalid="ignore"):  # as pandas divides: silently
            per_feu = pd.Series(parts[column].to_numpy()[self._released] / self._feu)
        per = per_feu.groupby(self._codes).mean()
        del per_feu
        return float((self._demand * per.reindex(self._demand.index)).sum(skipna=False))
