"""Cargo.toml files read in their workspace, and every manifest cargo loads when it runs in a Cargo root.

cargo reads more than the crate it builds: the workspace root's manifest (for
`workspace = true` and the lockfile) and the manifest of every workspace
member and of their path dependencies, even for `-p one-member`, because it
resolves and checks Cargo.lock for the whole workspace. Dependency inference
and the sandboxes of the vendor and build steps all start from here, so that
they agree on which files cargo reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Collection, Iterable

from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent, PathGlobs, Paths
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel

from wasm_attest.cargo_manifest import (
    CargoManifest,
    PathDependency,
    ancestor_directories,
    find_workspace_root,
    parse_cargo_manifest,
    path_dependencies,
    workspace_member_directories,
)
from wasm_attest.errors import WasmAttestError

MANIFEST = "Cargo.toml"
LOCKFILE = "Cargo.lock"
_LIBRARY = "src/lib.rs"


class CargoWorkspaceError(WasmAttestError):
    """The Cargo.toml files do not describe crates that cargo could load."""


def manifest_path(directory: str) -> str:
    return os.path.join(directory, MANIFEST)


@dataclass(frozen=True)
class CrateManifestRequest:
    directory: str


@dataclass(frozen=True)
class CrateManifest:
    """The Cargo.toml in `directory`, with the workspace root it belongs to (if any) as cargo finds it."""

    directory: str
    manifest: CargoManifest
    workspace_root: str | None
    workspace_manifest: CargoManifest | None

    @property
    def path(self) -> str:
        return manifest_path(self.directory)

    @property
    def cargo_root(self) -> str:
        """Where cargo runs and Cargo.lock is: the workspace root, or the crate's own folder outside any workspace."""
        return self.directory if self.workspace_root is None else self.workspace_root

    def path_dependencies(self) -> tuple[PathDependency, ...]:
        """The repository's crates this manifest depends on by path, `workspace = true` entries resolved."""
        return path_dependencies(
            self.manifest,
            directory=self.directory,
            workspace_root=self.workspace_root,
            workspace_manifest=self.workspace_manifest,
        )


async def _read_manifests(directories: Iterable[str]) -> dict[str, CargoManifest]:
    """The parsed Cargo.toml of each of `directories` that has one, by folder."""
    contents = await Get(DigestContents, PathGlobs([manifest_path(directory) for directory in directories]))
    return {
        os.path.dirname(entry.path): parse_cargo_manifest(entry.content.decode(errors="replace"), origin=entry.path)
        for entry in contents
    }


@rule(desc="Read a Cargo.toml and its workspace root", level=LogLevel.DEBUG)
async def read_crate_manifest(request: CrateManifestRequest) -> CrateManifest:
    directory = request.directory
    manifests = await _read_manifests((directory, *ancestor_directories(directory)))
    if directory not in manifests:
        raise CargoWorkspaceError(f"There is no {manifest_path(directory)}.")
    own = manifests[directory]
    if own.package_workspace is not None and not own.is_workspace_root:
        named = find_workspace_root(directory, manifests)
        assert named is not None, "a [package].workspace path always names a root"
        manifests.update(await _read_manifests((named,)))
        if named not in manifests:
            raise CargoWorkspaceError(
                f"[package].workspace of {manifest_path(directory)} is {own.package_workspace!r}, but there is no "
                f"{manifest_path(named)}: correct the path, or remove it to let cargo find the workspace root."
            )
    root = find_workspace_root(directory, manifests)
    return CrateManifest(directory, own, root, None if root is None else manifests[root])


@dataclass(frozen=True)
class CargoWorkspaceRequest:
    root: str
    """A Cargo root: a workspace root, or a crate in no workspace."""


@dataclass(frozen=True)
class CargoWorkspace:
    """Every Cargo.toml that cargo loads when it runs in `root` (and `root`'s Cargo.lock, if there is one).

    That is the root's manifest, its workspace members' and, transitively,
    their path dependencies' and the workspace roots those belong to. This is
    all the vendor step needs, and what a build must hold for the crates that
    are not among its own dependencies.
    """

    root: str
    crates: tuple[CrateManifest, ...]
    """By folder."""
    digest: Digest

    @property
    def manifest_paths(self) -> tuple[str, ...]:
        return tuple(crate.path for crate in self.crates)

    @property
    def lockfile_path(self) -> str:
        return os.path.join(self.root, LOCKFILE)


async def _member_directories(root: CrateManifest) -> tuple[str, ...]:
    """The folders of the root's `members` (globs expanded) that hold a Cargo.toml and are not excluded."""
    if not root.manifest.is_workspace_root:
        return ()
    members = workspace_member_directories(root.directory, root.manifest)
    found = await Get(Paths, PathGlobs([manifest_path(member) for member in members]))
    directories = (os.path.dirname(path) for path in found.files)
    return tuple(
        directory
        for directory in directories
        if not root.manifest.excludes(os.path.relpath(directory, root.directory or "."))
    )


async def _require_manifests(dependencies: Iterable[PathDependency]) -> None:
    """Fails, naming the manifest and the entry, for a path dependency whose folder has no Cargo.toml."""
    wanted = {manifest_path(dependency.directory): dependency for dependency in dependencies}
    if not wanted:
        return
    found = await Get(Paths, PathGlobs(sorted(wanted)))
    missing = [dependency for path, dependency in wanted.items() if path not in found.files]
    if missing:
        raise CargoWorkspaceError(missing_manifest_message(missing[0]))


@rule(desc="Find the Cargo.toml files of a Cargo workspace", level=LogLevel.DEBUG)
async def load_cargo_workspace(request: CargoWorkspaceRequest) -> CargoWorkspace:
    root = await Get(CrateManifest, CrateManifestRequest(request.root))
    pending = {request.root, *await _member_directories(root)}
    loaded: dict[str, CrateManifest] = {}
    while pending:
        crates = await MultiGet(Get(CrateManifest, CrateManifestRequest(directory)) for directory in sorted(pending))
        loaded.update((crate.directory, crate) for crate in crates)
        referenced = {
            dependency.directory: dependency
            for crate in crates
            for dependency in crate.path_dependencies()
            if dependency.directory not in loaded
        }
        await _require_manifests(referenced.values())
        roots = {crate.workspace_root for crate in crates if crate.workspace_root is not None} - loaded.keys()
        pending = {*referenced, *roots}
    crates = tuple(loaded[directory] for directory in sorted(loaded))
    digest = await Get(Digest, PathGlobs([*(crate.path for crate in crates), os.path.join(request.root, LOCKFILE)]))
    return CargoWorkspace(request.root, crates, digest)


def missing_manifest_message(dependency: PathDependency) -> str:
    return (
        f"{dependency.describe()} is {dependency.directory or '.'}/, which has no Cargo.toml (or does not exist). "
        f"Correct the path in {dependency.manifest_path}, or put the crate there."
    )


def stand_in_targets(crates: Iterable[CrateManifest], sources: Collection[str] = ()) -> CreateDigest:
    """Empty target files that let cargo load the manifests of crates it will not build.

    cargo refuses a package with no target at all, or with a named [[bin]],
    [[example]], [[test]] or [[bench]] (no `path`) whose file is missing, even
    when it builds none of them. The vendor step has only manifests; a build
    has only the manifests of the workspace members outside its dependencies,
    and no tests, examples or benches of those inside. `sources` are the files
    the sandbox already holds: a crate whose Cargo.toml is among them is built
    from its own `src/`, and gets stand-ins only for named targets outside it.
    Empty files satisfy cargo without bringing in, or depending on, any code.
    """
    stand_ins = set()
    for crate in crates:
        built = crate.path in sources
        wanted = [path for path in crate.manifest.named_target_files if not (built and path.startswith("src/"))]
        if not built:
            wanted.append(_LIBRARY)
        paths = (os.path.join(crate.directory, relative) for relative in wanted)
        stand_ins.update(path for path in paths if not _has_target_file(path, sources))
    return CreateDigest(FileContent(path, b"") for path in sorted(stand_ins))


def _has_target_file(path: str, sources: Collection[str]) -> bool:
    """Whether the sandbox has the target file `<folder>/<name>.rs`, or its alternative `<folder>/<name>/main.rs`."""
    return path in sources or os.path.join(path[: -len(".rs")], "main.rs") in sources


def rules():
    return collect_rules()
