"""Reading a file someone else named, within a size limit: the bottom layer under keys, layouts and bundles.

Every path the tools read comes from configuration, a BUILD file or a command
line, so it is input like any other: a key path that is a link to `/dev/zero`
would be read until memory runs out, a FIFO would hang the read forever. So a
file is opened once, checked to be a regular file on the open descriptor (no
race with a swap in between), and read up to its limit plus one byte, which
tells "too large" apart without reading more.

Callers phrase the message (which option or field named the file, what to do);
this module says only what is wrong with the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from wasm_attest.errors import WasmAttestError

KEY_SIZE_LIMIT = 64 * 1024
"""Bytes of a PEM key file; a key is a few hundred bytes, a certificate chain a few kilobytes."""
LAYOUT_SIZE_LIMIT = 4 * 1024 * 1024
"""Bytes of a signed layout named in configuration; a layout lists rules and keys, kilobytes in all."""
METADATA_SIZE_LIMIT = 16 * 1024 * 1024
"""Bytes of a bundle file that is parsed (link, layout, provenance, SBOM, public key)."""
ARTIFACT_SIZE_LIMIT = 1024 * 1024 * 1024
"""Bytes of a file that is only hashed or copied (the component, Cargo.lock)."""

REGULAR_FILES_ONLY = "regular files only"
FILE_SIZE_LIMIT = "file size limit"

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Not blocking on a FIFO (which then fails the regular-file check).
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


class FileLimitError(WasmAttestError):
    """A file is not a regular file, or is over its limit. `problem` completes "<the file> ..."; `check` names the rule."""

    def __init__(self, problem: str, *, check: str):
        self.problem = problem
        self.check = check
        super().__init__(problem)


def open_regular(path: Path, *, follow_links: bool) -> BinaryIO:
    """Opens the regular file `path` for reading; a FIFO, device or socket (or a link, unless followed) is refused.

    A missing or unreadable file raises the `OSError`, for the caller to phrase.
    """
    try:
        descriptor = os.open(path, _FLAGS | (0 if follow_links else _NO_FOLLOW))
    except OSError:
        if not follow_links and os.path.islink(path):
            raise FileLimitError(f"is a symbolic link (to {os.readlink(path)})", check=REGULAR_FILES_ONLY) from None
        raise
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise FileLimitError(f"is {kind_of_file(mode)}, not a regular file", check=REGULAR_FILES_ONLY)
    return os.fdopen(descriptor, "rb")


def read_limited(path: Path, limit: int, *, follow_links: bool = False) -> bytes:
    """The bytes of the regular file `path`, refusing special files and files over `limit` bytes."""
    with open_regular(path, follow_links=follow_links) as stream:
        data = stream.read(limit + 1)
    check_size(len(data), limit)
    return data


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise FileLimitError(f"is larger than the {human_size(limit)} wasm-attest reads of such a file", check=FILE_SIZE_LIMIT)


def kind_of_file(mode: int) -> str:
    """What a non-regular file is, for messages."""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a special file"


def human_size(size: int) -> str:
    for unit, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit:
            return f"{size // unit} {name}"
    return f"{size} bytes"
