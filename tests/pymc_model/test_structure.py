"""Families and checkpoints: structure resolution, the model's shape, predictions per group (no sampler)."""

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.checkpoints import drop_warmup
from bayes_scaling.data.synthetic import checkpoint_design, chinchilla_design
from bayes_scaling.pymc_model.structure import Structure, resolve_structure
from tests.helpers import CHINCHILLA_TRUTH, simulate_checkpoints

NS = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}


def _families(n=20):
    frames = []
    for i, (g, p) in enumerate({"a": dict(E=1.7, alpha=0.30), "b": dict(E=1.8, alpha=0.36)}.items()):
        f = bs.simulate("chinchilla", {**CHINCHILLA_TRUTH, **p}, chinchilla_design(n, seed=i), noise=0.01, seed=i)
        frames.append(f.assign(group=g))
    return bs.load_runs(pd.concat(frames, ignore_index=True))


def test_structure_resolution_and_errors():
    runs, law = _families(), bs.load_law("chinchilla")
    s = resolve_structure(runs, law, ["alpha", "E"])
    assert s.varying == ("alpha", "E") and s.groups == ("a", "b") and not s.run_effect
    assert resolve_structure(runs, law, "all").varying == tuple(law.parameters)
    assert resolve_structure(runs, law, []).plain and resolve_structure(runs, law, None).plain
    with pytest.raises(ValueError, match=r"pooled names \['gamma'\] are not parameters of law 'chinchilla'"):
        resolve_structure(runs, law, ["gamma"])
    with pytest.raises(ValueError, match="needs a 'group' column"):
        resolve_structure(bs.load_runs(runs.data.drop(columns="group")), law, ["alpha"])
    one = bs.load_runs(runs.data.assign(group="a"))
    with pytest.raises(ValueError, match="at least 2 groups"):
        resolve_structure(one, law, ["alpha"])
    with pytest.raises(ValueError, match="run_effect=True needs a 'run' column"):
        resolve_structure(runs, law, None, run_effect=True)
    assert Structure.from_dict(s.to_dict()) == s


def test_checkpoints_turn_on_run_effect_and_drop_warmup():
    frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(4, 10), seed=1)
    runs = bs.load_runs(frame)
    s = resolve_structure(runs, bs.load_law("kaplan_ns"))
    assert s.run_effect and len(s.runs) == 4
    kept = drop_warmup(runs, 0.2)
    assert len(kept) == 32 and kept.dropped == 8
    # the two smallest steps of every run went; labels and order of the rest kept
    assert kept.data.groupby("run")["step"].min().gt(runs.data["step"].min()).all()
    assert list(kept.data.index) == sorted(kept.data.index)
    with pytest.raises(ValueError, match="fraction must be in"):
        drop_warmup(runs, 1.0)
    with pytest.raises(ValueError, match="needs column 'step'"):  # checkpoints without steps: no order
        drop_warmup(bs.load_runs(frame.drop(columns="step")), 0.1)


def test_one_row_per_run_needs_no_step_and_gets_no_run_effect():
    """A final-loss table keyed by run name (the datablations dataset) fits as it is."""
    frame = _families(6).data.reset_index(drop=True)
    runs = bs.load_runs(frame.assign(run=[f"r{i}" for i in frame.index]))
    assert drop_warmup(runs, 0.1) is runs
    assert not resolve_structure(runs, bs.load_law("chinchilla")).run_effect


def test_hierarchical_model_has_group_and_run_dimensions():
    from bayes_scaling.pymc_model.build import build_model

    runs = _families(10)
    law = bs.load_law("chinchilla")
    model = build_model(law, runs, structure=resolve_structure(runs, law, ["alpha", "E"]))
    names = set(model.named_vars)
    assert {"alpha_mu", "alpha_tau", "alpha_z", "E_mu", "E_tau", "E_z", "beta", "A", "B"} <= names
    assert model.named_vars_to_dims["alpha"] == ("group",)
    assert "group" not in model.named_vars_to_dims.get("A", ())  # A stays shared on its natural scale
    frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(3, 5), seed=2)
    r = bs.load_runs(frame)
    m2 = build_model(bs.load_law("kaplan_ns"), r, structure=resolve_structure(r, bs.load_law("kaplan_ns")))
    assert m2.named_vars_to_dims["run_effect"] == ("run",) and "run_sd" in m2.named_vars


def test_run_offsets_are_centred_when_runs_have_many_checkpoints():
    from bayes_scaling.pymc_model.build import build_model
    from bayes_scaling.pymc_model.structure import CENTERED_MIN_ROWS

    law = bs.load_law("kaplan_ns")
    few = bs.load_runs(simulate_checkpoints("kaplan_ns", NS, checkpoint_design(3, CENTERED_MIN_ROWS - 1), seed=2))
    many = bs.load_runs(simulate_checkpoints("kaplan_ns", NS, checkpoint_design(3, CENTERED_MIN_ROWS), seed=2))
    assert not resolve_structure(few, law).run_centered and resolve_structure(many, law).run_centered
    assert not resolve_structure(many, law, run_centered=False).run_centered
    assert not resolve_structure(many, law, run_effect=False).run_centered  # no offsets, nothing to centre
    st = resolve_structure(many, law)
    assert st.signature() != resolve_structure(many, law, run_centered=False).signature()  # compile-cache key
    assert Structure.from_dict(st.to_dict()) == st
    centred = build_model(law, many, structure=st)
    assert "run_z" not in centred.named_vars and centred["run_effect"] in centred.free_RVs
    plain = build_model(law, many, structure=resolve_structure(many, law, run_centered=False))
    assert "run_z" in plain.named_vars and plain["run_effect"] not in plain.free_RVs


@pytest.mark.parametrize("centred", [False, True])
def test_hierarchical_logp_matches_log_likelihood(centred):
    """Our numpy pointwise log-likelihood (groups + run effects) equals PyMC's for the same point."""
    import xarray as xr

    from bayes_scaling.posterior.predict import log_likelihood
    from bayes_scaling.pymc_model.build import build_model

    frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(4, 6), seed=3)
    frame["group"] = np.where(frame["N"] > 3e7, "big", "small")
    runs = bs.load_runs(frame)
    law = bs.load_law("kaplan_ns")
    st = resolve_structure(runs, law, ["alpha_N"], run_effect=True, run_centered=centred)
    assert st.run_centered == centred
    model = build_model(law, runs, "student_t", st)
    point = model.initial_point()
    rng = np.random.default_rng(0)
    point = {k: v + 0.1 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    args = [point[v.name] for v in model.value_vars]
    outs = model.replace_rvs_by_values([model[v] for v in ("alpha_N", "alpha_S", "Nc", "Sc", "sigma", "nu",
                                                           "run_effect")])
    values = model.compile_fn(outs, inputs=model.value_vars, point_fn=False, on_unused_input="ignore")(*args)
    post = xr.Dataset({k: (("chain", "draw", *d), np.asarray(v)[None, None])
                       for (k, d), v in zip([("alpha_N", ("group",)), ("alpha_S", ()), ("Nc", ()), ("Sc", ()),
                                             ("sigma", ()), ("nu", ()), ("run_effect", ("run",))], values)},
                      coords={"group": list(st.groups), "run": list(st.runs)})
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(post)
    ours = log_likelihood(law, tree, runs, "student_t", st)["log_loss_obs"].values[0, 0]
    theirs = model.compile_fn(model.logp(vars=[model["log_loss_obs"]], sum=False)[0], inputs=model.value_vars,
                              point_fn=False, on_unused_input="ignore")(*args)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_fit_separately_needs_groups():
    runs = bs.load_runs(bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(20), seed=0))
    with pytest.raises(ValueError, match="needs a 'group' column"):
        bs.fit_separately(runs)


def test_normal_noise_integrates_the_run_offsets_out_exactly():
    """With Normal noise the model's log density is the runs' joint Normal density
    (covariance sigma^2 I + run_sd^2 11'), with no per-run offsets left to sample."""
    from scipy import stats

    from bayes_scaling.pymc_model.build import build_model, collapsed

    runs = bs.load_runs(simulate_checkpoints("kaplan_ns", NS, checkpoint_design(4, 6), seed=3))
    law = bs.load_law("kaplan_ns")
    st = resolve_structure(runs, law)
    assert collapsed(st, "normal") and not collapsed(st, "student_t")
    assert not collapsed(resolve_structure(runs, law, run_effect=False), "normal")
    model = build_model(law, runs, "normal", st)
    assert sorted(v.name for v in model.free_RVs) == ["alpha_N", "alpha_S", "log_Nc_ref", "log_Sc_ref", "run_sd",
                                                      "sigma"]
    rng = np.random.default_rng(0)
    point = {k: v + 0.1 * rng.standard_normal(np.shape(v)) for k, v in model.initial_point().items()}
    args = [point[v.name] for v in model.value_vars]
    names = ["alpha_N", "alpha_S", "Nc", "Sc", "sigma", "run_sd"]
    graphs = model.replace_rvs_by_values([model.potentials[0], *[model[n] for n in names]])
    ours, *values = model.compile_fn(graphs, inputs=model.value_vars, point_fn=False,
                                     on_unused_input="ignore")(*args)
    p = dict(zip(names, values))
    d = runs.data
    mu = np.log((p["Nc"] / d["N"].to_numpy()) ** p["alpha_N"] + (p["Sc"] / d["step"].to_numpy()) ** p["alpha_S"])
    y, ids = np.log(d["loss"].to_numpy()), d["run"].astype(str).to_numpy()
    brute = sum(stats.multivariate_normal(mu[ids == r], p["sigma"] ** 2 * np.eye((ids == r).sum())
                                          + p["run_sd"] ** 2).logpdf(y[ids == r]) for r in np.unique(ids))
    assert float(ours) == pytest.approx(brute, rel=1e-10)


def test_run_offsets_are_drawn_from_their_exact_conditional():
    import xarray as xr

    from bayes_scaling.posterior.predict import run_effect_draws

    runs = bs.load_runs(simulate_checkpoints("kaplan_ns", NS, checkpoint_design(3, 8), run_sd=0.03, noise=0.01,
                                             seed=4))
    law = bs.load_law("kaplan_ns")
    st = resolve_structure(runs, law)
    fixed = {**NS, "sigma": 0.01, "run_sd": 0.03}
    shape = (2, 20000)  # every draw at the same parameters: the offsets' spread is the conditional's
    post = xr.Dataset({k: (("chain", "draw"), np.full(shape, v)) for k, v in fixed.items()})
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(post)
    draws = run_effect_draws(law, tree, runs, st, seed=1)
    assert draws.dims == ("chain", "draw", "run") and list(draws["run"].values) == list(st.runs)
    d = runs.data
    z = np.log(d["loss"].to_numpy()) - np.log((NS["Nc"] / d["N"].to_numpy()) ** NS["alpha_N"]
                                              + (NS["Sc"] / d["step"].to_numpy()) ** NS["alpha_S"])
    for r in st.runs:  # Normal prior N(0, tau^2), n Normal observations: precision n/s^2 + 1/t^2
        k = d["run"].astype(str).to_numpy() == r
        precision = k.sum() / 0.01**2 + 1 / 0.03**2
        got = draws.sel(run=r).values.ravel()
        assert got.mean() == pytest.approx(z[k].sum() / 0.01**2 / precision, abs=4 * precision**-0.5 / 200)
        assert got.std() == pytest.approx(precision**-0.5, rel=0.02)
