"""Simulation-based calibration (SBC; Talts et al. 2018) of a law's fit.

If the model and the sampler are right, the rank of a parameter's true value among the
posterior draws of data simulated from it is uniform, when the true values are drawn from the
prior. :func:`sbc` does exactly that:

1. draw ``n_sims`` parameter sets from the prior *and* a dataset from each, on a fixed design,
   with the same PyMC model the fit uses (``pymc.sample_prior_predictive``: law parameters,
   the noise scale ``sigma``, Student-t ``nu`` and the noise itself, so that the reference-scale
   priors and the likelihood are exactly those of :func:`bayes_scaling.fit`);
2. fit each dataset (local processes in parallel, one core per fit, or any ``executor=``);
3. thin each posterior to about ``rank_draws`` draws (200 by default, spread evenly over the
   chains, as Talts et al. recommend so that the draws are roughly independent), and record
   the rank of the true value: the number of thinned draws below it, in ``0 .. n_draws``;
4. test the ranks for uniformity with the simultaneous ``prob`` (99%) confidence band of the
   ECDF of the fractional ranks ``(rank + 0.5) / (n_draws + 1)``, computed by
   :func:`arviz_stats.ecdf_utils.ecdf_pit` (the simulation method of Säilynoja et al. 2022,
   Statistics and Computing 32:32). A parameter passes when
   its ECDF stays inside the band everywhere.

The returned :class:`SBCResult` holds the ranks, the true values, each fit's sampler
diagnostics, the verdict per parameter and :meth:`SBCResult.plot` (the ECDF-difference plot
with its band). A U-shaped ECDF difference (dips then rises) means posteriors too narrow, an
inverted U too wide; a one-sided curve, a bias.
"""

from __future__ import annotations

import html
import json
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.progress import quiet_logger
from ..core.tasks import TaskFailure, check_executor, run_tasks
from ..data.runs import load_runs
from ..data.synthetic import chinchilla_design
from ..law.spec import load_law, spec_from_dict
from ..posterior import inference
from ..pymc_model.build import build_model, observed_name

__all__ = ["SBCResult", "sbc", "prior_datasets", "ecdf_band", "BAND_METHOD"]

BAND_METHOD = ("simultaneous ECDF band by simulation (Säilynoja et al. 2022), "
               "arviz_stats.ecdf_utils.ecdf_pit")


@dataclass(frozen=True, eq=False)
class SBCResult:
    """The result of :func:`sbc`.

    Attributes
    ----------
    law : str
        The law's name.
    ranks : pandas.DataFrame
        One row per simulation (index ``sim``), one integer column per parameter: the rank of
        the true value among the ``n_draws`` thinned posterior draws, in ``0 .. n_draws``.
    n_draws : int
        Posterior draws each rank is taken among (after thinning).
    verdict : pandas.DataFrame
        One row per parameter: ``verdict`` (``"pass"``: the ECDF stays inside the band),
        ``points_outside`` (evaluation points outside the band), ``max_ecdf_diff`` (largest
        absolute ECDF difference) and ``mean_rank`` (relative to ``n_draws``; 0.5 expected).
    truths : pandas.DataFrame
        The true (prior-drawn) value of every parameter, per simulation.
    diagnostics : pandas.DataFrame
        Per simulation: ``divergences``, ``max_rhat``, ``min_ess_bulk``, the fit's
        ``verdict`` and ``seconds`` (wall time of the fit).
    band : pandas.DataFrame
        The band: ``x`` (evaluation points), ``lower`` and ``upper`` (ECDF values).
    prob : float
        Simultaneous coverage of the band.
    settings : dict
        What was run (seed, design size, sampler settings, workers, band method).
    seconds : float
        Wall time of the whole run.
    """

    law: str
    ranks: pd.DataFrame
    n_draws: int
    verdict: pd.DataFrame
    truths: pd.DataFrame
    diagnostics: pd.DataFrame
    band: pd.DataFrame
    prob: float
    settings: dict = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def passed(self) -> bool:
        """Whether every parameter passed."""
        return bool((self.verdict["verdict"] == "pass").all())

    @property
    def parameters(self) -> list[str]:
        return list(self.ranks.columns)

    def fractional_ranks(self) -> pd.DataFrame:
        """Ranks mapped to (0, 1): ``(rank + 0.5) / (n_draws + 1)``."""
        return (self.ranks + 0.5) / (self.n_draws + 1)

    def ecdf(self) -> pd.DataFrame:
        """ECDF of each parameter's fractional ranks at the band's evaluation points (index ``x``)."""
        from arviz_stats.ecdf_utils import compute_ecdf

        x = self.band["x"].to_numpy()
        u = self.fractional_ranks()
        out = pd.DataFrame({p: compute_ecdf(u[p].to_numpy(), x) for p in u.columns}, index=pd.Index(x, name="x"))
        out.iloc[0], out.iloc[-1] = 0.0, 1.0
        return out

    def plot(self, *, ncols: int = 4):
        """ECDF-difference plot: per parameter, ECDF of the fractional ranks minus the uniform CDF,
        with the simultaneous ``prob`` band (grey). Returns a matplotlib Figure.
        """
        import matplotlib as mpl

        from ..plots._style import DATA, POSTERIOR, RC, new_figure

        params = self.parameters
        ncols = max(1, min(ncols, len(params)))
        nrows = -(-len(params) // ncols)
        with mpl.rc_context(RC):
            fig, axes = new_figure(nrows, ncols, figsize=(3.0 * ncols, 2.5 * nrows), sharex=True, sharey=True)
            x = self.band["x"].to_numpy()
            lo, hi = self.band["lower"].to_numpy() - x, self.band["upper"].to_numpy() - x
            ecdf = self.ecdf()
            for ax, p in zip(axes.flat, params):
                ok = self.verdict.loc[p, "verdict"] == "pass"
                ax.fill_between(x, lo, hi, step="post", color="#d9d9d9", alpha=0.8, lw=0,
                                label=f"{self.prob:.0%} simultaneous band")
                ax.axhline(0, color=DATA, lw=0.6)
                ax.step(x, ecdf[p].to_numpy() - x, where="post", color=POSTERIOR if ok else "#cf222e", lw=1.4)
                ax.set_title(f"{p}: {'pass' if ok else 'FAIL'}", fontsize=10)
            for ax in axes.flat[len(params):]:
                ax.set_visible(False)
            for ax in axes[-1]:
                ax.set_xlabel("fractional rank")
            for ax in axes[:, 0]:
                ax.set_ylabel("ECDF difference")
            fig.suptitle(f"SBC of {self.law}: {len(self.ranks)} simulations, ranks among {self.n_draws} draws",
                         fontsize=11, fontweight="bold")
        return fig

    def __repr__(self) -> str:
        v = self.verdict
        bad = v.index[v["verdict"] != "pass"].tolist()
        fits = self.diagnostics["verdict"].value_counts().to_dict()
        return (f"<SBCResult {self.law}: {len(self.ranks)} simulations, ranks among {self.n_draws} draws; "
                f"{'all parameters pass' if not bad else 'FAIL: ' + ', '.join(bad)} "
                f"({self.prob:.0%} simultaneous band); fit verdicts {fits}>")

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return (f"<div class='bayes-scaling-sbc'><p>{head}</p>"
                + self.verdict.to_html(float_format=lambda x: f"{x:.3g}", escape=True) + "</div>")


def sbc(law, n_sims: int = 100, design=None, *, seed: int = 0, likelihood: str = "student_t", priors=None,
        draws: int = 1000, tune: int = 1000, chains: int = 4, rank_draws: int = 200, prob: float = 0.99,
        max_workers: int | None = None, executor=None, band_simulations: int = 5000, **fit_kwargs) -> SBCResult:
    """Simulation-based calibration of ``law``'s fit (see the module docstring).

    Parameters
    ----------
    law : str, path, dict or LawSpec
        The law (with its priors; ``priors=`` applies a preset or overrides).
    n_sims : int
        Simulated datasets (100 or more for a useful test).
    design : DataFrame, int or None
        The runs' inputs (the law's input columns, e.g. ``N`` and ``D``); an int ``n`` is
        :func:`bayes_scaling.data.synthetic.chinchilla_design` with ``n`` runs; None: 40 runs
        (laws of N and D only). Only the law's input columns are used (no groups, no run
        effects).
    seed : int
        Seed of the prior draws, the simulated noise and the fits.
    likelihood : {"student_t", "normal"}
        Observation model, for simulating and for fitting.
    draws, tune, chains : int
        Sampler settings of each fit (per chain).
    rank_draws : int
        Thin each posterior to this many draws (evenly over the chains) before ranking.
    prob : float
        Simultaneous coverage of the ECDF band (0.99).
    max_workers : int, optional
        Processes fitting in parallel (default: the number of cores, at most ``n_sims``);
        1 fits in this process.
    executor : concurrent.futures.Executor, optional
        Where the fits run instead: e.g. ``dask.distributed.Client(...).get_executor()`` for a
        cluster. Each task ships a simulated runs table, the law spec and the settings, and returns
        ranks and diagnostics; a task that fails (a killed worker) is retried once, then reported in
        ``settings["failed_fits"]``. The ranks are the same as with local processes for the same seed.
    band_simulations : int
        Simulations behind the band (arviz's ``ecdf_pit``).
    **fit_kwargs
        Passed to :func:`bayes_scaling.fit` (e.g. ``target_accept``); each fit runs with
        ``progress=False`` and ``cores=1``.

    Returns
    -------
    SBCResult
    """
    t0 = time.perf_counter()
    if int(n_sims) < 2:
        raise InputError(f"n_sims must be at least 2, got {n_sims}")
    if not 0 < prob < 1:
        raise InputError(f"prob must be in (0, 1), got {prob}")
    if int(rank_draws) < 1:
        raise InputError(f"rank_draws must be a positive integer, got {rank_draws}")
    spec = load_law(law).with_priors(priors)
    design = _design(spec, design, seed)
    truths, responses = prior_datasets(spec, design, int(n_sims), seed=seed, likelihood=likelihood)
    params = list(truths.columns)
    settings = {"seed": seed, "n_sims": int(n_sims), "n_runs": len(design), "likelihood": likelihood,
                "redrawn_prior_draws": truths.attrs.get("redrawn", 0), "draws": draws, "tune": tune, "chains": chains,
                "rank_draws": int(rank_draws),
                "priors": spec.prior_source, "band": BAND_METHOD, "band_simulations": band_simulations}
    kwargs = {"likelihood": likelihood, "draws": draws, "tune": tune, "chains": chains, "log_likelihood": False,
              "discrepancy": None,  # the structural term leaves the law's posterior, which SBC ranks, as it is
              **fit_kwargs,
              "progress": False, "cores": 1}
    law_json = spec.to_json()
    tasks = []
    for i in range(int(n_sims)):
        frame = design.copy()
        frame[spec.response] = responses[i]
        sim_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0] % (2**31))
        tasks.append({"sim": i, "law": law_json, "frame": frame.to_dict("list"), "params": params,
                      "truth": truths.iloc[i].to_dict(), "rank_draws": int(rank_draws),
                      "kwargs": {**kwargs, "seed": sim_seed}})
    results = _run_fits(tasks, executor, max_workers or min(os.cpu_count() or 1, int(n_sims)), settings)
    n_draws = {r["n_draws"] for r in results}
    if len(n_draws) != 1:
        raise RuntimeError(f"fits were thinned to different numbers of draws: {sorted(n_draws)}")
    L = n_draws.pop()
    ranks = pd.DataFrame([r["ranks"] for r in results], index=pd.Index([r["sim"] for r in results], name="sim"))
    ranks = ranks[params].astype(int)
    diagnostics = pd.DataFrame([r["diagnostics"] for r in results], index=ranks.index)
    band, verdict = _verdict(ranks, L, prob, band_simulations, seed)
    truths.index = pd.Index(range(int(n_sims)), name="sim")
    truths = truths.loc[ranks.index]
    return SBCResult(law=spec.name, ranks=ranks, n_draws=L, verdict=verdict, truths=truths,
                     diagnostics=diagnostics, band=band, prob=prob, settings=settings,
                     seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- simulation
def _design(spec, design, seed: int) -> pd.DataFrame:
    if design is None or isinstance(design, (int, np.integer)):
        if not set(spec.columns) <= {"N", "D"}:
            raise InputError(f"law {spec.name!r} has inputs {spec.columns}: pass a design with them")
        design = chinchilla_design(40 if design is None else int(design), seed=seed)
    design = pd.DataFrame(design).reset_index(drop=True)
    missing = [c for c in spec.columns if c not in design.columns]
    if missing:
        raise InputError(f"the design lacks the law's input column(s) {missing} (it has {list(design.columns)})")
    return design[spec.columns].astype(float)


def prior_datasets(spec, design: pd.DataFrame, n: int, *, seed: int = 0,
                   likelihood: str = "student_t") -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` draws from the prior and a dataset from each, on ``design``, from the fit's own model.

    Returns the true values (one row per draw: the law's parameters on the natural scale,
    then ``sigma`` and, for Student-t, ``nu``) and the simulated responses, shape ``(n, runs)``.
    ``truths.attrs["redrawn"]`` counts prior draws whose simulated responses were not finite
    and positive (Student-t noise with a tiny ``nu`` under the default Gamma(2, 0.1) prior
    overflows ``exp``; about 1 draw in 1500 for chinchilla): they are replaced by further draws,
    so the SBC is conditional on finite data (a :class:`UserWarning` says how many).
    """
    import pymc as pm

    frame = design.copy()
    frame[spec.response] = 1.0  # placeholder: the prior predictive does not read it
    names = list(spec.parameters) + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = load_runs(frame)
        model = build_model(spec, runs, likelihood)
    truths, ys, drawn, valid = [], [], 0, 0
    rng = np.random.default_rng(seed)
    while valid < n:
        ask = n if not drawn else max(16, 2 * (n - valid))
        with warnings.catch_warnings(), quiet_logger("pymc"):  # no "Sampling: [...]" on stderr
            warnings.simplefilter("ignore")
            draws = pm.sample_prior_predictive(draws=ask, model=model, random_seed=rng if drawn else seed)
        prior = draws["prior"].to_dataset()
        log_y = draws["prior_predictive"][observed_name(spec) + "_obs"].values.reshape(ask, -1)
        with np.errstate(over="ignore", under="ignore"):
            y = np.exp(log_y)
        ok = (np.isfinite(y) & (y > 0)).all(axis=1)
        truths.append(pd.DataFrame({p: prior[p].values.reshape(-1) for p in names})[ok])
        ys.append(y[ok])
        drawn, valid = drawn + ask, valid + int(ok.sum())
        if drawn > 10 * n + 100:
            raise InputError(f"the priors of {spec.name!r} simulate non-finite responses in {drawn - valid} of "
                             f"{drawn} draws on this design; tighten them")
    out = pd.concat(truths, ignore_index=True).iloc[:n]
    redrawn = drawn - valid
    out.attrs["redrawn"] = int(redrawn)
    if redrawn:
        warnings.warn(f"{redrawn} of {drawn} prior draws of {spec.name!r} simulated responses that are not finite "
                      f"and positive (e.g. Student-t noise with a tiny nu) and were replaced by further draws: "
                      f"the SBC is conditional on finite data", UserWarning, stacklevel=2)
    return out, np.concatenate(ys)[:n]


# ----------------------------------------------------------------------------- fitting
def _fit_one(task: dict) -> dict:
    """Fit one simulated dataset and rank the truth among the thinned draws (runs in a worker)."""
    t0 = time.perf_counter()
    spec = spec_from_dict(json.loads(task["law"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sampler warnings are recorded in the diagnostics instead
        runs = load_runs(pd.DataFrame(task["frame"]))
        try:
            fitted = inference.refit(runs, spec, **task["kwargs"])
        except Exception as err:  # noqa: BLE001 - one bad simulation must not lose the others
            return {"sim": task["sim"], "error": f"{type(err).__name__}: {err}"}
    post = fitted.posterior["posterior"].to_dataset()
    ranks, n_draws = {}, None
    for p in task["params"]:
        values = post[p].transpose("chain", "draw").values.reshape(-1)
        kept = thin(values, task["rank_draws"])
        n_draws = kept.size
        ranks[p] = int(np.sum(kept < task["truth"][p]))
    d = fitted.diagnostics
    return {"sim": task["sim"], "ranks": ranks, "n_draws": int(n_draws),
            "diagnostics": {"divergences": int(d.divergences), "max_rhat": float(d.max_rhat),
                            "min_ess_bulk": float(d.min_ess_bulk), "verdict": d.verdict,
                            "seconds": time.perf_counter() - t0}}


def _run_fits(tasks: list, executor, workers: int, settings: dict) -> list[dict]:
    """Fit every simulation (local processes or ``executor``); the fits that failed are left out, warned
    about and recorded in ``settings["failed_fits"]``; all failing is an error."""
    check_executor(executor)
    settings["max_workers"] = int(workers)
    settings["executor"] = "local processes" if executor is None else type(executor).__name__
    results = [r if not isinstance(r, TaskFailure) else
               {"sim": tasks[r.index]["sim"], "error": f"{r.error} (failed {r.attempts} times)"}
               for r in run_tasks(_fit_one, tasks, executor=executor, workers=int(workers))]
    failed = [r for r in results if "error" in r]
    if len(failed) == len(results):
        raise RuntimeError(f"every SBC fit failed; the first: {failed[0]['error']}")
    if failed:
        warnings.warn(f"{len(failed)} of {len(results)} SBC fits raised and are left out (the ranks are then "
                      f"conditional on a successful fit): " + "; ".join(f"sim {r['sim']}: {r['error']}"
                                                                       for r in failed[:3]), UserWarning, stacklevel=3)
    settings["failed_fits"] = {r["sim"]: r["error"] for r in failed}
    return [r for r in results if "error" not in r]


def thin(values: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced values of a chain-major flattened draw array (all of them if fewer)."""
    values = np.asarray(values).reshape(-1)
    if values.size <= n:
        return values
    stride = values.size // n
    return values[::stride][:n]


# ----------------------------------------------------------------------------- uniformity
def ecdf_band(n: int, prob: float = 0.99, *, n_simulations: int = 5000, seed: int = 0) -> pd.DataFrame:
    """The simultaneous ``prob`` band of the ECDF of ``n`` uniform values (arviz's ``ecdf_pit``).

    Columns ``x`` (0, 1/n, ..., 1), ``lower``, ``upper``.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    x, _, lower, upper = ecdf_pit(np.linspace(0, 1, n), prob, n_simulations,
                                  rng=np.random.default_rng(seed))
    return pd.DataFrame({"x": x, "lower": lower, "upper": upper})


def _verdict(ranks: pd.DataFrame, n_draws: int, prob: float, n_simulations: int, seed: int):
    from arviz_stats.ecdf_utils import compute_ecdf

    band = ecdf_band(len(ranks), prob, n_simulations=n_simulations, seed=seed)
    x, lo, hi = (band[c].to_numpy() for c in ("x", "lower", "upper"))
    rows = {}
    for p in ranks.columns:
        u = (ranks[p].to_numpy() + 0.5) / (n_draws + 1)
        ecdf = compute_ecdf(u, x)
        ecdf[0], ecdf[-1] = 0.0, 1.0
        outside = (ecdf < lo - 1e-12) | (ecdf > hi + 1e-12)
        rows[p] = {"verdict": "fail" if outside.any() else "pass", "points_outside": int(outside.sum()),
                   "max_ecdf_diff": float(np.max(np.abs(ecdf - x))),
                   "mean_rank": float(ranks[p].mean() / n_draws)}
    verdict = pd.DataFrame.from_dict(rows, orient="index")
    verdict.index.name = "parameter"
    return band, verdict
