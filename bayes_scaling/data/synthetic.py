"""Synthetic runs with known ground truth, drawn from any law spec: one entry point, :func:`simulate`.

``bs.simulate`` and ``bs.datasets.synthetic`` are this function. It serves the parameter-recovery
tests, the benchmarks, SBC-like checks and the embedded demo dataset
(``scripts/make_demo_dataset.py``): plain runs, families (``groups=``) and correlated checkpoints
(``checkpoints=``), with the truth attached to the returned frame as ``frame.attrs["truth"]``.
The designs (:func:`chinchilla_design`, :func:`checkpoint_design`, :func:`log_grid`) are here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..law.evaluate import log_value
from ..law.spec import LawSpec, load_law

__all__ = ["simulate", "chinchilla_design", "checkpoint_design", "log_grid"]


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


def checkpoint_design(n_runs: int = 12, checkpoints: int = 20, *, N=(1e6, 1e9), steps=(1e3, 2e5),
                      seed: int = 0) -> pd.DataFrame:
    """Checkpoints of ``n_runs`` training runs: N log-spaced, steps log-spaced, one ``run`` id per run."""
    del seed  # the design is deterministic; kept for a uniform signature
    n = log_grid(N[0], N[1], n_runs)
    s = log_grid(steps[0], steps[1], checkpoints)
    return pd.DataFrame({"run": np.repeat([f"run{i:03d}" for i in range(n_runs)], checkpoints),
                         "N": np.repeat(n, checkpoints), "step": np.tile(s, n_runs)})


def simulate(law: str | LawSpec, params: Mapping[str, float], design: pd.DataFrame | Mapping | int | None = None,
             *, noise: float = 0.01, seed: int = 0, df: float | None = None,
             groups: Mapping[str, Mapping[str, float]] | None = None,
             checkpoints: int | bool | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Simulate runs of ``law`` with multiplicative noise and known truth; load them with ``bs.load_runs``.

    Parameters
    ----------
    law : str or LawSpec
        The law (its formula and input columns).
    params : mapping
        True value of every law parameter, on the natural scale.
    design : DataFrame, mapping of arrays, int or None
        The law's input columns (runs-table names, e.g. ``N``, ``D``, ``step``); an int is a number
        of runs (:func:`chinchilla_design` with ``seed``, or :func:`checkpoint_design` with
        checkpoints); None: 200 runs, or 12 runs with checkpoints. A ``group`` column assigns rows
        to ``groups``.
    noise : float
        Standard deviation of the noise on log(response) (0.01 = ~1%).
    seed : int
        Seed of the noise; group ``i`` (in ``groups`` order) uses ``seed + i``.
    df : float, optional
        Student-t degrees of freedom of the noise (Normal when ``None``).
    groups : mapping, optional
        Group label -> parameter overrides, e.g. ``{"a": {}, "b": {"alpha": 0.3}}``; adds a ``group``
        column (the design is repeated per group unless it has a ``group`` column).
    checkpoints : int, True or mapping, optional
        Correlated checkpoints: one offset ``Normal(0, run_sd)`` in log response per ``run``, shared
        by its checkpoints. An int is the checkpoints per run of a generated design; True uses a
        design with a ``run`` column as is; a mapping gives ``n``, ``run_sd`` (default 0.03), ``N``,
        ``steps`` and ``tokens_per_step`` (D = step x tokens_per_step, 2**20 by default, when the
        law needs D).

    Returns
    -------
    pandas.DataFrame
        The design plus the response column (and ``group``); ``attrs["truth"]`` holds the law,
        parameters, noise, seed (and ``run_sd``/``run_effects``, or per-group truths).
    """
    spec = load_law(law)
    opts = dict(checkpoints) if isinstance(checkpoints, Mapping) else {}
    if checkpoints is not None and not isinstance(checkpoints, (bool, Mapping)):
        opts["n"] = int(checkpoints)
    use_ckpt = checkpoints is not None and checkpoints is not False
    design = _design(spec, design, seed, use_ckpt, opts)
    labels = {None: {}} if groups is None else dict(groups)
    frames, truth = [], {}
    for i, (label, overrides) in enumerate(labels.items()):
        rows = _group_rows(spec, design, label, overrides, use_ckpt)
        part = _simulate_rows(spec, {**params, **overrides}, rows, noise, seed + i, df)
        if use_ckpt:
            part = _add_run_effects(part, spec.response, float(opts.get("run_sd", 0.03)), seed + i)
        truth[label] = part.attrs["truth"]
        if label is not None:
            part["group"] = str(label)
        frames.append(part)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame.attrs["truth"] = truth[None] if groups is None else {
        "law": spec.name, "params": dict(params), "noise": noise, "seed": seed,
        "groups": {str(g): t for g, t in truth.items()}}
    return frame


def _design(spec: LawSpec, design, seed: int, use_ckpt: bool, opts: dict) -> pd.DataFrame:
    if design is None or isinstance(design, (int, np.integer)):
        if not use_ckpt:
            return chinchilla_design(int(design or 200), seed=seed)
        design = checkpoint_design(int(design or 12), int(opts.get("n", 20)),
                                   **{k: opts[k] for k in ("N", "steps") if k in opts})
        if "D" in spec.inputs.values():
            design["D"] = design["step"] * float(opts.get("tokens_per_step", 2**20))
        return design
    if use_ckpt and "n" in opts:
        raise InputError("simulate: checkpoints=<int> builds its own design; with your own design pass "
                         "checkpoints=True (or a mapping without 'n') and a 'run' column")
    design = pd.DataFrame(dict(design)).reset_index(drop=True)
    if use_ckpt and "run" not in design:
        raise InputError("simulate: checkpoints need a 'run' column in the design")
    return design


def _group_rows(spec: LawSpec, design: pd.DataFrame, label, overrides: Mapping, use_ckpt: bool) -> pd.DataFrame:
    unknown = set(overrides) - set(spec.parameters)
    if unknown:
        raise InputError(f"simulate: group {label!r} overrides unknown parameter(s) {sorted(unknown)}")
    rows = design
    if label is not None and "group" in design:
        rows = design[design["group"].astype(str) == str(label)].drop(columns="group")
        if rows.empty:
            raise InputError(f"simulate: the design has no rows for group {label!r}")
    rows = rows.reset_index(drop=True)
    if use_ckpt and label is not None:
        rows = rows.assign(run=str(label) + "/" + rows["run"].astype(str))
    return rows


def _simulate_rows(spec: LawSpec, params: Mapping[str, float], design: pd.DataFrame, noise: float, seed: int,
                   df: float | None) -> pd.DataFrame:
    """The response of ``spec`` at every row of ``design``, times ``exp(noise * eps)``."""
    missing = set(spec.parameters) - set(params)
    if missing:
        raise InputError(f"simulate: missing true value(s) for {sorted(missing)}")
    wrong = [p for p, v in spec.parameters.items() if v.constraint == "positive" and not float(params[p]) > 0]
    if wrong:
        raise InputError(f"simulate: parameter(s) {wrong} of law {spec.name!r} are constrained positive; "
                         f"got {[params[p] for p in wrong]}")
    frame = design.copy()
    absent = [c for c in spec.inputs.values() if c not in frame]
    if absent:
        raise InputError(f"simulate: design lacks input column {absent[0]!r}")
    log_inputs = {c: np.log(frame[c].to_numpy(float)) for c in spec.inputs.values()}
    log_mu = log_value(spec, {k: float(params[k]) for k in spec.parameters}, log_inputs).astype(float)
    rng = np.random.default_rng(seed)
    eps = rng.standard_t(df, size=len(frame)) if df else rng.standard_normal(len(frame))
    frame[spec.response] = np.exp(log_mu + noise * eps)
    frame.attrs["truth"] = {"law": spec.name, "params": dict(params), "noise": noise, "seed": seed, "df": df}
    return frame


def _add_run_effects(frame: pd.DataFrame, response: str, run_sd: float, seed: int) -> pd.DataFrame:
    """One offset ``Normal(0, run_sd)`` in log response per ``run`` (its checkpoints share it)."""
    rng = np.random.default_rng([seed, 1])
    runs = pd.unique(frame["run"])
    effects = dict(zip(runs, run_sd * rng.standard_normal(len(runs))))
    frame[response] = frame[response] * np.exp(frame["run"].map(effects).to_numpy())
    frame.attrs["truth"] = {**frame.attrs["truth"], "run_sd": run_sd, "run_effects": effects}
    return frame
