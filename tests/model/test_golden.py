"""Layer 5: golden backtests. A small scenario's KPIs are frozen in tests/golden/.

Changing them is a reviewed decision: regenerate with
``SILKROUTE_REGOLD=1 python -m pytest tests/test_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate
from silkroute_sim.outputs.storage import FLOAT_FORMAT

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "baseline_30d": ("configs/baseline.yaml", [], 30, 10, 1),
    "baseline_5000t_30d": ("configs/baseline.yaml", ["demand.tonnes_per_day=5000"], 30, 10, 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_summary_matches_golden(case: str) -> None:
    path, overrides, days, warmup, seed = CASES[case]
    result = simulate(load_config(path, overrides, days=days, warmup_days=warmup, seed=seed))
    text = Tables(result).summary.to_csv(index=False, float_format=FLOAT_FORMAT)
    golden = GOLDEN / f"{case}_summary.csv"
    if os.environ.get("SILKROUTE_REGOLD"):
        golden.write_text(text, encoding="utf-8")
    expected = pd.read_csv(golden, keep_default_na=False, na_values=[""])
    actual = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    pdt.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9, atol=1e-9)
