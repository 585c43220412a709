"""Attests a built component: embedded dependency list, SBOM, one signed link per step, layout and SLSA provenance.

These rules only gather what the build produced (digests, cargo's messages and
metadata, the toolchain's identity, the source revision) and hand it to the
core library, which owns every format. The embed step runs here, in-process:
the component cargo built gets its `.dep-v0` and metadata sections from the
same crate inventory the SBOM is made of, and the SBOM then describes the
component as delivered. Gathering (`ComponentEvidence`) is
apart from signing, so `generate-layout` can derive the layout a build implies
without signing anything. The attested result is the complete output folder of
the target, ready to be verified and written to `dist/`: with a layout derived
and signed here, or, in release mode, the owner's committed signed layout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Mapping

from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.frozendict import FrozenDict

from wasm_attest.advisories.attestation import findings_attestation
from wasm_attest.advisories.gate import GateResult, evaluate
from wasm_attest.component_pipeline import (
    BUILD,
    DEPENDENCIES,
    LOCKFILE,
    PACKAGE,
    SBOM,
    VENDOR,
    WASM_TARGET,
    BuildParameters,
    ComponentFiles,
    StepEvidence,
    attestation_files,
    component_provenance,
    delivery_evidence,
    lockfile_descriptor,
    release_attestation_files,
    source_descriptor,
    toolchain_descriptor,
)
from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.capabilities.policy import CapabilityPolicy
from wasm_attest.component_metadata import metadata_from_cargo_metadata
from wasm_attest.crate_inventory import crate_inventory
from wasm_attest.dep_v0 import dependency_list
from wasm_attest.embedding import embed_attestable_sections
from wasm_attest.keys import PublicKeyLike, public_key_pem
from wasm_attest.oci.image_layout import bundle_layout_files
from wasm_attest.provenance import Provenance
from wasm_attest.sbom import SbomInputs, build_sbom
from wasm_attest.source.checkout import Checkout
from wasm_attest.sbom_crates import read_sbom_crates
from wasm_component.util_rules.advisories import AdvisorySetup
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.build import BuiltComponent
from wasm_component.util_rules.cargo_metadata import CargoMetadata
from wasm_component.util_rules.capability_policy import CapabilityPolicyRequest, TargetCapabilityPolicy
from wasm_component.util_rules.cargo_project import CargoProject
from wasm_component.util_rules.signed_layout import CommittedLayout
from wasm_component.util_rules.signing_keys import (
    SigningIdentity,
    load_functionaries,
    load_signers,
    password_variables,
    trusted_owner_keys,
)
from wasm_component.util_rules.source_revision import CheckoutRequest, SourceRevision
from wasm_component.util_rules.step_record import file_hashes
from wasm_component.util_rules.sandbox import BuildSandbox
from wasm_component.util_rules.toolchain import RustToolchain


@dataclass(frozen=True)
class EvidenceRequest:
    project: CargoProject
    component: BuiltComponent
    metadata: CargoMetadata
    """The workspace's `cargo metadata`, asked for beside the build (see `cargo_metadata.py`)."""


@dataclass(frozen=True)
class ComponentEvidence:
    """What the build did, before anyone signs it: the delivered files, each step's evidence, the provenance statement.

    Both the package step (which signs it) and `generate-layout` (which derives
    the layout it implies, for the owner to review) start from here.
    """

    files: ComponentFiles
    deliverables: Digest
    """The component, its Cargo.lock and its SBOM, flat."""
    steps: Mapping[str, StepEvidence]
    provenance: Provenance
    """The statement to sign; its startedOn/finishedOn are set when it is signed (`attest_component`)."""
    sbom_json: bytes
    """The delivered SBOM, which its Sigstore bundle attests."""
    notices: tuple[str, ...]
    policy: CapabilityPolicy
    """The target's capability policy, which the component keeps to: what a derived layout signs in."""


@rule(desc="Gather a wasm component's evidence")
async def component_evidence(
    request: EvidenceRequest, options: AttestationSubsystem, toolchain: RustToolchain, sandbox: BuildSandbox
) -> ComponentEvidence:
    project, component = request.project, request.component
    files = ComponentFiles(component.filename)
    metadata = request.metadata
    revision, checkout, lockfile, built, policy = await MultiGet(
        Get(SourceRevision),
        Get(Checkout, CheckoutRequest(project)),
        Get(Digest, DigestSubset(project.sources_digest, PathGlobs([project.lockfile_path]))),
        Get(DigestContents, Digest, component.digest),
        Get(TargetCapabilityPolicy, CapabilityPolicyRequest(project.address)),
    )
    interface = ComponentInterface.of_component(built[0].content)
    policy.enforce(interface)
    timestamp = datetime.fromtimestamp(revision.timestamp, tz=timezone.utc)
    inventory = crate_inventory(
        metadata_json=metadata.json,
        build_messages=component.build_messages,
        lockfile=project.lockfile,
        package=project.package,
        target_triple=WASM_TARGET,
    )
    embedded = embed_attestable_sections(
        built[0].content,
        dependency_list(inventory),
        metadata_from_cargo_metadata(metadata.json, inventory.root.id, revision=checkout.revision()),
    )
    sbom = build_sbom(
        SbomInputs(
            component_name=project.package,
            component_sha256=hashlib.sha256(embedded).hexdigest(),
            lockfile=project.lockfile,
            metadata_json=metadata.json,
            build_messages=component.build_messages,
            features=project.features,
            profile=project.profile,
            target_triple=WASM_TARGET,
            rustc_version=toolchain.rustc_release,
            cargo_version=toolchain.cargo_version,
            timestamp=timestamp,
            imports=interface.imports,
            exports=interface.exports,
        )
    )
    deliverables = await Get(
        Digest,
        MergeDigests(
            [
                await Get(Digest, RemovePrefix(lockfile, project.root)),
                await Get(
                    Digest,
                    CreateDigest([FileContent(files.component, embedded), FileContent(files.sbom, sbom.json_bytes)]),
                ),
            ]
        ),
    )
    delivered = file_hashes(await Get(DigestEntries, Digest, deliverables))
    environment = FrozenDict(
        {
            "target": str(project.address),
            "toolchain": toolchain.identity.splitlines()[0],
            "isolation": sandbox.isolation.summary(),
        }
    )
    steps = {
        VENDOR: component.vendored.record.evidence(environment),
        DEPENDENCIES: component.shared.record.evidence(environment),
        BUILD: component.record.evidence(environment),
        **delivery_evidence(files, component.sha256, delivered, str(project.address), environment),
    }
    sources = {
        path: digest
        for path, digest in component.record.materials.items()
        if not path.startswith(("vendor/", "toolchain/", "target/"))
    }
    provenance = component_provenance(
        files=files,
        parameters=BuildParameters(
            target=str(project.address),
            package=project.package,
            bin=project.bin,
            kind=project.kind,
            features=project.features,
            no_default_features=project.no_default_features,
            profile=project.profile,
        ),
        sbom=sbom,
        delivered=delivered,
        lockfile=lockfile_descriptor(checkout, project.lockfile_path, delivered[LOCKFILE]),
        source=source_descriptor(checkout, project.root, sources),
        toolchain=toolchain_descriptor(toolchain.rustc_release, toolchain.archive_sha256, toolchain.identity),
        builder_id=options.builder_id,
        source_date=timestamp,
        # The reproducible time until `attest_component` signs it with the build's real times.
        started_on=timestamp,
        finished_on=timestamp,
        isolation=sandbox.isolation,
        interface=interface,
        policy=policy.policy,
    )
    notices = sbom.warnings
    if not sandbox.isolation.isolated:
        notices = (_UNISOLATED_NOTICE, *notices)
    return ComponentEvidence(files, deliverables, steps, provenance, sbom.json_bytes, notices, policy.policy)


@dataclass(frozen=True)
class AttestationRequest:
    project: CargoProject
    component: BuiltComponent
    metadata: CargoMetadata
    layout: CommittedLayout
    identity: SigningIdentity
    """Who signs: part of the request so that new keys re-sign rather than reuse old signatures."""
    started_on: datetime
    """When this bundle's build began: the provenance's startedOn (its finishedOn is when it is signed)."""
    advisories: AdvisorySetup
    """The advisory gate's database and policy (keyed by the database digest and today's date)."""


@dataclass(frozen=True)
class AttestedComponent:
    """A target's whole output folder (flat), and what the build must tell the user about it."""

    digest: Digest
    files: ComponentFiles
    trusted_owner_keys_pem: tuple[bytes, ...]
    """The layout owner's public key(s), from configuration: the trust root for verifying `digest`."""
    committed_layout: str | None
    """The owner-signed layout file the bundle ships (release mode); None when the layout was derived and signed here."""
    require_isolated_build: bool
    """Whether verifying the bundle demands that its provenance records an isolated build."""
    notices: tuple[str, ...]
    gate: GateResult | None
    """The advisory gate's result, recorded in the bundle as a signed findings attestation; None when no database is configured."""


@rule(desc="Attest a wasm component")
async def attest_component(request: AttestationRequest, options: AttestationSubsystem) -> AttestedComponent:
    evidence, env = await MultiGet(
        Get(ComponentEvidence, EvidenceRequest(request.project, request.component, request.metadata)),
        Get(EnvironmentVars, EnvironmentVarsRequest(password_variables(options))),
    )
    provenance = replace(evidence.provenance, started_on=request.started_on, finished_on=datetime.now(timezone.utc))
    if request.layout.content is None:
        loaded = load_signers(options, env)
        attestations = attestation_files(
            evidence.files,
            evidence.steps,
            loaded.signers,
            provenance,
            layout_expires=layout_expiry(options),
            sbom_json=evidence.sbom_json,
            policy=evidence.policy,
        )
        trusted: tuple[PublicKeyLike, ...] = (loaded.signers.owner.public_key,)
        key_notice = loaded.notice
        package_signer = loaded.signers.functionary(PACKAGE).signer
        sbom_signer = loaded.signers.functionary(SBOM).signer
    else:
        functionaries = load_functionaries(options, env)
        attestations = release_attestation_files(
            evidence.files,
            evidence.steps,
            functionaries.keys,
            provenance,
            request.layout.content,
            layout_origin=str(request.layout.path),
            sbom_json=evidence.sbom_json,
        )
        trusted = trusted_owner_keys(options)
        key_notice = functionaries.notice
        package_signer = functionaries.keys[PACKAGE].signer
        sbom_signer = functionaries.keys[SBOM].signer
    gate = None
    check = request.advisories.check
    deliverables = {entry.path: entry.content for entry in await Get(DigestContents, Digest, evidence.deliverables)}
    if check is not None:
        sbom = deliverables[evidence.files.sbom]
        gate = evaluate(read_sbom_crates(sbom, origin=evidence.files.sbom), evidence.files.component, check.database, check.policy, check.today)
        name, content = findings_attestation(
            gate,
            check.database,
            component=evidence.files.component,
            component_sha256=evidence.provenance.subject_sha256,
            timestamp=evidence.provenance.started_on,
            signer=package_signer,
        )
        attestations[name] = content
    attestations.update(
        bundle_layout_files(
            evidence.files, {**deliverables, **attestations}, sbom_signer=sbom_signer, provenance_signer=package_signer
        )
    )
    attestation_digest = await Get(
        Digest, CreateDigest([FileContent(name, content) for name, content in sorted(attestations.items())])
    )
    return AttestedComponent(
        digest=await Get(Digest, MergeDigests([evidence.deliverables, attestation_digest])),
        files=evidence.files,
        trusted_owner_keys_pem=tuple(public_key_pem(key) for key in trusted),
        committed_layout=request.layout.path,
        require_isolated_build=options.require_isolated_builds,
        notices=tuple(notice for notice in (key_notice, *evidence.notices, *(f"advisory warning: {line}" for line in (gate.warnings if gate else ()))) if notice),
        gate=gate,
    )


_UNISOLATED_NOTICE = (
    "WARNING: built WITHOUT isolation ([wasm-sandbox].isolation = \"none\"): dependencies' build scripts could "
    "reach the network, the host's files and the signing keys. The provenance records it; do not ship this build."
)


def layout_expiry(options: AttestationSubsystem) -> datetime:
    """`layout_expiry_days` from now: the expiry counts from when the layout is made, as it is policy, not a build output."""
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=options.layout_expiry_days)


def rules():
    return collect_rules()
