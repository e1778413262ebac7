"""Hostile YAML: Python tags, alias bombs, huge and endless files, extends tricks.

Every case is answered with one ``error:`` line naming the file, quickly and in bounded
memory; nothing in the file is ever executed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import silkroute_sim.config.loader as loader
import silkroute_sim.config.yaml_reader as yaml_reader
from silkroute_sim.config.errors import ConfigError

from ..conftest import CONFIGS

#: a subprocess that imports silkroute and reads a config stays far below this (kB)
MAX_RSS_KB = 400_000


def _load(path: Path, *overrides: str) -> str:
    """The one-line error loading ``path`` gives (the test fails if it loads)."""
    with pytest.raises(ConfigError) as info:
        loader.load_config(path, overrides)
    text = str(info.value)
    assert "\n" not in text
    return text


def _validate_in_child(path: Path | str, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """``silkroute validate`` in a subprocess: (result, its peak RSS in kB)."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run([sys.executable, '-m', 'silkroute_sim', 'validate', *sys.argv[1:]],"
        " capture_output=True, text=True, timeout=120)\n"
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(p.returncode)\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("SILKROUTE_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    *lines, rss = proc.stderr.splitlines()
    proc.stderr = "\n".join(lines) + "\n"
    return proc, int(rss)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ['touch {marker}']\n",
        "name: !!python/object/new:os.system ['touch {marker}']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object:pathlib.Path {{}}\n",
        "hub: !include other.yaml\n",
    ],
)
def test_python_and_custom_tags_are_refused_and_never_run(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "pwned"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(text.format(marker=marker))
    message = _load(cfg)
    assert message.startswith(f"{cfg}: unsupported YAML tag (")
    assert "only plain YAML is allowed" in message
    assert not marker.exists()


def test_a_python_tag_in_set_is_only_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"!!python/object/apply:os.system ['touch {marker}']"
    cfg = loader.load_config(CONFIGS / "baseline.yaml", [f"description={text}"])
    assert cfg.description == text
    message = _load(CONFIGS / "baseline.yaml", f"name={text}")
    assert message.startswith("--set name=!!python/object/apply:os.system")
    assert ": invalid value; allowed: " in message
    assert not marker.exists()


# --------------------------------------------------------------------------- size and aliases

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(BILLION_LAUGHS)
    proc, rss_kb = _validate_in_child(cfg)
    line = _one_error_line(proc)
    assert line == (
        f"error: {cfg}: document expands to more than {yaml_reader.MAX_NODES} values "
        "(YAML aliases?); refused"
    )
    assert rss_kb < MAX_RSS_KB


def test_alias_bomb_in_an_override_is_refused(tmp_path: Path) -> None:
    bomb = "[" + ", ".join(["&x0 [1,1,1,1,1,1,1,1,1,1]"] + ["*x0"] * 9) + "]"
    value = bomb
    for level in range(1, 7):  # 10**7 values from a short command line
        value = f"&x{level} {value.replace('&x', f'&y{level}').replace('*x', f'*y{level}')}"
        value = "[" + ", ".join([value] + [f"*x{level}"] * 9) + "]"
    message = _load(CONFIGS / "baseline.yaml", f"corridor.edges={value}")
    assert "expands to more than" in message


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "loop.yaml"
    cfg.write_text("name: &n [*n]\n")
    assert "expands to more than" in _load(cfg)


def test_a_100_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    cfg = tmp_path / "huge.yaml"
    with open(cfg, "wb") as fh:  # sparse: no disk used
        fh.truncate(100 * 1024 * 1024)
    proc, rss_kb = _validate_in_child(cfg)
    line = _one_error_line(proc)
    assert line == f"error: {cfg}: file is 104.9 MB; configs are limited to 5 MB"
    assert rss_kb < MAX_RSS_KB


def test_an_endless_file_is_read_only_up_to_the_limit() -> None:
    """/dev/zero claims size 0 and never ends: read at most the limit, then refuse."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    proc, rss_kb = _validate_in_child("/dev/zero")
    assert _one_error_line(proc) == "error: /dev/zero: file is over 5 MB, the limit for configs"
    assert rss_kb < MAX_RSS_KB


def test_just_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "big.yaml"
    line = "x: " + "y" * 1000 + "\n"
    cfg.write_text(f"# {line}" * (yaml_reader.MAX_CONFIG_BYTES // len(line) + 2))
    assert "configs are limited to 5 MB" in _load(cfg)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("name: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert _load(cfg) == f"{cfg}: YAML nesting is too deep"


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty; expected a mapping of config sections"),
        (b"# only a comment\n", "the file is empty"),
        (b"- a\n- b\n", "expected a mapping of config sections, got a list"),
        (b"42\n", "expected a mapping of config sections, got a int"),
        (b"\xff\xfe\x00h\x00u\x00b", "is not UTF-8 text"),
        (b"name: a\x00b\n", "invalid YAML: "),
        (b"a: 1\n---\nb: 2\n", "invalid YAML: expected a single document"),
        (b"hub: [1, 2\n", "invalid YAML: "),
        (b"? [a, b]\n: 1\n", "found unhashable key at line 1, column 3"),
        (
            b"name: x\nhub: {}\nservices: {}\nhub: {node: Urumqi}\n",
            "duplicate key 'hub' (first at line 2) at line 4, column 1; each key may appear once",
        ),
        (b"hub:\n  cranes: {count: 3, count: 4}\n", "duplicate key 'count'"),
    ],
)
def test_malformed_files_are_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_bytes(content)
    message = _load(cfg)
    assert message.startswith(f"{cfg}: ")
    assert expected in message


def test_merge_keys_are_plain_yaml_and_allowed() -> None:
    """``<<: *base`` is not a duplicate key: explicit keys override merged ones."""
    data = loader.parse_yaml(
        "base: &b {a: 1, b: 2}\nitem: {<<: *b, b: 3}\nboth: {<<: [*b], a: 5}\n"
    )
    assert data["item"] == {"a": 1, "b": 3}
    assert data["both"] == {"a": 5, "b": 2}


def test_exponent_without_a_dot_is_a_number() -> None:
    """YAML 1.1 reads 2e3 as a string; configs mean 2000."""
    assert loader.parse_yaml("a: [2e3, 1E-3, -1.5e2, '2e3', e3, 0x10]") == {
        "a": [2000.0, 0.001, -150.0, "2e3", "e3", 16]
    }
    cfg = loader.load_config(None, ["demand.tonnes_per_day=3.6e3"])
    assert cfg.demand.tonnes_per_day == 3600.0


def test_an_odd_file_name_gives_a_valid_scenario_name(tmp_path: Path) -> None:
    text = (CONFIGS / "baseline.yaml").read_text(encoding="utf-8")
    parents = ", ".join(str(CONFIGS / f) for f in ("corridor.yaml", "costs.yaml", "modes.yaml"))
    text = text.replace("extends: [corridor.yaml, costs.yaml, modes.yaml]", f"extends: [{parents}]")
    text = text.replace("name: baseline\n", "")
    cfg = tmp_path / "my scenario (v2).yaml"
    cfg.write_text(text, encoding="utf-8")
    assert loader.load_config(cfg).name == "my-scenario-v2"


# --------------------------------------------------------------------------- extends


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_cycle_is_one_line(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.yaml", "extends: b.yaml\n")
    _write(tmp_path / "b.yaml", "extends: c.yaml\n")
    _write(tmp_path / "c.yaml", "extends: a.yaml\n")
    assert _load(a) == f"{a}: extends: cycle in extends: a.yaml -> b.yaml -> c.yaml -> a.yaml"
    me = _write(tmp_path / "me.yaml", "extends: me.yaml\n")
    assert "cycle in extends: me.yaml -> me.yaml" in _load(me)


def test_extends_to_a_missing_file_or_a_folder_is_one_line(tmp_path: Path) -> None:
    cfg = _write(tmp_path / "a.yaml", "extends: nowhere.yaml\n")
    missing = "extends: file not found, and no packaged config has that name"
    assert _load(cfg) == f"{cfg}: {missing} (got 'nowhere.yaml')"
    (tmp_path / "dir.yaml").mkdir()
    cfg = _write(tmp_path / "b.yaml", "extends: [dir.yaml]\n")
    assert f"{missing} (got 'dir.yaml')" in _load(cfg)
    cfg = _write(tmp_path / "c.yaml", "extends: {a: 1}\n")
    assert "extends: must be a file name or a list of file names" in _load(cfg)


def test_a_very_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(40):
        _write(tmp_path / f"f{i}.yaml", f"extends: f{i + 1}.yaml\n")
    _write(tmp_path / "f40.yaml", "name: deep\n")
    assert "extends chain is more than 20 files deep" in _load(tmp_path / "f0.yaml")


def test_an_extends_diamond_explosion_is_refused(tmp_path: Path) -> None:
    """Each file extends the next ten times: 10**8 reads without a budget."""
    for i in range(8):
        _write(tmp_path / f"d{i}.yaml", "extends: [" + ", ".join([f"d{i + 1}.yaml"] * 10) + "]\n")
    _write(tmp_path / "d8.yaml", "name: leaf\n")
    assert "extends reads more than 100 files; refused" in _load(tmp_path / "d0.yaml")


def test_cli_answers_hostile_files_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bomb = _write(tmp_path / "bomb.yaml", BILLION_LAUGHS)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("SILKROUTE_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "silkroute_sim", "run", str(bomb), "--out", "res"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert "expands to more than" in _one_error_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.yaml"]
