"""``python -m bayes_scaling.cli``: the command line."""

from . import run

run()
