"""Synthetic runs with known ground truth, drawn from any law spec.

Used by the parameter-recovery tests, the benchmarks and the embedded demo
dataset (``scripts/make_synthetic.py``). The truth is attached to the returned
frame as ``frame.attrs["truth"]``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .formula import NUMPY_OPS, Quantity
from .laws import LawSpec, load_law

__all__ = ["simulate", "chinchilla_design", "log_grid"]


def log_grid(low: float, high: float, n: int) -> np.ndarray:
    """``n`` values evenly spaced in log between ``low`` and ``high``."""
    return np.exp(np.linspace(np.log(low), np.log(high), n))


def chinchilla_design(n_runs: int = 200, *, N=(5e7, 1e10), tokens_per_param=(2.0, 200.0),
                      seed: int = 0) -> pd.DataFrame:
    """A design of (N, D) runs: N log-uniform in ``N``, D/N log-uniform in ``tokens_per_param``."""
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(np.log(N[0]), np.log(N[1]), n_runs))
    tpp = np.exp(rng.uniform(np.log(tokens_per_param[0]), np.log(tokens_per_param[1]), n_runs))
    return pd.DataFrame({"N": n, "D": n * tpp})


def simulate(law: str | LawSpec, params: Mapping[str, float], design: pd.DataFrame | Mapping, *,
             noise: float = 0.01, seed: int = 0, df: float | None = None) -> pd.DataFrame:
    """Simulate the response of ``law`` at ``design`` with multiplicative noise.

    Parameters
    ----------
    law : str or LawSpec
        The law (its formula and input columns).
    params : mapping
        True value of every law parameter, on the natural scale.
    design : DataFrame or mapping of arrays
        The law's input columns (runs-table names, e.g. ``N``, ``D``, ``step``).
    noise : float
        Standard deviation of the noise on log(response) (0.01 = ~1%).
    seed : int
        Seed of the noise.
    df : float, optional
        Student-t degrees of freedom of the noise (normal when ``None``).

    Returns
    -------
    pandas.DataFrame
        The design plus the response column; ``attrs["truth"]`` holds the
        parameters, noise, seed and law name.
    """
    spec = load_law(law)
    missing = set(spec.parameters) - set(params)
    if missing:
        raise ValueError(f"simulate: missing true value(s) for {sorted(missing)}")
    frame = pd.DataFrame(dict(design)).reset_index(drop=True)
    env = {k: Quantity.of_value(float(params[k]), NUMPY_OPS, positive=float(params[k]) > 0)
           for k in spec.parameters}
    for sym, col in spec.inputs.items():
        if col not in frame:
            raise ValueError(f"simulate: design lacks input column {col!r}")
        env[sym] = Quantity.of_log(np.log(frame[col].to_numpy(float)), NUMPY_OPS)
    log_mu = np.asarray(spec.formula.log_value(env, NUMPY_OPS), dtype=float)
    rng = np.random.default_rng(seed)
    eps = rng.standard_t(df, size=len(frame)) if df else rng.standard_normal(len(frame))
    frame[spec.response] = np.exp(log_mu + noise * eps)
    frame.attrs["truth"] = {"law": spec.name, "params": dict(params), "noise": noise, "seed": seed,
                            "df": df}
    return frame


def checkpoint_design(n_runs: int = 12, checkpoints: int = 20, *, N=(1e6, 1e9), steps=(1e3, 2e5),
                      seed: int = 0) -> pd.DataFrame:
    """Checkpoints of ``n_runs`` training runs: N log-spaced, steps log-spaced, one ``run`` id per run."""
    del seed  # the design is deterministic; kept for a uniform signature
    n = log_grid(N[0], N[1], n_runs)
    s = log_grid(steps[0], steps[1], checkpoints)
    return pd.DataFrame({"run": np.repeat([f"run{i:03d}" for i in range(n_runs)], checkpoints),
                         "N": np.repeat(n, checkpoints), "step": np.tile(s, n_runs)})


def simulate_checkpoints(law: str | LawSpec, params: Mapping[str, float], design: pd.DataFrame, *,
                         run_sd: float = 0.03, noise: float = 0.005, seed: int = 0) -> pd.DataFrame:
    """Like :func:`simulate`, plus one offset ``Normal(0, run_sd)`` in log loss per ``run``.

    Checkpoints of one run share its offset (seed, data order, ...), which is
    what makes them correlated; ``attrs["truth"]["run_effects"]`` holds the offsets.
    """
    frame = simulate(law, params, design, noise=noise, seed=seed)
    rng = np.random.default_rng([seed, 1])
    runs = pd.unique(frame["run"])
    effects = dict(zip(runs, run_sd * rng.standard_normal(len(runs))))
    response = load_law(law).response
    frame[response] = frame[response] * np.exp(frame["run"].map(effects).to_numpy())
    frame.attrs["truth"] = {**frame.attrs["truth"], "run_sd": run_sd, "run_effects": effects}
    return frame
