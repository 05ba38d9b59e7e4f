"""rigorlab.userpaths: the sentences main() prints for OS and decoding errors on user-named paths."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from rigorlab.errors import UserError
from rigorlab.io import atomic_write_text
from rigorlab.userpaths import (check_output_dir, check_output_file, decode_error_sentence, os_error_sentence,
                                read_text)


def _err(code: int, name: str) -> OSError:
    return OSError(code, os.strerror(code), name)


@pytest.mark.parametrize("code,expect", [
    (errno.EROFS, "read-only file system"), (errno.EACCES, "permission denied"), (errno.ENOSPC, "no space left"),
    (errno.EISDIR, "is a directory"), (errno.ENOENT, "does not exist"),
])
def test_each_errno_names_the_path(code, expect, tmp_path):
    sentence = os_error_sentence(_err(code, str(tmp_path / "x" / "out.json")))
    assert expect in sentence and str(tmp_path / "x" / "out.json") in sentence and "\n" not in sentence


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / "f").write_text("x")
    sentence = os_error_sentence(_err(errno.ENOTDIR, str(tmp_path / "f" / "sub" / "out")))
    assert f"{tmp_path / 'f'} is a file, not a directory" in sentence


def test_no_filename_is_not_a_user_mistake():
    assert os_error_sentence(OSError(errno.EIO, "I/O error")) is None


def test_atomic_write_names_the_target_not_its_temporary_file(tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        atomic_write_text(target, "x")
    assert info.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]     # no temporary file left


def test_decode_error_names_the_file_from_argv(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("a: 1\n")
    bad.write_bytes(b"a: \xff\n")
    try:
        bad.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        sentence = decode_error_sentence(exc, ["card", "validate", str(good), f"--framework={bad}"])
    assert str(bad) in sentence and str(good) not in sentence


def test_read_text_and_output_checks(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="card file .* is a directory"):
        read_text(tmp_path / "d", "card file")
    with pytest.raises(UserError, match="is a file, not a directory"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(UserError, match=f"{tmp_path / 'f'} is a file"):
        check_output_dir(tmp_path / "f" / "run")
    with pytest.raises(UserError, match="is a directory, not a file"):
        check_output_file(tmp_path / "d")
    assert check_output_file(tmp_path / "new.md") == tmp_path / "new.md"
