"""`pants package` for `wasm_component`: the component and its attestations under `dist/`, verified.

The package step refuses to succeed unless the bundle it is about to write
verifies: the layout over the links and the very bytes going to `dist/`, and
the provenance's signature and subject. Only the package rule touches
`dist/`: `pants run` uses the verified folder without writing anything.

Writing is split from building on purpose. Building, attesting and verifying
(`VerifiedComponent`) is a cached rule, reused whenever its inputs are
unchanged. Writing `dist/` is a side effect, and a side effect inside a
memoized rule happens only when that rule re-runs: with pantsd warm, a second
`pants package` used to skip the clean-up and leave stale files beside a
bundle it called verified. So the package rule is uncacheable: it runs on every
`pants package` (Pants re-runs uncacheable rules once per session, and the
building rules they await come from memory), and replaces the target's folder
itself, as a whole (`dist_folder.py`): a failed run leaves the previous bundle
or, after a verification failure, none at all, so nothing unverified looks
current; never a mix. It returns an empty digest and artifacts without a
`relpath`, because Pants' own writer deletes every listed `relpath` before
writing its digest (`clear_paths`), which would undo the swap; the "Wrote
dist/..." lines are log lines instead. Before building, it refuses an output
folder that is, contains or lies inside another `wasm_component`'s
(`output_folders.py`), since replacing one would delete the other.

In release mode the layout is the owner's committed, signed one and the trust
root is `[wasm-attest].trusted_owner_keys`, so this same check is what fails a
build that no longer matches the reviewed policy.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pants.base.build_root import BuildRoot
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior
from pants.core.util_rules.distdir import DistDir
from pants.engine.fs import EMPTY_DIGEST, Digest, DigestContents
from pants.engine.rules import Get, MultiGet, _uncacheable_rule, collect_rules, rule
from pants.engine.target import AllTargets
from pants.engine.unions import UnionRule
from pants.util.frozendict import FrozenDict

from wasm_attest.advisories.gate import GateResult
from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import public_key_from_pem
from wasm_attest.source.checkout import Checkout
from wasm_attest.verification import VerificationError, verify_attestations
from wasm_component.dist_folder import checked_folder, remove_folder, replace_folder
from wasm_component.output_folders import clash_message, output_folder_clashes
from wasm_component.target_types import WasmComponentOutputPathField, WasmComponentSourcesField
from wasm_component.util_rules.advisories import AdvisorySetup
from wasm_component.util_rules.attest import AttestationRequest, AttestedComponent
from wasm_component.util_rules.build import BuiltComponent
from wasm_component.util_rules.cargo_metadata import CargoMetadata, CargoMetadataRequest
from wasm_component.util_rules.cargo_project import CargoProject, CargoProjectRequest
from wasm_component.util_rules.signed_layout import CommittedLayout, CommittedLayoutRequest
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.signing_keys import SigningIdentity, SigningIdentityRequest
from wasm_component.util_rules.source_revision import CheckoutRequest, refuse_modified_checkout


class PackageVerificationError(WasmAttestError):
    """The attestations of a freshly built component do not verify."""


class OutputFolderError(WasmAttestError):
    """A target's output folder is not its own to replace."""


@dataclass(frozen=True)
class WasmComponentFieldSet(PackageFieldSet, RunFieldSet):
    required_fields = (WasmComponentSourcesField,)
    run_in_sandbox_behavior = RunInSandboxBehavior.RUN_REQUEST_HERMETIC

    sources: WasmComponentSourcesField
    output_path: WasmComponentOutputPathField

    @property
    def output_folder(self) -> str:
        """The target's folder relative to `dist/`."""
        return self.output_path.value_or_default(file_ending=None)


@dataclass(frozen=True)
class VerifiedComponent:
    """A target's whole bundle, verified as it will sit in its folder under `dist/`.

    `pants run` uses it as it is; only `pants package` touches `dist/`.
    """

    digest: Digest
    """The bundle's files, at the root of the digest."""
    component: str
    """The component's file name in the bundle."""
    log_lines: tuple[str, ...]
    """What was verified, and the build's notices (development keys, unknown hashes)."""


@dataclass(frozen=True)
class WasmComponentOutputFolders:
    """Every `wasm_component` target's folder under `dist/`, by address: what no other target's may overlap."""

    folders: FrozenDict[str, str]


@rule(desc="Build, attest and verify a wasm_component")
async def verified_component(field_set: WasmComponentFieldSet, options: AttestationSubsystem) -> VerifiedComponent:
    started_on = datetime.now(timezone.utc)  # the provenance's startedOn: when this bundle's build began
    # The layout, the keys and the checkout first: configuration errors should not wait for a build.
    layout = await Get(CommittedLayout, CommittedLayoutRequest(field_set.address))
    identity = await Get(SigningIdentity, SigningIdentityRequest(release_mode=layout.content is not None))
    advisories = await Get(AdvisorySetup)
    advisories.raise_if_misconfigured()
    project = await Get(CargoProject, CargoProjectRequest(field_set.address))
    checkout = await Get(Checkout, CheckoutRequest(project))
    refuse_modified_checkout(project, checkout, options, signed_layout=layout.path)
    component, metadata = await MultiGet(
        Get(BuiltComponent, CargoProject, project),
        Get(CargoMetadata, CargoMetadataRequest(project.workspace, project.lockfile)),
    )
    attested = await Get(
        AttestedComponent, AttestationRequest(project, component, metadata, layout, identity, started_on, advisories)
    )
    if attested.gate is not None and not attested.gate.passed:
        raise PackageVerificationError(_gate_failure(str(field_set.address), advisories, attested.gate))
    contents = await Get(DigestContents, Digest, attested.digest)
    try:
        _verify_before_delivery(contents, attested)
    except VerificationError as error:
        raise PackageVerificationError(
            f"{field_set.address}: the attestations of the build do not verify, so nothing was written: {error}"
        ) from None
    summary = ("verified: layout signature and expiry, links, artifact rules, final files, provenance, Sigstore bundles, no unvouched file",)
    if attested.gate is not None:
        summary += (f"advisory gate: {len(attested.gate.findings)} finding(s), none denied (database {attested.gate.database_digest})",)
    if attested.committed_layout:
        summary += (f"layout: the owner-signed {attested.committed_layout}, trusted through [wasm-attest].trusted_owner_keys",)
    return VerifiedComponent(attested.digest, attested.files.component, (*summary, *attested.notices))


@rule(desc="Find the output folders of all wasm_component targets")
async def wasm_component_output_folders(targets: AllTargets) -> WasmComponentOutputFolders:
    return WasmComponentOutputFolders(
        FrozenDict(
            (str(target.address), WasmComponentFieldSet.create(target).output_folder)
            for target in targets
            if WasmComponentFieldSet.is_applicable(target)
        )
    )


@_uncacheable_rule(desc="Package a wasm_component")
async def package_wasm_component(
    field_set: WasmComponentFieldSet, distdir: DistDir, outputs: WasmComponentOutputFolders
) -> BuiltPackage:
    """Replaces the target's folder under `dist/` with its verified bundle, on every run (see the module docstring)."""
    relative, owner = field_set.output_folder, f"{field_set.address} (`output_path`)"
    dist = Path(BuildRoot().path, distdir.relpath)
    clashes = output_folder_clashes(str(field_set.address), {**outputs.folders, str(field_set.address): relative})
    if clashes:
        raise OutputFolderError(clash_message(str(field_set.address), relative, clashes, outputs.folders))
    checked_folder(dist, relative, owner=owner)  # a link in the way fails before the build, not after
    try:
        verified = await Get(VerifiedComponent, WasmComponentFieldSet, field_set)
    except PackageVerificationError as error:
        removed = remove_folder(dist, relative, owner=owner)
        outcome = f"its previous bundle {distdir.relpath / relative} was removed" if removed else "none is left"
        raise PackageVerificationError(f"{error} (so that no unverified bundle looks current, {outcome})") from None
    contents = await Get(DigestContents, Digest, verified.digest)
    replace_folder(dist, relative, ((entry.path, entry.content) for entry in contents), owner=owner)
    return BuiltPackage(EMPTY_DIGEST, _written(distdir.relpath / relative, verified, contents))


def _written(folder: Path, verified: VerifiedComponent, contents: DigestContents) -> tuple[BuiltPackageArtifact, ...]:
    """What `pants package` prints: the component with what was verified, then the other files.

    No `relpath`: Pants' writer would delete those paths (see the module docstring).
    """
    details = tuple(f"    {line}" for line in verified.log_lines)
    component = BuiltPackageArtifact(None, (f"Wrote {folder / verified.component}", *details))
    others = [BuiltPackageArtifact(None, (f"Wrote {folder / entry.path}",)) for entry in contents if entry.path != verified.component and "/" not in entry.path]
    layout = sorted({entry.path.split("/", 1)[0] for entry in contents if "/" in entry.path})
    others += [BuiltPackageArtifact(None, (f"Wrote {folder / name}/ (the OCI image layout `pants publish` pushes)",)) for name in layout]
    return (component, *others)


def _gate_failure(address: str, advisories: AdvisorySetup, gate: GateResult) -> str:
    """One line per finding the policy denies, under the target and the database it was checked against."""
    location = advisories.database.location if advisories.database else "?"
    return (
        f"{address}: known-vulnerable crates (advisory database {location}, {gate.database_digest}); nothing was "
        "written. Update the crates, or add an exception with a reason and an expiry to "
        "[wasm-advisories].exceptions:\n  " + "\n  ".join(gate.violations) + "\n"
    )


def _verify_before_delivery(contents: DigestContents, attested: AttestedComponent) -> None:
    """Verifies the bundle as it will sit in `dist/`, trusting the owner key(s) from configuration."""
    with tempfile.TemporaryDirectory(prefix="wasm-attest-verify-") as scratch:
        for entry in contents:
            path = Path(scratch, entry.path)
            path.parent.mkdir(parents=True, exist_ok=True)  # oci/blobs/sha256/…
            path.write_bytes(entry.content)
        trusted = tuple(public_key_from_pem(pem) for pem in attested.trusted_owner_keys_pem)
        verify_attestations(
            Path(scratch), trusted_owner_keys=trusted, require_isolated_build=attested.require_isolated_build
        )


def rules():
    return [*collect_rules(), UnionRule(PackageFieldSet, WasmComponentFieldSet)]
