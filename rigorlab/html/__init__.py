"""One page shell for every HTML rigorlab writes: a Jinja2 base template.

Every report (training study, disclosure audit, comparison, rendered card,
red-team campaign, checkpoint comparison) is a single self-contained file:
inline CSS, figures as `data:` URIs, no script, and a Content-Security-Policy
that forbids scripts and any network fetch as a second line of defence. The
text on these pages is often untrusted (model cards, model outputs, attack
prompts), so the environment autoescapes everything that is not explicitly
`Markup`.
"""

from rigorlab.html.page import BASE_CSS, CSP, Markup, data_uri, environment, escape, render_page

__all__ = ["BASE_CSS", "CSP", "Markup", "data_uri", "environment", "escape", "render_page"]
