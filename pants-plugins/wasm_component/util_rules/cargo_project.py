"""Reads a `wasm_component` target into a `CargoProject`: what cargo will build, from which files.

All questions about a target that can be answered without cargo (is there a
lockfile, which package and binary, which output file) are answered here, so
that bad targets fail early, naming the target and the fix.

The files are those of the target's dependency closure, not of a folder: the
component's own crate, the crates it uses and its workspace root (inferred
from the Cargo.toml files, see `dependency_inference.py`), each at its
repository path. So a change to a crate that the component does not use does
not change its build's inputs. cargo also loads the manifest of every other
workspace member: the build gets those manifests with empty stand-in targets
(and stand-ins for the tests, examples and benches that manifests name).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.core.target_types import FileSourceField, ResourceSourceField
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents, DigestSubset, MergeDigests, PathGlobs, Paths
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    SourcesField,
    Target,
    TransitiveTargets,
    TransitiveTargetsRequest,
    WrappedTarget,
    WrappedTargetRequest,
)

from wasm_attest.cargo_lock import CargoLock, parse_cargo_lock
from wasm_attest.errors import WasmAttestError
from wasm_component.target_types import (
    COMMAND,
    LIBRARY,
    CargoCrateSourcesField,
    WasmComponentBinField,
    WasmComponentKindField,
    WasmComponentCargoPackageField,
    WasmComponentFeaturesField,
    WasmComponentNoDefaultFeaturesField,
    WasmComponentProfileField,
)
from wasm_component.util_rules.cargo_workspace import (
    CargoWorkspace,
    CargoWorkspaceRequest,
    CrateManifest,
    CrateManifestRequest,
    manifest_path,
    stand_in_targets,
)

# The kinds of sources a build sandbox takes from the targets a component depends on.
_SANDBOX_SOURCES = (CargoCrateSourcesField, FileSourceField, ResourceSourceField)


class WasmComponentTargetError(WasmAttestError):
    """A `wasm_component` target cannot be built as declared."""


@dataclass(frozen=True)
class CargoProjectRequest:
    address: Address


@dataclass(frozen=True)
class CargoProject:
    """One `wasm_component` target as cargo sees it."""

    address: Address
    root: str
    """The Cargo root: where cargo runs and Cargo.lock is."""
    sources_digest: Digest
    """The repository files the build reads, at their repository paths."""
    stand_ins_digest: Digest
    """Empty target files cargo needs to load the manifests of crates it does not build (see `stand_in_targets`)."""
    workspace: CargoWorkspace
    lockfile: CargoLock
    package: str
    kind: str
    """`command` (built with `--bin`) or `library` (the cdylib, built with `--lib`)."""
    bin: str | None
    """The binary of a command; None for a library."""
    artifact_stem: str
    """What cargo names the component file: the binary's name, or the library's with `-` replaced by `_`."""
    features: tuple[str, ...]
    no_default_features: bool
    profile: str

    @property
    def lockfile_path(self) -> str:
        return os.path.join(self.root, "Cargo.lock")

    @property
    def is_library(self) -> bool:
        return self.kind == LIBRARY

    @property
    def component_filename(self) -> str:
        return f"{self.artifact_stem}.wasm"

    @property
    def profile_directory(self) -> str:
        """The folder under `target/<triple>/` that cargo writes this profile's outputs to."""
        return profile_directory(self.profile)


def profile_directory(profile: str) -> str:
    """The folder under `target/` (and `target/<triple>/`) that cargo writes `profile`'s outputs to."""
    return {"dev": "debug", "test": "debug", "bench": "release"}.get(profile, profile)


async def _component_crate(address: Address) -> CrateManifest:
    """The manifest in the target's folder; fails if there is none."""
    directory = address.spec_path
    found = await Get(Paths, PathGlobs([manifest_path(directory)]))
    if not found.files:
        raise WasmComponentTargetError(
            f"{address}: there is no Cargo.toml in {directory or 'the build root'}/. Declare the wasm_component "
            "in the folder of the crate's Cargo.toml."
        )
    return await Get(CrateManifest, CrateManifestRequest(directory))


@rule(desc="Read a wasm_component's Cargo project")
async def read_cargo_project(request: CargoProjectRequest) -> CargoProject:
    address = request.address
    wrapped = await Get(WrappedTarget, WrappedTargetRequest(address, description_of_origin="a wasm_component build"))
    target = wrapped.target
    crate = await _component_crate(address)
    package = _package(target, crate)
    transitive, workspace = await MultiGet(
        Get(TransitiveTargets, TransitiveTargetsRequest([address])),
        Get(CargoWorkspace, CargoWorkspaceRequest(crate.cargo_root)),
    )
    sources = await Get(
        SourceFiles,
        SourceFilesRequest(
            [source for source in map(_sandbox_source, transitive.closure) if source is not None],
            for_sources_types=_SANDBOX_SOURCES,
        ),
    )
    lockfile_contents = await Get(DigestContents, DigestSubset(workspace.digest, PathGlobs([workspace.lockfile_path])))
    if not lockfile_contents:
        raise WasmComponentTargetError(
            f"{address}: there is no Cargo.lock in {workspace.root or 'the build root'}/. Builds use "
            "exactly the locked crates: run `cargo generate-lockfile` there and commit the file."
        )
    repository_files, stand_ins = await MultiGet(
        Get(Digest, MergeDigests([sources.snapshot.digest, workspace.digest])),
        Get(Digest, stand_in_targets(workspace.crates, set(sources.snapshot.files))),
    )
    kind, bin_name = _kind_and_bin(target, crate, _crate_files(crate.directory, sources.snapshot.files))
    return CargoProject(
        address=address,
        root=workspace.root,
        sources_digest=repository_files,
        stand_ins_digest=stand_ins,
        workspace=workspace,
        lockfile=parse_cargo_lock(lockfile_contents[0].content.decode(), origin=workspace.lockfile_path),
        package=package,
        kind=kind,
        bin=bin_name,
        artifact_stem=bin_name or crate.manifest.library_artifact_name or package,
        features=tuple(target[WasmComponentFeaturesField].value or ()),
        no_default_features=target[WasmComponentNoDefaultFeaturesField].value,
        profile=target[WasmComponentProfileField].value or "release",
    )


def _package(target: Target, crate: CrateManifest) -> str:
    """The package to build: the one of the target's folder, which `cargo_package`, if set, must name."""
    address, name = target.address, crate.manifest.package_name
    if name is None and not crate.manifest.is_workspace_root:
        raise WasmComponentTargetError(
            f"{address}: {crate.path} has no [package] table, so there is no crate to build. Add `[package]` with "
            '`name = "<crate name>"` to it, or declare the wasm_component in the folder of the crate\'s Cargo.toml.'
        )
    if name is None:
        members = ", ".join(crate.manifest.workspace_members) or "(none listed)"
        raise WasmComponentTargetError(
            f"{address}: {crate.path} has no [package]: it is a workspace root (members: {members}). Declare "
            "`wasm_component()` in the folder of the member's own Cargo.toml instead, and `cargo_crate()` here."
        )
    declared = target[WasmComponentCargoPackageField].value
    if declared is not None and declared != name:
        raise WasmComponentTargetError(
            f"{address}: `cargo_package` is {declared!r}, but {crate.path} is package {name!r}. A wasm_component "
            f"builds the crate of its own folder: declare it in the folder of {declared!r}'s Cargo.toml, or drop "
            "`cargo_package`."
        )
    return name


def _crate_files(directory: str, files: tuple[str, ...]) -> tuple[str, ...]:
    """The files below the crate's folder, relative to it."""
    prefix = f"{directory}/" if directory else ""
    return tuple(path[len(prefix) :] for path in files if path.startswith(prefix))


def _kind_and_bin(target: Target, crate: CrateManifest, crate_files: tuple[str, ...]) -> tuple[str, str | None]:
    """Whether the component is a command (and which binary) or the library, from the target and its Cargo.toml.

    A crate whose `[lib]` is a `cdylib` is a library component unless the
    target asks for a command; a crate with both a cdylib and binaries must
    say which, since either would build.
    """
    address, manifest, path = target.address, crate.manifest, crate.path
    declared_kind = target[WasmComponentKindField].value
    declared_bin = target[WasmComponentBinField].value
    binaries = manifest.binary_names(crate_files)
    if declared_kind == LIBRARY:
        if declared_bin is not None:
            raise WasmComponentTargetError(
                f'{address}: `bin` is {declared_bin!r} but `kind` is "{LIBRARY}": a library component is built from '
                f'the crate\'s cdylib, not a binary. Drop `bin`, or set `kind="{COMMAND}"` to build that binary.'
            )
        if not manifest.is_cdylib:
            crate_types = list(manifest.lib_crate_types) or ["lib"]
            raise WasmComponentTargetError(
                f'{address}: `kind` is "{LIBRARY}", but the [lib] of {path} has crate-type {crate_types}, not "cdylib", '
                f'so cargo links no component from it. Add `[lib]` with `crate-type = ["cdylib"]` to {path}, or set '
                f'`kind="{COMMAND}"` to build a binary.'
            )
        return LIBRARY, None
    if declared_kind == COMMAND or declared_bin is not None or not manifest.is_cdylib:
        return COMMAND, declared_bin or crate.manifest.package_name or ""
    if binaries:
        raise WasmComponentTargetError(
            f"{address}: {path} has both a cdylib library (a library component) and binaries "
            f"({', '.join(binaries)}), so the target must say which to build. Set `kind=\"{LIBRARY}\"` to build the "
            f'library (`cargo build --lib`), or `kind="{COMMAND}"` (with `bin="<name>"` to choose a binary) to build '
            "a command."
        )
    return LIBRARY, None


def _sandbox_source(target: Target) -> SourcesField | None:
    """The sources a dependency puts into the build sandbox: a crate's, or a `file`/`resource` target's."""
    for field_type in _SANDBOX_SOURCES:
        if target.has_field(field_type):
            return target[field_type]
    return None


def rules():
    return collect_rules()
