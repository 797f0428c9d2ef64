"""Design benchmark (issue 16): which next runs teach most about the compute-optimal N far out?

On synthetic worlds with known truth (Chinchilla-like exponents scattered 10%; every other world's
loss off the Chinchilla form by a smooth function of tokens per parameter, 3% at most), start from
a pilot (two iso-FLOP sweeps, 1e17 and 1e18 FLOPs, 5 sizes each), then spend the same FLOPs (K runs
of PER_RUN FLOPs each) four ways, refit with the default ``bs.fit`` and score at C_TARGET (1000x the
largest run):

- (a) ``fit.next_runs("N_opt", at=C_TARGET, ...)`` over candidates at PER_RUN FLOPs (13 tokens per
  parameter from 1 to 1000);
- (b) simple-scaling-laws' ``suggest_runs`` at the same budget (run in its own venv via
  benchmarks/peer_suggest.py; skipped when ``--peer-python`` is not given or missing);
- (c) an iso-FLOP grid at PER_RUN: 5, 20 and 80 tokens per parameter;
- (d) random runs at PER_RUN: tokens per parameter log-uniform in [1, 1000].

Scores: the realised width of N_opt's 90% interval (decades), its coverage of the true N_opt,
the regret (true loss above the true optimum, nats) of ``fit.recommend``'s plan; and for (a), the
width next_runs predicted against the realised one.

    .venv/bin/python benchmarks/bench_design.py --worlds 24 --peer-python /tmp/peers/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayes_scaling as bs

PILOT_BUDGETS = (1e17, 1e18)
PER_RUN, K, C_TARGET, NOISE = 1e19, 3, 1e22, 0.01
TPP_CANDIDATES = np.geomspace(1, 1000, 13)
BUMP = 0.03
STRATEGIES = ("next_runs", "suggest_runs", "isoflop", "random")


def world(seed: int) -> tuple[dict, float]:
    rng = np.random.default_rng([seed, 7])
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34 * np.exp(0.1 * rng.standard_normal()),
             "beta": 0.28 * np.exp(0.1 * rng.standard_normal())}
    return truth, (BUMP if seed % 2 else 0.0)


def true_loss(t: dict, bump: float, n, d):
    n, d = np.asarray(n, dtype=float), np.asarray(d, dtype=float)
    law = t["E"] + t["A"] * n ** -t["alpha"] + t["B"] * d ** -t["beta"]
    return law * np.exp(bump * np.tanh(np.log10(d / n) - 1.3))


def observe(t, bump, n, d, rng) -> pd.DataFrame:
    loss = true_loss(t, bump, n, d) * np.exp(NOISE * rng.standard_normal(np.size(n)))
    return pd.DataFrame({"N": np.atleast_1d(n), "D": np.atleast_1d(d), "loss": loss})


def at_budget(c: float, tpp) -> tuple[np.ndarray, np.ndarray]:
    n = np.sqrt(c / (6 * np.asarray(tpp, dtype=float)))
    return n, c / (6 * n)


def true_optimum(t, bump, c) -> tuple[float, float]:
    n = np.geomspace(1e6, 1e14, 400001)
    loss = true_loss(t, bump, n, c / (6 * n))
    return float(n[loss.argmin()]), float(loss.min())


def peer_runs(pilot: pd.DataFrame, peer: str | None):
    if not peer or not Path(peer).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "pilot.csv", Path(tmp) / "plan.json"
        pilot.to_csv(src, index=False)
        subprocess.run([peer, str(Path(__file__).with_name("peer_suggest.py")), str(src), str(dst), str(C_TARGET),
                        str(K), str(PER_RUN)], check=True, capture_output=True)
        plan = json.loads(dst.read_text())
    return np.array(plan["N"]), np.array(plan["D"])


def designs(fit, pilot, seed: int, peer: str | None) -> tuple[dict, float]:
    n, d = at_budget(PER_RUN, TPP_CANDIDATES)
    nxt = fit.next_runs("N_opt", at=C_TARGET, budget=K * PER_RUN, k=K, candidates=pd.DataFrame({"N": n, "D": d}))
    out = {"next_runs": (nxt["N"].to_numpy(), nxt["D"].to_numpy())}
    predicted = float(nxt["expected_uncertainty"].iloc[-1]) / np.log(10)  # nats of log N -> decades
    suggested = peer_runs(pilot, peer)
    if suggested is not None:
        out["suggest_runs"] = suggested
    out["isoflop"] = at_budget(PER_RUN, [5, 20, 80])
    out["random"] = at_budget(PER_RUN, 10 ** np.random.default_rng([seed, 9]).uniform(0, 3, K))
    return out, predicted


def score(fit, t, bump) -> dict:
    n_true, best = true_optimum(t, bump, C_TARGET)
    alloc = fit.allocate(C_TARGET).iloc[0]
    rec = fit.recommend(C_TARGET).iloc[0]
    return {"width": float(np.log10(alloc["N_opt_upper"] / alloc["N_opt_lower"])),
            "covered": bool(alloc["N_opt_lower"] <= n_true <= alloc["N_opt_upper"]),
            "regret": float(true_loss(t, bump, rec["N"], C_TARGET / (6 * rec["N"])) - best),
            "converged": bool(fit.diagnostics.ok)}


def one_world(seed: int, peer: str | None) -> list[dict]:
    t, bump = world(seed)
    rng = np.random.default_rng([seed, 1])
    parts = []
    for c in PILOT_BUDGETS:
        n_c = np.sqrt(c / (6 * 20.0)) * 10 ** np.linspace(-1, 1, 5)
        parts.append(observe(t, bump, n_c, c / (6 * n_c), rng))
    pilot = pd.concat(parts, ignore_index=True)
    fit = bs.fit(pilot, law="chinchilla", seed=seed, progress=False)
    plans, predicted = designs(fit, pilot, seed, peer)
    rows = [{"world": seed, "bumpy": bool(bump), "strategy": "pilot only", **score(fit, t, bump)}]
    for name, (n, d) in plans.items():
        runs = pd.concat([pilot, observe(t, bump, n, d, np.random.default_rng([seed, 2]))], ignore_index=True)
        refit = bs.fit(runs, law="chinchilla", seed=seed, progress=False)
        rows.append({"world": seed, "bumpy": bool(bump), "strategy": name, "flops": float(np.sum(6 * n * d)),
                     "tpp": ", ".join(f"{v:.0f}" for v in d / n), **score(refit, t, bump),
                     "predicted_width": predicted if name == "next_runs" else np.nan})
    return rows


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby("strategy", sort=False)
    return pd.DataFrame({"worlds": g.size(), "width_mean": g["width"].mean(), "width_median": g["width"].median(),
                         "coverage": g["covered"].mean(), "regret_mean": g["regret"].mean(),
                         "regret_median": g["regret"].median(), "converged": g["converged"].mean()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=24)
    ap.add_argument("--peer-python", default=None, help="python of a venv with simple-scaling-laws")
    ap.add_argument("--out", default=None, help="also write every world's rows as CSV")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows, start = [], time.time()
    for seed in range(args.worlds):
        t0 = time.time()
        rows += one_world(seed, args.peer_python)
        print(f"world {seed}: {time.time() - t0:.0f} s", flush=True)
    frame = pd.DataFrame(rows)
    if args.out:
        frame.to_csv(args.out, index=False)
    pd.set_option("display.width", 200)
    print(f"\n{args.worlds} worlds, {time.time() - start:.0f} s; K = {K} runs of {PER_RUN:g} FLOPs; "
          f"target N_opt at {C_TARGET:g} FLOPs")
    print(summary(frame).round(4).to_string())
    for label, part in (("law exact", frame[~frame["bumpy"]]), ("law off (smooth bump)", frame[frame["bumpy"]])):
        print(f"\n{label}:\n{summary(part).round(4).to_string()}")
    a = frame[frame["strategy"] == "next_runs"]
    print(f"\nnext_runs: predicted width {a['predicted_width'].mean():.4f} vs realised {a['width'].mean():.4f} "
          f"decades (mean); ratio realised/predicted median {np.median(a['width'] / a['predicted_width']):.2f}")


if __name__ == "__main__":
    main()
