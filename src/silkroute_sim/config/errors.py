"""One-line, actionable errors for bad input.

Every problem with user input becomes a :class:`ConfigError` naming the file, the
key path, the offending value and what is allowed. The CLI prints
``error: <that line>`` and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from silkroute_sim.config.fields import NAME_ERROR


class SilkrouteError(Exception):
    """Base class for errors the CLI reports in one line."""


_BREAKS = re.compile(r"\s*[\r\n\t\v\f]+\s*")


def on_one_line(text: str) -> str:
    """``text`` on one line: each line break or tab, with the spaces around it, becomes one
    space, and the ends are trimmed; a run of spaces within a line stays, so that a name
    of two spaces is quoted as it was."""
    return _BREAKS.sub(" ", text).strip()


class ConfigError(SilkrouteError):
    """A bad config: file, dotted key path, the value and what is allowed."""

    def __init__(
        self,
        file: str | None,
        path: str,
        message: str,
        value: object = None,
        *,
        has_value: bool = False,
    ) -> None:
        self.file = file
        self.path = path
        self.message = message
        self.value = value
        self.has_value = has_value
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        where = ": ".join(parts)
        got = f" (got {_short(self.value)})" if self.has_value else ""
        text = f"{where}: {self.message}{got}" if where else f"{self.message}{got}"
        return on_one_line(text)


def did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to a misspelt ``name``, or
    ``""`` when none is close: the one hint every unknown-name error gives."""
    hint = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _short(value: object, limit: int = 60) -> str:
    if isinstance(value, dt.date):  # as written in YAML, not datetime.date(2025, 9, 12)
        value = value.isoformat()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def join_path(parts: typing.Iterable[object]) -> str:
    return ".".join(str(p) for p in parts)


# --------------------------------------------------------------------------- pydantic → one line

_ALLOWED_BY_TYPE = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping (key: value)",
    "list_type": "a list",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "finite_number": "a finite number",
}


def _ctx_allowed(kind: str, ctx: dict[str, Any]) -> str | None:
    bounds = {
        "greater_than": ("> ", "gt"),
        "greater_than_equal": (">= ", "ge"),
        "less_than": ("< ", "lt"),
        "less_than_equal": ("<= ", "le"),
    }
    if kind in bounds:
        prefix, key = bounds[kind]
        return f"a value {prefix}{ctx.get(key)}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} character(s)"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "letters, digits, '_', '-' and '.' only"
    if kind == "union_tag_invalid":
        return f"one of {ctx.get('expected_tags')}"
    if kind == NAME_ERROR:
        return str(ctx.get("allowed"))
    return None


def _unwrap(annotation: Any) -> list[Any]:
    """Candidate concrete types behind Annotated/Optional/Union."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def allowed_keys(model: type[BaseModel], loc: typing.Sequence[object], data: Any) -> list[str]:
    """The keys accepted at ``loc`` (the parent of an unknown key), walking the schema."""
    candidates: list[Any] = [model]
    node = data
    for part in loc:
        next_candidates: list[Any] = []
        for cand in candidates:
            for typ in _unwrap(cand):
                if isinstance(typ, type) and issubclass(typ, BaseModel):
                    field = _field_by_key(typ, part)
                    if field is not None:
                        next_candidates.append(field)
                    elif isinstance(node, dict) and part in _model_keys(typ):
                        next_candidates.append(typ)
                elif get_origin(typ) in (dict, list):
                    next_candidates.append(get_args(typ)[-1])
        candidates = next_candidates
        node = node.get(part) if isinstance(node, dict) else None
    keys: list[str] = []
    tag = node.get("dist", node.get("kind")) if isinstance(node, dict) else None
    for cand in candidates:
        for typ in _unwrap(cand):
            if isinstance(typ, type) and issubclass(typ, BaseModel):
                if tag is not None and not _matches_tag(typ, tag):
                    continue
                keys.extend(k for k in _model_keys(typ) if k not in keys)
    return keys


def _matches_tag(model: type[BaseModel], tag: object) -> bool:
    for name in ("dist", "kind"):
        field = model.model_fields.get(name)
        if field is not None:
            return tag in get_args(field.annotation) or field.default == tag
    return True


def _model_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _field_by_key(model: type[BaseModel], key: object) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _clean_loc(loc: typing.Sequence[object], data: Any, missing_leaf: bool = True) -> list[object]:
    """Keep only the parts of a pydantic loc that are real keys/indices in the input
    (and, with ``missing_leaf``, a missing key at the leaf)."""
    out: list[object] = []
    node = data
    for i, part in enumerate(loc):
        is_key = isinstance(node, dict) and _has_key(node, part)
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if is_key or is_index:
            out.append(part)
            node = node[part]
        elif missing_leaf and isinstance(node, dict) and i == len(loc) - 1:
            if not isinstance(part, int):
                out.append(part)  # a missing or unknown key at the leaf
            node = None
    return out


def _has_key(node: dict[Any, Any], key: object) -> bool:
    try:
        return key in node
    except TypeError:  # an unhashable part
        return False


def _node_at(data: Any, loc: typing.Sequence[object]) -> Any:
    for part in loc:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        found = in_list or (isinstance(data, dict) and _has_key(data, part))
        if not found:
            return None
        data = data[part]
    return data


#: at most this many allowed keys are listed in an error (the line stays one a terminal
#: shows; the did-you-mean names the likely one)
MAX_KEYS_LISTED = 12


def keys_text(allowed: list[str]) -> str:
    """The allowed keys for an error line: all of them, or the first
    :data:`MAX_KEYS_LISTED` and how many there are in all."""
    if len(allowed) <= MAX_KEYS_LISTED:
        return ", ".join(allowed)
    return f"{', '.join(allowed[:MAX_KEYS_LISTED])}, … ({len(allowed)} in all)"


def from_validation_error(
    exc: ValidationError, file: str | None, data: Any, model: type[BaseModel]
) -> ConfigError:
    """Turn the first pydantic error into a one-line ConfigError."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    if err["type"] == "missing":  # a misspelt key: say so (with a hint), not "missing"
        for other in errors:
            if other["type"] == "extra_forbidden" and other["loc"][:-1] == err["loc"][:-1]:
                err = other
                break
    kind = err["type"]
    loc = _clean_loc(err["loc"], data, missing_leaf=kind in ("missing", "extra_forbidden"))
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "value_error":  # a model check naming its key first: "count: must be …"
        node = _node_at(data, loc)
        head, sep, _ = str(ctx.get("error", "")).partition(": ")
        if sep and isinstance(node, dict) and _has_key(node, head) and " " not in head:
            loc = [*loc, head]
            value = node[head]
            err = {**err, "msg": err["msg"].replace(f"{head}: ", "", 1)}
    path = join_path(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = allowed_keys(model, loc[:-1], data)
        msg = f"unknown key {key!r}{did_you_mean(key, allowed)}"
        if allowed:
            msg += f"; allowed keys: {keys_text(allowed)}"
        return ConfigError(file, path, msg)
    if kind == "missing":
        return ConfigError(file, path, "required key is missing")
    if kind == "union_tag_not_found":  # {dist: …} / {kind: …} without its tag
        tag = str(ctx.get("discriminator", "kind")).strip("'")
        return ConfigError(file, join_path([*loc, tag]), "required key is missing")
    allowed_text = _ctx_allowed(kind, ctx) or _ALLOWED_BY_TYPE.get(kind)
    raw = err["msg"]
    if raw.startswith("Value error, "):
        raw = raw[len("Value error, ") :]
    if allowed_text and kind not in ("value_error", "assertion_error"):
        msg = f"invalid value; allowed: {allowed_text}"
    else:
        msg = raw
    if kind == "union_tag_invalid":  # {kind: bogus}: show the tag, not the mapping
        value = ctx.get("tag")
    if value is None or isinstance(value, dict | list):
        what = {type(None): "an empty value", dict: "a mapping", list: "a list"}
        if kind != "value_error" and type(value) in what:
            msg += f" (got {what[type(value)]})"
        return ConfigError(file, path, msg)
    return ConfigError(file, path, msg, value, has_value=True)
