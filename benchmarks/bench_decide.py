"""Speed of the decisions of issue 16: ``recommend`` over 4,000 draws x 100 budgets, ``next_runs`` over 200
candidates. Prints times and ratios against ``allocate`` on the same draws and budgets, measured in the
same run.

    .venv/bin/python benchmarks/bench_decide.py [--fit epoch_fit.nc]

(1) A law-only fit (Epoch-like posterior, 4 x 1000 draws, no sampler; as bench_allocate.py):
``recommend`` at 100 budgets (target <= 1 s), against ``allocate`` (closed form) at the same budgets.
(2) With a structural term (a saved default fit of Epoch's data, ``--fit``; made and saved on first
use when BAYES_SCALING_DATA points at ../shared/data): ``recommend`` at 100 budgets against
``allocate``; ``next_runs`` over 200 candidates, k = 3 (target <= 30 s on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_allocate import best_of, epoch_like_fit  # noqa: E402

import bayes_scaling as bs  # noqa: E402
from bayes_scaling.decisions.cost import CostModel  # noqa: E402
from bayes_scaling.decisions.design import candidate_grid  # noqa: E402

BUDGETS = np.logspace(19, 25, 100)


def default_fit(path: Path):
    if path.exists():
        return bs.load_fit(path)
    fit = bs.fit(bs.datasets.load("chinchilla_epoch"), law="chinchilla", seed=1, progress=False)
    fit.save(path)
    return fit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", default="/tmp/bench_decide_epoch_fit.nc")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    law_only = epoch_like_fit(4, 1000)
    base = best_of(lambda: law_only.allocate(BUDGETS), 3)
    rec = best_of(lambda: law_only.recommend(BUDGETS), 3)
    rows += [("law only: allocate, 100 budgets (baseline)", base, 1.0, ""),
             ("law only: recommend, 100 budgets", rec, rec / base, "<= 1 s")]
    fit = default_fit(Path(args.fit))
    base = best_of(lambda: fit.allocate(BUDGETS), 1)
    rec = best_of(lambda: fit.recommend(BUDGETS), 1)
    grid = candidate_grid(fit, 1e21, cost=CostModel(), levels=20, ratios=10)
    nxt = best_of(lambda: fit.next_runs("N_opt", at=5.76e23, budget=2e21, per_run=1e21, k=3, candidates=grid), 1)
    rows += [("structural term: allocate, 100 budgets (baseline)", base, 1.0, ""),
             ("structural term: recommend, 100 budgets", rec, rec / base, ""),
             (f"structural term: next_runs, {len(grid)} candidates, k = 3", nxt, nxt / base, "<= 30 s")]
    print(f"{'step':58s} {'seconds':>8s} {'ratio':>7s}  target")
    for name, t, ratio, target in rows:
        print(f"{name:58s} {t:8.2f} {ratio:7.2f}  {target}")


if __name__ == "__main__":
    main()
