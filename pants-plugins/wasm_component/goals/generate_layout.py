"""`pants generate-layout`: write the layout each `wasm_component`'s build implies, unsigned, for review.

The first step of release mode, the in-toto way: the policy a build must
follow is set by the layout owner, not by whoever runs the build. The layout is
derived from a real build's evidence (the same rules `package` runs, without
signing), so it names exactly the steps, commands, sources and functionary keys
of today's build; the owner reviews the diff-friendly JSON, commits it, and
signs it offline with `wasm-attest sign-layout`.
"""

from __future__ import annotations

import os

from pants.engine.console import Console
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import CreateDigest, Digest, FileContent, Workspace
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule
from pants.engine.target import Targets

from wasm_attest.component_pipeline import component_layout
from wasm_attest.layout import unsigned_layout_json
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.target_types import WasmComponentSourcesField
from wasm_component.util_rules.attest import ComponentEvidence, EvidenceRequest, layout_expiry
from wasm_component.util_rules.build import BuiltComponent
from wasm_component.util_rules.cargo_metadata import CargoMetadata, CargoMetadataRequest
from wasm_component.util_rules.cargo_project import CargoProject, CargoProjectRequest
from wasm_component.util_rules.signing_keys import load_functionaries, password_variables


class GenerateLayoutSubsystem(GoalSubsystem):
    name = "generate-layout"
    help = (
        "Write the in-toto layout of each wasm_component, unsigned, to `<target dir>/<target name>.layout.json` "
        "for the owner to review, commit and sign offline (`wasm-attest sign-layout`)."
    )


class GenerateLayout(Goal):
    subsystem_cls = GenerateLayoutSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@goal_rule
async def generate_layout(
    console: Console, workspace: Workspace, targets: Targets, options: AttestationSubsystem
) -> GenerateLayout:
    components = [target for target in targets if target.has_field(WasmComponentSourcesField)]
    if not components:
        console.print_stderr("generate-layout: no wasm_component targets given, e.g. `pants generate-layout ::`.")
        return GenerateLayout(exit_code=0)
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(password_variables(options)))
    functionaries = load_functionaries(options, env)
    projects = await MultiGet(Get(CargoProject, CargoProjectRequest(target.address)) for target in components)
    # Each workspace's `cargo metadata` needs only its vendoring, so it runs beside the builds.
    metadata = await MultiGet(
        Get(CargoMetadata, CargoMetadataRequest(project.workspace, project.lockfile)) for project in projects
    )
    builds = await MultiGet(Get(BuiltComponent, CargoProject, project) for project in projects)
    evidence = await MultiGet(
        Get(ComponentEvidence, EvidenceRequest(project, build, each))
        for project, build, each in zip(projects, builds, metadata)
    )

    keys = {step: key.public_key for step, key in functionaries.keys.items()}
    expires = layout_expiry(options)
    written = []
    for target, each in zip(components, evidence):
        layout = component_layout(each.files, each.steps, keys, expires, each.policy)
        path = os.path.join(target.address.spec_path, f"{target.address.target_name}.layout.json")
        written.append((target.address, path, layout))
    files = [FileContent(path, unsigned_layout_json(layout)) for _, path, layout in written]
    workspace.write_digest(await Get(Digest, CreateDigest(files)))

    if functionaries.notice:
        console.print_stderr(f"generate-layout: the layouts name development functionary keys. {functionaries.notice}")
    for address, path, layout in written:
        signed = os.path.join(address.spec_path, f"{address.target_name}.root.layout")
        console.print_stdout(
            f"Wrote {path}: the layout of {address} (steps {', '.join(step.name for step in layout.steps)}; "
            f"functionary key(s) {', '.join(sorted(layout.keys))}; expires {layout.expires}).\n"
            f"  Review and commit it, have the owner sign it offline:\n"
            f"    wasm-attest sign-layout {path} --key owner.pem --output {signed}\n"
            f"  then commit {signed} and set signed_layout=\"{os.path.basename(signed)}\" on {address}."
        )
    return GenerateLayout(exit_code=0)


def rules():
    return collect_rules()
