"""Does any page of the built docs need a horizontal scrollbar at 1280 px? (issue 18)

    .venv/bin/python scripts/check_docs_width.py [docs/_build/html] [--width 1280] [--strict]

Loads every page in headless Chromium; the site's own ``_static/width_check.js`` lists, on
``<body data-wide>``, the page itself and every table, code block and cell output whose content is
wider than its box. Prints one line per page with what is too wide; ``--strict`` exits 1 if any is.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

SKIP = ("genindex.html", "search.html", "py-modindex.html")
CHECK = Path(__file__).resolve().parent.parent / "docs" / "_static" / "width_check.js"


def wide_items(page: Path, exe: str, width: int) -> list[str] | None:
    """What is too wide on ``page`` (empty: nothing), or None when the page has no self-check.

    A page built before the site loaded ``width_check.js`` gets it inlined into a temporary copy
    beside it (so that its relative links still resolve)."""
    text = page.read_text()
    probe = page
    if "width_check.js" not in text:
        probe = page.with_name(f".width_check_{page.name}")
        probe.write_text(text.replace("</body>", f"<script>{CHECK.read_text()}</script></body>"))
    try:
        out = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                              "--allow-file-access-from-files", "--virtual-time-budget=8000",
                              f"--window-size={width},1000", "--dump-dom", probe.resolve().as_uri()],
                             capture_output=True, text=True, timeout=180)
    finally:
        if probe != page:
            probe.unlink()
    found = re.search(r'data-wide="([^"]*)"', out.stdout)
    if found is None:
        return None
    value = html.unescape(found.group(1))
    return [] if value == "none" else value.split(" | ")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", type=Path, default=Path("docs/_build/html"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--strict", action="store_true", help="exit 1 when anything is too wide")
    args = ap.parse_args()
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        print("check_docs_width: Chromium is not installed", file=sys.stderr)
        return 2
    pages = sorted(p for p in args.site.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts and p.name not in SKIP
                   and not p.name.endswith("_report.html") and not p.name.startswith(".width_check_"))
    total = 0
    for page in pages:
        items = wide_items(page, exe, args.width)
        rel = page.relative_to(args.site)
        if items is None:
            print(f"{rel}: no self-check (width_check.js not loaded)")
            total += 1
        elif items:
            total += len(items)
            print(f"{rel}: {len(items)} too wide at {args.width} px")
            for item in items[:8]:
                print(f"    {item}")
        else:
            print(f"{rel}: ok")
    print(f"check_docs_width: {len(pages)} pages, {total} element(s) too wide at {args.width} px")
    return 1 if args.strict and total else 0


if __name__ == "__main__":
    sys.exit(main())
