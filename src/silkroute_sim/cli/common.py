"""What every command shares: the one-line error, the progress bar, the build notice,
warnings, worker counts and the KPI tables (labels and formats from the KPI catalogue,
:mod:`silkroute_sim.analysis.kpis`).

Light imports only: ``silkroute --help`` loads this module.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from silkroute_sim.analysis.kpis import HEADLINE, KPI, base_name, headline, label, lookup
from silkroute_sim.buildinfo import build_note
from silkroute_sim.config.errors import on_one_line
from silkroute_sim.experiments.executor import Executor, default_workers, make_executor

if TYPE_CHECKING:
    import pandas as pd

#: warnings printed on stderr at most; the rest are in manifest.json
MAX_WARNINGS_SHOWN = 6


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr starting ``error:``, then exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP (:func:`stop_on_signals`).

    A KeyboardInterrupt, so whatever cleans up after Ctrl-C cleans up after ``kill`` too:
    the executor stops its worker processes as the exception passes through it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: what the one line says for each signal that stops a command
_STOP_MESSAGES = {
    "SIGINT": "interrupted",
    "SIGTERM": "terminated (SIGTERM)",
    "SIGHUP": "stopped: the terminal hung up (SIGHUP)",
}


def stop_message(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line and the exit code (128 + the signal) for a stop: Ctrl-C gives 130,
    ``kill`` (SIGTERM) 143, a closed terminal (SIGHUP) 129."""
    signum = exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)
    name = signal.Signals(signum).name
    return _STOP_MESSAGES.get(name, f"stopped by {name}"), 128 + signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP (where it exists) raise
    :class:`Stopped` in the main thread, once: a second signal while the command stops its
    workers is ignored, so the clean-up is not cut short. The handlers in place before are
    restored on exit. Does nothing outside the main thread (signals go to it only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    stopping = False

    def handler(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def one_line(text: str, limit: int = 1000) -> str:
    text = on_one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal: progress bars are drawn only then. Redirected to a
    log or a pipe (CI, ``nohup``, ``2> run.log``) a bar would write its ``\\r`` frames
    into the file, so it is left out, as pip and tqdm (``disable=None``) do; the
    command's own lines (warnings, the KPI table, where the results are) still come."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def progress_bar(enabled: bool, total: float, desc: str, unit: str = "day") -> Any:
    """A tqdm bar on stderr that appears only for work longer than ~2 s and only when
    stderr is a terminal (:func:`stderr_is_terminal`); None when not ``enabled`` or not
    on a terminal. Counts simulated days, or runs with ``unit="run"``."""
    if not enabled or not stderr_is_terminal():
        return None
    from tqdm import tqdm

    # no monitor thread: the bar is refreshed by hand, and a run's figures are drawn in a
    # forked child only where the process has no other thread (outputs/forked.py)
    tqdm.monitor_interval = 0
    counter = "{n:.0f}/{total:.0f} days" if unit == "day" else "{n}/{total} runs"
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        delay=2.0,
        dynamic_ncols=True,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| " + counter + " [{elapsed}<{remaining}]",
    )


#: glibc's ``mallopt`` parameter for the size from which a block gets its own mapping
M_MMAP_THRESHOLD = -3
#: while a command simulates and builds its tables, blocks from this size up (a column of
#: a long run's table, a mask over one, a monitor's batch of changes) are mapped on their
#: own: glibc's own starting threshold, kept there
LARGE_BLOCK_BYTES = 1 << 17
#: once the tables are built: the files and figures allocate many blocks of 0.1 to 1 MB,
#: which their own mappings would make about 0.2 s slower in a baseline year (3 %)
OUTPUT_BLOCK_BYTES = 1 << 20


def map_large_blocks(size: int = LARGE_BLOCK_BYTES) -> bool:
    """Give every block of ``size`` or more its own memory mapping, returned to the
    system as soon as it is freed (glibc on Linux; elsewhere nothing changes). By default
    glibc raises that threshold each time such a block is freed, up to 32 MiB, so a long
    run's records and tables (columns of 5 MB, masks, group keys and batches of 0.1 to
    1 MB, built and dropped one after another) end up in the heap, whose freed gaps the
    process keeps. A 10-year run's peak is about 15 MiB lower from 128 KiB than from
    1 MiB (docs/performance.md). Setting the threshold also stops that adjustment (glibc
    manual, "Malloc Tunable Parameters"). It holds for the command's process and the
    workers it forks. A threshold the user set (``MALLOC_MMAP_THRESHOLD_``, or
    ``glibc.malloc.mmap_threshold`` in ``GLIBC_TUNABLES``) is left as it is. Returns
    whether it was set."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if (
        not sys.platform.startswith("linux")
        or "MALLOC_MMAP_THRESHOLD_" in os.environ
        or "glibc.malloc.mmap_threshold" in tunables
    ):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):  # no ctypes, or a C library without it
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, size))


def one_allocator() -> None:
    """Arrow's buffers (the tables' text columns, the CSV writer's pieces) from the C
    library's allocator, which numpy's arrays and Python's large objects use too: memory
    one of them frees is reused by the others, instead of Arrow's own allocator keeping
    what it freed apart (a 10-year run's peak about 5 % lower, no slower). For a command's
    own process, before its tables are built; the Python API leaves the choice to its
    caller."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def build_notice(quiet: bool = False) -> None:
    """Say on stderr, once, when this install is the slower pure-Python build although
    it was meant to be compiled (the install could not compile it): before the commands
    that simulate (run, sweep, compare, verify) and with --version."""
    note = build_note()
    if note is not None and not quiet:
        click.echo(f"note: {note}", err=True)


def echo_warnings(warnings: list[str]) -> None:
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {warning}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(
            f"warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more (see manifest.json)",
            err=True,
        )


def workers_count(workers: int) -> int:
    """``--workers``: 0 means one per usable CPU core."""
    return workers if workers > 0 else default_workers()


def command_executor(workers: int, runs: int) -> Executor:
    """The one executor of a command that runs ``runs`` simulations: ``--workers``
    processes (0: one per core), no more than the runs, in-process for one. Close it (use
    it as a context manager) when the command is done."""
    return make_executor(max(1, min(workers_count(workers), runs)))


# --------------------------------------------------------------------------- KPI tables


#: the sections that follow the headline when a run measured them: a title and the
#: catalogue's base names in the order shown. A metric shows unqualified (if it is not a
#: headline KPI) and with one qualifier (an event, a cargo class, a destination), grouped
#: by qualifier; deeper breakdowns (class and destination) stay in summary.csv.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "disruptions",
        (
            "recovery_h",
            "system_recovery_h",
            "stranded_trains_max",
            "stranded_trains_mean",
            "stranded_background_trains_max",
            "cranes_down_mean",
            "backlog_t_max",
            "affected_shipments",
            "extra_door_to_door_d_mean",
            "extra_cost_usd_per_feu_mean",
            "weather_events",
            "weather_hours",
            "recovery_h_max",
            "breakdown_events",
            "breakdown_hours",
        ),
    ),
    (
        "cargo classes",
        (
            "delivered_units_per_year",
            "export_value_usd_per_year",
            "hub_dwell_h_mean",
            "wagon_utilisation",
            "compound_occupancy",
            "ramp_utilisation",
        ),
    ),
    (
        "cost and CO2",
        (
            "freight_cost_usd_per_year",
            "co2_t_per_year",
            "freight_cost_usd_per_feu_mean",
            "co2_kg_per_feu_mean",
        ),
    ),
)


def _one_class(metrics: list[str]) -> bool:
    """Only one cargo class (the baseline's containers): its class rows say nothing
    the headline does not."""
    classes = {m.split(":")[1] for m in metrics if m.startswith("demand_units_per_year:")}
    export = any(m.startswith("export_value_usd_per_year") for m in metrics)
    return len(classes) <= 1 and not export


def sections(metrics: list[str]) -> list[tuple[str, list[str]]]:
    """The sections of :data:`SECTIONS` that ``metrics`` (a summary's metric names, in
    its order) has rows for, each with the metrics to show: the scenario's disruptions,
    its cargo classes (when there is more than one), its cost and CO2."""
    out: list[tuple[str, list[str]]] = []
    for title, bases in SECTIONS:
        if title == "cargo classes" and _one_class(metrics):
            continue
        order = {base: i for i, base in enumerate(bases)}
        plain = [m for m in metrics if m in order and m not in HEADLINE]
        qualified: dict[str, list[str]] = {}
        for metric in metrics:
            base, _, qualifier = metric.partition(":")
            if base in order and qualifier and ":" not in qualifier:
                qualified.setdefault(qualifier, []).append(metric)
        shown = sorted(plain, key=lambda m: order[m])
        for group in qualified.values():
            shown += sorted(group, key=lambda m: order[base_name(m)])
        if shown:
            out.append((title, shown))
    return out


def _kpi(metric: str) -> KPI:
    """The catalogue's entry of ``metric``, or a plain one naming it (a KPI the
    catalogue does not describe yet is shown rather than hidden)."""
    entry = lookup(metric)
    return entry if entry is not None else KPI(metric, metric, "", "{:,.4g}", "neither")


def _print_table(
    title: str,
    headline_cells: list[tuple[str, str]],
    metrics: list[str],
    cell: Callable[[str], str],
) -> None:
    """The headline rows, then each section that ``metrics`` has under its title; each
    block's labels aligned (the headline block looks the same for every scenario)."""
    click.echo(title)
    width = max(len(k.label) for k in headline())
    for text, value in headline_cells:
        click.echo(f"  {text:<{width}}  {value}")
    for section, shown in sections(metrics):
        rows = [(label(m), cell(m)) for m in shown]
        width = max(len(text) for text, _ in rows)
        click.echo(f"  {section}:")
        for text, value in rows:
            click.echo(f"    {text:<{width}}  {value}")


def print_kpis(values: dict[str, float], title: str) -> None:
    """The headline KPIs of one run, then the scenario's own: its disruptions, cargo
    classes, cost and CO2 when it measured them (:func:`sections`)."""

    def cell(metric: str) -> str:
        return _kpi(metric).text(values.get(metric, math.nan))

    headline_cells = [(k.label, cell(k.name)) for k in headline()]
    _print_table(title, headline_cells, list(values), cell)


def print_kpis_ci(summary: pd.DataFrame, title: str) -> None:
    """The KPIs of :func:`print_kpis` over replications: the mean ± the half-width of
    its interval."""
    rows = summary.set_index("metric")

    def cell(metric: str) -> str:
        kpi = _kpi(metric)
        mean, low, high = (float(rows.loc[metric, c]) for c in ("mean", "ci_low", "ci_high"))
        text = kpi.text(mean)
        if not math.isnan(mean) and math.isfinite(low) and math.isfinite(high):
            text += f"  ± {kpi.fmt.format((high - low) / 2)}"
        return text

    headline_cells = [(k.label, cell(k.name)) for k in headline() if k.name in rows.index]
    _print_table(title, headline_cells, list(summary["metric"]), cell)


def signed(kpi: KPI, value: float) -> str:
    """``+1.2 h``, ``-0.4 h``, ``0.0 h`` (no sign on a value that rounds to zero)."""
    text = kpi.text(abs(value))
    if not any(ch in "123456789" for ch in text):
        return text
    return ("+" if value > 0 else "-") + text
