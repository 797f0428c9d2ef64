#!/usr/bin/env bash
# Regenerate docs/img/report.png: run the demo (real sampler), write its report, screenshot the top of it
# in headless Chromium. Needs .venv (scripts/bootstrap.sh) and chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
.venv/bin/bayes-scaling demo --no-progress -o "$tmp/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,2500 \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
mkdir -p docs/img
.venv/bin/python - "$tmp/shot.png" docs/img/report.png <<'PY'
import sys
from PIL import Image  # installed with matplotlib
im = Image.open(sys.argv[1]).convert("RGB")
im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.LANCZOS).save(sys.argv[2], optimize=True)
PY
echo "wrote docs/img/report.png (from $tmp/report.html)"
