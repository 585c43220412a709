"""Which folder under `dist/` a `wasm_component` may own: the rules, as pure functions over paths.

`pants package` replaces a target's whole output folder on every run (and
removes it when verification fails), so the folder must be the target's alone:
inside `dist/`, never `dist/` itself, and neither inside nor around another
component's folder. Otherwise `output_path="../../x"` deletes a folder outside
the repository, `"."` every other bundle, and two targets sharing a folder
delete each other's bundles. Both rules are checked before anything is built;
the messages name the target, the field, the value and the fix.
"""

from __future__ import annotations

import posixpath
from typing import Iterable, Mapping

_FIELD = "`output_path`"


def output_path_problem(value: str) -> str | None:
    """Why `value` cannot be an `output_path` (a folder relative to `dist/`), or None if it can."""
    if not value or value.strip("/") in ("", "."):
        return "names `dist/` itself, whose other bundles packaging would replace"
    if "\0" in value or "\\" in value:
        return "holds a NUL or backslash; use a plain relative path with `/`"
    if value.startswith("/"):
        return "is absolute; it must be a folder relative to `dist/`"
    parts = value.rstrip("/").split("/")
    if ".." in parts:
        return "has a `..` component, which leads out of the target's own folder under `dist/`"
    if any(part in ("", ".") for part in parts):
        return f"is not normalised; write it as {posixpath.normpath(value)!r}"
    return None


def output_path_message(address: str, value: str, problem: str) -> str:
    """The error for a bad `output_path`: the target, the field, the value, what is wrong and the fix."""
    return (
        f"{address}: {_FIELD} {value!r} {problem}. Set {_FIELD} to a relative folder inside `dist/` that is this "
        "target's alone (e.g. `\"components/hello\"`), or remove it to use the default."
    )


def folder_overlaps(folder: str, other: str) -> bool:
    """Whether two normalised folders are the same or one contains the other."""
    return folder == other or other.startswith(folder + "/") or folder.startswith(other + "/")


def output_folder_clashes(address: str, folders: Mapping[str, str]) -> tuple[str, ...]:
    """The other targets in `folders` (address -> output folder) whose folder is, contains or lies inside `address`'s."""
    own = folders[address].rstrip("/")
    return tuple(
        sorted(other for other, folder in folders.items() if other != address and folder_overlaps(own, folder.rstrip("/")))
    )


def clash_message(address: str, folder: str, clashes: Iterable[str], folders: Mapping[str, str]) -> str:
    listed = ", ".join(f"{other} ({folders[other]!r})" for other in clashes)
    return (
        f"{address}: its {_FIELD} {folder!r} is, contains or lies inside the output folder of {listed}. Packaging "
        "replaces a target's whole folder under `dist/`, so one would delete the other's bundle. Give each "
        f"wasm_component its own {_FIELD}, none inside another's."
    )
