"""Backtest: fit on the smaller runs, predict the held-out larger ones, score the intervals.

:func:`backtest` answers "had I fitted this law before training my largest runs, would its
intervals have contained what they showed?" It splits the runs (by compute, by N, by any other
numeric column, or leave-one-family-out by ``group``), fits the law on the runs below the split,
predicts each held-out run and reports, per run, the truth, the median, the interval, whether the
interval covered the truth, the relative error of the median and how far (in decades) the run
lies beyond the fitted range; and, in a summary, the coverage and the median and maximum absolute
relative errors.

Beside it, the same split is scored for the point-estimate baseline of Hoffmann et al. 2022 and
Epoch AI 2024 (:mod:`bayes_scaling.checks.baseline`): a Huber (delta 1e-3, log space) L-BFGS fit over
Hoffmann's initialisation grid, and percentile intervals from 1000 bootstrap resamples of it.
The baseline only exists for the Chinchilla form ``E + A/N**alpha + B/D**beta``; for other laws
its columns are NaN and the summary says why.

What the intervals mean: by default ours are *predictive* intervals (``kind="predictive"``:
the law's uncertainty plus run-to-run noise, and a new run's offset for fits with run
effects), which is what a held-out run's loss should fall in. The baseline's bootstrap
intervals are intervals of the fitted *mean* law, as published; they ignore the noise of a
single run, so they are expected to under-cover observed losses. ``kind="mean"`` gives our
intervals of the mean law, the like-for-like comparison.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB, check_prob, decades_beyond_ranges, interval_columns
from ..data.runs import Runs, load_runs
from ..law.evaluate import log_value
from ..law.forms import is_chinchilla_form
from ..law.spec import load_law
from ..posterior import inference
from ..posterior.predict import KINDS
from .baseline import huber_bootstrap, huber_grid_fit
from .splits import split_runs

__all__ = ["Backtest", "backtest", "split_runs", "is_chinchilla_form", "huber_grid_fit", "summarize_table",
           "SUMMARY_COLUMNS"]

#: Columns of :attr:`Backtest.summary`.
SUMMARY_COLUMNS = ["n_heldout", "prob", "coverage", "median_abs_rel_error", "max_abs_rel_error",
                   "median_rel_width", "note"]
_BASELINE_COLUMNS = ["baseline_point", "baseline_lower", "baseline_upper", "baseline_covered",
                     "baseline_rel_error"]


@dataclass(frozen=True, eq=False)
class Backtest:
    """The result of :func:`backtest`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per held-out run (index: the runs table's row labels). Columns: ``fold``
        (the held-out group for ``split="group"``, else ``"all"``), the split column and the
        law's inputs, ``truth`` (observed response), ``median``, ``lower``, ``upper``,
        ``covered``, ``rel_error`` ((median - truth) / truth), ``decades_beyond`` (log10
        distance beyond the fitted range of N, D, C and the law's inputs, 0 inside), and the
        baseline's ``baseline_point`` (Huber point fit), ``baseline_lower``,
        ``baseline_upper`` (bootstrap percentiles), ``baseline_covered``,
        ``baseline_rel_error`` (NaN where the baseline does not apply).
    summary : pandas.DataFrame
        One row per method (``"bayes"``, ``"huber_bootstrap"``): ``n_heldout``, ``prob``,
        ``coverage`` (fraction of held-out runs inside their interval),
        ``median_abs_rel_error``, ``max_abs_rel_error``, ``median_rel_width`` (median of
        (upper - lower) / truth) and a ``note``.
    split : dict
        How the runs were split: ``by`` (column), ``kind``, ``prob``, ``threshold`` (train:
        ``by <= threshold``) or ``folds`` (groups), ``n_train``, ``n_heldout``, the ranges of
        the split column on each side, each fold's fit diagnostics verdict and the baseline's
        settings or the reason it is absent.
    fits : dict
        The fit of each fold (``"all"`` for a numeric split), for inspection: a
        :class:`bayes_scaling.Fit` from ``bs.backtest`` (decisions and all), a fit record from this
        module's function.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    split: dict
    fits: dict = field(default_factory=dict, repr=False)

    @property
    def coverage(self) -> float:
        """Coverage of our intervals over all held-out runs."""
        return float(self.summary.loc["bayes", "coverage"])

    def by_fold(self) -> pd.DataFrame:
        """The summary per fold (rows: fold, method)."""
        parts = {fold: summarize_table(t, self.split["prob"], self.split.get("baseline_note", ""))
                 for fold, t in self.table.groupby("fold", sort=False)}
        return pd.concat(parts, names=["fold", "method"])

    def _n_train(self) -> str:
        n = self.split["n_train"]
        return str(n) if not isinstance(n, dict) else "/".join(str(v) for v in n.values()) + " (per fold)"

    def __repr__(self) -> str:
        s = self.summary
        lines = [f"<Backtest {self.split.get('law', '')}: split by {self.split['by']}, "
                 f"{self._n_train()} runs fitted, {self.split['n_heldout']} held out, "
                 f"{self.split['prob']:.0%} {self.split['kind']} intervals>"]
        for method, row in s.iterrows():
            if np.isnan(row["coverage"]):
                lines.append(f"  {method}: n/a ({row['note']})")
            else:
                lines.append(f"  {method}: coverage {row['coverage']:.0%}, median |rel. error| "
                             f"{row['median_abs_rel_error']:.2%}, max {row['max_abs_rel_error']:.2%}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        sp = self.split
        where = (f"{html.escape(str(sp['by']))} &le; {sp['threshold']:.4g}" if "threshold" in sp
                 else f"leave one {html.escape(str(sp['by']))} out ({len(sp.get('folds', []))} folds)")
        head = (f"<div class='bayes-scaling-backtest'><b>Backtest of {html.escape(str(sp.get('law', '')))}"
                f"</b>: fitted on {html.escape(self._n_train())} runs ({where}), {sp['n_heldout']} held out; "
                f"{sp['prob']:.0%} {html.escape(sp['kind'])} intervals.")
        cols = ["fold", "truth", "median", "lower", "upper", "covered", "rel_error", "decades_beyond",
                "baseline_point", "baseline_covered", "baseline_rel_error"]
        table = self.table[[c for c in cols if c in self.table]]
        return (head + self.summary.to_html(float_format=lambda x: f"{x:.4g}", escape=True)
                + table.head(50).to_html(float_format=lambda x: f"{x:.4g}", escape=True) + "</div>")


def backtest(runs, law="chinchilla", *, split: str = "compute", holdout: float | str | Sequence[str] | None = 0.2,
             prob: float = DEFAULT_PROB, kind: str = "predictive", baseline: bool | str = "auto", n_boot: int = 1000,
             baseline_seed: int = 0, baseline_grid: str = "screened", executor=None, **fit_kwargs) -> Backtest:
    """Fit on the runs below a split, predict the held-out runs, score the intervals.

    Parameters
    ----------
    runs : Runs, DataFrame or path
        The runs (:func:`bayes_scaling.load_runs`).
    law : str, path, dict or LawSpec
        The law to fit (as for :func:`bayes_scaling.fit`).
    split : str
        ``"compute"`` (column ``C``), ``"N"``, ``"D"`` or any numeric column of the runs
        (e.g. ``"step"``): hold out the runs with the largest values. ``"group"``:
        leave-one-family-out, one fit per held-out group (a fit of the other groups
        predicts it; ``pooled=`` is not allowed here since the held-out group is new).
    holdout : float, str or list of str
        Numeric split: a fraction in (0, 1) (the largest fraction of runs is held out, at
        least one, ties with the smallest held-out value included) or a threshold > 1 in
        the column's units (runs with a value above it are held out: the fit uses
        ``value <= threshold``, e.g. ``holdout=1e21`` with ``split="compute"`` fits
        C <= 1e21 FLOPs). Group split: ``None`` (every group in turn, the default when the
        numeric default 0.2 is left), a group label or a list of them.
    prob : float
        Probability of the equal-tailed intervals (ours and the baseline's).
    kind : {"predictive", "mean"}
        Our intervals: of a new run's loss (noise included; default) or of the mean law.
    baseline : bool or "auto"
        Score the Huber + bootstrap baseline as well. ``"auto"``: when the law has the
        Chinchilla form. ``True`` with another law raises.
    n_boot : int
        Bootstrap resamples of the baseline (1000 as in Epoch AI 2024).
    baseline_seed : int
        Seed of the bootstrap resampling.
    baseline_grid : {"screened", "full"}
        How the baseline's point fit searches Hoffmann's grid (see :func:`huber_grid_fit`):
        L-BFGS from the best 1% of the 4500 grid points (default) or from all of them
        (about 25 minutes per fit on one core).
    executor : concurrent.futures.Executor, optional
        Fit the folds there, in parallel (e.g. ``dask.distributed.Client(...).get_executor()``);
        default: one after the other in this process. Each task ships the fold's runs, the law
        spec and the fit settings, and returns the fitted record; a task that fails (a killed
        worker) is retried once, then raises :class:`~bayes_scaling.core.errors.TaskError`
        naming the fold. The same seed gives the same numbers either way.
    **fit_kwargs
        Passed to :func:`bayes_scaling.fit` (``seed``, ``draws``, ``priors``, ...);
        ``progress`` defaults to False.

    Returns
    -------
    Backtest
        ``table`` (per held-out run), ``summary`` (per method) and ``split``.
    """
    check_prob(prob)
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    if baseline_grid not in ("screened", "full"):
        raise InputError(f"baseline_grid must be 'screened' or 'full', got {baseline_grid!r}")
    if not isinstance(runs, Runs):
        runs = load_runs(runs)
    spec = load_law(law).with_priors(fit_kwargs.pop("priors", None))
    use_baseline, note = _baseline_applies(spec, runs, baseline)
    fit_kwargs.setdefault("progress", False)
    fit_kwargs.setdefault("log_likelihood", False)  # not used here

    folds, info = split_runs(runs, split, holdout)
    if info["by"] == "group" and fit_kwargs.get("pooled"):
        raise InputError("split='group' predicts a group the fit has not seen: fit without pooled= "
                         "(one law for the other groups)")
    tables, fits, verdicts = [], {}, {}
    fitted_folds = inference.refit_many({f: (train, spec, fit_kwargs) for f, (train, _) in folds.items()},
                                        executor, "backtest fold")
    for fold, (train, held) in folds.items():
        fitted, caught = fitted_folds[fold]
        for category, message in caught:
            warnings.warn(f"backtest fit ({fold!r}, {len(train)} runs): {message}", category, stacklevel=2)
        fits[fold] = fitted
        verdicts[fold] = fitted.diagnostics.verdict
        part = _score_fold(fitted, held, info["by"], prob, kind)
        if use_baseline:
            part = part.join(_baseline_fold(train, held, prob, n_boot, baseline_seed + len(tables),
                                                 baseline_grid))
        else:
            for col in _BASELINE_COLUMNS:
                part[col] = np.nan
        part.insert(0, "fold", fold)
        tables.append(part)
    table = pd.concat(tables)
    info.update({"law": spec.name, "prob": prob, "kind": kind, "fit_verdicts": verdicts,
                 "baseline": ({"method": "huber_bootstrap", "delta": 1e-3, "n_boot": n_boot,
                               "seed": baseline_seed, "grid": f"Hoffmann et al. 2022 ({baseline_grid})",
                               "intervals": "bootstrap percentiles of the mean law"} if use_baseline else None),
                 "baseline_note": note})
    return Backtest(table=table, summary=summarize_table(table, prob, note), split=info, fits=fits)


# ----------------------------------------------------------------------------- ours
def _score_fold(fitted, held: Runs, by: str, prob: float, kind: str) -> pd.DataFrame:
    law = fitted.law
    data = held.data
    cols = [c for c in dict.fromkeys((by, "group", "run", *law.columns)) if c in data.columns]
    out = data[cols].copy()
    out["truth"] = held.values(law.response)
    inputs = {c: held.values(c) for c in law.columns}
    if fitted.structure.varying:  # partial pooling, numeric split: each held-out run in its own group
        frames = []
        labels = data["group"].astype(str).to_numpy()
        for g in pd.unique(labels):
            sel = labels == g
            frames.append(pd.DataFrame(_predict_cols(fitted, {k: v[sel] for k, v in inputs.items()},
                                                     prob, kind, group=g), index=data.index[sel]))
        pred = pd.concat(frames).loc[data.index]
    else:
        pred = pd.DataFrame(_predict_cols(fitted, inputs, prob, kind), index=data.index)
    out = out.join(pred)
    out["covered"] = (out["truth"] >= out["lower"]) & (out["truth"] <= out["upper"])
    out["rel_error"] = (out["median"] - out["truth"]) / out["truth"]
    out["decades_beyond"] = decades_beyond_ranges(data, fitted.observed_ranges())
    return out


def _predict_cols(fitted, inputs: dict, prob: float, kind: str, group: str | None = None) -> dict:
    r = fitted.law.response
    frame = fitted.predict(prob=prob, kind=kind, group=group, **inputs)
    return {"median": frame[f"{r}_median"].to_numpy(), "lower": frame[f"{r}_lower"].to_numpy(),
            "upper": frame[f"{r}_upper"].to_numpy()}


# ----------------------------------------------------------------------------- baseline
def _baseline_applies(spec, runs: Runs, baseline) -> tuple[bool, str]:
    if baseline not in (True, False, "auto"):
        raise InputError(f"baseline must be True, False or 'auto', got {baseline!r}")
    if baseline is False:
        return False, "baseline not requested (baseline=False)"
    form = is_chinchilla_form(spec)
    if not form or not (runs.has("N") and runs.has("D")):
        why = (f"the Huber + bootstrap baseline (Hoffmann 2022, Epoch 2024) applies only to the Chinchilla "
               f"form E + A/N^alpha + B/D^beta in N and D; law {spec.name!r} is not")
        if baseline is True:
            raise InputError(why)
        return False, why
    return True, ""


def _baseline_fold(train: Runs, held: Runs, prob: float, n_boot: int, seed: int,
                   grid: str = "screened") -> pd.DataFrame:
    N, D, L = (train.values(c) for c in ("N", "D", "loss"))
    point = huber_grid_fit(N, D, L, grid=grid)
    boot = huber_bootstrap(N, D, L, n_boot=n_boot, seed=seed, init=point)
    n, d = held.values("N"), held.values("D")
    truth = held.values("loss")
    pred = _chinchilla(point, n, d)
    band = interval_columns("b", _chinchilla({k: boot[k].to_numpy()[:, None] for k in boot.columns}, n, d), prob)
    lower, upper = band["b_lower"], band["b_upper"]
    return pd.DataFrame({"baseline_point": pred, "baseline_lower": lower, "baseline_upper": upper,
                         "baseline_covered": (truth >= lower) & (truth <= upper),
                         "baseline_rel_error": (pred - truth) / truth}, index=held.data.index)


def _chinchilla(params, n, d) -> np.ndarray:
    """The baseline's Chinchilla law (parameters E, A, B, alpha, beta) at (N, D)."""
    return np.exp(log_value(load_law("chinchilla"), params, {"N": np.log(n), "D": np.log(d)}))


# ----------------------------------------------------------------------------- summary
def summarize_table(table: pd.DataFrame, prob: float, note: str = "") -> pd.DataFrame:
    """The per-method summary of a backtest table (see :attr:`Backtest.summary`)."""
    rows = {}
    for method, (mid, lo, hi, cov, rel) in {
        "bayes": ("median", "lower", "upper", "covered", "rel_error"),
        "huber_bootstrap": tuple(_BASELINE_COLUMNS),
    }.items():
        truth = table["truth"].to_numpy(float)
        err = np.abs(table[rel].to_numpy(float))
        present = np.isfinite(table[mid].to_numpy(float))
        if not present.any():
            rows[method] = {"n_heldout": len(table), "prob": prob, "coverage": np.nan,
                            "median_abs_rel_error": np.nan, "max_abs_rel_error": np.nan,
                            "median_rel_width": np.nan, "note": note or "not computed"}
            continue
        width = (table[hi].to_numpy(float) - table[lo].to_numpy(float)) / truth
        rows[method] = {"n_heldout": int(present.sum()), "prob": prob,
                        "coverage": float(table[cov].to_numpy(bool)[present].mean()),
                        "median_abs_rel_error": float(np.median(err[present])),
                        "max_abs_rel_error": float(np.max(err[present])),
                        "median_rel_width": float(np.median(width[present])),
                        "note": "" if method == "bayes" else "bootstrap intervals of the mean law"}
    out = pd.DataFrame.from_dict(rows, orient="index")[SUMMARY_COLUMNS]
    out.index.name = "method"
    return out
