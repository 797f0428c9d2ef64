"""Known forms recognised in a parsed law, by value rather than by name."""

from __future__ import annotations

from bayes_scaling.law.forms import chinchilla_terms, is_chinchilla_form
from bayes_scaling.law.spec import load_law


def test_chinchilla_form_is_recognised_by_value_not_by_name():
    assert is_chinchilla_form("chinchilla")
    assert not is_chinchilla_form("kaplan_nd")
    same = {"name": "mine", "formula": "B / D**beta + E + A / N**alpha", "inputs": {"N": "N", "D": "D"},
            "parameters": {"E": {"prior": {"dist": "LogNormal", "mu": 0.5, "sigma": 0.5}},
                           "A": {"prior": {"dist": "LogNormal", "mu": 6.0, "sigma": 2.0}},
                           "B": {"prior": {"dist": "LogNormal", "mu": 6.0, "sigma": 2.0}},
                           "alpha": {"prior": {"dist": "LogNormal", "mu": -1.0, "sigma": 0.5}},
                           "beta": {"prior": {"dist": "LogNormal", "mu": -1.0, "sigma": 0.5}}}}
    assert is_chinchilla_form(same)
    other = {**same, "formula": "E + A / N**alpha + B / D**(2*beta)"}
    assert not is_chinchilla_form(other)


def test_chinchilla_terms_name_each_role_whatever_the_parameter_names():
    spec = load_law({"name": "renamed", "formula": "e0 + b0 / D**q + a0 / N**p", "inputs": {"N": "N", "D": "D"},
                     "parameters": {k: {"prior": {"dist": "LogNormal", "mu": 0.0, "sigma": 1.0}}
                                    for k in ("e0", "a0", "b0", "p", "q")}})
    assert chinchilla_terms(spec) == {"E": "e0", "A": "a0", "alpha": "p", "B": "b0", "beta": "q"}
    assert chinchilla_terms(load_law("kaplan_nd")) is None
