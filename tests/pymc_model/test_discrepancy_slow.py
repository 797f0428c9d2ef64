"""Real-sampler test (slow; runs in CI): the GP discrepancy on Epoch's backtest (issue 7's target)."""

import warnings

import pytest

import bayes_scaling as bs

pytestmark = pytest.mark.slow


def test_discrepancy_calibrates_epochs_backtest(epoch_frame):
    frame = epoch_frame.drop(epoch_frame["loss"].nlargest(5).index)  # as Epoch did
    runs = bs.load_runs(frame, N="Model Size", C="Training FLOP", loss="loss")
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.SamplerWarning)  # it must converge at its defaults
        bt = bs.backtest(runs, "chinchilla", split="compute", holdout=1e21, seed=1, baseline=False,
                         discrepancy="gp")
    ours = bt.summary.loc["bayes"]
    # 23 held-out runs, up to 1.1 decades beyond: the law alone covers 61% (benchmarks/README.md)
    assert ours["coverage"] >= 0.85, bt.table[["truth", "lower", "upper", "covered"]]
    assert ours["median_abs_rel_error"] < 0.0087  # the Huber + bootstrap baseline's median error
    fit = bt.fits["all"]
    assert fit.discrepancy is not None and fit.diagnostics.verdict == "pass"
    assert fit.settings["tune"] == 2000 and fit.settings["target_accept"] == 0.95
