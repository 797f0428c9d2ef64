"""Prior specifications: a whitelist of distributions, parsed from spec dicts.

A prior is written as a small table, e.g. ``{dist = "LogNormal", mu = -1.2, sigma = 0.5}``
(PyMC's own parameter names; ``LogNormal`` also takes ``median`` instead of ``mu``).
The key ``on`` says what the prior is about:

``on = "value"`` (default for ordinary parameters)
    the parameter itself, e.g. an exponent or the irreducible loss ``E``.
``on = "reference"`` (default for reference-scale parameters)
    the log of the power-law *term* at the data's reference scale, e.g.
    ``log(A / N0**alpha)``: scale-free and well identified by the data.
``on = "log"``
    the log of the parameter's natural value, e.g. ``log A`` or ``log Nc``.
    Literature presets use this. Only location-scale families (``Normal``,
    ``StudentT``) are allowed here, because the model maps the prior exactly
    onto the sampled reference quantity by a shift (and, for ``(Nc/N)**p``
    forms, a scale by ``p``), see :func:`bayes_scaling.pymc_model.build.build_model`.

A preset value ``{median = 406.4, log_sd = 0.5}`` is shorthand for a normal prior
on the log of the value (``LogNormal`` for ordinary positive parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import PriorError

__all__ = ["Prior", "parse_prior", "DISTRIBUTIONS", "POSITIVE_DISTS", "LOCATION_SCALE"]

#: Allowed distributions and their parameter names (all PyMC names).
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "Normal": ("mu", "sigma"),
    "StudentT": ("nu", "mu", "sigma"),
    "LogNormal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
    "HalfStudentT": ("nu", "sigma"),
    "Gamma": ("alpha", "beta"),
    "Exponential": ("lam",),
    "TruncatedNormal": ("mu", "sigma", "lower", "upper"),
    "Uniform": ("lower", "upper"),
}
POSITIVE_DISTS = {"LogNormal", "HalfNormal", "HalfStudentT", "Gamma", "Exponential"}
LOCATION_SCALE = {"Normal", "StudentT"}
_OPTIONAL = {"TruncatedNormal": {"lower", "upper"}}
_ON = ("value", "log", "reference")


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: distribution name, its parameters and what it is on."""

    dist: str
    params: dict[str, float] = field(default_factory=dict)
    on: str = "value"

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.dist, **self.params, "on": self.on}

    def is_positive(self) -> bool:
        """Whether the distribution's support is (a subset of) the positive reals."""
        if self.dist in POSITIVE_DISTS:
            return True
        lower = self.params.get("lower")
        return self.dist in ("TruncatedNormal", "Uniform") and lower is not None and lower >= 0

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        where = {"value": "", "log": " on log", "reference": " on log term at reference"}[self.on]
        return f"{self.dist}({args}){where}"

    def pymc(self, name: str, *, loc=0.0, scale=1.0, **kwargs):
        """Create the PyMC random variable, optionally shifted by ``loc`` and scaled by ``scale``.

        ``loc``/``scale`` map a prior on ``x`` to the prior on ``loc + scale * x``
        (only for location-scale families; used for ``on="log"`` priors).
        """
        import pymc as pm

        p = dict(self.params)
        if self.dist in LOCATION_SCALE:
            p["mu"] = loc + scale * p["mu"]
            p["sigma"] = scale * p["sigma"]
        elif not (isinstance(loc, float) and loc == 0.0 and isinstance(scale, float) and scale == 1.0):
            raise PriorError(f"{name}: a {self.dist} prior cannot be shifted (use Normal or StudentT)")
        return getattr(pm, self.dist)(name, **p, **kwargs)


def parse_prior(spec: Any, *, param: str, default_on: str = "value") -> Prior:
    """Parse a prior table (dict) or a :class:`Prior` for parameter ``param``.

    Raises
    ------
    PriorError
        Unknown distribution, missing or unknown distribution parameters,
        non-finite or invalid values, or an ``on`` that is not allowed.
    """
    if isinstance(spec, Prior):
        return spec
    if not isinstance(spec, dict):
        raise PriorError(f"prior of {param!r} must be a table like "
                         f"{{dist = 'Normal', mu = 0, sigma = 1}}, got {spec!r}")
    spec = dict(spec)
    if "median" in spec and "log_sd" in spec and "dist" not in spec:
        return _from_median(spec, param, default_on)
    dist = spec.pop("dist", None)
    on = spec.pop("on", default_on)
    if dist not in DISTRIBUTIONS:
        raise PriorError(f"prior of {param!r}: unknown distribution {dist!r} "
                         f"(allowed: {', '.join(DISTRIBUTIONS)})")
    if on not in _ON:
        raise PriorError(f"prior of {param!r}: on={on!r} must be one of {_ON}")
    if dist == "LogNormal" and "median" in spec:
        median = _number(spec.pop("median"), param, "median")
        if median <= 0:
            raise PriorError(f"prior of {param!r}: LogNormal median must be > 0, got {median}")
        spec["mu"] = math.log(median)
    names = DISTRIBUTIONS[dist]
    unknown = set(spec) - set(names)
    if unknown:
        raise PriorError(f"prior of {param!r}: {dist} has no parameter(s) {sorted(unknown)} "
                         f"(it takes {', '.join(names)})")
    missing = [n for n in names if n not in spec and n not in _OPTIONAL.get(dist, set())]
    if missing:
        raise PriorError(f"prior of {param!r}: {dist} needs {', '.join(missing)}")
    params = {k: _number(spec[k], param, k) for k in names if k in spec}
    for k in ("sigma", "nu", "alpha", "beta", "lam"):
        if k in params and params[k] <= 0:
            raise PriorError(f"prior of {param!r}: {dist} {k} must be > 0, got {params[k]}")
    if "lower" in params and "upper" in params and params["lower"] >= params["upper"]:
        raise PriorError(f"prior of {param!r}: lower must be below upper")
    if on == "log" and dist not in LOCATION_SCALE:
        raise PriorError(f"prior of {param!r}: on='log' needs a Normal or StudentT prior, got {dist}")
    return Prior(dist=dist, params=params, on=on)


def _from_median(spec: dict, param: str, default_on: str) -> Prior:
    median = _number(spec.pop("median"), param, "median")
    log_sd = _number(spec.pop("log_sd"), param, "log_sd")
    if spec:
        raise PriorError(f"prior of {param!r}: unexpected keys {sorted(spec)} next to median/log_sd")
    if median <= 0 or log_sd <= 0:
        raise PriorError(f"prior of {param!r}: median and log_sd must be > 0")
    if default_on == "reference":  # a reference-scale parameter: a normal prior on log(value)
        return Prior("Normal", {"mu": math.log(median), "sigma": log_sd}, on="log")
    return Prior("LogNormal", {"mu": math.log(median), "sigma": log_sd}, on="value")


def _number(value: Any, param: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PriorError(f"prior of {param!r}: {key} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise PriorError(f"prior of {param!r}: {key} must be finite, got {value}")
    return value
