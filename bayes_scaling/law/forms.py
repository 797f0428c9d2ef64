"""Recognising known functional forms in a parsed law, whatever its parameter names.

Decisions use it to pick a closed form (the Chinchilla allocation of Hoffmann et al. 2022, Eq. 4)
over a numeric search; the backtest uses it to decide whether the Huber + bootstrap baseline of
Hoffmann et al. and Epoch AI applies.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .spec import LawSpec, load_law

__all__ = ["chinchilla_terms", "is_chinchilla_form"]


def chinchilla_terms(law: LawSpec) -> dict[str, str] | None:
    """Parameter names ``{E, A, alpha, B, beta}`` if the formula is ``E + A/N**alpha + B/D**beta``.

    Any parameter names and any order of the three terms; ``None`` for any
    other formula (which then gets the numeric solver).
    """
    def terms(node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return terms(node.left) + terms(node.right)
        return [node]

    params = set(law.parameters)
    out: dict[str, str] = {}
    for t in terms(law.formula.tree.body):
        if isinstance(t, ast.Name) and t.id in params:
            out.setdefault("E", t.id)
        elif (isinstance(t, ast.BinOp) and isinstance(t.op, ast.Div) and isinstance(t.left, ast.Name)
              and t.left.id in params and isinstance(t.right, ast.BinOp) and isinstance(t.right.op, ast.Pow)
              and isinstance(t.right.left, ast.Name) and isinstance(t.right.right, ast.Name)
              and t.right.right.id in params):
            col = law.inputs.get(t.right.left.id)
            keys = {"N": ("A", "alpha"), "D": ("B", "beta")}.get(col)
            if keys and keys[0] not in out:
                out[keys[0]], out[keys[1]] = t.left.id, t.right.right.id
                continue
            return None
        else:
            return None
    ok = set(out) == {"E", "A", "alpha", "B", "beta"} and len(set(out.values())) == 5
    return out if ok else None


def is_chinchilla_form(law: str | Path | Mapping[str, Any] | LawSpec) -> bool:
    """Whether a law of the loss is ``E + A/N**alpha + B/D**beta`` in N and D, whatever its parameter
    names and term order (:func:`chinchilla_terms`); ``law`` as :func:`~bayes_scaling.law.spec.load_law` takes it.
    """
    spec = load_law(law)
    return spec.response == "loss" and chinchilla_terms(spec) is not None
