"""The command line's demo: the embedded Chinchilla dataset and the points it predicts at."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.resources import shipped_dir
from ..data.synthetic import chinchilla_design, simulate

__all__ = ["demo_runs", "demo_points", "DEMO_LAW", "DEMO_TRUTH", "DEMO_TOKENS_PER_PARAM", "DEMO_BUDGETS"]

#: The law and truth of the embedded demo dataset (used when the shipped CSV is absent).
DEMO_LAW = "chinchilla"
DEMO_TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
DEMO_TOKENS_PER_PARAM = 20.0
DEMO_BUDGETS = (10.0, 100.0, 1000.0)  # multiples of the largest compute in the data


def demo_runs() -> pd.DataFrame:
    """The embedded demo dataset (columns N, D, loss).

    The shipped ``datasets/demo_chinchilla.csv`` when present; otherwise the same
    design simulated in memory from the Chinchilla law (Hoffmann et al. 2022,
    Eq. 10 values) with 1% noise, seed 0 (``attrs["truth"]`` holds the truth).
    """
    try:
        path = shipped_dir("datasets") / "demo_chinchilla.csv"
    except FileNotFoundError:
        path = None
    if path is not None and path.is_file():
        frame = pd.read_csv(path)
        frame.attrs["source"] = str(path)
        return frame
    frame = simulate(DEMO_LAW, DEMO_TRUTH, chinchilla_design(120, seed=0), noise=0.01, seed=0)
    frame.attrs["source"] = "simulated in memory (chinchilla law, 1% noise, seed 0)"
    return frame


def demo_points(runs, budgets=DEMO_BUDGETS, tokens_per_param: float = DEMO_TOKENS_PER_PARAM) -> pd.DataFrame:
    """(N, D) at multiples of the largest compute in ``runs``, with D = tokens_per_param * N."""
    k = runs.flops_per_token
    c_max = float(np.max(runs.compute()))
    c = c_max * np.asarray(budgets, dtype=float)
    n = np.sqrt(c / (k * tokens_per_param))
    return pd.DataFrame({"budget": [f"{b:g}x" for b in budgets], "N": n, "D": tokens_per_param * n})
