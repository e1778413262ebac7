"""Work that only writes files, shared with one forked child process.

A run's figures take longer than its tables to write, and a 2-core machine leaves one
core idle while either is made. :func:`jobs_in_child` forks a child that starts on the
jobs (each writes its own files) while the parent goes on with the block's work; once the
block is done, the parent takes the jobs the child has not reached, so whichever process
is free runs the next job (each job is taken once: its number read from a pipe). Leaving
the block waits for the child. The child shares the parent's memory as it was at the fork
(the run's records and tables: nothing is copied or pickled) and reports only its exit
status. Where the child fails, is killed or cannot be started, the parent runs every job
it has not run itself, so the files are the same either way.

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


#: the most jobs shared through the pipe (one byte each; more run in the parent, in order)
MOST_JOBS = 256


def _take(pipe: int) -> int | None:
    """The number of the next job not taken yet (by this process or the other), or None
    when every job is taken. A pipe's read is atomic: two readers never get one byte."""
    taken = os.read(pipe, 1)
    return taken[0] if taken else None


def _child(jobs: Sequence[Callable[[], object]], pipe: int) -> None:
    """The forked child: run jobs while any is left to take, and leave without running
    the parent's exit handlers or flushing its buffers (``os._exit``)."""
    code = 1
    try:
        while (job := _take(pipe)) is not None:
            jobs[job]()
        code = 0
    except BaseException:  # the parent runs the jobs again and shows any error itself
        code = 1
    finally:
        os._exit(code)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


#: the signals that stop a command: the child takes their default action (it ends at
#: once), the parent its own handlers (the command's clean-up)
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _fork(
    jobs: Sequence[Callable[[], object]],
) -> tuple[int, int, set[int | signal.Signals] | None]:
    """A child started on ``jobs``, the pipe their numbers are taken from, and the signal
    mask to restore in the parent: (pid, pipe, mask); (0, -1, None) where none could be
    forked. The stop signals are blocked across the fork, so none reaches the child
    before it takes their default action, or the parent before it can stop the child:
    one that comes meanwhile waits until the parent restores ``mask``."""
    if not jobs or len(jobs) > MOST_JOBS or not can_fork():
        return 0, -1, None
    pipe, numbers = os.pipe()
    os.write(numbers, bytes(range(len(jobs))))  # far below a pipe's buffer: never blocks
    os.close(numbers)  # once every number is read, a read finds the end
    sys.stdout.flush()
    sys.stderr.flush()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns whenever the process has threads of its own; the only
            # ones here are native pools (numpy's BLAS, Arrow) that reset themselves in
            # a forked child, and the child does nothing that waits on the parent's
            warnings.filterwarnings("ignore", "This process .* fork", DeprecationWarning)
            pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(pipe)
        return 0, -1, None
    if pid == 0:
        try:
            for signum in STOP_SIGNALS:  # Ctrl-C, kill, a closed terminal end it at once
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        finally:
            _child(jobs, pipe)
    return pid, pipe, mask


@contextlib.contextmanager
def jobs_in_child(jobs: Sequence[Callable[[], object]]) -> Iterator[bool]:
    """Run ``jobs`` in a forked child while the block runs and, after it, here too: each
    job once, by whichever process takes it first (give the longest first). Yields
    whether a child was started. On leaving the block normally, takes the jobs left,
    waits for the child, and runs here every job it did not run itself if the child
    failed (or if there was no child). If the block or a job here raises (a stop signal
    among others), the child is stopped."""
    child, pipe, mask = _fork(jobs)
    ran_here: set[int] = set()
    ok = False
    try:
        if mask is not None:  # a stop signal that came while it was blocked raises here
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        yield child > 0
        while child and (job := _take(pipe)) is not None:
            ran_here.add(job)
            jobs[job]()
        if child:
            status = os.waitpid(child, 0)[1]
            child = 0  # reaped: nothing left to stop (its pid may be another's by now)
            ok = os.waitstatus_to_exitcode(status) == 0
    except BaseException:
        if child:
            _stop(child)
        raise
    finally:
        if pipe >= 0:
            os.close(pipe)
    if not ok:
        for number, job_left in enumerate(jobs):
            if number not in ran_here:
                job_left()
