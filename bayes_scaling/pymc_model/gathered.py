"""The law on each input's distinct values, gathered to the rows only where two inputs meet.

A checkpoint table has few distinct values per input: 200 runs x 500 steps has 200 model sizes and
500 step counts in 10^5 rows. The law's power terms each depend on one input, so they need only
be computed on that input's distinct values (``exp``, ``log`` and powers on 200 or 500 numbers, not
10^5); a term is taken to the rows by an index when it meets a term of another input. There,
``log(a + b)`` of two terms is ``log(exp(la - c)[i] + exp(lb - c)[j]) + c``: one ``log`` per row
instead of ``logaddexp``'s ``exp`` and ``log1p``, with the shift ``c`` (the largest of the two terms'
logs, outside the gradient: the value does not depend on it) keeping every exponential <= 1.
The value is the same function of the parameters as the row-wise form (tested to 1e-10, value and
gradient); only the arithmetic is arranged differently. A row where both terms underflow (both more
than ~700 nats below the largest term of the data) would be ``-inf``: a point of no posterior mass.

:func:`gathered_inputs` decides per input (tables of at least :data:`MIN_ROWS` rows and at most one
distinct value in :data:`MAX_SHARE` of them), :func:`gathered_ops` is the formula backend
(:class:`bayes_scaling.law.formula.Ops`) that computes on :class:`Gathered` values.
"""

from __future__ import annotations

import operator

import numpy as np

from ..law.formula import Ops

__all__ = ["Gathered", "MIN_ROWS", "MAX_SHARE", "NUMPY_GATHERED_OPS", "gathered_inputs", "gathered_ops", "rows",
           "signature"]

#: Tables with fewer rows are evaluated row by row (nothing to gain, one model for small data).
MIN_ROWS = 2_000
#: An input is gathered when its distinct values are at most this share of the rows.
MAX_SHARE = 0.25


def gathered_inputs(log_inputs: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{input: (distinct log values, row index)}`` for the inputs worth gathering."""
    out = {}
    for sym, log_x in log_inputs.items():
        n = len(log_x)
        if n < MIN_ROWS:
            continue
        distinct, index = np.unique(log_x, return_inverse=True)
        if len(distinct) <= MAX_SHARE * n:
            out[sym] = (distinct, index.astype(np.int64))
    return out


def signature(gathered: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """What the compiled graph depends on: which inputs are gathered, over how many values."""
    return "".join(f"|gather:{sym}={len(u)}" for sym, (u, _) in sorted(gathered.items()))


class Gathered:
    """Values on the distinct points of one input (``unique``), taken to the rows by ``index``."""

    __slots__ = ("unique", "index", "key")
    __array_ufunc__ = None  # numpy scalars defer to these operators

    def __init__(self, unique, index, key: str):
        self.unique, self.index, self.key = unique, index, key

    def rows(self):
        if isinstance(self.unique, np.ndarray):  # numpy: draws on the leading axes, points on the last
            return self.unique[..., self.index]
        return self.unique[self.index]

    def _with(self, other, fn, swap: bool = False):
        if isinstance(other, Gathered) and other.key != self.key:
            a, b = self.rows(), other.rows()
        elif isinstance(other, Gathered) or _is_scalar(other):
            b = other.unique if isinstance(other, Gathered) else other
            return Gathered(fn(b, self.unique) if swap else fn(self.unique, b), self.index, self.key)
        else:  # a per-row (or per-group, taken to the rows) tensor
            a, b = self.rows(), other
        return fn(b, a) if swap else fn(a, b)

    def __neg__(self):
        return Gathered(-self.unique, self.index, self.key)


for _name, _fn in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow)):  # a op b and b op a
    setattr(Gathered, f"__{_name}__", lambda self, o, fn=_fn: self._with(o, fn))
    setattr(Gathered, f"__r{_name}__", lambda self, o, fn=_fn: self._with(o, fn, swap=True))


def _is_scalar(x) -> bool:
    """One value per point of the formula: a scalar, or (numpy) draws with a last axis of length 1."""
    if isinstance(x, np.ndarray):
        return x.ndim == 0 or x.shape[-1] == 1
    return np.ndim(x) == 0 if not hasattr(x, "ndim") else x.ndim == 0


def rows(x):
    """``x`` on the rows (a :class:`Gathered` value gathered; anything else as it is)."""
    return x.rows() if isinstance(x, Gathered) else x


def gathered_ops() -> Ops:
    """The pytensor formula backend that keeps :class:`Gathered` values on their distinct points."""
    import pytensor.tensor as pt
    from pytensor.gradient import zero_grad

    def logaddexp(x, y):
        if isinstance(x, Gathered) and isinstance(y, Gathered) and x.key != y.key:
            c = zero_grad(pt.maximum(pt.max(x.unique), pt.max(y.unique)))
            return pt.log(pt.exp(x.unique - c)[x.index] + pt.exp(y.unique - c)[y.index]) + c
        return _binary(pt.logaddexp)(x, y)

    return Ops(log=_unary(pt.log), exp=_unary(pt.exp), sqrt=_unary(pt.sqrt), logaddexp=logaddexp,
               minimum=_binary(pt.minimum), maximum=_binary(pt.maximum))


def _unary(fn):
    return lambda x: Gathered(fn(x.unique), x.index, x.key) if isinstance(x, Gathered) else fn(x)


def _binary(fn):
    def apply(x, y):
        if isinstance(x, Gathered):
            return x._with(y, fn)
        if isinstance(y, Gathered):
            return y._with(x, fn, swap=True)
        return fn(x, y)
    return apply


def _numpy_logaddexp(x, y):
    if isinstance(x, Gathered) and isinstance(y, Gathered) and x.key != y.key:
        c = np.maximum(np.max(x.unique, axis=-1, keepdims=True), np.max(y.unique, axis=-1, keepdims=True))
        c = np.where(np.isfinite(c), c, 0.0)  # a draw whose terms are all -inf (or nan) stays so
        out = np.take(np.exp(x.unique - c), x.index, axis=-1)  # in place from here: each temporary of
        out += np.take(np.exp(y.unique - c), y.index, axis=-1)  # draws x rows costs its page faults
        np.log(out, out=out)
        out += c
        return out
    return _binary(np.logaddexp)(x, y)


#: The numpy formula backend on :class:`Gathered` values whose ``unique`` is shaped ``(..., values)``
#: (posterior draws on the leading axes): predictions over every draw at the rows of a large table.
NUMPY_GATHERED_OPS = Ops(log=_unary(np.log), exp=_unary(np.exp), sqrt=_unary(np.sqrt), logaddexp=_numpy_logaddexp,
                         minimum=_binary(np.minimum), maximum=_binary(np.maximum))
