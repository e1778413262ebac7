"""Per-row numbers looked up by text once per distinct text (analysis/costs.py
``_looked_up``): the same floats as pandas' ``map`` then ``fillna``, missing texts and
texts without a number included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from silkroute_sim.analysis.costs import _looked_up

TEXTS = st.sampled_from(["Duisburg", "Łódź", "Almaty", "Hamburg", "", "a b"])


@given(
    rows=st.lists(st.one_of(TEXTS, st.none()), max_size=60),
    values=st.dictionaries(TEXTS, st.floats(0, 1e6, allow_nan=False), max_size=4),
    otherwise=st.floats(0, 1e6, allow_nan=False),
    arrow=st.booleans(),
)
def test_looked_up_is_map_then_fillna(rows, values, otherwise, arrow) -> None:
    texts = pd.Series(rows, dtype="str" if arrow else object, index=np.arange(len(rows)) * 3)
    expected = texts.map(values).fillna(otherwise).astype(float)
    got = _looked_up(texts, values, otherwise)
    assert got.index.equals(texts.index)
    assert got.dtype == np.float64
    assert np.array_equal(got.to_numpy(), expected.to_numpy())
