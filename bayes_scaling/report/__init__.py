"""The report layer: what a person reads.

- :mod:`~bayes_scaling.report.context`: everything a report shows, computed once, in sections;
- :mod:`~bayes_scaling.report.render`: the HTML or Markdown file (jinja2 templates in ``templates/``);
- :mod:`~bayes_scaling.report.tables`, :mod:`~bayes_scaling.report.figures`: its tables and images;
- :mod:`~bayes_scaling.report.notebook`: how a fit shows itself in Jupyter.
"""

from .context import report_context
from .render import write_report

__all__ = ["report_context", "write_report"]
