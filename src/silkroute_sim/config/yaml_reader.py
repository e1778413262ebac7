"""Reading a YAML config safely: plain YAML only (no Python tags), no key twice in a
mapping, bounded size, one-line errors; libyaml's parser where PyYAML has it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from silkroute_sim.config.errors import ConfigError

#: refuse files larger than this before parsing (hostile or accidental input)
MAX_CONFIG_BYTES = 5 * 1024 * 1024
#: refuse documents whose expanded size (mapping entries + list items + scalars) exceeds this
MAX_NODES = 200_000


def _count_nodes(data: Any, seen: dict[int, int], budget: list[int]) -> None:
    """Count the expanded size of a document, refusing alias bombs early."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("too large")
    if isinstance(data, dict):
        for key, value in data.items():
            _count_nodes(key, seen, budget)
            _count_nodes(value, seen, budget)
    elif isinstance(data, list):
        for item in data:
            _count_nodes(item, seen, budget)


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice (plain YAML would silently keep the last)."""


class _Checks(yaml.constructor.SafeConstructor):
    """What the config loaders add to YAML's safe loader (no Python tags): duplicate keys
    refused, a bad date named, ``1e9`` read as a number."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in first_line
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if seen:
                raise DuplicateKeyError(
                    problem=f"duplicate key {key!r} (first at line {first_line[key]})",
                    problem_mark=key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        """``12:00`` or ``1:30`` unquoted: YAML 1.1 reads a base-60 number (720, 90);
        configs mean a time or a duration, so it stays the text it is (as quoted)."""
        if ":" in str(node.value):
            return str(node.value)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        """``1:30.5`` unquoted: the text, as :meth:`construct_yaml_int` keeps ``1:30``."""
        if ":" in str(node.value):
            return str(node.value)
        return super().construct_yaml_float(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date such as ``2024-13-04`` is a YAML error naming the value, not a crash."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                problem=f"{node.value!r} is not a valid date ({exc})",
                problem_mark=node.start_mark,
            ) from None


class ConfigLoader(_Checks, yaml.SafeLoader):
    """The safe loader in Python, with the config checks."""


#: libyaml's parser (in C, about ten times faster on the corridor file) where PyYAML was
#: built with it, with the same checks; else the Python one
FastConfigLoader: Any = ConfigLoader
if getattr(yaml, "__with_libyaml__", False):

    class _CConfigLoader(_Checks, yaml.CSafeLoader):
        """The safe loader on libyaml, with the config checks."""

    FastConfigLoader = _CConfigLoader

for _loader in dict.fromkeys((ConfigLoader, FastConfigLoader)):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _Checks.construct_yaml_timestamp)
    _loader.add_constructor("tag:yaml.org,2002:int", _Checks.construct_yaml_int)
    _loader.add_constructor("tag:yaml.org,2002:float", _Checks.construct_yaml_float)
    # YAML 1.1 reads 1e9 (no dot) as a string; configs mean the number, as YAML 1.2 does
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+.0123456789"),
    )


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely (no Python tags, no duplicate keys), with libyaml where
    PyYAML has it."""
    return yaml.load(text, Loader=FastConfigLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping safely, with size limits and one-line errors.

    At most ``MAX_CONFIG_BYTES`` are read, whatever the file claims to be (``/dev/zero``,
    a pipe, a file in /proc), so memory stays bounded."""
    file = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigError(file, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read the file: {exc.strerror}") from None
    if path.is_dir():
        raise ConfigError(file, "", "is a folder, expected a YAML file")
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            file,
            "",
            f"file is {size / 1e6:.1f} MB; configs are limited to "
            f"{MAX_CONFIG_BYTES // (1024 * 1024)} MB",
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            file, "", f"file is over {MAX_CONFIG_BYTES // (1024 * 1024)} MB, the limit for configs"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(file, "", "is not UTF-8 text") from None
    try:
        data = parse_yaml(text)
    except DuplicateKeyError as exc:
        raise ConfigError(file, "", f"{_yaml_problem(exc)}; each key may appear once") from None
    except yaml.constructor.ConstructorError as exc:
        if "could not determine a constructor" in str(exc.problem):
            raise ConfigError(
                file,
                "",
                f"unsupported YAML tag ({_yaml_problem(exc)}); only plain YAML is allowed",
            ) from None
        raise ConfigError(file, "", f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's limit
            raise ConfigError(file, "", "YAML nesting is too deep") from None
        raise ConfigError(file, "", f"invalid YAML: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise ConfigError(file, "", "YAML nesting is too deep") from None
    if data is None:
        raise ConfigError(file, "", "the file is empty; expected a mapping of config sections")
    if not isinstance(data, dict):
        raise ConfigError(
            file, "", f"expected a mapping of config sections, got a {type(data).__name__}"
        )
    check_size(data, file, "document expands to", "(YAML aliases?)")
    return data


def check_size(data: Any, file: str | None, what: str, why: str) -> None:
    """Refuse ``data`` of more than :data:`MAX_NODES` values, counted as expanded
    (aliases repeat what they name), in one line: ``what`` more than so many ``why``."""
    try:
        _count_nodes(data, {}, [MAX_NODES])
    except (ValueError, RecursionError):
        raise ConfigError(file, "", f"{what} more than {MAX_NODES} values {why}; refused") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context and not isinstance(exc, DuplicateKeyError):  # "while parsing a flow sequence"
        problem = f"{context}, {problem}"
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
