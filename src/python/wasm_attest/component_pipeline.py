"""The attested steps of one wasm component build, and the signed bundle they produce.

Build systems (the Pants plugin) run the steps and hand over what each one did
as a `StepEvidence`; this module turns that into one signed link per step, the
layout derived from the same step graph, and SLSA provenance. Keeping the step
graph here, not in the plugin, means the standalone verifier and any future
build front-end agree on what a correct build looks like.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from wasm_attest.keys import SigningKey
from wasm_attest.layout import ArtifactMatch, StepPlan, derive_layout, layout_files
from wasm_attest.links import build_link, sign_link
from wasm_attest.provenance import Provenance, provenance_file_name, sign_provenance

VENDOR = "vendor"
BUILD = "build"
SBOM = "sbom"
PACKAGE = "package"
STEPS = (VENDOR, BUILD, SBOM, PACKAGE)

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
class Signers:
    """Who signs: the layout owner, and the functionary of each step."""

    owner: SigningKey
    functionaries: Mapping[str, SigningKey]

    def functionary(self, step: str) -> SigningKey:
        return self.functionaries[step]


def step_plans(
    files: ComponentFiles, evidence: Mapping[str, StepEvidence], signers: Signers
) -> tuple[StepPlan, ...]:
    """The layout's view of the build: how each step's materials chain to earlier products.

    vendor reads the manifests, the lockfile and the registry's copies of the
    locked crates, and creates `vendor/`; build consumes exactly those vendored
    crates and manifests plus the sources and toolchain, and creates the
    component; sbom reads the component and the lockfile; package delivers the
    component, lockfile and SBOM unchanged. Source files are allowed by name, so
    a file the build did not declare fails verification.
    """
    vendor_sources = sorted(path for path in evidence[VENDOR].materials if not path.startswith("registry/"))
    build_sources = sorted(
        path
        for path in evidence[BUILD].materials
        if not path.startswith(("vendor/", "toolchain/")) and path not in evidence[VENDOR].materials
    )
    from_vendor_materials = tuple(ArtifactMatch(path, VENDOR, "materials") for path in vendor_sources)
    delivered = (
        ArtifactMatch(files.component, BUILD),
        ArtifactMatch(files.sbom, SBOM),
        ArtifactMatch(LOCKFILE, VENDOR, "materials"),
    )
    return (
        StepPlan(
            name=VENDOR,
            expected_command=evidence[VENDOR].command,
            functionary_keys=(signers.functionary(VENDOR).public_key,),
            source_inputs=(*vendor_sources, REGISTRY_PATTERN),
            creates=(VENDOR_PATTERN,),
        ),
        StepPlan(
            name=BUILD,
            expected_command=evidence[BUILD].command,
            functionary_keys=(signers.functionary(BUILD).public_key,),
            consumes=(ArtifactMatch(VENDOR_PATTERN, VENDOR), *from_vendor_materials),
            source_inputs=(*build_sources, TOOLCHAIN_PATTERN),
            creates=(files.component,),
        ),
        StepPlan(
            name=SBOM,
            expected_command=evidence[SBOM].command,
            functionary_keys=(signers.functionary(SBOM).public_key,),
            consumes=(ArtifactMatch(files.component, BUILD), ArtifactMatch(LOCKFILE, VENDOR, "materials")),
            creates=(files.sbom,),
        ),
        StepPlan(
            name=PACKAGE,
            expected_command=evidence[PACKAGE].command,
            functionary_keys=(signers.functionary(PACKAGE).public_key,),
            consumes=delivered,
            passes_through=delivered,
        ),
    )


def attestation_files(
    files: ComponentFiles,
    evidence: Mapping[str, StepEvidence],
    signers: Signers,
    provenance: Provenance,
    layout_expires: datetime,
) -> dict[str, bytes]:
    """Every attestation file of the bundle, by file name: links, layout, public keys, provenance."""
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
        signed = sign_link(link, signers.functionary(step).signer)
        bundle[signed.file_name] = signed.content
    layout = derive_layout(
        step_plans(files, evidence, signers),
        final_products=files.final_products,
        expires=layout_expires,
        readme=f"How {files.component} must be built: vendor, build, sbom, package.",
    )
    bundle.update(layout_files(layout, signers.owner.signer))
    bundle[files.provenance] = sign_provenance(provenance, signers.functionary(PACKAGE).signer)
    return bundle


def source_tree_digest(sources: Mapping[str, str]) -> str:
    """One sha256 for a set of source files (path -> sha256), for provenance when there is no git commit.

    It hashes the sorted `<sha256>  <path>` lines, the format of `sha256sum`, so
    anyone can recompute it from a checkout.
    """
    listing = "".join(f"{digest}  {path}\n" for path, digest in sorted(sources.items()))
    return hashlib.sha256(listing.encode()).hexdigest()

