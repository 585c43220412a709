"""Reads a `wasm_component` target into a `CargoProject`: what cargo will build, from which files.

All questions about a target that can be answered without cargo (is there a
lockfile, which package and binary, which output file) are answered here, so
that bad targets fail early, naming the target and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents, DigestSubset, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest, WrappedTarget, WrappedTargetRequest

from wasm_attest.cargo_lock import CargoLock, parse_cargo_lock
from wasm_attest.cargo_manifest import parse_cargo_manifest
from wasm_attest.errors import WasmAttestError
from wasm_component.target_types import (
    WasmComponentBinField,
    WasmComponentCargoPackageField,
    WasmComponentFeaturesField,
    WasmComponentNoDefaultFeaturesField,
    WasmComponentProfileField,
    WasmComponentSourcesField,
)


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
    sources_digest: Digest
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


@rule(desc="Read a wasm_component's Cargo project")
async def read_cargo_project(request: CargoProjectRequest) -> CargoProject:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.address, description_of_origin="a wasm_component build"),
    )
    target = wrapped.target
    root = request.address.spec_path
    sources = await Get(HydratedSources, HydrateSourcesRequest(target[WasmComponentSourcesField]))
    manifest_path = os.path.join(root, "Cargo.toml")
    lockfile_path = os.path.join(root, "Cargo.lock")
    contents = await Get(
        DigestContents, DigestSubset(sources.snapshot.digest, PathGlobs([manifest_path, lockfile_path]))
    )
    by_path = {entry.path: entry.content.decode() for entry in contents}
    if manifest_path not in by_path:
        raise WasmComponentTargetError(
            f"{request.address}: there is no Cargo.toml in {root or 'the build root'}/ among the "
            "target's sources. Declare the wasm_component in the crate's folder (or the workspace "
            "root for a workspace member)."
        )
    if lockfile_path not in by_path:
        raise WasmComponentTargetError(
            f"{request.address}: there is no Cargo.lock in {root or 'the build root'}/. Builds use "
            "exactly the locked crates: run `cargo generate-lockfile` there and commit the file."
        )
    manifest = parse_cargo_manifest(by_path[manifest_path], origin=manifest_path)
    lockfile = parse_cargo_lock(by_path[lockfile_path], origin=lockfile_path)
    package = target[WasmComponentCargoPackageField].value or manifest.package_name
    if package is None:
        raise WasmComponentTargetError(
            f"{request.address}: {manifest_path} has no [package] (it is a workspace root); set "
            f"`cargo_package` to one of its members: {', '.join(manifest.workspace_members) or '(none listed)'}."
        )
    return CargoProject(
        address=request.address,
        root=root,
        sources_digest=sources.snapshot.digest,
        lockfile=lockfile,
        package=package,
        bin=target[WasmComponentBinField].value or package,
        features=tuple(target[WasmComponentFeaturesField].value or ()),
        no_default_features=target[WasmComponentNoDefaultFeaturesField].value,
        profile=target[WasmComponentProfileField].value or "release",
    )


def rules():
    return collect_rules()
