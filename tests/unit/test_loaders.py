"""Results read back: write then load gives the tables the run produced, from CSV or
Parquet; the fast CSV writer gives pandas' bytes; summary.csv's qualifier columns."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import silkroute_sim
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate
from silkroute_sim.outputs.loaders import ResultError, load_run, load_sweep
from silkroute_sim.outputs.run_folder import write_run
from silkroute_sim.outputs.summary_split import split_summary
from silkroute_sim.outputs.tablefiles import (
    FLOAT_FORMAT,
    csv_bytes,
    csv_chunks,
    default_text_types,
)

from ..conftest import CONFIGS

#: CSV keeps four decimals
CSV_TOLERANCE = 5e-5


@pytest.fixture(scope="module")
def closure_run() -> tuple[object, Tables]:
    """A short run of the closure scenario: every table, disruptions included."""
    cfg = load_config(
        CONFIGS / "scenarios" / "khorgos-closed-7d.yaml",
        ["disruptions.scheduled[id=khorgos-closed].start=5 d"],
        days=12,
        warmup_days=2,
    )
    result = simulate(cfg)
    return result, Tables(result)


def _assert_close(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pdt.assert_frame_equal(left, right, check_exact=False, rtol=0, atol=CSV_TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_then_load_gives_the_tables(
    closure_run: tuple[object, Tables], tmp_path: Path, fmt: str
) -> None:
    result, tables = closure_run
    folder, _, _ = write_run(result, tmp_path / fmt, plots=False, tables=tables, fmt=fmt)  # type: ignore[arg-type]
    run = load_run(folder)
    assert run.format == fmt and run.records == "full"
    assert tables.disruptions is not None and run.disruptions is not None
    for name in ("trains", "shipments", "node_events", "disruptions"):
        loaded = getattr(run, name)
        assert (folder / f"{name}.{fmt}").is_file()
        # long text columns are Python strings in memory, pandas' text type once read
        kept = default_text_types(getattr(tables, name))
        if fmt == "parquet":  # Parquet keeps every bit
            pdt.assert_frame_equal(loaded, kept)
        else:
            _assert_close(loaded, kept)
    _assert_close(run.daily, tables.daily)
    _assert_close(run.summary[["metric", "value", "unit"]], tables.summary)
    assert tables.modes is not None  # the baseline compares rail with sea and air
    assert (folder / "modes.csv").is_file()  # always CSV: a small table
    _assert_close(run.tables["modes"], tables.modes)
    assert run.daily_long is not None
    assert len(run.daily_long) == len(tables.daily) * (len(tables.daily.columns) - 2)


def test_parquet_and_csv_load_equal(closure_run: tuple[object, Tables], tmp_path: Path) -> None:
    result, tables = closure_run
    a = load_run(write_run(result, tmp_path / "a", plots=False, tables=tables)[0])  # type: ignore[arg-type]
    b = load_run(write_run(result, tmp_path / "b", plots=False, tables=tables, fmt="parquet")[0])  # type: ignore[arg-type]
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        _assert_close(a.tables[name], b.tables[name])
        assert list(a.tables[name].dtypes) == list(b.tables[name].dtypes), name


def test_summary_records_leave_out_the_big_tables(
    closure_run: tuple[object, Tables], tmp_path: Path
) -> None:
    result, tables = closure_run
    folder, _, _ = write_run(result, tmp_path / "s", plots=False, tables=tables, records="summary")  # type: ignore[arg-type]
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "summary.csv",
        "daily.csv",
        "modes.csv",
        "manifest.json",
        ".silkroute-complete",
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["records"] == "summary"
    run = load_run(folder)
    assert run.shipments is None and run.trains is None and run.node_events is None
    assert run.kpis()["demand_t_per_day:containers"] > 0  # per-class KPIs are kept


def test_summary_qualifiers_split_from_the_config(closure_run: tuple[object, Tables]) -> None:
    result, tables = closure_run
    split = split_summary(tables.summary, result.config.resolved()).set_index("metric")  # type: ignore[attr-defined]
    assert split.loc["door_to_door_d_median:Duisburg", ["kpi", "by", "key"]].tolist() == [
        "door_to_door_d_median",
        "destination",
        "Duisburg",
    ]
    assert split.loc["border_wait_h_mean:Khorgos", "by"] == "node"
    # Almaty is a destination and a corridor node: a destination among destinations
    assert split.loc["door_to_door_d_median:Almaty", "by"] == "destination"
    assert split.loc["demand_t_per_day:containers", "by"] == "cargo_class"
    row = split.loc["delivered_t_per_day:containers:Moscow"]
    assert (row["by"], row["key"]) == ("cargo_class:destination", "containers:Moscow")
    assert split.loc["recovery_h:khorgos-closed", "by"] == "event"
    assert pd.isna(split.loc["demand_t_per_day", "by"])


def test_fast_csv_writer_gives_pandas_bytes() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.normal(0, 1e3, 5000),
            rng.integers(-(10**6), 10**6, 2000) / 1e4 + 0.00005,  # ties at the 5th decimal
            [0.03125, -0.0, -0.00001, 1e12, -3e15, np.inf, -np.inf, np.nan, 2.5e-5],
        ]
    )
    words = ["a,b", 'say "hi"', None, "two\nlines", "Łódź", "plain"]
    frame = pd.DataFrame(
        {
            "x": x,
            "s": [words[i % len(words)] for i in range(len(x))],
            "flag": x > 0,
            "n": np.arange(len(x)),
        }
    )
    expected = frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    assert csv_bytes(frame) == expected.encode()
    # written in pieces of rows (a long run's tables), the same bytes end to end
    pieces = list(csv_chunks(frame, rows=999))
    assert len(pieces) == 1 + math.ceil(len(frame) / 999)
    assert b"".join(pieces) == expected.encode()


def test_loaders_refuse_what_is_not_a_result(tmp_path: Path) -> None:
    with pytest.raises(ResultError, match="does not exist"):
        load_run(tmp_path / "nothing")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(ResultError, match="not a silkroute result folder"):
        load_run(tmp_path / "mine")
    half = tmp_path / "half"
    half.mkdir()
    (half / "manifest.json").write_text(json.dumps({"silkroute_version": "0", "kind": "run"}))
    with pytest.raises(ResultError, match="unfinished run result"):
        load_run(half)


def test_loader_names_the_right_loader_and_missing_files(
    closure_run: tuple[object, Tables], tmp_path: Path
) -> None:
    result, tables = closure_run
    folder, _, _ = write_run(result, tmp_path / "r", plots=False, tables=tables, fmt="parquet")  # type: ignore[arg-type]
    with pytest.raises(ResultError, match="is a run folder; read it with load_run"):
        load_sweep(folder)
    (folder / "shipments.parquet").unlink()
    with pytest.raises(ResultError, match=r"shipments.parquet: missing; the result is incomplete"):
        load_run(folder)


def test_public_api_has_signatures_and_stays_cheap() -> None:
    import inspect

    for name in ("load_config", "simulate", "run_tables", "load_run", "load_comparison"):
        func = getattr(silkroute_sim, name)
        params = inspect.signature(func).parameters
        assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), name
        assert func.__doc__ and len(func.__doc__) > 40, name
    assert "path" in inspect.signature(silkroute_sim.load_config).parameters
    assert "folder" in inspect.signature(silkroute_sim.load_run).parameters
