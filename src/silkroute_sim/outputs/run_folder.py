"""Writing one run's result folder: its tables, manifest, plots, completion marker.

The tables a run writes are listed once, in :data:`RUN_TABLES`: each with the records
level it belongs to (``summary``: written at every level; ``full``: only with
``records="full"``) and whether it follows the table format (Parquet or CSV) or is always
CSV. The manifest records the level, the format and, for each table written, its file,
rows and column dtypes, from which :mod:`silkroute_sim.outputs.loaders` reads it back.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.folder_report import folder_report
from silkroute_sim.outputs.forked import jobs_in_child
from silkroute_sim.outputs.plots.run import FIGURE_SHIPMENT_COLUMNS, run_plots_beside
from silkroute_sim.outputs.run_identity import RunIdentity, check_run_target, write_run_folder
from silkroute_sim.outputs.storage import (
    base_manifest,
    mark_complete,
    write_json,
)
from silkroute_sim.outputs.summary_split import daily_long, split_summary
from silkroute_sim.outputs.tablefiles import FORMATS, dtype_names, suffix, write_table

if TYPE_CHECKING:
    import pandas as pd

Records = Literal["full", "summary"]
#: records levels: ``full`` writes every table, ``summary`` leaves out the per-shipment
#: and per-event ones (``RunTable.level == "full"``)
RECORDS = ("full", "summary")


@dataclass(frozen=True)
class RunTable:
    """One table of a run folder: its file stem, how it is built from the run's
    :class:`~silkroute_sim.analysis.tables.Tables` (None: the run has none), the records
    level it belongs to, whether it follows the table format (else always CSV), and the
    formats it is written in (``daily_long`` only in Parquet: in a CSV folder the loader
    derives it from ``daily.csv``, which holds the same numbers)."""

    name: str
    build: Callable[[RunResult, Tables], pd.DataFrame | None]
    level: Records = "full"
    follows_format: bool = True
    formats: tuple[str, ...] = FORMATS


#: every table a run folder can hold, in the order they are written (add new ones here)
RUN_TABLES: tuple[RunTable, ...] = (
    RunTable(
        "summary", lambda r, t: split_summary(t.summary, r.config.resolved()), "summary", False
    ),
    RunTable("daily", lambda r, t: t.daily, "summary", False),
    RunTable(
        "daily_long",
        lambda r, t: daily_long(t.daily, r.config.resolved()),
        formats=("parquet",),
    ),
    RunTable("trains", lambda r, t: t.trains),
    RunTable("shipments", lambda r, t: t.shipments),
    RunTable("node_events", lambda r, t: t.node_events),
    RunTable("disruptions", lambda r, t: t.disruptions),
    RunTable("modes", lambda r, t: t.modes, "summary", False),
)


def table_file(table: RunTable, fmt: str) -> str:
    """The file name of ``table`` in a folder written in format ``fmt``."""
    return table.name + suffix(fmt if table.follows_format else "csv")


def check_records(records: str, fmt: str) -> None:
    from silkroute_sim.config.errors import SilkrouteError

    if records not in RECORDS:
        raise SilkrouteError(f"records: {records!r} is not one of {', '.join(RECORDS)}")
    if fmt not in FORMATS:
        raise SilkrouteError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


def saturation_warning(result: RunResult, tables: Tables) -> str | None:
    """A warning when the backlog grew over the observation window."""
    daily = tables.daily
    window = daily[~daily["warmup"]]
    if len(window) < 2:
        return None
    start, end = float(window["backlog_t"].iloc[0]), float(window["backlog_t"].iloc[-1])
    demand = result.config.demand.tonnes_per_day
    if end - start > 2 * demand and end > 1.5 * max(start, 1.0):
        return (
            f"the hub is saturated: backlog grew from {start:,.0f} t to {end:,.0f} t "
            "over the observation window"
        )
    return None


def empty_kpis_warning(result: RunResult, tables: Tables) -> str | None:
    """Say which KPIs are empty and why: an empty cell means "nothing to measure", and a
    run where that happens (no train left, nothing delivered) should not pass unnoticed."""
    summary = tables.summary
    values = dict(zip(summary["metric"], summary["value"], strict=False))
    # a crossing no train used (an alternative route of the graph) has no wait to average
    # and no share: nothing the user needs telling
    unused = {
        m.split(":", 1)[1] for m, v in values.items() if m.startswith("trains_per_day:") and v == 0
    }
    empty = [
        str(m)
        for m in summary.loc[summary["value"].isna(), "metric"]
        if not (":" in str(m) and str(m).split(":", 1)[1] in unused)
    ]
    if not empty:
        return None
    if values.get("demand_t_per_day") == 0:
        why = "no cargo arrived"
    elif values.get("trains_dispatched_per_day") == 0:
        why = "no train left the hub"
    elif values.get("delivered_t_per_day") == 0:
        why = "nothing was delivered"
    else:
        why = "nothing to measure for them"
    names = sorted({m.split(":")[0] for m in empty})
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return (
        f"{len(empty)} KPIs are empty ({why} between day {result.warmup_h / 24:g} and day "
        f"{result.end_h / 24:g}): {shown}"
    )


def run_identity(result: RunResult) -> RunIdentity:
    """The identity of ``result``'s run (what another run must differ in to be another)."""
    return RunIdentity(
        kind="run",
        name=result.config.name,
        config_hash=result.config.config_hash(),
        seeds=(int(result.seed),),
        days=result.end_h / 24,
        warmup_days=result.warmup_h / 24,
    )


def manifest(
    result: RunResult,
    warnings: list[str],
    tables: dict[str, dict[str, Any]] | None = None,
    records: str = "full",
    fmt: str = "csv",
) -> dict[str, Any]:
    data = base_manifest()
    files = [info["file"] for info in (tables or {}).values()]
    data.update(
        {
            "kind": "run",
            "name": result.config.name,
            "seed": result.seed,
            "config_hash": result.config.config_hash(),
            "events": result.events,
            "simulated_days": result.end_h / 24,
            "warmup_days": result.warmup_h / 24,
            "records": records,
            "format": fmt,
            "warnings": warnings,
            "files": [*sorted(files), "manifest.json"],
            "tables": tables or {},
            "config": result.config.resolved(),
        }
    )
    return data


#: the tables written in a forked child while this process writes the others, in a run
#: without figures (:func:`write_tables` with ``beside``): a baseline year's shipments
#: table is most of the folder's bytes and of the time its files take
BESIDE = frozenset({"shipments"})


def write_tables(
    result: RunResult,
    tables: Tables,
    folder: Path,
    records: str = "full",
    fmt: str = "csv",
    beside: bool = False,
) -> dict[str, dict[str, Any]]:
    """Write the tables of :data:`RUN_TABLES` that ``records`` asks for into ``folder``;
    returns, per table written, its file, rows and column dtypes (for the manifest).
    With ``beside``, a forked child starts on the tables of :data:`BESIDE` while this
    process writes the others (:func:`~silkroute_sim.outputs.forked.jobs_in_child`: any
    the child has not taken by then, or all where no child can be forked, are written
    here after them)."""
    written: dict[str, dict[str, Any]] = {}
    here: list[Callable[[], None]] = []
    away: list[Callable[[], None]] = []
    for table in RUN_TABLES:
        if (records == "summary" and table.level == "full") or fmt not in table.formats:
            continue
        frame = table.build(result, tables)
        if frame is None:
            continue
        name = table_file(table, fmt)
        job = functools.partial(write_table, frame, folder / name)
        (away if beside and table.name in BESIDE else here).append(job)
        written[table.name] = {"file": name, "rows": len(frame), "dtypes": dtype_names(frame)}
    with jobs_in_child(away):
        for write in here:
            write()
    return written


def _check_arguments(result: object, out: object, plots: object, force: object) -> None:
    from silkroute_sim.config.errors import SilkrouteError

    if not isinstance(result, RunResult):
        raise SilkrouteError(
            f"write_run: expected a run's result (simulate(...)), got {type(result).__name__}"
        )
    if not isinstance(out, str | os.PathLike):
        raise SilkrouteError(f"write_run: out is a folder path, got {type(out).__name__}")
    for name, value in (("plots", plots), ("force", force)):
        if not isinstance(value, bool):
            raise SilkrouteError(f"write_run: {name} is True or False (got {value!r})")


def write_run(
    result: RunResult,
    out: Path,
    *,
    plots: bool = True,
    force: bool = False,
    tables: Tables | None = None,
    records: Records = "full",
    fmt: str = "csv",
    release: bool = False,
    on_tables: Callable[[], object] | None = None,
) -> tuple[Path, Tables, list[str]]:
    """Write the result folder for ``result`` atomically; returns (folder, tables, warnings).

    ``records``: ``"full"`` writes every table; ``"summary"`` writes ``summary.csv``,
    ``daily.csv`` and the long daily table (KPIs, per cargo class too), not the
    per-shipment or per-event tables. ``fmt``: ``"csv"`` or ``"parquet"`` for the tables
    that follow the format (all but ``summary.csv`` and ``daily.csv``). A folder that
    holds a different run is refused unless ``force``; the same run is replaced.
    ``release``: the caller keeps no use for ``result``'s per-unit logs, which the tables
    free once built (:class:`~silkroute_sim.analysis.tables.Tables`); at ``"summary"``
    with ``plots``, the shipments table built here then keeps only the columns the
    figures (and replications' door-to-door statistics) read
    (:data:`~silkroute_sim.outputs.plots.run.FIGURE_SHIPMENT_COLUMNS`). ``on_tables`` is
    called once the tables are built, before anything is written."""
    check_records(records, fmt)
    _check_arguments(result, out, plots, force)
    identity = run_identity(result)
    check_run_target(out, identity, force)
    built = tables is None
    tables = tables or Tables(result, records, release=release)
    if on_tables is not None:
        on_tables()
    warnings = list(result.records.warnings)
    for warning in (saturation_warning(result, tables), empty_kpis_warning(result, tables)):
        if warning:
            warnings.append(warning)
    if built and release and records == "summary" and plots:
        # no shipments table to write: the figures' columns are all that is read now
        for column in [c for c in tables.shipments.columns if c not in FIGURE_SHIPMENT_COLUMNS]:
            del tables.shipments[column]

    def fill(folder: Path) -> None:
        if plots:  # part of the figures drawn in a forked child while the tables are written
            with run_plots_beside(result, tables, folder / "plots"):
                written = write_tables(result, tables, folder, records, fmt)
        else:  # the largest table written by a forked child meanwhile
            written = write_tables(result, tables, folder, records, fmt, beside=True)
        write_json(manifest(result, warnings, written, records, fmt), folder / "manifest.json")
        if plots:  # the self-contained page: description, KPI table, plots embedded
            folder_report(folder)
        mark_complete(
            folder,
            {"kind": "run", "config_hash": identity.config_hash, "seed": result.seed},
        )

    folder = write_run_folder(out, fill, identity, force)
    return folder, tables, warnings
