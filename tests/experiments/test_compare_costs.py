"""``silkroute compare`` reports what an extra gantry saves per year, with a paired interval
(common random numbers), through the KPI catalogue like any other KPI (docs/costs.md)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from silkroute_sim.analysis.kpis import COMPARED, HEADLINE, lookup
from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.compare import compare_configs
from silkroute_sim.outputs.folder_report import comparison_table, key_metrics

REPO = Path(__file__).resolve().parents[2]
SHORT = {"days": 20, "warmup_days": 5}
YEARLY = (
    "freight_cost_usd_per_year",
    "inventory_cost_usd_per_year",
    "logistics_cost_usd_per_year",
    "co2_t_per_year",
)


@pytest.fixture(scope="module")
def comparison():
    base = load_config(REPO / "configs" / "baseline.yaml", **SHORT)
    gantry = load_config(REPO / "configs" / "scenarios" / "extra-gantry.yaml", **SHORT)
    return compare_configs([base, gantry], 4, workers=2)


@pytest.mark.slow
def test_yearly_costs_are_compared_with_a_paired_interval(comparison) -> None:
    for metric in YEARLY:
        row = comparison.row("extra-gantry", metric)
        assert row["method"] == "paired", metric
        assert row["diff_ci_low"] <= row["diff"] <= row["diff_ci_high"], metric
        assert math.isfinite(row["diff_ci_low"]) and row["diff_ci_high"] > row["diff_ci_low"]
        base = comparison.row("baseline", metric)
        assert base["mean"] > 0 and base["n"] == 4
    # a fourth gantry shortens hub dwell, so boxes carry less inventory cost per year: a
    # saving the paired interval resolves in 15 observed days (about USD 0.2 M a year)
    inventory = comparison.row("extra-gantry", "inventory_cost_usd_per_year")
    assert inventory["diff_ci_high"] < 0 and bool(inventory["significant"])


@pytest.mark.slow
def test_yearly_costs_flow_through_the_kpi_catalogue(comparison) -> None:
    """The catalogue labels and formats them, the comparison's report table and the CLI's
    headline show them, with the difference and its half-width in the KPI's format."""
    assert "logistics_cost_usd_per_year" in HEADLINE
    metrics = list(dict.fromkeys(comparison.table["metric"]))
    shown = key_metrics(metrics)
    assert [m for m in COMPARED if m in YEARLY] == [m for m in shown if m in YEARLY]
    assert set(YEARLY) <= set(shown)
    table = comparison_table(comparison.table)
    assert set(YEARLY) <= set(table["metric"])
    kpi = lookup("logistics_cost_usd_per_year")
    assert kpi is not None and kpi.unit == "USD/yr" and kpi.better == "lower"
    row = comparison.row("extra-gantry", "logistics_cost_usd_per_year")
    text, half = kpi.interval_texts(row["diff"], (row["diff_ci_high"] - row["diff_ci_low"]) / 2)
    assert text.endswith("USD/yr") and half.endswith("USD/yr")
