"""The study report: one self-contained HTML file whose figures render in headless Chromium.

A tiny study (2 arms x 2 seeds, 3 steps of the small test model) is run in
this process; the report must hold its figures inline, fetch nothing, link
every run's datasheet and model card, and draw in a real browser.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST
from rigorlab.config import parse_overrides
from rigorlab.report import figures
from rigorlab.report.build import build_report
from rigorlab.study import load_study, run_study

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    base = dict(parse_overrides(FAST + ["grpo.steps=3", "eval.samples=16", "eval.ks=[1,4,16]"]))
    p = tmp / "s.yaml"
    p.write_text(textwrap.dedent(f"""
        name: rep
        description: report test <with markup & "quotes">
        base: {json.dumps(base)}
        arms: [{{name: grpo}}, {{name: k1-reward, set: {{grpo.kl.estimator: k1, grpo.kl.placement: reward}}}}]
        seeds: 2
        metrics: [accuracy, pass@16, distinct_correct, coverage, answer_entropy, tv_reverse, token_entropy]
    """))
    result = run_study(load_study(p), out=tmp / "out", workers=1, display=False, reporter=build_report)
    assert result.counts["done"] == 4, result.failures
    return result


def _parse(path: Path) -> tuple[str, list[tuple[str, dict]]]:
    text = path.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(text)
    return text, parser.tags


def test_report_is_self_contained(study):
    text, tags = _parse(study.report_path)
    imgs = [a for t, a in tags if t == "img"]
    assert len(imgs) == 4                      # intervals, curves, pass@k, answer distributions
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(a["src"].split(",", 1)[1])[:8] == PNG_MAGIC
        assert a.get("alt")
    assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object", "embed")]
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert "url(" not in text and "@import" not in text
    for fig in ("fig-intervals", "fig-curves", "fig-passk", "fig-dist"):
        assert f'id="{fig}' in text, fig
    assert "report test &lt;with markup &amp; &#34;quotes&#34;&gt;" in text
    # the shared page shell: a CSP that allows no script and no fetch, only inline styles and data: images
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:\">") in text


def test_report_links_every_runs_documents(study):
    _, tags = _parse(study.report_path)
    hrefs = [a["href"] for t, a in tags if t == "a" and not a["href"].startswith("#")]
    here = study.report_path.parent
    for h in hrefs:
        assert not Path(h).is_absolute() and (here / h).is_file(), h
    for arm in ("grpo", "k1-reward"):
        for seed in (0, 1):
            for doc in ("datasheet.md", "model_card.md"):
                assert f"runs/{arm}/seed-{seed}/docs/{doc}" in hrefs


def test_report_tables_intervals_and_plain_statements(study):
    text = study.report_path.read_text()
    stats = json.loads((study.study_dir / "stats.json").read_text())
    acc = stats["metrics"]["accuracy"]
    g = acc["arms"]["grpo"]
    assert f'{g["mean"]:.3f}&nbsp;<span class="ci">[{g["lo"]:.3f}, {g["hi"]:.3f}]</span>' in text
    assert "reference policy (pi_ref)" in text and "(baseline)" in text
    assert acc["vs_baseline"]["k1-reward"]["statement"] in text
    assert ("the paired difference" in text) and ("do not separate" in text or "excludes 0" in text)
    assert "2 of 2" not in text and "4 of 4 runs finished" in text


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_headless_chromium(study, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    # a copy with a probe that records, after load, how many images decoded and their sizes
    probe = ("<script>window.addEventListener('load', () => { const ok = [...document.images]"
             ".filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100); "
             "document.body.setAttribute('data-images', document.images.length + '/' + ok.length); });</script>")
    page = tmp_path / "probe.html"
    # the probe is a script, which the report's CSP forbids: the instrumented copy drops the CSP
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", study.report_path.read_text())
    page.write_text(text.replace("</body>", probe + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             "--virtual-time-budget=10000"]
    dom = subprocess.run([exe, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert m, dom.stderr[-2000:]
    assert m.group(1) == m.group(2) == "4"
    shot = tmp_path / "report.png"
    subprocess.run([exe, *flags, "--window-size=1280,2400", f"--screenshot={shot}", study.report_path.as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.shape == (2400, 1280)
    assert img.std() > 20                      # text, tables and figures, not a blank page


def test_figures_draw_from_plain_data():
    rng = np.random.default_rng(0)
    steps = np.arange(20)
    curves = {"entropy": {"a": [(steps, rng.random(20)), (steps, rng.random(20))], "b": [(steps, rng.random(20))]}}
    colors = figures.arm_colors(["a", "b"], "a")
    assert colors["a"] == figures.BASELINE_COLOR
    for png in (figures.training_curves(curves, [("entropy", "H")], colors, "a"),
                figures.pass_at_k({"a": {1: 0.5, 4: 0.9}, "b": {1: 0.6, 4: 0.95}}, {1: 0.4, 4: 0.99}, colors, "a"),
                figures.answer_distributions("S=3", ["0+3", "1+2", "9+9"], np.array([0.6, 0.3, 0.1]),
                                             np.array([True, True, False]),
                                             {"a": (np.array([0.9, 0.1, 0.0]), 0.0, np.array([0.7, 0.3, 0.0]), "pi*")},
                                             colors)):
        assert png[:8] == PNG_MAGIC and len(png) > 5000
    np.testing.assert_allclose(figures.smooth(np.arange(7.0), 3), [0.5, 1, 2, 3, 4, 5, 5.5])


def test_report_reads_the_optimum_each_run_wrote_and_loads_no_model(study, tmp_path, monkeypatch):
    """eval.json holds pi_ref, pi* and TV per prompt; the report is rebuilt from them alone."""
    import rigorlab.policy.model as model_mod
    import rigorlab.policy.sampling as sampling_mod
    from rigorlab.report.build import build_report

    def boom(*a, **k):
        raise AssertionError("building a report must not load or run a model")

    monkeypatch.setattr(model_mod, "load_pretrained", boom)
    monkeypatch.setattr(sampling_mod, "sequence_logprobs", boom)
    out = build_report(study.study_dir, output=tmp_path / "again.html")
    assert 'id="fig-dist' in out.read_text()
    stats = json.loads((study.study_dir / "stats.json").read_text())
    per_run = []
    for seed in (0, 1):
        ev = json.loads((study.study_dir / "runs" / "grpo" / f"seed-{seed}" / "eval.json").read_text())
        trained, opt = ev["trained"], ev["trained"]["optimum"]
        assert set(opt["prompts"]) == {row["prompt"] for row in trained["per_prompt"]}
        for entry in opt["prompts"].values():
            assert sum(entry["pi_ref"]) == pytest.approx(1.0) and len(entry["pi_ref"]) == len(entry["outcomes"])
            for d in ("reverse", "forward"):
                assert sum(entry["pi_star"][d]) == pytest.approx(1.0) and 0.0 <= entry["tv"][d] <= 1.0
        tvs = [e["tv"]["reverse"] for e in opt["prompts"].values()]
        assert trained["tv_to_optimum/reverse"] == pytest.approx(np.mean(tvs))
        assert opt["beta"] == trained["beta_used"] > 0
        per_run.append(tvs)
    # the interval's centre is the mean over seeds and prompts of the values the runs wrote
    assert stats["metrics"]["tv_reverse"]["arms"]["grpo"]["mean"] == pytest.approx(np.mean(per_run), abs=1e-9)


def test_markdown_tables_match_stats(study):
    """report.md beside report.html: every arm's interval as in stats.json, bold exactly where separated."""
    md = study.report_path.with_suffix(".md").read_text(encoding="utf-8")
    stats = json.loads((study.study_dir / "stats.json").read_text())
    acc = stats["metrics"]["accuracy"]
    k1 = acc["arms"]["k1-reward"]
    cell = f'{k1["mean"]:.3f} [{k1["lo"]:.3f}, {k1["hi"]:.3f}]'
    entry = acc["vs_baseline"]["k1-reward"]
    separated = entry["excludes_zero"] or not entry["overlap"]
    assert (f"**{cell}**" in md) == separated and cell in md
    assert "| reference (pi_ref) |" in md and "grpo (baseline)" in md
    assert md.count("|---|") >= 2 and "Paired difference to the baseline (grpo)" in md

