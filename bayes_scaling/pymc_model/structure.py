"""Runs with families or checkpoints -> the model's structure.

Two departures from "one law, independent runs", both chosen explicitly:

- **Families** (a ``group`` column: model families, datasets, tokenizers or
  eval sets). ``pooled=[...]`` names the law parameters that vary by group,
  with partial pooling: a population centre that keeps the parameter's own
  prior, a between-group scale ``tau ~ HalfNormal(group_scale)`` and
  non-centred offsets ``z_g ~ Normal(0, 1)``; positive parameters vary on the
  log scale (``alpha_g = alpha_mu * exp(tau z_g)``), others additively. The
  rest are shared by all groups (a shared coefficient such as A stays shared on
  its natural scale even when its exponent varies). ``pooled=[]`` (or None)
  is complete pooling; ``pooled="all"`` lets every law parameter vary.
- **Checkpoints** (several rows per ``run``): a run-level offset in log loss,
  ``run_effect_r ~ Normal(0, run_sd)``, ``run_sd ~ HalfNormal(run_scale)``, so that
  50 checkpoints of one run count as one run's worth of evidence about the law,
  not 50. The offsets are sampled centred (``run_effect`` itself) when the runs
  have many checkpoints each (median >= ``CENTERED_MIN_ROWS``: the data pin each
  offset down, and the non-centred form ``run_sd * run_z`` would make a funnel
  between ``run_sd`` and the ``run_z``), non-centred otherwise. With Normal noise
  they are not sampled at all but integrated out exactly and drawn afterwards
  (:func:`bayes_scaling.pymc_model.build.collapsed`). The first fraction of each run's
  checkpoints (warm-up, default 10%) can be dropped with :func:`drop_warmup`; the
  count is recorded in ``Runs.dropped``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.errors import InputError

if TYPE_CHECKING:
    from ..data.runs import Runs
    from ..law.spec import LawSpec

__all__ = ["Structure", "StructureOptions", "resolve_structure", "group_index", "run_index", "CENTERED_MIN_ROWS"]

CENTERED_MIN_ROWS = 10  # median rows per run from which run offsets are sampled centred


@dataclass(frozen=True)
class StructureOptions:
    """How a fit should treat groups (families) and checkpoints: what :func:`bayes_scaling.fit` is asked.

    Attributes
    ----------
    pooled : list of str, "all" or None
        Law parameters that vary by ``group`` with partial pooling; None or ``[]``: one value for
        all groups; ``"all"``: every law parameter. For fully separate fits use
        :func:`bayes_scaling.fit_separately`.
    run_effect : bool, optional
        A random offset in log loss per ``run`` (checkpoints of one run are correlated). Default:
        on when some run has several rows.
    run_centered : bool, optional
        Sample the run offsets centred (``run_effect ~ Normal(0, run_sd)``) instead of non-centred
        (``run_sd * run_z``). Default: centred when the median run has at least
        :data:`CENTERED_MIN_ROWS` rows (then the data pin each offset down and the non-centred form
        mixes badly).
    group_scale, run_scale : float
        HalfNormal scales of the between-group spread (log scale for positive parameters) and of
        the run effect (log loss).
    """

    pooled: str | Sequence[str] | None = None
    run_effect: bool | None = None
    run_centered: bool | None = None
    group_scale: float = 0.2
    run_scale: float = 0.05

    def resolve(self, runs: Runs, law: LawSpec) -> Structure:
        """The :class:`Structure` of a fit of ``law`` on ``runs`` (:func:`resolve_structure`)."""
        return resolve_structure(runs, law, self.pooled, self.run_effect, group_scale=self.group_scale,
                                 run_scale=self.run_scale, run_centered=self.run_centered)


@dataclass(frozen=True)
class Structure:
    """Which law parameters vary by group, and whether runs get a random offset.

    Attributes
    ----------
    varying : tuple of str
        Law parameters with one value per group (partial pooling).
    groups : tuple of str
        Group labels, in the order of the ``group`` dimension.
    run_effect : bool
        Whether each run (``run`` column) gets an offset in log loss.
    runs : tuple of str
        Run labels, in the order of the ``run`` dimension.
    group_scale, run_scale : float
        HalfNormal scales of the between-group and between-run spreads.
    run_centered : bool
        Sample the run offsets centred (many rows per run) rather than non-centred.
    """

    varying: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    run_effect: bool = False
    runs: tuple[str, ...] = ()
    group_scale: float = 0.2
    run_scale: float = 0.05
    run_centered: bool = False

    @property
    def plain(self) -> bool:
        """True for the ordinary model (no groups, no run effect)."""
        return not self.varying and not self.run_effect

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Structure:
        d = dict(d or {})
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def signature(self) -> str:
        """What the compiled model depends on (not the labels): for compile-cache keys."""
        return json.dumps({"varying": list(self.varying), "n_groups": len(self.groups),
                           "run_effect": self.run_effect, "n_runs": len(self.runs),
                           "group_scale": self.group_scale, "run_scale": self.run_scale,
                           "run_centered": self.run_centered})


def resolve_structure(runs: Runs, law: LawSpec, pooled: str | Sequence[str] | None = None,
                      run_effect: bool | None = None, *, group_scale: float = 0.2,
                      run_scale: float = 0.05, run_centered: bool | None = None) -> Structure:
    """The :class:`Structure` for a fit, with clear errors for impossible requests.

    ``run_effect=None`` turns the run effect on when a ``run`` column holds
    several rows for some run (checkpoints) and off otherwise.
    ``run_centered=None`` samples the run offsets centred when the median run
    has at least :data:`CENTERED_MIN_ROWS` rows.
    """
    names = list(law.parameters)
    if pooled is None:
        varying: list[str] = []
    elif isinstance(pooled, str):
        if pooled != "all":
            raise InputError(f"pooled must be a list of parameter names, [] or 'all'; got {pooled!r}")
        varying = names
    else:
        varying = list(dict.fromkeys(pooled))
        unknown = [p for p in varying if p not in law.parameters]
        if unknown:
            raise InputError(f"pooled names {unknown} are not parameters of law {law.name!r} "
                             f"(its parameters: {names})")
    groups: tuple[str, ...] = ()
    if varying:
        if "group" not in runs.data.columns:
            raise InputError(f"pooled={pooled!r} needs a 'group' column in the runs table "
                             "(load_runs(..., group='<your family column>'))")
        groups = tuple(str(g) for g in pd.unique(runs.data["group"].astype(str)))
        if len(groups) < 2:
            raise InputError(f"pooled={pooled!r} needs at least 2 groups; column 'group' has only {groups}")
    has_run = "run" in runs.data.columns
    repeated = has_run and runs.data["run"].astype(str).duplicated().any()
    if run_effect is None:
        run_effect = bool(repeated)
    if run_effect and not has_run:
        raise InputError("run_effect=True needs a 'run' column (the run id of each checkpoint row)")
    run_ids = tuple(str(r) for r in pd.unique(runs.data["run"].astype(str))) if run_effect else ()
    for name, value in (("group_scale", group_scale), ("run_scale", run_scale)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} must be finite and > 0, got {value}")
    if run_centered is None:
        rows_per_run = runs.data["run"].astype(str).value_counts() if run_effect else None
        run_centered = rows_per_run is not None and float(rows_per_run.median()) >= CENTERED_MIN_ROWS
    return Structure(varying=tuple(varying), groups=groups, run_effect=bool(run_effect), runs=run_ids,
                     group_scale=float(group_scale), run_scale=float(run_scale),
                     run_centered=bool(run_centered and run_effect))


def group_index(structure: Structure, runs: Runs) -> np.ndarray:
    """Index of each row's group in ``structure.groups`` (zeros when there are no groups)."""
    if not structure.varying:
        return np.zeros(len(runs), dtype=np.int64)
    return _index(runs.data["group"].astype(str).to_numpy(), structure.groups, "group")


def run_index(structure: Structure, runs: Runs) -> np.ndarray:
    """Index of each row's run in ``structure.runs`` (zeros without a run effect)."""
    if not structure.run_effect:
        return np.zeros(len(runs), dtype=np.int64)
    return _index(runs.data["run"].astype(str).to_numpy(), structure.runs, "run")


def _index(labels: np.ndarray, known: tuple[str, ...], column: str) -> np.ndarray:
    lookup = {g: i for i, g in enumerate(known)}
    missing = sorted(set(labels) - set(lookup))
    if missing:
        raise InputError(f"column {column!r} has labels {missing[:5]} that the fit does not know "
                         f"(it knows {list(known)[:10]})")
    return np.array([lookup[g] for g in labels], dtype=np.int64)
