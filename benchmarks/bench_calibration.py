"""Calibration on Epoch's Chinchilla data (issue 7): backtest ours vs the Huber + bootstrap baseline.

    .venv/bin/python benchmarks/bench_calibration.py [--data ../shared/data] [--threshold 1e21]
                                                     [--n-boot 1000] [--full-grid]

Fit the Chinchilla law on the runs with C <= 1e21 FLOPs (Epoch's 240 runs after dropping the 5
highest losses, as Epoch did), predict the larger runs, and score the 90% intervals:

- ours: ``bs.backtest`` (default priors, Student-t likelihood, nutpie): predictive intervals
  (a new run's loss: law uncertainty plus run-to-run noise), and intervals of the mean law;
- baseline: the scipy Huber (delta 1e-3, on log loss) L-BFGS point fit over Hoffmann's
  initialisation grid, and percentile intervals of the predictions of 1000 bootstrap refits
  (Hoffmann et al. 2022, Epoch AI 2024), on the same split.

Targets: our coverage >= 85%, our median absolute relative error <= the baseline's. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threshold", type=float, default=1e21)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--full-grid", action="store_true",
                        help="baseline: L-BFGS from all 4500 grid points (about 25 min) instead of the best 1%%")
    args = parser.parse_args()

    import pandas as pd

    import bayes_scaling as bs
    from bayes_scaling.checks.backtest import summarize_table

    csv = args.data / "chinchilla_epoch" / "svg_extracted_data.csv"
    if not csv.is_file():
        sys.exit(f"Epoch's Chinchilla data not found at {csv} (use --data)")
    frame = pd.read_csv(csv)
    frame = frame.drop(frame["loss"].nlargest(5).index)  # as Epoch did
    runs = bs.load_runs(frame, N="Model Size", C="Training FLOP", loss="loss")

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bt = bs.backtest(runs, "chinchilla", split="compute", holdout=args.threshold, prob=0.9, seed=args.seed,
                         n_boot=args.n_boot, baseline_grid="full" if args.full_grid else "screened")
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught_gp:
        warnings.simplefilter("always")
        bt_gp = bs.backtest(runs, "chinchilla", split="compute", holdout=args.threshold, prob=0.9, seed=args.seed,
                            baseline=False, discrepancy="gp")
    seconds_gp = time.perf_counter() - t1
    caught += caught_gp
    fit = bt.fits["all"]
    # our intervals of the mean law, from the same fit (like-for-like with the bootstrap's)
    held = bt.table
    mean = fit.predict(N=held["N"].to_numpy(), D=held["D"].to_numpy(), prob=0.9, kind="mean")
    like = held.copy()
    like["median"], like["lower"], like["upper"] = (mean[f"loss_{k}"].to_numpy() for k in ("median", "lower", "upper"))
    like["covered"] = (like["truth"] >= like["lower"]) & (like["truth"] <= like["upper"])
    like["rel_error"] = (like["median"] - like["truth"]) / like["truth"]
    s, s_mean = bt.summary, summarize_table(like, 0.9)

    sp = bt.split
    print(f"Epoch's Chinchilla data ({len(runs)} runs after dropping the 5 highest losses): fitted on the "
          f"{sp['n_train']} runs with C <= {args.threshold:.0e} FLOPs, predicted the {sp['n_heldout']} runs "
          f"with C from {sp['heldout_range'][0]:.3g} to {sp['heldout_range'][1]:.3g} "
          f"(up to {held['decades_beyond'].max():.2f} decades beyond the fitted range; median "
          f"{held['decades_beyond'].median():.2f}).\n")
    print("| method | 90% interval of | coverage | median abs rel error | max abs rel error | "
          "median interval width / loss |")
    print("|---|---|---:|---:|---:|---:|")
    rows = [("ours with `discrepancy=\"gp\"` (law + GP orthogonal to it)", "a new run's loss (predictive)",
             bt_gp.summary.loc["bayes"]),
            ("ours (Bayes, Student-t, nutpie), the default", "a new run's loss (predictive)", s.loc["bayes"]),
            ("ours (Bayes, Student-t, nutpie)", "the mean law", s_mean.loc["bayes"]),
            (f"Huber L-BFGS + bootstrap x{args.n_boot}", "the mean law (bootstrap percentiles)",
             s.loc["huber_bootstrap"])]
    for name, what, r in rows:
        print(f"| {name} | {what} | {r['coverage']:.1%} ({round(r['coverage'] * r['n_heldout'])}/"
              f"{r['n_heldout']}) | {r['median_abs_rel_error']:.2%} | {r['max_abs_rel_error']:.2%} | "
              f"{r['median_rel_width']:.2%} |")
    base = s.loc["huber_bootstrap"]
    for label, ours in (("with `discrepancy=\"gp\"`", bt_gp.summary.loc["bayes"]), ("default", s.loc["bayes"])):
        t_cov = ours["coverage"] >= 0.85
        t_err = ours["median_abs_rel_error"] <= base["median_abs_rel_error"]
        print(f"\nTargets, ours {label}: coverage >= 85%: **{'met' if t_cov else 'MISSED'}** "
              f"({ours['coverage']:.1%}); median abs rel error <= the baseline's: "
              f"**{'met' if t_err else 'MISSED'}** ({ours['median_abs_rel_error']:.2%} vs "
              f"{base['median_abs_rel_error']:.2%}).")
    g = bt_gp.fits["all"]
    gs = g.summary()
    print(f"\nThe fit with the discrepancy: {g.diagnostics.verdict.upper()} (max R-hat {g.diagnostics.max_rhat:.3f}, "
          f"min ESS_bulk {g.diagnostics.min_ess_bulk:.0f}, {g.diagnostics.divergences} divergences; "
          f"{g.settings['chains']} x ({g.settings['tune']} + {g.settings['draws']})); medians "
          + ", ".join(f"{p} {gs.loc[p, 'median']:.4g}" for p in ("E", "alpha", "beta", "gp_eta", "sigma"))
          + f"; whole backtest {seconds_gp:.0f} s.")
    d = fit.diagnostics
    post = fit.summary()
    print(f"\nOur fit: {d.verdict.upper()} (max R-hat {d.max_rhat:.3f}, min ESS_bulk {d.min_ess_bulk:.0f}, "
          f"{d.divergences} divergences); posterior medians "
          + ", ".join(f"{p} {post.loc[p, 'median']:.4g}" for p in ("E", "A", "B", "alpha", "beta"))
          + f". Baseline grid: {sp['baseline']['grid']}. Whole backtest {seconds:.0f} s "
          f"(1-min load average {load0:.1f} -> {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores).")
    for w in caught:
        print(f"\nwarning: {w.message}")
    print("\nPer held-out run (loss, 90% intervals):\n")
    print("| C (FLOPs) | N | truth | ours with discrepancy | covered | ours: median [predictive interval] | covered "
          "| baseline: point [bootstrap interval] | covered | decades beyond |")
    print("|---:|---:|---:|---|---|---|---|---|---|---:|")
    gp_table = bt_gp.table
    for i, r in held.sort_values("C").iterrows():
        q = gp_table.loc[i]
        print(f"| {r['C']:.3g} | {r['N']:.3g} | {r['truth']:.3f} | {q['median']:.3f} [{q['lower']:.3f}, "
              f"{q['upper']:.3f}] | {'yes' if q['covered'] else 'no'} | {r['median']:.3f} [{r['lower']:.3f}, "
              f"{r['upper']:.3f}] | {'yes' if r['covered'] else 'no'} | {r['baseline_point']:.3f} "
              f"[{r['baseline_lower']:.3f}, {r['baseline_upper']:.3f}] | "
              f"{'yes' if r['baseline_covered'] else 'no'} | {r['decades_beyond']:.2f} |")


if __name__ == "__main__":
    main()
