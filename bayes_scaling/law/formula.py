"""Whitelisted scaling-law formulas: one parse, two backends (pytensor and numpy).

A formula is written in natural notation, e.g. ``E + A / N**alpha + B / D**beta``.
It is parsed once with :mod:`ast` and checked against a whitelist: numbers,
declared parameter and input names, ``+ - * / **`` (``^`` is read as ``**``),
unary minus and the functions ``log``, ``exp``, ``sqrt``, ``logaddexp``, ``min`` and
``max`` (elementwise, of two arguments).
Anything else (attribute access, subscripts, lambdas, comprehensions, unknown
functions or names, keyword arguments, strings) is a :class:`FormulaError`
naming the offending token.

Evaluation works in *log space* where it can: every node carries its value and,
when it is provably positive, its logarithm. A sum of positive terms becomes
``logaddexp`` of their logs, a product a sum of logs, ``x**p`` becomes
``p * log(x)`` and ``min``/``max`` of positives the ``min``/``max`` of their
logs. So ``log(E + A/N**alpha + B/D**beta)`` is computed as
``logaddexp(log E, logaddexp(log A - alpha log N, log B - beta log D))``,
which is stable over many decades of N and D. The same evaluator runs on
pytensor variables (to build the PyMC model) and on numpy arrays (to evaluate
posterior draws), selected by an :class:`Ops` table.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import FormulaError, InputError

__all__ = ["Formula", "Ops", "NUMPY_OPS", "pytensor_ops", "parse", "Quantity"]

FUNCTIONS = {"log": 1, "exp": 1, "sqrt": 1, "logaddexp": 2, "min": 2, "max": 2}
MAX_LENGTH = 2000
MAX_DEPTH = 100  # nesting levels of the expression tree
_CONSTANT_FUNCTIONS = {"log": math.log, "exp": math.exp, "sqrt": math.sqrt, "min": min, "max": max,
                       "logaddexp": lambda a, b: max(a, b) + math.log1p(math.exp(-abs(a - b)))}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@dataclass(frozen=True)
class Ops:
    """The elementary functions of one backend (numpy or pytensor)."""

    log: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    logaddexp: Callable[[Any, Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]


NUMPY_OPS = Ops(log=np.log, exp=np.exp, sqrt=np.sqrt, logaddexp=np.logaddexp, minimum=np.minimum,
                maximum=np.maximum)


def pytensor_ops() -> Ops:
    """The pytensor backend (imported lazily: pytensor is slow to import)."""
    import pytensor.tensor as pt

    return Ops(log=pt.log, exp=pt.exp, sqrt=pt.sqrt, logaddexp=pt.logaddexp, minimum=pt.minimum,
               maximum=pt.maximum)


@dataclass(frozen=True)
class Formula:
    """A parsed, whitelisted formula.

    Attributes
    ----------
    source : str
        The formula as written.
    tree : ast.Expression
        The checked syntax tree.
    names : frozenset of str
        Every parameter or input name the formula uses.
    """

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, env: dict[str, Quantity], ops: Ops) -> Quantity:
        """Evaluate with ``env`` mapping each name to a :class:`Quantity`."""
        return _eval(self.tree.body, env, ops)

    def log_value(self, env: dict[str, Quantity], ops: Ops):
        """``log`` of the formula's value, in log space wherever possible."""
        return self.evaluate(env, ops).log()

    def value(self, env: dict[str, Quantity], ops: Ops):
        """The formula's value; sums of positive terms are summed directly rather than through
        ``logaddexp`` (about 3x faster in numpy; for values far from overflow, the same number)."""
        return self.evaluate(env, ops).value()

    def is_positive(self, positive_names: set[str]) -> bool:
        """Whether the result is provably positive given the names known to be positive."""
        probe = {n: Quantity.symbolic(n in positive_names) for n in self.names}
        return _eval(self.tree.body, probe, _SYMBOLIC_OPS).positive


class Quantity:
    """A value with its logarithm, each computed lazily and at most once.

    ``positive`` records whether the value is provably > 0, which is what
    allows taking its log symbolically instead of numerically.
    """

    __slots__ = ("_value", "_log", "_value_fn", "_log_fn", "_ops", "positive")

    def __init__(self, *, value_fn=None, log_fn=None, positive: bool, ops: Ops):
        if value_fn is None and log_fn is None:
            raise InputError("a Quantity needs a value or a log")
        self._value = self._log = None
        self.positive = positive
        # no closure over self (it would be a reference cycle, keeping every cached array alive
        # until the cyclic garbage collector runs): the missing one is derived in value()/log()
        self._value_fn, self._log_fn, self._ops = value_fn, log_fn, ops

    @classmethod
    def of_value(cls, value, ops: Ops, positive: bool = False) -> Quantity:
        return cls(value_fn=lambda: value, positive=positive, ops=ops)

    @classmethod
    def of_value_fn(cls, fn, ops: Ops) -> Quantity:
        """A quantity of unknown sign computed by ``fn`` (its log is taken numerically)."""
        return cls(value_fn=fn, positive=False, ops=ops)

    @classmethod
    def of_log(cls, log_value, ops: Ops) -> Quantity:
        return cls(log_fn=lambda: log_value, positive=True, ops=ops)

    @classmethod
    def of_both(cls, value, log_value, ops: Ops) -> Quantity:
        return cls(value_fn=lambda: value, log_fn=lambda: log_value, positive=True, ops=ops)

    @classmethod
    def symbolic(cls, positive: bool) -> Quantity:
        return cls(value_fn=lambda: 0.0, log_fn=lambda: 0.0, positive=positive, ops=_SYMBOLIC_OPS)

    def value(self):
        if self._value is None:
            self._value = self._value_fn() if self._value_fn is not None else self._ops.exp(self.log())
        return self._value

    def log(self):
        if self._log is None:  # without a log_fn: the numeric log (no symbolic form)
            self._log = self._log_fn() if self._log_fn is not None else self._ops.log(self.value())
        return self._log


_SYMBOLIC_OPS = Ops(log=lambda x: 0.0, exp=lambda x: 0.0, sqrt=lambda x: 0.0,
                    logaddexp=lambda x, y: 0.0, minimum=lambda x, y: 0.0, maximum=lambda x, y: 0.0)


# --------------------------------------------------------------------------- parsing
def parse(source: str, allowed: set[str] | frozenset[str], *, what: str = "formula") -> Formula:
    """Parse ``source`` and check it against the whitelist.

    Parameters
    ----------
    source : str
        The formula, e.g. ``"E + A / N**alpha + B / D**beta"``.
    allowed : set of str
        Names the formula may use (the law's parameters and inputs).
    what : str
        How to call the text in error messages (``"formula"``, ``"exponent of A"``, ...).

    Raises
    ------
    FormulaError
        Naming the first token outside the whitelist.
    """
    if not isinstance(source, str) or not source.strip():
        raise FormulaError(f"{what} must be a non-empty string, got {source!r}")
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"{what} is longer than {MAX_LENGTH} characters")
    text = source.strip().replace("^", "**")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"{what} {source!r} is not a valid expression: {exc.msg}") from None
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise FormulaError(f"{what} is nested {depth} levels deep (at most {MAX_DEPTH}); simplify it")
    names: set[str] = set()
    _check(tree.body, text, set(allowed), names, what)
    _fold(tree.body, text, what)
    return Formula(source=source, tree=tree, names=frozenset(names))


def _depth(root: ast.AST) -> int:
    """The expression's nesting depth, counted without recursion (a long formula cannot overflow the stack)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _fold(node: ast.AST, text: str, what: str) -> float | None:
    """The value of a constant sub-expression (None if it involves a name); refuses a division by
    zero, a non-finite result or a constant that cannot be computed, naming the sub-expression."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        v = _fold(node.operand, text, what)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.Call):
        values = [_fold(a, text, what) for a in node.args]
        if any(v is None for v in values):
            return None
        return _constant(lambda: float(_CONSTANT_FUNCTIONS[node.func.id](*values)), node, text, what)
    if isinstance(node, ast.BinOp):
        a, b = _fold(node.left, text, what), _fold(node.right, text, what)
        if isinstance(node.op, ast.Div) and b == 0:
            raise FormulaError(f"{what}: division by zero in {_token(node, text)!r}")
        if a is None or b is None:
            return None
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.Pow: lambda: float(a ** b)}
        return _constant(ops[type(node.op)], node, text, what)
    return None


def _constant(compute, node: ast.AST, text: str, what: str) -> float:
    try:
        value = compute()
    except (ArithmeticError, ValueError, TypeError):
        value = math.nan
    if isinstance(value, complex) or not math.isfinite(value):
        raise FormulaError(f"{what}: the constant {_token(node, text)!r} has no finite real value")
    return value


def _token(node: ast.AST, text: str) -> str:
    return ast.get_source_segment(text, node) or type(node).__name__


def _check(node: ast.AST, text: str, allowed: set[str], names: set[str], what: str) -> None:
    def fail(reason: str) -> None:
        raise FormulaError(f"{what}: {reason} {_token(node, text)!r} is not allowed "
                           f"(allowed: numbers, names {sorted(allowed)}, + - * / **, "
                           f"unary minus, {', '.join(FUNCTIONS)})")

    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            fail(f"operator {type(node.op).__name__} in")
        _check(node.left, text, allowed, names, what)
        _check(node.right, text, allowed, names, what)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            fail(f"operator {type(node.op).__name__} in")
        _check(node.operand, text, allowed, names, what)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            fail("constant")
        if not math.isfinite(float(node.value)):
            fail("non-finite constant")
    elif isinstance(node, ast.Name):
        if node.id not in allowed:
            raise FormulaError(f"{what}: unknown name {node.id!r} (declared parameters and "
                               f"inputs: {sorted(allowed)})")
        names.add(node.id)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            fail("call of")
        if node.func.id not in FUNCTIONS:
            raise FormulaError(f"{what}: unknown function {node.func.id!r} "
                               f"(allowed functions: {', '.join(FUNCTIONS)})")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            fail("keyword or starred argument in")
        if len(node.args) != FUNCTIONS[node.func.id]:
            fail(f"{node.func.id} takes {FUNCTIONS[node.func.id]} argument(s);")
        for arg in node.args:
            _check(arg, text, allowed, names, what)
    elif isinstance(node, ast.Attribute):
        fail("attribute access")
    elif isinstance(node, ast.Subscript):
        fail("subscript")
    elif isinstance(node, ast.Lambda):
        fail("lambda")
    else:
        fail(f"{type(node).__name__}")


# --------------------------------------------------------------------------- evaluation
def _eval(node: ast.AST, env: dict[str, Quantity], ops: Ops) -> Quantity:
    if isinstance(node, ast.Constant):
        c = float(node.value)
        if c > 0:
            return Quantity.of_both(c, math.log(c), ops)
        return Quantity.of_value(c, ops)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        q = _eval(node.operand, env, ops)
        return q if isinstance(node.op, ast.UAdd) else Quantity.of_value_fn(lambda: -q.value(), ops)
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _eval(node.left, env, ops), _eval(node.right, env, ops), ops)
    if isinstance(node, ast.Call):
        args = [_eval(a, env, ops) for a in node.args]
        return _call(node.func.id, args, ops)
    raise FormulaError(f"cannot evaluate {type(node).__name__}")  # unreachable after _check


def _binop(op: ast.operator, a: Quantity, b: Quantity, ops: Ops) -> Quantity:
    both = a.positive and b.positive
    if isinstance(op, ast.Add):
        if both:  # the log by logaddexp (the model's path); the value, when asked, by the plain sum
            return Quantity(log_fn=lambda: ops.logaddexp(a.log(), b.log()), value_fn=lambda: a.value() + b.value(),
                            positive=True, ops=ops)
        return Quantity.of_value_fn(lambda: a.value() + b.value(), ops)
    if isinstance(op, ast.Sub):
        return Quantity.of_value_fn(lambda: a.value() - b.value(), ops)
    if isinstance(op, ast.Mult):
        if both:
            return Quantity(log_fn=lambda: a.log() + b.log(), positive=True, ops=ops)
        return Quantity.of_value_fn(lambda: a.value() * b.value(), ops)
    if isinstance(op, ast.Div):
        if both:
            return Quantity(log_fn=lambda: a.log() - b.log(), positive=True, ops=ops)
        return Quantity.of_value_fn(lambda: a.value() / b.value(), ops)
    # Pow
    if a.positive:
        return Quantity(log_fn=lambda: b.value() * a.log(), positive=True, ops=ops)
    return Quantity.of_value_fn(lambda: a.value() ** b.value(), ops)


def _call(name: str, args: list[Quantity], ops: Ops) -> Quantity:
    (x, *rest) = args
    if name == "exp":
        return Quantity(log_fn=lambda: x.value(), positive=True, ops=ops)
    if name == "log":
        return Quantity.of_value_fn(lambda: x.log(), ops)
    if name == "sqrt":
        if x.positive:
            return Quantity(log_fn=lambda: 0.5 * x.log(), positive=True, ops=ops)
        return Quantity.of_value_fn(lambda: ops.sqrt(x.value()), ops)
    y = rest[0]
    if name in ("min", "max"):
        pick = ops.minimum if name == "min" else ops.maximum
        if x.positive and y.positive:  # log is increasing: log min(x, y) = min(log x, log y)
            return Quantity(log_fn=lambda: pick(x.log(), y.log()), positive=True, ops=ops)
        if name == "max" and (x.positive or y.positive):  # positive, but its log is numeric
            return Quantity(value_fn=lambda: pick(x.value(), y.value()), positive=True, ops=ops)
        return Quantity.of_value_fn(lambda: pick(x.value(), y.value()), ops)
    # logaddexp
    return Quantity.of_value_fn(lambda: ops.logaddexp(x.value(), y.value()), ops)
