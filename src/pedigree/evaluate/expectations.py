"""Intent expectations: small, checkable statements a run makes about its outputs.

An expectation is a Python-like expression over measurements, e.g.
``imbalance_ratio(vote) <= 1.5``, ``dcr_share_closer_to_train <= 0.55``,
``not has_column(respondent_id)``, ``row_count() >= 1000 and null_rate(age) < 0.05``.
It is parsed with ``ast`` and only this grammar is allowed: comparisons, ``and`` /
``or`` / ``not``, numbers and strings, bare names (a measurement) and calls
``f(column, …)``. A call is first a table function computed on the run's output table,
else the measurement ``f[column]`` (``ks_complement(age)`` is the evaluation's
``ks_complement`` of column ``age``). Nothing is ever executed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from pedigree.errors import EvaluationError
from pedigree.evaluate.fairness import imbalance_ratio

Status = Literal["held", "violated", "unknown"]

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class Unknown(Exception):
    """A measurement the expression needs is not available."""


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        raise Unknown(f"the output has no column {name!r}")
    return frame[name]


TABLE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "has_column": lambda frame, name: name in frame.columns,
    "row_count": lambda frame: len(frame),
    "column_count": lambda frame: len(frame.columns),
    "null_rate": lambda frame, name: float(_column(frame, name).isna().mean()),
    "distinct": lambda frame, name: int(_column(frame, name).nunique(dropna=True)),
    "mean": lambda frame, name: float(_column(frame, name).mean()),
    "min": lambda frame, name: _column(frame, name).min(),
    "max": lambda frame, name: _column(frame, name).max(),
    "share": lambda frame, name, value: float(
        (_column(frame, name).astype(str) == str(value)).mean()
    ),
    "imbalance_ratio": lambda frame, name: imbalance_ratio(_column(frame, name)),
}
"""Functions an expectation may call on the run's output table."""


@dataclass
class Outcome:
    expect: str
    status: Status
    observed: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"expect": self.expect, "status": self.status}
        if self.observed:
            data["observed"] = self.observed
        if self.reason:
            data["reason"] = self.reason
        return data


def parse(text: str) -> ast.expr:
    """The checked syntax tree of an expectation; a clear error for anything else."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise EvaluationError(f"expectation {text!r} is not valid: {exc.msg}") from None
    for node in ast.walk(tree):
        allowed = (
            ast.Compare,
            ast.BoolOp,
            ast.UnaryOp,
            ast.Call,
            ast.Name,
            ast.Constant,
            ast.Load,
            ast.And,
            ast.Or,
            ast.Not,
            ast.USub,
            *_COMPARE,
        )
        if not isinstance(node, allowed):
            raise EvaluationError(f"expectation {text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.keywords):
            raise EvaluationError(f"expectation {text!r}: only calls like f(column) are allowed")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.Not, ast.USub)):
            raise EvaluationError(f"expectation {text!r}: operator not allowed")
    return tree


def check(
    text: str,
    *,
    measurements: Mapping[str, Any],
    table: pd.DataFrame | None = None,
) -> Outcome:
    """Evaluate one expectation against ``measurements`` (keys ``name`` or
    ``name[col,…]``) and the run's output ``table``."""
    tree = parse(text)
    observed: dict[str, Any] = {}
    try:
        value = _eval(tree, measurements, table, observed)
    except Unknown as exc:
        return Outcome(text, "unknown", observed, str(exc))
    return Outcome(text, "held" if value else "violated", observed)


def _eval(
    node: ast.expr,
    measurements: Mapping[str, Any],
    table: pd.DataFrame | None,
    observed: dict[str, Any],
) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, measurements, table, observed)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, measurements, table, observed) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, measurements, table, observed)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, measurements, table, observed)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                raise Unknown(f"cannot compare {left!r} with {right!r}") from None
            left = right
        return True
    if isinstance(node, ast.Name):
        return _measure(node.id, (), measurements, table, observed)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = tuple(_argument(a) for a in node.args)
        return _measure(node.func.id, args, measurements, table, observed)
    raise Unknown(f"cannot evaluate {ast.unparse(node)}")


def _argument(node: ast.expr) -> Any:
    """Arguments are column names (bare or quoted) or constants."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        return -node.operand.value
    raise Unknown(f"argument {ast.unparse(node)} must be a column name or a constant")


def _measure(
    name: str,
    args: tuple[Any, ...],
    measurements: Mapping[str, Any],
    table: pd.DataFrame | None,
    observed: dict[str, Any],
) -> Any:
    label = f"{name}({', '.join(map(str, args))})" if args or name in TABLE_FUNCTIONS else name
    function = TABLE_FUNCTIONS.get(name)
    if function is not None and table is not None:
        try:
            value = function(table, *args)
        except TypeError:
            raise Unknown(f"{label}: wrong number of arguments") from None
        if value is None:
            raise Unknown(f"{label} is undefined on the output")
    else:
        key = f"{name}[{','.join(map(str, args))}]" if args else name
        if key in measurements:
            value = measurements[key]
        elif not args and name in measurements:
            value = measurements[name]
        else:
            where = "no output table and " if function is not None else ""
            raise Unknown(f"{where}no measurement {key} (evaluate the output first?)")
        if value is None:
            raise Unknown(f"{key} was not applicable")
    if hasattr(value, "item"):
        value = value.item()
    observed[label] = value
    return value
