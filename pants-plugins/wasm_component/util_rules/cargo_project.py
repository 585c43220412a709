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
    CargoCrateSourcesField,
    WasmComponentBinField,
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
    bin: str
    features: tuple[str, ...]
    no_default_features: bool
    profile: str

    @property
    def lockfile_path(self) -> str:
        return os.path.join(self.root, "Cargo.lock")

    @property
    def component_filename(self) -> str:
        return f"{self.bin}.wasm"

    @property
    def profile_directory(self) -> str:
        """The folder under `target/<triple>/` that cargo writes this profile's outputs to."""
        return {"dev": "debug", "test": "debug", "bench": "release"}.get(self.profile, self.profile)


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
    return CargoProject(
        address=address,
        root=workspace.root,
        sources_digest=repository_files,
        stand_ins_digest=stand_ins,
        workspace=workspace,
        lockfile=parse_cargo_lock(lockfile_contents[0].content.decode(), origin=workspace.lockfile_path),
        package=package,
        bin=target[WasmComponentBinField].value or package,
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


def _sandbox_source(target: Target) -> SourcesField | None:
    """The sources a dependency puts into the build sandbox: a crate's, or a `file`/`resource` target's."""
    for field_type in _SANDBOX_SOURCES:
        if target.has_field(field_type):
            return target[field_type]
    return None


def rules():
    return collect_rules()
