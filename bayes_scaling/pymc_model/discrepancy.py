"""Model discrepancy: the law plus a Gaussian process orthogonal to it.

A scaling law is a functional form, and on real runs it is off by a percent or two in places
(Epoch's Chinchilla data: over-sized models sit above the law, near-optimal ones below). A
posterior that trusts the form exactly is then confident and wrong a decade out:
``benchmarks/README.md`` shows 61% coverage of 90% intervals on Epoch's backtest.
``bs.fit(..., discrepancy="gp")`` fits (Kennedy and O'Hagan 2001)

    log L = law(inputs) + f(log10 inputs) + noise,
    f ~ GP(0, eta^2 Matern52(ls)),  ls ~ LogNormal(log 1 decade, 0.5) per input,
    eta ~ HalfNormal(0.02)  (2% in log loss),

as a Hilbert-space approximation (:mod:`pymc.gp.hsgp_approx` basis functions on a box
:data:`BOX` times the fitted runs' half-range, centred on their mean). Left free, f and the law
trade off (f can mimic a change of the law's exponents) and the sampler does not converge. So
f is made **orthogonal to the law**: its basis is projected off the columns of the law's
Jacobian (in its parameters, at the law-only posterior mode) over the fitted runs, a
linearised form of Plumlee (2017, "Bayesian calibration with identifiable model
discrepancy"). f then explains only what no change of the law's parameters can; the same
projection, with the Jacobian at the new inputs, carries it to predictions, where its
variance grows away from the data.

Supported: laws with one or two inputs, without groups or run effects. Predictions
(``fit.predict``, :func:`bayes_scaling.backtest`) and the log-likelihood include f, within
:data:`VALID` of the basis box (:func:`check_inputs`: the basis loses f's variance towards its
edge); the decisions that optimise the law far beyond the data (``allocate`` and the like)
refuse such a fit, since f says nothing there but its prior.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import DiscrepancyError
from ..law.evaluate import log_value

if TYPE_CHECKING:
    from ..law.spec import LawSpec

__all__ = ["Discrepancy", "DISCREPANCIES", "BOX", "VALID", "M_PER_INPUT", "check",
           "check_inputs", "prepare", "projected_basis", "pymc_term", "f_draws"]

DISCREPANCIES = (None, "gp")
BOX = 2.5  # half-width of the basis box, in units of the fitted runs' half-range (log10)
VALID = 0.7  # predictions only within this fraction of the box (beyond, the basis loses f's variance)
M_PER_INPUT = {1: 16, 2: 8}  # basis functions per input
LS_MEDIAN, LS_SIGMA, ETA_SCALE = 1.0, 0.5, 0.02


@dataclass(frozen=True)
class Discrepancy:
    """A fit's GP discrepancy: where its basis lives and the law's mode it is orthogonal to."""

    inputs: tuple[str, ...]  # runs-table columns, in the law's input order
    centre: tuple[float, ...]  # mean of log10 of each input over the fitted runs
    half_width: tuple[float, ...]  # L of the basis box, per input (log10 units)
    m: int  # basis functions per input
    mode: dict  # law parameters (natural scale) at the law-only posterior mode

    @property
    def signature(self) -> str:
        """What fixes the model graph (the rest is data)."""
        return f"gp:{len(self.inputs)}x{self.m}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Discrepancy:
        return cls(inputs=tuple(d["inputs"]), centre=tuple(d["centre"]), half_width=tuple(d["half_width"]),
                   m=int(d["m"]), mode={k: float(v) for k, v in d["mode"].items()})


def check(discrepancy, law: LawSpec, structure) -> None:
    """Raise :class:`DiscrepancyError` for an unknown or unsupported discrepancy."""
    if discrepancy not in DISCREPANCIES:
        raise DiscrepancyError(f"discrepancy must be one of {DISCREPANCIES}, got {discrepancy!r}")
    if discrepancy is None:
        return
    if len(law.inputs) not in M_PER_INPUT:
        raise DiscrepancyError(f"discrepancy='gp' supports laws with 1 or 2 inputs; {law.name!r} has "
                         f"{len(law.inputs)} ({', '.join(law.inputs.values())})")
    if structure is not None and not structure.plain:
        raise DiscrepancyError("discrepancy='gp' does not combine with groups (pooled=) or run effects yet: "
                         "pass run_effect=False, or fit without the discrepancy")


def prepare(law: LawSpec, runs, mode: Mapping[str, float]) -> Discrepancy:
    """The discrepancy of a fit of ``law`` on ``runs``: its basis box, and the law's parameters at
    ``mode`` (the law-only posterior mode, :func:`bayes_scaling.pymc_model.build.prepare_discrepancy`).
    """
    cols = tuple(law.inputs.values())
    logs = np.log10(np.column_stack([runs.values(c) for c in cols]))
    centre = logs.mean(axis=0)
    half = np.maximum(np.abs(logs - centre).max(axis=0), 0.05)
    return Discrepancy(inputs=cols, centre=tuple(map(float, centre)), half_width=tuple(map(float, BOX * half)),
                       m=M_PER_INPUT[len(cols)], mode={p: float(mode[p]) for p in law.parameters})


def _basis(disc: Discrepancy, inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """HSGP eigenfunctions at the inputs ``(n, K)`` and their frequencies ``(K, d)`` (PyMC's own)."""
    from pymc.gp.hsgp_approx import calc_eigenvalues, calc_eigenvectors

    x = np.log10(np.column_stack([np.asarray(inputs[c], dtype=float) for c in disc.inputs])) - np.array(disc.centre)
    L = np.array(disc.half_width)
    m = [disc.m] * len(disc.inputs)
    eigvals = calc_eigenvalues(L, m)
    phi = calc_eigenvectors(x, L, eigvals, m)
    eigvals, phi = (np.asarray(v.eval() if hasattr(v, "eval") else v, dtype=float) for v in (eigvals, phi))
    return phi, np.sqrt(eigvals)


def _jacobian(law: LawSpec, disc: Discrepancy, inputs: Mapping[str, np.ndarray], h: float = 1e-5) -> np.ndarray:
    """D log law / d parameters at the mode, ``(n, p)``: log-parameters for positive ones (central
    differences; only the span of the columns matters).
    """
    names = list(law.parameters)
    base = np.array([disc.mode[p] for p in names])
    positive = np.array([law.parameters[p].constraint == "positive" for p in names])
    steps = np.vstack([np.eye(len(names)) * h, -np.eye(len(names)) * h])  # (2p, p)
    values = np.where(positive, base * np.exp(steps), base + steps)
    log_inputs = {c: np.log(np.asarray(inputs[c], dtype=float))[None, :] for c in law.inputs.values()}
    mu = log_value(law, {p: values[:, i, None] for i, p in enumerate(names)}, log_inputs)
    mu = np.broadcast_to(mu, (len(values), len(next(iter(log_inputs.values()))[0])))  # (2p, n)
    return ((mu[: len(names)] - mu[len(names):]) / (2 * h)).T


def projected_basis(law: LawSpec, disc: Discrepancy, train: Mapping[str, np.ndarray],
                    inputs: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The basis with the law's directions removed, at ``inputs`` (default: the fitted runs), and
    the frequencies: ``phi - J H`` with ``H`` the least-squares fit of the basis by the law's
    Jacobian over the fitted runs (so ``phi - J H`` is orthogonal to J there).
    """
    phi_train, omega = _basis(disc, train)
    j_train = _jacobian(law, disc, train)
    proj = np.linalg.lstsq(j_train, phi_train, rcond=None)[0]  # (p, K)
    if inputs is None:
        return phi_train - j_train @ proj, omega
    phi, _ = _basis(disc, inputs)
    return phi - _jacobian(law, disc, inputs) @ proj, omega


def pymc_term(basis, omega, n_inputs: int):
    """F at the fitted runs in the model being built: ``gp_ls``, ``gp_eta``, ``gp_coef`` and the
    deterministic ``gp_weights`` (basis coefficients, used by predictions).
    """
    import pymc as pm
    import pytensor.tensor as pt

    ls = pm.LogNormal("gp_ls", np.log(LS_MEDIAN), LS_SIGMA, shape=n_inputs)
    eta = pm.HalfNormal("gp_eta", ETA_SCALE)
    psd = eta**2 * pm.gp.cov.Matern52(n_inputs, ls=ls).power_spectral_density(omega)
    weights = pm.Deterministic("gp_weights", pm.Normal("gp_coef", 0.0, 1.0, dims="gp_k") * pt.sqrt(psd),
                               dims="gp_k")
    return pt.dot(basis, weights)


def check_inputs(disc: Discrepancy, inputs: Mapping[str, np.ndarray]) -> None:
    """Raise :class:`DiscrepancyError` for inputs where the basis cannot represent f.

    The Hilbert-space basis vanishes at the edge of its box, and so would f's prior variance:
    intervals would narrow again far from the data. Up to :data:`VALID` of the box (at least
    0.75 of the fitted runs' half-range beyond their edge, in log10 of each input) the
    approximated variance stays within about 15% of the GP's for length scales up to a decade.
    """
    for i, col in enumerate(disc.inputs):
        x = np.log10(np.asarray(inputs[col], dtype=float)) - disc.centre[i]
        bad = np.abs(x) > VALID * disc.half_width[i]
        if bad.any():
            lo, hi = (10 ** (disc.centre[i] + s * VALID * disc.half_width[i]) for s in (-1, 1))
            raise DiscrepancyError(
                f"{col} = {np.asarray(inputs[col], dtype=float)[bad][0]:.4g} lies outside the range where this fit's "
                f"discrepancy is defined ({col} from {lo:.3g} to {hi:.3g}); its basis would shrink the "
                f"discrepancy's variance to nothing there. Predict closer to the data, or refit without "
                f"discrepancy= for the law alone")


def f_draws(law: LawSpec, disc: Discrepancy, posterior, train: Mapping[str, np.ndarray],
            inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """F at the inputs for every draw: ``(chain, draw, n)`` (inputs checked by :func:`check_inputs`)."""
    check_inputs(disc, inputs)
    basis, _ = projected_basis(law, disc, train, inputs)
    weights = posterior["gp_weights"].transpose("chain", "draw", "gp_k").values
    return weights @ basis.T
