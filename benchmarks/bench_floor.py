"""What one gradient of the 10^5-row Student-t checkpoint fit costs, against its floor and the Normal fit's.

    .venv/bin/python benchmarks/bench_floor.py        # about 1 min on 2 cores

Issue 19 asks for the Student-t fit at 10^5 rows "within the Normal fit's time". NUTS' time is
(leapfrog steps) x (cost of one log density + gradient), and the two fits differ in both. This
benchmark measures the second factor on the checkpoint benchmark's table (``bench_checkpoints.make_runs``,
200 runs x 500 steps, 90,000 rows fitted), one process, the functions interleaved (15 rounds of 50
calls each; min and median per call):

1. the package's Student-t model with PyMC's ``StudentT`` (``log1p`` per row; before session 10);
2. the package's Student-t model (:mod:`bayes_scaling.pymc_model.student_t`: one ``log`` per row);
3. **a floor**: the same Student-t density and its gradient hand-written as one numba loop over the
   rows (the law on distinct values, one ``log`` for the law and one for the density per row, the
   gradient scattered to the distinct values and the runs in the same pass). Nothing in the package
   uses it; it says how much any rewrite of the Student-t density could still gain. Its value is
   checked against ``scipy.stats.t.logpdf`` and its gradient against finite differences;
4. the package's Normal model (the run offsets integrated out: what ``likelihood="auto"`` fits here).

pytensor compiles 1, 2 and 4 to numba, the backend nutpie calls. With ``--jax-python PATH`` (a
Python with numpy, scipy and jax, e.g. ``python -m venv /tmp/jax && /tmp/jax/bin/pip install jax
scipy``), rows 5 and 6 are 2 and 4 written in JAX on the same table, timed in a child process
pinned to one core (``floor_jax.py``): a vectorized ``log``, which numba here has not. Their ratio is to
row 6, timed interleaved in the same child (times differ between processes on this shared machine by
up to 1.6x). Prints Markdown.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
ROUNDS, CALLS = 15, 50


def interleaved(calls: dict) -> dict[str, list[float]]:
    """ms per call of each function: ROUNDS rounds of CALLS calls each, the functions taking turns."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(ROUNDS):
        for name, f in calls.items():
            f()
            t0 = time.perf_counter()
            for _ in range(CALLS):
                f()
            times[name].append((time.perf_counter() - t0) / CALLS * 1e3)
    return times


def _model_function(runs, likelihood: str, pymc_student_t: bool = False):
    """The compiled (log density, gradient) of the package's model, and a point to call it at."""
    import pymc as pm
    import pytensor

    from bayes_scaling.law.spec import load_law
    from bayes_scaling.pymc_model import build
    from bayes_scaling.pymc_model.structure import resolve_structure

    law = load_law("kaplan_ns")
    ours = build.student_t
    if pymc_student_t:  # the density before session 10, for this measurement only
        build.student_t = lambda name, nu, mu, sigma, observed, dims: pm.StudentT(
            name, nu=nu, mu=mu, sigma=sigma, observed=observed, dims=dims)
    try:
        model = build.build_model(law, runs, likelihood, resolve_structure(runs, law, None, None))
    finally:
        build.student_t = ours
    f = pytensor.function(model.value_vars, [model.logp(), *pytensor.grad(model.logp(), model.value_vars)],
                          mode="NUMBA")
    point = model.initial_point()
    args = [point[v.name] for v in model.value_vars]
    return lambda: f(*args)


def _floor_kernel():
    import numba

    @numba.njit(cache=False)
    def kernel(log_n, log_s, n_idx, s_idx, run_idx, y, theta, effect, g_effect, g_a, g_b):
        """Student-t log density of kaplan_ns with run offsets; its gradient in ``g_*`` and the return."""
        alpha_n, log_nc, alpha_s, log_sc, sigma, nu = theta
        a = np.exp(alpha_n * (log_nc - log_n))
        b = np.exp(alpha_s * (log_sc - log_s))
        g_a[:] = 0.0
        g_b[:] = 0.0
        g_effect[:] = 0.0
        scale2 = nu * sigma * sigma
        sum_log_w, sum_r2_w = 0.0, 0.0
        for i in range(y.shape[0]):
            total = a[n_idx[i]] + b[s_idx[i]]
            r = y[i] - np.log(total) - effect[run_idx[i]]
            w = scale2 + r * r
            sum_log_w += np.log(w)
            d = r / w
            sum_r2_w += r * d
            g_mu = d / total
            g_a[n_idx[i]] += g_mu
            g_b[s_idx[i]] += g_mu
            g_effect[run_idx[i]] += d
        n = y.shape[0]
        half = (nu + 1.0) / 2.0
        const = n * (np.log(np.pi * scale2) * -0.5 + half * np.log(scale2))
        lp = const - half * sum_log_w  # without the gammaln terms (scalars)
        factor = 2.0 * half
        g_effect *= factor
        g_a *= factor * a
        g_b *= factor * b
        grads = np.array([np.sum(g_a * (log_nc - log_n)), alpha_n * np.sum(g_a),
                          np.sum(g_b * (log_sc - log_s)), alpha_s * np.sum(g_b),
                          -n / sigma + factor * sum_r2_w / sigma,
                          -0.5 * sum_log_w + 0.5 * n * np.log(scale2) - 0.5 * n / nu + half * sum_r2_w / nu])
        return lp, grads

    return kernel


def _floor(runs):
    """The floor's call, checked: its value against scipy, its gradient against finite differences."""
    from scipy import stats
    from scipy.special import gammaln

    log_n, n_idx = np.unique(np.log(runs.values("N")), return_inverse=True)
    log_s, s_idx = np.unique(np.log(runs.values("step")), return_inverse=True)
    _, run_idx = np.unique(runs.values("run"), return_inverse=True)
    y = np.log(runs.values("loss"))
    rng = np.random.default_rng(0)
    effect = rng.normal(0.0, 0.03, run_idx.max() + 1)
    theta = np.array([0.077, np.log(6.5e13), 0.76, np.log(2.1e3), 0.01, 5.0])
    buffers = [np.zeros(run_idx.max() + 1), np.zeros(len(log_n)), np.zeros(len(log_s))]
    kernel = _floor_kernel()
    idx = [x.astype(np.int32) for x in (n_idx, s_idx, run_idx)]

    def call(t=theta, e=effect):
        return kernel(log_n, log_s, *idx, y, t, e, *buffers)

    lp, grads = call()
    mu = np.log(np.exp(theta[0] * (theta[1] - log_n))[n_idx] + np.exp(theta[2] * (theta[3] - log_s))[s_idx])
    mu += effect[run_idx]
    exact = stats.t.logpdf(y, theta[5], loc=mu, scale=theta[4]).sum()
    value_error = abs(lp + len(y) * (gammaln(theta[5] / 2 + 0.5) - gammaln(theta[5] / 2)) - exact) / abs(exact)
    grad_error = _fd_error(call, theta, effect, grads, buffers[0].copy())
    return call, value_error, grad_error


def _fd_error(call, theta, effect, grads, g_effect) -> float:
    """Largest relative difference of the floor's gradient from central differences (4 law parameters,
    sigma, nu, 2 run offsets; the value and nu's gradient both leave out the gammaln terms)."""
    errors = []
    for k in range(6):
        h = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        fd = (call(up)[0] - call(down)[0]) / (2 * h)
        errors.append(abs(fd - grads[k]) / max(1.0, abs(fd)))
    for r in (0, 1):
        up, down = effect.copy(), effect.copy()
        up[r] += 1e-7
        down[r] -= 1e-7
        fd = (call(theta, up)[0] - call(theta, down)[0]) / 2e-7
        errors.append(abs(fd - g_effect[r]) / max(1.0, abs(fd)))
    return max(errors)


def _jax_rows(runs, python: str) -> tuple[dict[str, list[float]], str]:
    """Rows 5-6 from ``floor_jax.py`` run by ``python`` on this table as a runs x steps grid."""
    _, run_idx = np.unique(runs.values("run"), return_inverse=True)
    steps, n, y = runs.values("step"), runs.values("N"), np.log(runs.values("loss"))
    order = np.lexsort((steps, run_idx))
    shape = (run_idx.max() + 1, len(y) // (run_idx.max() + 1))
    grid_steps = steps[order].reshape(shape)
    if not (grid_steps == grid_steps[0]).all():
        raise SystemExit("--jax-python needs every run to have the same steps")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.npz"
        np.savez(path, log_n=np.log(n[order].reshape(shape)[:, 0]), log_s=np.log(grid_steps[0]),
                 y=y[order].reshape(shape))
        out = subprocess.run([python, str(HERE / "floor_jax.py"), str(path)], capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()
    rows = {name: [float(lo), float(med)] for name, lo, med in (line.split("\t") for line in out[:-1])}
    version, error_t, error_n = out[-1].split("\t")
    return rows, (f" In JAX ({version}, XLA on the CPU, float64) the Student-t value differs from scipy's by "
                  f"{error_t} and the Normal one from the multivariate Normal density by {error_n} (relative).")


def main() -> None:
    from bench_checkpoints import make_runs

    from bayes_scaling.data.checkpoints import drop_warmup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jax-python", help="a Python with jax, numpy and scipy: adds rows 5 and 6")
    args = parser.parse_args()
    runs = drop_warmup(make_runs(200, 500), 0.1)
    floor, value_error, grad_error = _floor(runs)
    calls = {"1. Student-t, PyMC's `StudentT` (`log1p` per row; before)": _model_function(runs, "student_t", True),
             "2. Student-t, the package's density (one `log` per row; now)": _model_function(runs, "student_t"),
             "3. Student-t, hand-fused numba loop (floor; not in the package)": floor,
             "4. Normal, run offsets integrated out (`likelihood=\"auto\"` here)": _model_function(runs, "normal")}
    times = interleaved(calls)
    normal = float(np.median(times[list(calls)[-1]]))
    jax_rows, jax_note = _jax_rows(runs, args.jax_python) if args.jax_python else ({}, "")
    print(f"{len(runs):,} rows (200 runs x 500 steps, warm-up dropped), kaplan_ns, one process, "
          f"{ROUNDS} rounds x {CALLS} calls, interleaved.\n")
    print("| log density + gradient | min (ms) | median (ms) | median / Normal's |\n|---|---:|---:|---:|")
    for name, t in times.items():
        print(f"| {name} | {min(t):.2f} | {np.median(t):.2f} | {np.median(t) / normal:.2f}x |")
    jax_normal = list(jax_rows.values())[-1][1] if jax_rows else 1.0
    for name, (low, median) in jax_rows.items():  # another process: compared with its own Normal (row 6)
        print(f"| {name} | {low:.2f} | {median:.2f} | {median / jax_normal:.2f}x of row 6 |")
    print(f"\nThe floor's log density differs from `scipy.stats.t.logpdf` summed over the rows by "
          f"{value_error:.1e} (relative), its gradient from central differences by at most {grad_error:.1e}.{jax_note}")


if __name__ == "__main__":
    main()
