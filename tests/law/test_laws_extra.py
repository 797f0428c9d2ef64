"""The data-constrained (Muennighoff et al. 2023) and broken (Caballero et al. 2022) law specs:
they load, they mean what the papers mean (numpy evaluation against a hand-written
implementation of the published formula) and their default priors give finite losses."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import log_grid
from bayes_scaling.law.formula import NUMPY_OPS, Quantity, pytensor_ops

NEW_LAWS = ("data_constrained", "broken")

# huggingface/datablations README "Parametric Fit": [a, b, e, alpha, beta, rd_star, rn_star]
MUENNIGHOFF = dict(zip(["a", "b", "e", "alpha", "beta", "rd_star", "rn_star"],
                       [6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596, 15.387756, 5.309743]))


def _load(name):
    with warnings.catch_warnings():  # data_constrained uses '-': "not provably positive"
        warnings.simplefilter("ignore", UserWarning)
        return bs.load_law(name)


def _law_value(law, params, inputs, ops=NUMPY_OPS):
    """The law's value as the package evaluates posterior draws (predict.py): log space."""
    env = {k: Quantity.of_value(float(v), ops, positive=True) for k, v in params.items()}
    for sym, col in law.inputs.items():
        env[sym] = Quantity.of_log(np.log(np.asarray(inputs[col], dtype=float)), ops)
    return law.formula.log_value(env, ops)


def muennighoff_loss(N, D, U, *, A, B, E, alpha, beta, rd_star, rn_star):
    """Muennighoff et al. 2023 (Section 3), written as in the datablations README (numpy)."""
    G = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta))

    def d_to_n(d):  # the Chinchilla compute-optimal N whose optimal data is d
        return (d * G) ** (beta / alpha) * G

    RD = np.maximum(D / U - 1, 0)
    UN = np.minimum(N, d_to_n(U))
    RN = np.maximum(N / UN - 1, 0)
    return (E + A / (UN + UN * rn_star * (1 - np.exp(-RN / rn_star))) ** alpha
            + B / (U + U * rd_star * (1 - np.exp(-RD / rd_star))) ** beta)


def bnsl_one_break(x, *, a, b, c0, c1, d1, f1):
    """Caballero et al. 2022, Eq. 1 with n = 1: y = a + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1)."""
    return a + b * x ** (-c0) * (1 + (x / d1) ** (1 / f1)) ** (-c1 * f1)


# points on both sides of N_opt(U) (~U/20 for the published values) and from 1 to 1000 epochs
POINTS = pd.DataFrame({
    "N": [6.34e9, 8.67e9, 1.465e8, 1.465e8, 7.1e6, 2.81e9, 4.2465e9, 1e11],
    "D": [242e9, 178e9, 1.5e9, 1.74e11, 1e8, 3.6e10, 8.4e10, 2e12],
    "U": [25e9, 25e9, 1e8, 1e8, 1e8, 1.5e9, 8.4e10, 2e12],
})


def test_new_laws_load_and_are_listed():
    names = bs.law_names()
    assert set(NEW_LAWS) <= set(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        listed = {law.name: law for law in bs.list_laws()}
    for name in NEW_LAWS:
        law = listed[name]
        assert law.citation and law.formula.names == set(law.parameters) | set(law.inputs)
    assert listed["data_constrained"].inputs == {"N": "N", "D": "D", "U": "U"}
    assert listed["broken"].inputs == {"C": "C"}
    assert set(listed["broken"].parameters) == {"a", "b", "c0", "c1", "d1", "f1"}


def test_positivity_warning_only_for_data_constrained():
    with pytest.warns(UserWarning, match="not provably positive"):
        bs.load_law("data_constrained")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bs.load_law("broken")  # all terms positive: evaluated fully in log space


def test_muennighoff_preset_resolves_to_the_published_constants():
    law = _load("data_constrained").with_priors("muennighoff2023")
    p = {k: v.prior for k, v in law.parameters.items()}
    assert p["A"].on == "log" and np.isclose(p["A"].params["mu"], MUENNIGHOFF["a"], atol=1e-4)
    assert np.isclose(p["B"].params["mu"], MUENNIGHOFF["b"], atol=1e-4)
    assert np.isclose(p["E"].params["mu"], MUENNIGHOFF["e"], atol=1e-4)
    for name in ("alpha", "beta"):
        assert np.isclose(np.exp(p[name].params["mu"]), MUENNIGHOFF["alpha"])
    assert np.isclose(np.exp(p["RD_star"].params["mu"]), MUENNIGHOFF["rd_star"])
    assert np.isclose(np.exp(p["RN_star"].params["mu"]), MUENNIGHOFF["rn_star"])
    assert law.prior_source == "muennighoff2023"


@pytest.mark.parametrize("params", [
    # the published C4 fit (alpha = beta); N_opt(U) = U (A/B)^(1/alpha) ~ U/20
    {"A": np.exp(MUENNIGHOFF["a"]), "B": np.exp(MUENNIGHOFF["b"]), "E": np.exp(MUENNIGHOFF["e"]),
     "alpha": MUENNIGHOFF["alpha"], "beta": MUENNIGHOFF["beta"], "RD_star": MUENNIGHOFF["rd_star"],
     "RN_star": MUENNIGHOFF["rn_star"]},
    # untied exponents (the notebook's untied C4 fit) and other repetition constants
    {"A": np.exp(5.9577184), "B": np.exp(7.9145365), "E": np.exp(0.63032365), "alpha": 0.33480313,
     "beta": 0.38289225, "RD_star": 3.0, "RN_star": 40.0},
])
def test_data_constrained_matches_the_published_formula(params):
    law = _load("data_constrained")
    got = np.exp(_law_value(law, params, POINTS))
    want = muennighoff_loss(POINTS["N"].to_numpy(), POINTS["D"].to_numpy(), POINTS["U"].to_numpy(),
                            A=params["A"], B=params["B"], E=params["E"], alpha=params["alpha"],
                            beta=params["beta"], rd_star=params["RD_star"], rn_star=params["RN_star"])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # both branches of min(N, N_opt(U)) are exercised
    alpha, beta = params["alpha"], params["beta"]
    g = ((alpha * params["A"]) / (beta * params["B"])) ** (1 / (alpha + beta))
    n_opt = (POINTS["U"] * g) ** (beta / alpha) * g
    assert (POINTS["N"] < n_opt).any() and (POINTS["N"] > n_opt).any()


def test_data_constrained_reproduces_the_readme_example():
    """datablations README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256440889984477 and
    scaling_law(8.67e9, 178e9, 25e9) = 2.2269634075087867 (Figure 1, right)."""
    law = _load("data_constrained")
    m = MUENNIGHOFF
    params = {"A": np.exp(m["a"]), "B": np.exp(m["b"]), "E": np.exp(m["e"]), "alpha": m["alpha"],
              "beta": m["beta"], "RD_star": m["rd_star"], "RN_star": m["rn_star"]}
    got = np.exp(_law_value(law, params, {"N": [6.34e9, 8.67e9], "D": [242e9, 178e9], "U": [25e9, 25e9]}))
    np.testing.assert_allclose(got, [2.2256440889984477, 2.2269634075087867], rtol=1e-9)


def test_data_constrained_reduces_to_chinchilla_without_repetition_or_excess_parameters():
    law = _load("data_constrained")
    params = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28, "RD_star": 15.0,
              "RN_star": 5.0}
    n = np.array([1e8, 1e9, 7e10])
    d = 1e4 * n  # one epoch (D = U) and N far below N_opt(U)
    got = np.exp(_law_value(law, params, {"N": n, "D": d, "U": d}))
    np.testing.assert_allclose(got, 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28, rtol=1e-12)


def test_data_constrained_pytensor_backend_agrees_with_numpy():
    import pytensor

    law = _load("data_constrained")
    params = {"A": 520.8, "B": 1487.7, "E": 1.87, "alpha": 0.33, "beta": 0.38, "RD_star": 15.4,
              "RN_star": 5.3}
    want = _law_value(law, params, POINTS)
    got = pytensor.function([], _law_value(law, params, POINTS, pytensor_ops()))()
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("params", [
    {"a": 1.7, "b": 100.0, "c0": 0.1, "c1": 0.3, "d1": 1e20, "f1": 0.5},
    {"a": 0.2, "b": 3e3, "c0": 0.35, "c1": 0.05, "d1": 3e9, "f1": 1.2},
])
def test_broken_matches_the_published_formula(params):
    law = _load("broken")
    x = log_grid(1e6, 1e25, 12)
    got = np.exp(_law_value(law, params, {"C": x}))
    np.testing.assert_allclose(got, bnsl_one_break(x, **params), rtol=1e-12)
    # below and above the break the local slopes of the reducible part are -c0 and -(c0 + c1)
    lo, hi = params["d1"] * np.array([1e-6, 1e-6 * 1.01]), params["d1"] * np.array([1e6, 1e6 * 1.01])
    for xs, slope in ((lo, -params["c0"]), (hi, -params["c0"] - params["c1"])):
        red = np.exp(_law_value(law, params, {"C": xs})) - params["a"]
        assert np.diff(np.log(red))[0] / np.diff(np.log(xs))[0] == pytest.approx(slope, abs=1e-3)


def _prior_predictive_runs(name):
    if name == "broken":
        frame = pd.DataFrame({"C": log_grid(1e17, 1e24, 20)})
    else:
        grid = [(n, u * e, u) for n in log_grid(1e7, 1e10, 4) for u in log_grid(1e8, 1e11, 4)
                for e in (1.0, 4.0, 40.0)]
        frame = pd.DataFrame(grid, columns=["N", "D", "U"])
    frame["loss"] = 3.0  # any plausible response
    return bs.load_runs(frame)


@pytest.mark.parametrize("name", NEW_LAWS)
def test_default_priors_give_finite_plausible_prior_predictive(name):
    import pymc as pm

    from bayes_scaling.pymc_model.build import build_model

    law = _load(name)
    model = build_model(law, _prior_predictive_runs(name))
    prior = pm.sample_prior_predictive(draws=300, model=model, random_seed=5)
    loss = np.exp(prior["prior_predictive"][f"log_{law.response}_obs"].values.ravel())
    assert np.isfinite(loss).all() and (loss > 0).all()
    inside = np.mean((loss > 0.5) & (loss < 20))
    assert inside > 0.8, f"only {inside:.0%} of prior predictive losses within 0.5-20 nats"
