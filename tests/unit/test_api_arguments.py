"""The Python API refuses wrong arguments in one line of its own, naming the argument,
before any work: not a numpy or pandas traceback, not a silent conversion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.compare import compare_configs
from silkroute_sim.experiments.replications import run_replications
from silkroute_sim.model.simulate import simulate
from silkroute_sim.outputs.run_folder import write_run

CFG = load_config("baseline", days=2, warmup_days=1)

CASES: list[tuple[str, Callable[[], object], str]] = [
    ("load path", lambda: load_config(123), "load_config: path is a file"),  # type: ignore[arg-type]
    ("load overrides", lambda: load_config("baseline", [1]), "overrides is a list"),  # type: ignore[list-item]
    ("simulate text", lambda: simulate("baseline"), "simulate: expected a scenario"),  # type: ignore[arg-type]
    ("seed float", lambda: simulate(CFG, seed=1.5), "got 1.5"),  # type: ignore[arg-type]
    ("seed bool", lambda: simulate(CFG, seed=True), "got True"),
    ("seed negative", lambda: simulate(CFG, seed=-1), "from 0 to"),
    ("seed huge", lambda: simulate(CFG, seed=2**70), "from 0 to"),
    ("reps zero", lambda: run_replications(CFG, 0), "reps: the number of replications"),
    ("reps text", lambda: run_replications(CFG, "2"), "got '2'"),  # type: ignore[arg-type]
    ("seeds twice", lambda: run_replications(CFG, 2, seeds=[1, 1]), "1 is given twice"),
    ("seeds none", lambda: run_replications(CFG, 2, seeds=[]), "at least one seed"),
    ("workers", lambda: run_replications(CFG, 2, workers=-1), "workers: the number"),
    ("replicate text", lambda: run_replications("baseline", 2), "expected a scenario"),  # type: ignore[arg-type]
    ("compare one", lambda: compare_configs(CFG, 2), "configs: a list of scenarios"),  # type: ignore[arg-type]
    ("compare text", lambda: compare_configs([CFG, "x"], 2), "got str"),  # type: ignore[list-item]
    ("write config", lambda: write_run(CFG, Path("x")), "write_run: expected a run"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("label", "call", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_wrong_argument_is_one_line_naming_it(
    label: str, call: Callable[[], object], words: str
) -> None:
    with pytest.raises(SilkrouteError) as info:
        call()
    assert words in str(info.value) and "\n" not in str(info.value)


def test_write_run_refuses_a_wrong_folder_or_flag(tmp_path: Path) -> None:
    result = simulate(CFG)
    with pytest.raises(SilkrouteError, match="out is a folder path, got int"):
        write_run(result, 123)  # type: ignore[arg-type]
    with pytest.raises(SilkrouteError, match="plots is True or False"):
        write_run(result, tmp_path / "r", plots="no")  # type: ignore[arg-type]
    assert not (tmp_path / "r").exists()


def test_one_override_text_is_one_override_and_none_is_none() -> None:
    assert load_config("baseline", "hub.cranes.count=4").hub.cranes.count == 4  # type: ignore[arg-type]
    assert load_config("baseline", None).hub.cranes.count == CFG.hub.cranes.count  # type: ignore[arg-type]
