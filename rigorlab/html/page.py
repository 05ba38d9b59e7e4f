"""The Jinja2 environment and `render_page`, the one way to build an HTML page.

Two ways to fill the shell:

* a template of your own package that does `{% extends "base.html" %}` and
  overrides `{% block page %}` (templates live in `<package>/templates/`);
* a ready body: `render_page(title, body=Markup(...))`, for pages assembled
  from already-escaped fragments.

Values passed in the context are escaped unless they are `Markup`; wrapping a
string in `Markup` is a promise that it was escaped (or built from escaped
parts), so do it only where the pieces were escaped on the way in.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

# No scripts, no fetches: only inline styles and images embedded as data: URIs.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# The rules the four former page shells shared; a page adds its own through `css`.
BASE_CSS = """\
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d1d1f;margin:2em auto;\
max-width:1180px;padding:0 1em}
table{border-collapse:collapse}th,td{padding:.25em .5em;vertical-align:top}th{font-weight:600}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.muted{color:#5f6368}details{margin:.4em 0}summary{cursor:pointer}
img{max-width:100%;height:auto}"""


@lru_cache(maxsize=None)
def environment(package: str | None = None) -> jinja2.Environment:
    """An autoescaping environment that finds `base.html` and, if given, `<package>/templates/*`.

    StrictUndefined turns a misspelt variable into an error instead of an
    empty cell, so a template change cannot silently drop a figure.
    """
    loaders: list[jinja2.BaseLoader] = []
    if package:
        loaders.append(jinja2.PackageLoader(package, "templates"))
    loaders.append(jinja2.PackageLoader("rigorlab.html", "templates"))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals.update(base_css=Markup(BASE_CSS), csp=Markup(CSP), lang="en")
    env.filters["data_uri"] = data_uri
    return env


def render_page(title: str, template: str = "base.html", *, package: str | None = None,
                body: Markup | str = "", css: str = "", **context: Any) -> str:
    """Render one self-contained page.

    `title` is escaped; `body` is escaped unless it is `Markup`; `css` is the
    page's own stylesheet (trusted: it comes from code, never from input).
    `template` names a template in `package`'s `templates/` folder (or the
    bare base when omitted); every other keyword is passed to it.
    """
    tpl = environment(package).get_template(template)
    return tpl.render(title=title, body=body, css=Markup(css), **context)


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """`data:` URI for an embedded figure (the CSP allows images only in this form)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
