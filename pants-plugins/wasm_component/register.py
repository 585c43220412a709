"""The wasm_component Pants backend: build Rust crates into attested wasm32-wasip2 components."""

from wasm_component.goals import package, run
from wasm_component.subsystems.registry import CargoRegistrySubsystem
from wasm_component.target_types import WasmComponentTarget
from wasm_component.util_rules import build, cargo_process, cargo_project, toolchain, vendor


def rules():
    return [
        *CargoRegistrySubsystem.rules(),
        *build.rules(),
        *cargo_process.rules(),
        *cargo_project.rules(),
        *toolchain.rules(),
        *vendor.rules(),
        *package.rules(),
        *run.rules(),
    ]


def target_types():
    return [WasmComponentTarget]
