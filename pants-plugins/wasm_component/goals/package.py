"""`pants package` for `wasm_component`: the component and its attestations under `dist/`, verified.

The package step refuses to succeed unless the bundle it is about to write
verifies: the layout over the links and the very bytes going to `dist/`, and
the provenance's signature and subject. On failure it also removes the
target's previous output, so nothing unverified is left to ship; on success it
clears that folder too, so the bundle in `dist/` is exactly this build's. Only
the package rule touches `dist/`: `pants run` uses the verified folder without
writing anything.

In release mode the layout is the owner's committed, signed one and the trust
root is `[wasm-attest].trusted_owner_keys`, so this same check is what fails a
build that no longer matches the reviewed policy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pants.base.build_root import BuildRoot
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior
from pants.core.util_rules.distdir import DistDir
from pants.engine.fs import AddPrefix, Digest, DigestContents
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.unions import UnionRule

from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import public_key_from_pem
from wasm_attest.verification import VerificationError, verify_attestations
from wasm_component.target_types import WasmComponentOutputPathField, WasmComponentSourcesField
from wasm_component.util_rules.attest import AttestationRequest, AttestedComponent
from wasm_component.util_rules.build import BuiltComponent
from wasm_component.util_rules.cargo_project import CargoProject, CargoProjectRequest
from wasm_component.util_rules.signed_layout import CommittedLayout, CommittedLayoutRequest
from wasm_component.util_rules.signing_keys import SigningIdentity, SigningIdentityRequest


class PackageVerificationError(WasmAttestError):
    """The attestations of a freshly built component do not verify."""


@dataclass(frozen=True)
class WasmComponentFieldSet(PackageFieldSet, RunFieldSet):
    required_fields = (WasmComponentSourcesField,)
    run_in_sandbox_behavior = RunInSandboxBehavior.RUN_REQUEST_HERMETIC

    sources: WasmComponentSourcesField
    output_path: WasmComponentOutputPathField


@dataclass(frozen=True)
class VerifiedComponent:
    """A target's whole output folder, verified as it will sit in `dist/`, under its output path.

    `pants run` uses it as it is; only `pants package` touches `dist/`.
    """

    package: BuiltPackage


@rule(desc="Build, attest and verify a wasm_component")
async def verified_component(field_set: WasmComponentFieldSet) -> VerifiedComponent:
    output_dir = field_set.output_path.value_or_default(file_ending=None)
    # The layout and the keys first: configuration errors should not wait for a build.
    layout = await Get(CommittedLayout, CommittedLayoutRequest(field_set.address))
    identity = await Get(SigningIdentity, SigningIdentityRequest(release_mode=layout.content is not None))
    project = await Get(CargoProject, CargoProjectRequest(field_set.address))
    component = await Get(BuiltComponent, CargoProject, project)
    attested = await Get(AttestedComponent, AttestationRequest(project, component, layout, identity))
    contents = await Get(DigestContents, Digest, attested.digest)
    try:
        _verify_before_delivery(contents, attested)
    except VerificationError as error:
        raise PackageVerificationError(
            f"{field_set.address}: the attestations of the build do not verify, so nothing was written: {error}"
        ) from None
    digest = await Get(Digest, AddPrefix(attested.digest, output_dir))
    summary = ("verified: layout signature and expiry, links, artifact rules, final files, provenance",)
    if attested.committed_layout:
        summary += (f"layout: the owner-signed {attested.committed_layout}, trusted through [wasm-attest].trusted_owner_keys",)
    artifacts = [
        BuiltPackageArtifact(
            os.path.join(output_dir, attested.files.component),
            extra_log_lines=tuple(f"    {line}" for line in (*summary, *attested.notices)),
        ),
        *(
            BuiltPackageArtifact(os.path.join(output_dir, entry.path))
            for entry in contents
            if entry.path != attested.files.component
        ),
    ]
    return VerifiedComponent(BuiltPackage(digest, tuple(artifacts)))


@rule(desc="Package a wasm_component")
async def package_wasm_component(field_set: WasmComponentFieldSet, distdir: DistDir) -> BuiltPackage:
    """The verified output folder, written by Pants to `dist/` in place of the target's previous one.

    The previous folder is removed either way: after a failure nothing
    unverified may look current, and after a success no link signed by other
    keys, or an old layout, may sit beside the new bundle.
    """
    output_dir = distdir.relpath / field_set.output_path.value_or_default(file_ending=None)
    previous_output = Path(BuildRoot().path, output_dir)
    try:
        verified = await Get(VerifiedComponent, WasmComponentFieldSet, field_set)
    except PackageVerificationError as error:
        shutil.rmtree(previous_output, ignore_errors=True)
        raise PackageVerificationError(f"{error} ({output_dir} was removed)") from None
    shutil.rmtree(previous_output, ignore_errors=True)
    return verified.package


def _verify_before_delivery(contents: DigestContents, attested: AttestedComponent) -> None:
    """Verifies the bundle as it will sit in `dist/`, trusting the owner key(s) from configuration."""
    with tempfile.TemporaryDirectory(prefix="wasm-attest-verify-") as scratch:
        for entry in contents:
            Path(scratch, entry.path).write_bytes(entry.content)
        trusted = tuple(public_key_from_pem(pem) for pem in attested.trusted_owner_keys_pem)
        verify_attestations(
            Path(scratch), trusted_owner_keys=trusted, require_isolated_build=attested.require_isolated_build
        )


def rules():
    return [*collect_rules(), UnionRule(PackageFieldSet, WasmComponentFieldSet)]
