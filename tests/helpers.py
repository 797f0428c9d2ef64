"""Helpers of the tests: the shared data folder, and mock (sampler-free) posteriors and fits."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

# ../shared/data beside the checkout (CI has it there); BAYES_SCALING_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("BAYES_SCALING_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_file(name: str, file: str) -> Path:
    """The file of registered dataset ``name`` through the dataset loader, as a user gets it: the mirror
    beside the checkout (or ``$BAYES_SCALING_DATA``), else the loader's cache; sha256-checked. Tests never
    download (CI has no network): without a copy the test is skipped, saying how to get one."""
    from bayes_scaling import datasets
    from bayes_scaling.core.errors import DatasetUnavailableError

    try:
        path = datasets.path(name, data_home=SHARED_DATA if SHARED_DATA.is_dir() else None, download=False)
    except DatasetUnavailableError:
        pytest.skip(f"shared data {name!r} not in a mirror nor the loader's cache; "
                    f"python -c \"import bayes_scaling as bs; bs.datasets.path('{name}')\" downloads it")
    assert path.name == file, (path, file)
    return path


CHINCHILLA_TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def mock_posterior(law, runs, truth: dict, *, chains=4, draws=250, rel_sd=0.01, sigma=0.01, nu=10.0,
                   seed=0, likelihood="student_t", divergences=0):
    """A DataTree that looks like a sampled posterior centred on ``truth`` (no sampler)."""
    import xarray as xr

    from bayes_scaling.posterior.inference import complete_tree
    from bayes_scaling.pymc_model.build import ref_name

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
    from bayes_scaling.data.synthetic import chinchilla_design
    from bayes_scaling.posterior.diagnostics import diagnose
    from bayes_scaling.posterior.inference import package_versions

    truth = truth or CHINCHILLA_TRUTH
    law = bs.load_law(law_name)
    design = chinchilla_design(n_runs, seed=seed) if design is None else design
    frame = bs.simulate(law, truth, design, noise=0.01, seed=seed)
    runs = bs.load_runs(frame)
    tree = mock_posterior(law, runs, truth, seed=seed, likelihood=likelihood, **kwargs)
    names = list(law.parameters) + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])
    return bs.Fit(posterior=tree, runs=runs, law=law, likelihood=likelihood,
               settings={"sampler": "mock", "seed": seed}, diagnostics=diagnose(tree, names),
               versions=package_versions())


def simulate_checkpoints(law, params, design, *, run_sd=0.03, noise=0.005, seed=0):
    """Checkpoints with one offset per run (``bs.simulate(..., checkpoints=...)``), the tests' defaults."""
    import bayes_scaling as bs

    return bs.simulate(law, params, design, noise=noise, seed=seed, checkpoints={"run_sd": run_sd})


#: What third-party chatter on a CLI's stderr looks like (issue 18: none may reach a user): Python
#: warnings from numpy/PyMC/pytensor/arviz/matplotlib, PyMC's "Sampling: [...]", pytensor's
#: "WARNING (pytensor...)", a font-cache complaint, a traceback.
THIRD_PARTY_STDERR = re.compile(
    r"\b(Runtime|User|Future|Deprecation|Performance|Numba\w*)Warning\b|^Sampling: |WARNING \(pytensor|"
    r"findfont|^Traceback |^warning \(\w+ at |"
    r"site-packages/(numpy|pymc|pytensor|arviz\w*|matplotlib|nutpie|scipy|xarray|pandas)/", re.M)


def third_party_lines(stderr: str) -> list[str]:
    """The lines of ``stderr`` that come from a library rather than from bayes_scaling."""
    return [line for line in stderr.splitlines() if THIRD_PARTY_STDERR.search(line)]
