"""Checkpoint data at scale (issue 7): 10^5 rows, time to a converged posterior and peak memory.

    .venv/bin/python benchmarks/bench_checkpoints.py [--runs 200] [--steps 500] [--tune 500] [--draws 500]
                                                     [--skip-fit] [--numpyro]

Data: 200 runs x 500 checkpoints (10^5 rows) simulated from Kaplan's L(N, S) = (Nc/N)^alpha_N +
(Sc/S)^alpha_S (Kaplan et al. 2020, Table 3 values) with a run effect (sd 0.03 in log loss) and
1% noise; ``bs.fit(runs, law="kaplan_ns")`` turns the run effect on by itself and drops the first
10% of each run (90,000 rows are fitted).

1. **The package's fit**, in a fresh process per likelihood: ``bs.fit(runs, law="kaplan_ns", seed=1,
   tune=..., draws=..., likelihood=...)`` (nutpie + numba, float64, 4 chains on 2 cores), with the
   default ``likelihood="auto"`` (here Normal noise: run offsets integrated out of the likelihood,
   then drawn from their conditional, and the residuals checked for heavy tails) and with
   ``likelihood="student_t"`` (robust; run offsets sampled, centred). Wall time, where it
   went, convergence (R-hat <= 1.01 and ESS_bulk >= 400 for every sampled quantity, run effects
   included) and peak memory (``ru_maxrss`` of the process; with ``--tracemalloc`` also tracemalloc's
   peak of Python/numpy allocations, which slows the fit, so its times are then not the fit's).
2. **Backends**, each in a fresh process: the cost of one log-density + gradient evaluation of
   the same model (the package's PyMC model, and the same density written on the runs x steps
   grid, "vectorized") compiled by pytensor to numba (what nutpie runs) or to JAX, in float64
   and float32, with the largest relative difference of the log density and of the gradient
   from the float64 numba values at 4 points (correctness). NUTS time is proportional to this
   cost at a fixed number of leapfrog steps, so the table projects the fit's sampling time.
3. ``--numpyro``: the package's PyMC model sampled by numpyro (dense mass matrix, 2 chains per
   core) with the same tune/draws, for time and convergence.

Targets: 10^5 rows in <= 60 s on 2 cores and <= 2 GiB. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRUTH = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
RUN_SD, NOISE = 0.03, 0.01
LAPLACE_TUNE = 400  # bayes_scaling.pymc_model._laplace.LAPLACE_TUNE (not imported: the parent stays light)
REPORTED = ["alpha_N", "alpha_S", "Nc", "Sc", "run_sd", "sigma", "nu"]


def make_runs(n_runs: int, n_steps: int, seed: int = 0):
    import bayes_scaling as bs
    from bayes_scaling.data.synthetic import checkpoint_design

    frame = bs.simulate("kaplan_ns", TRUTH, checkpoint_design(n_runs, n_steps), noise=NOISE, seed=seed,
                        checkpoints={"run_sd": RUN_SD})
    return bs.load_runs(frame)


def peak_rss_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


# ----------------------------------------------------------------------------- children
def child_fit(args) -> dict:
    import tracemalloc

    if args.tracemalloc:  # tracing every allocation slows Python (importing nutpie: ~9 s instead of ~3)
        tracemalloc.start()
    import bayes_scaling as bs

    runs = make_runs(args.runs, args.steps)
    rss_data = peak_rss_gib()
    t0 = time.perf_counter()
    likelihood, start, distinct = FIT_ARGS[args.likelihood]
    if not distinct:  # the row-by-row model of before (bayes_scaling.pymc_model.gathered)
        from bayes_scaling.pymc_model import gathered

        gathered.MIN_ROWS = 10**12
    # the Laplace start tunes its own default; the other columns tune --tune steps, as before
    tune = None if start is None and likelihood == "student_t" else args.tune
    fit = bs.fit(runs, law="kaplan_ns", seed=1, progress=False, tune=tune, draws=args.draws,
                 likelihood=likelihood, **({"start": start} if start else {}))
    wall = time.perf_counter() - t0
    _, traced = tracemalloc.get_traced_memory()
    d = fit.diagnostics
    s = fit.summary()
    n_steps = fit.posterior["sample_stats"]["n_steps"].values
    return {"rows": len(runs), "fitted_rows": len(fit.runs), "wall": wall, "timings": fit.timings,
            "likelihood": fit.likelihood, "likelihood_choice": fit.settings.get("likelihood_choice", ""),
            "start": fit.settings.get("start", ""), "tune": fit.settings.get("tune"),
            "target_accept": fit.settings.get("target_accept"), "adaptation": fit.settings.get("adaptation"),
            "checks": list(d.checks), "remedy": fit.settings.get("remedy", ""),
            "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk, "worst_rhat": d.worst_rhat,
            "worst_ess": d.worst_ess, "divergences": d.divergences, "verdict": d.verdict,
            "steps_per_draw": float(n_steps.mean()),
            "summary": {p: {k: float(s.loc[p, k]) for k in ("median", "lower", "upper", "r_hat", "ess_bulk")}
                        for p in REPORTED if p in s.index},
            "peak_rss_gib": peak_rss_gib(), "rss_after_data_gib": rss_data,
            "tracemalloc_peak_gib": traced / 2**30 if args.tracemalloc else None,
            "draws_total": int(n_steps.size)}


def _vectorized_model(runs):
    """The package's kaplan_ns model with its run effect (centred, as the package samples it with this
    many checkpoints per run; same priors and data), written
    on the runs x steps grid: the law's N term per run, the step term per step, no per-row gathers."""
    import numpy as np
    import pandas as pd
    import pymc as pm
    import pytensor.tensor as pt

    d = runs.data.assign(run=runs.data["run"].astype(str))
    ids, steps = pd.unique(d["run"]), np.sort(d["step"].unique())
    y = d.pivot(index="run", columns="step", values="loss").loc[ids, steps].to_numpy()
    if not np.isfinite(y).all():
        raise ValueError("the vectorized model needs every run at every step")
    log_n = np.log(d.groupby("run")["N"].first().loc[ids].to_numpy())
    log_n0, log_s0 = np.log(d["N"]).mean(), np.log(d["step"]).mean()  # the package's reference scales
    with pm.Model(coords={"run": ids, "step": steps}) as model:
        alpha_n = pm.LogNormal("alpha_N", np.log(0.08), 0.75)
        alpha_s = pm.LogNormal("alpha_S", np.log(0.7), 0.6)
        r_n, r_s = pm.Normal("log_Nc_ref", 1.0, 0.75), pm.Normal("log_Sc_ref", -1.0, 1.5)
        run_sd = pm.HalfNormal("run_sd", 0.05)
        effect = pm.Normal("run_effect", 0.0, run_sd, dims="run")
        mu = pt.logaddexp((r_n + alpha_n * (log_n0 - log_n))[:, None],
                          (r_s + alpha_s * (log_s0 - np.log(steps)))[None, :]) + effect[:, None]
        pm.StudentT("obs", nu=pm.Gamma("nu", 2.0, 0.1), mu=mu, sigma=pm.HalfNormal("sigma", 0.1),
                    observed=np.log(y), dims=("run", "step"))
    return model


def child_grad(args) -> dict:
    import numpy as np
    import pytensor

    from bayes_scaling.data.checkpoints import drop_warmup
    from bayes_scaling.law.spec import load_law
    from bayes_scaling.pymc_model.build import build_model
    from bayes_scaling.pymc_model.structure import resolve_structure

    runs = drop_warmup(make_runs(args.runs, args.steps), 0.1)
    law = load_law("kaplan_ns")
    structure = resolve_structure(runs, law, None, None)
    from bayes_scaling.pymc_model import gathered

    models = {"package model": build_model(law, runs, "student_t", structure)}
    minimum, gathered.MIN_ROWS = gathered.MIN_ROWS, 10**12
    models["package model, row by row (before)"] = build_model(law, runs, "student_t", structure)
    gathered.MIN_ROWS = minimum
    models["vectorized"] = _vectorized_model(runs)
    try:
        import jax  # noqa: F401

        modes = ("NUMBA", "JAX")
    except ImportError:  # not a dependency: measured where it is installed
        modes = ("NUMBA",)
    out = {"floatX": pytensor.config.floatX, "rows": len(runs), "results": {}}
    for name, model in models.items():
        point = model.initial_point()
        names = [v.name for v in model.value_vars]
        # the same 4 points for every model, backend and dtype: the initial point, then 3 perturbed copies
        points = [point] + [{k: (v + 0.1 * np.random.default_rng([i, zlib.crc32(k.encode())]).standard_normal(v.shape))
                             .astype(v.dtype) for k, v in point.items()} for i in range(3)]
        logp = model.logp()
        grads = pytensor.grad(logp, model.value_vars)
        for mode in modes:
            t0 = time.perf_counter()
            f = pytensor.function(model.value_vars, [logp, *grads], mode=mode)
            f(*[points[0][n] for n in names])
            compile_s = time.perf_counter() - t0
            values = [f(*[p[n] for n in names]) for p in points]
            reps, t0 = 0, time.perf_counter()
            while reps < 5 or time.perf_counter() - t0 < 2.0:
                f(*[points[0][n] for n in names])
                reps += 1
            ms = (time.perf_counter() - t0) / reps * 1e3
            out["results"][f"{name}|{mode}"] = {
                "ms": ms, "compile_s": compile_s,
                "logp": [float(v[0]) for v in values],
                "grad": [np.concatenate([np.ravel(v[1 + names.index(n)]) for n in sorted(names)]).astype(float).tolist()
                         for v in values]}
    return out


def child_numpyro(args) -> dict:
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    import arviz as az
    import pymc as pm

    from bayes_scaling.data.checkpoints import drop_warmup
    from bayes_scaling.law.spec import load_law
    from bayes_scaling.pymc_model.build import build_model
    from bayes_scaling.pymc_model.structure import resolve_structure

    runs = drop_warmup(make_runs(args.runs, args.steps), 0.1)
    law = load_law("kaplan_ns")
    model = build_model(law, runs, "student_t", resolve_structure(runs, law, None, None))
    t0 = time.perf_counter()
    trace = pm.sample(draws=args.draws, tune=args.tune, chains=4, nuts_sampler="numpyro", model=model, random_seed=1,
                      progressbar=False, compute_convergence_checks=False, idata_kwargs={"log_likelihood": False},
                      nuts_sampler_kwargs={"chain_method": "parallel", "dense_mass": True})
    wall = time.perf_counter() - t0
    post = trace["posterior"].to_dataset()
    names = [v for v in post.data_vars]
    rhat, ess = az.rhat(post[names]), az.ess(post[names], method="bulk")
    r = {k: float(rhat[k].max()) for k in names}
    e = {k: float(ess[k].min()) for k in names}
    return {"wall": wall, "max_rhat": max(r.values()), "min_ess_bulk": min(e.values()),
            "worst_rhat": max(r, key=r.get), "divergences": int(trace["sample_stats"]["diverging"].sum()),
            "steps_per_draw": float(trace["sample_stats"]["n_steps"].mean()),
            "medians": {p: float(post[p].median()) for p in REPORTED}, "peak_rss_gib": peak_rss_gib()}


# ----------------------------------------------------------------------------- parent
#: The fits of table 1: column key -> heading, and (likelihood, start, law on distinct values). The default
#: baseline of a run is the Student-t fit evaluated row by row (as before session 7); ``student_t_tune`` is
#: the fit as it was before the Laplace start (nutpie's low-rank tuning; 25 min or more, ``--columns``).
LIKELIHOODS = {"auto": "default (`likelihood=\"auto\"`)",
               "student_t": "`likelihood=\"student_t\"` (the Laplace start, the law on distinct values)",
               "student_t_rows": "`likelihood=\"student_t\"`, the law row by row (before)",
               "student_t_tune": "`likelihood=\"student_t\", start=\"tune\"` (before the Laplace start)"}
FIT_ARGS = {"auto": ("auto", None, True), "student_t": ("student_t", None, True),
            "student_t_rows": ("student_t", None, False), "student_t_tune": ("student_t", "tune", True)}
COLUMNS = "auto,student_t,student_t_rows"


def print_fits(fits: dict) -> None:
    """Table 1: the package's fit, one column per likelihood."""
    print("**1. The package's fit** (`bs.fit(runs, law=\"kaplan_ns\", likelihood=...)`, nutpie + numba, "
          "float64), each in a fresh process:\n")
    ok = {k: f for k, f in fits.items() if "error" not in f}
    for k, f in fits.items():
        if "error" in f:
            print(f"{LIKELIHOODS[k]}: failed: {f['error']}\n")
    if not ok:
        return

    def row(label, fn, target=""):
        print(f"| {label} | " + " | ".join(fn(f) for f in ok.values()) + f" | {target} |")

    def other(f):
        tm = f["timings"]
        return f["wall"] - sum(tm.get(k, 0.0) for k in ("import_nutpie", "build", "compile", "laplace", "sample"))

    def conv(f):
        good = f["max_rhat"] <= 1.01 and f["min_ess_bulk"] >= 400
        return (f"{'yes' if good else 'NO'}: max R-hat {f['max_rhat']:.3f} ({f['worst_rhat']}), min ESS_bulk "
                f"{f['min_ess_bulk']:.0f} ({f['worst_ess']}), {f['divergences']} divergences")

    print("| quantity | " + " | ".join(LIKELIHOODS[k] for k in ok) + " | target |")
    print("|---|" + "---:|" * len(ok) + "---:|")
    row("noise model used", lambda f: f"{f['likelihood']} ({f['likelihood_choice']})")
    row("start, tuning steps, adaptation, target_accept",
        lambda f: f"{f['start']}, {f['tune']}, {f['adaptation']}, {f['target_accept']}")
    row("wall time of `bs.fit` (s)", lambda f: f"**{f['wall']:.0f}**", "<= 60")
    base = ok.get("student_t_rows") or ok.get("student_t_tune")
    if base:
        row("speed-up of `bs.fit` against the Student-t fit before (same run)",
            lambda f: f"{base['wall'] / f['wall']:.2f}x")
        row("speed-up of sampling against the same",
            lambda f: f"{base['timings']['sample'] / f['timings']['sample']:.2f}x")
    row("&nbsp;&nbsp;of which importing nutpie", lambda f: f"{f['timings'].get('import_nutpie', 0):.1f}")
    row("&nbsp;&nbsp;of which graph build", lambda f: f"{f['timings'].get('build', 0):.1f}")
    row("&nbsp;&nbsp;of which compile", lambda f: f"{f['timings'].get('compile', 0):.1f} (disk cache hit: "
        f"{'yes' if f['timings'].get('compile_cache_hit') else 'no'})")
    row("&nbsp;&nbsp;of which the Laplace start (mode, curvature)", lambda f: f"{f['timings'].get('laplace', 0):.1f}")
    row("&nbsp;&nbsp;of which sampling", lambda f: f"{f['timings'].get('sample', 0):.0f}")
    row("&nbsp;&nbsp;of which drawing offsets, diagnostics, rest", lambda f: f"{other(f):.0f}")
    row("leapfrog steps per draw (after tuning)", lambda f: f"{f['steps_per_draw']:.1f}")
    row("converged (R-hat <= 1.01, ESS_bulk >= 400)", conv)
    row("first run flagged and sampled again (remedy)", lambda f: f.get("remedy") or "no")
    row("peak memory, RSS (GiB)", lambda f: f"**{f['peak_rss_gib']:.2f}**", "<= 2")
    row("peak of Python/numpy allocations, tracemalloc (GiB)", lambda f: "not traced (`--tracemalloc`)"
        if f.get("tracemalloc_peak_gib") is None else f"{f['tracemalloc_peak_gib']:.2f} (traced: the times are slower)")
    row("model checks (heavy tails under Normal noise)", lambda f: "; ".join(f["checks"]) or "none")
    first = next(iter(ok.values()))
    print(f"\nThe pointwise log-likelihood of {first['draws_total']} draws x {first['fitted_rows']:,} rows would take "
          f"{first['draws_total'] * first['fitted_rows'] * 8 / 2**30:.2f} GiB; fits above 5e7 values do not store "
          "it (`Fit.with_log_likelihood()` computes it on demand).\n")
    truth = {**TRUTH, "run_sd": RUN_SD, "sigma": NOISE}
    print("| parameter | truth | " + " | ".join(f"{LIKELIHOODS[k]}: median [90%], R-hat, ESS_bulk" for k in ok) + " |")
    print("|---|---:|" + "---|" * len(ok))
    for p in REPORTED:
        cells = []
        for f in ok.values():
            v = f["summary"].get(p)
            cells.append("-" if v is None else f"{v['median']:.4g} [{v['lower']:.4g}, {v['upper']:.4g}], "
                                               f"{v['r_hat']:.3f}, {v['ess_bulk']:.0f}")
        print(f"| {p} | {truth[p]:.4g} | " if p in truth else f"| {p} | - | ", end="")
        print(" | ".join(cells) + " |")
    print()

def spawn(kind: str, args, env: dict | None = None, timeout: float = 3600, extra: tuple = ()) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--runs", str(args.runs), "--steps", str(args.steps),
           "--tune", str(args.tune), "--draws", str(args.draws), *(("--tracemalloc",) if args.tracemalloc else ()),
           *extra]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})},
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return {"error": f"exit code {out.returncode}: " + " | ".join(out.stderr.strip().splitlines()[-3:])}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--draws", type=int, default=500,
                        help="per chain (the package default is 1000)")
    parser.add_argument("--skip-fit", action="store_true", help="only the backend measurements")
    parser.add_argument("--columns", default=COLUMNS, help=f"fits of table 1, of {', '.join(FIT_ARGS)}")
    parser.add_argument("--numpyro", action="store_true", help="also sample with numpyro (slow)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per fresh process")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python/numpy allocations in the fits (slows them: not for their times)")
    parser.add_argument("--child", choices=["fit", "grad", "numpyro"], help=argparse.SUPPRESS)
    parser.add_argument("--likelihood", default="student_t", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = {"fit": child_fit, "grad": child_grad, "numpyro": child_numpyro}[args.child](args)
        print(json.dumps(result))
        return

    import numpy as np

    load0 = os.getloadavg()[0]
    rows = args.runs * args.steps
    print(f"{args.runs} runs x {args.steps} checkpoints = {rows:,} rows (kaplan_ns, run_sd {RUN_SD}, noise "
          f"{NOISE}); 4 chains x ({args.tune} tune + {args.draws} draws), seed 1; after the Laplace start, "
          f"its default tuning ({LAPLACE_TUNE} steps).\n")

    fits = {} if args.skip_fit else {
        lik: spawn("fit", args, timeout=args.timeout, extra=("--likelihood", lik)) for lik in args.columns.split(",")}
    if fits:
        print_fits(fits)
    fit = fits.get("student_t")

    grads = {"float64": spawn("grad", args, timeout=args.timeout),
             "float32": spawn("grad", args, env={"PYTENSOR_FLAGS": "floatX=float32"}, timeout=args.timeout)}
    print("**2. Backends** (speed-up and errors against the row-by-row model in numba): "
          f"one log density + gradient of the Student-t posterior (`likelihood=\"student_t\"`) "
          f"({grads['float64'].get('rows', 0):,} rows), each in a fresh process:\n")
    ref = grads["float64"].get("results", {}).get("package model, row by row (before)|NUMBA")
    base_ms = ref["ms"] if ref else float("nan")
    pkg = grads["float64"].get("results", {}).get("package model|NUMBA")  # what the Student-t fit sampled
    pkg_ms = pkg["ms"] if pkg else float("nan")
    sample_s = fit["timings"].get("sample") if fit and "error" not in fit else None
    print("| model | backend | dtype | ms per density + gradient | speed-up | max abs. error of log density (nats) | "
          "rel. error of gradient (norm) | projected sampling time (s) |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for dtype, res in grads.items():
        if "error" in res:
            print(f"| - | - | {dtype} | failed: {res['error']} | | | | |")
            continue
        for key, r in res["results"].items():
            model, mode = key.split("|")
            if ref:
                lp = max(abs(a - b) for a, b in zip(r["logp"], ref["logp"]))
                g = max(float(np.linalg.norm(np.subtract(a, b)) / np.linalg.norm(b))
                        for a, b in zip(r["grad"], ref["grad"]))
            else:
                lp = g = float("nan")
            proj = f"{sample_s * r['ms'] / pkg_ms:.0f}" if sample_s else "-"
            print(f"| {model} | {'numba (nutpie default)' if mode == 'NUMBA' else 'JAX'} | {dtype} | {r['ms']:.2f} | "
                  f"{base_ms / r['ms']:.2f} | {lp:.1e} | {g:.1e} | {proj} |")
    print("\nProjected sampling time: the Student-t fit's measured sampling time scaled by the cost of one evaluation "
          "(same number of leapfrog steps; the speed-up of a float32 density also assumes that its rounding "
          "does not change the trajectories, but an error of the log density of order 1 nat does change NUTS' "
          "accept/reject decisions). JAX inside nutpie is called through Python (one call per "
          "gradient), which adds a fixed cost per evaluation not included here.")

    if args.numpyro:
        res = spawn("numpyro", args, timeout=args.timeout)
        print("\n**3. numpyro** (the package's PyMC model, `pm.sample(nuts_sampler=\"numpyro\")`, dense mass "
              "matrix, 4 chains on 2 host devices, float64):\n")
        if "error" in res:
            print(f"failed: {res['error']}")
        else:
            print(f"wall {res['wall']:.0f} s, {res['steps_per_draw']:.1f} leapfrog steps per draw, max R-hat "
                  f"{res['max_rhat']:.3f} ({res['worst_rhat']}), min ESS_bulk {res['min_ess_bulk']:.0f}, "
                  f"{res['divergences']} divergences, peak RSS {res['peak_rss_gib']:.2f} GiB; medians "
                  + ", ".join(f"{k} {v:.4g}" for k, v in res["medians"].items()))
    print(f"\n1-min load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores, "
          "shared with other work).")


if __name__ == "__main__":
    main()
