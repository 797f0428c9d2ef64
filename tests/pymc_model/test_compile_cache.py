"""The disk-cacheable nutpie compile (bayes_scaling.pymc_model._compile_cache): bookkeeping (fast), and against
stock nutpie plus a fresh-process cache hit (slow)."""

import ast
import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.pymc_model import _compile_cache as cc
from bayes_scaling.pymc_model import sampling
from bayes_scaling.pymc_model._compile_source import gen_source
from tests.helpers import CHINCHILLA_TRUTH

ROOT = Path(__file__).resolve().parents[2]
PICKLE_SUFFIXES = {".pkl", ".pickle", ".pck", ".joblib"}


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(cc.ENV_OPT_OUT, raising=False)
    return tmp_path / "cache" / "nutpie"


def _runs(n=40, seed=0):
    design = chinchilla_design(n, seed=seed)
    return bs.load_runs(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.01, seed=seed))


# -- fast: keys, folders, switches, fallbacks ---------------------------------------------------

def test_model_key_depends_on_law_likelihood_and_n():
    law = bs.load_law("chinchilla")
    base = cc.model_key(law.to_json(), "student_t", 40)
    assert base == cc.model_key(law.to_json(), "student_t", 40)
    others = {cc.model_key(law.to_json(), "normal", 40), cc.model_key(law.to_json(), "student_t", 41),
              cc.model_key(law.with_priors("hoffmann2022").to_json(), "student_t", 40),
              cc.model_key(bs.load_law("kaplan_n").to_json(), "student_t", 40)}
    assert len(others) == 4 and base not in others
    assert set(cc.versions()) >= {"pymc", "pytensor", "nutpie", "numba", "bayes_scaling"}


def test_no_pickle_in_compile_cache_source():
    imported = set()
    for node in ast.walk(ast.parse(Path(cc.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"pickle", "cloudpickle", "dill", "joblib", "shelve", "marshal"}


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("BAYES_SCALING_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cc.cache_dir() == tmp_path / "xdg" / "bayes_scaling" / "nutpie"
    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "mine"))
    assert cc.cache_dir() == tmp_path / "mine" / "nutpie" and cc.cache_dir().is_dir()
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "a_file" / "below"))
    assert cc.cache_dir() is None  # cannot be created: the stock path is used


def test_opt_out_switches(monkeypatch):
    monkeypatch.delenv(cc.ENV_OPT_OUT, raising=False)
    assert cc.enabled() and cc.enabled(True) and not cc.enabled(False)
    monkeypatch.setenv(cc.ENV_OPT_OUT, "1")
    assert not cc.enabled() and cc.enabled(True)
    settings = sampling.SamplerSettings(compile_cache=False, seed=1).resolved()
    assert settings.compile_cache is False


@pytest.fixture
def fake_stock(monkeypatch):
    import nutpie

    calls = []
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model: calls.append(model) or "stock-compiled")
    return calls


def test_falls_back_to_stock_when_private_api_changes(cache_env, fake_stock, monkeypatch):
    import nutpie

    monkeypatch.setattr(nutpie, "__version__", "0.99.0")
    assert cc._private_api() is None
    entry = cc.compile_model("model", ("{}", "student_t", 3))
    assert (entry.compiled, entry.path, entry.hit) == ("stock-compiled", "stock", False)
    assert fake_stock == ["model"]


def test_falls_back_to_stock_on_any_error_and_when_unwritable(cache_env, fake_stock, monkeypatch):
    def boom(*args):
        raise RuntimeError("private API changed")

    monkeypatch.setattr(cc, "_compile_fast", boom)
    assert cc.compile_model("m1", ("{}", "normal", 3)).path == "stock"  # no crash
    monkeypatch.setattr(cc, "cache_dir", lambda: None)
    assert cc.compile_model("m2", ("{}", "normal", 3)).path == "stock"
    monkeypatch.setattr(cc, "cache_dir", lambda: pytest.fail("opt-out must not touch the cache"))
    monkeypatch.setenv(cc.ENV_OPT_OUT, "1")
    assert cc.compile_model("m3", ("{}", "normal", 3)).path == "stock"
    assert fake_stock == ["m1", "m2", "m3"]


def test_metadata_is_json_and_read_back(cache_env, monkeypatch):
    """The bookkeeping of _compile_fast with the compilers mocked: JSON written once, then read."""
    cdir = cc.cache_dir()
    seen = []
    monkeypatch.setattr(cc, "_support_fn_dict", lambda model: lambda seed: {"x": np.zeros(())})
    monkeypatch.setattr(cc, "_compile_cold", lambda cp, model, cdir, support: ("cold", {"format": cc.FORMAT,
                                                                                      "module": "m"}, False))
    monkeypatch.setattr(cc, "_from_meta", lambda cp, model, meta, cdir, point: seen.append(meta) or "warm")
    assert cc._compile_fast(None, "model", "k1", cdir)[:2] == ("cold", False)
    assert json.loads((cdir / "model_k1.json").read_text()) == {"format": cc.FORMAT, "module": "m"}
    assert cc._compile_fast(None, "model", "k1", cdir)[:2] == ("warm", True)
    assert seen == [{"format": cc.FORMAT, "module": "m"}]
    (cdir / "model_k1.json").write_text("{not json")  # corrupt or old: compiled again, rewritten
    assert cc._compile_fast(None, "model", "k1", cdir)[:2] == ("cold", False)
    (cdir / "model_k2.json").write_text(json.dumps({"format": -1}))
    assert cc._compile_fast(None, "model", "k2", cdir)[:2] == ("cold", False)
    names = sorted(p.name for p in cdir.iterdir())
    assert names == ["model_k1.json", "model_k2.json"]  # no temporary or pickle files left
    assert json.loads((cdir / "model_k2.json").read_text())["format"] == cc.FORMAT


def test_generated_source_is_valid_python():
    meta = {"s0": (1, "float64"), "s1": (0, "float64"), "wm": (1, "float64"), "wl": (2, "float64")}
    src = gen_source(3, 5, ["s0", "s1"], ["s1"], meta,
                     {"s0": [0, 32, 64], "s1": [8, 40, 72], "wm": [16, 48, 72], "wl": [24, 56, 80]}, 12)
    compile(src, "<generated>", "exec")
    assert "a0 = numba.carray(_ptr(u[0]), (u[8], ), np.float64)" in src
    assert "a1 = numba.carray(_ptr(u[1]), (), np.float64)" in src
    # the warm start's mean and factor, in both callbacks
    assert src.count("wl = numba.carray(_ptr(u[3]), (u[10], u[11], ), np.float64)") == 2
    assert src.count("_inner(_to_model(z, wm, wl)") == 2


# -- slow: the real compile -------------------------------------------------------------------

def _logp(compiled, x):
    """The compiled C callback's log density and gradient, as the Laplace start calls it."""
    from bayes_scaling.pymc_model import _laplace

    logp, grad = _laplace.log_density(compiled)(x)
    assert np.isfinite(logp)  # the callback returned 0
    return logp, grad


def _expand(compiled, x):
    out = np.zeros(compiled.n_expanded)
    dp = ctypes.POINTER(ctypes.c_double)
    rc = compiled.compiled_expand_func.ctypes(compiled.n_dim, compiled.n_expanded, x.ctypes.data_as(dp),
                                              out.ctypes.data_as(dp), compiled.user_data.ctypes.data)
    assert rc == 0
    return out


@pytest.mark.slow
def test_cached_compile_matches_stock_nutpie(cache_env):
    from bayes_scaling.pymc_model.build import build_model, model_data

    law = bs.load_law("chinchilla").with_priors("hoffmann2022")  # support point depends on the data
    runs, other = _runs(40, seed=3), _runs(40, seed=4)
    key = (law.to_json(), "student_t", len(runs))
    cached = cc.compile_model(build_model(law, runs), key)
    stock = cc.compile_model(build_model(law, runs), key, use_cache=False)
    assert (cached.path, cached.hit, stock.path) == ("cached", False, "stock")
    assert not {p.suffix for p in cache_env.rglob("*")} & PICKLE_SUFFIXES
    meta = json.loads(next(cache_env.glob("model_*.json")).read_text())
    assert meta["n_dim"] == cached.compiled.n_dim == stock.compiled.n_dim == 7

    # the same functions: logp, gradient and expanded draws, on this data and on new data
    rng = np.random.default_rng(0)
    pairs = [(cached.compiled, stock.compiled),
             (cached.with_data(model_data(law, other)), stock.compiled.with_data(**model_data(law, other)))]
    for a, b in pairs:
        for _ in range(3):
            x = rng.normal(scale=0.5, size=a.n_dim)
            (la, ga), (lb, gb) = _logp(a, x), _logp(b, x)
            np.testing.assert_allclose(la, lb, rtol=1e-10)
            np.testing.assert_allclose(ga, gb, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(_expand(a, x), _expand(b, x), rtol=1e-12)

    # the warm start's affine map: the model sees m + L z, the sampler gets L' grad (same logp)
    from bayes_scaling.pymc_model import _warm

    assert _warm.supports(cached.compiled) and not _warm.supports(stock.compiled)
    n = cached.compiled.n_dim
    m, chol = rng.normal(scale=0.3, size=n), np.tril(rng.normal(scale=0.2, size=(n, n))) + np.eye(n)
    warm = _warm.applied(pairs[1][0], _warm.WarmStart(mean=m, chol=chol))
    for _ in range(3):
        z = rng.normal(size=n)
        (lw, gw), (lb, gb) = _logp(warm, z), _logp(pairs[1][1], m + chol @ z)
        np.testing.assert_allclose(lw, lb, rtol=1e-10)
        np.testing.assert_allclose(gw, chol.T @ gb, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_expand(warm, z), _expand(pairs[1][1], m + chol @ z), rtol=1e-12)
    z0 = warm.initial_point_func(3)
    assert z0.shape == (n,) and np.all(np.abs(z0) <= 1.0)

    # the initial point is recomputed for the new data (not kept from the first data set)
    fresh = cc._support_point_fn(build_model(law, other))()
    assert not np.allclose(fresh, cc._support_point_fn(build_model(law, runs))())
    np.testing.assert_allclose(cached._support(), fresh)
    x0 = pairs[1][0].initial_point_func(7)
    assert np.all(np.abs(x0 - fresh) <= 1.0) and not np.allclose(x0, fresh)

    # and the posterior: medians equal within Monte-Carlo error
    medians = {}
    for path in ("cached", "stock"):
        sampling.clear_cache()
        if path == "stock":  # reuse the stock compile from above (the in-process cache)
            sampling._CACHE[key] = stock
        fit = bs.fit(runs, law="chinchilla", priors="hoffmann2022", seed=11, progress=False, draws=1000,
                     tune=500)
        if path == "cached":
            assert fit.timings["compile_cache_hit"] == 1.0  # warm: written above
        else:
            assert fit.timings["compile"] == 0.0  # it did sample the stock compile
        assert fit.diagnostics.max_rhat < 1.02
        medians[path] = fit.summary()
    a, b = medians["cached"], medians["stock"]
    z = (a["median"] - b["median"]).abs() / np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (z < 5).all(), z
    sampling.clear_cache()


CHILD = r"""
import json, sys
import bayes_scaling as bs
from bayes_scaling.pymc_model import _compile_cache as compile_cache
from bayes_scaling.data.synthetic import chinchilla_design
truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
seed = int(sys.argv[1])
frame = bs.simulate("chinchilla", truth, chinchilla_design(30, seed=seed), noise=0.01, seed=seed)
fit = bs.fit(bs.load_runs(frame), law="chinchilla", seed=seed, progress=False, draws=300, tune=300, chains=2,
             remedy=False)  # one sampler run, whatever its verdict: this is about compiling
print(json.dumps({"timings": fit.timings, "last": compile_cache.LAST,
                  "E": float(fit.summary().loc["E", "median"])}))
"""


@pytest.mark.slow
def test_second_fresh_process_hits_the_disk_cache(cache_env):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def child(seed):
        out = subprocess.run([sys.executable, "-c", CHILD, str(seed)], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=600, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = child(1), child(2)  # different data, same law / likelihood / size
    assert first["last"]["path"] == second["last"]["path"] == "cached"
    assert first["timings"]["compile_cache_hit"] == 0.0 and not first["last"]["hit"]
    assert second["timings"]["compile_cache_hit"] == 1.0 and second["last"]["hit"]
    assert first["last"]["meta"] == second["last"]["meta"]
    assert abs(first["E"] - 1.69) < 0.2 and abs(second["E"] - 1.69) < 0.2
    files = [p for p in cache_env.rglob("*") if p.is_file()]
    assert not {p.suffix for p in files} & PICKLE_SUFFIXES
    metas = [p for p in files if p.name.startswith("model_")]
    assert len(metas) == 1 and json.loads(metas[0].read_text())["format"] == cc.FORMAT


@pytest.mark.slow
def test_cached_compile_of_a_hierarchical_model(cache_env):
    """Integer data (group / run indices) and vector parameters; the reference is the pytensor
    function itself (kept by the cold compile), evaluated on the model's current data."""
    import inspect

    from bayes_scaling.pymc_model.build import build_model, model_data

    hierarchy = pytest.importorskip("bayes_scaling.pymc_model.structure")
    if "structure" not in inspect.signature(build_model).parameters:
        pytest.skip("build_model has no structure")

    def runs(seed):
        frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(30, seed=seed), noise=0.01,
                            seed=seed)
        frame["group"] = np.array(["a", "b", "c"])[np.arange(len(frame)) % 3]
        frame["run"] = np.arange(len(frame)) // 2
        return bs.load_runs(frame)

    law = bs.load_law("chinchilla")
    r1, r2 = runs(1), runs(2)
    structure = hierarchy.resolve_structure(r1, law, pooled=["E", "alpha"], run_effect=True)
    key = (law.to_json() + structure.signature(), "student_t", len(r1))
    cold = cc.compile_model(build_model(law, r1, "student_t", structure), key)
    warm = cc.compile_model(build_model(law, r2, "student_t", structure), key)
    assert (cold.path, cold.hit, warm.path, warm.hit) == ("cached", False, "cached", True)
    reference = cold.compiled.logp_func  # reads the shared variables of cold.model
    rng = np.random.default_rng(1)
    for step in ("r1", "r2 in-process", "r2 from disk"):
        if step == "r1":
            compiled = cold.compiled
        elif step == "r2 in-process":  # also sets cold.model's pm.Data to r2: the reference follows
            compiled = cold.with_data(model_data(law, r2, structure))
        else:
            compiled = warm.compiled
        for _ in range(2):
            x = rng.normal(scale=0.3, size=compiled.n_dim)
            logp, grad = _logp(compiled, x)
            ref_logp, ref_grad = reference(x)
            np.testing.assert_allclose(logp, ref_logp, rtol=1e-10)
            np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-12)
    assert warm.compiled.dims["E"] == ("group",) and list(warm.compiled.coords["group"]) == ["a", "b", "c"]
