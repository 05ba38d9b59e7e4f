"""`rigorlab theory`: tables, JSON, the beta sweep and its figure, and one-sentence errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rigorlab.cli import main
from rigorlab.theory.optima import optimum
from rigorlab.theory.sweep import pair_top_mass, parse_range, sweep_beta


def run(capsys, *args):
    rc = main(["theory", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_output(capsys):
    rc, out, err = run(capsys, "--ref", "0.6,0.3,0.1", "--reward", "1,1,0", "--beta", "0.1")
    assert rc == 0, err
    assert "pi* for reverse regularisation, beta = 0.1" in out
    assert "0.6667" in out and "0.3333" in out and "5.044e-06" in out
    assert "coverage of correct set" in out and "TV to the forward optimum" in out


def test_json_matches_the_library(capsys):
    rc, out, _ = run(capsys, "--ref", "0.6,0.3,0.1", "--reward", "1,1,0", "--beta", "0.1",
                     "--direction", "forward", "--json")
    assert rc == 0
    data = json.loads(out)
    got = [o["pi_star"] for o in data["outcomes"]]
    np.testing.assert_allclose(got, optimum([0.6, 0.3, 0.1], [1, 1, 0], 0.1, "forward"), rtol=1e-12)
    assert data["lambda"] == pytest.approx((1.1 + math.sqrt(1.1**2 - 0.04)) / 2, rel=1e-12)
    # forward KL keeps y3 (0.0092), just under the 0.01 mode threshold
    assert data["summary"]["n_modes"] == 2 and data["summary"]["coverage"] == 1.0
    assert data["outcomes"][2]["pi_star"] == pytest.approx(0.0091673, rel=1e-4)
    assert set(data["tv_to_other_directions"]) == {"reverse", "entropy"}


def test_paper_example_reports_e100(capsys):
    rc, out, _ = run(capsys, "--ref", "0.5,0.5", "--reward", "1,0.9", "--beta", "1e-3", "--json")
    data = json.loads(out)
    assert data["summary"]["log_mass_ratio_correct"] == pytest.approx(100.0, abs=1e-9)
    assert data["summary"]["n_modes"] == 1
    rc, out, _ = run(capsys, "--ref", "0.5,0.5", "--reward", "1,0.9", "--beta", "1e-3")
    assert "2.688e+43 (e^100)" in out


def test_mara_makes_the_correct_answers_equal(capsys):
    rc, out, _ = run(capsys, "--ref", "0.6,0.3,0.1", "--reward", "1,1,0", "--beta", "0.1",
                     "--mara-tau", "1", "--json")
    rows = json.loads(out)["outcomes"]
    assert rows[0]["pi_star"] == pytest.approx(rows[1]["pi_star"], rel=1e-12)
    assert rows[1]["reward_used"] == pytest.approx(1 + 0.1 * math.log(2), rel=1e-12)
    rc, out, _ = run(capsys, "--ref", "0.6,0.3,0.1", "--reward", "1,1,0", "--beta", "0.1", "--mara-tau", "1")
    assert "MARA reward" in out


@pytest.mark.parametrize("args, fragment", [
    (("--ref", "0.6,-0.3,0.7", "--reward", "1,1,0", "--beta", "0.1"), "negative probability"),
    (("--ref", "0.6,0.4", "--reward", "1,1,0", "--beta", "0.1"), "--ref has 2 values but --reward has 3"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--beta", "0"), "--beta must be a positive number"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--beta", "-0.5"), "--beta must be a positive number"),
    (("--ref", "0.6,abc", "--reward", "1,0", "--beta", "0.1"), "item 2 is 'abc'"),
    (("--ref", "0.6,0.5", "--reward", "1,0", "--beta", "0.1"), "sums to 1.1"),
    (("--ref", "0.6,0.4", "--reward", "1,0"), "give --beta"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--beta", "0.1", "--direction", "up"), "--direction must be"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--beta", "0.1", "--plot", "x.png"), "--plot needs --sweep-beta"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--sweep-beta", "10:1"), "0 < LOW < HIGH"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--sweep-beta", "0:1"), "0 < LOW < HIGH"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--sweep-beta", "1e-3"), "LOW:HIGH"),
    (("--ref", "0.6,0.4", "--reward", "1,0", "--sweep-beta", "1e-3:1", "--beta", "0.1"), "not both"),
])
def test_bad_input_is_one_sentence_and_exit_2(capsys, args, fragment):
    rc, out, err = run(capsys, *args)
    assert rc == 2
    assert fragment in err
    assert err.startswith("rigorlab: error: ") and err.count("\n") == 1
    assert "Traceback" not in err + out


def test_normalise_flag(capsys):
    rc, out, _ = run(capsys, "--ref", "6,3,1", "--reward", "1,1,0", "--beta", "0.1", "--normalise", "--json")
    assert rc == 0
    assert json.loads(out)["outcomes"][0]["pi_ref"] == pytest.approx(0.6)


def test_sweep_finds_the_one_mode_beta_of_two_answers(capsys):
    """Two equally likely answers, gap 0.1: top mass >= 0.99 iff 0.1 / beta >= log 99."""
    rc, out, _ = run(capsys, "--ref", "0.5,0.5", "--reward", "1,0.9", "--sweep-beta", "1e-4:10", "--json")
    data = json.loads(out)
    assert data["one_mode_beta"] == pytest.approx(0.1 / math.log(99), rel=1e-9)
    assert len(data["rows"]) == 81 and data["best"] == "y1"
    rc, out, _ = run(capsys, "--ref", "0.5,0.5", "--reward", "1,0.9", "--sweep-beta", "1e-4:10")
    assert "one mode (top mass >= 0.99) for beta <= 0.02176" in out


def test_sweep_with_equal_rewards_never_collapses(capsys):
    rc, out, _ = run(capsys, "--ref", "0.6,0.3,0.1", "--reward", "1,1,0", "--sweep-beta", "1e-4:10")
    assert rc == 0 and "never one mode" in out


def test_sweep_plot_is_written_atomically(capsys, tmp_path):
    target = tmp_path / "figs" / "sweep.png"
    rc, out, err = run(capsys, "--ref", "0.5,0.3,0.2", "--reward", "1,0.9,0", "--sweep-beta", "1e-4:10",
                       "--points", "21", "--plot", str(target))
    assert rc == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["sweep.png"]
    rc, _, err = run(capsys, "--ref", "0.5,0.5", "--reward", "1,0", "--sweep-beta", "1e-3:1",
                     "--plot", str(tmp_path / "f.pdf"))
    assert rc == 2 and ".png" in err and not (tmp_path / "f.pdf").exists()


def test_sweep_library_and_two_outcome_closed_forms():
    assert parse_range("1e-4:10") == (1e-4, 10.0)
    res = sweep_beta(np.log([0.7, 0.3]), np.array([1.0, 0.0]), 1e-3, 10, points=31, direction="forward")
    assert res.one_mode_beta is not None
    # the forward optimum of two outcomes: top mass at the found beta is the threshold
    assert pair_top_mass(0.7, 1.0, res.one_mode_beta, "forward") == pytest.approx(0.99, abs=1e-9)
    for d in ("reverse", "forward", "entropy"):
        for pb in (0.2, 0.5, 0.9):
            for g, b in ((1e-3, 1e-4), (0.1, 1e-3), (5.0, 50.0), (0.3, 0.3)):
                want = optimum([pb, 1 - pb], [g, 0.0], b, d)[0]
                assert pair_top_mass(pb, g, b, d) == pytest.approx(want, abs=1e-10)


def test_theory_is_listed_in_help(capsys):
    rc = main(["--help"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "theory" in out
