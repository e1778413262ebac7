"""A run too short for any shipment to arrive still has its tables (empty, typed)."""

from __future__ import annotations

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import validate_config
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
