"""How the local pool (:class:`silkroute_sim.experiments.executor.LocalPoolExecutor`)
starts its worker processes.

Forked where that is safe: on Linux, from the main thread of a process with no other
Python thread, and not from inside a worker. A forked worker starts with the package and
its libraries already imported, so its first run begins at once instead of after about a
second of imports (paid by every worker of every sweep, comparison and set of
replications, which on two workers is most of what keeps them from twice one worker's
throughput). Elsewhere (macOS, Windows, a process with threads that could hold a lock at
the fork) workers are spawned: fresh interpreters that import what they need.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import warnings
from collections.abc import Iterator

from silkroute_sim.outputs.forked import only_thread

#: fork workers where it is safe; False spawns them everywhere (tests run both ways)
FORK = True


def start_method() -> str:
    """``"fork"`` or ``"spawn"`` (see the module's docstring)."""
    import multiprocessing

    if FORK and sys.platform == "linux" and only_thread():
        if multiprocessing.parent_process() is None:
            return "fork"
    return "spawn"


@contextlib.contextmanager
def quiet_fork() -> Iterator[None]:
    """Python 3.12+ warns at a fork whenever the process has threads of its own; the
    only ones :func:`start_method` lets through are native pools (numpy's BLAS, Arrow),
    which reset themselves in a forked child."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This process .* fork", DeprecationWarning)
        yield


def worker_signals() -> None:
    """In a worker, first thing: Ctrl-C ignored (the terminal sends it to the whole
    group; the parent stops its workers), SIGTERM and SIGHUP back to their defaults (a
    forked worker inherits the command's handlers, which would stop it as the command
    stops, by cleaning up the command's own folder)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
