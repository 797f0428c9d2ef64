"""The report's context rendered through the templates in ``report/templates`` (jinja2).

HTML is one self-contained file (images inline); Markdown writes its images beside it, in
``<name>_files/``. Every user-provided string is escaped: HTML autoescape, and a Markdown filter
that escapes HTML and table pipes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import InputError
from ..core.files import atomic_write
from .context import report_context

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["write_report"]

_TEMPLATES = Path(__file__).with_name("templates")


def _md_escape(text: Any) -> str:
    s = str(text)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        s = s.replace(a, b)
    return s


def write_report(fit: FitRecord, path: str | Path, **kwargs) -> Path:
    """Write the report for ``fit``: self-contained HTML, or Markdown (``.md``, images beside it).

    Keyword arguments are those of :func:`~bayes_scaling.report.context.report_context`
    (``budgets``, ``target_loss``, ``plans``, ``prob``, ``title``, ``compare_with``).
    """
    import jinja2

    path = Path(path)
    kind = "md" if path.suffix.lower() in (".md", ".markdown") else "html"
    if kind == "html" and path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"report path must end in .html or .md, got {path.name!r}")
    ctx = report_context(fit, **kwargs)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]) if kind == "html" else False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = _md_escape
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "md":
        folder = path.with_name(path.stem + "_files")
        folder.mkdir(exist_ok=True)
        for i, p in enumerate(ctx["plots"]):
            if "png" in p:
                name = f"plot{i + 1}.png"
                (folder / name).write_bytes(p["png"])
                p["file"] = f"{folder.name}/{name}"
        text = env.get_template("report.md.j2").render(**ctx)
    else:
        text = env.get_template("report.html.j2").render(**ctx)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
