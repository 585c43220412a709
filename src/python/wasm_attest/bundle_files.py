"""Reading a bundle folder that may have been tampered with, within limits.

Verification reads folders that come from elsewhere (a CI download), so their
shape is input too: a symbolic link would make a "final product" of any file
on the machine, a FIFO or a device would hang a read, a name such as
`../../etc/passwd` in a signed link would point outside the folder, and a
multi-gigabyte file (or a million small ones) would stall a release job long
before a check could fail. So the folder is listed once, up front, without
following links; every file is checked against a size cap before anything
reads it; and reads, hashes and copies open files without following links and
stop at the cap, in case a file changes in between.

The caps are far above what a bundle holds (a component is kilobytes to a few
megabytes; the largest link, vendor's, lists every vendored file and stays
under a megabyte for hundreds of crates) and low enough that a hostile folder
fails in seconds.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO, Sequence

from wasm_attest import file_limits
from wasm_attest.errors import WasmAttestError
from wasm_attest.file_limits import ARTIFACT_SIZE_LIMIT, METADATA_SIZE_LIMIT, FileLimitError, human_size

FILE_COUNT_LIMIT = 10_000
"""Files in one bundle folder; a bundle holds about a dozen."""

_BLOCK = 1 << 20


class BundleFileError(WasmAttestError):
    """A file of the bundle cannot be read safely; `artifact` names it, `check` says which limit it broke."""

    def __init__(self, detail: str, *, artifact: str, check: str):
        self.detail = detail
        self.artifact = artifact
        self.check = check
        super().__init__(detail)


def list_bundle(folder: Path, parsed_patterns: Sequence[str]) -> dict[str, int]:
    """`{relative POSIX path: size}` of every file under `folder`, refusing what is unsafe to read.

    Files whose name matches `parsed_patterns` get `METADATA_SIZE_LIMIT`, the
    others `ARTIFACT_SIZE_LIMIT`. Symbolic links and special files are refused
    wherever they point: a bundle holds regular files only.
    """
    folder = Path(folder)
    files: dict[str, int] = {}
    for directory, subdirectories, names in os.walk(folder, onerror=_raise):
        for name in sorted(subdirectories + names):
            path = Path(directory, name)
            relative = path.relative_to(folder).as_posix()
            details = path.lstat()
            if stat.S_ISDIR(details.st_mode):
                continue
            if stat.S_ISLNK(details.st_mode):
                raise BundleFileError(
                    f"{relative} is a symbolic link (to {os.readlink(path)}); a bundle holds regular files only, so "
                    "a link could make any file on this machine pass for an artifact. Replace it with the file itself.",
                    artifact=relative,
                    check="regular files only",
                )
            if not stat.S_ISREG(details.st_mode):
                raise BundleFileError(
                    f"{relative} is not a regular file (a FIFO, socket or device); a bundle holds regular files only.",
                    artifact=relative,
                    check="regular files only",
                )
            limit = METADATA_SIZE_LIMIT if any(fnmatch.fnmatch(name, pattern) for pattern in parsed_patterns) else ARTIFACT_SIZE_LIMIT
            _check_size(relative, details.st_size, limit)
            files[relative] = details.st_size
            if len(files) > FILE_COUNT_LIMIT:
                raise BundleFileError(
                    f"{folder} holds more than {FILE_COUNT_LIMIT} files; a bundle holds a component and its attestations "
                    "(about a dozen files). Point at the folder `pants package` wrote for one component.",
                    artifact=relative,
                    check="file count limit",
                )
    return files


def is_safe_artifact_name(name: object) -> bool:
    """Whether `name` is a normalised relative POSIX path (no `..`, `.`, `//`, leading `/` or backslash)."""
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and "\0" not in name
        and all(part not in ("", ".", "..") for part in name.split("/"))
    )


def read_limited(path: Path, limit: int, *, name: str) -> bytes:
    """The bytes of the regular file `path`, refusing links and files over `limit` bytes.

    `name` is what error messages call the file. A missing or unreadable file
    raises the `OSError`, which the caller turns into its own message.
    """
    with _open_regular(path, name) as stream:
        data = stream.read(limit + 1)
    _check_size(name, len(data), limit)
    return data


def sha256_limited(path: Path, limit: int, *, name: str) -> str:
    """The SHA-256 (hex) of the regular file `path`, refusing links and files over `limit` bytes."""
    digest = hashlib.sha256()
    size = 0
    with _open_regular(path, name) as stream:
        for block in iter(lambda: stream.read(_BLOCK), b""):
            size += len(block)
            _check_size(name, size, limit)
            digest.update(block)
    return digest.hexdigest()


def copy_limited(source: Path, destination: Path, limit: int, *, name: str) -> None:
    """Copies the regular file `source` to the new file `destination`, refusing links and files over `limit` bytes."""
    size = 0
    with _open_regular(source, name) as stream, open(destination, "xb") as copy:
        for block in iter(lambda: stream.read(_BLOCK), b""):
            size += len(block)
            _check_size(name, size, limit)
            copy.write(block)


def _open_regular(path: Path, name: str) -> BinaryIO:
    """Opens a bundle file without following links; a link or special file fails as the bundle's fault."""
    try:
        return file_limits.open_regular(path, follow_links=False)
    except FileLimitError as error:
        raise BundleFileError(
            f"{name} {error.problem}; a bundle holds regular files only.", artifact=name, check=error.check
        ) from None


def _raise(error: OSError) -> None:
    """os.walk skips folders it cannot list unless told otherwise; a skipped folder would hide files."""
    raise error


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise BundleFileError(
            f"{name} is larger than the {human_size(limit)} wasm-attest reads of such a file; a bundle's files are far "
            "smaller, so it is not what the build delivered. Do not use this bundle.",
            artifact=name,
            check="file size limit",
        )
