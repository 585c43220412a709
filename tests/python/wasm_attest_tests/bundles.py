"""A realistic attestation bundle, made by a fake five-step pipeline over real files, for verification tests.

The builder plays the Pants plugin: it writes real sources, "vendors",
"builds" (a component binary with one custom section standing in for code),
embeds the real `.dep-v0` and metadata sections with the core library, makes a
CycloneDX SBOM, assembles `dist/`, hashes the files as Pants'
digests would, and signs links, layout and provenance with real keys (an
encrypted ECDSA P-256 owner key, Ed25519 functionary keys). `between` lets a
test change files between steps, the way an attacker on the build machine
would, while every functionary still signs what it saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat
from in_toto.models.link import Link
from in_toto.models.metadata import Metadata

from wasm_attest.capabilities.policy import CapabilityPolicy
from wasm_attest.component_metadata import ComponentMetadata
from wasm_attest.dep_v0 import AuditablePackage, DependencyList
from wasm_attest.embedding import embed_attestable_sections
from wasm_attest.isolation import BuildIsolation, bubblewrap_isolation
from wasm_attest.keys import SigningKey, load_signing_key, public_key_pem
from wasm_attest.layout import ArtifactMatch, StepPlan, derive_layout, layout_files, sign_layout
from wasm_attest.links import build_link, link_file_name, sign_link
from wasm_attest.sigstore.bundles import bundle_from_envelope, cyclonedx_statement, sign_statement_bundle
from wasm_attest.wasm_sections import with_custom_sections
from wasm_attest.provenance import (
    WASM_COMPONENT_BUILD_TYPE,
    Provenance,
    ResourceDescriptor,
    datetime_from_source_date_epoch,
    sign_provenance,
)

EXPIRES = datetime(2099, 1, 1, tzinfo=timezone.utc)
SOURCE_DATE_EPOCH = "1700000000"
OWNER_PASSWORD = "owner-password-for-tests"
OWNER_PASSWORD_VAR = "WASM_ATTEST_TEST_OWNER_PASSWORD"
SERDE_SHA256 = "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"
SOURCES = {
    "Cargo.toml": b'[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nserde = "1"\n',
    "Cargo.lock": (
        b'version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = ["serde"]\n\n'
        b'[[package]]\nname = "serde"\nversion = "1.0.152"\n'
    ),
    "src/lib.rs": b"pub fn add(a: u32, b: u32) -> u32 { a + b }\n",
}
CRATE = {
    "vendor/serde-1.0.152/src/lib.rs": b"//! serde\n",
    "vendor/serde-1.0.152/.cargo-checksum.json": b'{"files":{},"package":"bb7d"}',
}
FINAL_PRODUCTS = ("app.wasm", "app.cdx.json", "Cargo.lock")
BUILD_COMMAND = ("cargo", "build", "--release", "--locked", "--offline", "--target", "wasm32-wasip2")
EMBED_COMMAND = ("wasm-attest", "embed")
COMPONENT_HEADER = b"\0asm\x0d\x00\x01\x00"
LINKED = DependencyList(
    packages=(
        AuditablePackage(name="app", version="0.1.0", source="local", dependencies=(1,), root=True),
        AuditablePackage(name="serde", version="1.0.152", source="crates.io"),
    ),
    format=1,
)
"""What the fake build linked: the `.dep-v0` the embed step writes, agreeing with `sbom_for` and the Cargo.lock of SOURCES."""


@dataclass(frozen=True)
class Keys:
    """The keys of the tests, and the folder holding their PEM files (`owner.pem` is encrypted with OWNER_PASSWORD)."""

    folder: Path
    owner: SigningKey
    functionary: SigningKey
    intruder: SigningKey


def make_keys(folder: Path) -> Keys:
    """Writes `owner.pem` (ECDSA P-256, encrypted), `functionary.pem` and `intruder.pem` (Ed25519) and loads them."""
    owner_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(OWNER_PASSWORD.encode())
    )
    (folder / "owner.pem").write_bytes(owner_pem)
    for name in ("functionary", "intruder"):
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        (folder / f"{name}.pem").write_bytes(pem)
    return Keys(
        folder=folder,
        owner=load_signing_key(folder / "owner.pem", password_env_var=OWNER_PASSWORD_VAR, environ={OWNER_PASSWORD_VAR: OWNER_PASSWORD}),
        functionary=load_signing_key(folder / "functionary.pem"),
        intruder=load_signing_key(folder / "intruder.pem"),
    )


def write_public_key(path: Path, key: SigningKey) -> Path:
    """Writes `key`'s public half as PEM to `path` (e.g. the trusted owner key, outside the bundle)."""
    path.write_bytes(public_key_pem(key.public_key))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests(root: Path, paths) -> dict[str, str]:
    """What Pants' digests hold for these files (the plugin never re-hashes; the test has no Pants)."""
    return {path: sha((root / path).read_bytes()) for path in paths}


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)


def step_plans(functionary: SigningKey) -> list[StepPlan]:
    """The layout's steps, as `component_pipeline.step_plans` derives them for a real component."""
    keys = (functionary.public_key,)
    from_vendor = (ArtifactMatch("Cargo.toml", "vendor", "materials"), ArtifactMatch("Cargo.lock", "vendor", "materials"))
    final = (ArtifactMatch("app.wasm", "embed"), ArtifactMatch("app.cdx.json", "sbom"), ArtifactMatch("Cargo.lock", "vendor", "materials"))
    return [
        StepPlan("vendor", ("cargo", "vendor", "--locked"), keys, source_inputs=("Cargo.toml", "Cargo.lock"), creates=("vendor/*",)),
        StepPlan(
            "build",
            BUILD_COMMAND,
            keys,
            consumes=(ArtifactMatch("vendor/*", "vendor"),) + from_vendor,
            source_inputs=("src/*",),
            creates=("app.wasm",),
        ),
        StepPlan(
            "embed",
            EMBED_COMMAND,
            keys,
            consumes=(ArtifactMatch("Cargo.lock", "vendor", "materials"), ArtifactMatch("app.wasm", "build")),
            modifies=("app.wasm",),
        ),
        StepPlan(
            "sbom",
            ("wasm-attest", "sbom"),
            keys,
            consumes=(ArtifactMatch("Cargo.lock", "vendor", "materials"), ArtifactMatch("app.wasm", "embed")),
            creates=("app.cdx.json",),
        ),
        StepPlan("package", ("wasm-attest", "package"), keys, consumes=final, passes_through=final),
    ]


def sbom_for(wasm: bytes) -> bytes:
    """A CycloneDX 1.6 SBOM of the shape `wasm_attest.sbom` writes, describing the component `wasm`."""
    app = "in-repo:cargo/app@0.1.0"
    serde = "pkg:cargo/serde@1.0.152"
    document = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {
            "timestamp": "2023-11-14T22:13:20+00:00",
            "component": {
                "bom-ref": app,
                "type": "application",
                "name": "app",
                "version": "0.1.0",
                "hashes": [{"alg": "SHA-256", "content": sha(wasm)}],
                "properties": [{"name": "wasm-attest:source", "value": "in-repo"}],
            },
        },
        "components": [
            {
                "bom-ref": serde,
                "type": "library",
                "name": "serde",
                "version": "1.0.152",
                "purl": serde,
                "scope": "required",
                "hashes": [{"alg": "SHA-256", "content": SERDE_SHA256}],
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
            }
        ],
        "dependencies": [{"ref": app, "dependsOn": [serde]}, {"ref": serde}],
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def build_bundle(
    root: Path,
    keys: Keys,
    *,
    expires: datetime = EXPIRES,
    sources: Mapping[str, bytes] = SOURCES,
    between: Mapping[str, Mapping[str, bytes]] | None = None,
    make_sbom: Callable[[bytes], bytes] = sbom_for,
    linked: DependencyList | None = LINKED,
    component: bytes | None = None,
    policy: CapabilityPolicy | None = None,
) -> Path:
    """Runs the fake pipeline in `root` and returns `root/dist` with the component and its attestations.

    `between[step]` are files written into the work folder just before `step`
    runs (an attacker on the build machine); each step then records what it
    finds. `make_sbom` is the sbom step (a faulty one describes another
    component); `linked` is the dependency list the embed step writes (a faulty
    one disagrees with the SBOM; with None it writes only a metadata section).
    `component` is what "cargo build" writes instead of the stand-in binary (a
    real component, for its imports and exports); `policy` is the capability
    policy the owner signs into the layout's readme.
    """
    between = between or {}
    work = root / "work"
    write_files(work, sources)
    signed = []

    write_files(work, CRATE)  # "cargo vendor"
    vendor_materials = digests(work, ["Cargo.toml", "Cargo.lock"])
    signed.append(build_link(step="vendor", command=["cargo", "vendor", "--locked"], materials=vendor_materials, products=digests(work, CRATE)))

    write_files(work, between.get("build", {}))
    build_inputs = sorted(sources) + sorted(CRATE)
    code = hashlib.sha256(b"".join((work / path).read_bytes() for path in build_inputs)).digest()
    wasm = COMPONENT_HEADER + b"\x00" + bytes([len(code) + 5]) + b"\x04code" + code  # "cargo build": one custom section
    if component is not None:
        wasm = component
    write_files(work, {"app.wasm": wasm})
    signed.append(
        build_link(
            step="build",
            command=list(BUILD_COMMAND),
            materials=digests(work, build_inputs),
            products=digests(work, ["app.wasm"]),
            stderr_sha256=sha(b"   Compiling app v0.1.0\n"),
            environment={"toolchain": "rust-1.96.0"},
        )
    )

    write_files(work, between.get("embed", {}))
    built = digests(work, ["Cargo.lock", "app.wasm"])
    if linked is None:
        wasm = with_custom_sections(wasm, [("version", b"0.1.0")])
    else:
        wasm = embed_attestable_sections(wasm, linked, ComponentMetadata(name="app", version="0.1.0"))
    write_files(work, {"app.wasm": wasm})
    signed.append(build_link(step="embed", command=list(EMBED_COMMAND), materials=built, products=digests(work, ["app.wasm"])))

    write_files(work, between.get("sbom", {}))
    write_files(work, {"app.cdx.json": make_sbom(wasm)})  # the SBOM, in-process
    signed.append(
        build_link(step="sbom", command=["wasm-attest", "sbom"], materials=digests(work, ["Cargo.lock", "app.wasm"]), products=digests(work, ["app.cdx.json"]))
    )

    write_files(work, between.get("package", {}))
    dist = root / "dist"
    for path in FINAL_PRODUCTS:  # "package"
        write_files(dist, {path: (work / path).read_bytes()})
    signed.append(
        build_link(step="package", command=["wasm-attest", "package"], materials=digests(work, FINAL_PRODUCTS), products=digests(dist, FINAL_PRODUCTS))
    )

    for link in signed:
        envelope = sign_link(link, keys.functionary.signer)
        (dist / envelope.file_name).write_bytes(envelope.content)
    layout = derive_layout(
        step_plans(keys.functionary),
        final_products=FINAL_PRODUCTS,
        expires=expires,
        readme="" if policy is None else policy.readme_line(),
    )
    for name, content in layout_files(layout, keys.owner.signer).items():
        (dist / name).write_bytes(content)
    provenance = sign_provenance(provenance_for((dist / "app.wasm").read_bytes()), keys.functionary.signer)
    (dist / "app.intoto.jsonl").write_bytes(provenance)
    (dist / "app.provenance.sigstore.json").write_bytes(bundle_from_envelope(provenance, hint=keys.functionary.keyid))
    try:  # a faulty sbom step (`make_sbom`) may write no JSON at all; then there is nothing to attest
        statement = cyclonedx_statement("app.wasm", sha((dist / "app.wasm").read_bytes()), (dist / "app.cdx.json").read_bytes())
    except ValueError:
        return dist
    (dist / "app.sbom.sigstore.json").write_bytes(sign_statement_bundle(statement, keys.functionary.signer))
    return dist


ISOLATION = bubblewrap_isolation("0.8.0-2+deb12u1", "85580dd52ed366ece8844e90fa75ac7c4de8802963071344e123221fb9f6f11e")
"""What the plugin records for a build in its default sandbox."""


def provenance_for(wasm: bytes, isolation: BuildIsolation | None = ISOLATION) -> Provenance:
    """The provenance of the fake build; `isolation=None` leaves the isolation record out, as older builds did."""
    moment = datetime_from_source_date_epoch(SOURCE_DATE_EPOCH)
    return Provenance(
        subject_name="app.wasm",
        subject_sha256=sha(wasm),
        build_type=WASM_COMPONENT_BUILD_TYPE,
        external_parameters={"target": "testprojects/app:app", "features": [], "profile": "release"},
        resolved_dependencies=[
            ResourceDescriptor("file:Cargo.lock", {"sha256": sha(SOURCES["Cargo.lock"])}, "Cargo.lock"),
            ResourceDescriptor("pkg:cargo/serde@1.0.152", {"sha256": SERDE_SHA256}, "serde"),
        ],
        builder_id="https://wasm-attest.dev/builders/pants/v1",
        started_on=moment,
        finished_on=moment,
        internal_parameters={"isolation": isolation.to_dict()} if isolation is not None else None,
    )


def link_path(dist: Path, step: str, key: SigningKey) -> Path:
    return dist / link_file_name(step, key.keyid)


def rewrite_link(dist: Path, step: str, keys: Keys, change: Callable[[Link], None], *, signer: SigningKey | None = None) -> Path:
    """Changes the step's link and signs it again (by the functionary unless `signer`): a functionary gone rogue."""
    path = link_path(dist, step, keys.functionary)
    link = Metadata.load(str(path)).get_payload()
    change(link)
    path.unlink()
    signed = sign_link(link, (signer or keys.functionary).signer)
    (dist / signed.file_name).write_bytes(signed.content)
    return dist / signed.file_name


def rewrite_layout(dist: Path, signer: SigningKey, change: Callable[[object], None] = lambda layout: None) -> None:
    """Changes `root.layout` and signs it again with `signer` (the owner re-issuing it, or someone who is not the owner)."""
    layout = Metadata.load(str(dist / "root.layout")).get_payload()
    change(layout)
    (dist / "root.layout").write_bytes(sign_layout(layout, signer.signer))


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every entry under `folder` with its size, mtime and (if small) bytes, to show that nothing was written.

    Large files (the tests' sparse gigabyte) are compared by size and mtime only, so the check stays fast.
    """
    entries = {}
    for path in sorted(folder.rglob("*")):
        details = path.lstat()
        small = path.is_file() and not path.is_symlink() and details.st_size <= 1 << 20
        entries[path.relative_to(folder).as_posix()] = (details.st_size, details.st_mtime_ns, path.read_bytes() if small else None)
    return entries
