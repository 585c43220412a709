"""`pants verify-layout`: re-verify the attested output of `wasm_component` targets, offline.

A release job runs this over what a build produced, possibly on another
machine (`--from-dir`). It trusts only owner keys from configuration or the
command line, never keys in the folder being verified, and exits 0 when
everything verifies, 1 when something does not, 2 for configuration errors.
A target that names a committed `signed_layout` is verified against that file
from the repository, whatever `root.layout` the folder holds.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from enum import Enum
from pathlib import Path

from pants.base.build_root import BuildRoot
from pants.core.util_rules.distdir import DistDir
from pants.engine.console import Console
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, collect_rules, goal_rule
from pants.engine.target import Target, Targets
from pants.option.option_types import EnumOption, StrListOption, StrOption
from pants.util.strutil import softwrap

from wasm_attest.admission.admit import admit
from wasm_attest.advisories.attestation import AdvisoryCheck
from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import KeyLoadError, PublicKeyLike, load_public_key
from wasm_attest.oci.published import PublishedTargetError, fetch_published, require_built_target
from wasm_attest.oci.reference import is_registry_reference, parse_reference
from wasm_attest.verification import VerificationError, failure_json, verify_attestations
from wasm_component.oci_registries import configured_registries, registry_for_address
from wasm_component.subsystems.oci import WasmOciSubsystem
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.advisories import AdvisorySetup
from wasm_component.target_types import (
    WasmComponentOutputPathField,
    WasmComponentSignedLayoutField,
    WasmComponentSourcesField,
)
from wasm_component.util_rules.signing_keys import (
    key_path,
    owner_public_key,
    password_variables,
    trusted_owner_keys,
)

EXIT_VERIFIED, EXIT_FAILED, EXIT_CONFIGURATION = 0, 1, 2


class ReportFormat(Enum):
    TEXT = "text"
    JSON = "json"


class VerifyLayoutSubsystem(GoalSubsystem):
    name = "verify-layout"
    help = "Verify the attested output (layout, links, files, SBOM, provenance) of wasm_component targets."

    from_dir = StrOption(
        default=None,
        help=softwrap(
            """
            Verify the bundles under this folder (e.g. one downloaded from CI) instead of
            `dist/`: each target's bundle is expected at its `output_path` below it.
            """
        ),
    )
    from_oci = StrOption(
        default=None,
        help=softwrap(
            """
            Verify a published component instead: `oci://HOST/REPOSITORY:TAG` or
            `oci://HOST/REPOSITORY@sha256:DIGEST` (a tag is resolved to a digest once and the
            digest printed), or an OCI image layout folder. Its component and referrers are
            fetched into a scratch folder and verified exactly like a bundle in `dist/`. Give the
            one target it was built from (for its committed `signed_layout`, if any). A registry
            configured with `insecure = true` in `[wasm-oci].registries` is read over plain HTTP.
            """
        ),
    )
    owner_key = StrListOption(
        default=[],
        help="Public key(s) of the layout owner to trust; overrides `[wasm-attest].trusted_owner_keys`.",
    )
    format = EnumOption(default=ReportFormat.TEXT, help="`text` for people, `json` for machines.")
    policy = StrOption(
        default=None,
        help=softwrap(
            """
            An admission policy in Rego (`package wasm_attest.admission`, a `deny` set of
            messages; e.g. `policies/release.rego`), evaluated over what each bundle's
            verification established. Any `deny` message fails the bundle.
            """
        ),
    )


class VerifyLayout(Goal):
    subsystem_cls = VerifyLayoutSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@goal_rule
async def verify_layout(
    console: Console,
    goal: VerifyLayoutSubsystem,
    options: AttestationSubsystem,
    oci_options: WasmOciSubsystem,
    targets: Targets,
    distdir: DistDir,
) -> VerifyLayout:
    components = [target for target in targets if target.has_field(WasmComponentSourcesField)]
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(password_variables(options)))
    try:
        advisory_check = (await Get(AdvisorySetup)).check
        trusted = _trusted_owner_keys(goal, options, env)
        policy = _read_policy(goal.policy)
    except WasmAttestError as error:
        console.print_stderr(f"verify-layout: {error}")
        return VerifyLayout(exit_code=EXIT_CONFIGURATION)
    if not components:
        console.print_stderr("verify-layout: no wasm_component targets given, e.g. `pants verify-layout ::`.")
        return VerifyLayout(exit_code=EXIT_CONFIGURATION)
    if goal.from_oci:
        if len(components) != 1:
            console.print_stderr(
                f"verify-layout: --from-oci verifies one published component; give the one wasm_component target it "
                f"was built from (got {len(components)})."
            )
            return VerifyLayout(exit_code=EXIT_CONFIGURATION)
        target = components[0]
        with tempfile.TemporaryDirectory(prefix="wasm-attest-published-") as scratch:
            try:
                plain_http = _plain_http(goal.from_oci, oci_options)
                name, fetched = fetch_published(goal.from_oci, Path(scratch), plain_http=plain_http)
            except WasmAttestError as error:
                result = {"target": str(target.address), "folder": goal.from_oci, **failure_json(error), "text": str(error)}
            else:
                resolved = f" (tag {fetched.tag} resolved to {fetched.digest})" if fetched.tag else ""
                console.print_stderr(f"verify-layout: verifying {name}{resolved}: artifact manifest {fetched.digest}, component {fetched.component}")
                result = _verify_one(
                    str(target.address), Path(scratch), _committed_layout(target), trusted, options.require_isolated_builds, advisory_check, policy
                )
                if result["verified"]:
                    result = _bound_to_target(result, Path(scratch), fetched.component, str(target.address), name)
                result["folder"], result["digest"] = goal.from_oci, fetched.digest
        return _report(console, goal, [result])
    root = Path(BuildRoot().path, goal.from_dir or distdir.relpath)
    results = [
        _verify_one(
            str(target.address),
            root / target[WasmComponentOutputPathField].value_or_default(file_ending=None),
            _committed_layout(target),
            trusted,
            options.require_isolated_builds,
            advisory_check,
            policy,
        )
        for target in components
    ]
    return _report(console, goal, results)


def _report(console: Console, goal: VerifyLayoutSubsystem, results: list[dict]) -> VerifyLayout:
    verified = all(result["verified"] for result in results)
    if goal.format == ReportFormat.JSON:
        targets_json = [{key: value for key, value in result.items() if key != "text"} for result in results]
        console.print_stdout(json.dumps({"verified": verified, "targets": targets_json}, indent=2))
    else:
        for result in results:
            outcome = "verified" if result["verified"] else "FAILED"
            console.print_stdout(f"{result['target']}: {outcome}\n{result['text']}")
    return VerifyLayout(exit_code=EXIT_VERIFIED if verified else EXIT_FAILED)


def _bound_to_target(result: dict, folder: Path, component: str, address: str, source: str) -> dict:
    """A verified published build must be the given target's: a tag moved to another component's build fails."""
    try:
        check = require_built_target(folder, component, address, source=source)
    except PublishedTargetError as error:
        return {"target": address, **failure_json(error), "text": str(error)}
    return {**result, "text": f"{result['text']}\n  published artifact:\n    ok  {check}"}


def _plain_http(reference: str, oci_options: WasmOciSubsystem) -> bool:
    """Whether the reference's registry is configured `insecure` (plain HTTP) in `[wasm-oci].registries`."""
    if not is_registry_reference(reference):
        return False
    return registry_for_address(parse_reference(reference).registry, configured_registries(oci_options.registries)).insecure


def _committed_layout(target: Target) -> Path | None:
    """The target's owner-signed layout in the repository (release mode), which its bundle must answer to."""
    field = target[WasmComponentSignedLayoutField]
    return Path(BuildRoot().path, field.file_path) if field.value else None


def _read_policy(path: str | None) -> tuple[str, str] | None:
    """The admission policy's (origin, Rego source), read from the build root."""
    if not path:
        return None
    try:
        return path, Path(BuildRoot().path, path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WasmAttestError(f"--verify-layout-policy {path} cannot be read as a UTF-8 Rego file ({error}).") from None


def _verify_one(
    address: str,
    folder: Path,
    layout: Path | None,
    trusted: tuple[PublicKeyLike, ...],
    require_isolated_build: bool,
    advisory_check: AdvisoryCheck | None,
    policy: tuple[str, str] | None,
) -> dict:
    """Verifies one target's bundle (against `layout`, default its own root.layout), then its admission policy;
    the JSON report, with the target and a text account."""
    if not folder.is_dir():
        missing = VerificationError(
            f"{folder} does not exist: run `pants package {address}` first, or pass --from-dir.",
            artifact=str(folder),
            check="bundle exists",
        )
        return {"target": address, "folder": str(folder), **failure_json(missing), "text": str(missing)}
    try:
        report = verify_attestations(
            folder,
            layout_path=layout,
            trusted_owner_keys=trusted,
            require_isolated_build=require_isolated_build,
            advisory_check=advisory_check,
        )
        if policy is not None:
            report = dataclasses.replace(report, items=(*report.items, admit(folder, report, policy[1], origin=policy[0])))
    except WasmAttestError as failure:
        return {"target": address, "folder": str(folder), **failure_json(failure), "text": str(failure)}
    return {"target": address, "folder": str(folder), **report.to_json(), "text": report.summary()}


def _trusted_owner_keys(
    goal: VerifyLayoutSubsystem, options: AttestationSubsystem, env: EnvironmentVars
) -> tuple[PublicKeyLike, ...]:
    """The trust root, from the command line or configuration only, in that order of precedence."""
    if goal.owner_key:
        try:
            return tuple(load_public_key(key_path(path)) for path in goal.owner_key)
        except KeyLoadError as error:
            raise KeyLoadError(f"--verify-layout-owner-key: {error}") from None
    return trusted_owner_keys(options) or (owner_public_key(options, env),)


def rules():
    return collect_rules()
