"""A sweep on a real Dask cluster (scheduler + 2 workers on 127.0.0.1) equals the local run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from silkroute_sim.experiments.executor import ExecutorError
from silkroute_sim.experiments.sweep import run_sweep

from ..conftest import tiny_raw

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

PY = sys.executable


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dask_command() -> list[str]:
    script = Path(PY).parent / "dask"
    if script.is_file():
        return [str(script)]
    found = shutil.which("dask")
    if found:
        return [found]
    pytest.skip("the dask command is not installed")
    raise AssertionError  # unreachable


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate each process group, then kill what is left."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; stopped always."""
    dask = _dask_command()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    procs: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def start(args: list[str], log: str) -> None:
        with open(logs / log, "wb") as fh:
            procs.append(
                subprocess.Popen(
                    [*dask, *args],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: killpg stops its children
                    cwd=logs,
                    env=env,
                )
            )

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "s.log")
        for i in range(2):
            start(
                [
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                ],
                f"w{i}.log",
            )
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        _stop(procs)


def _spec(root: Path) -> Path:
    raw = tiny_raw(simulation={"days": 12, "warmup_days": 2, "seed": 1})
    (root / "tiny.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    spec: dict[str, Any] = {
        "name": "dask-check",
        "base": "tiny.yaml",
        "parameters": {
            "demand.tonnes_per_day": [60, 100],
            "hub.cranes.move_time": ["6 min", "12 min"],
        },
        "reps": 3,
        "seed": 3,
    }
    path = root / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_sweep_on_dask_cluster_equals_local_run(dask_scheduler: str, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    local = run_sweep(spec, tmp_path / "local", workers=1, plots=False)
    assert local.failed == 0 and local.ran == 12
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = ["sweep", str(spec), "--out", "dask", "--scheduler", dask_scheduler, "--quiet"]
    result = subprocess.run(
        [PY, "-m", "silkroute_sim", *args, "--no-plots"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "12 run now" in result.stdout and "on Dask at" in result.stdout
    assert (tmp_path / "dask/runs.csv").read_bytes() == (tmp_path / "local/runs.csv").read_bytes()
    assert (tmp_path / "dask/points.csv").read_bytes() == (
        tmp_path / "local/points.csv"
    ).read_bytes()
    # resuming on the cluster finds every run complete
    again = run_sweep(spec, tmp_path / "dask", scheduler=dask_scheduler, plots=False)
    assert again.ran == 0 and again.done_before == 12


def test_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(ExecutorError, match="cannot connect to the Dask scheduler") as info:
        run_sweep(spec, tmp_path / "out", scheduler=address, connect_timeout_s=1)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("tcp://localhost", "no port"),
        ("foo", "no port"),
        ("http://127.0.0.1:8786", "does not speak http://"),
        ("tcp://:8786", "no host name"),
        ("tcp://127.0.0.1:1", "Connection refused"),
    ],
)
def test_a_bad_scheduler_address_is_one_line_at_once(
    tmp_path: Path, address: str, says: str
) -> None:
    spec = _spec(tmp_path)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [PY, "-m", "silkroute_sim", "sweep", str(spec), "--scheduler", address, "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=15,  # before: a 20 s hang in Client.__del__ after the error line
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()


def test_a_port_where_no_scheduler_answers_is_an_error_within_the_timeout() -> None:
    import threading

    from silkroute_sim.experiments.executor import DaskExecutor

    outcome: dict[str, Any] = {}

    def connect(address: str) -> None:
        try:
            DaskExecutor(address, timeout_s=1).close()
            outcome["connected"] = True
        except ExecutorError as exc:
            outcome["error"] = exc

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # accepts connections, never answers
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        connecting = threading.Thread(target=connect, args=(address,), daemon=True)
        connecting.start()
        connecting.join(20)  # before: Client() waited forever
        assert not connecting.is_alive(), "no timeout on the scheduler's handshake"
    assert "connected" not in outcome
    assert "no answer within 1 s" in str(outcome["error"])


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_cluster_whose_workers_all_died_is_an_error_not_a_silent_wait() -> None:
    import threading

    from silkroute_sim.experiments.executor import DaskExecutor

    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
        protocol="tcp",
    )
    outcome: dict[str, Any] = {}
    try:
        executor = DaskExecutor(cluster.scheduler_address, timeout_s=5, no_workers_s=1)

        def consume() -> None:
            try:
                outcome["results"] = list(executor.imap_unordered(_nap, [0.1, 2.0, 2.0]))
            except ExecutorError as exc:
                outcome["error"] = exc

        with executor:
            threading.Timer(0.5, lambda: cluster.scale(0)).start()  # every worker gone
            consumer = threading.Thread(target=consume, daemon=True)
            consumer.start()
            consumer.join(30)
            assert not consumer.is_alive(), "the executor waits forever for workers"
    finally:
        cluster.close()
    assert "results" not in outcome
    message = str(outcome["error"])
    assert "no workers for 1 s" in message and "dask worker" in message
    assert "\n" not in message
