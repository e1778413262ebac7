"""Where runs execute: in-process, a local process pool, or a Dask cluster.

All three offer the same call, :meth:`Executor.imap_unordered`: a worker function and a
list of items in, ``(item, result or exception)`` pairs out, in the order they finish, so
a sweep writes each run as soon as it is done, and replications put theirs back in seed
order. Only a bounded window of items is in flight at a time (memory stays flat for long
sweeps). One executor serves a whole command: its workers are kept between calls
(:func:`use_executor`); the Python API keeps one pool for the whole session
(:func:`shared_pool`), so a second ``run_replications(..., workers=2)`` starts no process.
Dask is imported only when asked for.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.experiments.worker_start import quiet_fork, start_method, worker_signals

T = TypeVar("T")
R = TypeVar("R")

DASK_HINT = "pip install 'silkroute-sim[distributed]'"


class ExecutorError(SilkrouteError):
    """The executor cannot start (no Dask, scheduler unreachable, no workers)."""


class Executor(ABC):
    """Runs ``fn(item)`` for many items; results come back as they complete."""

    #: one line for logs and the sweep manifest, e.g. "2 local processes"
    description: str = ""

    @abstractmethod
    def imap_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        key: Callable[[T], str] | None = None,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        """Yield ``(item, fn(item))`` as each finishes; an exception that escapes ``fn``
        (or kills its worker) is yielded in place of the result, never raised. Closing the
        generator early stops the items still in flight."""

    def close(self) -> None:  # noqa: B027 - optional hook, most executors hold nothing
        """Release processes and connections (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One run after another in this process (``--workers 1``)."""

    description = "1 process (serial)"

    def imap_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        key: Callable[[T], str] | None = None,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        for item in items:
            try:
                result: R | BaseException = fn(item)
            except Exception as exc:
                result = exc
            yield item, result


class LocalPoolExecutor(Executor):
    """``workers`` local processes (forked where safe, else spawned:
    :mod:`silkroute_sim.experiments.worker_start`), started as work comes and kept
    between calls until :meth:`close`.

    Each process holds one item at a time over its own pipe, so a process that dies (out
    of memory, killed) fails only the run it held; a new process takes its place. Workers
    start with Ctrl-C ignored (the terminal sends it to them too): this process stops
    them, when the generator is closed early or an exception (Ctrl-C, ``kill``) passes
    through it."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutorError(f"--workers must be at least 1 (got {workers})")
        self.workers = workers
        self.description = f"{workers} local processes"
        self._processes: list[_Worker] = []

    def imap_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        key: Callable[[T], str] | None = None,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        from multiprocessing.connection import wait

        queue = deque(items)
        held: list[tuple[T, R | BaseException]] = []  # deaths, until a run comes back
        returned = finished = False
        try:
            while queue or any(w.busy for w in self._processes):
                self._hand_out(fn, queue)
                waitables: list[Any] = [w.conn for w in self._processes]
                waitables += [w.process.sentinel for w in self._processes]
                ready = set(wait(waitables))
                for worker in list(self._processes):
                    if worker.conn not in ready and worker.process.sentinel not in ready:
                        continue
                    for item, result in self._collect(worker):
                        if not isinstance(result, _Died):
                            returned = True
                        held.append((item, result))
                while returned and held:
                    yield held.pop(0)
            if held:  # every run this call handed out killed its process
                died = held[0][1]
                how = died.how if isinstance(died, _Died) else str(died)
                raise ExecutorError(
                    f"the worker processes died before finishing any run ({how}: out of memory?)"
                )
            finished = True
        finally:
            if not finished:  # interrupted, abandoned or broken: stop the workers now
                self._terminate()

    def _hand_out(self, fn: Callable[[T], R], queue: deque[T]) -> None:
        """Start processes up to ``workers`` (no more than the work), give each idle one
        an item."""
        busy = sum(w.busy for w in self._processes)
        while len(self._processes) < min(self.workers, busy + len(queue)):
            self._processes.append(_Worker())
        for worker in self._processes:
            if worker.ready and not worker.busy and queue:
                worker.give(fn, queue.popleft())

    def _collect(self, worker: _Worker) -> list[tuple[Any, Any]]:
        """The messages of a worker whose pipe or process is ready: its result, or its
        item failed with :class:`_Died` when the process is gone."""
        out: list[tuple[Any, Any]] = []
        try:
            while worker.conn.poll():
                kind, payload = worker.conn.recv()
                if kind == "ready":
                    worker.ready = True
                else:
                    out.append((worker.item, payload))
                    worker.busy = False
            if worker.process.is_alive():
                return out
        except (EOFError, OSError):
            pass
        self._processes.remove(worker)
        worker.stop(0)
        if not worker.ready:
            raise ExecutorError(
                "a worker process died while starting (a Python script that runs "
                "simulations with workers > 1 needs an `if __name__ == '__main__':` "
                "guard: spawned workers import the script again)"
            )
        if worker.busy:
            out.append((worker.item, _Died(worker.process.exitcode)))
        return out

    def resize(self, workers: int) -> None:
        """Run at most ``workers`` items at a time from now on; idle processes beyond
        that are stopped (the others are kept)."""
        if workers < 1:
            raise ExecutorError(f"--workers must be at least 1 (got {workers})")
        self.workers = workers
        self.description = f"{workers} local processes"
        idle = [w for w in self._processes if not w.busy]
        for worker in idle[: max(0, len(self._processes) - workers)]:
            self._processes.remove(worker)
            with suppress(OSError):
                worker.conn.send(None)
            worker.stop(5.0)

    def _terminate(self) -> None:
        workers, self._processes = self._processes, []
        for worker in workers:
            worker.process.terminate()
        for worker in workers:
            worker.stop(2.0)

    def close(self) -> None:
        workers, self._processes = self._processes, []
        for worker in workers:
            with suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.stop(5.0)


class _Died(ExecutorError):
    """The item's worker process died while running it (yielded as its result)."""

    def __init__(self, exitcode: int | None) -> None:
        if exitcode is not None and exitcode < 0:
            import signal

            names = {int(s): s.name for s in signal.Signals}
            how = f"killed by {names.get(-exitcode, f'signal {-exitcode}')}"
        else:
            how = f"exit code {exitcode}"
        self.exitcode, self.how = exitcode, how
        super().__init__(f"the worker process died ({how}: out of memory or killed?)")

    def __reduce__(self) -> tuple[Any, ...]:
        return _Died, (self.exitcode,)


class _Worker:
    """One spawned process and the parent's end of its pipe; holds at most one item."""

    def __init__(self) -> None:
        import multiprocessing

        context: Any = multiprocessing.get_context(start_method())
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child,), name="silkroute-worker", daemon=True
        )
        with _sigint_ignored(), quiet_fork():  # a Ctrl-C while it starts prints nothing
            self.process.start()
        child.close()
        self.ready = False
        self.busy = False
        self.item: Any = None

    def give(self, fn: Callable[[Any], Any], item: Any) -> None:
        self.item, self.busy = item, True
        self.conn.send((fn, item))

    def stop(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the process to end, then kill it; close the pipe."""
        self.process.join(wait_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)
        self.conn.close()


def _serve(conn: Any) -> None:
    """A worker process: run ``fn(item)`` for each ``(fn, item)`` received, send back
    ``("done", result or exception)``, until ``None`` or the pipe closes."""
    worker_signals()
    _exit_with_parent()
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, item = task
        result: Any
        try:
            result = fn(item)
        except Exception as exc:
            result = exc
        try:
            conn.send(("done", result))
        except OSError:  # the parent is gone
            return
        except Exception as exc:  # the result or exception does not pickle
            conn.send(("done", ExecutorError(f"the result cannot be sent back: {_short(exc)}")))


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started it is gone (killed with
    SIGKILL, or a script that exits without closing its pool): a thread waits on the
    parent's sentinel, so no orphan keeps simulating after its parent."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:  # pragma: no cover - not spawned
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="silkroute-parent-watch", daemon=True).start()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process for the block (main thread only), so a process
    started in it inherits SIG_IGN and Python keeps it ignored from its first line."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: what Dask connects to; all but ``inproc`` (same process) need HOST:PORT
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_ADDRESS_HELP = "a Dask scheduler address is tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"


def check_scheduler_address(address: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a Dask scheduler address (``HOST:PORT`` alone means
    tcp, as in Dask), or an :class:`ExecutorError` saying what is wrong, before any
    connection is tried (port None for ``inproc://``)."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    scheme = scheme.lower()
    if scheme not in DASK_SCHEMES:
        raise ExecutorError(
            f"--scheduler {address!r}: Dask does not speak {scheme}:// ({_ADDRESS_HELP}; "
            f"also {', '.join(s + '://' for s in DASK_SCHEMES[1:])})"
        )
    if scheme == "inproc":
        return scheme, rest, None
    host, colon, port_text = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ExecutorError(f"--scheduler {address!r}: no port ({_ADDRESS_HELP})")
    if not host or any(c in host for c in "/ \t@?#"):
        raise ExecutorError(f"--scheduler {address!r}: no host name ({_ADDRESS_HELP})")
    return scheme, host, int(port_text)


def _probe(address: str, timeout_s: float) -> None:
    """Ask the scheduler who it is, within ``timeout_s``: a bad address, an unknown host,
    a closed port or a port where no Dask scheduler answers is one line, before Dask's
    client is made (a client that fails to start can wait forever, or linger and print a
    traceback at exit). Runs in a thread of its own, on its own event loop."""
    import asyncio
    import socket
    import threading

    from distributed.core import rpc

    scheme, host, port = check_scheduler_address(address)
    if port is not None and scheme != "ucx":  # a refused port or an unknown host at once
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or exc
            raise ExecutorError(
                f"cannot connect to the Dask scheduler at {address}: {reason} (is "
                f"`dask scheduler` running there, on port {port}?)"
            ) from None

    async def identity() -> Any:
        async with rpc(address, timeout=timeout_s) as scheduler:
            return await asyncio.wait_for(scheduler.identity(), timeout_s)

    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            outcome["identity"] = asyncio.run(identity())
        except BaseException as exc:  # reported by the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=ask, name="silkroute-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout_s + 2)
    if "identity" in outcome:
        return
    error = outcome.get("error")
    reason = "no answer" if error is None or isinstance(error, TimeoutError) else _short(error)
    raise ExecutorError(
        f"cannot connect to the Dask scheduler at {address}: {reason} within "
        f"{timeout_s:g} s (is it the port of a `dask scheduler`?)"
    )


class DaskExecutor(Executor):
    """Runs on an existing Dask distributed cluster: ``Client(address).submit`` per item,
    collected as they complete. Workers need silkroute-sim installed (same version);
    they need no shared disk, since results travel back to this process.

    The address is checked and its port tried before the client is made. While runs are
    in flight and none completes, the scheduler is asked every few seconds how many
    workers it has: none for ``no_workers_s`` seconds is an :class:`ExecutorError`."""

    def __init__(self, address: str, timeout_s: float = 10.0, no_workers_s: float = 60.0) -> None:
        check_scheduler_address(address)
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(f"--scheduler needs Dask: {DASK_HINT}") from None
        _probe(address, timeout_s)
        self.address = address
        self.no_workers_s = no_workers_s
        self.client: Any = None
        try:
            self.client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except Exception as exc:
            raise ExecutorError(
                f"cannot connect to the Dask scheduler at {address}: {_short(exc)}"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=timeout_s)
        except Exception:
            self.close()
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers (waited {timeout_s:g} s; "
                f"start some with `dask worker {address}`)"
            ) from None
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        self.threads = sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1
        self.description = (
            f"Dask at {address} ({len(workers)} workers, {self.threads} threads at start)"
        )

    def imap_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        key: Callable[[T], str] | None = None,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        if not items:
            return
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]
        pending = iter(enumerate(items))
        in_flight: dict[Any, T] = {}
        done = as_completed(loop=self.client.loop)

        def submit_next() -> None:
            for i, item in pending:
                name = key(item) if key is not None else str(i)
                future = self.client.submit(
                    fn, item, key=f"silkroute-{name}-{token}", pure=False, retries=0
                )
                in_flight[future] = item
                done.add(future)
                return

        for _ in range(max(32, 4 * self.threads)):
            submit_next()
        finished = False
        try:
            while in_flight:
                for future in self._next_done(done, len(in_flight)):
                    item = in_flight.pop(future)
                    result: R | BaseException
                    try:
                        result = future.result()
                    except Exception as exc:
                        result = exc
                    future.release()
                    yield item, result
                    submit_next()
            finished = True
        finally:
            if not finished and self.client is not None:
                with suppress(Exception):
                    self.client.cancel(list(in_flight))

    def _next_done(self, done: Any, waiting: int, poll_s: float = 2.0) -> list[Any]:
        """The futures that ``done`` (an ``as_completed``) has ready, waiting for at least
        one; an :class:`ExecutorError` once the cluster has had no worker for
        ``no_workers_s`` seconds (asked every ``poll_s`` while nothing completes)."""
        asked = time.monotonic()
        no_workers_since: float | None = None
        while not done.has_ready():
            time.sleep(0.05)
            now = time.monotonic()
            if now - asked < poll_s:
                continue
            asked = now
            if self._workers_now() > 0:
                no_workers_since = None
                continue
            no_workers_since = no_workers_since if no_workers_since is not None else now
            if now - no_workers_since >= self.no_workers_s:
                raise ExecutorError(
                    f"the Dask scheduler at {self.address} has had no workers for "
                    f"{self.no_workers_s:g} s, with {waiting} run(s) waiting: start workers "
                    f"(`dask worker {self.address}`) and rerun the same command to resume"
                )
        return list(done.next_batch(block=False))

    def _workers_now(self) -> int:
        try:
            return len(self.client.nthreads())
        except Exception as exc:
            raise ExecutorError(
                f"lost the Dask scheduler at {self.address}: {_short(exc)}; rerun the "
                "same command to resume"
            ) from None

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            self.client = None
            with suppress(Exception):
                client.close(timeout=5)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def default_workers() -> int:
    """Local worker processes when none are asked for: the usable CPU cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def make_executor(
    workers: int | None = None, scheduler: str | None = None, timeout_s: float = 10.0
) -> Executor:
    """A Dask executor for ``scheduler``; else serial for one worker, else a local pool."""
    if scheduler:
        return DaskExecutor(scheduler, timeout_s)
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {n})")
    return SerialExecutor() if n == 1 else LocalPoolExecutor(n)


_shared: LocalPoolExecutor | None = None
_shared_lock = threading.Lock()
atexit.register(lambda: close_shared_pool())


def shared_pool(workers: int) -> LocalPoolExecutor:
    """The local process pool the Python API keeps for the whole session, resized to
    ``workers``: a second ``run_replications(..., workers=2)`` finds its processes
    started and their modules imported. Closed at interpreter exit
    (:func:`close_shared_pool`); its workers also end by themselves when this process
    dies."""
    global _shared
    if _shared is None:
        _shared = LocalPoolExecutor(workers)
    else:
        _shared.resize(workers)
    return _shared


def close_shared_pool() -> None:
    """Stop the shared pool's processes (idempotent; a later call starts new ones)."""
    global _shared
    pool, _shared = _shared, None
    if pool is not None:
        pool.close()


@contextmanager
def use_executor(executor: Executor | None, workers: int, items: int) -> Iterator[Executor]:
    """``executor`` when the caller passes one (it stays open: the caller closes it); else,
    for ``workers`` (no more than ``items``) of 1, this process; else the
    :func:`shared_pool` at that size, kept open for the next call (a command or a Python
    session running several batches starts its processes once). A second thread that
    asks while the shared pool is busy gets a pool of its own, closed on exit."""
    if executor is not None:
        yield executor
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SilkrouteError(f"workers: the number of processes, at least 1 (got {workers!r})")
    n = min(workers, max(items, 1))
    if n == 1:
        yield SerialExecutor()
        return
    if not _shared_lock.acquire(blocking=False):
        with LocalPoolExecutor(n) as own:
            yield own
        return
    try:
        yield shared_pool(n)
    finally:
        _shared_lock.release()
