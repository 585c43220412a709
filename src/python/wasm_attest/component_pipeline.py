"""The attested steps of one wasm component build, and the signed bundle they produce.

Build systems (the Pants plugin) run the steps and hand over what each one did
as a `StepEvidence`; this module turns that into one signed link per step, the
layout derived from the same step graph, and SLSA provenance. Keeping the step
graph here, not in the plugin, means the standalone verifier and any future
build front-end agree on what a correct build looks like.

The layout is policy, so it has two sources. In development (and when the CI
also holds the owner key) it is derived from this build and signed at once
(`attestation_files`). In release mode the owner reviewed and signed it offline
(`component_layout` is what they reviewed); the build then only signs its
links and provenance, and ships the owner's layout unchanged
(`release_attestation_files`), so whoever builds cannot change the policy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from in_toto.models.layout import Layout

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.capabilities.policy import CapabilityPolicy
from wasm_attest.isolation import BuildIsolation
from wasm_attest.keys import PublicKeyLike, SigningKey
from wasm_attest.layout import ArtifactMatch, StepPlan, derive_layout, layout_files, presigned_layout_files
from wasm_attest.links import build_link, sign_link
from wasm_attest.provenance import (
    WASM_COMPONENT_BUILD_TYPE,
    Provenance,
    ResourceDescriptor,
    provenance_file_name,
    sign_provenance,
)

if TYPE_CHECKING:  # the SBOM library is heavy; verification imports this module only for names
    from wasm_attest.sbom import Sbom

VENDOR = "vendor"
BUILD = "build"
EMBED = "embed"
SBOM = "sbom"
PACKAGE = "package"
STEPS = (VENDOR, BUILD, EMBED, SBOM, PACKAGE)

WASM_TARGET = "wasm32-wasip2"
LOCKFILE = "Cargo.lock"
VENDOR_PATTERN = "vendor/*"
REGISTRY_PATTERN = "registry/*"
TOOLCHAIN_PATTERN = "toolchain/*"


@dataclass(frozen=True)
class ComponentFiles:
    """The names of a component's delivered files, relative to its output folder."""

    component: str

    @property
    def stem(self) -> str:
        return self.component[: -len(".wasm")] if self.component.endswith(".wasm") else self.component

    @property
    def sbom(self) -> str:
        return f"{self.stem}.cdx.json"

    @property
    def provenance(self) -> str:
        return provenance_file_name(self.stem)

    @property
    def final_products(self) -> tuple[str, ...]:
        return (self.component, LOCKFILE, self.sbom)


@dataclass(frozen=True)
class StepEvidence:
    """What one step did: its command, the sha256 of every input and output, and its byproducts.

    Paths are relative to the cargo root (sources), or under `vendor/`,
    `registry/` and `toolchain/`; the component and SBOM by their file names.
    """

    command: tuple[str, ...]
    materials: Mapping[str, str]
    products: Mapping[str, str]
    return_value: int = 0
    stdout_sha256: str | None = None
    stderr_sha256: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildParameters:
    """What the build was asked for: the provenance's externalParameters."""

    target: str
    package: str
    bin: str | None
    """The binary of a command component; None for a library component."""
    features: tuple[str, ...]
    no_default_features: bool
    profile: str
    kind: str = "command"
    """`command` (`cargo build --bin`) or `library` (the crate's cdylib, `cargo build --lib`)."""


@dataclass(frozen=True)
class Signers:
    """Who signs: the layout owner, and the functionary of each step."""

    owner: SigningKey
    functionaries: Mapping[str, SigningKey]

    def functionary(self, step: str) -> SigningKey:
        return self.functionaries[step]


def step_plans(
    files: ComponentFiles, evidence: Mapping[str, StepEvidence], functionary_keys: Mapping[str, PublicKeyLike]
) -> tuple[StepPlan, ...]:
    """The layout's view of the build: how each step's materials chain to earlier products.

    vendor reads the manifests, the lockfile and the registry's copies of the
    locked crates, and creates `vendor/`; build consumes exactly those vendored
    crates and manifests plus the sources and toolchain, and creates the
    component; embed reads it and the lockfile and modifies the component
    (adding its `.dep-v0` and metadata sections); sbom reads the embedded
    component and the lockfile; package delivers the component, lockfile and
    SBOM unchanged. Source files are allowed by name, so a file the build did
    not declare fails verification.
    """
    vendor_sources = sorted(path for path in evidence[VENDOR].materials if not path.startswith("registry/"))
    build_sources = sorted(
        path
        for path in evidence[BUILD].materials
        if not path.startswith(("vendor/", "toolchain/")) and path not in evidence[VENDOR].materials
    )
    from_vendor_materials = tuple(ArtifactMatch(path, VENDOR, "materials") for path in vendor_sources)
    delivered = (
        ArtifactMatch(files.component, EMBED),
        ArtifactMatch(files.sbom, SBOM),
        ArtifactMatch(LOCKFILE, VENDOR, "materials"),
    )
    return (
        StepPlan(
            name=VENDOR,
            expected_command=evidence[VENDOR].command,
            functionary_keys=(functionary_keys[VENDOR],),
            source_inputs=(*vendor_sources, REGISTRY_PATTERN),
            creates=(VENDOR_PATTERN,),
        ),
        StepPlan(
            name=BUILD,
            expected_command=evidence[BUILD].command,
            functionary_keys=(functionary_keys[BUILD],),
            consumes=(ArtifactMatch(VENDOR_PATTERN, VENDOR), *from_vendor_materials),
            source_inputs=(*build_sources, TOOLCHAIN_PATTERN),
            creates=(files.component,),
        ),
        StepPlan(
            name=EMBED,
            expected_command=evidence[EMBED].command,
            functionary_keys=(functionary_keys[EMBED],),
            consumes=(ArtifactMatch(files.component, BUILD), ArtifactMatch(LOCKFILE, VENDOR, "materials")),
            modifies=(files.component,),
        ),
        StepPlan(
            name=SBOM,
            expected_command=evidence[SBOM].command,
            functionary_keys=(functionary_keys[SBOM],),
            consumes=(ArtifactMatch(files.component, EMBED), ArtifactMatch(LOCKFILE, VENDOR, "materials")),
            creates=(files.sbom,),
        ),
        StepPlan(
            name=PACKAGE,
            expected_command=evidence[PACKAGE].command,
            functionary_keys=(functionary_keys[PACKAGE],),
            consumes=delivered,
            passes_through=delivered,
        ),
    )


def component_layout(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    functionary_keys: Mapping[str, PublicKeyLike],
    expires: datetime,
    policy: CapabilityPolicy | None = None,
) -> Layout:
    """The layout this build implies, unsigned: what the owner reviews before signing it offline.

    `functionary_keys` are the public keys, by step, allowed to sign each step's link. The
    capability `policy`, if any, ends the layout's readme (see `capabilities.policy`).
    """
    readme = f"How {files.component} must be built: {', '.join(STEPS)}."
    return derive_layout(
        step_plans(files, evidence, functionary_keys),
        final_products=files.final_products,
        expires=expires,
        readme=readme if policy is None else f"{readme} {policy.readme_line()}",
    )


def attestation_files(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    signers: Signers,
    provenance: Provenance,
    layout_expires: datetime,
    policy: CapabilityPolicy | None = None,
) -> dict[str, bytes]:
    """Every attestation file of the bundle, by file name, with the layout derived from this build and signed by `signers.owner`."""
    functionary_keys = {step: signers.functionary(step).public_key for step in STEPS}
    layout = component_layout(files, evidence, functionary_keys, layout_expires, policy)
    return {
        **signed_evidence_files(files, evidence, signers.functionaries, provenance),
        **layout_files(layout, signers.owner.signer),
    }


def release_attestation_files(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    functionaries: Mapping[str, SigningKey],
    provenance: Provenance,
    signed_layout: bytes,
    *,
    layout_origin: str,
) -> dict[str, bytes]:
    """Every attestation file of the bundle, with the owner's pre-signed layout as `root.layout`, byte for byte.

    Nothing here checks that this build matches that layout: verifying the
    bundle against the trusted owner keys does, as for any other bundle.
    `layout_origin` names the signed layout's file in error messages.
    """
    return {
        **signed_evidence_files(files, evidence, functionaries, provenance),
        **presigned_layout_files(signed_layout, origin=layout_origin),
    }


def signed_evidence_files(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    functionaries: Mapping[str, SigningKey],
    provenance: Provenance,
) -> dict[str, bytes]:
    """What the functionaries sign, whoever signs the layout: one link per step, and the provenance."""
    bundle: dict[str, bytes] = {}
    for step in STEPS:
        record = evidence[step]
        link = build_link(
            step=step,
            command=record.command,
            materials=record.materials,
            products=record.products,
            return_value=record.return_value,
            stdout_sha256=record.stdout_sha256,
            stderr_sha256=record.stderr_sha256,
            environment=record.environment,
        )
        signed = sign_link(link, functionaries[step].signer)
        bundle[signed.file_name] = signed.content
    bundle[files.provenance] = sign_provenance(provenance, functionaries[PACKAGE].signer)
    return bundle


def source_tree_digest(sources: Mapping[str, str]) -> str:
    """One sha256 for a set of source files (path -> sha256), for provenance when there is no git commit.

    It hashes the sorted `<sha256>  <path>` lines, the format of `sha256sum`, so
    anyone can recompute it from a checkout.
    """
    listing = "".join(f"{digest}  {path}\n" for path, digest in sorted(sources.items()))
    return hashlib.sha256(listing.encode()).hexdigest()



def delivery_evidence(
    files: ComponentFiles,
    built_component_sha256: str,
    delivered: Mapping[str, str],
    target: str,
    environment: Mapping[str, str],
) -> dict[str, StepEvidence]:
    """The evidence of the in-process steps: embed (built component + lockfile -> component with its
    dependency list and metadata), sbom (component + lockfile -> SBOM) and package (the delivered files).

    `delivered` maps each of `files.final_products` to its sha256.
    """
    return {
        EMBED: StepEvidence(
            command=("wasm-attest", "embed", "--sections", ".dep-v0,metadata"),
            materials={files.component: built_component_sha256, LOCKFILE: delivered[LOCKFILE]},
            products={files.component: delivered[files.component]},
            environment=environment,
        ),
        SBOM: StepEvidence(
            command=("wasm-attest", "sbom", "--target", WASM_TARGET),
            materials={name: delivered[name] for name in (files.component, LOCKFILE)},
            products={files.sbom: delivered[files.sbom]},
            environment=environment,
        ),
        PACKAGE: StepEvidence(
            command=("pants", "package", target),
            materials=dict(delivered),
            products=dict(delivered),
            environment=environment,
        ),
    }


def source_descriptor(commit: str | None, sources: Mapping[str, str]) -> ResourceDescriptor:
    """The source tree as provenance names it: its git commit, or the digest of its files outside git."""
    if commit:
        return ResourceDescriptor(uri="git+source-tree", digest={"gitCommit": commit}, name="source")
    return ResourceDescriptor(uri="source-tree", digest={"sha256": source_tree_digest(sources)}, name="source")


def toolchain_descriptor(rustc_release: str, archive_sha256: str | None, identity: str) -> ResourceDescriptor:
    """The toolchain as provenance names it: the pinned archive, or a local toolchain's identity.

    A local rustup toolchain is identified, not pinned, so the digest recorded
    is that of its identity (`rustc -vV` and `cargo -V`).
    """
    if archive_sha256:
        return ResourceDescriptor(
            uri=f"wasm-toolchain:rust-{rustc_release}-{WASM_TARGET}", digest={"sha256": archive_sha256}, name="toolchain"
        )
    return ResourceDescriptor(
        uri=f"rustup-toolchain:rust-{rustc_release}",
        digest={"sha256": hashlib.sha256(identity.encode()).hexdigest()},
        name="toolchain",
    )


def component_provenance(
    *,
    files: ComponentFiles,
    parameters: BuildParameters,
    sbom: Sbom,
    delivered: Mapping[str, str],
    lockfile_uri: str,
    source: ResourceDescriptor,
    toolchain: ResourceDescriptor,
    builder_id: str,
    timestamp: datetime,
    isolation: BuildIsolation,
    interface: ComponentInterface | None = None,
    policy: CapabilityPolicy | None = None,
) -> Provenance:
    """SLSA provenance of the component: its subject, what was asked, every input resolved, and how the
    build was isolated (`internalParameters.isolation`, which verification can require).

    resolvedDependencies are the source tree, Cargo.lock, the toolchain and
    every crate the SBOM lists with a purl and a real SHA-256.
    """
    crates = [
        ResourceDescriptor(uri=crate.purl, digest={"sha256": crate.sha256}, name=crate.name)
        for crate in (*sbom.linked, *sbom.build_only)
        if crate.purl and crate.sha256
    ]
    return Provenance(
        subject_name=files.component,
        subject_sha256=delivered[files.component],
        build_type=WASM_COMPONENT_BUILD_TYPE,
        external_parameters={
            "target": parameters.target,
            "package": parameters.package,
            "kind": parameters.kind,
            **({} if parameters.bin is None else {"bin": parameters.bin}),
            "features": list(parameters.features),
            "noDefaultFeatures": parameters.no_default_features,
            "profile": parameters.profile,
            **({} if policy is None else {"capabilityPolicy": policy.to_dict()}),
        },
        resolved_dependencies=[
            source,
            ResourceDescriptor(uri=lockfile_uri, digest={"sha256": delivered[LOCKFILE]}, name=LOCKFILE),
            toolchain,
            *crates,
        ],
        builder_id=builder_id,
        started_on=timestamp,
        finished_on=timestamp,
        internal_parameters={"isolation": isolation.to_dict()},
        byproducts=() if interface is None else (interface_byproduct(interface),),
    )


COMPONENT_INTERFACE_BYPRODUCT = "component-interface"


def interface_byproduct(interface: ComponentInterface) -> dict[str, Any]:
    """The component's WIT interface as a provenance byproduct: named, digested, and readable in `annotations`."""
    return {
        "name": COMPONENT_INTERFACE_BYPRODUCT,
        "digest": {"sha256": interface.sha256()},
        "mediaType": "application/json",
        "annotations": interface.to_dict(),
    }
