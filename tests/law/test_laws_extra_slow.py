"""Real-sampler tests (slow) of the data-constrained and broken law specs: the data-constrained
law on the datablations runs of Muennighoff et al. 2023, and parameter recovery of the broken
law on synthetic data."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import log_grid
from tests.helpers import shared_file

pytestmark = pytest.mark.slow

PUBLISHED_RD_STAR = 15.387756  # datablations README / notebook (C4), REFERENCE_VALUES.md section 5


def _converged(fit):
    d = fit.diagnostics
    assert d.divergences == 0, str(d)
    assert d.max_rhat <= 1.01, str(d)
    assert d.ok, str(d)


def test_data_constrained_on_datablations_runs():
    """Fit all seven parameters with the default (weakly informative) priors and the default
    Student-t likelihood on the final validation losses of the datablations runs.

    Data decisions:
    - ``4b284b12bc4opt2`` is dropped: the source notebook decodes it as 84.1e9 tokens / 2.2e9
      unique (38 epochs), but its name says 12e9 unique, its loss (2.52) matches the 12e9-unique
      seeds and a source comment gives it another shape (3.09e9 parameters); no fix is certain.
    - The 20 runs with loss > 6 are dropped: diverged or overfit runs at hundreds of epochs of
      100M-400M unique tokens (loss up to 11, rising with more data) and runs of <= 400M tokens
      whose loss is still dominated by the start of training. The law is non-increasing in D and
      cannot represent either; the authors' own curated fit set excludes the diverged ones too.
      (Keeping them changes the R_D* median by < 1%, the Student-t likelihood discounts them, but
      E mixes worse.)
    That leaves 275 runs.

    The published R_D* = 15.4 comes from another procedure: E, A, B, alpha, beta fixed at a fit to
    Chinchilla's C4 IsoFLOP curves (Chinchilla's models and tokenizer: ~8% below these losses),
    then R_D*, R_N* by Huber (delta 1e-3) on a hand-curated 182 runs. That objective is nearly flat
    in R_D* (within 0.3% from R_D* = 12 to 100); on a reconstruction of the 182 runs, which gives
    back the published R_N* = 5.31 at R_D* = 15.39, R_D* = 47-100 scores lower, so 15.4 is a local
    optimum of the authors' own objective. The posterior median here is ~32 (90% interval
    ~28.5-36), 2.06 x the published value, so the check is a factor 2.5, not 2.

    The law misfits these runs (runs at 16-64 epochs sit ~5% above it while seeds scatter by 0.03-1%),
    and the fit says so: Student-t nu ~ 0.6 < 1, a ModelCheckWarning, about a third of the rows
    beyond 4 sigma. Other defensible fits give R_D* from ~25 (Normal noise) to ~145 (base law
    fixed at the published C4 values): docs/notebooks/data_constrained.md.
    """
    frame = pd.read_csv(shared_file("datablations", "datablations_final_val_losses.csv"))
    frame = frame[(frame["run_name"] != "4b284b12bc4opt2") & (frame["val_loss"] <= 6)]
    runs = bs.load_runs(frame, N="params", D="tokens", U="unique_tokens", loss="val_loss")
    assert len(runs) == 275
    # 2000 draws: E mixes slowly along the E - B - beta ridge (beta ~ 0.17; ESS ~ 15% of the draws).
    # With the default 1000, 4 seeds all pass, but with max R-hat 1.006-1.009 (E), too near 1.01.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*not provably positive", UserWarning)  # the '-' in the formula
        with pytest.warns(bs.ModelCheckWarning, match=r"Student-t noise with nu = 0\.[4-8]"):
            fit = bs.fit(runs, law="data_constrained", seed=1, progress=False, draws=2000)
    _converged(fit)
    (check,) = fit.diagnostics.checks  # the misfit is named wherever the diagnostics are shown
    assert "rows beyond 4 sigma" in check
    s = fit.summary(prob=0.9)
    rd = s.loc["RD_star", "median"]
    assert PUBLISHED_RD_STAR / 2 <= rd <= PUBLISHED_RD_STAR * 2.5, s.loc["RD_star"]
    assert s.loc["RD_star", "upper"] / s.loc["RD_star", "lower"] < 2  # the data do pin it down
    # the largest run (8.67B parameters, 178B tokens, 1 epoch; loss 2.3367) is predicted within 2%
    pred = fit.predict(N=8.67e9, D=178e9, U=178e9)
    assert pred.loc[0, "loss_median"] == pytest.approx(2.3367, rel=0.02)


BROKEN_TRUTH = {"a": 1.7, "b": 100.0, "c0": 0.1, "c1": 0.3, "d1": 1e20, "f1": 0.5}


def test_broken_law_parameter_recovery():
    """50 runs over 8 decades of compute with the break (1e20 FLOPs) inside: the reducible loss
    falls as C^-0.1 below the break and C^-0.4 above it, 1% noise."""
    frame = bs.simulate("broken", BROKEN_TRUTH, {"C": log_grid(1e17, 1e25, 50)}, noise=0.01, seed=1)
    runs = bs.load_runs(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.SamplerWarning)
        fit = bs.fit(runs, law="broken", seed=1, progress=False, likelihood="normal",
                     target_accept=0.95)
    _converged(fit)
    s = fit.summary(prob=0.9)
    missed = {k: (v, s.loc[k, "lower"], s.loc[k, "upper"]) for k, v in BROKEN_TRUTH.items()
              if not s.loc[k, "lower"] <= v <= s.loc[k, "upper"]}
    assert not missed, f"90% intervals miss the truth: {missed}"
    assert s.loc["sigma", "median"] == pytest.approx(0.01, rel=0.3)
    assert np.isfinite(fit.predict(C=[1e26]).loc[0, "loss_median"])
