"""What every command shares: the one-line error, the progress bar, the build notice,
warnings, worker counts and the KPI tables (labels and formats from the KPI catalogue,
:mod:`silkroute_sim.analysis.kpis`).

Light imports only: ``silkroute --help`` loads this module.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from silkroute_sim.analysis.kpis import KPI, headline
from silkroute_sim.buildinfo import build_note
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
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def progress_bar(enabled: bool, total: float, desc: str, unit: str = "day") -> Any:
    """A tqdm bar on stderr that appears only for work longer than ~2 s (None when not
    ``enabled``); counts simulated days, or runs with ``unit="run"``."""
    if not enabled:
        return None
    from tqdm import tqdm

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


def _table(title: str, cells: list[tuple[KPI, str]]) -> None:
    click.echo(title)
    width = max(len(k.label) for k in headline())
    for kpi, text in cells:
        click.echo(f"  {kpi.label:<{width}}  {text}")


def print_kpis(values: dict[str, float], title: str) -> None:
    """The headline KPIs of one run."""
    _table(title, [(k, k.text(values.get(k.name, math.nan))) for k in headline()])


def print_kpis_ci(summary: pd.DataFrame, title: str) -> None:
    """The headline KPIs over replications: the mean ± the half-width of its interval."""
    rows = summary.set_index("metric")
    cells = []
    for kpi in headline():
        if kpi.name not in rows.index:
            continue
        mean, low, high = (float(rows.loc[kpi.name, c]) for c in ("mean", "ci_low", "ci_high"))
        text = kpi.text(mean)
        if not math.isnan(mean) and math.isfinite(low) and math.isfinite(high):
            text += f"  ± {kpi.fmt.format((high - low) / 2)}"
        cells.append((kpi, text))
    _table(title, cells)


def signed(kpi: KPI, value: float) -> str:
    """``+1.2 h``, ``-0.4 h``, ``0.0 h`` (no sign on a value that rounds to zero)."""
    text = kpi.text(abs(value))
    if not any(ch in "123456789" for ch in text):
        return text
    return ("+" if value > 0 else "-") + text
