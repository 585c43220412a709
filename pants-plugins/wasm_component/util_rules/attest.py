"""Attests a built component: SBOM, one signed link per step, layout and SLSA provenance.

This rule only gathers what the build produced (digests, cargo's messages and
metadata, the toolchain's identity, the source revision) and hands it to the
core library, which owns every format. Its result is the complete output
folder of the target, ready to be verified and written to `dist/`.
"""

from __future__ import annotations

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
    VENDOR,
    WASM_TARGET,
    BuildParameters,
    ComponentFiles,
    attestation_files,
    component_provenance,
    delivery_evidence,
    source_descriptor,
    toolchain_descriptor,
)
from wasm_attest.keys import public_key_pem
from wasm_attest.sbom import SbomInputs, build_sbom
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.build import BuiltComponent
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
        **delivery_evidence(files, delivered, str(project.address), environment),
    }
    loaded = load_signers(options, env)
    sources = {
        path: digest
        for path, digest in component.record.materials.items()
        if not path.startswith(("vendor/", "toolchain/"))
    }
    provenance = component_provenance(
        files=files,
        parameters=BuildParameters(
            target=str(project.address),
            package=project.package,
            bin=project.bin,
            features=project.features,
            no_default_features=project.no_default_features,
            profile=project.profile,
        ),
        sbom=sbom,
        delivered=delivered,
        lockfile_uri=project.lockfile_path,
        source=source_descriptor(revision.commit, sources),
        toolchain=toolchain_descriptor(toolchain.rustc_release, toolchain.archive_sha256, toolchain.identity),
        builder_id=options.builder_id,
        timestamp=timestamp,
    )
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


def rules():
    return collect_rules()
