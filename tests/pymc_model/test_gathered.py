"""The law on each input's distinct values (bayes_scaling.pymc_model.gathered): which inputs are
gathered, the arithmetic of gathered values, and the model built this way against the row-by-row model
(the same log density and gradient) for a two-term and a three-term law on checkpoint tables."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bayes_scaling as bs
from bayes_scaling.data.synthetic import checkpoint_design
from bayes_scaling.law.spec import load_law
from bayes_scaling.pymc_model import build, gathered
from bayes_scaling.pymc_model.gathered import Gathered
from bayes_scaling.pymc_model.structure import resolve_structure
from tests.helpers import CHINCHILLA_TRUTH


def test_only_large_tables_with_few_distinct_values_are_gathered():
    rng = np.random.default_rng(0)
    few = np.repeat(np.log(np.arange(1.0, 41.0)), 60)  # 2,400 rows, 40 values
    many = rng.normal(size=2400)
    got = gathered.gathered_inputs({"N": few, "D": many})
    assert list(got) == ["N"]
    u, idx = got["N"]
    assert len(u) == 40 and idx.dtype == np.int64 and np.array_equal(u[idx], few)
    assert gathered.gathered_inputs({"N": few[:gathered.MIN_ROWS - 1]}) == {}
    assert gathered.signature(got) == "|gather:N=40" and gathered.signature({}) == ""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.floats(0.1, 3.0))
def test_gathered_arithmetic_equals_the_same_arithmetic_on_rows(values, scalar):
    u, v = np.array(values), np.array([0.5, -1.0])
    i, j = np.array([0, 2, 1, 1, 0]), np.array([1, 0, 0, 1, 1])
    a, b, c = Gathered(u, i, "N"), Gathered(v, j, "D"), Gathered(u + 1.0, i, "N")
    rows = np.linspace(-1.0, 1.0, 5)
    cases = [(scalar * a - 1.0, scalar * u[i] - 1.0), (np.float64(scalar) / (a * a + 1.0), scalar / (u[i] ** 2 + 1)),
             (a + c, 2 * u[i] + 1.0), (-(a ** 2.0), -(u[i] ** 2)), (scalar ** a, scalar ** u[i])]
    for got, want in cases:
        assert isinstance(got, Gathered) and got.key == "N"
        np.testing.assert_allclose(got.rows(), want)
    mixed = ((a + b, u[i] + v[j]), (a * rows, u[i] * rows), (rows - a, rows - u[i]),
             (b / (a + 4.0), v[j] / (u[i] + 4.0)))
    for got, want in mixed:
        assert not isinstance(got, Gathered)
        np.testing.assert_allclose(got, want)


def test_logaddexp_of_two_inputs_is_one_log_per_row_without_overflow():
    """Exact for every row within ~700 nats of the largest term; a row where both terms are further
    below is -inf (a point of no posterior mass: the law's terms would span 10^300 over the data)."""
    import pytensor.tensor as pt

    ops = gathered.gathered_ops()
    u, v = np.array([1.0, 800.0, 300.0]), np.array([799.0, -800.0])
    i, j = np.array([0, 1, 2, 1, 2]), np.array([1, 0, 0, 1, 1])
    got = ops.logaddexp(Gathered(pt.as_tensor(u), i, "N"), Gathered(pt.as_tensor(v), j, "D")).eval()
    np.testing.assert_allclose(got[1:], np.logaddexp(u[i], v[j])[1:], rtol=1e-14)
    assert got[0] == -np.inf  # 1 and -800, both more than 745 nats below 800
    same = ops.logaddexp(Gathered(pt.as_tensor(u), i, "N"), 0.5)  # with a scalar: still on the distinct values
    assert isinstance(same, Gathered)
    np.testing.assert_allclose(same.rows().eval(), np.logaddexp(u[i], 0.5))


def _checkpoints(law: str):
    design = checkpoint_design(40, 60)
    if law == "kaplan_ns":
        truth = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
    else:
        design = design.assign(D=design["step"] * 2e5)
        truth = CHINCHILLA_TRUTH
    frame = bs.simulate(law, truth, design, noise=0.01, seed=1, checkpoints={"run_sd": 0.03})
    return bs.load_runs(frame)


@pytest.mark.parametrize("law_name, likelihood", [("kaplan_ns", "student_t"), ("chinchilla", "normal")])
def test_the_gathered_model_has_the_row_by_row_models_density(monkeypatch, law_name, likelihood):
    """Same log density and gradient at the initial point and two others, to 1e-10."""
    import pytensor

    runs = _checkpoints(law_name)
    law = load_law(law_name)
    structure = resolve_structure(runs, law, None, None)
    assert build.data_signature(law, runs).startswith("|gather:")
    out = []
    for min_rows in (gathered.MIN_ROWS, 10**9):
        monkeypatch.setattr(gathered, "MIN_ROWS", min_rows)
        model = build.build_model(law, runs, likelihood, structure)
        assert (min_rows < 10**9) == any(name.endswith("_u") for name in model.named_vars)
        logp = model.logp()
        f = pytensor.function(model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)],
                              mode="FAST_COMPILE")
        point = model.initial_point()
        points = [point] + [{k: v + 0.05 * (s + 1) for k, v in point.items()} for s in range(2)]
        out.append([np.concatenate([np.ravel(a) for a in f(*[p[v.name] for v in model.value_vars])])
                    for p in points])
    for gathered_values, row_values in zip(*out):
        np.testing.assert_allclose(gathered_values, row_values, rtol=1e-10, atol=1e-8)
    assert build.data_signature(law, runs) == ""  # MIN_ROWS is 10^9 here: nothing gathered
