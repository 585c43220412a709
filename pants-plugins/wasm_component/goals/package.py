"""`pants package` for `wasm_component`: the built component under `dist/`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior
from pants.engine.fs import AddPrefix, Digest
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.unions import UnionRule

from wasm_component.target_types import WasmComponentOutputPathField, WasmComponentSourcesField
from wasm_component.util_rules.build import BuiltComponent
from wasm_component.util_rules.cargo_project import CargoProject, CargoProjectRequest


@dataclass(frozen=True)
class WasmComponentFieldSet(PackageFieldSet, RunFieldSet):
    required_fields = (WasmComponentSourcesField,)
    run_in_sandbox_behavior = RunInSandboxBehavior.RUN_REQUEST_HERMETIC

    sources: WasmComponentSourcesField
    output_path: WasmComponentOutputPathField


@rule(desc="Package a wasm_component")
async def package_wasm_component(field_set: WasmComponentFieldSet) -> BuiltPackage:
    project = await Get(CargoProject, CargoProjectRequest(field_set.address))
    component = await Get(BuiltComponent, CargoProject, project)
    output_dir = field_set.output_path.value_or_default(file_ending=None)
    digest = await Get(Digest, AddPrefix(component.digest, output_dir))
    return BuiltPackage(digest, (BuiltPackageArtifact(os.path.join(output_dir, component.filename)),))


def rules():
    return [*collect_rules(), UnionRule(PackageFieldSet, WasmComponentFieldSet)]
