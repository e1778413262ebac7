"""Loading scenario YAML: ``extends:``, ``--set`` overrides, packaged configs.

YAML is read with the safe loader only. ``extends: other.yaml`` (a path relative to
the file, or a list of them) is merged recursively: mappings merge key by key, the
extending file wins, lists and scalars are replaced. Cycles are errors.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from silkroute_sim.config.errors import (
    ConfigError,
    did_you_mean,
    from_validation_error,
    keys_text,
)
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.config.yaml_reader import check_size, parse_yaml, read_yaml

ModelT = TypeVar("ModelT", bound=BaseModel)

#: ``extends`` limits: files deep, and files read for one config (a diamond of extends
#: lists could otherwise make one small file read the same parents millions of times)
MAX_EXTENDS_DEPTH = 20
MAX_EXTENDS_FILES = 100
DEFAULT_CONFIG = "baseline.yaml"


def configs_dir() -> Path:
    """Folder of the configs shipped with the package (the repo's ``configs/`` in a
    development checkout)."""
    packaged = resources.files("silkroute_sim") / "configs"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "configs"


def default_config_path() -> Path:
    return configs_dir() / DEFAULT_CONFIG


def resolve_config_path(name: str | os.PathLike[str]) -> Path:
    """A path as given, else a packaged config by name, from any folder: ``baseline``,
    ``khorgos-closed-7d`` (a scenario), ``scenarios/khorgos-closed-7d``, or the repository's
    own path ``configs/baseline.yaml`` (the package ships that folder). A name found
    nowhere comes back as given (:func:`load_config` then lists the packaged names)."""
    path = Path(name)
    if path.exists():
        return path
    return packaged_config(path) or path


def packaged_config(path: Path) -> Path | None:
    """The packaged config that ``path`` names (see :func:`resolve_config_path`), or None."""
    if path.is_absolute() or ".." in path.parts:
        return None  # a packaged name never leaves the configs folder
    relative = [path]
    if len(path.parts) > 1 and path.parts[0] == "configs":
        relative.append(Path(*path.parts[1:]))
    root = configs_dir()
    for rel in relative:
        for folder in (root, root / "scenarios"):
            for candidate in (folder / rel, folder / f"{rel}.yaml"):
                if candidate.is_file():
                    return candidate
    return None


def packaged_names() -> list[str]:
    """The scenarios shipped with the package, by the names :func:`resolve_config_path`
    takes: the complete configs at the top (a ``name:`` of their own; the corridor, cost
    and mode fragments that ``baseline`` extends are left out), then ``scenarios/``."""
    root = configs_dir()
    top = []
    for file in sorted(root.glob("*.yaml")):
        try:
            if "name" in read_yaml(file):
                top.append(file.stem)
        except ConfigError:
            continue
    return top + [file.stem for file in sorted((root / "scenarios").glob("*.yaml"))]


def _not_found(name: str | os.PathLike[str]) -> ConfigError:
    """``x.yaml: file not found, and no packaged config is called that; packaged: …``."""
    names = packaged_names()
    stem = Path(name).stem
    did = did_you_mean(stem, names)
    return ConfigError(
        str(name),
        "",
        f"file not found, and no packaged config has that name{did}; "
        f"packaged configs: {', '.join(names)}",
    )


#: keys of a mapping that say which kind of thing it is: a child that names another kind
#: replaces the parent's mapping whole (a gamma's ``cv`` is not an exponential's)
KIND_KEYS = ("dist", "kind")
#: keys of which a mapping has one (a ferry's sailing rule): a child that gives another
#: replaces the parent's mapping whole (its ``first`` goes with ``every``)
RULE_KEYS = ("every", "weekly", "when_full")
#: keys that stand for each other (one of them is given): a child's one drops the parent's
#: other (``duration`` for ``end``, ``capacity_teu`` for ``capacity_wagons`` …)
ALTERNATIVE_KEYS = (
    ("share", "origins"),
    ("factor", "trains_per_day", "share_of_outbound"),
    ("duration", "end"),
    ("capacity_wagons", "capacity_teu"),
    ("km", "nm"),
)


def _replaces_whole(base: Mapping[str, Any], over: Mapping[str, Any]) -> bool:
    """``over`` is a mapping of another kind than ``base`` (see :data:`KIND_KEYS`,
    :data:`RULE_KEYS`)."""
    for key in KIND_KEYS:
        if key in over and key in base and over[key] != base[key]:
            return True
    rules = {k for k in RULE_KEYS if k in over}
    return bool(rules) and not rules <= {k for k in RULE_KEYS if k in base}


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` onto ``base``: mappings recursively, everything else replaced; a
    mapping of another kind (another ``dist``, another sailing rule) replaces the parent's
    whole, and a key given drops the parent's alternatives to it (:data:`ALTERNATIVE_KEYS`)."""
    if _replaces_whole(base, over):
        return copy.deepcopy(dict(over))
    out = copy.deepcopy(dict(base))
    for group in ALTERNATIVE_KEYS:
        given = [k for k in group if k in over]
        if given:
            for key in group:
                if key not in given:
                    out.pop(key, None)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_raw(
    path: Path, _stack: tuple[Path, ...] = (), _reads: list[int] | None = None
) -> dict[str, Any]:
    """Read ``path`` and resolve its ``extends`` chain (recursive, cycle-safe)."""
    real = path.resolve()
    if real in _stack:
        chain = " -> ".join(p.name for p in (*_stack, real))
        raise ConfigError(str(path), "extends", f"cycle in extends: {chain}")
    if len(_stack) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(
            str(path), "extends", f"extends chain is more than {MAX_EXTENDS_DEPTH} files deep"
        )
    reads = [MAX_EXTENDS_FILES] if _reads is None else _reads
    reads[0] -= 1
    if reads[0] < 0:
        raise ConfigError(
            str(path), "extends", f"extends reads more than {MAX_EXTENDS_FILES} files; refused"
        )
    data = read_yaml(path)
    parents = data.pop("extends", None)
    sets = data.pop("set", None)
    if sets is not None and not isinstance(sets, dict):
        raise ConfigError(
            str(path), "set", "must be a mapping of KEY.PATH: value", sets, has_value=True
        )
    if parents is None:
        return _apply_sets(data, sets or {}, path)
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(
            str(path),
            "extends",
            "must be a file name or a list of file names",
            parents,
            has_value=True,
        )
    merged: dict[str, Any] = {}
    for parent in parents:
        parent_path = path.parent / parent
        if not parent_path.is_file():  # beside the file first, else a packaged config
            parent_path = packaged_config(Path(parent)) or parent_path
        if not parent_path.is_file():
            raise ConfigError(
                str(path),
                "extends",
                "file not found, and no packaged config has that name",
                parent,
                has_value=True,
            )
        merged = deep_merge(merged, load_raw(parent_path, (*_stack, real), reads))
    # a parent's name is not inherited: a child without its own is named after its file
    # (else `extends: baseline.yaml` would write to, and overwrite, results/baseline)
    merged.pop("name", None)
    return _apply_sets(deep_merge(merged, data), sets or {}, path)


def _apply_sets(data: dict[str, Any], sets: dict[Any, Any], path: Path) -> dict[str, Any]:
    """A file's ``set:`` mapping (``KEY.PATH: value``, as ``--set``), applied after its
    ``extends`` are merged — the way to change one item of a list such as
    ``corridor.edges[from=Dostyk,to=Aktogay].speed`` without copying the list."""
    for key, value in sets.items():
        parts = split_key_path(str(key))
        if not str(key).strip() or any(p == "" for p in parts):
            raise ConfigError(str(path), f"set.{key}", "expected a dotted key path")
        apply_override(data, parts, value, str(path))
    return data


def split_key_path(key: str) -> list[str]:
    """``a.b[x=1.5].c`` → ``['a', 'b[x=1.5]', 'c']``: dots inside brackets do not split."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in key.strip():
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        if ch == "." and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _select(items: list[Any], selector: str, source: str, where: str) -> int:
    """Index of the one mapping in ``items`` matching ``key=value,…`` (values as text)."""
    wanted: list[tuple[str, str]] = []
    for clause in selector.split(","):
        k, eq, v = clause.partition("=")
        if not eq or not k.strip():
            raise ConfigError(
                source,
                where,
                "expected [key=value,…] to select a list item",
                selector,
                has_value=True,
            )
        wanted.append((k.strip(), v.strip()))
    hits = [
        i
        for i, item in enumerate(items)
        if isinstance(item, dict) and all(k in item and str(item[k]) == v for k, v in wanted)
    ]
    if len(hits) != 1:
        found = "no item matches" if not hits else f"{len(hits)} items match"
        raise ConfigError(source, where, f"{found} [{selector}]; it must match exactly one")
    return hits[0]


def parse_override(text: str) -> tuple[list[str], Any]:
    """``hub.cranes.count=6`` → (['hub', 'cranes', 'count'], 6). Values are YAML.

    A list item is addressed by index (``corridor.edges.5.speed``) or by a selector
    matching exactly one item (``corridor.edges[from=Dostyk,to=Aktogay].speed``)."""
    depth, split_at = 0, -1
    for i, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "=" and depth <= 0:
            split_at = i
            break
    if split_at < 0:
        raise ConfigError("--set", text, "expected KEY.PATH=VALUE, e.g. hub.cranes.count=6")
    key, raw = text[:split_at], text[split_at + 1 :]
    parts = split_key_path(key)
    if not key.strip() or any(p == "" for p in parts):
        raise ConfigError("--set", key, "expected a dotted key path, e.g. hub.cranes.count")
    try:
        value = parse_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    except RecursionError:
        raise ConfigError("--set", key, "value is nested too deeply") from None
    return parts, value


def apply_override(data: dict[str, Any], parts: list[str], value: Any, source: str) -> list[str]:
    """Set ``value`` at the dotted path, creating mappings as needed. Returns the path
    as validation errors name it: list items by their index (a ``[key=value]``
    selector and a negative index resolved)."""
    node: Any = data
    resolved: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if part.endswith("]") and "[" in part:  # key[k=v,…]: one item of a list
            key, _, selector = part[:-1].partition("[")
            if key:
                if not isinstance(node, dict) or not isinstance(node.get(key), list):
                    raise ConfigError(source, where, f"{key!r} is not a list here")
                node = node[key]
            if not isinstance(node, list):
                raise ConfigError(source, where, "a [key=value] selector needs a list")
            index = _select(node, selector, source, where)
            resolved += [key, str(index)] if key else [str(index)]
            if last:
                node[index] = value
            else:
                node = node[index]
            continue
        if isinstance(node, list):
            if not part.lstrip("-").isdigit():
                raise ConfigError(
                    source, where, f"expected a list index (0 to {len(node) - 1}) or [key=value]"
                )
            if not -len(node) <= int(part) < len(node):
                raise ConfigError(
                    source, where, f"list index out of range (list has {len(node)} items)"
                )
            index = int(part) % len(node)
            resolved.append(str(index))
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            resolved.append(part)
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(
                source,
                ".".join(parts[:i]),
                f"is a value, not a section; cannot set {'.'.join(parts)}",
            )
    return resolved


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    *,
    days: float | None = None,
    warmup_days: float | None = None,
    seed: int | None = None,
) -> ScenarioConfig:
    """Load, merge, override and validate a scenario. Raises :class:`ConfigError`.

    ``path`` is a YAML file or a packaged config's name (``"baseline"``,
    ``"khorgos-closed-7d"``, ``"configs/baseline.yaml"``: they work from any folder;
    None is the baseline). ``overrides`` are ``KEY.PATH=VALUE`` texts as given to
    ``--set``; ``days``, ``warmup_days`` and ``seed`` replace the ``simulation`` values."""
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigError(None, "", f"load_config: path is a file or a packaged name, got {path!r}")
    overrides = _override_texts(overrides)
    file_path = default_config_path() if path is None else resolve_config_path(path)
    if path is not None and not file_path.exists():
        raise _not_found(path)
    data = load_raw(file_path)
    data.setdefault("name", _name_from_stem(file_path.stem))
    texts = list(overrides)
    given = texts or any(v is not None for v in (days, warmup_days, seed))
    before = copy.deepcopy(data) if given else data
    applied: list[tuple[str, list[str]]] = []  # (the --set option, the path it wrote)
    for text in texts:
        parts, value = parse_override(text)
        option = f"--set {_shorten(text)}"
        applied.append((option, apply_override(data, parts, value, option)))
    sim = data.get("simulation")
    if any(v is not None for v in (days, warmup_days, seed)):
        if sim is None:
            sim = data["simulation"] = {}
        if isinstance(sim, dict):
            for key, value in (("days", days), ("warmup_days", warmup_days), ("seed", seed)):
                if value is not None:
                    sim[key] = value
                    shown = f"{value:g}" if isinstance(value, float) else value
                    option = f"--{key.replace('_', '-')} {shown}"
                    applied.append((option, ["simulation", key]))
    try:
        return validate_config(data, str(file_path))
    except ConfigError as exc:
        blamed = _blame_override(exc, applied, before)
        if blamed is exc and applied and _is_valid(before, str(file_path)):
            blamed = _blame_options(exc, applied)  # the file is fine: the options are not
        raise blamed from None


def _is_valid(data: dict[str, Any], file: str) -> bool:
    try:
        validate_config(copy.deepcopy(data), file)
    except ConfigError:
        return False
    return True


def _blame_options(exc: ConfigError, applied: list[tuple[str, list[str]]]) -> ConfigError:
    """An error of the whole config that only the options (``--set``, ``--days`` …) made
    (the file alone is valid): it names the last option that wrote under the error's key
    (a check over several keys: ``simulation`` for ``--days`` and ``--warmup-days``), or
    else every option, and keeps the key it is about."""
    error = exc.path.split(".") if exc.path else []
    related = [option for option, key in applied if key[: len(error)] == error]
    options = related[-1:] or list(dict.fromkeys(option for option, _ in applied))
    return ConfigError(
        ", ".join(options), exc.path, exc.message, exc.value, has_value=exc.has_value
    )


def _override_texts(given: object) -> list[str]:
    """``load_config``'s overrides as a list of texts: None is none, one text is that one
    (not its characters, one by one); anything else is refused in one line."""
    if given is None:
        return []
    items = [given] if isinstance(given, str) else given
    texts = list(items) if isinstance(items, Iterable) else None
    if texts is None or not all(isinstance(t, str) for t in texts):
        raise ConfigError(
            None,
            "",
            "load_config: overrides is a list of KEY.PATH=VALUE texts, e.g. "
            f"['hub.cranes.count=4'] (got {given!r:.60})",
        )
    return texts


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _has_path(data: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def _blame_override(
    exc: ConfigError, applied: list[tuple[str, list[str]]], before: dict[str, Any]
) -> ConfigError:
    """An error in what a ``--set`` (or ``--days``, ``--warmup-days``, ``--seed``) wrote
    names that option, not the file: the value it set or something inside it, or a key it
    created (``--set demand.tonnes_per_dy=5000``: ``unknown key 'tonnes_per_dy' under
    demand``). ``before``: the config before any of them."""
    error = exc.path.split(".") if exc.path else []
    for option, key in reversed(applied):  # the last --set to write a key wins
        inside = error[: len(key)] == key
        created = key[: len(error)] == error and not _has_path(before, error)
        if not (inside or created):
            continue
        message, path = exc.message, exc.path
        if len(error) <= len(key):  # the option names the key; no need to repeat it
            path = ""
            found = re.match(r"unknown key '[^']*'", message)
            if found:
                parent = ".".join(error[:-1])
                where = f" under {parent}" if parent else " at the top level"
                message = message[: found.end()] + where + message[found.end() :]
        return ConfigError(option, path, message, exc.value, has_value=exc.has_value)
    return exc


def _name_from_stem(stem: str) -> str:
    """A valid scenario name from a file name (``my scenario (2).yaml`` → ``my-scenario-2``)."""
    return re.sub(r"[^\w.\-]+", "-", stem).strip("-")[:100] or "scenario"


def validate_config(data: dict[str, Any], file: str | None = None) -> ScenarioConfig:
    """Validate a raw mapping (schema, then cross references)."""
    from silkroute_sim.config.checks import check_scenario

    if not isinstance(data, dict):
        raise ConfigError(file, "", f"expected a mapping of config sections, got {data!r:.40}")
    check_size(data, file, "config expands to", "(or is cyclic)")
    try:
        cfg = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, file, data, ScenarioConfig) from None
    except RecursionError:
        raise ConfigError(file, "", "config is nested too deeply") from None
    problem = check_scenario(cfg)
    if problem is not None:
        path, message, value = problem
        raise ConfigError(file, path, message, value, has_value=value is not None)
    return cfg


#: top-level keys of a scenario config (what tells one given where a spec is expected)
SCENARIO_KEYS = frozenset({"extends", "hub", "demand", "corridor", "services", "simulation"})


def read_model(path: Path, model: type[ModelT]) -> tuple[ModelT, dict[str, Any]]:
    """Read the YAML file ``path`` and validate it as ``model`` (a spec: a sweep's, an
    optimisation's), with one-line errors naming the key path; a misspelt top-level key
    is reported before the "missing" errors it explains. Returns the model and the raw
    mapping."""
    raw = read_yaml(path)
    allowed = [f.alias or name for name, f in model.model_fields.items()]
    if not set(raw) & set(allowed) and set(raw) & SCENARIO_KEYS:
        what = {"SweepSpec": "a sweep", "OptimizeSpec": "an optimisation"}.get(model.__name__, "a")
        raise ConfigError(
            str(path),
            "",
            f"is a scenario config, not {what} spec: a spec names its scenario under "
            "'base:' (or 'scenarios:') and says what to vary; see docs/experiments.md",
        )
    for key in raw:
        if key not in allowed:
            raise ConfigError(
                str(path),
                str(key),
                f"unknown key {key!r}{did_you_mean(str(key), allowed)}; "
                f"allowed keys: {keys_text(allowed)}",
            )
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        raise from_validation_error(exc, str(path), raw, model) from None
