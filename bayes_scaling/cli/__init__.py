"""The command line, ``bayes-scaling``: laws | fit | summary | predict | allocate | recommend | next | compare |
report | demo.

- :mod:`~bayes_scaling.cli.commands`: the commands, each a thin wrapper around the Python API;
- :mod:`~bayes_scaling.cli.decide`: ``recommend`` and ``next`` (the plan to pick; the runs to train next);
- :mod:`~bayes_scaling.cli.support`: exit codes, one-line errors, tables, JSON, option parsing;
- :mod:`~bayes_scaling.cli.demo`: the demo's embedded data.

Exit codes: 0 success, 2 invalid input or usage, 3 the sampler's diagnostics are not ok.
"""

from . import decide  # noqa: F401  (registers recommend and next on the app)
from .commands import app, main
from .demo import demo_runs
from .support import EXIT_DIAGNOSTICS, EXIT_INVALID_INPUT, EXIT_OK

__all__ = ["app", "main", "demo_runs", "EXIT_OK", "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]
