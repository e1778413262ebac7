"""Where runs execute: in-process, a local process pool, or a Dask cluster.

All three offer the same call, :meth:`Executor.imap_unordered`: a worker function and a
list of items in, ``(item, result or exception)`` pairs out, in the order they finish, so
a sweep writes each run as soon as it is done, and replications put theirs back in seed
order. Only a bounded window of items is in flight at a time (memory stays flat for long
sweeps). One executor serves a whole command: its workers are kept between calls
(:func:`use_executor`). Dask is imported only when asked for.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from silkroute_sim.config.errors import SilkrouteError

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
    """A pool of ``workers`` local processes (``spawn``: clean interpreters, no inherited
    locks or threads), started as work comes and kept between calls until :meth:`close`.
    A worker that dies (out of memory, killed) fails the runs it held; the pool is
    restarted for the rest."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutorError(f"--workers must be at least 1 (got {workers})")
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool: Any = None

    def _new_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned processes start on demand: a call with fewer items starts fewer
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_sigint,
        )

    def imap_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        key: Callable[[T], str] | None = None,
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        from concurrent.futures import FIRST_COMPLETED, Future, wait
        from concurrent.futures.process import BrokenProcessPool

        if not items:
            return
        if self._pool is None:
            self._pool = self._new_pool()
        pending = iter(items)
        in_flight: dict[Future[R], tuple[T, int]] = {}
        generation = 0  # pools started so far - 1
        results_by_pool = [0]  # none from a pool that broke = its workers cannot start

        def submit_next() -> None:
            nonlocal generation
            for item in pending:
                try:
                    future = self._pool.submit(fn, item)
                except BrokenProcessPool:  # a worker died earlier: a fresh pool for the rest
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
                    generation += 1
                    results_by_pool.append(0)
                    future = self._pool.submit(fn, item)
                in_flight[future] = (item, generation)
                return

        for _ in range(self.workers * 2):
            submit_next()
        finished = False
        try:
            while in_flight:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    item, pool = in_flight.pop(future)
                    try:
                        result: R | BaseException = future.result()
                        results_by_pool[pool] += 1
                    except BrokenProcessPool:
                        if results_by_pool[pool] == 0:
                            raise ExecutorError(
                                "the worker processes died before finishing any run (out of "
                                "memory? a Python script that runs simulations with workers "
                                "> 1 needs an `if __name__ == '__main__':` guard: spawned "
                                "workers import the script again)"
                            ) from None
                        result = ExecutorError("the worker process died (out of memory or killed?)")
                    except Exception as exc:
                        result = exc
                    yield item, result
                    submit_next()
            finished = True
        finally:
            if not finished:  # interrupted, abandoned or broken: stop the workers now
                self._terminate()

    def _terminate(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class DaskExecutor(Executor):
    """Runs on an existing Dask distributed cluster: ``Client(address).submit`` per item,
    collected with ``as_completed``. Workers need silkroute-sim installed (same version);
    they need no shared disk, since results travel back to this process."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(f"--scheduler needs Dask: {DASK_HINT}") from None
        self.address = address
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
            self.client.close()
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers (waited {timeout_s:g} s)"
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
        from distributed import as_completed

        if not items:
            return
        token = uuid.uuid4().hex[:8]
        pending = iter(enumerate(items))
        in_flight: dict[Any, tuple[Any, T]] = {}
        futures = as_completed(loop=self.client.loop)

        def submit_next() -> None:
            for i, item in pending:
                name = key(item) if key is not None else str(i)
                future = self.client.submit(
                    fn, item, key=f"silkroute-{name}-{token}", pure=False, retries=0
                )
                in_flight[future.key] = (future, item)
                futures.add(future)
                return

        for _ in range(max(32, 4 * self.threads)):
            submit_next()
        finished = False
        try:
            for future in futures:
                _, item = in_flight.pop(future.key)
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
                self.client.cancel([f for f, _ in in_flight.values()])

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            self.client = None
            client.close()


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the sweep process, which stops them (no tracebacks)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


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


@contextmanager
def use_executor(executor: Executor | None, workers: int, items: int) -> Iterator[Executor]:
    """``executor`` when the caller passes one (it stays open: the caller closes it), else a
    new one of ``workers`` processes, no more than ``items`` and at least 1, closed on exit.

    API functions take an optional executor this way, so a command that runs several
    batches starts its worker processes once."""
    if executor is not None:
        yield executor
        return
    with make_executor(max(1, min(workers, items))) as made:
        yield made
