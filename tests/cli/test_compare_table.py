"""The table `silkroute compare` prints: column headers, one column per scenario, fractions'
differences in percentage points. Built from a hand-made comparison table (no runs)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd

from silkroute_sim.analysis.kpis import CATALOGUE
from silkroute_sim.cli.compare import difference_cell, print_comparison


def _table() -> pd.DataFrame:
    rows = []
    for scenario, crane, dwell, diffs in (
        ("base", 0.733, 27.8, (math.nan,) * 6),
        ("gantry", 0.550, 25.6, (-0.1832, -0.1859, -0.1805, -2.23, -2.38, -2.08)),
        ("track", 0.733, 27.8, (0.0, 0.0, 0.0, 0.029, -0.031, 0.089)),
    ):
        rows.append(("crane_utilisation", scenario, crane, *diffs[:3]))
        rows.append(("hub_dwell_h_mean", scenario, dwell, *diffs[3:]))
    frame = pd.DataFrame(
        rows, columns=["metric", "scenario", "mean", "diff", "diff_ci_low", "diff_ci_high"]
    )
    frame["significant"] = [
        None if math.isnan(lo) else bool(lo > 0 or hi < 0)
        for lo, hi in zip(frame["diff_ci_low"], frame["diff_ci_high"], strict=True)
    ]
    frame["method"] = ["" if s == "base" else "paired" for s in frame["scenario"]]
    return frame


def test_the_compare_table_has_headers_and_percentage_points(capsys) -> None:
    comparison = SimpleNamespace(
        table=_table(),
        names=["base", "gantry", "track"],
        base=SimpleNamespace(reps=[1, 2, 3, 4, 5]),
        ci=0.95,
    )
    print_comparison(comparison)  # type: ignore[arg-type]
    lines = capsys.readouterr().out.splitlines()
    header = lines[1].split()
    assert header[:3] == ["KPI", "base", "(mean)"] and "gantry" in header and "track" in header
    assert set(lines[2].replace(" ", "")) == {"-"}  # a rule under the headers
    crane = next(x for x in lines if x.strip().startswith("crane utilisation"))
    assert "73.3%" in crane
    assert "-18.32 pp ± 0.27 pp *" in crane
    assert "0 pp ± 0 pp" in crane  # no difference: no sign, no rounding residue
    assert "%" not in crane.split("73.3%", 1)[1]  # differences in pp, never %
    dwell = next(x for x in lines if x.strip().startswith("hub dwell (mean)"))
    assert "-2.23 h ± 0.15 h *" in dwell and "+0.029 h ± 0.060 h" in dwell
    # columns line up: a scenario's cells end where its header ends
    end = lines[1].index("gantry − base") + len("gantry − base")
    assert crane[:end].endswith("pp *") and dwell[:end].endswith("h *")


def test_a_rounding_residue_prints_as_zero() -> None:
    kpi = CATALOGUE["crane_utilisation"]
    assert difference_cell(kpi, -1e-16, -2e-16, 1e-16, False) == "0 pp ± 0 pp"
    assert difference_cell(kpi, 0.001, math.nan, math.nan, False) == "+0.10 pp"
