"""Compare scaling laws fitted to the same runs: PSIS-LOO and a leave-largest-out score.

:func:`compare` puts two scores side by side:

* **PSIS-LOO** (``elpd_loo``; :func:`arviz_stats.loo` and :func:`arviz_stats.compare`): the
  expected log predictive density of each run when it is left out, estimated from the one
  posterior by Pareto-smoothed importance sampling; with Pareto-k diagnostics.
* **Leave-largest-out** (``elpd_llo``): each law is refit, same priors, likelihood and sampler
  settings, on the runs *below* a compute split, and scored by the log predictive density of the
  held-out largest-compute runs (log-mean-exp of the likelihood over posterior draws).

Why both: LOO scores *interpolation*. Each left-out run is predicted from the other runs, which
surround it in (N, D, C), so LOO asks "how well does the law describe the range I already
have?". A flexible law (more terms, a break, a free curvature) can describe the small runs very
well and still bend the wrong way beyond them; it then wins on LOO and loses at the scale the
budget decision is about. Leave-largest-out asks the question the decision depends on: fitted
without the largest runs, how well does the law predict them? It is noisier (few runs, one
split) and it spends the information in the largest runs on testing, so read the two together:
a law that leads on LOO but trails on leave-largest-out extrapolates badly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import ComparisonWarning, InputError
from ..data.runs import Runs
from ..posterior import inference
from ..posterior.predict import log_likelihood

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["compare", "holdout_split"]

LOO_COLUMNS = ["rank", "elpd_loo", "se", "d_loo", "dse", "weight", "p_loo", "n_bad_pareto_k"]
LLO_COLUMNS = ["elpd_llo", "se_llo", "d_llo", "dse_llo", "rank_llo"]


def compare(fits: Sequence, *, names: Sequence[str] | None = None, holdout: float = 0.2,
            refit: bool = True, warn: bool = True, method: str = "stacking", executor=None) -> pd.DataFrame:
    """Rank laws fitted to the same runs by PSIS-LOO and by leave-largest-out prediction.

    In-sample LOO alone can favour a law that extrapolates badly. PSIS-LOO predicts each run
    from the others, which surround it, so it measures how well a law *interpolates* within
    the observed range. A more flexible law can fit the small runs very well and diverge at
    the scale you actually care about, and still win on LOO. The leave-largest-out score
    (``*_llo``) refits every law without the largest-compute runs and scores its predictions
    of them: it tests the extrapolation that a training-budget decision depends on. Prefer a
    law that does well on both; distrust one that leads only on LOO.

    Parameters
    ----------
    fits : sequence of Fit
        Two or more fits on the same runs (same rows and values) and the same response;
        laws and likelihoods may differ (all score log(response)).
    names : sequence of str, optional
        Row labels, one per fit (default: the law names, with the likelihood added when
        two fits share a law).
    holdout : float, default 0.2
        In (0, 1): the fraction of runs with the largest compute to hold out (at least one;
        runs tied with the smallest held-out value are held out too). Greater than 1: a
        compute threshold in FLOPs; runs with C >= holdout are held out. The split is on
        column ``C`` when the runs have it, else on the first fit's first law input.
    refit : bool, default True
        Refit each law on the runs below the split (one sampler run per law; same priors,
        likelihood and settings, seed included) for the leave-largest-out score. False
        skips it: the ``*_llo`` columns are NaN/<NA>.
    executor : concurrent.futures.Executor, optional
        Run those refits there, in parallel (e.g. a dask client's ``get_executor()``); default: one
        after the other in this process.
    warn : bool, default True
        Emit a :class:`ComparisonWarning` for each law whose PSIS-LOO has runs with Pareto
        k above arviz's threshold (``min(1 - 1/log10(S), 0.7)`` for S draws), naming them.
        The findings are also in ``attrs["bad_pareto_k"]`` either way.
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How :func:`arviz_stats.compare` computes the LOO ``weight``.

    Returns
    -------
    pandas.DataFrame
        One row per fit, index ``law`` (the names), ordered by LOO. Columns:

        - ``rank``, ``elpd_loo``, ``se``, ``d_loo``, ``dse``, ``weight``, ``p_loo``: arviz's
          PSIS-LOO comparison (rank 0 is best; ``d_loo`` = elpd_loo - best elpd_loo and
          ``dse`` its paired standard error; ``p_loo`` the effective number of parameters);
        - ``n_bad_pareto_k``: runs with Pareto k above the threshold (LOO unreliable there);
        - ``elpd_llo``, ``se_llo``, ``d_llo``, ``dse_llo``, ``rank_llo``: the same for the
          log predictive density of the held-out largest runs (rank 0 is best).

        ``attrs`` holds ``holdout`` (split column, threshold, run counts, held-out run
        labels), ``good_k`` (name -> Pareto-k threshold), ``bad_pareto_k`` (name -> run
        labels), ``warnings`` (messages) and ``refit_diagnostics`` (name -> verdict of the refit).

    Raises
    ------
    ValueError
        Fewer than two fits, bad ``names`` or ``holdout``, or fits made on different runs
        or responses (the message names the fits and what differs).
    NotImplementedError
        ``refit=True`` with a fit that has run effects (held-out runs would be new runs).
    """
    import arviz_stats as azs

    fits = list(fits)
    if len(fits) < 2:
        raise InputError(f"compare needs at least two fits, got {len(fits)}")
    names = _names(fits, names)
    _check_same_runs(fits, names)
    held, split = _split(fits[0], holdout)
    if refit:
        _check_plain(fits, names)

    loos, bad, messages = _loo_scores(fits, names)
    if warn:
        for message in messages:
            warnings.warn(message, ComparisonWarning, stacklevel=2)
    table = azs.compare(loos, method=method, round_to="none")
    out = pd.DataFrame({
        "rank": table["rank"].astype(int), "elpd_loo": table["elpd"], "se": table["se"],
        "d_loo": table["elpd_diff"], "dse": table["dse"], "weight": table["weight"],
        "p_loo": table["p"], "n_bad_pareto_k": pd.Series({n: len(bad[n]) for n in names}),
    }).loc[table.index]
    out.index.name = "law"
    train, heldout = fits[0].runs.subset(~held), fits[0].runs.subset(held)
    verdicts: dict[str, str] = {}
    if refit:
        llo = _llo_scores(fits, names, train, heldout, held, split, verdicts, executor)
        out["elpd_llo"], out["se_llo"] = llo["elpd"], llo["se"]
        out["d_llo"], out["dse_llo"] = llo["elpd_diff"], llo["dse"]
        out["rank_llo"] = llo["rank"].astype("Int64")
    else:
        for col in LLO_COLUMNS[:-1]:
            out[col] = np.nan
        out["rank_llo"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.attrs.update({
        "holdout": {**split, "n_train": len(train), "n_heldout": len(heldout),
                    "heldout_runs": heldout.data.index.tolist()},
        "good_k": {name: float(loo.good_k) for name, loo in loos.items()},
        "bad_pareto_k": bad, "warnings": messages, "refit_diagnostics": verdicts,
    })
    return out[LOO_COLUMNS + LLO_COLUMNS]


def _loo_scores(fits: list, names: list[str]) -> tuple[dict, dict, list[str]]:
    """PSIS-LOO of each fit, the runs with high Pareto k per fit, and a message per fit that has some."""
    import arviz_stats as azs

    loos, bad, messages = {}, {}, []
    labels = fits[0].runs.data.index
    for name, f in zip(names, fits):
        with warnings.catch_warnings():  # arviz's generic Pareto-k warning; ours names the runs
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto",
                                    category=UserWarning)
            loos[name] = azs.loo(f.with_log_likelihood().posterior, pointwise=True, var_name=_ll_name(f))
        k = np.asarray(loos[name].pareto_k.values, dtype=float)
        bad_at = np.flatnonzero(k > loos[name].good_k)
        bad[name] = labels[bad_at].tolist()
        if bad_at.size:
            shown = ", ".join(f"{labels[i]} (k={k[i]:.2f})" for i in bad_at[:10])
            more = f" and {bad_at.size - 10} more" if bad_at.size > 10 else ""
            robust = "" if f.likelihood == "student_t" else "try likelihood='student_t', "
            messages.append(
                f"PSIS-LOO is unreliable for {name!r}: Pareto k > {loos[name].good_k:.2f} at "
                f"{bad_at.size} of {k.size} runs, row(s) {shown}{more}. These runs are highly "
                f"influential (outliers, or the law misfits them): check them, {robust}and trust "
                f"elpd_loo for this law less.")
    return loos, bad, messages


def _llo_scores(fits: list, names: list[str], train: Runs, heldout: Runs, held: np.ndarray, split: dict,
                verdicts: dict[str, str], executor=None) -> pd.DataFrame:
    """Each law refitted below the split and scored on the held-out runs (arviz's comparison table);
    each refit's verdict goes into ``verdicts``.
    """
    import arviz_stats as azs

    llos, refits = {}, _refits(fits, names, train, executor)
    for name, f in zip(names, fits):
        refitted, caught = refits[name]
        for category, message in caught:  # e.g. a SamplerWarning: say that it is about the refit
            warnings.warn(f"leave-largest-out refit of {name!r} on the {len(train)} runs with "
                          f"{split['column']} < {split['threshold']:.4g}: {message}", category, stacklevel=3)
        verdicts[name] = refitted.diagnostics.verdict
        llos[name] = _llo_elpd(f, refitted, heldout, np.flatnonzero(held))
    return azs.compare(llos, method="pseudo-BMA", round_to="none")  # weights not reported


def holdout_split(fit, holdout: float = 0.2) -> tuple[Runs, Runs, dict]:
    """Split a fit's runs at a compute threshold: (train runs, held-out runs, split info).

    See :func:`compare` for ``holdout``. The info dict has ``column`` and ``threshold``
    (held-out runs are those with ``column >= threshold``).
    """
    held, info = _split(fit, holdout)
    return fit.runs.subset(~held), fit.runs.subset(held), info


def _split(fit, holdout: float) -> tuple[np.ndarray, dict]:
    runs = fit.runs
    column = "C" if runs.has("C") else next(iter(fit.law.inputs.values()))
    values = runs.values(column)
    if isinstance(holdout, bool) or not (0 < holdout < 1 or holdout > 1) or not math.isfinite(holdout):
        raise InputError(f"holdout must be a fraction in (0, 1) or a threshold > 1 (in the units of "
                         f"{column!r}), got {holdout!r}")
    if holdout < 1:
        n_out = max(1, int(round(holdout * len(values))))
        threshold = float(np.sort(values)[::-1][n_out - 1])
    else:
        threshold = float(holdout)
    held = values >= threshold
    if not held.any() or held.all():
        raise InputError(f"holdout={holdout!r} leaves {int(held.sum())} of {len(values)} runs out "
                         f"({column} from {values.min():.3g} to {values.max():.3g}); need some on each side")
    return held, {"column": column, "threshold": threshold}


# ----------------------------------------------------------------------------- helpers
def _ll_name(fit) -> str:
    return f"log_{fit.law.response}_obs"


def _names(fits: list, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != len(fits) or len(set(names)) != len(names):
            raise InputError(f"names must be {len(fits)} distinct labels, one per fit; got {names}")
        return names
    names = [f.law.name for f in fits]
    names = [f"{n} ({f.likelihood})" if names.count(n) > 1 else n for n, f in zip(names, fits)]
    return [f"{n} #{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _check_same_runs(fits: list, names: list[str]) -> None:
    ref, ref_name = fits[0], names[0]
    for f, name in zip(fits[1:], names[1:]):
        if f.law.response != ref.law.response:
            raise InputError(f"cannot compare fits of different responses: {ref_name!r} models "
                             f"{ref.law.response!r}, {name!r} models {f.law.response!r}")
        if f.runs.sha256() != ref.runs.sha256():
            raise InputError(f"cannot compare fits made on different runs: {ref_name!r} and {name!r} "
                             f"differ ({_runs_difference(ref.runs, f.runs)}); refit every law on "
                             f"the same runs table")


def _check_plain(fits: list, names: list[str]) -> None:
    for f, name in zip(fits, names):
        structure = getattr(f, "structure", None)
        if structure is not None and structure.run_effect:
            raise NotImplementedError(f"leave-largest-out refit of {name!r}: not available for fits with "
                                      f"run effects (held-out runs are new runs); use refit=False")


def _runs_difference(a: Runs, b: Runs) -> str:
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} runs"
    if list(a.data.columns) != list(b.data.columns):
        return f"columns {list(a.data.columns)} vs {list(b.data.columns)}"
    if not a.data.index.equals(b.data.index):
        at = np.flatnonzero(a.data.index != b.data.index)
        return f"row labels differ from position {int(at[0])}"
    for col in a.data.columns:
        x, y = a.data[col].to_numpy(), b.data[col].to_numpy()
        same = (x == y) | (pd.isna(x) & pd.isna(y))
        if not same.all():
            rows = a.data.index[np.flatnonzero(~same)[:5]].tolist()
            return f"column {col!r} differs at row(s) {rows}"
    return "the same values but different metadata (e.g. flops_per_token or dtypes)"


def _refits(fits: list, names: list[str], train: Runs, executor) -> dict[str, tuple[FitRecord, list]]:
    """Each law refitted on ``train`` (here, or on ``executor``): ``{name: (record, [(category, message)])}``."""
    if executor is None:
        out = {}
        for name, f in zip(names, fits):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out[name] = (_refit(f, train), [(w.category, str(w.message)) for w in caught])
        return out
    jobs = {}
    for name, f in zip(names, fits):
        options = inference.fit_options(f)
        jobs[name] = (train, options.pop("law"), options)
    return inference.refit_many(jobs, executor, "leave-largest-out refit")


def _refit(fit: FitRecord, runs: Runs) -> FitRecord:
    """The same law, priors, likelihood and sampler settings (seed included) on ``runs``."""
    options = inference.fit_options(fit)
    return inference.refit(runs, options.pop("law"), **options)


def _llo_elpd(fit, refitted, heldout: Runs, positions: np.ndarray):
    """Log predictive density of the held-out runs under the refit: one ELPD per run."""
    import xarray as xr
    from arviz_stats import ELPDDataLOOKFold
    from scipy.special import logsumexp

    offset = None
    if getattr(refitted, "discrepancy", None) is not None:  # the refit's discrepancy, at the held-out runs
        offset = refitted.discrepancy_draws({c: heldout.values(c) for c in fit.law.inputs.values()})
    ll = log_likelihood(fit.law, refitted.posterior, heldout, fit.likelihood,
                        getattr(refitted, "structure", None), offset=offset)[_ll_name(fit)]
    n_samples = ll.sizes["chain"] * ll.sizes["draw"]
    lpd = logsumexp(ll.values, axis=(0, 1)) - np.log(n_samples)  # log-mean-exp over draws
    elpd_i = xr.DataArray(lpd, dims=["obs"], coords={"obs": positions})
    # a single train/test split, stored the way arviz stores k-fold results (se as in loo_kfold)
    return ELPDDataLOOKFold(elpd=float(lpd.sum()), se=float(np.sqrt(lpd.size * np.var(lpd))), p=np.nan,
                            n_samples=n_samples, n_data_points=lpd.size, scale="log", warning=False,
                            good_k=None, elpd_i=elpd_i, n_folds=1)
