"""PyMC model -> posterior DataTree (nutpie by default, PyMC's NUTS as an option).

Compiling the model is the expensive step (numba), so compiled nutpie models
are cached in-process, keyed by the law spec with its priors, the likelihood
and the number of runs; a cache hit only swaps the data in
(``CompiledModel.with_data``), recomputes the initial point and samples again.
Across processes, :mod:`bayes_scaling.pymc_model._compile_cache` keeps the compiled
functions on disk (opt out: ``BAYES_SCALING_NO_COMPILE_CACHE=1`` or
``SamplerSettings(compile_cache=False)``; it falls back to the stock
``nutpie.compile_pymc_model`` by itself when it cannot be used).
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..core.errors import InputError, SamplerStartError
from ..core.progress import listening, note, phase
from ..law.spec import LawSpec
from . import _laplace, _warm
from .build import build_model, data_signature, model_data

__all__ = ["SamplerSettings", "run_sampler", "SAMPLERS", "clear_cache"]

SAMPLERS = ("nutpie", "pymc")
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_SIZE = 8


@dataclass
class SamplerSettings:
    """What is asked of the sampler (``bs.fit(..., sampling=SamplerSettings(...))``), recorded with every fit.

    Attributes
    ----------
    sampler : {"nutpie", "pymc"}
        nutpie (compiled, fast; default) or PyMC's own NUTS.
    draws, tune, chains : int
        Posterior draws and warm-up steps per chain, and the number of chains. ``tune=None``:
        1000, and 2000 with ``discrepancy="gp"`` (its length scales need it).
    cores : int, optional
        Chains sampled in parallel (default: as many as there are cores, at most ``chains``).
    seed : int, optional
        Random seed (drawn and recorded when not given).
    adaptation : {"low_rank", "diag"}, optional
        nutpie's mass-matrix adaptation; None: low-rank (faster on these posteriors), diagonal after
        a Laplace start.
    target_accept : float, optional
        NUTS target acceptance; None: 0.9, 0.95 with ``discrepancy="gp"`` (its amplitude can
        shrink towards zero when the law fits), 0.8 after a Laplace start, 0.75 from 150 parameters
        (:func:`bayes_scaling.pymc_model._laplace.target_accept`).
        Raise it to ~0.95 when there are divergences.
    start : {"auto", "laplace", "tune"}
        nutpie with the disk compile cache: sample in the coordinates where the Laplace approximation
        at the posterior's mode is standard Normal (:mod:`bayes_scaling.pymc_model._laplace`; 400
        tuning steps unless ``tune`` is given; the posterior is the same), or tune from nutpie's
        initial point. ``"auto"``: the Laplace start for models with centred run offsets and more
        than 30 parameters (a Student-t checkpoint fit with many rows per run). Recorded as
        the start used.
    progress : bool, optional
        Show the progress bar; None: in notebooks and terminals, not in files or CI logs.
    compile_cache : bool, optional
        nutpie only: use the disk compile cache (None: unless ``$BAYES_SCALING_NO_COMPILE_CACHE``
        is set).
    warm_start : WarmStart, optional
        nutpie with the disk compile cache only: sample in the coordinates where the previous fit's
        posterior is about standard Normal (:mod:`bayes_scaling.pymc_model._warm`), with ``tune``
        defaulting to 200; the posterior is the same. ``bs.fit(..., warm_start=previous_fit)`` sets it.
    remedy : bool
        When the first run's diagnostics are not a pass, sample once more with the remedy the
        diagnostics advise (twice the tuning, at least 2000 steps; twice the draws; target_accept
        0.98; after a Laplace start without divergences: twice its tuning and draws, the rest kept), and
        keep that run; without run offsets when they conflict with the law
        (:func:`bayes_scaling.posterior.inference.run_offset_conflict`, also a model check); recorded in
        the fit's ``settings["remedy"]``. False keeps the first run whatever its verdict.
    """

    sampler: str = "nutpie"
    draws: int = 1000
    tune: int | None = None
    chains: int = 4
    cores: int | None = None
    seed: int | None = None
    adaptation: str | None = None
    target_accept: float | None = None
    start: str = "auto"
    progress: bool | None = None
    timings: dict[str, float] = field(default_factory=dict)
    compile_cache: bool | None = None
    remedy: bool = True
    warm_start: Any = field(default=None, repr=False, compare=False)
    #: After sampling: the posterior's shape, the warm start of the next fit (:class:`_warm.WarmStart`).
    warm_state: Any = field(default=None, repr=False, compare=False)
    #: After sampling: what became of ``warm_start`` ("" when none was asked for).
    warm_note: str = field(default="", compare=False)

    def validate(self) -> None:
        """Raise ValueError for a setting out of range."""
        if self.sampler not in SAMPLERS:
            raise InputError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        for name in ("draws", "tune", "chains"):
            value = getattr(self, name)
            if name == "tune" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))
                                      or not 0 <= self.seed < 2**63):
            raise InputError(f"seed must be an integer from 0 to 2**63 - 1, got {self.seed!r}")
        if self.target_accept is not None and not 0 < self.target_accept < 1:
            raise InputError(f"target_accept must be in (0, 1), got {self.target_accept}")
        if not isinstance(self.remedy, bool):
            raise InputError(f"remedy must be True or False, got {self.remedy!r}")
        if self.adaptation not in ("diag", "low_rank", None):
            raise InputError(f"adaptation must be 'diag' or 'low_rank', got {self.adaptation!r}")
        if self.start not in _laplace.STARTS:
            raise InputError(f"start must be one of {_laplace.STARTS}, got {self.start!r}")

    def resolved(self) -> SamplerSettings:
        """A copy with the seed, cores, tune (1000) and target_accept (0.9) filled in (the seed is recorded
        for reproducibility).
        """
        seed = self.seed
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        cores = self.cores or max(1, min(self.chains, os.cpu_count() or 1))
        tune = (1000 if self.warm_start is None else _warm.WARM_TUNE) if self.tune is None else self.tune
        accept = 0.9 if self.target_accept is None else self.target_accept
        return replace(self, draws=int(self.draws), tune=int(tune), chains=int(self.chains), cores=cores,
                       seed=int(seed), target_accept=float(accept), progress=bool(self.progress), timings={},
                       warm_state=None, adaptation=self.adaptation or "low_rank")

    def remedied(self, divergences: int = 1) -> SamplerSettings:
        """The settings of the second run when the first is flagged (see ``remedy``), which had
        ``divergences``. After a Laplace start, chains that only disagree (R-hat, ESS) need more steps
        in the same coordinates, not smaller ones: at 10^5 checkpoint rows target_accept 0.98 took 31
        leapfrog steps per draw against 9.5 (522 s of sampling; twice the first run's steps is about 2x its 60 s)."""
        laplace = self.start == "laplace" and getattr(self.warm_start, "source", "") == "laplace"
        if laplace and not divergences:  # the Laplace start was made: its coordinates and tuning are known
            return replace(self, tune=2 * int(self.tune), draws=2 * int(self.draws), timings={})
        return replace(self, tune=max(2 * int(self.tune or 1000), 2000), draws=2 * int(self.draws),
                       target_accept=max(float(self.target_accept or 0.9), 0.98), timings={})

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("sampler", "draws", "tune", "chains", "cores", "seed",
                                               "adaptation", "target_accept", "start")}


def clear_cache() -> None:
    """Forget every compiled model (the next fit compiles again)."""
    _CACHE.clear()


def run_sampler(law: LawSpec, runs, likelihood: str, settings: SamplerSettings, structure=None,
                discrepancy=None):
    """Sample the posterior of ``law`` on ``runs``; returns ``(DataTree, settings)``.

    ``structure`` (:class:`~bayes_scaling.pymc_model.structure.Structure`) adds groups and run effects,
    ``discrepancy`` (:class:`~bayes_scaling.pymc_model.discrepancy.Discrepancy`) a GP orthogonal to the law.

    The DataTree holds the ``posterior`` and ``sample_stats`` groups; timings
    (build, compile, sample, in seconds) are recorded in ``settings.timings``.
    """
    settings.validate()
    s = settings.resolved()
    if s.warm_start is not None and s.sampler == "pymc":
        s = _cold(s, settings, "PyMC's sampler takes no warm start")
    if s.sampler == "pymc":
        if s.start == "laplace":
            note("Laplace start not used: PyMC's sampler takes no start")
        s = replace(s, start="tune", warm_note="laplace not used: PyMC's sampler takes no start"
                    if s.start == "laplace" else s.warm_note)
        return _sample_pymc(law, runs, likelihood, s, structure, discrepancy), s
    return _sample_nutpie(law, runs, likelihood, s, structure, discrepancy, asked=settings)


def _sample_nutpie(law: LawSpec, runs, likelihood: str, s: SamplerSettings, structure=None, discrepancy=None,
                   asked: SamplerSettings | None = None):
    """``(trace, settings used)``; ``asked``: the settings before :meth:`SamplerSettings.resolved`."""
    from threadpoolctl import threadpool_limits

    from . import _compile_cache as compile_cache

    t0 = time.perf_counter()
    import nutpie  # the first import (arviz with it) is about 2 s of a fresh process: timed apart

    s.timings["import_nutpie"] = time.perf_counter() - t0
    # the compiled model depends on the law with its priors, the likelihood, the number of runs and
    # the structure (which parameters vary, how many groups and runs), not on the data values
    law_key = law.to_json() if structure is None or structure.plain else law.to_json() + structure.signature()
    if discrepancy is not None:  # its basis and frequencies are data; their number fixes the graph
        law_key += discrepancy.signature
    key = (law_key + data_signature(law, runs), likelihood, len(runs))
    t0 = time.perf_counter()
    entry = _CACHE.get(key)
    if entry is None:
        model = build_model(law, runs, likelihood, structure, discrepancy)
        t1 = time.perf_counter()
        entry = compile_cache.compile_model(model, key, use_cache=s.compile_cache)
        compiled = entry.compiled
        s.timings["build"], s.timings["compile"] = t1 - t0, time.perf_counter() - t1
        # 1.0: compiled functions loaded from the disk cache (no numba/pytensor compile)
        s.timings["compile_cache_hit"] = float(entry.path == "cached" and entry.hit)
        _CACHE[key] = entry
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
        compiled = entry.with_data(model_data(law, runs, structure, likelihood, discrepancy))
        s.timings["build"], s.timings["compile"] = time.perf_counter() - t0, 0.0
    note(f"model built in {s.timings['build']:.1f} s, compiled in {s.timings['compile']:.1f} s"
         + (" (from the disk cache)" if s.timings.get("compile_cache_hit") else ""))
    s = _laplace_start(s, asked or s, compiled, structure)
    s, compiled, warm = _with_warm_start(s, asked or s, compiled)
    t2 = time.perf_counter()
    kwargs: dict[str, Any] = {"adaptation": s.adaptation, "target_accept": s.target_accept,
                              "store_unconstrained": True}
    if listening():  # a line when tuning ends (nutpie reports each chain's state)
        kwargs.update(progress_callback=_tuning_line(time.perf_counter()), progress_rate=200)
    # the chains run in parallel on every core: BLAS inside a gradient (a GP discrepancy's products) on
    # one thread, so that its threads do not compete with the chains' (3-10% less sampling time at 10^5
    # rows in three interleaved pairs of runs, benchmarks/README.md)
    with phase(f"sampling {s.chains} chains x ({s.tune} tune + {s.draws} draws), {len(runs)} runs"), \
            threadpool_limits(limits=1, user_api="blas"):
        trace = nutpie.sample(compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.cores,
                              seed=s.seed, progress_bar=s.progress, save_warmup=False, **kwargs)
    s.timings["sample"] = time.perf_counter() - t2
    s.warm_state = _warm.from_draws(trace["sample_stats"]["unconstrained_draw"].values, warm, _warm.layout(compiled))
    return _keep(trace, ("posterior", "sample_stats")), s


def _with_warm_start(s: SamplerSettings, asked: SamplerSettings, compiled):
    """``(settings, compiled model, warm start or None)``: the compiled model in the warm start's
    coordinates when it can be used (else a cold fit, noted); the full tuning above ``_warm.SHORT_MAX``
    parameters unless a tuning was asked for."""
    warm = s.warm_start
    if warm is None:
        return s, compiled, None
    why = "the model was compiled without the disk compile cache" if not _warm.supports(compiled) else \
        warm.mismatch(compiled)
    if why:
        return _cold(s, asked, why), compiled, None
    if warm.source == "laplace":
        s.warm_note = (f"laplace: {s.tune} tuning steps in the coordinates where the Laplace approximation at "
                       f"the posterior's mode is standard Normal ({compiled.n_dim} parameters)")
        return s, _warm.applied(compiled, warm), warm
    many = compiled.n_dim > _warm.SHORT_MAX
    if many and asked.tune is None:
        s = replace(s, tune=1000)
    s.warm_note = (f"used: {s.tune} tuning steps in the previous posterior's coordinates"
                   + (f" (the full tuning: more than {_warm.SHORT_MAX} parameters)" if many else ""))
    return s, _warm.applied(compiled, warm), warm


def _laplace_start(s: SamplerSettings, asked: SamplerSettings, compiled, structure) -> SamplerSettings:
    """``s`` with the Laplace start (:mod:`._laplace`) as its warm start when it is wanted and found
    (from a previous fit's mean when there is one; it replaces that fit's shape above
    ``_warm.SHORT_MAX`` parameters), its tuning, adaptation and target acceptance unless asked; else
    ``s`` with ``start="tune"`` and, when it was asked for or failed, a note why not."""
    previous = s.warm_start
    if previous is not None and previous.source == "laplace":  # the remedy's second run keeps it...
        if not previous.mismatch(compiled):
            return s
        previous, s = None, replace(s, warm_start=None)  # ...unless its model changed (offsets dropped)
    if not _laplace.wanted(s.start, compiled, structure) or (previous is not None
                                                             and compiled.n_dim <= _warm.SHORT_MAX):
        return replace(s, start="tune")
    if not _warm.supports(compiled):
        why = "the model was compiled without the disk compile cache"
        if asked.start == "laplace":
            note(f"Laplace start not used: {why}")
        return replace(s, start="tune", warm_note=f"laplace not used: {why}" if asked.start == "laplace" else "")
    t0 = time.perf_counter()
    x0 = previous.mean if previous is not None and not previous.mismatch(compiled) else \
        compiled.initial_point_func(s.seed)
    try:
        with phase(f"finding the posterior's mode and curvature ({compiled.n_dim} parameters)"):
            warm = _laplace.start(compiled, x0)
    except SamplerStartError as exc:
        note(f"Laplace start not used: {exc}")
        return replace(s, start="tune", warm_note=f"laplace not used: {exc}")
    s.timings["laplace"] = time.perf_counter() - t0
    return replace(s, warm_start=warm, start="laplace",
                   tune=_laplace.LAPLACE_TUNE if asked.tune is None else s.tune,
                   adaptation=asked.adaptation or "diag",
                   target_accept=(_laplace.target_accept(compiled.n_dim) if asked.target_accept is None
                                  else s.target_accept))


def _cold(s: SamplerSettings, asked: SamplerSettings, why: str) -> SamplerSettings:
    """``s`` without its warm start (the tuning back to its default unless it was set), noted."""
    note(f"warm start not used: {why}")
    return replace(s, warm_start=None, tune=1000 if asked.tune is None else s.tune, warm_note=f"not used: {why}")


def _sample_pymc(law: LawSpec, runs, likelihood: str, s: SamplerSettings, structure=None, discrepancy=None):
    import pymc as pm

    t0 = time.perf_counter()
    model = build_model(law, runs, likelihood, structure, discrepancy)
    s.timings["build"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    note(f"model built in {s.timings['build']:.1f} s; sampling with PyMC's NUTS")
    trace = pm.sample(draws=s.draws, tune=s.tune, chains=s.chains, cores=s.cores, random_seed=s.seed,
                      nuts_sampler="pymc", progressbar=s.progress, target_accept=s.target_accept,
                      compute_convergence_checks=False, model=model)
    s.timings["compile"], s.timings["sample"] = 0.0, time.perf_counter() - t1
    return _keep(trace, ("posterior", "sample_stats"))


def _keep(trace, groups: tuple[str, ...]):
    import xarray as xr

    out = xr.DataTree()
    for g in groups:
        ds = trace[g].to_dataset()
        ds = ds.drop_vars([v for v in ("unconstrained_draw",) if v in ds])  # kept as the warm start
        for name, var in ds.data_vars.items():  # object arrays (messages) cannot go to netCDF
            if var.dtype == object:
                ds[name] = var.astype(str)
        out[g] = xr.DataTree(ds)
    return out


def _tuning_line(t0: float):
    """A progress callback for nutpie that notes, once, when every chain has finished tuning."""
    done = False

    def callback(chains) -> None:
        nonlocal done
        if done or not chains or any(c.tuning or not c.started for c in chains):
            return
        done = True
        step = sum(c.step_size for c in chains) / len(chains)
        note(f"tuning done in {time.perf_counter() - t0:.1f} s (mean step size {step:.2g}); drawing...")

    return callback
