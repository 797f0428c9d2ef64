"""Run simple-scaling-laws' ``suggest_runs`` on a pilot (for bench_design.py; runs in the peer's own venv).

Usage: <peer python> benchmarks/peer_suggest.py IN.csv OUT.json C_TARGET K PER_RUN
IN.csv has columns N, D, loss (one row per run). OUT.json gets {"N": [...], "D": [...]}.
Never imported by bayes_scaling: the peer is compared side by side, not depended on.
"""

import json
import sys

import polars as pl
from simple_scaling_laws import fit
from simple_scaling_laws.cost import cost_model
from simple_scaling_laws.design import suggest_runs


def main(src: str, dst: str, c_target: float, k: int, per_run: float) -> None:
    runs = pl.read_csv(src)
    n = runs.height
    table = pl.DataFrame({
        "training_run_id": [f"run_{i:03d}" for i in range(n)], "train_set_id": ["train"] * n,
        "test_set_id": ["test"] * n, "optimizer_seed": list(range(n)),
        "model_size__n_params": runs["N"], "dataset_size__n_tokens": runs["D"], "test_loss__ce": runs["loss"]})
    model = fit(table, n_draws=200, seed=0)
    chin = cost_model("power", k=6.0, a=1.0, b=1.0)
    plan = suggest_runs(model, [c_target], chin, n=k, candidate_budgets=[per_run])
    with open(dst, "w") as fh:
        json.dump({"N": plan["model_size__n_params"].to_list(), "D": plan["dataset_size__n_tokens"].to_list()}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
