"""Means per group over row selections (the disruption table's reference boxes) are the
floats of pandas' ``groupby(...).mean()`` of each selection, to the last bit, through
pandas' own routine or its ``groupby``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.group_means import GroupMeans


def _table(rng: np.random.Generator, n: int, text: str | None) -> tuple[pd.Series, pd.DataFrame]:
    names = np.array(["Duisburg", "Moscow", "Almaty", "Tashkent", "Lodz", "Minsk"])
    keys = pd.Series(rng.choice(names, n), name="destination", dtype=text)
    keys[rng.random(n) < 0.02] = None  # a key missing: in no group
    values = pd.DataFrame(
        {
            "door_to_door_d": rng.lognormal(2.5, 0.4, n),
            "cost": rng.lognormal(8, 1, n) * rng.choice([1.0, -1.0], n),
            "co2": rng.normal(0, 1e6, n),
        }
    )
    values.loc[rng.random(n) < 0.1, "door_to_door_d"] = np.nan  # not delivered
    values.loc[rng.random(n) < 0.001, "cost"] = np.inf
    return keys, values


def _frame(means: GroupMeans, rows: np.ndarray) -> pd.DataFrame:
    """The means of :meth:`GroupMeans.arrays` as ``groupby(...).mean()`` lays them out."""
    seen, values = means.arrays(rows)
    index = pd.Index(means.names[seen[:-1]], name=means.keys.name)
    frame = pd.DataFrame(values[:-1][seen[:-1]], index=index, columns=means.values.columns)
    return frame.sort_index()


@pytest.mark.parametrize("text", [None, "object"])
@pytest.mark.parametrize("seed", range(3))
def test_means_are_pandas_groupby_means(seed: int, text: str | None) -> None:
    rng = np.random.default_rng(seed)
    keys, values = _table(rng, 5_000, text)
    means = GroupMeans(keys, values)
    slow = GroupMeans(keys, values)
    slow._group_mean = None  # pandas' groupby of the selection
    for _ in range(20):
        rows = rng.random(len(keys)) < rng.uniform(0, 1)
        expected = values[rows].groupby(keys[rows]).mean()
        for got in (_frame(means, rows), _frame(slow, rows)):
            pd.testing.assert_frame_equal(got, expected, check_exact=True, check_index_type=False)
            assert got.to_numpy().tobytes() == expected.to_numpy().tobytes()
        seen, values_by_code = means.arrays(rows)
        assert not seen[-1] and np.isnan(values_by_code[-1]).all()  # rows without a key
    assert means._group_mean is not None  # pandas' routine took every selection


def test_an_empty_selection_has_no_groups() -> None:
    keys, values = _table(np.random.default_rng(7), 100, None)
    seen, means = GroupMeans(keys, values).arrays(np.zeros(100, dtype=bool))
    assert not seen.any() and np.isnan(means).all()


def test_columns_that_are_not_floats_take_pandas_groupby() -> None:
    keys = pd.Series(["a", "b", "a", "b"])
    values = pd.DataFrame({"n": [1, 2, 3, 5]})
    means = GroupMeans(keys, values)
    assert means._group_mean is None
    seen, got = means.arrays(np.array([True, True, True, False]))
    assert seen.tolist() == [True, True, False] and got[:2, 0].tolist() == [2.0, 2.0]
