"""`cargo metadata` for a component: the resolved package graph the SBOM draws names, licenses and edges from.

It runs over the same sandbox (sources, stand-ins, vendored crates) as the build, offline and
`--locked`, filtered to wasm32-wasip2 so crates for other platforms drop out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.engine.fs import CreateDigest, Digest, Directory, MergeDigests
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, collect_rules, rule

from wasm_attest.component_pipeline import WASM_TARGET
from wasm_component.util_rules.cargo_process import CargoProcess
from wasm_component.util_rules.cargo_project import CargoProject
from wasm_component.util_rules.vendor import VENDOR_DIR, VendoredCrates


@dataclass(frozen=True)
class CargoMetadataRequest:
    project: CargoProject
    vendored: VendoredCrates


@dataclass(frozen=True)
class CargoMetadata:
    """The JSON that `cargo metadata --format-version 1` printed."""

    json: bytes


@rule(desc="Read the cargo metadata of a component")
async def cargo_metadata(request: CargoMetadataRequest) -> CargoMetadata:
    vendor_mount_point = await Get(Digest, CreateDigest([Directory(VENDOR_DIR)]))
    project = request.project
    inputs = await Get(
        Digest,
        MergeDigests([project.sources_digest, project.stand_ins_digest, request.vendored.digest, vendor_mount_point]),
    )
    process = await Get(
        Process,
        CargoProcess(
            crate_dir=project.root,
            args=("metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", WASM_TARGET),
            input_digest=inputs,
            description=f"Read the cargo metadata of {project.address}",
            source_dir=VENDOR_DIR,
        ),
    )
    result = await Get(ProcessResult, Process, process)
    return CargoMetadata(result.stdout)


def rules():
    return collect_rules()
