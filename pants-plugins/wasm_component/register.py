"""The wasm_component Pants backend: build Rust crates into attested wasm32-wasip2 components."""

from wasm_component import dependency_inference
from wasm_component.goals import generate_layout, package, publish, run, setup, verify_layout
from wasm_component.subsystems.oci import WasmOciSubsystem
from wasm_component.subsystems.registry import CargoRegistrySubsystem
from wasm_component.subsystems.sandbox import WasmSandboxSubsystem
from wasm_component.target_types import CargoCrateTarget, WasmComponentTarget
from wasm_component.util_rules import (
    advisories,
    attest,
    capability_policy,
    build,
    cargo_metadata,
    cargo_process,
    cargo_project,
    cargo_workspace,
    signed_layout,
    sandbox,
    shared_crates,
    signing_keys,
    source_revision,
    toolchain,
    vendor,
)


def rules():
    return [
        *CargoRegistrySubsystem.rules(),
        *advisories.rules(),
        *attest.rules(),
        *capability_policy.rules(),
        *build.rules(),
        *cargo_metadata.rules(),
        *cargo_process.rules(),
        *cargo_project.rules(),
        *cargo_workspace.rules(),
        *dependency_inference.rules(),
        *WasmSandboxSubsystem.rules(),
        *sandbox.rules(),
        *shared_crates.rules(),
        *signed_layout.rules(),
        *signing_keys.rules(),
        *source_revision.rules(),
        *toolchain.rules(),
        *vendor.rules(),
        *generate_layout.rules(),
        *package.rules(),
        *publish.rules(),
        *WasmOciSubsystem.rules(),
        *run.rules(),
        *setup.rules(),
        *verify_layout.rules(),
    ]


def target_types():
    return [WasmComponentTarget, CargoCrateTarget]
