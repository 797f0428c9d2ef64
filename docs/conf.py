"""Sphinx configuration of the bayes_scaling documentation site.

Build it with ``scripts/build_docs.sh`` (full) or ``scripts/build_docs.sh --fast``
(fewer posterior draws in the notebooks). Every notebook in ``notebooks/`` is a
MyST Markdown text notebook that is executed on every build (``force``); the
build fails on the first cell that raises.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Document and execute the package of this checkout, even where another copy is installed: autodoc
# imports it from sys.path, and the notebooks' kernels inherit PYTHONPATH.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
# The kernels must use IPython's inline backend to put figures on the pages; a non-interactive
# MPLBACKEND (CI exports Agg) would silently drop every figure.
os.environ.pop("MPLBACKEND", None)

import bayes_scaling  # noqa: E402

# -- project -----------------------------------------------------------------------------------
project = "bayes_scaling"
author = "bayes_scaling developers"
copyright = "bayes_scaling developers"
version = release = bayes_scaling.__version__

# -- extensions --------------------------------------------------------------------------------
extensions = [
    "myst_nb",                 # MyST Markdown pages and executed text notebooks
    "sphinx.ext.autodoc",      # API reference from docstrings
    "sphinx.ext.napoleon",     # ... written in numpy style
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# -- MyST / myst-nb ----------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# docs/decisions.md links to benchmarks/README.md, outside docs/ (the only such link today); such
# links stay as they are (they work on GitHub) and are not errors here.
suppress_warnings = ["myst.xref_missing"]

nb_execution_mode = "force"            # execute every notebook on every build
nb_execution_raise_on_error = True     # ... and fail the build on the first error
nb_execution_show_tb = True            # print the traceback in the build log
nb_execution_timeout = int(os.environ.get("BAYES_SCALING_DOCS_CELL_TIMEOUT", "600"))  # seconds per cell
nb_execution_in_temp = False           # run in the notebook's folder (docs/notebooks)
nb_merge_streams = True
nb_output_stderr = "show"              # sampler warnings are part of the story: show them

# -- autodoc / napoleon ------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"             # the numpy-style docstrings already give the types
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# -- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"bayes_scaling {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": [],  # no page TOC column: the content gets its width (issue 18)
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_js_files = ["width_check.js"]  # sets <body data-wide>: scripts/check_docs_width.py reads it

# Files the notebooks write for the site (the budget walkthrough's HTML report). Sphinx copies
# the folder into the root of the output after the notebooks ran; it is emptied here so that a
# stale file from an earlier build can never be published.
GENERATED = HERE / "_generated"
shutil.rmtree(GENERATED, ignore_errors=True)
GENERATED.mkdir()
html_extra_path = ["_generated"]
