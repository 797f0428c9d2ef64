#!/usr/bin/env bash
# Regenerate docs/img/report.png: run the demo (real sampler), write its report, screenshot the top of it
# in headless Chromium. Needs .venv (scripts/bootstrap.sh) and chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
.venv/bin/bayes-scaling demo --no-progress -o "$tmp/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1500 \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
mkdir -p docs/img
.venv/bin/python - "$tmp/shot.png" docs/img/report.png <<'PY'
import sys
from matplotlib import image
img = image.imread(sys.argv[1])
image.imsave(sys.argv[2], img)
PY
echo "wrote docs/img/report.png (from $tmp/report.html)"
