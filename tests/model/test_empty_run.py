"""A run too short for any shipment to arrive still has its tables (empty, typed)."""

from __future__ import annotations

import pytest

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw


def test_a_run_without_shipments_has_empty_tables_of_the_right_types() -> None:
    raw = tiny_raw()
    raw["simulation"]["days"] = 0.05  # the first box arrives later
    raw["simulation"]["warmup_days"] = 0
    result = simulate(validate_config(raw))
    assert not result.records.shipments
    tables = Tables(result)
    assert tables.shipments.empty and tables.trains.empty
    # text columns stay text, so the tables still join on them
    assert tables.shipments["train_id"].dtype == object
    assert tables.node_events["train_id"].dtype == object
    summary = tables.summary.set_index("metric")["value"]
    assert summary["trains_dispatched_per_day"] == 0
    assert summary["conservation_error_t"] == 0


def test_a_closure_that_touches_no_train_still_has_its_row() -> None:
    """Siemianówka, a crossing none of the baseline's trains takes, closes for two days:
    its row in the disruptions table says so (no box affected) instead of failing."""
    closure = "{id: quiet, node: Siemianówka, effect: close, start: 5 d, duration: 2 d}"
    cfg = load_config(
        "baseline", [f"disruptions={{scheduled: [{closure}]}}"], days=12, warmup_days=2
    )
    frame = Tables(simulate(cfg)).disruptions
    assert frame is not None
    (row,) = frame.to_dict("records")
    assert row["id"] == "quiet" and row["affected_shipments"] == 0
    assert row["rerouted_trains"] == 0 and row["held_trains"] == 0


@pytest.mark.slow
def test_crossings_no_train_used_raise_no_empty_kpi_warning() -> None:
    """The alternative routes' borders see no train in a normal run: their waits are empty
    cells, which the run does not warn about (a warning would come with every run)."""
    from silkroute_sim.outputs.run_folder import empty_kpis_warning

    result = simulate(load_config("baseline", days=40, warmup_days=10))
    tables = Tables(result)
    summary = tables.summary.set_index("metric")["value"]
    assert summary["trains_per_day:Kena"] == 0 and summary.isna()["border_wait_h_mean:Kena"]
    assert empty_kpis_warning(result, tables) is None
