"""`pants publish` for `wasm_component`: push the packaged, verified component to OCI registries.

Pants' publish goal first runs `pants package` (which writes and verifies
`dist/<output_path>/`, `oci/` included), then runs the process returned here
for each registry: `wasm-attest push`, the same command a release job
without Pants uses, with the Pants venv's interpreter. It runs in the
workspace (it reads `dist/`) and gets only `HOME`, `DOCKER_CONFIG` and
`PATH` from the environment, which is all the Docker credential lookup needs
(config file, `credsStore`, `credHelpers`); no credential passes through
Pants, its cache or a BUILD file.

No registry configured is an error, not a silent skip: a release job that
publishes nothing must not look green. `skip_push=True` skips on purpose.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from pants.core.goals.publish import PublishFieldSet, PublishOutputData, PublishPackages, PublishProcesses, PublishRequest
from pants.core.util_rules.distdir import DistDir
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.process import InteractiveProcess
from pants.engine.rules import Get, collect_rules, rule

import wasm_attest
from wasm_component.oci_registries import configured_registries, repository_name, target_registries
from wasm_component.subsystems.oci import WasmOciSubsystem
from wasm_component.target_types import (
    WasmComponentImageTagsField,
    WasmComponentOutputPathField,
    WasmComponentRegistriesField,
    WasmComponentRepositoryField,
    WasmComponentSkipPushField,
    WasmComponentSourcesField,
)

_PASSED_ENVIRONMENT = ("HOME", "DOCKER_CONFIG", "PATH")
"""What the Docker credential lookup reads; nothing else of the user's environment reaches the push."""


class PublishWasmComponentRequest(PublishRequest):
    pass


@dataclass(frozen=True)
class PublishWasmComponentFieldSet(PublishFieldSet):
    publish_request_type = PublishWasmComponentRequest
    required_fields = (WasmComponentSourcesField,)

    sources: WasmComponentSourcesField
    output_path: WasmComponentOutputPathField
    registries: WasmComponentRegistriesField
    repository: WasmComponentRepositoryField
    image_tags: WasmComponentImageTagsField
    skip_push: WasmComponentSkipPushField

    def get_output_data(self) -> PublishOutputData:
        return PublishOutputData({"publisher": "wasm-oci", **super().get_output_data()})


@rule(desc="Prepare to publish a wasm_component to OCI registries")
async def publish_wasm_component(
    request: PublishWasmComponentRequest, options: WasmOciSubsystem, distdir: DistDir
) -> PublishProcesses:
    field_set = request.field_set
    address = str(field_set.address)
    registries = target_registries(address, field_set.registries.value or (), configured_registries(options.registries))
    repository = repository_name(
        field_set.repository.value or options.default_repository,
        target_name=field_set.address.target_name,
        directory=field_set.address.spec_path,
    )
    tags = tuple(field_set.image_tags.value or ())
    names = {registry.address: tuple(f"{registry.address}/{repository}:{tag}" for tag in tags) or (f"{registry.address}/{repository}",) for registry in registries}
    if field_set.skip_push.value:
        return PublishProcesses(
            PublishPackages(names=names[registry.address], description=f"(by `skip_push` on {address})") for registry in registries
        )
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(_PASSED_ENVIRONMENT))
    folder = distdir.relpath / field_set.output_path.value_or_default(file_ending=None)
    library_root = str(Path(wasm_attest.__file__).resolve().parent.parent)
    return PublishProcesses(
        PublishPackages(
            names=names[registry.address],
            process=InteractiveProcess(
                argv=(
                    sys.executable, "-m", "wasm_attest.cli", "push", str(folder), f"oci://{registry.address}/{repository}",
                    *(f"--tag={tag}" for tag in tags),
                    *(("--plain-http",) if registry.insecure else ()),
                ),
                env={**env, "PYTHONPATH": os.pathsep.join((library_root, *_pythonpath()))},
                run_in_workspace=True,
            ),
            description=registry.name,
        )
        for registry in registries
    )


def _pythonpath() -> tuple[str, ...]:
    """Where the push process finds wasm_attest's own requirements (oras-py, …): the Pants process's sys.path."""
    return tuple(entry for entry in sys.path if entry and Path(entry).is_dir())


def rules():
    return [*collect_rules(), *PublishWasmComponentFieldSet.rules()]
