"""The public API survived the restructure: names, Fit methods and their parameters, and old fit files."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs

DATA = Path(__file__).parent / "data"

#: Every public Fit method (and property) of the flat layout, with its parameters in order.
FIT_METHODS = {
    "parameter_names": None, "groups": None,
    "for_group": ["self", "group"],
    "with_log_likelihood": ["self"],
    "summary": ["self", "prob"],
    "predict_draws": ["self", "N", "D", "C", "kind", "seed", "group", "**inputs"],
    "predict": ["self", "N", "D", "C", "prob", "kind", "seed", "group", "**inputs"],
    "allocate": ["self", "C", "prob", "flops_per_token", "method", "**fixed"],
    "allocate_draws": ["self", "C", "flops_per_token", "method", "**fixed"],
    "prob_below": ["self", "target", "N", "D", "C", "**inputs"],
    "compute_for_target": ["self", "target", "prob", "**kwargs"],
    "compare_plans": ["self", "plans", "prob", "**kwargs"],
    "data_for_overfitting": ["self", "N", "max_penalty", "prob"],
    "compare_groups": ["self", "N", "D", "C", "prob", "**inputs"],
    "rank_groups": ["self", "N", "D", "C", "prob", "**inputs"],
    "group_offsets": ["self", "reference", "prob"],
    "observed_ranges": ["self"],
    # issue 16 added keywords at the end (hardware=, next_runs=): old calls are unchanged
    "report": ["self", "path", "budgets", "target_loss", "plans", "prob", "title", "compare_with", "**kwargs"],
    "save": ["self", "path"],
    "discrepancy_draws": ["self", "inputs"],
    "_repr_html_": ["self"],
}


def _parameters(func) -> list[str]:
    out = []
    for p in inspect.signature(func).parameters.values():
        out.append(("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else "") + p.name)
    return out


def test_top_level_names():
    for name in ("load_runs", "fit", "fit_separately", "load_fit", "load_law", "list_laws", "law_names", "compare",
                 "backtest", "sbc", "simulate", "Fit", "Runs", "LawSpec", "Diagnostics", "Backtest", "SBCResult",
                 "__version__"):
        assert hasattr(bs, name), name
    assert set(bs.__all__) <= set(dir(bs))
    for name in ("list", "load", "info", "names", "path", "cache_dir", "synthetic"):
        assert callable(getattr(bs.datasets, name)), name
    for name in ("allocate", "allocate_draws", "prob_below", "compute_for_target", "compare_plans",
                 "interval_columns", "DecisionWarning"):
        assert hasattr(bs.decisions, name), name
    for name in ("frontier", "frontier_draws", "frontier_exponents", "data_for_overfitting", "to_s_min"):
        assert callable(getattr(bs.kaplan, name)), name
    from bayes_scaling import plots

    assert {"plot_fit", "plot_isoflop", "plot_frontier", "plot_posterior", "plot_prior_posterior", "plot_ppc",
            "plot_residuals", "plot_families"} <= set(plots.__all__)


@pytest.mark.parametrize("name", sorted(FIT_METHODS))
def test_every_fit_method_keeps_its_parameters(name):
    attr = inspect.getattr_static(bs.Fit, name)
    if FIT_METHODS[name] is None:
        assert isinstance(attr, property)
    else:
        assert _parameters(getattr(bs.Fit, name)) == FIT_METHODS[name]


def test_fit_keeps_its_old_keywords():
    params = inspect.signature(bs.fit).parameters
    assert list(params)[:2] == ["runs", "law"] and params["law"].default == "chinchilla"
    for name in ("priors", "likelihood", "seed", "discrepancy", "drop_first", "log_likelihood"):
        assert name in params
    from bayes_scaling.posterior.inference import SAMPLER_KEYWORDS, STRUCTURE_KEYWORDS

    old = {"draws", "tune", "chains", "progress", "sampler", "target_accept", "adaptation", "cores", "pooled",
           "run_effect", "group_scale", "run_scale", "run_centered"}
    assert old | {"remedy", "warm_start", "start"} == set(SAMPLER_KEYWORDS) | set(STRUCTURE_KEYWORDS)


def test_cli_entry_point_and_exit_codes():
    from bayes_scaling import cli

    assert (cli.EXIT_OK, cli.EXIT_INVALID_INPUT, cli.EXIT_DIAGNOSTICS) == (0, 2, 3)
    assert callable(cli.app)


def test_a_fit_saved_by_the_flat_layout_loads_and_predicts_the_same():
    """tests/data/fit_format1_chinchilla.nc was written before the restructure (commit ea948cb)."""
    fit = bs.load_fit(DATA / "fit_format1_chinchilla.nc")
    assert isinstance(fit, bs.Fit) and fit.law.name == "chinchilla" and len(fit.runs) == 60
    assert fit.diagnostics.verdict == "warn" and fit.settings["seed"] == 7
    saved = pd.read_csv(DATA / "fit_format1_chinchilla_predict.csv")
    now = fit.predict(N=saved["N"].to_numpy(), D=saved["D"].to_numpy())
    for col in ("loss_median", "loss_lower", "loss_upper", "decades_beyond_data"):
        np.testing.assert_allclose(now[col].to_numpy(), saved[col].to_numpy(), rtol=1e-12, err_msg=col)
    assert fit.allocate(1e24)["N_opt_median"].iloc[0] > 0  # decisions work on it too
