"""NUTS' target acceptance after the Laplace start (issue 19): leapfrog steps, ESS and R-hat.

    .venv/bin/python benchmarks/bench_accept.py              # both tables (about 20 min on 2 cores)
    .venv/bin/python benchmarks/bench_accept.py --no-fits    # the iid Normal table only (about 1 min)

After the Laplace start (:mod:`bayes_scaling.pymc_model._laplace`) NUTS samples coordinates where the
posterior is about iid standard Normal. There its trajectories have 2^k - 1 leapfrog steps, and which
k a draw needs depends on the step size, so the target acceptance (which sets the step size) moves
the cost in jumps, not smoothly.

1. **iid Normal** in the dimensions of checkpoint fits (parameters = runs + 7): nutpie, diagonal
   adaptation, 4 chains x (400 tune + 500 draws), seed 1, one process.
2. **The package's Student-t checkpoint fits** (``bs.fit(..., likelihood="student_t", draws=500,
   remedy=False, target_accept=...)``, the Laplace start with its 400 tuning steps), each in a fresh
   process, on the tables and seeds the tuning length was chosen on (``benchmarks/README.md``), and at
   10^5 rows on 8 seeds at the two targets that matter there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
TARGETS = (0.8, 0.75, 0.7)
DIMS = (67, 107, 207, 507, 1007)
FITS = ((200, 500, tuple(range(1, 9)), (0.8, 0.75)), (200, 60, (1, 2), TARGETS), (60, 40, (1, 2), TARGETS))


def iid_table() -> str:
    import arviz_stats as azs
    import numpy as np
    import nutpie
    import pymc as pm

    lines = ["| parameters | target_accept | step size | leapfrog steps per draw | min ESS_bulk | "
             "min ESS_bulk per 1000 gradients |", "|---:|---:|---:|---:|---:|---:|"]
    for d in DIMS:
        with pm.Model() as model:
            pm.Normal("x", 0.0, 1.0, shape=d)
        compiled = nutpie.compile_pymc_model(model)
        for target in TARGETS:
            trace = nutpie.sample(compiled, draws=500, tune=400, chains=4, seed=1, progress_bar=False,
                                  target_accept=target, adaptation="diag")
            steps = trace["sample_stats"]["n_steps"].values
            ess = float(np.min(azs.ess(trace["posterior"], method="bulk")["x"].values))
            lines.append(f"| {d} | {target} | {float(trace['sample_stats']['step_size'].mean()):.3f} | "
                         f"{steps.mean():.2f} | {ess:.0f} | {1000 * ess / steps.sum():.1f} |")
    return "\n".join(lines)


def child(runs: int, steps: int, target: float, seed: int) -> dict:
    from bench_checkpoints import make_runs

    import bayes_scaling as bs

    table = make_runs(runs, steps)
    t0 = time.perf_counter()
    fit = bs.fit(table, law="kaplan_ns", seed=seed, progress=False, draws=500, likelihood="student_t",
                 remedy=False, target_accept=target)
    d, stats = fit.diagnostics, fit.posterior["sample_stats"]
    return {"rows": len(fit.runs), "wall": time.perf_counter() - t0, "sample": fit.timings["sample"],
            "start": fit.settings["start"],
            "steps": float(stats["n_steps"].mean()), "step_size": float(stats["step_size"].mean()),
            "rhat": d.max_rhat, "worst": d.worst_rhat, "ess": d.min_ess_bulk, "divergences": d.divergences}


def fits_table() -> str:
    lines = ["| runs x checkpoints | target_accept | seeds | leapfrog steps per draw | sampling (s) | `bs.fit` (s) | "
             "max R-hat per seed (worst parameter) | min ESS_bulk | divergences | Laplace start used |",
             "|---|---:|---|---|---|---|---|---:|---:|---|"]
    for runs, steps, seeds, targets in FITS:
        for target in targets:
            out = []
            for seed in seeds:
                cmd = [sys.executable, __file__, "--child", str(runs), str(steps), str(target), str(seed)]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                out.append(json.loads(res.stdout.strip().splitlines()[-1]))
            join = lambda key, fmt: ", ".join(format(o[key], fmt) for o in out)  # noqa: E731
            rhats = ", ".join(f"{o['rhat']:.4f} ({o['worst']})" for o in out)
            lines.append(f"| {runs} x {steps} ({out[0]['rows']:,} fitted rows) | {target} | "
                         f"{', '.join(map(str, seeds))} | {join('steps', '.2f')} | {join('sample', '.0f')} | "
                         f"{join('wall', '.0f')} | {rhats} | {min(o['ess'] for o in out):.0f} | "
                         f"{sum(o['divergences'] for o in out)} | "
                         f"{sum(o['start'] == 'laplace' for o in out)} of {len(out)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fits", action="store_true", help="only the iid Normal table")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runs, steps, target, seed = args.child
        print(json.dumps(child(int(runs), int(steps), float(target), int(seed))))
        return
    print("**1. iid Normal** (nutpie, diagonal adaptation, 4 chains x (400 tune + 500 draws), seed 1):\n")
    print(iid_table())
    if not args.no_fits:
        print("\n**2. Student-t checkpoint fits from the Laplace start** (`kaplan_ns`, run_sd 0.03, noise 0.01, "
              "4 chains x (400 tune + 500 draws), `remedy=False`; each fit in a fresh process):\n")
        print(fits_table())


if __name__ == "__main__":
    main()
