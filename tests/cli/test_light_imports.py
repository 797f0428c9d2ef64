"""The CLI's reading commands on a saved fit import no sampler, no arviz and no plotting (issue 19).

The commands run one after the other in one fresh interpreter, and the test reads ``sys.modules`` after
each: a module imported by any of them would be there, so none of them imports it. A saved fit keeps its
convergence numbers (``Diagnostics.by_parameter``, written by ``save``), so ``summary`` needs no arviz.
"""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from bayes_scaling.posterior.diagnostics import convergence_table
from tests.helpers import mock_fit

HEAVY = ("pymc", "pytensor", "nutpie", "numba", "arviz", "arviz_stats", "matplotlib")  # not jinja2: xarray imports
# dask (and dask its widgets, with jinja2) on opening any file when dask is installed

SCRIPT = """
import json, sys
from bayes_scaling.cli import run
heavy = json.loads(sys.argv[2])
codes, seen = [], {}
for args in json.loads(sys.argv[1]):  # one after the other: a module any of them imported stays in sys.modules
    sys.argv = ["bayes-scaling", *args]
    try:
        run()
    except SystemExit as exc:
        codes.append(exc.code)
    else:
        codes.append(0)
    seen[args[0]] = [m for m in heavy if m in sys.modules and not any(m in v for v in seen.values())]
print(json.dumps({"codes": codes, "modules": seen}))
"""


@pytest.fixture(scope="module")
def light_fit(tmp_path_factory):
    fit = mock_fit()
    kept = convergence_table(fit.posterior, fit.parameter_names)
    fit = replace(fit, diagnostics=replace(fit.diagnostics, by_parameter=kept))
    return fit.save(tmp_path_factory.mktemp("light") / "fit.nc")


def _modules_after(commands: list[list[str]]) -> dict:
    """Run ``commands`` one after the other in one fresh interpreter: exit codes, and per command the heavy
    modules it was the first to import."""
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(commands), json.dumps(HEAVY)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_reading_commands_import_no_sampler_and_no_plotting(light_fit):
    commands = [["--help"], ["laws"], ["summary", str(light_fit)],
                ["predict", str(light_fit), "--N", "7e10", "--D", "1.4e12"],
                ["allocate", str(light_fit), "--C", "1e23"]]
    result = _modules_after(commands)
    assert all(code in (0, None) for code in result["codes"]), result
    assert result["modules"] == {args[0]: [] for args in commands}


def test_the_check_sees_a_heavy_import(light_fit):
    """The same probe on a command that draws: matplotlib is there (the test above can fail)."""
    result = _modules_after([["summary", str(light_fit)],
                             ["report", str(light_fit), "-o", str(light_fit.with_suffix(".html"))]])
    assert result["codes"] == [0, 0] and result["modules"]["summary"] == []
    assert "matplotlib" in result["modules"]["report"]
