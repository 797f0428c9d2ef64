"""The CLI's reading commands on a saved fit import no sampler, no arviz and no plotting (issue 19).

Each command runs in a fresh interpreter, as a user's shell runs it; the test reads ``sys.modules``
afterwards. A fit made by ``bs.fit`` keeps its convergence numbers (``Diagnostics.by_parameter``), so
``summary`` needs no arviz; the mock fit here is given them the same way.
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
sys.argv = ["bayes-scaling", *json.loads(sys.argv[1])]
try:
    run()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": [m for m in heavy if m in sys.modules]}))
"""


@pytest.fixture(scope="module")
def light_fit(tmp_path_factory):
    fit = mock_fit()
    kept = convergence_table(fit.posterior, fit.parameter_names)
    fit = replace(fit, diagnostics=replace(fit.diagnostics, by_parameter=kept))
    return fit.save(tmp_path_factory.mktemp("light") / "fit.nc")


def _modules_after(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(args), json.dumps(HEAVY)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ["--help"],
    ["laws"],
    ["summary", "{fit}"],
    ["predict", "{fit}", "--N", "7e10", "--D", "1.4e12"],
    ["allocate", "{fit}", "--C", "1e23"],
])
def test_reading_commands_import_no_sampler_and_no_plotting(light_fit, args):
    result = _modules_after([a.format(fit=light_fit) for a in args])
    assert result["code"] in (0, None)
    assert result["modules"] == [], f"{args[0]} imported {result['modules']}"


def test_the_check_sees_a_heavy_import(light_fit):
    """The same probe on a command that draws: matplotlib is there (the test above can fail)."""
    drawn = _modules_after(["report", str(light_fit), "-o", str(light_fit.with_suffix(".html"))])
    assert drawn["code"] in (0, None) and "matplotlib" in drawn["modules"]
