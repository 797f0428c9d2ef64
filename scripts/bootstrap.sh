#!/usr/bin/env bash
# Create ./.venv with Python >= 3.12 (PyMC 6 needs it) and install bayes_scaling into it, editable.
#   scripts/bootstrap.sh          # the package
#   scripts/bootstrap.sh test     # the package with its test extras
# Finds the interpreter as $PYTHON, python3.12, python3.13, python3, or a pyenv-installed 3.12+.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

find_python() {
  local cand v
  for cand in "${PYTHON:-}" python3.12 python3.13 python3.14 python3; do
    [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && is_312 "$cand" && { echo "$cand"; return 0; }
  done
  if command -v pyenv >/dev/null 2>&1; then  # pyenv shims exist but refuse unselected versions
    # prefer 3.12.x (the tested stack), then newer
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V -r) \
             $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[3-9])(\.[0-9]+)?$' | sort -V); do
      cand="$(pyenv root)/versions/$v/bin/python3"
      [ -x "$cand" ] && is_312 "$cand" && { echo "$cand"; return 0; }
    done
  fi
  echo "error: no Python >= 3.12 found (PyMC 6 needs it). Install python3.12 or set PYTHON=/path/to/python3.12" >&2
  return 1
}

if [ ! -x .venv/bin/python ] || ! is_312 .venv/bin/python; then
  py="$(find_python)"
  echo "bootstrap: creating .venv with $("$py" --version) ($py)"
  rm -rf .venv
  "$py" -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
echo "bootstrap: installed bayes_scaling${extras:+ [$extras]} into .venv"
