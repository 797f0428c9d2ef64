"""Disk-cacheable nutpie compile: a fit in a fresh Python process skips numba compilation.

nutpie 0.16 wraps the model's logp and expand functions in two ``numba.cfunc``
closures in every new process (about 8.6 s of a 12.8 s fresh-process fit);
their shared-data keys are random uuids, so numba's disk cache never hits.
This module builds equivalent cfuncs that numba can cache: fixed shared-data
keys (``s0``, ``s1``, ...); the pytensor-jitted logp/expand functions as
module globals of a generated source file ``cfunc_<hash>.py`` (``<hash>``:
the source, pytensor's graph cache keys of both functions and the package
versions), so ``numba.cfunc(sig, cache=True)`` finds its ``__pycache__`` in
the next process; an element loop instead of ``out[...] = grad`` (numba's
slice-assignment checks take about 2.8 s to compile). A JSON file
``model_<key>.json`` (shapes, names, the shared-data layout, the generated
module and its source hash) lets a warm hit skip pytensor compilation; ``<key>``
hashes the law spec JSON with its priors, the likelihood, the number of runs,
the versions of python, numpy, numba, pytensor, pymc, nutpie and bayes_scaling
and the source of the modules that build the model. This module writes no
pickle (numba's ``__pycache__`` files are numba's own format).

Nothing data-dependent is cached: the shared data are read from the PyMC model
built on the current runs, and the initial point (support point in the
unconstrained space plus U(-1, 1) jitter, as nutpie does) is recomputed from
the current data, also when :mod:`bayes_scaling.pymc_model.sampling` reuses a model.

Cache directory: ``$BAYES_SCALING_CACHE``, else ``$XDG_CACHE_HOME/bayes_scaling``,
else ``~/.cache/bayes_scaling``; files go in its ``nutpie/`` folder (created on
demand, written atomically). It grows by about 0.6 MB per distinct model (law,
priors, likelihood, number of runs) and is never pruned: delete it to clear it.

Opt out: ``BAYES_SCALING_NO_COMPILE_CACHE=1`` or ``SamplerSettings(compile_cache=False)``
(stock ``nutpie.compile_pymc_model``). The stock path is also taken, silently
(a DEBUG message on the ``bayes_scaling.pymc_model._compile_cache`` logger), when the cache
folder is not writable, when nutpie is not a validated minor version (0.16) or
lacks the private API used here (``nutpie.compile_pymc._make_functions``,
``make_user_data``, ``_prepare_dims_and_coords``, the ``CompiledPyMCModel``
fields; pytensor's ``link.numba.cache.CACHED_SRC_FUNCTIONS``), and on any
error in the fast path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from . import _warm
from ._compile_source import gen_source

__all__ = ["Entry", "compile_model", "cache_dir", "enabled", "model_key", "LAST"]

log = logging.getLogger(__name__)

ENV_OPT_OUT = "BAYES_SCALING_NO_COMPILE_CACHE"
FORMAT = 2  # bump when the generated source or the metadata layout changes
VALIDATED_NUTPIE = ((0, 16),)  # nutpie minor versions the private-API use was checked on
#: Modules (paths below the package) whose source shapes the compiled model: part of the cache key.
_MODEL_SOURCES = ("pymc_model/build", "pymc_model/structure", "pymc_model/discrepancy", "pymc_model/_compile_cache",
                  "pymc_model/_compile_source", "pymc_model/_warm",
                  "law/formula", "law/priors", "law/spec", "data/units")
_FIELDS = {"compiled_logp_func", "compiled_expand_func", "initial_point_func", "shared_data",
           "shared_var_keys", "user_data", "n_expanded", "shape_info", "logp_func", "expand_func",
           "_n_dim", "_shapes", "_coords", "dims", "reparameterized_names"}
#: What the last :func:`compile_model` did (for tests and debugging).
LAST: dict[str, Any] = {}


@dataclasses.dataclass
class Entry:
    """A compiled model with the PyMC model it came from (for reuse on new data)."""

    compiled: Any  # nutpie CompiledPyMCModel
    model: Any  # the PyMC model; its pm.Data hold the data of the last fit
    path: str  # "cached" (this module) or "stock" (nutpie.compile_pymc_model)
    hit: bool  # loaded from the disk cache: no pytensor or numba compilation
    _support: Any = None  # () -> flat support point on the model's current data

    def with_data(self, data: dict[str, np.ndarray]):
        """The compiled model on new data of the same shapes, initial point recomputed."""
        for name, value in data.items():
            var = self.model[name]
            var.set_value(np.asarray(value, dtype=var.dtype))
        compiled = self.compiled.with_data(**data)
        return dataclasses.replace(compiled, initial_point_func=self.initial_point_func())

    def initial_point_func(self):
        """Nutpie's initial point on the model's current data: support point + U(-1, 1) jitter."""
        if self._support is None:
            self._support = _support_point_fn(self.model)
        x0 = self._support()
        if x0.shape != (self.compiled.n_dim,):
            raise InputError(f"initial point has shape {x0.shape}, expected ({self.compiled.n_dim},)")
        x0.flags.writeable = False

        def initial_point(seed=None):
            return x0 + np.random.default_rng(seed).uniform(-1.0, 1.0, size=x0.shape)

        return initial_point


def _support_fn_dict(model):
    """PyMC's support point of ``model`` (unconstrained values by name, no jitter); reads its pm.Data."""
    from pymc.initial_point import make_initial_point_fn

    return make_initial_point_fn(model=model, jitter_rvs=set(), return_transformed=True)


def _support_point_fn(model, fn=None):
    """The support point as one flat array in free-variable order (nutpie's layout)."""
    fn = _support_fn_dict(model) if fn is None else fn
    names, lock = [model.rvs_to_values[v].name for v in model.free_RVs], threading.Lock()

    def support():
        with lock:
            point = fn(0)
        return np.concatenate([np.ravel(point[n]) for n in names]).astype("float64")

    return support


def enabled(setting: bool | None = None) -> bool:
    """Whether the cacheable path should be tried (``setting`` None: the environment decides)."""
    if setting is not None:
        return bool(setting)
    return os.environ.get(ENV_OPT_OUT, "").strip().lower() in ("", "0", "false", "no")


def cache_dir() -> Path | None:
    """The cache folder (created on demand), or None when it cannot be written."""
    base = os.environ.get("BAYES_SCALING_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "bayes_scaling" if xdg else Path.home() / ".cache" / "bayes_scaling"
    path = Path(base) / "nutpie"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK | os.X_OK) else None


def versions() -> dict[str, str]:
    """Versions of everything the cached code depends on."""
    import numba
    import nutpie
    import pymc
    import pytensor

    from ..core import __version__

    return {"python": ".".join(map(str, sys.version_info[:3])), "numpy": np.__version__,
            "numba": numba.__version__, "pytensor": pytensor.__version__, "pymc": pymc.__version__,
            "nutpie": nutpie.__version__, "bayes_scaling": __version__, "format": str(FORMAT)}


def _package_source_hash() -> str:
    h = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]
    for name in _MODEL_SOURCES:
        try:
            h.update((here / f"{name}.py").read_bytes())
        except OSError:
            h.update(name.encode())
    return h.hexdigest()


def model_key(law_json: str, likelihood: str, n_obs: int) -> str:
    """The metadata cache key of a model (hex sha256)."""
    blob = json.dumps({"law": law_json, "likelihood": likelihood, "n_obs": int(n_obs),
                       "versions": versions(), "source": _package_source_hash()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _private_api():
    """nutpie.compile_pymc if its private API is the one this module was written for, else None."""
    import nutpie

    try:
        minor = tuple(int(p) for p in nutpie.__version__.split(".")[:2])
        from nutpie import compile_pymc as cp
        from pytensor.link.numba import cache as pnc
    except Exception:  # noqa: BLE001
        return None
    if minor not in VALIDATED_NUTPIE:
        log.debug("nutpie %s not validated for the compile cache", nutpie.__version__)
        return None
    needed = ("_make_functions", "make_user_data", "_prepare_dims_and_coords", "CompiledPyMCModel")
    if not all(hasattr(cp, a) for a in needed) or not hasattr(pnc, "CACHED_SRC_FUNCTIONS"):
        log.debug("nutpie %s lacks the private API of the compile cache", nutpie.__version__)
        return None
    fields = {f.name for f in dataclasses.fields(cp.CompiledPyMCModel)}
    if not _FIELDS <= fields:
        log.debug("nutpie CompiledPyMCModel lacks fields %s", sorted(_FIELDS - fields))
        return None
    return cp


def compile_model(model, key_parts: tuple[str, str, int], *, use_cache: bool | None = None) -> Entry:
    """Compile ``model`` for nutpie: the cacheable path when possible, else stock nutpie.

    ``key_parts`` is ``(law spec JSON, likelihood, number of runs)``.
    """
    LAST.clear()
    if enabled(use_cache):
        cdir = cache_dir()
        cp = _private_api() if cdir is not None else None
        if cdir is None:
            log.debug("compile cache folder not writable; stock nutpie compile")
        if cp is not None:
            try:
                compiled, hit, support = _compile_fast(cp, model, model_key(*key_parts), cdir)
                entry = Entry(compiled, model, "cached", hit, _support_point_fn(model, support))
                entry.compiled = dataclasses.replace(compiled, initial_point_func=entry.initial_point_func())
                LAST.update(path="cached", hit=hit)
                return entry
            except Exception as exc:  # noqa: BLE001 - any failure: the stock path
                log.debug("compile cache failed (%s: %s); stock nutpie compile", type(exc).__name__, exc)
    import nutpie

    LAST.update(path="stock", hit=False)
    return Entry(nutpie.compile_pymc_model(model), model, "stock", False)


# -- the cacheable path ------------------------------------------------------------------------

def _compile_fast(cp, model, key: str, cdir: Path):
    """(compiled model without initial point, loaded from disk?, support-point function)."""
    meta_path = cdir / f"model_{key}.json"
    LAST["meta"] = str(meta_path)
    support = _support_fn_dict(model)
    try:
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
        if meta is not None and meta.get("format") == FORMAT:
            return _from_meta(cp, model, meta, cdir, support(0)), True, support
    except Exception as exc:  # noqa: BLE001 - stale or partial cache: compile again
        log.debug("compile cache miss on %s (%s: %s)", meta_path.name, type(exc).__name__, exc)
    compiled, meta, LAST["numba_hit"] = _compile_cold(cp, model, cdir, support)
    try:
        if meta is not None:
            _write_atomic(meta_path, json.dumps(meta, indent=1))
    except OSError as exc:
        log.debug("compile cache metadata not written (%s)", exc)
    return compiled, False, support


def _cfunc(pyfunc, kind: str, cache: bool):
    """numba.cfunc with nutpie's logp / expand C signature."""
    import numba
    from numba import types as t

    dp = t.CPointer(t.double)
    sig = t.int64(t.uint64, *((dp, dp, dp) if kind == "logp" else (t.uint64, dp, dp)), t.voidptr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        return numba.cfunc(sig, cache=cache)(pyfunc)


def _shared_layout(cp, shared_var_keys, shared_data):
    """user_data record, byte offsets of each key's (data, size, shape) fields, size in words."""
    user_data = cp.make_user_data(shared_var_keys, shared_data)
    rec = user_data.dtype["shared"]
    base = user_data.dtype.fields["shared"][1]
    offsets = {}
    for k in shared_data:
        off = [base + rec.fields[f][1] + rec[f].fields[k][1] for f in ("data", "size", "shape")]
        if any(o % 8 for o in off) or rec["data"][k].itemsize != 8 or rec["shape"][k].base.itemsize != 8:
            raise InputError("unexpected user_data layout")
        offsets[k] = [int(o) for o in off]
    if user_data.dtype.itemsize % 8:
        raise InputError("unexpected user_data size")
    return user_data, offsets, user_data.dtype.itemsize // 8


def _shared_arrays(shared_vars):
    """Fixed keys s0, s1, ... (nutpie: random uuids) and read-only copies of the current values."""
    keys, data = {var: f"s{i}" for i, var in enumerate(shared_vars)}, {}
    for var, key in keys.items():
        data[key] = np.array(var.get_value(), order="C", copy=True)
        data[key].flags.writeable = False
    return keys, data


def _compile_cold(cp, model, cdir: Path, support):
    """Compile with pytensor and numba; (compiled, metadata or None, numba's cache hit)."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    n_dim, n_exp, logp_pt, exp_pt, _, shape_info, reparam = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True, pymc_initial_point_fn=support,
        var_names=None)
    logp_fn, exp_fn = logp_pt.vm.jit_fn, exp_pt.vm.jit_fn
    shared_var_keys, shared_data = _shared_arrays(dict.fromkeys([*logp_pt.get_shared(), *exp_pt.get_shared()]))
    _warm.add_arrays(shared_var_keys, shared_data)
    user_data, offsets, nwords = _shared_layout(cp, shared_var_keys, shared_data)
    meta_shared = {k: (shared_data[k].ndim, shared_data[k].dtype.name) for k in shared_data}
    logp_keys = [shared_var_keys[v] for v in logp_pt.get_shared()]
    exp_keys = [shared_var_keys[v] for v in exp_pt.get_shared()]
    src = gen_source(n_dim, n_exp, logp_keys, exp_keys, meta_shared, offsets, nwords)

    graph_keys = [CACHED_SRC_FUNCTIONS.get(logp_fn.py_func), CACHED_SRC_FUNCTIONS.get(exp_fn.py_func)]
    cacheable = all(isinstance(k, str) for k in graph_keys)  # else the file name cannot tell graphs apart
    name = "cfunc_" + _sha(json.dumps([src, graph_keys, versions()]))[:24]
    mod = _load_module(cdir, name, src, _sha(src))
    mod.logp_inner, mod.expand_inner = logp_fn, exp_fn
    logp_c = _cfunc(mod.logp_c, "logp", cacheable)
    exp_c = _cfunc(mod.expand_c, "expand", cacheable)
    hit = logp_c.cache_hits > 0 and exp_c.cache_hits > 0
    compiled = _assemble(cp, model, n_dim, n_exp, shape_info, reparam, logp_c, exp_c,
                         shared_var_keys, shared_data, user_data, logp_pt, exp_pt)
    if not cacheable:
        log.debug("pytensor gave no graph cache key; cfuncs not disk-cached")
        return compiled, None, hit
    names, slices, shapes = shape_info
    meta = {"format": FORMAT, "module": name, "source_sha256": _sha(src), "n_dim": int(n_dim),
            "n_expanded": int(n_exp), "nwords": int(nwords),
            "shape_info": {"names": list(names), "slices": [[int(s.start), int(s.stop)] for s in slices],
                           "shapes": [[int(d) for d in s] for s in shapes]},
            "reparameterized_names": list(reparam),
            "shared": [{"name": v.name, "key": k, "ndim": meta_shared[k][0], "dtype": meta_shared[k][1],
                        "offsets": offsets[k]} for v, k in shared_var_keys.items()]}
    return compiled, meta, hit


def _from_meta(cp, model, meta, cdir: Path, point: dict):
    """Rebuild the compiled model from the metadata and numba's disk cache (no pytensor compile).

    ``point`` (the model's support point) gives the shapes of the free variables on this data.
    """
    free = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    info = meta["shape_info"]
    names, shapes = info["names"], [tuple(s) for s in info["shapes"]]
    if names[:len(free)] != free or [np.shape(point[n]) for n in free] != shapes[:len(free)]:
        raise InputError("free variables differ from the cached model")
    shared_vars = [model[s["name"]] for s in meta["shared"] if s["name"] not in _warm.NAMES]
    shared_var_keys, shared_data = _shared_arrays(shared_vars)
    _warm.add_arrays(shared_var_keys, shared_data)
    by_name = {var.name: key for var, key in shared_var_keys.items()}
    for s in meta["shared"]:
        arr = shared_data.get(s["key"])
        if by_name.get(s["name"]) != s["key"] or arr is None or arr.ndim != s["ndim"] or arr.dtype.name != s["dtype"]:
            raise InputError(f"shared variable {s['name']} differs from the cached model")
    user_data, offsets, nwords = _shared_layout(cp, shared_var_keys, shared_data)
    if nwords != meta["nwords"] or any(offsets[s["key"]] != s["offsets"] for s in meta["shared"]):
        raise InputError("user_data layout differs from the cached model")
    mod = _load_module(cdir, meta["module"], None, meta["source_sha256"])
    logp_c = _cfunc(mod.logp_c, "logp", True)  # fails (logp_inner is None) unless numba's cache hits
    exp_c = _cfunc(mod.expand_c, "expand", True)
    if not (logp_c.cache_hits and exp_c.cache_hits):
        raise RuntimeError("numba cache miss")
    shape_info = (names, [slice(a, b) for a, b in info["slices"]], shapes)
    return _assemble(cp, model, meta["n_dim"], meta["n_expanded"], shape_info,
                     meta["reparameterized_names"], logp_c, exp_c, shared_var_keys, shared_data,
                     user_data, None, None)


def _assemble(cp, model, n_dim, n_exp, shape_info, reparam, logp_c, exp_c, shared_var_keys,
              shared_data, user_data, logp_pt, exp_pt):
    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparam)
    return cp.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=logp_c, compiled_expand_func=exp_c,
        initial_point_func=None, shared_data=shared_data, shared_var_keys=shared_var_keys,
        user_data=user_data, n_expanded=n_exp, shape_info=shape_info, logp_func=logp_pt,
        expand_func=exp_pt, reparameterized_names=list(reparam))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _load_module(cdir: Path, name: str, src: str | None, sha: str):
    """Import the generated module ``name`` (writing ``src`` first if new); checks its hash."""
    path = cdir / f"{name}.py"
    if src is not None and not path.is_file():
        _write_atomic(path, src)
    if _sha(path.read_text()) != sha:
        raise InputError(f"{path} does not match its hash")
    spec = importlib.util.spec_from_file_location(f"bayes_scaling_cfunc_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
