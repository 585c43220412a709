"""The OCI image layout beside a bundle: its shape, its determinism, and verification catching each attack on it."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from wasm_attest_tests.bundles import Keys, build_bundle, make_keys, write_public_key

from wasm_attest.component_pipeline import ComponentFiles
from wasm_attest.oci.artifact import EMPTY_CONFIG, OCI_MANIFEST, WASM_CONFIG, WASM_LAYER, component_manifest, sha256_digest
from wasm_attest.oci.image_layout import blob_path, bundle_layout_files
from wasm_attest.oci.referrers import EVIDENCE_ARTIFACT_TYPE, attestation_referrer, oci_statement
from wasm_attest.sigstore.bundles import BUNDLE_MEDIA_TYPE, CYCLONEDX_PREDICATE_TYPE
from wasm_attest.verification import OciLayoutVerificationError, verify_attestations


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    folder = tmp_path / "keys"
    folder.mkdir()
    return make_keys(folder)


def add_layout(dist: Path, keys: Keys, *, sbom_signer=None) -> dict[str, bytes]:
    """Writes `oci/` as `pants package` does, from the bundle's files; returns what it wrote."""
    bundle = {path.name: path.read_bytes() for path in dist.iterdir() if path.is_file()}
    files = bundle_layout_files(
        ComponentFiles("app.wasm"),
        bundle,
        sbom_signer=(sbom_signer or keys.functionary).signer,
        provenance_signer=keys.functionary.signer,
    )
    for name, content in files.items():
        (dist / name).parent.mkdir(parents=True, exist_ok=True)
        (dist / name).write_bytes(content)
    return files


def verify(dist: Path, keys: Keys, tmp_path: Path):
    return verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key])


def index(dist: Path) -> dict:
    return json.loads((dist / "oci/index.json").read_bytes())


def manifest(dist: Path, digest: str) -> dict:
    return json.loads((dist / "oci" / blob_path(digest)).read_bytes())


def test_layout_has_the_wasm_artifact_shape_and_verifies(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    entries = index(dist)["manifests"]
    component = (dist / "app.wasm").read_bytes()
    artifact = manifest(dist, entries[0]["digest"])
    assert artifact["config"]["mediaType"] == WASM_CONFIG
    config = json.loads((dist / "oci" / blob_path(artifact["config"]["digest"])).read_bytes())
    assert config["architecture"] == "wasm" and config["os"] == "wasip2"
    assert config["layerDigests"] == [sha256_digest(component)]
    assert artifact["layers"] == [
        {"mediaType": WASM_LAYER, "digest": sha256_digest(component), "size": len(component), "annotations": {"org.opencontainers.image.title": "app.wasm"}}
    ]
    assert (dist / "oci" / blob_path(sha256_digest(component))).read_bytes() == component
    kinds = sorted(entry.get("artifactType", "") for entry in entries[1:])
    assert kinds == sorted([BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, EVIDENCE_ARTIFACT_TYPE])
    for entry in entries[1:]:
        referrer = manifest(dist, entry["digest"])
        assert referrer["subject"] == {"mediaType": OCI_MANIFEST, "digest": entries[0]["digest"], "size": entries[0]["size"]}
        assert referrer["config"]["mediaType"] == EMPTY_CONFIG
    report = verify(dist, keys, tmp_path)
    assert any(item.item == "OCI layout oci/" for item in report.items)


def test_statements_name_the_component_and_the_manifest(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    entries = index(dist)["manifests"]
    for entry in entries[1:]:
        referrer = manifest(dist, entry["digest"])
        if referrer["artifactType"] != BUNDLE_MEDIA_TYPE:
            continue
        bundle = json.loads((dist / "oci" / blob_path(referrer["layers"][0]["digest"])).read_bytes())
        import base64

        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        digests = [subject["digest"]["sha256"] for subject in statement["subject"]]
        assert digests == [hashlib.sha256((dist / "app.wasm").read_bytes()).hexdigest(), entries[0]["digest"].split(":")[1]]
        assert referrer["annotations"]["dev.sigstore.bundle.predicateType"] == statement["predicateType"]


def test_the_artifact_manifest_is_the_same_for_the_same_component(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    component = (dist / "app.wasm").read_bytes()
    assert component_manifest("app.wasm", component).content == component_manifest("app.wasm", component).content
    assert b"created" not in component_manifest("app.wasm", component).content


def test_a_replaced_component_blob_fails(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    blob = dist / "oci" / blob_path(sha256_digest((dist / "app.wasm").read_bytes()))
    blob.write_bytes(blob.read_bytes() + b"\0")
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check == "blob digest" and "replaced" in str(raised.value)


def test_a_manifest_of_another_component_fails_naming_the_layer(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    other = build_bundle(tmp_path / "other", keys, sources={**__import__("wasm_attest_tests.bundles", fromlist=["SOURCES"]).SOURCES, "src/lib.rs": b"// another build\n"})
    add_layout(other, keys)
    shutil.copytree(other / "oci", dist / "oci")
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check == "OCI manifest describes the attested component"
    assert sha256_digest((other / "app.wasm").read_bytes()) in str(raised.value)


def test_an_sbom_referrer_signed_by_another_key_fails(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys, sbom_signer=keys.intruder)
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check == "referrer signature" and "SBOM" in str(raised.value)


def test_an_sbom_referrer_about_the_component_only_fails(tmp_path: Path, keys: Keys) -> None:
    """An attestation that does not name the manifest is not what cosign checks: refused."""
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    component = (dist / "app.wasm").read_bytes()
    artifact = component_manifest("app.wasm", component)
    statement = oci_statement("app.wasm", hashlib.sha256(component).hexdigest(), sha256_digest(b"other"), CYCLONEDX_PREDICATE_TYPE, json.loads((dist / "app.cdx.json").read_bytes()))
    forged = attestation_referrer(statement, keys.functionary.signer, artifact, kind="sbom")
    _replace_sbom_referrer(dist, forged)
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check == "referrer attests this artifact"


def test_a_missing_referrer_and_a_stray_blob_fail(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    stray = dist / "oci" / blob_path(sha256_digest(b"stray"))
    stray.write_bytes(b"stray")
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check == "no unreferenced blob"
    stray.unlink()
    document = index(dist)
    document["manifests"] = [entry for entry in document["manifests"] if entry.get("artifactType") != EVIDENCE_ARTIFACT_TYPE]
    (dist / "oci/index.json").write_text(json.dumps(document))
    with pytest.raises(OciLayoutVerificationError) as raised:
        verify(dist, keys, tmp_path)
    assert raised.value.check in ("referrers present", "no unreferenced blob")


def test_evidence_that_differs_from_the_bundle_fails(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    (dist / "extra.pub").write_bytes(b"")  # not in the evidence referrer; also unaccounted, which is checked first
    with pytest.raises(Exception):
        verify(dist, keys, tmp_path)


def _replace_sbom_referrer(dist: Path, forged) -> None:
    document = index(dist)
    for entry in document["manifests"]:
        if entry.get("artifactType") != BUNDLE_MEDIA_TYPE:
            continue
        old = manifest(dist, entry["digest"])
        if old["annotations"]["dev.sigstore.bundle.predicateType"] != CYCLONEDX_PREDICATE_TYPE:
            continue
        for digest in (entry["digest"], old["layers"][0]["digest"]):
            (dist / "oci" / blob_path(digest)).unlink()
        entry.update(forged.descriptor(artifactType=BUNDLE_MEDIA_TYPE))
    (dist / "oci" / blob_path(forged.digest)).write_bytes(forged.content)
    for digest, content in forged.blobs.items():
        (dist / "oci" / blob_path(digest)).write_bytes(content)
    (dist / "oci/index.json").write_text(json.dumps(document))


def test_a_layout_folder_is_rebuilt_into_a_bundle_that_verifies(tmp_path: Path, keys: Keys) -> None:
    from wasm_attest.oci.fetch import LocalLayout, fetch_bundle

    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    fetched_folder = tmp_path / "fetched"
    fetched_folder.mkdir()
    fetched = fetch_bundle(LocalLayout(dist / "oci"), "latest", fetched_folder)
    assert fetched.digest == index(dist)["manifests"][0]["digest"] and fetched.tag == "latest"
    originals = {path.relative_to(dist).as_posix(): path.read_bytes() for path in dist.rglob("*") if path.is_file() and "oci" not in path.parts}
    rebuilt = {path.relative_to(fetched_folder).as_posix(): path.read_bytes() for path in fetched_folder.rglob("*") if path.is_file() and "oci" not in path.parts}
    assert rebuilt == originals
    verify_attestations(fetched_folder, trusted_owner_keys=[keys.owner.public_key])


def test_an_artifact_without_its_referrers_is_refused_when_fetched(tmp_path: Path, keys: Keys) -> None:
    from wasm_attest.oci.fetch import FetchError, LocalLayout, fetch_bundle

    dist = build_bundle(tmp_path, keys)
    add_layout(dist, keys)
    document = index(dist)
    document["manifests"] = document["manifests"][:1]
    (dist / "oci/index.json").write_text(json.dumps(document))
    (tmp_path / "fetched").mkdir()
    with pytest.raises(FetchError, match="has no in-toto-evidence, provenance, sbom referrer from wasm-attest"):
        fetch_bundle(LocalLayout(dist / "oci"), "latest", tmp_path / "fetched")
