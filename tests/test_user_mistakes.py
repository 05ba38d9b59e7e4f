"""Every command, each class of bad path: exit 2, one line on stderr naming the culprit, nothing left behind.

The classes (issue 16): an output that cannot be written (read-only), an
existing file where a directory is expected, a path under a file, a directory
where a file is expected, and a card / framework / config / study file that is
not UTF-8. rigorlab.cli.main() is the one place that turns these into a
sentence (rigorlab.userpaths); these tests drive the real commands through it.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigorlab.cli import main

OUT_DIR_COMMANDS = {   # the path is a directory the command creates
    "train": ["train", "--set", "grpo.steps=1", "--out", "{}"],
    "run": ["run", "--set", "grpo.steps=1", "--seeds", "1", "--no-report", "--out", "{}"],
    "pretrain": ["pretrain", "--out", "{}"],
}
OUT_FILE_COMMANDS = {  # the path is a file the command writes
    "card init": ["card", "init", "--kind", "model", "--out", "{}"],
    "card render": ["card", "render", "card.yaml", "--out", "{}"],
    "audit": ["audit", "doc.md", "--framework", "ddt", "--out", "{}"],
    "audit --compare": ["audit", "doc.md", "doc2.md", "--framework", "ddt", "--compare", "--out", "{}"],
    "theory --plot": ["theory", "--ref", "0.6,0.4", "--reward", "1,0", "--sweep-beta", "0.01:1",
                      "--points", "5", "--plot", "{}"],
}
IN_FILE_COMMANDS = {   # the path is a file the command reads
    "card validate": ["card", "validate", "{}"],
    "card render": ["card", "render", "{}"],
    "frameworks show": ["frameworks", "show", "{}"],
    "audit --framework": ["audit", "doc.md", "--framework", "{}"],
    "train CONFIG": ["train", "{}"],
    "pretrain --config": ["pretrain", "--config", "{}"],
    "run STUDY": ["run", "{}"],
    "study plan": ["study", "plan", "{}"],
    "diversity": ["diversity", "{}"],
}
YAML_READERS = [k for k in IN_FILE_COMMANDS if k != "diversity"]


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("a plain file\n")
    Path("adir").mkdir()
    Path("adir.png").mkdir()
    Path("binary.yaml").write_bytes(b"kind: model\nname: \xff\xfe\x00\x81 weights\n")
    Path("doc.md").write_text("# Model card\n\nTrained on 1T tokens of filtered web text; licence Apache-2.0.\n")
    Path("doc2.md").write_text("# Another card\n\nEvaluated on GSM8K.\n")
    assert main(["card", "init", "--kind", "model", "--out", "card.yaml"]) == 0
    return tmp_path


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _expect_one_sentence(argv: list[str], culprit: str, capsys, root: Path) -> str:
    capsys.readouterr()
    before = _tree(root)
    rc = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, (argv, err)
    assert len(lines) == 1, (argv, err)
    assert lines[0].startswith("rigorlab: error: ") and culprit in lines[0], (argv, lines)
    assert "Traceback" not in err
    assert _tree(root) == before, (argv, _tree(root) - before)
    return lines[0]


def _argv(template: list[str], path: str) -> list[str]:
    return [a.format(path) for a in template]


# ------------------------------------------------------------------ wrong kind of path
@pytest.mark.parametrize("name", list(OUT_DIR_COMMANDS))
def test_existing_file_as_output_directory(name, workspace, capsys):
    line = _expect_one_sentence(_argv(OUT_DIR_COMMANDS[name], "afile"), "afile", capsys, workspace)
    assert "file" in line and "directory" in line


@pytest.mark.parametrize("name", list(OUT_DIR_COMMANDS) + list(OUT_FILE_COMMANDS))
def test_output_under_a_file(name, workspace, capsys):
    template = {**OUT_DIR_COMMANDS, **OUT_FILE_COMMANDS}[name]
    target = "afile/sub/out.png" if name == "theory --plot" else "afile/sub/out"
    line = _expect_one_sentence(_argv(template, target), "afile", capsys, workspace)
    assert "is a file" in line


@pytest.mark.parametrize("name", list(OUT_FILE_COMMANDS))
def test_directory_as_output_file(name, workspace, capsys):
    target = "adir.png" if name == "theory --plot" else "adir"
    line = _expect_one_sentence(_argv(OUT_FILE_COMMANDS[name], target), target, capsys, workspace)
    assert "directory" in line


@pytest.mark.parametrize("name", list(IN_FILE_COMMANDS))
def test_directory_as_input_file(name, workspace, capsys):
    line = _expect_one_sentence(_argv(IN_FILE_COMMANDS[name], "adir"), "adir", capsys, workspace)
    assert "is a directory" in line, line        # named as what it is, not "does not exist"


@pytest.mark.parametrize("name", YAML_READERS)
def test_non_utf8_yaml(name, workspace, capsys):
    line = _expect_one_sentence(_argv(IN_FILE_COMMANDS[name], "binary.yaml"), "binary.yaml", capsys, workspace)
    assert "UTF-8" in line


# ------------------------------------------------------------------ unwritable output
class _ReadOnlyTree:
    """Make every write under `root` fail as on a read-only mount (EROFS), at the OS-call layer.

    Tests run as root here, and root ignores permission bits, so a chmod cannot
    make a directory unwritable; this patches the calls every writer goes
    through (mkdir, open for writing, os.open, access) instead.
    """

    def __init__(self, root: Path, monkeypatch) -> None:
        self.root = str(root.resolve())
        real_mkdir, real_os_open, real_open, real_access = os.mkdir, os.open, builtins.open, os.access

        def inside(path) -> bool:
            try:
                return os.path.abspath(os.fsdecode(path)).startswith(self.root)
            except TypeError:
                return False

        def refuse(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

        def mkdir(path, *a, **k):
            if inside(path):
                refuse(path)
            return real_mkdir(path, *a, **k)

        def os_open(path, flags, *a, **k):
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                refuse(path)
            return real_os_open(path, flags, *a, **k)

        def open_(file, mode="r", *a, **k):
            if not isinstance(file, int) and inside(file) and any(c in mode for c in "wax+"):
                refuse(file)
            return real_open(file, mode, *a, **k)

        def access(path, mode, *a, **k):
            if inside(path) and mode & os.W_OK:
                return False
            return real_access(path, mode, *a, **k)

        monkeypatch.setattr(os, "mkdir", mkdir)
        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(builtins, "open", open_)
        monkeypatch.setattr(io, "open", open_)
        monkeypatch.setattr(os, "access", access)


@pytest.fixture
def readonly(workspace, monkeypatch) -> Path:
    ro = workspace / "ro"
    ro.mkdir()
    _ReadOnlyTree(ro, monkeypatch)
    return ro


_names = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" -_é"),
                 min_size=1, max_size=12).map(str.strip).filter(lambda s: s not in ("", ".", ".."))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted({**OUT_DIR_COMMANDS, **OUT_FILE_COMMANDS})), leaf=_names,
       nested=st.booleans())
def test_unwritable_output(readonly, workspace, capsys, name, leaf, nested):
    template = {**OUT_DIR_COMMANDS, **OUT_FILE_COMMANDS}[name]
    target = Path("ro") / ("deeper" if nested else "") / (leaf + (".png" if name == "theory --plot" else ""))
    line = _expect_one_sentence(_argv(template, str(target)), "ro", capsys, workspace)
    assert "read-only" in line


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted({**OUT_DIR_COMMANDS, **OUT_FILE_COMMANDS})), leaf=_names,
       depth=st.integers(min_value=0, max_value=2))
def test_any_path_under_a_file_names_the_file(workspace, capsys, name, leaf, depth):
    template = {**OUT_DIR_COMMANDS, **OUT_FILE_COMMANDS}[name]
    target = Path("afile", *(["d"] * depth), leaf + (".png" if name == "theory --plot" else ""))
    line = _expect_one_sentence(_argv(template, str(target)), "afile", capsys, workspace)
    assert "afile is a file" in line


# ------------------------------------------------------------------ silent acceptance, --set
@pytest.mark.parametrize("argv,kind", [(["train", "{}"], "config file"), (["run", "{}"], "study file"),
                                       (["study", "plan", "{}"], "study file")])
def test_empty_config_or_study_is_refused(argv, kind, workspace, capsys):
    Path("empty.yaml").write_text("# nothing here yet\n")
    line = _expect_one_sentence(_argv(argv, "empty.yaml"), "empty.yaml", capsys, workspace)
    assert kind in line and "empty" in line


def test_bad_set_value_names_the_set_argument(workspace, capsys):
    Path("cfg.yaml").write_text("grpo:\n  steps: 3\n")
    line = _expect_one_sentence(["train", "cfg.yaml", "--set", "grpo.beta=abc", "--out", "r"],
                                "--set grpo.beta=abc", capsys, workspace)
    assert "cfg.yaml" not in line
