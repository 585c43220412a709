"""Replacing a target's output folder under `dist/` as a whole, and touching nothing else.

The new bundle is written into a hidden sibling folder
(`dist/<parent>/.<name>.wasm-attest-tmp-*`), then swapped in with two renames
(old folder to a hidden trash name, new folder to the final name) and the
trash deleted. A reader therefore sees the previous bundle, or for the
instant between the renames no folder, but never a mix of two builds, and a
run that fails while writing leaves the previous bundle in place.

Every path is checked before anything is created, renamed or deleted: the
target's folder must lie inside `dist/` (resolved), and no folder from
`dist/` down to it may be a symbolic link, which would carry the renames and
the deletion somewhere else on the machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Tuple

from wasm_attest.bundle_files import is_safe_artifact_name
from wasm_attest.errors import WasmAttestError

_TEMPORARY = "wasm-attest-tmp"
_TRASH = "wasm-attest-trash"

BundleFile = Tuple[str, bytes]
"""A bundle file: its path relative to the bundle folder, and its bytes."""


class DistFolderError(WasmAttestError):
    """The target's folder under `dist/` cannot be replaced or removed safely."""


def checked_folder(dist: Path, relative: str, *, owner: str) -> Path:
    """`dist/relative`, refused if it would leave `dist/` or passes through a symbolic link.

    `owner` names the target and field in messages. `dist` itself may be a
    link (to a bigger disk, say); nothing below it may.
    """
    root = Path(os.path.realpath(dist))
    folder = root.joinpath(*relative.split("/"))
    if not is_safe_artifact_name(relative.rstrip("/")) or root not in folder.parents:
        raise DistFolderError(f"{owner}: {relative!r} is not a folder inside {dist}/; packaging touches nothing else.")
    for path in (folder, *folder.parents):
        if path == root:
            break
        if path.is_symlink():
            raise DistFolderError(
                f"{owner}: {path} is a symbolic link (to {os.readlink(path)}), so replacing the bundle under it would "
                f"rename and delete files wherever it points. Remove the link (nothing under {dist}/ should be one) "
                "and package again."
            )
    return folder


def replace_folder(dist: Path, relative: str, files: Iterable[BundleFile], *, owner: str) -> Path:
    """Makes `dist/relative` hold exactly `files`, swapping the whole folder in; returns the folder's path."""
    folder = checked_folder(dist, relative, owner=owner)
    _make_parents(folder, dist, relative, owner)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.{_TEMPORARY}-"))
    try:
        os.chmod(staging, 0o755)  # as Pants writes dist/; mkdtemp made it private
        for name, content in files:
            _write_file(staging, name, content)
        trash = _move_aside(folder)
        try:
            os.rename(staging, folder)
        except OSError:
            if trash is not None:
                os.rename(trash, folder)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    return folder


def remove_folder(dist: Path, relative: str, *, owner: str) -> bool:
    """Removes `dist/relative` (moved aside first, so it never looks half-deleted); False if there was none."""
    folder = checked_folder(dist, relative, owner=owner)
    trash = _move_aside(folder)
    if trash is None:
        return False
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _make_parents(folder: Path, dist: Path, relative: str, owner: str) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    checked_folder(dist, relative, owner=owner)  # a link swapped in while the parents were made


def _move_aside(folder: Path) -> Path | None:
    """Renames `folder` (or a file squatting its name) to a hidden trash name beside it; None if it does not exist."""
    try:
        details = folder.lstat()
    except FileNotFoundError:
        return None
    trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.{_TRASH}-"))
    target = trash / "old" if stat.S_ISDIR(details.st_mode) else trash / folder.name
    os.rename(folder, target)
    return trash


def _write_file(staging: Path, name: str, content: bytes) -> None:
    if not is_safe_artifact_name(name):
        raise DistFolderError(f"The bundle file name {name!r} is not a plain relative path; nothing was written.")
    path = staging.joinpath(*name.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as stream:
        stream.write(content)
    os.chmod(path, 0o644)
