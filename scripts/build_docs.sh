#!/usr/bin/env bash
# Build the documentation site (Sphinx + myst-nb) into docs/_build/html, executing every notebook
# in docs/notebooks/. Fails on the first notebook cell that raises and on any Sphinx warning.
#   scripts/build_docs.sh          # full build: the notebooks' fits use 1000 draws + 1000 tuning steps per chain
#   scripts/build_docs.sh --fast   # the same pages with 300 draws + 300 tuning steps (what CI would run)
# Installs the docs extra into .venv (scripts/bootstrap.sh docs) when Sphinx or myst-nb is missing.
# Without --fast, $BAYES_SCALING_DOCS_DRAWS (if set) gives the draws. The pages read public data
# through the dataset loader: $BAYES_SCALING_DATA (default ../shared/data when present), else a download.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  --fast) draws=300 ;;
  "") draws="${BAYES_SCALING_DOCS_DRAWS:-1000}" ;;
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  *) echo "usage: scripts/build_docs.sh [--fast]" >&2; exit 2 ;;
esac
export BAYES_SCALING_DOCS_DRAWS="$draws"
export PYTHONUNBUFFERED=1

if ! .venv/bin/python -c 'import sphinx, myst_nb, pydata_sphinx_theme, ipykernel, bayes_scaling' >/dev/null 2>&1; then
  scripts/bootstrap.sh docs
fi

# the pages load data with bs.datasets.load as a reader would: the mirror in $BAYES_SCALING_DATA (set
# here to ../shared/data when that exists), else the loader's cache, else a download
if [ -z "${BAYES_SCALING_DATA:-}" ] && [ -d ../shared/data ]; then
  export BAYES_SCALING_DATA="$(cd ../shared/data && pwd)"
fi

start=$(date +%s)
rm -rf docs/_build/html docs/_build/doctrees
# -E: read (so execute) every page on every build; -W: any warning is an error; -T: print the
# traceback (a failing cell with its error) on the console, not only into a temporary file;
# -j auto: read (so execute) the pages in one process per core. On 2 cores two notebooks run at once:
# one samples while the other imports, compiles or draws (422 s serial, 333 s with -j 2, the same hour).
.venv/bin/python -m sphinx -j auto -b html -E -W -T -d docs/_build/doctrees docs docs/_build/html
echo "build_docs: built docs/_build/html with ${draws} draws per chain in $(( $(date +%s) - start )) s"
