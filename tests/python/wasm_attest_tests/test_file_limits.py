"""Reading files named by configuration: regular files only, never more than the limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasm_attest.file_limits import FileLimitError, read_limited


def test_reads_a_regular_file_up_to_its_limit(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x" * 10)
    assert read_limited(tmp_path / "file", 10) == b"x" * 10
    with pytest.raises(FileLimitError, match="is larger than the 9 bytes") as caught:
        read_limited(tmp_path / "file", 9)
    assert caught.value.check == "file size limit"


@pytest.mark.parametrize("follow_links", [True, False])
def test_devices_fifos_and_folders_are_refused_unread(tmp_path: Path, follow_links: bool) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(FileLimitError, match="is a FIFO, not a regular file"):
        read_limited(tmp_path / "fifo", 10, follow_links=follow_links)
    with pytest.raises(FileLimitError, match="is a character device" if follow_links else r"is a symbolic link \(to /dev/zero\)"):
        read_limited(tmp_path / "zero", 10, follow_links=follow_links)
    with pytest.raises(FileLimitError, match="is a folder, not a regular file") as caught:
        read_limited(tmp_path, 10, follow_links=follow_links)
    assert caught.value.check == "regular files only"


def test_a_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "absent", 10)
