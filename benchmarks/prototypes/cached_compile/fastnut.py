"""Disk-cacheable nutpie compilation for PyMC models (prototype)."""
import hashlib, importlib.util, os, sys, textwrap, time
from pathlib import Path
import numpy as np

TIMES = {}
CACHE_DIR = Path(os.environ.get("FASTNUT_CACHE", Path.home() / ".cache" / "fastnut"))

_HEADER = '''
import numpy as np, numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

@intrinsic
def _ptr(typingctx, src):
    sig = types.voidptr(src)
    def codegen(cgctx, builder, sig, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)
    return sig, codegen

logp_inner = None
expand_inner = None
'''

def _shared_code(keys, meta, offsets, indent):
    lines = []
    for i, k in enumerate(keys):
        ndim, dtype = meta[k]
        doff, soff, shoff = offsets[k]
        if ndim == 0:
            shape = "()"
        else:
            shape = "(" + ", ".join(f"u[{shoff//8 + j}]" for j in range(ndim)) + ",)"
        lines.append(f"a{i} = numba.carray(_ptr(u[{doff//8}]), {shape}, np.{dtype})")
    return textwrap.indent("\n".join(lines), indent)

def _gen_source(n_dim, n_exp, logp_keys, exp_keys, meta, offsets, nwords):
    lp_args = ", ".join(f"a{i}" for i in range(len(logp_keys)))
    ex_args = ", ".join(f"a{i}" for i in range(len(exp_keys)))
    src = _HEADER + f'''
def logp_c(dim, x_, out_, logp_, ud_):
    if dim != {n_dim}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_dim},))
        u = numba.carray(ud_, ({nwords},), np.uint64)
{_shared_code(logp_keys, meta, offsets, " " * 8)}
        logp_val, grad = logp_inner(x{", " if lp_args else ""}{lp_args})
        ok = True
        for i in range({n_dim}):
            g = grad[i]
            out[i] = g
            if not np.isfinite(g):
                ok = False
        logp_[0] = logp_val
        if not ok:
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0

def expand_c(dim, expanded, x_, out_, ud_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_exp}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_exp},))
        u = numba.carray(ud_, ({nwords},), np.uint64)
{_shared_code(exp_keys, meta, offsets, " " * 8)}
        (values,) = expand_inner(x{", " if ex_args else ""}{ex_args})
        for i in range({n_exp}):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
'''
    return src


def compile_pymc_model_cached(model, *, freeze_model=False, var_names=None):
    import numba
    import pymc as pm
    from nutpie import compile_pymc as cp
    import pytensor.link.numba.cache as pnc

    if freeze_model:
        from pymc.model.transform.optimization import freeze_dims_and_data
        model = freeze_dims_and_data(model)
    _t = time.perf_counter()
    ipf = pm.initial_point.make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs),
                                                 return_transformed=True)
    ipf = cp._wrap_with_lock(ipf)
    TIMES["initial_point_fn"] = time.perf_counter() - _t; _t = time.perf_counter()
    (n_dim, n_exp, logp_pt, exp_pt, initial_point_fn, shape_info, reparam) = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=ipf, var_names=var_names)
    logp_fn = logp_pt.vm.jit_fn
    TIMES["make_functions(pytensor)"] = time.perf_counter() - _t; _t = time.perf_counter()
    exp_fn = exp_pt.vm.jit_fn

    # deterministic keys for shared variables
    shared_data, shared_var_keys = {}, {}
    for val in [*logp_pt.get_shared(), *exp_pt.get_shared()]:
        if val in shared_var_keys:
            continue
        key = f"s{len(shared_var_keys)}"
        arr = np.array(val.get_value(), order="C", copy=True)
        arr.flags.writeable = False
        shared_data[key] = arr
        shared_var_keys[val] = key
    user_data = cp.make_user_data(shared_var_keys, shared_data)
    dt = user_data.dtype["shared"]
    base = user_data.dtype.fields["shared"][1]
    offsets = {}
    for k in shared_data:
        offsets[k] = tuple(base + dt.fields[f][1] + dt[f].fields[k][1] for f in ("data", "size", "shape"))
    meta = {k: (v.ndim, v.dtype.name) for k, v in shared_data.items()}
    nwords = user_data.dtype.itemsize // 8
    logp_keys = [shared_var_keys[v] for v in logp_pt.get_shared()]
    exp_keys = [shared_var_keys[v] for v in exp_pt.get_shared()]

    # graph keys from pytensor's own numba cache keys
    gk_logp = pnc.CACHED_SRC_FUNCTIONS.get(logp_fn.py_func)
    gk_exp = pnc.CACHED_SRC_FUNCTIONS.get(exp_fn.py_func)
    src = _gen_source(n_dim, n_exp, logp_keys, exp_keys, meta, offsets, nwords)
    cacheable = gk_logp is not None and gk_exp is not None
    h = hashlib.sha256(repr((src, gk_logp, gk_exp, numba.__version__)).encode()).hexdigest()[:24]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"nutcf_{h}.py"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(src)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"nutcf_{h}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    mod.logp_inner = logp_fn
    mod.expand_inner = exp_fn
    c_sig = numba.types.int64(numba.types.uint64, numba.types.CPointer(numba.types.double),
                              numba.types.CPointer(numba.types.double),
                              numba.types.CPointer(numba.types.double), numba.types.voidptr)
    c_sig_e = numba.types.int64(numba.types.uint64, numba.types.uint64,
                                numba.types.CPointer(numba.types.double),
                                numba.types.CPointer(numba.types.double), numba.types.voidptr)
    logp_c = numba.cfunc(c_sig, cache=cacheable)(mod.logp_c)
    exp_c = numba.cfunc(c_sig_e, cache=cacheable)(mod.expand_c)
    TIMES["cfunc(load/compile)"] = time.perf_counter() - _t
    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparam)
    global LAST_META
    LAST_META = dict(path=str(path), modname=spec.name, n_dim=n_dim, n_exp=n_exp, shape_info=shape_info,
                     reparam=reparam, dims=dims, coords=coords,
                     shared_names=[v.name for v in shared_var_keys], logp_keys=logp_keys, exp_keys=exp_keys,
                     x0=np.asarray(ipf(None) if False else _support_point(model, shape_info, initial_point_fn)))
    return cp.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=logp_c, compiled_expand_func=exp_c,
        initial_point_func=initial_point_fn, shared_data=shared_data,
        shared_var_keys=shared_var_keys, user_data=user_data, n_expanded=n_exp,
        shape_info=shape_info, logp_func=logp_pt, expand_func=exp_pt,
        reparameterized_names=reparam)


def _support_point(model, shape_info, initial_point_fn):
    import pymc as pm
    f = pm.initial_point.make_initial_point_fn(model=model, jitter_rvs=set(), return_transformed=True)
    d = f(0)
    return np.concatenate([np.ravel(d[model.rvs_to_values[rv].name]) for rv in model.free_RVs]).astype(float)

_MEMO = {}

def compile_pymc_model_fast(model, key, **kw):
    """Model-level cache: on a warm hit, no pytensor compilation at all."""
    import pickle, numba
    from nutpie import compile_pymc as cp
    import threading
    full_key = hashlib.sha256(repr((key, numba.__version__)).encode()).hexdigest()[:24]
    meta_path = CACHE_DIR / f"model_{full_key}.pkl"
    _t = time.perf_counter()
    if meta_path.exists():
        meta = pickle.loads(meta_path.read_bytes())
        spec = importlib.util.spec_from_file_location(meta["modname"], meta["path"])
        mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        c_sig = numba.types.int64(numba.types.uint64, numba.types.CPointer(numba.types.double),
                                  numba.types.CPointer(numba.types.double),
                                  numba.types.CPointer(numba.types.double), numba.types.voidptr)
        c_sig_e = numba.types.int64(numba.types.uint64, numba.types.uint64,
                                    numba.types.CPointer(numba.types.double),
                                    numba.types.CPointer(numba.types.double), numba.types.voidptr)
        try:
            logp_c = numba.cfunc(c_sig, cache=True)(mod.logp_c)
            exp_c = numba.cfunc(c_sig_e, cache=True)(mod.expand_c)
        except Exception as exc:
            print("fast path miss:", type(exc).__name__, str(exc)[:300])
            meta = None
        if meta is not None:
            shared_vars = [model[n] for n in meta["shared_names"]]
            shared_var_keys = {v: f"s{i}" for i, v in enumerate(shared_vars)}
            shared_data = {}
            for v, k in shared_var_keys.items():
                a = np.array(v.get_value(), order="C", copy=True); a.flags.writeable = False
                shared_data[k] = a
            user_data = cp.make_user_data(shared_var_keys, shared_data)
            x0 = meta["x0"]
            def initial_point_fn(seed):
                rng = np.random.default_rng(seed)
                return x0 + rng.uniform(-1, 1, size=x0.shape)
            TIMES["fast_hit"] = time.perf_counter() - _t
            shape_info = meta["shape_info"]
            return cp.CompiledPyMCModel(
                _n_dim=meta["n_dim"], dims=meta["dims"], _coords=meta["coords"],
                _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
                compiled_logp_func=logp_c, compiled_expand_func=exp_c,
                initial_point_func=initial_point_fn, shared_data=shared_data,
                shared_var_keys=shared_var_keys, user_data=user_data, n_expanded=meta["n_exp"],
                shape_info=shape_info, logp_func=None, expand_func=None,
                reparameterized_names=meta["reparam"])
    cm = compile_pymc_model_cached(model, **kw)
    meta_path.write_bytes(pickle.dumps(LAST_META))
    return cm
