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
    NO_DIGEST_ANNOTATION,
    WASM_COMPONENT_BUILD_TYPE,
    Provenance,
    ResourceDescriptor,
    provenance_file_name,
    sign_provenance,
)
from wasm_attest.sigstore.bundles import bundle_from_envelope, cyclonedx_statement, sign_statement_bundle
from wasm_attest.source.checkout import Checkout, sources_sha256

if TYPE_CHECKING:  # the SBOM library is heavy; verification imports this module only for names
    from wasm_attest.sbom import Sbom

VENDOR = "vendor"
DEPENDENCIES = "dependencies"
BUILD = "build"
EMBED = "embed"
SBOM = "sbom"
PACKAGE = "package"
STEPS = (VENDOR, DEPENDENCIES, BUILD, EMBED, SBOM, PACKAGE)

WASM_TARGET = "wasm32-wasip2"
LOCKFILE = "Cargo.lock"
VENDOR_PATTERN = "vendor/*"
REGISTRY_PATTERN = "registry/*"
TOOLCHAIN_PATTERN = "toolchain/*"
COMPILED_PATTERN = "target/*"


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
    def provenance_bundle(self) -> str:
        """The provenance again, as a Sigstore bundle v0.3 (what current cosign verifies)."""
        return f"{self.stem}.provenance.sigstore.json"

    @property
    def sbom_bundle(self) -> str:
        """The SBOM as a signed CycloneDX attestation about the component, in a Sigstore bundle v0.3."""
        return f"{self.stem}.sbom.sigstore.json"

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
    locked crates, and creates `vendor/`; dependencies compiles exactly those
    vendored crates with the toolchain, once for the workspace, and creates
    the compiled crates under `target/`; build consumes exactly those
    vendored crates, manifests and compiled crates plus the sources and
    toolchain, and creates the component; embed reads it and the lockfile and modifies the component
    (adding its `.dep-v0` and metadata sections); sbom reads the embedded
    component and the lockfile; package delivers the component, lockfile and
    SBOM unchanged. Source files are allowed by name, so a file the build did
    not declare fails verification.
    """
    vendor_sources = sorted(path for path in evidence[VENDOR].materials if not path.startswith("registry/"))
    build_sources = sorted(
        path
        for path in evidence[BUILD].materials
        if not path.startswith(("vendor/", "toolchain/", "target/")) and path not in evidence[VENDOR].materials
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
            name=DEPENDENCIES,
            expected_command=evidence[DEPENDENCIES].command,
            functionary_keys=(functionary_keys[DEPENDENCIES],),
            consumes=(ArtifactMatch(VENDOR_PATTERN, VENDOR), *from_vendor_materials),
            source_inputs=(TOOLCHAIN_PATTERN,),
            creates=(COMPILED_PATTERN,),
        ),
        StepPlan(
            name=BUILD,
            expected_command=evidence[BUILD].command,
            functionary_keys=(functionary_keys[BUILD],),
            consumes=(
                ArtifactMatch(VENDOR_PATTERN, VENDOR),
                ArtifactMatch(COMPILED_PATTERN, DEPENDENCIES),
                *from_vendor_materials,
            ),
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
    *,
    sbom_json: bytes,
) -> dict[str, bytes]:
    """Every attestation file of the bundle, by file name, with the layout derived from this build and signed by `signers.owner`.

    `sbom_json` is the delivered SBOM, which its Sigstore bundle attests.
    """
    functionary_keys = {step: signers.functionary(step).public_key for step in STEPS}
    layout = component_layout(files, evidence, functionary_keys, layout_expires, policy)
    return {
        **signed_evidence_files(files, evidence, signers.functionaries, provenance, sbom_json),
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
    sbom_json: bytes,
) -> dict[str, bytes]:
    """Every attestation file of the bundle, with the owner's pre-signed layout as `root.layout`, byte for byte.

    Nothing here checks that this build matches that layout: verifying the
    bundle against the trusted owner keys does, as for any other bundle.
    `layout_origin` names the signed layout's file in error messages.
    """
    return {
        **signed_evidence_files(files, evidence, functionaries, provenance, sbom_json),
        **presigned_layout_files(signed_layout, origin=layout_origin),
    }


def signed_evidence_files(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    functionaries: Mapping[str, SigningKey],
    provenance: Provenance,
    sbom_json: bytes,
) -> dict[str, bytes]:
    """What the functionaries sign, whoever signs the layout: one link per step, the provenance, and both again
    as Sigstore bundles (the provenance with the same signature; the SBOM as a CycloneDX attestation signed by the
    sbom step's functionary, the step that wrote it)."""
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
    provenance_line = sign_provenance(provenance, functionaries[PACKAGE].signer)
    bundle[files.provenance] = provenance_line
    bundle[files.provenance_bundle] = bundle_from_envelope(provenance_line, hint=functionaries[PACKAGE].keyid)
    statement = cyclonedx_statement(files.component, provenance.subject_sha256, sbom_json)
    bundle[files.sbom_bundle] = sign_statement_bundle(statement, functionaries[SBOM].signer)
    return bundle


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


def source_descriptor(checkout: Checkout, cargo_root: str, sources: Mapping[str, str]) -> ResourceDescriptor:
    """The source tree as provenance names it (see `wasm_attest.source.checkout` for the URIs).

    A clean checkout is named by its commit. A modified one, or one outside
    git, by the SHA-256 of the exact files the build read (`sources`, path ->
    sha256, as in the build link's materials); a modified one also says so and
    names its base commit, so it never passes for a build of that commit.
    """
    uri = checkout.uri(cargo_root)
    if checkout.commit and not checkout.is_modified:
        return ResourceDescriptor(uri=uri, digest={"gitCommit": checkout.commit}, name="source")
    return ResourceDescriptor(
        uri=uri,
        digest={"sha256": sources_sha256(sources)},
        name="source",
        annotations=checkout.source_annotations(),
    )


def toolchain_descriptor(rustc_release: str, archive_sha256: str | None, identity: str) -> ResourceDescriptor:
    """The toolchain as provenance names it: a `pkg:generic` purl of the pinned archive, or of a local toolchain.

    The archive is `wasm32-wasip2-rust-<release>.tar.gz`, pinned by its sha256.
    A local rustup toolchain is identified, not pinned, so the digest recorded
    is that of its identity (`rustc -vV` and `cargo -V`).
    """
    if archive_sha256:
        return ResourceDescriptor(
            uri=f"pkg:generic/{WASM_TARGET}-rust@{rustc_release}", digest={"sha256": archive_sha256}, name="toolchain"
        )
    return ResourceDescriptor(
        uri=f"pkg:generic/rustup-toolchain@{rustc_release}",
        digest={"sha256": hashlib.sha256(identity.encode()).hexdigest()},
        name="toolchain",
        annotations={"identity": "sha256 of the local toolchain's `rustc -vV` and `cargo -V`"},
    )


def crate_descriptors(sbom: Sbom) -> list[ResourceDescriptor]:
    """Every fetched crate the SBOM lists (linked and build-only), by purl, with its SHA-256 when Cargo.lock has one.

    A crate whose Cargo.lock checksum is not a SHA-256 (Debian's "Could not get
    crate checksum") is listed without a digest, and says why. In-repo crates
    have no purl; their files are part of the source entry.
    """
    return [
        ResourceDescriptor(uri=crate.purl, digest={"sha256": crate.sha256}, name=crate.name)
        if crate.sha256
        else ResourceDescriptor(
            uri=crate.purl, digest={}, name=crate.name, annotations={NO_DIGEST_ANNOTATION: _NO_CRATE_DIGEST}
        )
        for crate in (*sbom.linked, *sbom.build_only)
        if crate.purl
    ]


_NO_CRATE_DIGEST = (
    "Cargo.lock records no SHA-256 checksum for this crate (see the SBOM's wasm-attest:hash property); "
    "its content is pinned by the vendor link's materials"
)


def component_provenance(
    *,
    files: ComponentFiles,
    parameters: BuildParameters,
    sbom: Sbom,
    delivered: Mapping[str, str],
    lockfile: ResourceDescriptor,
    source: ResourceDescriptor,
    toolchain: ResourceDescriptor,
    builder_id: str,
    source_date: datetime,
    started_on: datetime,
    finished_on: datetime,
    isolation: BuildIsolation,
    interface: ComponentInterface | None = None,
    policy: CapabilityPolicy | None = None,
) -> Provenance:
    """SLSA provenance of the component: its subject, what was asked, every input resolved, and how the
    build was isolated (`internalParameters.isolation`, which verification can require).

    resolvedDependencies are the source tree, Cargo.lock, the toolchain and
    every crate the SBOM lists with a purl. `started_on`/`finished_on` are when
    the build really ran; `source_date` (SOURCE_DATE_EPOCH, else the commit
    time) is the time the reproducible files carry, recorded as
    `internalParameters.sourceDateEpoch`.
    """
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
        resolved_dependencies=[source, lockfile, toolchain, *crate_descriptors(sbom)],
        builder_id=builder_id,
        started_on=started_on,
        finished_on=finished_on,
        internal_parameters={
            "isolation": isolation.to_dict(),
            "sourceDateEpoch": int(source_date.timestamp()),
        },
        byproducts=() if interface is None else (interface_byproduct(interface),),
    )


def lockfile_descriptor(checkout: Checkout, lockfile_path: str, sha256: str) -> ResourceDescriptor:
    """Cargo.lock as provenance names it: its URI in the repository (`lockfile_path` from the repository root)."""
    return ResourceDescriptor(uri=checkout.uri(lockfile_path), digest={"sha256": sha256}, name=LOCKFILE)


COMPONENT_INTERFACE_BYPRODUCT = "component-interface"


def interface_byproduct(interface: ComponentInterface) -> dict[str, Any]:
    """The component's WIT interface as a provenance byproduct: named, digested, and readable in `annotations`."""
    return {
        "name": COMPONENT_INTERFACE_BYPRODUCT,
        "digest": {"sha256": interface.sha256()},
        "mediaType": "application/json",
        "annotations": interface.to_dict(),
    }
