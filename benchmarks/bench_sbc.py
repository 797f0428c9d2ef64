"""Simulation-based calibration of the chinchilla and kaplan_nd fits (issue 7). Prints Markdown.

    .venv/bin/python benchmarks/bench_sbc.py [--n-sims 100] [--n-runs 40] [--draws 500] [--workers 2]
                                             [--plots DIR]

For each law: ``n_sims`` parameter sets drawn from the law's default priors (noise scale and
Student-t nu included), a dataset of ``n_runs`` runs simulated from each on a Chinchilla-style
design (N log-uniform in 5e7..1e10, tokens per parameter log-uniform in 2..200), a NUTS fit of
each (4 chains x (tune + draws), one core per fit, ``workers`` processes), ranks of the true
values among 200 thinned posterior draws, and the simultaneous 99% ECDF band of
:func:`bayes_scaling.sbc` (arviz_stats' ``ecdf_pit``). Target: every parameter inside the band.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--laws", nargs="+", default=["chinchilla", "kaplan_nd"])
    parser.add_argument("--n-sims", type=int, default=100)
    parser.add_argument("--n-runs", type=int, default=40)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--plots", type=Path, default=None, help="write the ECDF-difference plots here")
    args = parser.parse_args()

    import bayes_scaling as bs

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = []
    for law in args.laws:
        results.append(bs.sbc(law, n_sims=args.n_sims, design=args.n_runs, seed=args.seed, draws=args.draws,
                              tune=args.tune, max_workers=args.workers))
        if args.plots:
            args.plots.mkdir(parents=True, exist_ok=True)
            results[-1].plot().savefig(args.plots / f"sbc_{law}.png", dpi=110)
    total = time.perf_counter() - t0
    load1 = os.getloadavg()[0]

    print(f"{args.n_sims} simulations per law, {args.n_runs} runs each, 4 chains x ({args.tune} tune + "
          f"{args.draws} draws) per fit, ranks among {results[0].n_draws} thinned draws, "
          f"{args.workers} worker processes, seed {args.seed}.\n")
    print("| law | parameter | verdict | points outside band | max abs ECDF diff | mean rank / L |")
    print("|---|---|---|---:|---:|---:|")
    for r in results:
        for p, row in r.verdict.iterrows():
            print(f"| {r.law} | {p} | {row['verdict'].upper()} | {row['points_outside']} | "
                  f"{row['max_ecdf_diff']:.3f} | {row['mean_rank']:.3f} |")
    print()
    print("| law | wall time (s) | s per fit | fits pass / warn / fail | fits with divergences | "
          "median max R-hat | median min ESS_bulk | all parameters in band |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        d = r.diagnostics
        counts = d["verdict"].value_counts()
        print(f"| {r.law} | {r.seconds:.0f} | {d['seconds'].median():.2f} | "
              f"{counts.get('pass', 0)} / {counts.get('warn', 0)} / {counts.get('fail', 0)} | "
              f"{int((d['divergences'] > 0).sum())} | {d['max_rhat'].median():.3f} | "
              f"{d['min_ess_bulk'].median():.0f} | {'yes' if r.passed else 'NO'} |")
    print(f"\nTotal {total:.0f} s ({total / 60:.1f} min) for {len(results) * args.n_sims} fits; "
          f"1-min load average {load0:.1f} before, {load1:.1f} after ({os.cpu_count()} cores). "
          f"Band: {results[0].settings['band']}, {results[0].settings['band_simulations']} simulations.")


if __name__ == "__main__":
    main()
