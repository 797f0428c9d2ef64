"""The warm start of a refit: the previous posterior's shape, carried as an affine map.

nutpie 0.16 takes no mass matrix, and an initial point alone does not help: tuning from nutpie's
default mass matrix is what a fit spends its first 1,000 steps on (measured on Epoch's data: with
200 tuning steps from the previous posterior's mean, 10-24 leapfrog steps per draw and once R-hat
1.05, against 6.6 steps after full tuning). So the warm start reparameterizes instead. The
previous fit's unconstrained draws give a mean ``m`` and a Cholesky factor ``L`` of their
covariance; the compiled model (through the disk compile cache's callbacks,
:mod:`bayes_scaling.pymc_model._compile_source`) sees ``x = m + L z`` and the sampler works on
``z``, where that posterior is about standard Normal: nutpie's adaptation starts where a full
tuning would end, and a short tuning (:data:`WARM_TUNE` steps) suffices for models of at most
:data:`SHORT_MAX` parameters (a law with its noise, a few groups); larger ones (run offsets) keep
their full tuning, where a covariance of a few thousand draws in hundreds of dimensions is too
rough a guide. The affine map has a
constant Jacobian, so the posterior is exactly the same; only the sampler's coordinates change.
The diagnostics and the remedy judge a warm fit like any other.

A model compiled by stock nutpie (the compile cache off or unavailable) has no such map: the fit
is then cold, and says so in its settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["WarmStart", "NAMES", "KEYS", "WARM_TUNE", "add_arrays", "supports", "applied", "from_draws"]

NAMES = ("__warm_mean", "__warm_chol")  # the shared arrays' names (nutpie's with_data finds them by name)
KEYS = ("wm", "wl")  # their keys in nutpie's user_data
#: Tuning steps of a warm fit (its adaptation starts from the previous posterior's shape).
WARM_TUNE = 200
#: Above this many unconstrained parameters a warm fit keeps the full tuning and a diagonal factor.
#: Measured on Student-t checkpoint fits with run offsets, warm with 200 tuning steps: 107 parameters,
#: R-hat 1.0104; 207 parameters, R-hat 1.39 (dense factor) and 1.07 (diagonal).
SHORT_MAX = 30
DENSE_MAX = SHORT_MAX


@dataclass(frozen=True, eq=False)
class WarmStart:
    """The shape of a posterior in the sampler's unconstrained space: mean and Cholesky factor."""

    mean: np.ndarray
    chol: np.ndarray
    layout: tuple = ()  # the unconstrained variables' (name, shape), in the sampler's order
    source: str = "previous"  # "previous" (a previous fit's draws) or "laplace" (:mod:`._laplace`)

    def mismatch(self, compiled) -> str:
        """Why this start does not fit ``compiled`` (another model's parameters), or ``""``."""
        theirs = layout(compiled)
        if self.n_dim != compiled.n_dim or (self.layout and theirs != self.layout):
            return (f"the previous fit's parameters ({_names(self.layout, self.n_dim)}) are not this model's "
                    f"({_names(theirs, compiled.n_dim)})")
        return ""

    @property
    def n_dim(self) -> int:
        return int(self.mean.shape[0])


def layout(compiled) -> tuple:
    """``compiled``'s unconstrained variables as ``((name, shape), ...)``."""
    names, _, shapes = compiled.shape_info
    return tuple((str(n), tuple(int(d) for d in shape)) for n, shape in zip(names, shapes))


def _names(lay: tuple, n_dim: int) -> str:
    names = [n for n, _ in lay]
    return (", ".join(names[:4]) + (", ..." if len(names) > 4 else "")) if names else f"{n_dim} values"


def add_arrays(shared_var_keys: dict, shared_data: dict) -> None:
    """Add the two warm-start arrays, empty (a cold fit), to a compiled model's shared data."""
    import pytensor

    for name, key, shape in zip(NAMES, KEYS, ((0,), (0, 0))):
        value = np.zeros(shape)
        value.flags.writeable = False
        shared_var_keys[pytensor.shared(value, name=name)] = key
        shared_data[key] = value


def supports(compiled) -> bool:
    """Whether ``compiled`` was built with the warm-start map (the disk compile cache's callbacks)."""
    return all(k in getattr(compiled, "shared_data", {}) for k in KEYS)


def applied(compiled, warm: WarmStart):
    """``compiled`` sampling ``z`` with ``x = mean + chol z``, started near ``z = 0``."""
    compiled = compiled.with_data(**{NAMES[0]: warm.mean, NAMES[1]: warm.chol})
    n = warm.n_dim

    def initial_point(seed=None):
        return np.random.default_rng(seed).uniform(-1.0, 1.0, size=n)

    return dataclasses.replace(compiled, initial_point_func=initial_point)


def from_draws(z: np.ndarray, used: WarmStart | None = None, lay: tuple = ()) -> WarmStart:
    """The warm start for the next fit from this fit's unconstrained draws ``z`` (chain, draw, n),
    in the sampler's coordinates (mapped back through ``used`` when this fit was warm itself)."""
    x = np.asarray(z, dtype=float).reshape(-1, z.shape[-1])
    if used is not None:
        x = used.mean + x @ used.chol.T
    mean, n = x.mean(axis=0), x.shape[1]
    if n > DENSE_MAX or x.shape[0] <= 2 * n:
        chol = np.diag(x.std(axis=0) + 1e-12)
    else:
        cov = np.cov(x, rowvar=False)
        chol = np.linalg.cholesky(cov + 1e-10 * np.mean(np.diag(cov)) * np.eye(n))
    return WarmStart(mean=mean, chol=chol, layout=lay)
