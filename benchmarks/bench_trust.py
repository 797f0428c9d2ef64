"""Trustworthy by default (issue 15): convergence, coverage beyond the data, allocation, SBC, true law.

    .venv/bin/python benchmarks/bench_trust.py [convergence] [coverage] [allocation] [truth] [sbc] [time]
        [--data ../shared/data] [--sbc-sims 100]

Every number is the default ``bs.fit(runs, law, seed=...)`` (structural term, automatic remedy)
beside the form-trusting fit (``discrepancy=None``), measured in the same run. Prints Markdown:

- **convergence**: the default fit on every registered dataset, for the laws that apply, and on the
  six iso-FLOP sweeps of ``isoflops_llama3_marin/openathena_combined_isoflops.csv`` (all budgets):
  verdict (PASS = max R-hat <= 1.01, ESS bulk and tail >= 400, no divergences), whether the
  automatic remedy ran, seconds;
- **coverage**: 90% predictive intervals on held-out runs: Epoch's backtest (fit C <= 1e21, predict
  the 23 larger runs) and the iso-FLOP next-budget backtest (fit every budget but the largest of
  each sweep, predict the largest budget's runs): coverage, median |relative error|, median width;
- **allocation**: the posterior 90% interval of N_opt at each sweep's held-out largest budget
  against that budget's own optimum (Approach 2: vertex of a parabola in log N, residual
  bootstrap), with both widths in decades;
- **truth**: six synthetic Chinchilla datasets (the law is true): coverage of the largest 15% held
  out, and the default's interval widths over the form-trusting fit's;
- **sbc**: simulation-based calibration at default settings (share of fits that PASS, every
  parameter in the 99% band);
- **time**: the default Epoch fit in a fresh process, against the form-trusting fit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bayes_scaling as bs  # noqa: E402
from bayes_scaling.checks.isoflop import profile  # noqa: E402
from bayes_scaling.data.synthetic import chinchilla_design  # noqa: E402

SWEEPS = {"epochai_chinchilla": "epochai_chinchilla__massivetext__chinchilla",
          "ml_scalefit": "ml_scalefit__massivetext__chinchilla", "llama_3 exp_loss": "llama_3__exp_loss",
          "marin comma": "marin_202603__comma__llama_2", "marin dclm": "marin_202603__dclm__llama_2",
          "marin nemotron": "marin_202603__nemotron__llama_2"}
DATASET_LAWS = {"chinchilla_epoch": ["chinchilla", "kaplan_nd"],
                "datablations": ["data_constrained", "chinchilla", "kaplan_nd"],
                "demo_chinchilla": ["chinchilla", "kaplan_nd"], "gemstones": ["chinchilla", "kaplan_nd"],
                "porian_isoflop": ["chinchilla", "kaplan_nd"]}
#: porian_isoflop's groups (training setups): the law's scale parameters vary by group.
POOLED = {"chinchilla": ["E", "A", "B"], "kaplan_nd": ["Nc", "Dc"]}
TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def quiet_fit(runs, law, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.fit(runs, law, progress=False, **kw)


def sweep_runs(data: Path, name: str):
    d = pd.read_csv(data / "isoflops_llama3_marin" / "openathena_combined_isoflops.csv")
    d = d[d["experiment"] == SWEEPS[name]].rename(columns={"params": "N", "tokens": "D", "budget": "C"})
    return bs.load_runs(d[["N", "D", "C", "loss"]], c_rtol=10)  # C is the nominal budget (Marin's: ~6ND)


def verdict_row(label, law, fit, seconds) -> str:
    d = fit.diagnostics
    remedy = "yes" if fit.settings.get("remedy") else "no"
    return (f"| {label} | {law} | {len(fit.runs)} | **{d.verdict.upper()}** | {d.max_rhat:.3f} | "
            f"{d.min_ess_bulk:.0f} / {d.min_ess_tail:.0f} | {d.divergences} | {remedy} | {seconds:.1f} |")


def convergence(data: Path) -> None:
    print("\n### Convergence of the default fit (seed 1)\n")
    print("| data | law | rows | verdict | max R-hat | min ESS bulk / tail | divergences | remedy ran | s |")
    print("|---|---|---:|---|---:|---:|---:|---|---:|")
    cases = [(n, bs.datasets.load(n, data_home=data), law) for n, laws in DATASET_LAWS.items() for law in laws]
    cases += [(n, sweep_runs(data, n), law) for n in SWEEPS for law in ("chinchilla", "kaplan_nd")]
    passed = 0
    for label, runs, law in cases:
        kw = {"pooled": POOLED[law]} if label == "porian_isoflop" else {}
        t0 = time.perf_counter()
        fit = quiet_fit(runs, law, seed=1, **kw)
        passed += fit.diagnostics.verdict == "pass"
        print(verdict_row(label, law, fit, time.perf_counter() - t0), flush=True)
    print(f"\n{passed} of {len(cases)} default fits PASS.")


def _coverage_rows(cases, discrepancy) -> list[dict]:
    rows = []
    for label, runs, cut in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = bs.backtest(runs, "chinchilla", split="compute", holdout=cut, seed=1, baseline=False,
                             discrepancy=discrepancy)
        s = bt.summary.loc["bayes"]
        rows.append({"label": label, "n": int(s["n_heldout"]), "hits": int(round(s["coverage"] * s["n_heldout"])),
                     "err": s["median_abs_rel_error"], "width": s["median_rel_width"]})
    return rows


def coverage(data: Path) -> None:
    epoch = bs.datasets.load("chinchilla_epoch", data_home=data)
    cases = [("Epoch (C <= 1e21)", epoch, 1e21)]
    for name in SWEEPS:
        runs = sweep_runs(data, name)
        cases.append((name, runs, float(np.sort(np.unique(runs.values("C")))[-2])))
    print("\n### Coverage of 90% predictive intervals beyond the data\n")
    print("| held out | runs | default: covered | median err | median width | form-trusting: covered | median err "
          "| median width |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ours, plain = _coverage_rows(cases, "auto"), _coverage_rows(cases, None)
    for a, b in zip(ours, plain):
        print(f"| {a['label']} | {a['n']} | {a['hits']} ({a['hits'] / a['n']:.0%}) | {a['err']:.2%} | {a['width']:.2%} "
              f"| {b['hits']} ({b['hits'] / b['n']:.0%}) | {b['err']:.2%} | {b['width']:.2%} |")
    for name, rows in (("default", ours), ("form-trusting", plain)):
        iso = rows[1:]
        hits, n = sum(r["hits"] for r in iso), sum(r["n"] for r in iso)
        print(f"\nIso-FLOP next budget, {name}: {hits} of {n} ({hits / n:.0%}), median error "
              f"{np.median([r['err'] for r in iso]):.2%} (median over sweeps).")


def allocation(data: Path) -> None:
    print("\n### Allocation at the held-out budget: N_opt intervals against the budget's own optimum\n")
    print("| sweep | C | budget's own N_opt (90%) | width | default N_opt (90%) | width | overlap | "
          "form-trusting N_opt (90%) | width | overlap |")
    print("|---|---:|---|---:|---|---:|---|---|---:|---|")
    hits = {"auto": 0, None: 0}
    for name in SWEEPS:
        runs = sweep_runs(data, name)
        c = runs.values("C")
        top = c == c.max()
        own = profile(runs.values("N")[top], runs.values("loss")[top], n_boot=1000, seed=0)
        cells = [f"{own['N_opt']:.3g} ({own['N_opt_lower']:.3g}–{own['N_opt_upper']:.3g})",
                 f"{np.log10(own['N_opt_upper'] / own['N_opt_lower']):.2f}"]
        for disc in ("auto", None):
            a = quiet_fit(runs.subset(~top), "chinchilla", seed=1, discrepancy=disc).allocate(c.max()).iloc[0]
            ok = not (a["N_opt_upper"] < own["N_opt_lower"] or a["N_opt_lower"] > own["N_opt_upper"])
            hits[disc] += ok
            cells += [f"{a['N_opt_median']:.3g} ({a['N_opt_lower']:.3g}–{a['N_opt_upper']:.3g})",
                      f"{np.log10(a['N_opt_upper'] / a['N_opt_lower']):.2f}", "yes" if ok else "**no**"]
        print(f"| {name} | {c.max():.3g} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nOverlap: default {hits['auto']} of {len(SWEEPS)}, form-trusting {hits[None]} of {len(SWEEPS)} "
          "(widths in decades).")


def truth(seeds=range(6)) -> None:
    print("\n### When the law is true: coverage and width against the form-trusting fit\n")
    print("| seed | default coverage | form-trusting coverage | width ratio (default / form-trusting) | eta |")
    print("|---:|---:|---:|---:|---:|")
    for seed in seeds:
        frame = bs.simulate("chinchilla", TRUTH, chinchilla_design(120, seed=seed), noise=0.005, seed=seed)
        runs = bs.load_runs(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = bs.backtest(runs, "chinchilla", holdout=0.15, seed=seed, baseline=False)
            b = bs.backtest(runs, "chinchilla", holdout=0.15, seed=seed, baseline=False, discrepancy=None)
        sa, sb = a.summary.loc["bayes"], b.summary.loc["bayes"]
        eta = a.fits["all"].structural.eta
        print(f"| {seed} | {sa['coverage']:.0%} | {sb['coverage']:.0%} | "
              f"{sa['median_rel_width'] / sb['median_rel_width']:.2f} | {eta:.4f} |", flush=True)


def sbc(n_sims: int) -> None:
    print(f"\n### SBC at default settings ({n_sims} simulations, 40 runs each)\n")
    print("| law | fits PASS | parameters in the 99% band | worst ECDF difference | s |")
    print("|---|---:|---|---:|---:|")
    for law in ("chinchilla", "kaplan_nd"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = bs.sbc(law, n_sims=n_sims, design=40, seed=2024, max_workers=2)
        fits = (r.diagnostics["verdict"] == "pass").mean()
        inside = (r.verdict["verdict"] == "pass").sum()
        print(f"| {law} | {fits:.0%} | {inside} of {len(r.verdict)} | {r.verdict['max_ecdf_diff'].max():.3f} | "
              f"{r.seconds:.0f} |", flush=True)


CHILD = """
import time, warnings; t0 = time.perf_counter()
import bayes_scaling as bs
runs = bs.datasets.load("chinchilla_epoch", data_home={data!r})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = bs.fit(runs, "chinchilla", seed=1, progress=False, discrepancy={disc!r})
print(round(time.perf_counter() - t0, 2), fit.diagnostics.verdict)
"""


def fresh_time(data: Path) -> None:
    print("\n### The default Epoch fit in a fresh process (import + fit)\n")
    print("| fit | run 1 s | run 2 s | run 3 s | verdict |")
    print("|---|---:|---:|---:|---|")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # cached bytecode, as users have
    medians = {}
    for label, disc in (("form-trusting (discrepancy=None)", None), ("default", "auto")):
        out = [subprocess.run([sys.executable, "-c", CHILD.format(data=str(data), disc=disc)], capture_output=True,
                              text=True, cwd=ROOT, check=True, env=env).stdout.split() for _ in range(3)]
        medians[label] = float(np.median([float(o[0]) for o in out]))
        print(f"| {label} | {out[0][0]} | {out[1][0]} | {out[2][0]} | {out[2][1]} |", flush=True)
    ratio = medians["default"] / medians["form-trusting (discrepancy=None)"]
    print(f"\nDefault over form-trusting (medians): {ratio:.2f}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["convergence", "coverage", "allocation", "truth", "sbc", "time"])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sbc-sims", type=int, default=100)
    args = parser.parse_args()
    t0 = time.perf_counter()
    for part in args.parts:
        {"convergence": lambda: convergence(args.data), "coverage": lambda: coverage(args.data),
         "allocation": lambda: allocation(args.data), "truth": truth, "sbc": lambda: sbc(args.sbc_sims),
         "time": lambda: fresh_time(args.data)}[part]()
    print(f"\n(benchmarks/bench_trust.py {' '.join(args.parts)}: {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
