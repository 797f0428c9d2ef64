"""Sampler diagnostics and the posterior summary table (all statistics from arviz).

A fit is ``ok`` when there are no divergent transitions, every R-hat is
<= 1.01 and every bulk and tail ESS is >= 100 per chain (Vehtari et al. 2021).
The verdict is ``"pass"`` (ok), ``"fail"`` (R-hat > 1.05, ESS < 20 per chain
or more than 1% divergent draws: do not use the numbers) or ``"warn"``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import ModelCheckWarning, SamplerWarning
from ..core.intervals import DEFAULT_PROB, check_prob

__all__ = ["Diagnostics", "diagnose", "summarize", "noise_checks", "convergence_table",
           "heavy_tail_note", "RHAT_MAX", "ESS_PER_CHAIN", "TAIL_Z", "TAIL_P", "NU_MIN", "NU_HEAVY"]

RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
TAIL_Z = 4.0  # residuals beyond this many sigma count as tail rows in noise_checks
TAIL_P = 1e-3  # flag Normal noise when so many tail rows have at most this probability under it
NU_MIN = 1.0  # flag Student-t noise whose nu (posterior median) is below this: tails beyond Cauchy's
NU_HEAVY = 2.0  # below this (infinite variance) the report names the rows far off the law


@dataclass(frozen=True)
class Diagnostics:
    """Convergence report of one fit."""

    divergences: int
    n_draws: int
    chains: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    worst_rhat: str
    worst_ess: str
    ok: bool
    verdict: str
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # model checks (not the sampler's): noise_checks
    # per summary row: ESS bulk/tail, R-hat, MCSE of the mean (arviz, when the fit is saved; convergence_table):
    # a cache of numbers derived from the posterior, so not part of equality
    by_parameter: dict[str, dict[str, float]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        head = (f"{self.verdict.upper()}: {self.divergences} divergences in {self.n_draws} draws "
                f"({self.chains} chains), max R-hat {self.max_rhat:.3f} ({self.worst_rhat}), "
                f"min ESS bulk {self.min_ess_bulk:.0f} / tail {self.min_ess_tail:.0f} ({self.worst_ess})")
        lines = [head] + [f"  - {p}" for p in self.problems] + [f"  advice: {a}" for a in self.advice]
        lines += [f"  model check: {c}" for c in self.checks]
        return "\n".join(lines)


def diagnose(posterior, var_names: list[str]) -> Diagnostics:
    """Diagnose the sampled posterior (a DataTree with posterior and sample_stats)."""
    import arviz_stats as az  # not the arviz meta-package: it imports arviz_plots and matplotlib.pyplot

    post = posterior["posterior"].to_dataset()[var_names]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    rhat = az.rhat(post)
    ess_bulk = az.ess(post, method="bulk")
    ess_tail = az.ess(post, method="tail")
    r = {k: float(np.nanmax(v.values)) for k, v in rhat.data_vars.items()}
    eb = {k: float(np.nanmin(v.values)) for k, v in ess_bulk.data_vars.items()}
    et = {k: float(np.nanmin(v.values)) for k, v in ess_tail.data_vars.items()}
    n_div = 0
    if "sample_stats" in posterior.children and "diverging" in posterior["sample_stats"].data_vars:
        n_div = int(posterior["sample_stats"]["diverging"].values.sum())
    worst_r = max(r, key=r.get)
    ess_min = {k: min(eb[k], et[k]) for k in eb}
    worst_e = min(ess_min, key=ess_min.get)
    need = ESS_PER_CHAIN * chains
    problems, advice = [], []
    if n_div:
        problems.append(f"{n_div} divergent transitions: the posterior has regions the sampler "
                        "could not explore; estimates may be biased")
        advice.append("raise target_accept (e.g. 0.95), or use tighter priors / a simpler law")
    if r[worst_r] > RHAT_MAX:
        problems.append(f"R-hat of {worst_r} is {r[worst_r]:.3f} > {RHAT_MAX}: chains disagree")
        advice.append("increase tune (e.g. tune=2000), or check the priors for multimodality")
    if min(eb.values()) < need or min(et.values()) < need:
        problems.append(f"ESS of {worst_e} is {ess_min[worst_e]:.0f} < {need} "
                        f"({ESS_PER_CHAIN} per chain): intervals are noisy")
        advice.append("increase draws, or fit fewer parameters")
    ok = not problems
    fail = (r[worst_r] > 1.05 or ess_min[worst_e] < 20 * chains
            or n_div > 0.01 * chains * draws)
    verdict = "pass" if ok else ("fail" if fail else "warn")
    return Diagnostics(divergences=n_div, n_draws=chains * draws, chains=chains, max_rhat=r[worst_r],
                       min_ess_bulk=min(eb.values()), min_ess_tail=min(et.values()), worst_rhat=worst_r,
                       worst_ess=worst_e, ok=ok, verdict=verdict, problems=problems,
                       advice=list(dict.fromkeys(advice)))


def warn_if_not_ok(diag: Diagnostics, law_name: str) -> None:
    if not diag.ok:
        warnings.warn(f"fit of {law_name!r} did not converge cleanly:\n{diag}", SamplerWarning,
                      stacklevel=3)
    for check in diag.checks:
        warnings.warn(f"fit of {law_name!r}: {check}", ModelCheckWarning, stacklevel=3)


def noise_checks(z: np.ndarray, likelihood: str, nu: float | None = None) -> list[str]:
    """What the standardized residuals ``z`` say against the noise model (empty: nothing).

    For Normal noise: the number of rows beyond :data:`TAIL_Z` sigma is Binomial(n, p) with
    ``p = 2 * norm.sf(TAIL_Z)``; when that many or more has probability below :data:`TAIL_P`,
    the noise has heavier tails than Normal (loss spikes, outlying runs), which pull a Normal fit
    and make its intervals too narrow for the rest.

    For Student-t noise (``nu``: the posterior median of its degrees of freedom): tails are
    allowed, but ``nu`` below :data:`NU_MIN` (heavier than Cauchy, no mean) says the law cannot
    follow all the runs: it fits a subset closely and treats the others as outliers, so its
    intervals hold only if that split is right. Real scaling data give ``nu`` of about 3 (Epoch's
    Chinchilla runs: 2.9); the datablations runs under the data-constrained law give 0.6.
    """
    from scipy import stats

    z = np.asarray(z, dtype=float)
    n, k = z.size, int(np.sum(np.abs(z) > TAIL_Z))
    if likelihood == "student_t":
        if nu is None or not nu < NU_MIN:
            return []
        return [f"Student-t noise with nu = {nu:.2g} (below {NU_MIN:g}: tails heavier than Cauchy's): the law "
                f"follows some runs within sigma and leaves others far off ({k:,} of {n:,} rows beyond "
                f"{TAIL_Z:g} sigma). That is a law that misfits part of the data, not noise: its intervals "
                "hold only if the far-off runs are truly outliers. Look at those rows (by input range), "
                "compare laws (bs.compare), or model the misfit."]
    if likelihood != "normal":
        return []
    p = 2 * stats.norm.sf(TAIL_Z)
    p_value = float(stats.binom.sf(k - 1, n, p))
    if k == 0 or p_value >= TAIL_P:
        return []
    return [f"Normal noise is contradicted: {k:,} of {n:,} rows lie beyond {TAIL_Z:g} sigma of the fit, where "
            f"Normal noise expects {n * p:.2g} (probability of so many: {p_value:.1e}). Heavier-tailed noise "
            "(loss spikes, outlying runs) pulls a Normal fit and narrows its intervals: look at those rows, "
            "or refit with likelihood='student_t' (robust; slower with many run effects)."]


CONVERGENCE_COLUMNS = ("ess_bulk", "ess_tail", "r_hat", "mcse_mean")


def convergence_table(posterior, var_names: list[str]) -> dict[str, dict[str, float]]:
    """ESS (bulk, tail), R-hat and MCSE of the mean of every summary row, by arviz.

    Computed once when the fit is saved and kept in :attr:`Diagnostics.by_parameter`, so that the
    summary of a saved fit (the CLI's ``summary``, a notebook's view) needs no arviz import: arviz
    imports its plotting and LOO modules with it, 3-4 s in a fresh process.
    """
    import arviz_stats as az  # not the arviz meta-package: it imports arviz_plots and matplotlib.pyplot

    table = az.summary(posterior["posterior"].to_dataset()[var_names], kind="diagnostics", round_to="none")
    return {str(k): {c: float(table.loc[k, c]) for c in CONVERGENCE_COLUMNS} for k in table.index}


def _rows(post) -> dict[str, np.ndarray]:
    """Every summary row's draws (chain x draw, flattened), labelled as arviz labels them ("alpha[llama]")."""
    rows = {}
    for v in post.data_vars:
        values = post[v].transpose("chain", "draw", ...)
        extra = [d for d in values.dims if d not in ("chain", "draw")]
        if not extra:
            rows[v] = values.values.ravel()
            continue
        for idx in np.ndindex(*(values.sizes[d] for d in extra)):
            coords = ", ".join(str(values[d].values[i]) for d, i in zip(extra, idx))
            rows[f"{v}[{coords}]"] = values.values[(slice(None), slice(None), *idx)].ravel()
    return rows


def heavy_tail_note(z: np.ndarray, sigma: float, nu: float, labels, max_named: int = 8) -> str | None:
    """A caveat for Student-t noise with ``NU_MIN <= nu < NU_HEAVY`` (tails with infinite variance):
    the rows beyond :data:`TAIL_Z` sigma, named by ``labels`` (text per row) with their distance from
    the law in percent of the response (largest first). None when nu is not in that range or no row is that far.

    Below ``NU_MIN`` :func:`noise_checks` already flags the fit; above ``NU_HEAVY`` the tails are
    ordinary run-to-run noise (Epoch's Chinchilla runs under the default fit: nu about 1.6-2.9).
    """
    z = np.asarray(z, dtype=float)
    far = np.flatnonzero(np.abs(z) > TAIL_Z)
    if not NU_MIN <= nu < NU_HEAVY or far.size == 0:
        return None
    far = far[np.argsort(-np.abs(z[far]))]
    labels = np.asarray(labels)
    named = "; ".join(f"{labels[i]}: {np.expm1(z[i] * sigma):+.1%}" for i in far[:max_named])
    more = f" and {far.size - max_named} more" if far.size > max_named else ""
    return (f"Heavy tails: Student-t noise with nu = {nu:.2g} (below {NU_HEAVY:g}: the noise has no finite "
            f"variance), and {far.size} of {z.size} rows lie beyond {TAIL_Z:g} sigma of the law ({named}{more}). "
            "The fit treats them as outliers; "
            "if they are real (a different setup, a loss spike at the end), the intervals are too narrow for runs "
            "like them.")


def summarize(posterior, var_names: list[str], prob: float = DEFAULT_PROB,
              convergence: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """Posterior summary: mean, sd, median, equal-tailed interval, ESS, R-hat (arviz).

    The interval columns are ``lower`` and ``upper`` (probability ``prob``,
    also kept in ``df.attrs["prob"]``). With ``convergence`` (:func:`convergence_table`, kept
    with the fit) covering every row, the moments and quantiles are read off the draws
    directly and arviz is not imported; the numbers are arviz's (sd with ``ddof=1``, the
    interval by linear-interpolated quantiles), as a test checks.
    """
    check_prob(prob)
    post = posterior["posterior"].to_dataset()[var_names]
    rows = _rows(post)
    if not convergence or not set(rows) <= set(convergence):
        convergence = convergence_table(posterior, var_names)
    tail = (1 - prob) / 2
    table = pd.DataFrame(
        [[x.mean(), x.std(ddof=1), np.median(x), *np.quantile(x, [tail, 1 - tail]),
          *(convergence[label][c] for c in CONVERGENCE_COLUMNS)] for label, x in rows.items()],
        index=pd.Index(list(rows), name="parameter"),
        columns=["mean", "sd", "median", "lower", "upper", *CONVERGENCE_COLUMNS], dtype=float)
    table.attrs["prob"] = prob
    return table
