"""Attests a built component: SBOM, one signed link per step, layout and SLSA provenance.

This rule only gathers what the build produced (digests, cargo's messages and
metadata, the toolchain's identity, the source revision) and hands it to the
core library, which owns every format. Its result is the complete output
folder of the target, ready to be verified and written to `dist/`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestEntries,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.frozendict import FrozenDict

from wasm_attest.component_pipeline import (
    BUILD,
    LOCKFILE,
    PACKAGE,
    SBOM,
    VENDOR,
    ComponentFiles,
    StepEvidence,
    attestation_files,
    source_tree_digest,
)
from wasm_attest.keys import public_key_pem
from wasm_attest.provenance import WASM_COMPONENT_BUILD_TYPE, Provenance, ResourceDescriptor
from wasm_attest.sbom import Sbom, SbomInputs, build_sbom
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.build import WASM_TARGET, BuiltComponent
from wasm_component.util_rules.cargo_metadata import CargoMetadata, CargoMetadataRequest
from wasm_component.util_rules.cargo_project import CargoProject
from wasm_component.util_rules.signing_keys import load_signers, password_variables
from wasm_component.util_rules.source_revision import SourceRevision
from wasm_component.util_rules.step_record import file_hashes
from wasm_component.util_rules.toolchain import RustToolchain


@dataclass(frozen=True)
class AttestationRequest:
    project: CargoProject
    component: BuiltComponent


@dataclass(frozen=True)
class AttestedComponent:
    """A target's whole output folder (flat), and what the build must tell the user about it."""

    digest: Digest
    files: ComponentFiles
    owner_public_key_pem: bytes
    """The layout owner's public key, from configuration: the trust root for verifying `digest`."""
    notices: tuple[str, ...]


@rule(desc="Attest a wasm component")
async def attest_component(
    request: AttestationRequest, options: AttestationSubsystem, toolchain: RustToolchain
) -> AttestedComponent:
    project, component = request.project, request.component
    files = ComponentFiles(component.filename)
    metadata, revision, env, lockfile = await MultiGet(
        Get(CargoMetadata, CargoMetadataRequest(project, component.vendored)),
        Get(SourceRevision),
        Get(EnvironmentVars, EnvironmentVarsRequest(password_variables(options))),
        Get(Digest, DigestSubset(project.sources_digest, PathGlobs([project.lockfile_path]))),
    )
    timestamp = datetime.fromtimestamp(revision.timestamp, tz=timezone.utc)
    sbom = build_sbom(
        SbomInputs(
            component_name=project.package,
            component_sha256=component.sha256,
            lockfile=project.lockfile,
            metadata_json=metadata.json,
            build_messages=component.build_messages,
            features=project.features,
            profile=project.profile,
            target_triple=WASM_TARGET,
            rustc_version=toolchain.rustc_release,
            cargo_version=toolchain.cargo_version,
            timestamp=timestamp,
        )
    )
    deliverables = await Get(
        Digest,
        MergeDigests(
            [
                component.digest,
                await Get(Digest, RemovePrefix(lockfile, project.root)),
                await Get(Digest, CreateDigest([FileContent(files.sbom, sbom.json_bytes)])),
            ]
        ),
    )
    delivered = file_hashes(await Get(DigestEntries, Digest, deliverables))
    environment = FrozenDict({"target": str(project.address), "toolchain": toolchain.identity.splitlines()[0]})
    evidence = {
        VENDOR: component.vendored.record.evidence(environment),
        BUILD: component.record.evidence(environment),
        SBOM: StepEvidence(
            command=("wasm-attest", "sbom", "--target", WASM_TARGET),
            materials={name: delivered[name] for name in (files.component, LOCKFILE)},
            products={files.sbom: delivered[files.sbom]},
            environment=environment,
        ),
        PACKAGE: StepEvidence(
            command=("pants", "package", str(project.address)),
            materials=delivered,
            products=delivered,
            environment=environment,
        ),
    }
    loaded = load_signers(options, env)
    provenance = _provenance(project, component, sbom, toolchain, revision, delivered[LOCKFILE], timestamp, options)
    attestations = attestation_files(
        files,
        evidence,
        loaded.signers,
        provenance,
        layout_expires=timestamp_now() + timedelta(days=options.layout_expiry_days),
    )
    attestation_digest = await Get(
        Digest, CreateDigest([FileContent(name, content) for name, content in sorted(attestations.items())])
    )
    notices = tuple(notice for notice in (loaded.notice, *sbom.warnings) if notice)
    return AttestedComponent(
        digest=await Get(Digest, MergeDigests([deliverables, attestation_digest])),
        files=files,
        owner_public_key_pem=public_key_pem(loaded.signers.owner.public_key),
        notices=notices,
    )


def timestamp_now() -> datetime:
    """The layout's expiry counts from signing time: it is policy, not a build output."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def _provenance(
    project: CargoProject,
    component: BuiltComponent,
    sbom: Sbom,
    toolchain: RustToolchain,
    revision: SourceRevision,
    lockfile_sha256: str,
    timestamp: datetime,
    options: AttestationSubsystem,
) -> Provenance:
    if revision.commit:
        source = ResourceDescriptor(uri="git+source-tree", digest={"gitCommit": revision.commit}, name="source")
    else:
        sources = {
            path: digest
            for path, digest in component.record.materials.items()
            if not path.startswith(("vendor/", "toolchain/"))
        }
        source = ResourceDescriptor(uri="source-tree", digest={"sha256": source_tree_digest(sources)}, name="source")
    crates = [
        ResourceDescriptor(uri=crate.purl, digest={"sha256": crate.sha256}, name=crate.name)
        for crate in (*sbom.linked, *sbom.build_only)
        if crate.purl and crate.sha256
    ]
    if toolchain.archive_sha256:
        toolchain_descriptor = ResourceDescriptor(
            uri=f"wasm-toolchain:rust-{toolchain.rustc_release}-{WASM_TARGET}",
            digest={"sha256": toolchain.archive_sha256},
            name="toolchain",
        )
    else:
        # A local rustup toolchain is identified, not pinned: record the digest of its identity.
        toolchain_descriptor = ResourceDescriptor(
            uri=f"rustup-toolchain:rust-{toolchain.rustc_release}",
            digest={"sha256": hashlib.sha256(toolchain.identity.encode()).hexdigest()},
            name="toolchain",
        )
    return Provenance(
        subject_name=component.filename,
        subject_sha256=component.sha256,
        build_type=WASM_COMPONENT_BUILD_TYPE,
        external_parameters={
            "target": str(project.address),
            "package": project.package,
            "bin": project.bin,
            "features": list(project.features),
            "noDefaultFeatures": project.no_default_features,
            "profile": project.profile,
        },
        resolved_dependencies=[
            source,
            ResourceDescriptor(uri=f"{project.lockfile_path}", digest={"sha256": lockfile_sha256}, name="Cargo.lock"),
            toolchain_descriptor,
            *crates,
        ],
        builder_id=options.builder_id,
        started_on=timestamp,
        finished_on=timestamp,
    )


def rules():
    return collect_rules()
