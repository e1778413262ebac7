"""Constraints: boolean expressions over parameter paths that drop design points.

``constraints: ["not (tonnes_per_day >= 5000 and count < 3)"]`` keeps only the points
where every expression is true. The language is a small, safe subset of Python's
expressions, checked on its syntax tree before anything runs: comparisons, ``and``/``or``/
``not``, arithmetic, ``in``, ``x if c else y``, literals and parameter names; no calls,
attributes or subscripts, and no builtins at evaluation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from silkroute_sim.config.errors import ConfigError
from silkroute_sim.experiments.sweep.spec import Parameter, cell_text

_STRING = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Tuple,
    ast.List,
    ast.IfExp,
)


@dataclass(frozen=True)
class Constraint:
    """A boolean expression over parameter paths; points where it is false are skipped.

    Paths are written as in ``parameters:`` (``demand.tonnes_per_day``), or by their last
    segment when that is unambiguous (``tonnes_per_day``). Comparisons, ``and``/``or``/
    ``not``, arithmetic and ``in`` are allowed; nothing else (no calls, no attributes).
    """

    text: str
    index: int
    code: Any
    names: dict[str, str]

    def __call__(self, values: dict[str, Any]) -> bool:
        scope = {name: values[path] for name, path in self.names.items()}
        return bool(eval(self.code, {"__builtins__": {}, _ARITH: _arithmetic}, scope))


#: the name arithmetic is evaluated through (no user can write it: only parameter names are)
_ARITH = "__arith"
_OPERATIONS = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mult": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "FloorDiv": lambda a, b: a // b,
    "Mod": lambda a, b: a % b,
}


def _arithmetic(left: object, op: str, right: object) -> object:
    """Arithmetic on numbers only: ``'a' * 10**11`` (text or a list repeated) would take
    the machine's memory."""
    for value in (left, right):
        if not isinstance(value, int | float):
            raise TypeError(f"arithmetic takes numbers, not {cell_text(value)!r}")
    return _OPERATIONS[op](left, right)


class _CheckedArithmetic(ast.NodeTransformer):
    """Every ``a <op> b`` as ``__arith(a, '<op>', b)`` (checked before it is compiled)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(
            func=ast.Name(id=_ARITH, ctx=ast.Load()),
            args=[node.left, ast.Constant(type(node.op).__name__), node.right],
            keywords=[],
        )
        return ast.copy_location(call, node)


def parse_constraint(text: str, index: int, params: Sequence[Parameter], file: str) -> Constraint:
    where = f"constraints.{index}"
    aliases: dict[str, str] = {p.path: p.path for p in params}
    shorts = [p.short for p in params]
    for p in params:
        if shorts.count(p.short) == 1 and p.short not in aliases:
            aliases[p.short] = p.path
    names: dict[str, str] = {}
    placeholder_of: dict[str, str] = {}
    for i, alias in enumerate(sorted(aliases, key=len, reverse=True)):
        placeholder_of[alias] = f"__p{i}"
    pattern = re.compile(
        r"(?<![\w.])("
        + "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        + r")(?![\w.])"
    )

    def substitute(segment: str) -> str:
        def repl(match: re.Match[str]) -> str:
            alias = match.group(1)
            names[placeholder_of[alias]] = aliases[alias]
            return placeholder_of[alias]

        return pattern.sub(repl, segment)

    pieces = _STRING.split(text)
    expr = "".join(p if i % 2 else substitute(p) for i, p in enumerate(pieces))
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            file, where, f"not a valid expression ({exc.msg})", text, has_value=True
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ConfigError(
                file,
                where,
                f"{type(node).__name__} is not allowed; use comparisons, and/or/not, "
                "arithmetic and parameter paths",
                text,
                has_value=True,
            )
        if isinstance(node, ast.Name) and node.id not in names:
            raise ConfigError(
                file,
                where,
                f"unknown name {node.id!r}; use a parameter path: "
                + ", ".join(p.path for p in params),
                text,
                has_value=True,
            )
    checked = ast.fix_missing_locations(_CheckedArithmetic().visit(tree))
    return Constraint(text, index, compile(checked, f"<{where}>", "eval"), names)


def keep_points(
    candidates: list[dict[str, Any]], constraints: Sequence[Constraint], file: str
) -> list[dict[str, Any]]:
    """The candidate points where every constraint holds (an error where one cannot be
    evaluated, or where none is left)."""
    kept: list[dict[str, Any]] = []
    for values in candidates:
        ok = True
        for c in constraints:
            try:
                ok = c(values)
            except Exception as exc:  # a type error in the user's expression
                desc = ", ".join(f"{k}={cell_text(v)}" for k, v in values.items())
                raise ConfigError(
                    file,
                    f"constraints.{c.index}",
                    f"cannot evaluate at ({desc}): {type(exc).__name__}: {exc}",
                    c.text,
                    has_value=True,
                ) from None
            if not ok:
                break
        if ok:
            kept.append(values)
    if not kept:
        raise ConfigError(file, "constraints", f"exclude all {len(candidates)} points")
    return kept
