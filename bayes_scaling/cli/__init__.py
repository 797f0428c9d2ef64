"""The command line, ``bayes-scaling``: laws | fit | summary | predict | allocate | recommend | next | compare |
report | demo.

- :mod:`~bayes_scaling.cli.commands`: the commands, each a thin wrapper around the Python API;
- :mod:`~bayes_scaling.cli.decide`: ``recommend`` and ``next`` (the plan to pick; the runs to train next);
- :mod:`~bayes_scaling.cli.support`: exit codes, one-line errors, tables, JSON, option parsing;
- :mod:`~bayes_scaling.cli.demo`: the demo's embedded data.

Exit codes: 0 success, 2 invalid input or usage, 3 the sampler's diagnostics are not ok.
"""

import sys

from . import decide  # noqa: F401  (registers recommend and next on the app)
from .commands import app, main
from .demo import demo_runs
from .support import EXIT_DIAGNOSTICS, EXIT_FAILED, EXIT_INVALID_INPUT, EXIT_OK, err

__all__ = ["app", "main", "run", "demo_runs", "EXIT_OK", "EXIT_FAILED", "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]


def run(args: list[str] | None = None) -> None:
    """The ``bayes-scaling`` entry point: the app, and never a traceback. Bad input exits
    :data:`EXIT_INVALID_INPUT` with one line (the commands do that); anything unexpected (a sampler
    that crashed, a bug) exits :data:`EXIT_FAILED` with one line naming it."""
    try:
        app(args=args, prog_name="bayes-scaling")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        err(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} (this is a failure, "
            "not bad input; please report it with the command you ran)")
        sys.exit(EXIT_FAILED)
