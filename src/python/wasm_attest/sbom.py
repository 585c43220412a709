"""The CycloneDX 1.6 SBOM of a wasm32-wasip2 component (reading its crate list back is `sbom_crates`).

The SBOM lists exactly the crates the build compiled (see `crate_inventory`):
linked crates with scope `required`, crates compiled only for the host with
scope `excluded`, each with its purl, Cargo.lock SHA-256, SPDX licence and the
dependency graph. It is built with cyclonedx-python-lib's models and
serialiser, so the format is the library's, and is byte-for-byte deterministic:
the serial number is derived from the document itself and the timestamp is an
input, so two builds of the same sources write the same bytes wherever they run.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from wasm_attest import __version__
from wasm_attest.cargo_lock import CargoLock
from wasm_attest.crate_inventory import Crate, CrateId, CrateInventory, crate_inventory
from wasm_attest.licenses import spdx_expression
from wasm_attest.sbom_crates import SbomCrate, SbomError

PROPERTY_PREFIX = "wasm-attest:"
HASH_PROPERTY = PROPERTY_PREFIX + "hash"
SOURCE_PROPERTY = PROPERTY_PREFIX + "source"
EXCLUDED_BECAUSE_PROPERTY = PROPERTY_PREFIX + "excluded-because"
IN_REPO = "in-repo"
# The component's interface, one property per WIT interface, on metadata.component. Not `services`: in
# CycloneDX those are network services with endpoints, authentication and data flows, which a WIT import is
# not (the host hands it over in-process); consumers would show them as external APIs the component calls.
WIT_IMPORT_PROPERTY = PROPERTY_PREFIX + "wit-import"
WIT_EXPORT_PROPERTY = PROPERTY_PREFIX + "wit-export"

_CRATES_IO_SOURCES = frozenset(
    {"registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/"}
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# The serial number is a name-based UUID of the document's digest, in a namespace of this project's own.
_SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:wasm-attest:sbom")
_PLACEHOLDER_SERIAL = uuid.UUID(int=0)
_JSON_INDENT = 2


@dataclass(frozen=True)
class SbomInputs:
    """Everything the SBOM is made from; the same inputs always give the same bytes."""

    component_name: str
    """The cargo package the component is built from; its version comes from cargo's metadata."""
    component_sha256: str
    """The SHA-256 (hex) of the exact .wasm bytes the SBOM describes."""
    lockfile: CargoLock
    metadata_json: bytes
    """The output of `cargo metadata --format-version 1 --locked --offline --filter-platform TRIPLE`."""
    build_messages: bytes
    """The standard output of `cargo build --target TRIPLE --message-format=json-render-diagnostics`."""
    features: tuple[str, ...]
    """The cargo features the build enabled on the package (`--features`)."""
    profile: str
    """The cargo profile the build used, e.g. `release`."""
    target_triple: str
    rustc_version: str
    cargo_version: str
    timestamp: datetime
    """When the sources were made (SOURCE_DATE_EPOCH or the commit time), with a time zone."""
    imports: tuple[str, ...] = ()
    """The WIT interfaces the component imports (`wasi:cli/stdout@0.2.6`): its capabilities."""
    exports: tuple[str, ...] = ()
    """The WIT interfaces the component exports (`wasi:http/incoming-handler@0.2.4`)."""


@dataclass(frozen=True)
class Sbom:
    """A built SBOM: the file's bytes, and what the build should tell the user about it."""

    json_bytes: bytes
    warnings: tuple[str, ...]
    """One line per crate whose hash the SBOM cannot give, naming the crate."""
    linked: tuple[SbomCrate, ...]
    build_only: tuple[SbomCrate, ...]


def build_sbom(inputs: SbomInputs) -> Sbom:
    """The CycloneDX 1.6 JSON SBOM of the component described by `inputs`."""
    _check_inputs(inputs)
    inventory = crate_inventory(
        metadata_json=inputs.metadata_json,
        build_messages=inputs.build_messages,
        lockfile=inputs.lockfile,
        package=inputs.component_name,
        target_triple=inputs.target_triple,
    )
    bom = Bom(
        metadata=_metadata(inputs, inventory.root),
        components=[_crate_component(crate) for crate in inventory.crates],
        dependencies=_dependencies(inventory),
    )
    return Sbom(
        json_bytes=_deterministic_json(bom),
        warnings=tuple(filter(None, map(_hash_warning, inventory.crates))),
        linked=tuple(map(_sbom_crate, inventory.linked)),
        build_only=tuple(map(_sbom_crate, inventory.build_only)),
    )


def crate_purl(crate: CrateId) -> str | None:
    """The package URL of a fetched crate; None for an in-repo crate, which no package registry holds.

    `pkg:cargo/NAME@VERSION` means crates.io, so a crate from elsewhere names
    its git repository or registry in a qualifier.
    """
    if crate.source is None:
        return None
    if crate.source in _CRATES_IO_SOURCES:
        qualifiers = {}
    elif crate.source.startswith("git+"):
        qualifiers = {"vcs_url": crate.source}
    else:
        qualifiers = {"repository_url": crate.source.partition("+")[2]}
    return PackageURL(type="cargo", name=crate.name, version=crate.version, qualifiers=qualifiers).to_string()


def _check_inputs(inputs: SbomInputs) -> None:
    if not _SHA256_HEX.fullmatch(inputs.component_sha256):
        raise SbomError(
            f"the component SHA-256 {inputs.component_sha256!r} is not 64 lower-case hex digits; "
            "pass the hex digest of the .wasm file."
        )
    if inputs.timestamp.tzinfo is None:
        raise SbomError(
            "the SBOM timestamp has no time zone, so its meaning depends on the machine; "
            "build it with datetime.fromtimestamp(SOURCE_DATE_EPOCH, timezone.utc)."
        )


def _metadata(inputs: SbomInputs, root: Crate) -> BomMetaData:
    component = Component(
        type=ComponentType.APPLICATION,
        name=inputs.component_name,
        version=root.id.version,
        bom_ref=_bom_ref(root.id),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=inputs.component_sha256)],
        licenses=_licenses(root.license),
        properties=[
            Property(name=SOURCE_PROPERTY, value=IN_REPO),
            *(Property(name=WIT_IMPORT_PROPERTY, value=name) for name in inputs.imports),
            *(Property(name=WIT_EXPORT_PROPERTY, value=name) for name in inputs.exports),
        ],
    )
    tools = [
        _tool("wasm-attest", __version__),
        _tool("rustc", inputs.rustc_version),
        _tool("cargo", inputs.cargo_version),
    ]
    properties = [
        Property(name=PROPERTY_PREFIX + "target-triple", value=inputs.target_triple),
        Property(name=PROPERTY_PREFIX + "profile", value=inputs.profile),
        *(Property(name=PROPERTY_PREFIX + "feature", value=feature) for feature in inputs.features),
    ]
    return BomMetaData(
        component=component,
        tools=ToolRepository(components=tools),
        properties=properties,
        timestamp=inputs.timestamp.astimezone(timezone.utc),
    )


def _tool(name: str, version: str) -> Component:
    return Component(type=ComponentType.APPLICATION, name=name, version=version, bom_ref=f"tool:{name}@{version}")


def _crate_component(crate: Crate) -> Component:
    sha256 = crate.locked.sha256
    purl = crate_purl(crate.id)
    return Component(
        type=ComponentType.LIBRARY,
        name=crate.id.name,
        version=crate.id.version,
        bom_ref=_bom_ref(crate.id),
        purl=PackageURL.from_string(purl) if purl else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256)] if sha256 else [],
        licenses=_licenses(crate.license),
        external_references=_external_references(crate),
        scope=_scope(crate),
        properties=_crate_properties(crate),
    )


def _scope(crate: Crate) -> ComponentScope:
    return ComponentScope.REQUIRED if crate.linked else ComponentScope.EXCLUDED


def _bom_ref(crate: CrateId) -> str:
    """The purl, which is unique and stable; in-repo crates, which have none, get an id of the same shape."""
    return crate_purl(crate) or f"{IN_REPO}:cargo/{crate.name}@{crate.version}"


def _licenses(cargo_license: str | None) -> list[License]:
    if cargo_license is None:
        return []
    expression = spdx_expression(cargo_license)
    return [LicenseExpression(expression) if expression else DisjunctiveLicense(name=cargo_license)]


def _external_references(crate: Crate) -> list[ExternalReference]:
    references = []
    if crate.repository:
        references.extend(_vcs_reference(crate.repository))
    if crate.id.source in _CRATES_IO_SOURCES:
        download = f"https://crates.io/crates/{crate.id.name}/{crate.id.version}"
        references.append(ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(download)))
    return references


def _vcs_reference(repository: str) -> list[ExternalReference]:
    """The crate's repository as a reference, unless it is no absolute URL (crates write `github.com/...` too)."""
    parts = urlsplit(repository)
    if not (parts.scheme and parts.netloc):
        return []
    try:
        return [ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(repository))]
    except InvalidUriException:
        return []


def _crate_properties(crate: Crate) -> list[Property]:
    properties = [Property(name=SOURCE_PROPERTY, value=crate.locked.source or IN_REPO)]
    unknown_hash = _unknown_hash_reason(crate)
    if unknown_hash:
        properties.append(Property(name=HASH_PROPERTY, value=f"unknown: {unknown_hash}"))
    properties.extend(Property(name=EXCLUDED_BECAUSE_PROPERTY, value=reason) for reason in crate.build_only_reasons)
    return properties


def _unknown_hash_reason(crate: Crate) -> str | None:
    """Why the SBOM gives no SHA-256 for a fetched crate; None when it gives one or the crate is in-repo."""
    if crate.id.is_in_repo or crate.locked.sha256:
        return None
    checksum = crate.locked.checksum
    if checksum is None:
        return "Cargo.lock has no checksum for it"
    return f"Cargo.lock checksum is not a SHA-256 ({checksum!r})"


def _hash_warning(crate: Crate) -> str | None:
    reason = _unknown_hash_reason(crate)
    if reason is None:
        return None
    return f"the SBOM gives no hash for crate {crate.id.name} {crate.id.version}: {reason}."


def _dependencies(inventory: CrateInventory) -> list[Dependency]:
    return [
        Dependency(
            ref=BomRef(_bom_ref(crate.id)),
            dependencies=[Dependency(ref=BomRef(_bom_ref(dependency))) for dependency in crate.dependencies],
        )
        for crate in (inventory.root, *inventory.crates)
    ]


def _sbom_crate(crate: Crate) -> SbomCrate:
    return SbomCrate(
        name=crate.id.name,
        version=crate.id.version,
        scope=_scope(crate).value,
        purl=crate_purl(crate.id),
        sha256=crate.locked.sha256,
    )


def _deterministic_json(bom: Bom) -> bytes:
    """The JSON of `bom`, with a serial number that is a digest of the rest of the document."""
    bom.serial_number = _PLACEHOLDER_SERIAL
    digest = hashlib.sha256(_json(bom)).hexdigest()
    bom.serial_number = uuid.uuid5(_SERIAL_NAMESPACE, digest)
    return _json(bom)


def _json(bom: Bom) -> bytes:
    return (JsonV1Dot6(bom).output_as_string(indent=_JSON_INDENT) + "\n").encode("utf-8")
