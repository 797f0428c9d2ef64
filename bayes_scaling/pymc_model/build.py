"""Law spec + runs -> PyMC model (likelihood on log(response)).

Every data-dependent quantity is a ``pm.Data`` container (log inputs, log
response, reference scales), so a compiled model can be reused for new data
of the same size (see :mod:`bayes_scaling.pymc_model.sampling`).

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

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..law.formula import Quantity, pytensor_ops
from ..law.spec import LawSpec
from .discrepancy import Discrepancy, prepare, projected_basis, pymc_term
from .gathered import Gathered, gathered_inputs, gathered_ops, rows, signature
from .structure import Structure, group_index, run_index
from .student_t import student_t

if TYPE_CHECKING:
    from ..data.runs import Runs

__all__ = ["LIKELIHOODS", "LIKELIHOOD_CHOICES", "AUTO_NORMAL_MIN_ROWS", "resolve_likelihood", "build_model",
           "model_data", "data_signature", "collapsed", "ref_name", "observed_name", "prepare_discrepancy"]

LIKELIHOODS = ("student_t", "normal")
_DATA_DIMS = {"run_rows": "run", "gp_basis": ("obs", "gp_k"), "gp_omega": None}
LIKELIHOOD_CHOICES = ("auto", *LIKELIHOODS)
#: Fitted rows from which ``likelihood="auto"`` takes Normal noise for fits with run effects.
AUTO_NORMAL_MIN_ROWS = 20_000


def ref_name(param: str) -> str:
    """Name of the sampled reference-scale variable of a scale parameter."""
    return f"log_{param}_ref"


def observed_name(law: LawSpec) -> str:
    return f"log_{law.response}"


def collapsed(structure: Structure | None, likelihood: str) -> bool:
    """Whether the run offsets are integrated out of the likelihood (Normal noise with run effects).

    With Normal noise, a run's rows are jointly Normal given the law: covariance
    ``sigma^2 I + run_sd^2 11'``. Its log density needs only the run's residual sum and the
    total sum of squares, so the sampler sees the law, ``sigma`` and ``run_sd`` and none of the
    per-run offsets: the same posterior, a few parameters instead of hundreds. The offsets are
    drawn afterwards from their exact conditional (:func:`bayes_scaling.posterior.predict.run_effect_draws`).
    """
    return structure is not None and structure.run_effect and likelihood == "normal"


def resolve_likelihood(likelihood: str, structure: Structure | None, n_rows: int) -> tuple[str, str]:
    """The noise model a fit uses, and why: ``(likelihood, reason)``.

    ``"auto"`` is Student-t (robust to outlying runs and loss spikes), except for large
    checkpoint tables: with run effects and at least :data:`AUTO_NORMAL_MIN_ROWS` rows it is
    Normal, whose run offsets are integrated out exactly (:func:`collapsed`); there Student-t
    must sample one offset per run at every step of every trajectory and takes longer
    (``benchmarks/README.md``, 10^5 rows: 272 s against 42 s at first; since the Laplace start and
    the law on distinct values 1.3-1.6x the Normal fit's time, and more with more runs). A Normal fit
    checks its residuals for heavier tails than Normal noise allows and says so
    (:func:`bayes_scaling.posterior.diagnostics.noise_checks`).
    """
    if likelihood not in LIKELIHOOD_CHOICES:
        raise InputError(f"likelihood must be one of {LIKELIHOOD_CHOICES}, got {likelihood!r}")
    if likelihood != "auto":
        return likelihood, "as requested"
    if structure is not None and structure.run_effect and n_rows >= AUTO_NORMAL_MIN_ROWS:
        return "normal", (f"auto: {n_rows:,} rows with run effects (>= {AUTO_NORMAL_MIN_ROWS:,}): Normal noise, "
                          "run offsets integrated out; likelihood='student_t' for the robust, slower fit")
    return "student_t", "auto: Student-t (robust to outliers)"


def model_data(law: LawSpec, runs: Runs, structure: Structure | None = None,
               likelihood: str = "student_t", discrepancy=None) -> dict[str, np.ndarray]:
    """The values of every ``pm.Data`` container of the model, from the runs."""
    data: dict[str, np.ndarray] = {}
    references = {p.reference.input for p in law.parameters.values() if p.reference is not None}
    log_inputs = {sym: np.log(runs.values(col)) for sym, col in law.inputs.items()}
    gathered = gathered_inputs(log_inputs)
    for sym, log_x in log_inputs.items():
        if sym in gathered:  # the law on the input's distinct values (:mod:`.gathered`)
            data[f"log_{sym}_u"], data[f"{sym}_idx"] = gathered[sym]
        else:
            data[f"log_{sym}"] = log_x
        if sym in references:  # only inputs that carry a reference scale (others would be unused data)
            data[f"log_{sym}_0"] = np.asarray(log_x.mean())  # log of the geometric mean
    data[observed_name(law)] = np.log(runs.values(law.response))
    if structure is not None and structure.varying:
        data["group_idx"] = group_index(structure, runs)
    if structure is not None and structure.run_effect:
        data["run_idx"] = run_index(structure, runs)
        if collapsed(structure, likelihood):
            data["run_rows"] = np.bincount(data["run_idx"], minlength=len(structure.runs)).astype(float)
    if discrepancy is not None:
        data["gp_basis"], data["gp_omega"] = projected_basis(law, discrepancy,
                                                             {c: runs.values(c) for c in law.inputs.values()})
    return data


def data_signature(law: LawSpec, runs: Runs) -> str:
    """What of the data, beyond its number of rows, fixes the model's graph: the gathered inputs."""
    return signature(gathered_inputs({sym: np.log(runs.values(col)) for sym, col in law.inputs.items()}))


def build_model(law: LawSpec, runs: Runs, likelihood: str = "student_t", structure: Structure | None = None,
                discrepancy=None):
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
    structure : Structure, optional
        Parameters varying by group and run effects (:mod:`bayes_scaling.pymc_model.structure`);
        default: neither.
    discrepancy : Discrepancy, optional
        A GP discrepancy orthogonal to the law (:mod:`bayes_scaling.pymc_model.discrepancy`).

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    if likelihood not in LIKELIHOODS:
        raise InputError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    structure = structure or Structure()
    ops = pytensor_ops()
    values = model_data(law, runs, structure, likelihood, discrepancy)
    coords = {"obs": np.arange(len(runs))}
    if discrepancy is not None:
        coords["gp_k"] = np.arange(values["gp_basis"].shape[1])
    if structure.varying:
        coords["group"] = list(structure.groups)
    if structure.run_effect:
        coords["run"] = list(structure.runs)
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v, dims=_data_dims(k, v)) for k, v in values.items()}
        if any(f"log_{sym}_u" in data for sym in law.inputs):
            ops = gathered_ops()
        inputs = {sym: Quantity.of_log(Gathered(data[f"log_{sym}_u"], data[f"{sym}_idx"], sym)
                                       if f"log_{sym}_u" in data else data[f"log_{sym}"], ops) for sym in law.inputs}
        pop: dict[str, Quantity] = {}  # population level: scalars
        grp: dict[str, Quantity] = {}  # group level: vectors for varying parameters
        for p in law.parameters.values():
            if p.reference is None:
                pop[p.name], grp[p.name] = _plain_parameter(p, structure, ops)
        for p in law.parameters.values():
            if p.reference is not None:
                pop[p.name], grp[p.name] = _scale_parameter(p, structure, {**inputs, **pop}, {**inputs, **grp},
                                                            data, ops)
        env = dict(inputs)
        gidx = data.get("group_idx")
        for name, q in grp.items():
            env[name] = q if not _is_vector(name, structure, law) else _take(q, gidx, ops)
        mu = rows(law.formula.log_value(env, ops))
        if discrepancy is not None:
            mu = mu + pymc_term(data["gp_basis"], data["gp_omega"], len(law.inputs))
        if collapsed(structure, likelihood):
            _collapsed_normal(law, mu, data, len(structure.runs), structure.run_scale)
            return model
        if structure.run_effect:
            run_sd = pm.HalfNormal("run_sd", structure.run_scale)
            if structure.run_centered:  # many checkpoints per run: the data pin each offset down
                effect = pm.Normal("run_effect", 0.0, run_sd, dims="run")
            else:
                effect = pm.Deterministic("run_effect", run_sd * pm.Normal("run_z", 0.0, 1.0, dims="run"),
                                          dims="run")
            mu = mu + effect[data["run_idx"]]
        sigma = law.noise["sigma"].pymc("sigma")
        observed = data[observed_name(law)]
        if likelihood == "student_t":
            nu = law.noise["nu"].pymc("nu")
            student_t(observed_name(law) + "_obs", nu, mu, sigma, observed, dims="obs")
        else:
            pm.Normal(observed_name(law) + "_obs", mu=mu, sigma=sigma, observed=observed, dims="obs")
    return model


def _collapsed_normal(law: LawSpec, mu, data, n_runs: int, run_scale: float) -> None:
    """Normal noise with the run offsets integrated out (see :func:`collapsed`).

    Per run r with n_r rows and residuals z = log y - mu: covariance sigma^2 I + tau^2 11', so
    log p = -n_r/2 log(2 pi) - (n_r - 1) log sigma - 1/2 log(sigma^2 + n_r tau^2)
            - (sum z^2 - tau^2 (sum z)^2 / (sigma^2 + n_r tau^2)) / (2 sigma^2).
    """
    import pymc as pm
    import pytensor.tensor as pt

    run_sd = pm.HalfNormal("run_sd", run_scale)
    sigma = law.noise["sigma"].pymc("sigma")
    z = data[observed_name(law)] - mu
    run_sum = pt.inc_subtensor(pt.zeros(n_runs)[data["run_idx"]], z)
    s2, t2, n_r = sigma**2, run_sd**2, data["run_rows"]
    denom = s2 + n_r * t2
    n = z.shape[0]
    pm.Potential(observed_name(law) + "_marginal",
                 -0.5 * n * np.log(2 * np.pi) - (n - n_runs) * pt.log(sigma) - 0.5 * pt.sum(pt.log(denom))
                 - 0.5 * (pt.sum(z * z) - t2 * pt.sum(run_sum * run_sum / denom)) / s2)


def _data_dims(name: str, value):
    """The dims of a data container: per row, per run, or none (scalars, an input's distinct values)."""
    if name in _DATA_DIMS:
        return _DATA_DIMS[name]
    return None if not np.ndim(value) or name.endswith("_u") else "obs"


def _is_vector(name: str, structure: Structure, law: LawSpec) -> bool:
    """Whether a parameter has one value per group."""
    return name in structure.varying


def _take(q: Quantity, idx, ops) -> Quantity:
    return Quantity.of_both(q.value()[idx], q.log()[idx], ops) if q.positive else Quantity.of_value(q.value()[idx], ops)


def _plain_parameter(p, structure: Structure, ops) -> tuple[Quantity, Quantity]:
    import pymc as pm

    positive = p.constraint == "positive"
    if p.name not in structure.varying:
        q = Quantity.of_value(p.prior.pymc(p.name), ops, positive=positive)
        return q, q
    centre = p.prior.pymc(f"{p.name}_mu")
    offset = pm.HalfNormal(f"{p.name}_tau", structure.group_scale) * pm.Normal(f"{p.name}_z", 0.0, 1.0,
                                                                              dims="group")
    pop = Quantity.of_value(centre, ops, positive=positive)
    if positive:
        log_value = ops.log(centre) + offset
        value = pm.Deterministic(p.name, ops.exp(log_value), dims="group")
        return pop, Quantity.of_both(value, log_value, ops)
    return pop, Quantity.of_value(pm.Deterministic(p.name, centre + offset, dims="group"), ops)


def _scale_parameter(p, structure: Structure, pop_env, grp_env, data, ops) -> tuple[Quantity, Quantity]:
    """A reference-scale parameter: population value and group-level value (see the module docstring)."""
    import pymc as pm

    ref = p.reference
    exp_pop = rows(ref.exponent.evaluate(pop_env, ops).value())
    log_x0 = data[f"log_{ref.input}_0"]
    varying = p.name in structure.varying
    base = ref_name(p.name) + ("_mu" if varying else "")
    if p.prior.on == "reference":
        r = p.prior.pymc(base)
    else:  # on == "log": carry the prior on log(value) over exactly
        r = p.prior.pymc(base, loc=-exp_pop * log_x0, scale=exp_pop if ref.form == "critical" else 1.0)

    def natural(r_value, exponent):
        return r_value + exponent * log_x0 if ref.form == "coefficient" else log_x0 + r_value / exponent

    log_pop = natural(r, exp_pop)
    if not varying:  # shared on its natural scale (even when its exponent varies by group)
        value = pm.Deterministic(p.name, ops.exp(log_pop))
        q = Quantity.of_both(value, log_pop, ops)
        return q, q
    r_group = pm.Deterministic(ref_name(p.name), r + pm.HalfNormal(f"{p.name}_tau", structure.group_scale)
                               * pm.Normal(f"{p.name}_z", 0.0, 1.0, dims="group"), dims="group")
    log_group = natural(r_group, rows(ref.exponent.evaluate(grp_env, ops).value()))
    value = pm.Deterministic(p.name, ops.exp(log_group), dims="group")
    return Quantity.of_log(log_pop, ops), Quantity.of_both(value, log_group, ops)


def prepare_discrepancy(law: LawSpec, runs: Runs, likelihood: str) -> Discrepancy:
    """The GP discrepancy of a fit of ``law`` on ``runs``: its basis box, orthogonal to the law at the
    law-only posterior mode (found here by ``pymc.find_MAP`` on the model without discrepancy).
    """
    import pymc as pm

    with build_model(law, runs, likelihood):
        mode = pm.find_MAP(progressbar=False, jitter=False, return_inferencedata=True)["posterior"]
    return prepare(law, runs, {p: float(np.asarray(mode[p].values).squeeze()) for p in law.parameters})
