"""Work that only writes files, shared with one forked child process.

A run's figures take longer than its tables to write, and a 2-core machine leaves one
core idle while either is made. :func:`jobs_in_child` forks a child that runs some jobs
(each writes its own files) while the parent goes on with the block's work; leaving the
block waits for the child. The child shares the parent's memory as it was at the fork
(the run's records and tables: nothing is copied or pickled) and reports only its exit
status. Where the child fails, is killed or cannot be started, the parent runs the jobs
itself, so the files are the same either way.

Forking is safe only where the process has no other thread that could hold a lock at that
moment, so it is used only in the main thread of a process with one Python thread, on
Linux, with more than one usable core, and never inside a pool worker (whose cores are
busy with other runs already); everywhere else the jobs run in the parent, in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence

#: switch the forked child off (tests run both ways; the files must be the same)
ENABLED = True


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def only_thread() -> bool:
    """Whether this is the main thread of a process with no other Python thread."""
    main = threading.current_thread() is threading.main_thread()
    return main and threading.active_count() == 1


def can_fork() -> bool:
    """Whether :func:`jobs_in_child` would fork here (see the module's docstring)."""
    if not ENABLED or sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    if not only_thread() or usable_cores() < 2:
        return False
    mp = sys.modules.get("multiprocessing")
    return mp is None or mp.parent_process() is None


def _child(jobs: Sequence[Callable[[], object]]) -> None:
    """The forked child: run the jobs and leave without running the parent's exit
    handlers or flushing its buffers (``os._exit``)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child at once
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for job in jobs:
            job()
        code = 0
    except BaseException:  # the parent runs the jobs again and shows any error itself
        code = 1
    finally:
        os._exit(code)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


@contextlib.contextmanager
def jobs_in_child(jobs: Sequence[Callable[[], object]]) -> Iterator[bool]:
    """Run ``jobs`` in a forked child while the block runs; yields whether a child runs
    them. On leaving the block normally, waits for the child, and runs the jobs here if
    it failed (or if there was no child). If the block raises, the child is stopped."""
    pid = 0
    if jobs and can_fork():
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns whenever the process has threads of its own; the only
                # ones here are native pools (numpy's BLAS, Arrow) that reset themselves in
                # a forked child, and the child does nothing that waits on the parent's
                warnings.filterwarnings("ignore", "This process .* fork", DeprecationWarning)
                pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            _child(jobs)
    try:
        yield pid > 0
    except BaseException:
        if pid > 0:
            _stop(pid)
        raise
    ok = False
    if pid > 0:
        try:
            _, status = os.waitpid(pid, 0)
        except BaseException:
            _stop(pid)
            raise
        ok = os.waitstatus_to_exitcode(status) == 0
    if not ok:
        for job in jobs:
            job()
