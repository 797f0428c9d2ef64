"""The 10^5-row Student-t checkpoint fit from the Laplace start: nutpie with numba (the package) or with JAX.

    .venv/bin/python benchmarks/jax_fit.py numba        # the package's path, about 1 min
    /tmp/jax/bin/python benchmarks/jax_fit.py jax       # a Python with jax and this package installed

Measured once in session 11 (benchmarks/README.md, table `floor`'s section): both runs take the same
model (``bench_checkpoints.make_runs(200, 500)``, kaplan_ns, Student-t, 200 run offsets sampled), the
same Laplace map ``x = m + L z`` (:mod:`bayes_scaling.pymc_model._laplace`) and the same settings (4
chains x (400 + 500), target acceptance 0.75, seed 1). The JAX run compiles the model's pytensor graph
to JAX as nutpie's JAX backend does (``nutpie.compile_pymc._make_functions``, a private function of
nutpie 0.16), puts the map inside the jitted gradient, and hands it to nutpie through ``from_pyfunc``:
one Python call per gradient. Prints one line of sampling time, leapfrog steps per draw, max R-hat and
min ESS_bulk of the law and noise parameters, and their medians.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
SETTINGS = {"draws": 500, "tune": 400, "chains": 4, "cores": 2, "seed": 1, "progress_bar": False,
            "target_accept": 0.75}
WATCHED = ("alpha_N", "alpha_S", "run_sd", "nu", "sigma")


def _jax_model(model, warm):
    """The model in JAX, sampling ``z`` with ``x = m + L z``, as a nutpie model of Python callbacks."""
    import jax
    import jax.numpy as jnp
    from nutpie.compile_pymc import _make_functions
    from nutpie.compiled_pyfunc import from_pyfunc

    jax.config.update("jax_enable_x64", True)
    n_dim, _, logp_pt, expand_pt, _, (names, _, shapes), _ = _make_functions(
        model, mode="JAX", compute_grad=False, join_expanded=False,
        pymc_initial_point_fn=lambda seed: model.initial_point(), var_names=None)
    logp_jax, expand_jax = logp_pt.vm.jit_fn._fun, expand_pt.vm.jit_fn
    logp_shared = [v.get_value() for v in logp_pt.get_shared()]
    expand_shared = [v.get_value() for v in expand_pt.get_shared()]
    m, chol = jnp.asarray(warm.mean), jnp.asarray(warm.chol)
    value_and_grad = jax.jit(jax.value_and_grad(lambda z, *shared: logp_jax(m + chol @ z, *shared)[0]))

    def make_logp():
        def logp(z, **_):
            value, grad = value_and_grad(z, *logp_shared)
            return float(value), np.asarray(grad, dtype="float64", order="C")
        return logp

    def make_expand(seed1, seed2, chain):
        def expand(z, **_):
            values = expand_jax(np.asarray(m + chol @ z), *expand_shared)
            return {n: np.asarray(v, dtype="float64", order="C").reshape(s) for n, v, s in zip(names, values, shapes)}
        return expand

    return from_pyfunc(ndim=n_dim, make_logp_fn=make_logp, make_expand_fn=make_expand,
                       make_initial_point_fn=lambda seed: np.random.default_rng(seed).uniform(-1, 1, n_dim),
                       expanded_dtypes=[np.dtype("float64")] * len(names), expanded_shapes=shapes,
                       expanded_names=names)


def main(backend: str) -> None:
    import arviz as az
    import nutpie
    from bench_checkpoints import make_runs

    from bayes_scaling.data.checkpoints import drop_warmup
    from bayes_scaling.law.spec import load_law
    from bayes_scaling.pymc_model import _compile_cache, _laplace, _warm, build
    from bayes_scaling.pymc_model.structure import resolve_structure

    runs = drop_warmup(make_runs(200, 500), 0.1)
    law = load_law("kaplan_ns")
    model = build.build_model(law, runs, "student_t", resolve_structure(runs, law, None, None))
    compiled = _compile_cache.compile_model(model, ("jax_fit", "student_t", len(runs)), use_cache=True).compiled
    warm = _laplace.start(compiled, compiled.initial_point_func(1))
    sampled = _warm.applied(compiled, warm) if backend == "numba" else _jax_model(model, warm)
    t0 = time.perf_counter()
    trace = nutpie.sample(sampled, **SETTINGS)
    seconds = time.perf_counter() - t0
    post = trace.posterior
    rhat = max(float(az.rhat(post[v]).max()) for v in WATCHED)
    ess = min(float(az.ess(post[v]).min()) for v in WATCHED)
    medians = ", ".join(f"{v} {float(post[v].median()):.5g}" for v in WATCHED)
    print(f"{backend}: sampling {seconds:.1f} s, {float(trace.sample_stats['n_steps'].mean()):.2f} leapfrog steps "
          f"per draw, max R-hat {rhat:.4f}, min ESS_bulk {ess:,.0f}, {int(trace.sample_stats['diverging'].sum())} "
          f"divergences; medians: {medians}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "numba")
