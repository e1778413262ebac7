"""What the tables keep in memory (issue 24): the cost parts are looked up per shipment
without a merged copy of the shipments, summed into the tables and released, and built
again on demand; every number as the merge and the kept parts gave it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from silkroute_sim.analysis.costs import (
    COST_SHIPMENT_COLUMNS,
    STOP_COLUMNS,
    _stop_columns,
    cost_parts,
)
from silkroute_sim.analysis.disruptions import disruptions_frame
from silkroute_sim.analysis.sums import row_sum
from silkroute_sim.analysis.tables import NOT_IN_SUMMARY, Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate


def _stops() -> pd.DataFrame:
    rows = [
        ("T1", "A", 100.0, 50.0, 1, 0, 2.5, 0.0, 0.0, 0.0, 0.0, 0, 0.0),
        ("T1", "B", 300.0, 80.0, 2, 1, 4.0, 7.5, 10.0, 30.0, 0.1, 2, 20.0),
        ("T2", "B", 250.0, 70.0, 2, 1, 3.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0),
    ]
    return pd.DataFrame(rows, columns=STOP_COLUMNS)


@pytest.mark.parametrize(
    ("train_ids", "destinations"),
    [
        (["T2", "T1", "T1", "T2"], ["B", "A", "B", "B"]),  # every shipment has its stop
        (["T2", math.nan, "T1", "T3"], ["B", "A", "B", "A"]),  # not loaded; no stop row
    ],
)
def test_stop_columns_are_what_a_left_merge_gives(
    train_ids: list[object], destinations: list[str]
) -> None:
    ships = pd.DataFrame({"train_id": train_ids, "destination": destinations})
    stops = _stops()
    merged = ships.merge(stops, on=["train_id", "destination"], how="left")
    looked_up = _stop_columns(stops, ships)
    assert list(looked_up) == STOP_COLUMNS[2:]
    for column, values in looked_up.items():
        assert_series_equal(values, merged[column], check_names=False, check_exact=True)


def test_stop_columns_of_a_run_without_deliveries_are_empty_as_merged() -> None:
    ships = pd.DataFrame({"train_id": ["", ""], "destination": ["A", "B"]})
    empty = pd.DataFrame([], columns=STOP_COLUMNS)
    merged = ships.merge(empty, on=["train_id", "destination"], how="left")
    for column, values in _stop_columns(empty, ships).items():
        assert values.isna().all() and len(values) == 2
        # the same dtype as the merge gave: the manifest lists the cost columns' dtypes
        assert_series_equal(values, merged[column], check_names=False, check_exact=True)


@pytest.fixture(scope="module")
def closed() -> Tables:
    cfg = load_config(
        "khorgos-closed-7d",
        ["disruptions.scheduled.0.start=8 d", "disruptions.scheduled.0.duration=3 d"],
        days=24,
        warmup_days=2,
    )
    return Tables(simulate(cfg))


@pytest.mark.slow
def test_tables_release_the_cost_parts_and_build_them_again(closed: Tables) -> None:
    assert closed._cost_parts is None  # not kept once summed
    parts = closed.cost_parts
    assert closed.cost_parts is parts  # built once when asked
    result = closed._result
    again = cost_parts(result, closed.shipments, closed.trains, closed.node_events)
    assert_frame_equal(parts, again, check_exact=True)
    done = closed.shipments["delivered_h"].notna()
    assert done.sum() > 100
    for column in COST_SHIPMENT_COLUMNS:
        assert_series_equal(
            closed.shipments[column], parts[column], check_names=False, check_exact=True
        )
    sums = parts.loc[done, "freight_cost_usd"].groupby(closed.shipments["train_id"][done]).sum()
    by_train = closed.trains.set_index("train_id")["freight_cost_usd"].dropna()
    assert np.array_equal(by_train.sort_index().to_numpy(), sums.sort_index().to_numpy())


def test_cost_parts_in_blocks_of_rows_are_the_parts_in_one_go(
    closed: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long run's parts are worked out in blocks of rows: with blocks of 401 rows (the
    last one short) and with only some columns kept, the same numbers and dtypes."""
    import silkroute_sim.analysis.costs as costs

    args = (closed._result, closed.shipments, closed.trains, closed.node_events)
    whole = cost_parts(*args)
    assert len(whole) > 401 * 5 and len(whole) % 401
    monkeypatch.setattr(costs, "PART_ROWS", 401)
    assert_frame_equal(cost_parts(*args), whole, check_exact=True)
    kept = ["tkm", "feu", "is_box", "co2_kg"]
    assert_frame_equal(cost_parts(*args, keep=kept), whole[["feu", "co2_kg", "tkm", "is_box"]])


def test_disruption_costs_from_the_per_feu_parts_equal_those_from_all_parts(
    closed: Tables,
) -> None:
    assert closed.disruptions is not None and len(closed.disruptions) == 1
    west = closed.trains[closed.trains["direction"] == "west"].reset_index(drop=True)
    from_parts = disruptions_frame(
        closed._result, closed.shipments, west, closed.node_events, closed.cost_parts
    )
    assert from_parts is not None
    assert "extra_cost_usd_per_feu_mean" in from_parts.columns
    assert_frame_equal(closed.disruptions, from_parts, check_exact=True)


def test_summary_level_tables_leave_out_only_columns_no_kpi_reads(closed: Tables) -> None:
    summary = Tables(closed._result, records="summary")
    assert not set(NOT_IN_SUMMARY) & set(summary.shipments.columns)
    kept = [c for c in closed.shipments.columns if c not in NOT_IN_SUMMARY]
    assert list(summary.shipments.columns) == kept
    assert_frame_equal(summary.shipments, closed.shipments[kept], check_exact=True)
    for name in ("summary", "daily", "trains", "node_events", "modes", "disruptions"):
        assert_frame_equal(getattr(summary, name), getattr(closed, name), check_exact=True)


def test_a_row_sum_column_by_column_is_pandas_row_sum_to_the_bit() -> None:
    """The cost parts' totals add one column at a time instead of copying them all: the
    same floats as ``sum(axis=1, min_count=1)`` — missing as 0, NaN where all are, a
    column that is all missing, signed zeros, magnitudes far apart."""
    rng = np.random.default_rng(3)
    n = 50_000
    columns = {f"c{i}": rng.standard_normal(n) * 10.0 ** rng.integers(-4, 7, n) for i in range(11)}
    for values in columns.values():
        values[rng.random(n) < 0.3] = math.nan
        values[rng.random(n) < 0.01] = -0.0
    columns["c4"][:] = math.nan
    frame = pd.DataFrame(columns)
    frame.iloc[7, :] = math.nan
    frame.iloc[9, :] = math.nan
    frame.iloc[9, :2] = -0.0  # only negative zeros present
    for names in (list(columns), list(columns)[:8], ["c0"], ["c4", "c1", "c2"]):
        expected = frame[names].sum(axis=1, min_count=1)
        got = row_sum(frame, names)
        assert np.array_equal(got.to_numpy().view(np.int64), expected.to_numpy().view(np.int64))
        assert got.index.equals(frame.index)


def test_a_row_sum_of_columns_that_are_not_floats_is_pandas_own() -> None:
    """Object columns (a run where nothing was delivered has text NaNs in its stop
    columns) and integers keep pandas' dtype, as the manifest lists it."""
    frame = pd.DataFrame(
        {
            "a": np.array([math.nan, math.nan], dtype=object),
            "b": [1, 2],
            "c": [0.5, math.nan],
        }
    )
    for names in (["a", "c"], ["b"], ["b", "c"]):
        assert_series_equal(row_sum(frame, names), frame[names].sum(axis=1, min_count=1))


def test_text_kept_as_python_strings_gives_the_same_tables(
    closed: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long run keeps its text columns as Python strings (memory); a short one takes
    pandas' Arrow-backed text (speed): every table is the same either way."""
    import silkroute_sim.analysis.tables as tables
    from silkroute_sim.outputs.tablefiles import default_text_types

    monkeypatch.setattr(tables, "OBJECT_TEXT_ROWS", 0)
    kept = Tables(closed._result)
    assert kept.shipments["train_id"].dtype == object and kept.node_events["node"].dtype == object
    assert closed.shipments["train_id"].dtype != object  # a short run: pandas' text type
    for name in ("shipments", "trains", "node_events", "daily", "summary", "disruptions", "modes"):
        ours, theirs = getattr(kept, name), getattr(closed, name)
        assert_frame_equal(default_text_types(ours), theirs, check_exact=True)


@pytest.mark.slow
def test_tables_that_free_the_logs_equal_those_that_keep_them(closed: Tables) -> None:
    """``release=True`` (silkroute run, sweeps) frees the run's shipment and node event
    logs as soon as the tables hold what they read of them: every table is the same, and
    the freed logs say so when read instead of looking empty."""
    result = simulate(closed._result.config)  # the same config and seed: the same run
    freed = Tables(result, release=True)
    for name in ("shipments", "trains", "node_events", "daily", "summary", "disruptions", "modes"):
        assert_frame_equal(getattr(freed, name), getattr(closed, name), check_exact=True)
    east = closed.summary[closed.summary["metric"].str.startswith("eastbound_share:")]
    assert (east["value"] > 0).any()  # the trips, read from the table
    ships, events = result.records.shipments, result.records.node_events
    for use in (len, list, lambda log: log.column("kg"), lambda log: log[0]):
        with pytest.raises(RuntimeError, match="shipment log was released"):
            use(ships)
    for use in (len, list, lambda log: log.arrived_h, lambda log: log.train_id, lambda log: log[0]):
        with pytest.raises(RuntimeError, match="node event log was released"):
            use(events)
    with pytest.raises(RuntimeError, match="released"):
        _ = freed.cost_parts  # built from the shipment log: gone
    assert len(result.records.background_trains) == len(closed._result.records.background_trains)
    assert result.records.monitors["yard_teu"].mean(0, 24) >= 0  # the rest stays
    with pytest.raises(ValueError, match="not a per-unit log"):
        result.records.release("monitors")


def test_trips_from_the_node_events_table_are_those_of_the_log(closed: Tables) -> None:
    """Each train's first stage at a node (not a hold) arriving in the window, read from
    the node events table (censored rows left out), as the log's rows give them."""
    from silkroute_sim.analysis.directions import _trips, eastbound_train_ids

    result = closed._result
    w0, w1 = result.warmup_h, result.end_h
    east_ids = eastbound_train_ids(result)
    seen: set[tuple[str, str]] = set()
    expected: list[tuple[str, bool]] = []
    for event in result.records.node_events:
        pair = (event.train_id, event.node)
        if w0 <= event.arrived_h < w1 and event.kind != "held" and pair not in seen:
            seen.add(pair)
            expected.append((event.node, event.train_id in east_ids))
    assert closed.node_events["censored"].any()  # the trains still at a node: left out
    nodes, east = _trips(result, closed.node_events)
    got = list(zip(nodes.tolist(), east.tolist(), strict=True))
    assert sorted(got) == sorted(expected) and any(e for _, e in expected)


def test_yearly_totals_by_pair_codes_are_those_of_grouping_by_both_texts(closed: Tables) -> None:
    """The cost totals group by a number per (destination, cargo class) pair, numbered in
    the pairs' sorted order: the same floats as grouping by both text columns."""
    from silkroute_sim.analysis.group_means import YearlyTotals, pair_codes

    ships, parts = closed.shipments, closed.cost_parts
    w0, w1 = closed._result.warmup_h, closed._result.end_h
    released = (ships["delivered_h"] >= w0) & (ships["delivered_h"] < w1)
    arrived = (ships["arrived_h"] >= w0) & (ships["arrived_h"] < w1)
    keys = [ships["destination"], ships["cargo_class"]]
    assert ships.groupby(keys).ngroups > 3  # several destinations and classes
    codes = pair_codes(ships)
    for column in ("freight_cost_usd", "co2_kg", "subsidy_usd"):
        per = (parts.loc[released, column] / parts.loc[released, "feu"]).groupby(
            [k[released] for k in keys]
        )
        demand = parts.loc[arrived, "feu"].groupby([k[arrived] for k in keys]).sum()
        expected = float((demand * per.mean().reindex(demand.index)).sum(skipna=False))
        got = YearlyTotals(parts, ships, released, arrived, codes).total(parts, column)
        assert got == expected or (math.isnan(got) and math.isnan(expected))
    # the order of the pairs is the sorted order of both texts, whatever order they come in
    shuffled = ships.iloc[::-1]
    order = np.argsort(pair_codes(shuffled), kind="stable")
    dests, classes = shuffled["destination"].iloc[order], shuffled["cargo_class"].iloc[order]
    pairs = list(zip(dests, classes, strict=True))
    assert pairs == sorted(pairs)


def test_a_log_hands_each_column_over_once() -> None:
    """``take`` gives a column as ``column`` does and lets go of it: reading it again
    says so; the other columns are still read as before."""
    result = simulate(load_config("baseline", days=6, warmup_days=1))
    log = result.records.shipments
    kg, destination = log.column("kg"), log.column("destination")
    assert np.array_equal(log.take("kg"), kg)
    assert list(log.take("destination")) == list(destination)
    for read in (log.take, log.column):
        with pytest.raises(RuntimeError, match="'kg' was taken already"):
            read("kg")
    assert len(log.column("teu")) == len(log) == len(kg)
