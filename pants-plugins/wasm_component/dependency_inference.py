"""Dependency inference for `wasm_component` and `cargo_crate`: a crate depends on the targets of the crates it uses.

Cargo.toml already says which crates of the repository a crate uses (path
dependencies, also inherited through `workspace = true`) and which workspace
root (Cargo.toml, Cargo.lock) it builds in. Inferring those as target
dependencies is what makes `pants dependents`, `--changed-since` and the build
sandboxes agree with cargo: editing a shared crate reaches exactly the
components that use it. Reading the manifests is the core library's job
(`wasm_attest.cargo_manifest`); here is only the lookup of the targets that
own the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.engine.addresses import Address, Addresses
from pants.engine.fs import PathGlobs, Paths
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import FieldSet, InferDependenciesRequest, InferredDependencies, Targets
from pants.engine.unions import UnionRule

from wasm_attest.cargo_manifest import CargoManifestError, PathDependency
from wasm_attest.errors import WasmAttestError
from wasm_component.target_types import CargoCrateSourcesField
from wasm_component.util_rules.cargo_workspace import (
    LOCKFILE,
    CrateManifest,
    CrateManifestRequest,
    manifest_path,
    missing_manifest_message,
)


class CargoDependencyInferenceError(WasmAttestError):
    """A crate's Cargo.toml names a crate that no target of the repository provides."""


@dataclass(frozen=True)
class CargoCrateDependenciesInferenceFieldSet(FieldSet):
    required_fields = (CargoCrateSourcesField,)

    sources: CargoCrateSourcesField


class InferCargoCrateDependencies(InferDependenciesRequest):
    infer_from = CargoCrateDependenciesInferenceFieldSet


@dataclass(frozen=True)
class _Needed:
    """A file cargo reads for this crate (its owner becomes a dependency), and why it reads it, for messages."""

    path: str
    reason: str


async def _needed_files(
    address: Address, crate: CrateManifest, dependencies: tuple[PathDependency, ...]
) -> list[_Needed]:
    """Manifests of the path dependencies and the workspace root, and its Cargo.lock; fails if a manifest is missing."""
    needed = [_Needed(manifest_path(dependency.directory), dependency.describe()) for dependency in dependencies]
    root = crate.workspace_root
    if root is not None and root != crate.directory:
        reason = f"the workspace root of {crate.path}"
        needed.append(_Needed(manifest_path(root), reason))
        needed.append(_Needed(os.path.join(root, LOCKFILE), reason))
    present = await Get(Paths, PathGlobs([file.path for file in needed]))
    for dependency in dependencies:
        if manifest_path(dependency.directory) not in present.files:
            raise CargoDependencyInferenceError(f"{address}: {missing_manifest_message(dependency)}")
    # A missing Cargo.lock is the build's error to report (it says how to make one).
    return [file for file in needed if file.path in present.files]


@rule(desc="Infer a crate's dependencies from its Cargo.toml")
async def infer_cargo_crate_dependencies(request: InferCargoCrateDependencies) -> InferredDependencies:
    address = request.field_set.address
    directory = address.spec_path
    own_manifest = await Get(Paths, PathGlobs([manifest_path(directory)]))
    if not own_manifest.files:
        raise CargoDependencyInferenceError(
            f"{address}: there is no Cargo.toml in {directory or 'the build root'}/. Declare `wasm_component` and "
            "`cargo_crate` targets in the folder of the crate's (or workspace root's) Cargo.toml."
        )
    crate = await Get(CrateManifest, CrateManifestRequest(directory))
    try:
        dependencies = crate.path_dependencies()
    except CargoManifestError as error:
        raise CargoDependencyInferenceError(f"{address}: {error}") from None
    needed = await _needed_files(address, crate, dependencies)
    owners = await MultiGet(Get(Owners, OwnersRequest((file.path,))) for file in needed)
    targets = await Get(Targets, Addresses(sorted({owner for found in owners for owner in found})))
    crates = {target.address for target in targets if target.has_field(CargoCrateSourcesField)}
    inferred = set()
    for file, found in zip(needed, owners):
        owning = [owner for owner in found if owner in crates and owner != address]
        if not owning and address not in found:
            folder = os.path.dirname(file.path)
            raise CargoDependencyInferenceError(
                f"{address}: cargo reads {file.path} for {file.reason}, but no `cargo_crate` or `wasm_component` "
                f"target owns it. Declare `cargo_crate()` in {os.path.join(folder, 'BUILD')}."
            )
        inferred.update(owning)
    return InferredDependencies(inferred)


def rules():
    return [*collect_rules(), UnionRule(InferDependenciesRequest, InferCargoCrateDependencies)]
