"""Speed of compute-optimal allocation (issue 3). Prints a table of times and ratios from one run.

    .venv/bin/python benchmarks/bench_allocate.py [--draws 1000] [--chains 4] [--budgets 100]

The posterior is 4 chains x 1000 draws spread like Epoch AI's refit of the Chinchilla law
(published medians, log-normal with their bootstrap SEs); no sampler runs. Times, best of
--repeat runs, of ``allocate`` over all draws x budgets:
(1) the closed form (Hoffmann Eq. 4), (2) the numeric solver (vectorized golden section +
Newton polish, as used for any law of N and D), and as the baseline (3) the textbook loop:
``scipy.optimize.minimize_scalar`` per draw and budget, timed on a subset and scaled.
Target: (1) and (2) <= 0.5 s each on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bayes_scaling as bs  # noqa: E402
from bayes_scaling import Fit  # noqa: E402
from bayes_scaling.posterior.diagnostics import diagnose  # noqa: E402
from bayes_scaling.posterior.inference import complete_tree  # noqa: E402

EPOCH = {"E": (1.8172, 0.0257), "A": (482.01, 124.5), "B": (2085.43, 1293.2), "alpha": (0.3478, 0.0154),
         "beta": (0.3658, 0.0206)}


def epoch_like_fit(chains: int, draws: int, seed: int = 0) -> Fit:
    import xarray as xr

    rng = np.random.default_rng(seed)
    law = bs.load_law("chinchilla")
    design = bs.synthetic.chinchilla_design(60, seed=seed)
    runs = bs.load_runs(bs.simulate(law, {k: v[0] for k, v in EPOCH.items()}, design, noise=0.01, seed=seed))
    post = {k: m * np.exp(s / m * rng.standard_normal((chains, draws))) for k, (m, s) in EPOCH.items()}
    post["sigma"] = 0.01 * np.exp(0.05 * rng.standard_normal((chains, draws)))
    post["nu"] = 5.0 * np.exp(0.05 * rng.standard_normal((chains, draws)))
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(xr.Dataset({k: (("chain", "draw"), v) for k, v in post.items()}, coords=coords))
    tree["sample_stats"] = xr.DataTree(xr.Dataset({"diverging": (("chain", "draw"), np.zeros((chains, draws), bool))},
                                                  coords=coords))
    tree = complete_tree(tree, law, runs, "student_t")
    return Fit(posterior=tree, runs=runs, law=law, likelihood="student_t", settings={"seed": seed},
               diagnostics=diagnose(tree, list(post)))


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def scipy_loop(fit: Fit, budgets: np.ndarray, n_draws: int) -> float:
    from scipy import optimize

    post = fit.posterior["posterior"]
    p = {k: post[k].values.ravel()[:n_draws] for k in EPOCH}
    t = time.perf_counter()
    for i in range(n_draws):
        for c in budgets:
            def loss(log_n, i=i, c=c):
                n = np.exp(log_n)
                return np.log(p["E"][i] + p["A"][i] / n ** p["alpha"][i] + p["B"][i] / (c / (6 * n)) ** p["beta"][i])
            optimize.minimize_scalar(loss, bounds=(0.5 * np.log(c / 6e7), 0.5 * np.log(c / 6e-3)), method="bounded")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--budgets", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-draws", type=int, default=20)
    args = ap.parse_args()
    fit = epoch_like_fit(args.chains, args.draws)
    budgets = np.logspace(18, 27, args.budgets)
    n = args.chains * args.draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.decisions.DecisionWarning)
        closed = best_of(lambda: fit.allocate(budgets, method="closed_form"), args.repeat)
        numeric = best_of(lambda: fit.allocate(budgets, method="numeric"), args.repeat)
        a = fit.allocate_draws(budgets)
        b = fit.allocate_draws(budgets, method="numeric")
    ok = b["interior"].values
    agree = float(np.nanmax(np.abs(b["N_opt"].values[ok] / a["N_opt"].values[ok] - 1)))
    loop = scipy_loop(fit, budgets, args.baseline_draws) * n / args.baseline_draws
    print(f"allocate over {n} draws x {args.budgets} budgets (best of {args.repeat})\n")
    print("| path | seconds | target | scipy loop / this |")
    print("|---|---:|---:|---:|")
    print(f"| (1) closed form | {closed:.3f} | <= 0.5 | {loop / closed:,.0f}x |")
    print(f"| (2) numeric (golden section + Newton) | {numeric:.3f} | <= 0.5 | {loop / numeric:,.0f}x |")
    print(f"| (3) baseline: scipy minimize_scalar loop (scaled from {args.baseline_draws} draws) | {loop:.1f} | | 1x |")
    print(f"\nnumeric vs closed form: max relative difference of N_opt {agree:.1e} over "
          f"{int(ok.sum())} interior optima ({int((~ok).sum())} at the search bounds)")


if __name__ == "__main__":
    main()
