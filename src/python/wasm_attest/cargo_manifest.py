"""The facts about a `Cargo.toml` that the build needs before cargo runs.

Knowing the package and binary name up front lets the build declare exactly
which output file it expects, and lets a bad target fail with a clear message
rather than with cargo's. Knowing which crates of the repository a manifest
reaches by `path` (directly, per target platform, renamed, or inherited with
`workspace = true`), and which workspace it belongs to, lets the build tool
infer which crates depend on which, and so what a change affects.

Folders are POSIX paths relative to the repository root, `""` being the root
itself: a crate outside the repository cannot be part of a hermetic build, so
a path leading there is an error here, named after the manifest that has it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

import tomli

from wasm_attest.errors import WasmAttestError

# Where cargo looks for a [[bin]], [[example]], [[test]] or [[bench]] that has a name but no `path`.
_TARGET_FOLDERS = (("bin", "src/bin"), ("example", "examples"), ("test", "tests"), ("bench", "benches"))
_DEPENDENCY_KINDS = ("dependencies", "build-dependencies", "dev-dependencies", "build_dependencies", "dev_dependencies")


class CargoManifestError(WasmAttestError):
    """Cargo.toml cannot be read or lacks what the build needs."""


@dataclass(frozen=True)
class DependencyEntry:
    """A dependency that may be a crate of the repository: one with a `path`, or one inherited from the workspace."""

    name: str
    """The entry's key, which is the crate's name in code (`foo` in `foo = { package = "bar", path = "../bar" }`)."""
    table: str
    """Where it is declared, as a TOML header: `dependencies`, `target.'cfg(unix)'.build-dependencies`, ..."""
    path: str | None = None
    """As written: relative to the declaring manifest's folder."""
    inherited: bool = False
    """`workspace = true`: the entry of the same name in the workspace root's `[workspace.dependencies]` applies."""


@dataclass(frozen=True)
class PathDependency:
    """A crate of the repository that a manifest depends on by path."""

    name: str
    table: str
    directory: str
    """The crate's folder, relative to the repository root."""
    manifest_path: str
    """The Cargo.toml that declares the dependency."""

    def describe(self) -> str:
        """How error messages name the dependency."""
        return _dependency_phrase(self.name, self.table, self.manifest_path)


@dataclass(frozen=True)
class CargoManifest:
    """The parts of a Cargo.toml this project reads."""

    package_name: str | None
    package_version: str | None
    workspace_members: tuple[str, ...]
    is_workspace_root: bool
    """Whether it has a `[workspace]` table (a workspace root, virtual when there is no `[package]`)."""
    workspace_exclude: tuple[str, ...]
    package_workspace: str | None
    """`[package].workspace`: the workspace root's path, when the package names it rather than cargo searching."""
    dependencies: tuple[DependencyEntry, ...]
    """The path and `workspace = true` entries of every dependency table: normal, build and dev, per target platform,
    and `[patch.<registry>]` (path entries only there)."""
    workspace_dependencies: tuple[DependencyEntry, ...]
    """Every entry of `[workspace.dependencies]`, path or not (so an inherited registry dependency is known as one)."""
    named_target_files: tuple[str, ...]
    """For each [[bin]], [[example]], [[test]] and [[bench]] with a name but no `path`, where cargo looks for its
    source first (`examples/<name>.rs`, ...), relative to the crate's folder. cargo refuses to load a manifest
    whose such target has no file, even when it will not build it."""
    lib_name: str | None = None
    """`[lib].name`, if set (cargo's default is the package name with `-` replaced by `_`)."""
    lib_crate_types: tuple[str, ...] = ()
    """`[lib].crate-type` (`crate_type` too); empty when not set, which cargo reads as `["lib"]`."""
    declared_bins: tuple[str, ...] = ()
    """The names of the `[[bin]]` tables."""
    autobins: bool = True
    """`[package].autobins`: whether cargo also finds binaries in `src/main.rs` and `src/bin/`."""

    @property
    def is_cdylib(self) -> bool:
        """Whether the library builds as a `cdylib`: on wasm32-wasip2, a library component."""
        return "cdylib" in self.lib_crate_types

    @property
    def library_artifact_name(self) -> str | None:
        """The file stem cargo gives the library's artifact (`<name>.wasm` for a cdylib), if there is a package."""
        name = self.lib_name or self.package_name
        return None if name is None else name.replace("-", "_")

    def binary_names(self, crate_files: Iterable[str]) -> tuple[str, ...]:
        """The binaries cargo would build, given the crate's files (relative to its folder), sorted.

        As cargo finds them: the `[[bin]]` tables, plus, unless `autobins = false`,
        `src/main.rs` (named after the package) and `src/bin/<name>.rs` or
        `src/bin/<name>/main.rs`.
        """
        names = set(self.declared_bins)
        if self.autobins:
            for path in crate_files:
                if path == "src/main.rs" and self.package_name:
                    names.add(self.package_name)
                elif path.startswith("src/bin/"):
                    rest = path[len("src/bin/") :]
                    if "/" not in rest and rest.endswith(".rs"):
                        names.add(rest[: -len(".rs")])
                    elif rest.count("/") == 1 and rest.endswith("/main.rs"):
                        names.add(rest.split("/")[0])
        return tuple(sorted(names))

    def excludes(self, relative_directory: str) -> bool:
        """Whether this workspace root's `exclude` list keeps the crate in `relative_directory` (relative to it) out.

        As cargo decides it: listed under `exclude` (or below an excluded
        folder) and not explicitly under `members`; globs are not expanded.
        """
        excluded = any(_is_within(relative_directory, path) for path in self.workspace_exclude)
        explicit_member = any(_is_within(relative_directory, path) for path in self.workspace_members)
        return excluded and not explicit_member


def parse_cargo_manifest(text: str, *, origin: str = "Cargo.toml") -> CargoManifest:
    """Parses a Cargo.toml; `origin` names the file in error messages.

    Invalid TOML is an error, and so is a `package` that is not a table or
    whose `name` is not a string: this project decides from `[package].name`
    whether a folder holds a crate or a workspace root, so reading past them
    would report the wrong problem. Other parts that are not shaped as cargo
    expects are left out, for cargo itself to report.
    """
    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as error:
        raise CargoManifestError(f"{origin} is not valid TOML: {error}") from None
    _check_package_table(document.get("package"), origin)
    package = _table(document, "package")
    workspace = _table(document, "workspace")
    lib = _table(document, "lib")
    return CargoManifest(
        package_name=_string(package.get("name")),
        package_version=_string(package.get("version")),
        workspace_members=_strings(workspace.get("members")),
        is_workspace_root="workspace" in document and isinstance(document["workspace"], dict),
        workspace_exclude=_strings(workspace.get("exclude")),
        package_workspace=_string(package.get("workspace")),
        dependencies=tuple(
            entry
            for header, table in _dependency_tables(document)
            for entry in _entries(table, header, allow_inherited=not header.startswith("patch."))
            if entry.path is not None or entry.inherited
        ),
        workspace_dependencies=tuple(_entries(_table(workspace, "dependencies"), "workspace.dependencies")),
        named_target_files=tuple(
            f"{folder}/{target['name']}.rs"
            for kind, folder in _TARGET_FOLDERS
            for target in _list(document.get(kind))
            if isinstance(target, dict) and isinstance(target.get("name"), str) and "path" not in target
        ),
        lib_name=_string(lib.get("name")),
        lib_crate_types=_strings(lib.get("crate-type", lib.get("crate_type"))),
        declared_bins=tuple(
            target["name"]
            for target in _list(document.get("bin"))
            if isinstance(target, dict) and isinstance(target.get("name"), str)
        ),
        autobins=package.get("autobins") is not False,
    )


def _check_package_table(package: object, origin: str) -> None:
    if package is None:
        return
    if not isinstance(package, dict):
        raise CargoManifestError(
            f"{origin}: `package` is {_toml_type(package)} ({package!r}), but it must be a table: write `[package]` "
            'on its own line with `name = "<crate name>"` below it.'
        )
    name = package.get("name")
    if not isinstance(name, str):
        found = "missing" if name is None else f"{_toml_type(name)} ({name!r})"
        raise CargoManifestError(f'{origin}: [package].name is {found}, but it must be a string, e.g. `name = "hello"`.')


def _toml_type(value: object) -> str:
    """What a TOML value is, in TOML's words, for messages."""
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"), (dict, "a table")):
        if isinstance(value, kind):
            return name
    return "a date or time"


def ancestor_directories(directory: str) -> tuple[str, ...]:
    """The folders above `directory`, nearest first, ending with the repository root `""`."""
    ancestors = []
    while directory:
        directory = posixpath.dirname(directory)
        ancestors.append(directory)
    return tuple(ancestors)


def find_workspace_root(directory: str, manifests: Mapping[str, CargoManifest]) -> str | None:
    """The folder of the workspace root that the crate in `directory` belongs to, as cargo finds it; None if none.

    `manifests` holds, by folder, the crate's own manifest and those of its
    ancestors (and of the folder `[package].workspace` names, if set). Cargo
    takes the nearest ancestor with a `[workspace]` that does not exclude the
    crate; a manifest with its own `[workspace]` is its own root.
    """
    own = manifests[directory]
    if own.is_workspace_root:
        return directory
    if own.package_workspace is not None:
        where = f"[package].workspace of {_manifest_path(directory)}"
        return _within_repository(directory, own.package_workspace, where)
    for ancestor in ancestor_directories(directory):
        manifest = manifests.get(ancestor)
        if manifest is None or not manifest.is_workspace_root:
            continue
        if not manifest.excludes(_relative(directory, ancestor)):
            return ancestor
    return None


def workspace_member_directories(root: str, manifest: CargoManifest) -> tuple[str, ...]:
    """The workspace root's `members` as folders relative to the repository root (globs left to the caller)."""
    return tuple(
        _within_repository(root, member, f"the workspace member {member!r} of {_manifest_path(root)}")
        for member in manifest.workspace_members
    )


def path_dependencies(
    manifest: CargoManifest,
    *,
    directory: str,
    workspace_root: str | None = None,
    workspace_manifest: CargoManifest | None = None,
) -> tuple[PathDependency, ...]:
    """The crates of the repository that the manifest in `directory` depends on by path, in the order declared.

    `workspace = true` entries are resolved through `[workspace.dependencies]`
    of the workspace root (`workspace_manifest`, in the folder `workspace_root`),
    whose paths are relative to that root; inherited registry dependencies are
    not path dependencies and are left out.
    """
    manifest_path = _manifest_path(directory)
    declared_by_root = workspace_manifest.workspace_dependencies if workspace_manifest else ()
    inheritable = {entry.name: entry for entry in declared_by_root}
    resolved = []
    for entry in manifest.dependencies:
        if not entry.inherited:
            where = _dependency_phrase(entry.name, entry.table, manifest_path)
            folder = _within_repository(directory, entry.path or "", where)
            resolved.append(PathDependency(entry.name, entry.table, folder, manifest_path))
            continue
        if workspace_root is None or workspace_manifest is None:
            raise CargoManifestError(
                f"{manifest_path}: `{entry.name}` in [{entry.table}] is inherited from the workspace "
                "(`workspace = true`), but the crate belongs to no workspace. Give it a version or path of its "
                "own, or make the crate a member of the workspace that declares it."
            )
        declared = inheritable.get(entry.name)
        if declared is None:
            raise CargoManifestError(
                f"{manifest_path}: `{entry.name}` in [{entry.table}] is inherited from the workspace "
                f"(`workspace = true`), but [workspace.dependencies] of {_manifest_path(workspace_root)} has no "
                f"`{entry.name}`. Add it there, or declare the dependency in full in {manifest_path}."
            )
        if declared.path is not None:
            where = (
                f"{_dependency_phrase(entry.name, entry.table, manifest_path)} (inherited from "
                f"[workspace.dependencies] of {_manifest_path(workspace_root)})"
            )
            folder = _within_repository(workspace_root, declared.path, where)
            resolved.append(PathDependency(entry.name, entry.table, folder, manifest_path))
    return tuple(resolved)


def _dependency_tables(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(TOML header, table) of every table of dependencies a manifest can have."""
    for kind in _DEPENDENCY_KINDS:
        yield kind, _table(document, kind)
    for platform, tables in _table(document, "target").items():
        if isinstance(tables, dict):
            for kind in _DEPENDENCY_KINDS:
                yield f"target.'{platform}'.{kind}", _table(tables, kind)
    for registry, table in _table(document, "patch").items():
        if isinstance(table, dict):
            yield f"patch.{registry}", table


def _entries(table: Mapping[str, Any], header: str, *, allow_inherited: bool = True) -> Iterator[DependencyEntry]:
    for name, value in table.items():
        if isinstance(value, str):
            yield DependencyEntry(name, header)
        elif isinstance(value, dict):
            inherited = allow_inherited and value.get("workspace") is True
            yield DependencyEntry(name, header, path=_string(value.get("path")), inherited=inherited)


def _within_repository(base: str, path: str, what: str) -> str:
    """`base/path` normalised, relative to the repository root; an error naming `what` if it leads outside."""
    joined = posixpath.normpath(posixpath.join(base, path))
    if posixpath.isabs(path) or joined == ".." or joined.startswith("../"):
        raise CargoManifestError(
            f"{what} is {path!r}, which is outside the repository. Builds use only the repository's files: move "
            "that crate into the repository (and declare `cargo_crate()` in its folder), or depend on a published "
            "version of it instead."
        )
    return "" if joined == "." else joined


def _dependency_phrase(name: str, table: str, manifest_path: str) -> str:
    return f"the path dependency `{name}` in [{table}] of {manifest_path}"


def _is_within(directory: str, folder: str) -> bool:
    """Whether `directory` is `folder` or below it, comparing whole path components (as Rust's `Path::starts_with`)."""
    parts = [part for part in posixpath.normpath(folder).split("/") if part != "."]
    return directory.split("/")[: len(parts)] == parts if directory else not parts


def _relative(directory: str, ancestor: str) -> str:
    relative = posixpath.relpath(directory or ".", ancestor or ".")
    return "" if relative == "." else relative


def _manifest_path(directory: str) -> str:
    return posixpath.join(directory, "Cargo.toml")


def _table(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: object) -> tuple[str, ...]:
    return tuple(item for item in _list(value) if isinstance(item, str))
