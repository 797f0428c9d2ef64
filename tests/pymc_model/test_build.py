"""The PyMC model: priors carried exactly through the reference-scale parameterization,
and default priors that give plausible LM losses (prior predictive check)."""

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design, log_grid
from bayes_scaling.pymc_model.build import build_model, ref_name
from tests.helpers import CHINCHILLA_TRUTH


def _runs(law_name: str) -> bs.Runs:
    n = log_grid(1e7, 1e10, 6)
    grid = pd.DataFrame([(a, b) for a in n for b in log_grid(1e8, 1e11, 6)], columns=["N", "D"])
    if law_name == "kaplan_ns":
        grid = grid.rename(columns={"D": "step"})
        grid["step"] = grid["step"] / 1e5
    if law_name == "kaplan_c":
        grid["C"] = 6 * grid["N"] * grid["D"]
    frame = grid.copy()
    frame["loss"] = 2.0 + 100 / grid["N"] ** 0.3  # any plausible response
    if law_name == "kaplan_bcrit":
        frame["B_crit"] = 1e6 * (3.0 / frame["loss"]) ** 4
    return bs.load_runs(frame)


@pytest.mark.slow
def test_log_prior_of_preset_is_carried_exactly_to_the_natural_parameter():
    import pymc as pm

    law = bs.load_law("chinchilla").with_priors("hoffmann2022")
    model = build_model(law, _runs("chinchilla"))
    assert ref_name("A") in model.named_vars and "A" in model.named_vars
    draws = pm.draw([model["A"], model["B"], model["alpha"]], draws=20000, random_seed=1)
    log_a, log_b, alpha = np.log(draws[0]), np.log(draws[1]), draws[2]
    # preset: log A ~ Normal(log 406.4, 0.5), independent of alpha, whatever N0 is
    assert abs(log_a.mean() - np.log(406.4)) < 0.02 and abs(log_a.std() - 0.5) < 0.02
    assert abs(log_b.mean() - np.log(410.7)) < 0.02 and abs(log_b.std() - 0.5) < 0.02
    assert abs(np.corrcoef(log_a, alpha)[0, 1]) < 0.03


@pytest.mark.slow
def test_critical_form_log_prior_is_exact():
    import pymc as pm

    law = bs.load_law("kaplan_nd").with_priors("kaplan2020")
    model = build_model(law, _runs("kaplan_nd"))
    nc, alpha = pm.draw([model["Nc"], model["alpha_N"]], draws=20000, random_seed=2)
    assert abs(np.log(nc).mean() - np.log(6.4e13)) < 0.06 and abs(np.log(nc).std() - 2.0) < 0.05
    assert abs(np.corrcoef(np.log(nc), alpha)[0, 1]) < 0.03


@pytest.mark.slow
@pytest.mark.parametrize("law_name", ["chinchilla", "kaplan_n", "kaplan_d", "kaplan_c", "kaplan_nd",
                                      "kaplan_ns"])
def test_default_priors_give_plausible_losses(law_name):
    """Prior predictive check: most prior draws of the loss at the data lie in 0.5-20 nats."""
    import pymc as pm

    law = bs.load_law(law_name)
    model = build_model(law, _runs(law_name))
    prior = pm.sample_prior_predictive(draws=400, model=model, random_seed=3)
    loss = np.exp(prior["prior_predictive"][f"log_{law.response}_obs"].values.ravel())
    inside = np.mean((loss > 0.5) & (loss < 20))
    assert inside > 0.85, f"only {inside:.0%} of prior predictive losses within 0.5-20 nats"
    assert np.median(loss) > 1.0 and np.median(loss) < 10


def test_model_has_reference_variables_and_natural_deterministics():
    law = bs.load_law("chinchilla")
    frame = bs.simulate(law, CHINCHILLA_TRUTH, chinchilla_design(30), seed=1)
    model = build_model(law, bs.load_runs(frame))
    free = {v.name for v in model.free_RVs}
    assert {"log_A_ref", "log_B_ref", "E", "alpha", "beta", "sigma", "nu"} == free
    assert {"A", "B"} <= {v.name for v in model.deterministics}
    n0 = model["log_N_0"].get_value()
    assert np.isclose(n0, np.log(frame["N"]).mean())


def test_normal_likelihood_has_no_nu():
    law = bs.load_law("chinchilla")
    frame = bs.simulate(law, CHINCHILLA_TRUTH, chinchilla_design(30), seed=1)
    model = build_model(law, bs.load_runs(frame), likelihood="normal")
    assert "nu" not in model.named_vars
    with pytest.raises(ValueError, match="likelihood must be one of"):
        build_model(law, bs.load_runs(frame), likelihood="cauchy")


def test_auto_likelihood_is_student_t_except_for_large_checkpoint_tables():
    from bayes_scaling.pymc_model.build import AUTO_NORMAL_MIN_ROWS, resolve_likelihood
    from bayes_scaling.pymc_model.structure import Structure

    runs_effect = Structure(run_effect=True, runs=("r0", "r1"))
    big = AUTO_NORMAL_MIN_ROWS
    assert resolve_likelihood("auto", None, 10 * big)[0] == "student_t"  # no run effects: nothing to integrate out
    assert resolve_likelihood("auto", Structure(), 10 * big)[0] == "student_t"
    assert resolve_likelihood("auto", runs_effect, big - 1)[0] == "student_t"
    chosen, why = resolve_likelihood("auto", runs_effect, big)
    assert chosen == "normal" and why.startswith("auto:") and "likelihood='student_t'" in why
    for given in ("student_t", "normal"):  # an explicit choice is kept whatever the size
        assert resolve_likelihood(given, runs_effect, 10 * big) == (given, "as requested")
    with pytest.raises(ValueError, match="likelihood must be one of .*'auto'.*got 'gaussian'"):
        resolve_likelihood("gaussian", None, 10)
    with pytest.raises(ValueError, match="got 'gaussian'"):  # fit() checks the name before any work
        bs.fit(pd.DataFrame({"N": [1.0]}), likelihood="gaussian")
