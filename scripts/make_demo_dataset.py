"""Regenerate datasets/demo_chinchilla.csv, the embedded demo dataset (known ground truth).

    .venv/bin/python scripts/make_demo_dataset.py

120 runs from the Chinchilla law with Hoffmann et al.'s published constants, N log-uniform in
5e7-1e10, 2-200 tokens per parameter, 1% multiplicative noise, seed 0.
"""

from pathlib import Path

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
SEED = 0

if __name__ == "__main__":
    frame = bs.simulate("chinchilla", TRUTH, chinchilla_design(120, seed=SEED), noise=0.01, seed=SEED)
    out = Path(__file__).resolve().parent.parent / "datasets" / "demo_chinchilla.csv"
    out.write_text(frame.to_csv(index=False, float_format="%.10g"))
    print(f"wrote {out} ({len(frame)} runs)")
