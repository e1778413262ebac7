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
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child at once
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
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


def _fork(jobs: Sequence[Callable[[], object]]) -> tuple[int, int]:
    """A child started on ``jobs`` and the pipe their numbers are taken from: (pid, pipe);
    the pid is 0 where none could be forked."""
    if not jobs or len(jobs) > MOST_JOBS or not can_fork():
        return 0, -1
    pipe, numbers = os.pipe()
    os.write(numbers, bytes(range(len(jobs))))  # far below a pipe's buffer: never blocks
    os.close(numbers)  # once every number is read, a read finds the end
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
        os.close(pipe)
        return 0, -1
    if pid == 0:
        _child(jobs, pipe)
    return pid, pipe


@contextlib.contextmanager
def jobs_in_child(jobs: Sequence[Callable[[], object]]) -> Iterator[bool]:
    """Run ``jobs`` in a forked child while the block runs and, after it, here too: each
    job once, by whichever process takes it first (give the longest first). Yields
    whether a child was started. On leaving the block normally, takes the jobs left,
    waits for the child, and runs here every job it did not run itself if the child
    failed (or if there was no child). If the block or a job here raises, the child is
    stopped."""
    pid, pipe = _fork(jobs)
    ran_here: set[int] = set()
    try:
        yield pid > 0
        while pid and (job := _take(pipe)) is not None:
            ran_here.add(job)
            jobs[job]()
        status = os.waitpid(pid, 0)[1] if pid else 1
    except BaseException:
        if pid:
            _stop(pid)
        raise
    finally:
        if pid:
            os.close(pipe)
    if not pid or os.waitstatus_to_exitcode(status) != 0:
        for number, job_left in enumerate(jobs):
            if number not in ran_here:
                job_left()
