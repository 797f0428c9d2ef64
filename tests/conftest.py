"""Shared fixtures: the shared data folder and mock (sampler-free) fits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# ../shared/data beside the checkout (CI has it there); BAYES_SCALING_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("BAYES_SCALING_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"shared data not available at {path}")
    return path


CHINCHILLA_TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def mock_posterior(law, runs, truth: dict, *, chains=4, draws=250, rel_sd=0.01, sigma=0.01, nu=10.0,
                   seed=0, likelihood="student_t", divergences=0):
    """A DataTree that looks like a sampled posterior centred on ``truth`` (no sampler)."""
    import xarray as xr

    from bayes_scaling.fit import complete_tree
    from bayes_scaling.model import ref_name

    rng = np.random.default_rng(seed)
    shape = (chains, draws)
    post = {}
    for name, p in law.parameters.items():
        post[name] = truth[name] * np.exp(rel_sd * rng.standard_normal(shape))
        if p.reference is not None:
            post[ref_name(name)] = np.log(post[name])  # stands in for the sampled variable
    post["sigma"] = sigma * np.exp(0.05 * rng.standard_normal(shape))
    if likelihood == "student_t":
        post["nu"] = nu * np.exp(0.05 * rng.standard_normal(shape))
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    diverging = np.zeros(shape, dtype=bool)
    diverging.flat[:divergences] = True
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(xr.Dataset({k: (("chain", "draw"), v) for k, v in post.items()},
                                               coords=coords))
    tree["sample_stats"] = xr.DataTree(xr.Dataset({"diverging": (("chain", "draw"), diverging)},
                                                  coords=coords))
    return complete_tree(tree, law, runs, likelihood)


def mock_fit(law_name="chinchilla", truth=None, *, n_runs=40, seed=0, likelihood="student_t", design=None,
             **kwargs):
    """A Fit around a mock posterior, on synthetic data from ``truth`` (on ``design``)."""
    import bayes_scaling as bs
    from bayes_scaling.diagnostics import diagnose
    from bayes_scaling.fit import Fit, package_versions
    from bayes_scaling.synthetic import chinchilla_design

    truth = truth or CHINCHILLA_TRUTH
    law = bs.load_law(law_name)
    design = chinchilla_design(n_runs, seed=seed) if design is None else design
    frame = bs.simulate(law, truth, design, noise=0.01, seed=seed)
    runs = bs.load_runs(frame)
    tree = mock_posterior(law, runs, truth, seed=seed, likelihood=likelihood, **kwargs)
    names = list(law.parameters) + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])
    return Fit(posterior=tree, runs=runs, law=law, likelihood=likelihood,
               settings={"sampler": "mock", "seed": seed}, diagnostics=diagnose(tree, names),
               versions=package_versions())


@pytest.fixture
def chinchilla_mock_fit():
    return mock_fit()


@pytest.fixture(scope="session")
def epoch_frame() -> pd.DataFrame:
    return pd.read_csv(shared_file("chinchilla_epoch", "svg_extracted_data.csv"))
