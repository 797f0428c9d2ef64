"""``python -m bayes_scaling.cli``: the command line."""

from .commands import app

app()
