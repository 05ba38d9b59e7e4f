"""The one HTML page shell: escaping on, CSP present, self-contained output."""

from __future__ import annotations

import re

import jinja2
import pytest

from rigorlab.html import CSP, Markup, data_uri, environment, render_page

ATTACK = "<script>alert('x')</script><img src=http://evil.example/x.png onerror=alert(1)>"


def _csp(page: str) -> str:
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert m, "no CSP meta element"
    return m.group(1)


def test_untrusted_body_title_and_context_are_escaped():
    page = render_page(ATTACK, body=ATTACK)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") == 2          # once in <title>, once in the body


def test_csp_forbids_scripts_and_fetches_but_allows_inline_style_and_data_images():
    csp = _csp(render_page("t"))
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"     # no script-src: scripts fall back to none
    assert "script-src" not in directives and "connect-src" not in directives
    assert directives["style-src"] == "'unsafe-inline'"
    assert directives["img-src"] == "data:"


def test_markup_body_is_kept_and_page_is_self_contained():
    png = b"\x89PNG\r\n\x1a\nfake"
    body = Markup('<h1>Report</h1><img alt="fig" src="{}">').format(data_uri(png))
    page = render_page("Report", body=body, css="h1{color:red}")
    assert '<img alt="fig" src="data:image/png;base64,iVBORw0KGgpmYWtl">' in page
    assert "h1{color:red}" in page.split("</style>")[0]
    # nothing is fetched: no link/script elements, every src is a data: URI
    assert "<link" not in page and "<script" not in page
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))


def test_child_templates_extend_the_base_with_autoescape():
    env = environment()
    tpl = env.from_string('{% extends "base.html" %}{% block page %}<p>{{ quote }}</p>{% endblock %}')
    page = tpl.render(title="Card", css="", body="", quote=ATTACK)
    assert "<p>&lt;script&gt;" in page and _csp(page) == CSP
    assert "<script" not in page


def test_a_misspelt_variable_is_an_error_not_an_empty_cell():
    tpl = environment().from_string('{% extends "base.html" %}{% block page %}{{ missing }}{% endblock %}')
    with pytest.raises(jinja2.UndefinedError):
        tpl.render(title="t", css="", body="")
