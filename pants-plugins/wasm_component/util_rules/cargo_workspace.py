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
from typing import Iterable

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
        """Where cargo runs and `Cargo.lock` is: the workspace root, or the crate's own folder if it is in no workspace."""
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
    manifest_paths: tuple[str, ...]
    digest: Digest

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
    loaded: set[str] = set()
    while pending:
        crates = await MultiGet(Get(CrateManifest, CrateManifestRequest(directory)) for directory in sorted(pending))
        loaded |= pending
        referenced = {
            dependency.directory: dependency
            for crate in crates
            for dependency in crate.path_dependencies()
            if dependency.directory not in loaded
        }
        await _require_manifests(referenced.values())
        roots = {crate.workspace_root for crate in crates if crate.workspace_root is not None} - loaded
        pending = {*referenced, *roots}
    paths = tuple(sorted(manifest_path(directory) for directory in loaded))
    digest = await Get(Digest, PathGlobs([*paths, os.path.join(request.root, LOCKFILE)]))
    return CargoWorkspace(request.root, paths, digest)


def missing_manifest_message(dependency: PathDependency) -> str:
    return (
        f"{dependency.describe()} is {dependency.directory or '.'}/, which has no Cargo.toml (or does not exist). "
        f"Correct the path in {dependency.manifest_path}, or put the crate there."
    )


def stand_in_targets(manifest_paths: Iterable[str]) -> CreateDigest:
    """An empty `src/lib.rs` next to each manifest, for crates whose manifest cargo must load but not build.

    cargo refuses a package with no target at all, and loads the manifests of
    crates it will not compile (to resolve the workspace): the vendor step has
    only manifests, and a build has only the manifests of the workspace
    members it does not depend on. An empty library target satisfies cargo
    without bringing in, or depending on, the crate's code.
    """
    return CreateDigest(FileContent(stand_in_path(path), b"") for path in sorted(manifest_paths))


def stand_in_path(manifest: str) -> str:
    """Where the stand-in target of the crate of `manifest` goes."""
    return os.path.join(os.path.dirname(manifest), "src", "lib.rs")


def rules():
    return collect_rules()
