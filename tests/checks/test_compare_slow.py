"""bs.compare with the real sampler (slow): the true law wins on synthetic data, on PSIS-LOO and on
leave-largest-out; a gross outlier under a Normal likelihood raises the Pareto-k warning."""

import re
import warnings

import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design
from tests.helpers import CHINCHILLA_TRUTH

pytestmark = [pytest.mark.slow,
              # short chains (small, fast tests) sometimes WARN on ESS/R-hat; not what is tested here
              pytest.mark.filterwarnings("ignore::bayes_scaling.SamplerWarning")]

SEED = 4
SAMPLER = dict(draws=500, tune=1000, chains=4, seed=SEED, progress=False)
# kaplan_c and broken (when shipped) are laws of C alone: they cannot tell N from D
LAWS = ["chinchilla", "kaplan_nd", "kaplan_c"] + (["broken"] if "broken" in bs.law_names() else [])


@pytest.fixture(scope="module")
def synthetic_frame():
    return bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(80, seed=SEED), noise=0.01, seed=SEED)


@pytest.fixture(scope="module")
def comparison(synthetic_frame):
    runs = bs.load_runs(synthetic_frame)
    fits = [bs.fit(runs, law=law, **SAMPLER) for law in LAWS]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.ComparisonWarning)
        out = bs.compare(fits)  # holdout=0.2: refit on the 64 smallest-C runs, score the 16 largest
    return out, [w for w in caught if issubclass(w.category, bs.ComparisonWarning)]


def test_true_law_ranks_first_on_loo_and_on_leave_largest_out(comparison):
    out, _ = comparison
    assert set(out.index) == set(LAWS)
    assert out.index[0] == "chinchilla" and out.loc["chinchilla", "rank"] == 0
    assert out.loc["chinchilla", "rank_llo"] == 0
    others = out.drop(index="chinchilla")
    assert (others["d_loo"] < -2 * others["dse"]).all(), out.to_string()
    assert (others["d_llo"] < 0).all(), out.to_string()
    assert out.loc["chinchilla", "weight"] > 0.9
    assert out.loc["chinchilla", "n_bad_pareto_k"] == 0
    assert out.attrs["holdout"]["n_heldout"] == 16 and out.attrs["holdout"]["n_train"] == 64
    assert set(out.attrs["refit_diagnostics"]) == set(LAWS)


def test_broken_law_ranks_below_chinchilla(comparison):
    if "broken" not in bs.law_names():
        pytest.skip("models/broken.toml is not shipped yet")
    out, _ = comparison
    assert out.loc["broken", "rank"] > 0 and out.loc["broken", "rank_llo"] > 0


def test_no_pareto_k_warning_for_the_true_law_on_clean_data(comparison):
    _, caught = comparison
    assert not [w for w in caught if "'chinchilla'" in str(w.message)]


def test_pareto_k_warning_for_a_gross_outlier_under_a_normal_likelihood(synthetic_frame):
    frame = synthetic_frame.copy()
    frame.loc[10, "loss"] *= 1.3  # 30% off, against 1% noise
    runs = bs.load_runs(frame)
    normal = bs.fit(runs, law="chinchilla", likelihood="normal", **SAMPLER)
    robust = bs.fit(runs, law="chinchilla", likelihood="student_t", **SAMPLER)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.ComparisonWarning)
        out = bs.compare([normal, robust], refit=False)
    messages = [str(w.message) for w in caught if issubclass(w.category, bs.ComparisonWarning)]
    pattern = r"'chinchilla \(normal\)': Pareto k > 0\.\d+ at \d+ of 80 runs, row\(s\) (.*, )?10 \(k="
    assert any(re.search(pattern, m) for m in messages), messages
    assert 10 in out.attrs["bad_pareto_k"]["chinchilla (normal)"]
    assert out.loc["chinchilla (normal)", "n_bad_pareto_k"] >= 1
    assert out.index[0] == "chinchilla (student_t)"  # the robust likelihood predicts the runs better
