#!/usr/bin/env python
"""Screenshots of a real report, as a browser shows it: the top of the page and each plot (issue 18).

Fits a dataset with the default ``bs.fit`` (real sampler), writes its report for the budget asked
(default 5.76e23 FLOPs, Gopher's), and screenshots it in headless Chromium at 1280 px: the top of
the report, then each figure on its own page with the report's own style. The PNGs (scaled to 3/4)
are what docs/report.md shows; regenerate them with

    .venv/bin/python scripts/report_screenshots.py [--dataset demo_chinchilla] [--out docs/img/report]

Needs Chromium (Debian package ``chromium``) and, for a dataset outside the repository, the
dataset loader's mirror (``BAYES_SCALING_DATA``) or network.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WIDTH = 1280


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def shoot(exe: str, page: Path, png: Path, height: int) -> None:
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--allow-file-access-from-files", f"--window-size={WIDTH},{height}",
                    f"--screenshot={png}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=180)


def shrink(src: Path, dst: Path) -> None:
    from PIL import Image  # installed with matplotlib

    im = Image.open(src).convert("RGB")
    im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.LANCZOS).save(dst, optimize=True)


def figure_pages(report: str, folder: Path) -> list[tuple[str, Path, int]]:
    """One page per figure of the report (its own <head>, so its own style): (title, page, height)."""
    import base64
    import io

    from PIL import Image

    head = report[:report.index("</head>")] + "</head>"
    pages = []
    for i, (uri, title) in enumerate(re.findall(r'<figure><img src="([^"]+)" alt="([^"]*)">', report)):
        w, h = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size
        shown = min(w, 1100 - 64)  # the report's column (body max-width less its padding)
        page = folder / f"figure{i}.html"
        page.write_text(f'{head}<body><main><figure><img src="{uri}" alt="{title}">'
                        f"<figcaption>{title}</figcaption></figure></main></body></html>")
        pages.append((html.unescape(title), page, int(h * shown / w) + 120))
    return pages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="demo_chinchilla")
    ap.add_argument("--law", default="chinchilla")
    ap.add_argument("--budget", type=float, default=5.76e23)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report")
    args = ap.parse_args(argv)
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        print("report_screenshots: Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    import bayes_scaling as bs

    fit = bs.fit(bs.datasets.load(args.dataset), law=args.law, seed=1, progress=False)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        report = fit.report(tmp / "report.html", budgets=[args.budget])
        shoot(exe, report, tmp / "top.png", 1400)
        shrink(tmp / "top.png", args.out / "top.png")
        print(f"wrote {args.out / 'top.png'}")
        for title, page, height in figure_pages(report.read_text(), tmp):
            shoot(exe, page, tmp / "shot.png", height)
            shrink(tmp / "shot.png", args.out / f"{slug(title)}.png")
            print(f"wrote {args.out / (slug(title) + '.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
