"""Law spec + runs -> PyMC model (likelihood on log(response)).

Every data-dependent quantity is a ``pm.Data`` container (log inputs, log
response, reference scales), so a compiled model can be reused for new data
of the same size (see :mod:`bayes_scaling.sampling`).

Reference-scale parameterization
--------------------------------
For a scale parameter with ``reference = {input = "N", form, exponent = p}``
the model samples ``log_<name>_ref``, the log of the power-law term at the
reference scale ``N0`` (geometric mean of N in the data):

* ``form = "coefficient"`` (term ``A * N**-p``): ``log_A_ref = log A - p log N0``;
* ``form = "critical"`` (term ``(Nc/N)**p``): ``log_Nc_ref = p (log Nc - log N0)``.

The natural parameter is a deterministic. A prior given ``on = "log"`` (e.g.
``log A ~ Normal(m, s)``, as literature presets are) is carried over exactly:
``log_A_ref | p ~ Normal(m - p log N0, s)``, resp. ``Normal(p (m - log N0), p s)``
for the critical form; the map is a shear (unit Jacobian) resp. a scaling by
``p`` whose Jacobian the normal's own normalising constant accounts for.
"""

from __future__ import annotations

import numpy as np

from .formula import Quantity, pytensor_ops
from .laws import LawSpec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runs import Runs

__all__ = ["LIKELIHOODS", "build_model", "model_data", "ref_name", "observed_name"]

LIKELIHOODS = ("student_t", "normal")


def ref_name(param: str) -> str:
    """Name of the sampled reference-scale variable of a scale parameter."""
    return f"log_{param}_ref"


def observed_name(law: LawSpec) -> str:
    return f"log_{law.response}"


def model_data(law: LawSpec, runs: Runs) -> dict[str, np.ndarray]:
    """The values of every ``pm.Data`` container of the model, from the runs."""
    data: dict[str, np.ndarray] = {}
    for sym, col in law.inputs.items():
        log_x = np.log(runs.values(col))
        data[f"log_{sym}"] = log_x
        data[f"log_{sym}_0"] = np.asarray(log_x.mean())  # log of the geometric mean
    data[observed_name(law)] = np.log(runs.values(law.response))
    return data


def build_model(law: LawSpec, runs: Runs, likelihood: str = "student_t"):
    """Build the PyMC model of ``law`` on ``runs``.

    Parameters
    ----------
    law : LawSpec
        The law with its (resolved) priors.
    runs : Runs
        Validated runs; must hold the law's input and response columns.
    likelihood : {"student_t", "normal"}
        Observation model for log(response). Student-t (the default) is robust
        to outlying runs, the Bayesian analogue of the Huber loss used by
        Hoffmann et al. and Epoch AI.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    ops = pytensor_ops()
    values = model_data(law, runs)
    with pm.Model(coords={"obs": np.arange(len(runs))}) as model:
        data = {k: pm.Data(k, v, dims="obs" if np.ndim(v) else None) for k, v in values.items()}
        env = {sym: Quantity.of_log(data[f"log_{sym}"], ops) for sym in law.inputs}
        plain = [p for p in law.parameters.values() if p.reference is None]
        scaled = [p for p in law.parameters.values() if p.reference is not None]
        for p in plain:
            rv = p.prior.pymc(p.name)
            env[p.name] = Quantity.of_value(rv, ops, positive=p.constraint == "positive")
        for p in scaled:
            env[p.name] = _scale_parameter(p, env, data, ops)
        mu = law.formula.log_value(env, ops)
        sigma = law.noise["sigma"].pymc("sigma")
        observed = data[observed_name(law)]
        if likelihood == "student_t":
            nu = law.noise["nu"].pymc("nu")
            pm.StudentT(observed_name(law) + "_obs", nu=nu, mu=mu, sigma=sigma, observed=observed,
                        dims="obs")
        else:
            pm.Normal(observed_name(law) + "_obs", mu=mu, sigma=sigma, observed=observed, dims="obs")
    return model


def _scale_parameter(p, env, data, ops) -> Quantity:
    import pymc as pm

    ref = p.reference
    exponent = ref.exponent.evaluate(env, ops).value()
    log_x0 = data[f"log_{ref.input}_0"]
    if p.prior.on == "reference":
        r = p.prior.pymc(ref_name(p.name))
    else:  # on == "log": carry the prior on log(value) over exactly
        r = p.prior.pymc(ref_name(p.name), loc=-exponent * log_x0,
                         scale=exponent if ref.form == "critical" else 1.0)
    if ref.form == "coefficient":
        log_value = r + exponent * log_x0
    else:
        log_value = log_x0 + r / exponent
    value = pm.Deterministic(p.name, ops.exp(log_value))
    return Quantity.of_both(value, log_value, ops)
