"""`cargo metadata` for a Cargo workspace: the resolved package graph the SBOM draws names, licenses and edges from.

One Process per workspace, not per component: cargo resolves the whole
workspace whichever member it runs in, and what the SBOM reads from the
result (packages, licences, dependency edges, workspace members) depends only
on the manifests, Cargo.lock and the vendored crates. So it runs over those
alone, every member an empty stand-in like the dependencies step's, offline
and `--locked`, filtered to wasm32-wasip2 so crates for other platforms drop
out: every component of the workspace shares its one result, and a code edit
never reruns it. Which crates a component really contains comes from its own
build's messages, never from here (see `wasm_attest.crate_inventory`).

It needs only the vendoring, not the build, so the package goal asks for it
beside the build: it runs while the registry crates compile, and each
component's attestation can start as soon as its own compile ends instead of
waiting behind every other compile for this process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.engine.fs import CreateDigest, Digest, Directory, MergeDigests
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule

from wasm_attest.component_pipeline import WASM_TARGET
from wasm_component.util_rules.cargo_process import CargoProcess
from wasm_component.util_rules.cargo_workspace import CargoWorkspace, stand_in_targets
from wasm_attest.cargo_lock import CargoLock
from wasm_component.util_rules.vendor import VENDOR_DIR, VendoredCrates, VendorRequest


@dataclass(frozen=True)
class CargoMetadataRequest:
    workspace: CargoWorkspace
    lockfile: CargoLock


@dataclass(frozen=True)
class CargoMetadata:
    """The JSON that `cargo metadata --format-version 1` printed."""

    json: bytes


@rule(desc="Read the cargo metadata of a Cargo workspace")
async def cargo_metadata(request: CargoMetadataRequest) -> CargoMetadata:
    workspace = request.workspace
    vendored, stand_ins, vendor_mount_point = await MultiGet(
        Get(VendoredCrates, VendorRequest(workspace, request.lockfile)),
        Get(Digest, stand_in_targets(workspace.crates)),
        Get(Digest, CreateDigest([Directory(VENDOR_DIR)])),
    )
    inputs = await Get(Digest, MergeDigests([workspace.digest, stand_ins, vendored.digest, vendor_mount_point]))
    process = await Get(
        Process,
        CargoProcess(
            crate_dir=workspace.root,
            args=("metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", WASM_TARGET),
            input_digest=inputs,
            description=f"Read the cargo metadata of {workspace.lockfile_path}",
            source_dir=VENDOR_DIR,
        ),
    )
    result = await Get(ProcessResult, Process, process)
    return CargoMetadata(result.stdout)


def rules():
    return collect_rules()
