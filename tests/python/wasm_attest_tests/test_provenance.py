from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from securesystemslib.dsse import Envelope

from wasm_attest.keys import SigningKey, load_signing_key
from wasm_attest.provenance import (
    NO_DIGEST_ANNOTATION,
    WASM_COMPONENT_BUILD_TYPE,
    Provenance,
    ProvenanceError,
    ResourceDescriptor,
    datetime_from_source_date_epoch,
    provenance_file_name,
    read_provenance,
    sign_provenance,
)

WASM = b"\0asm\x0d\0\x01\0component bytes"
LOCK = b"version = 4\n"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_key(tmp_path: Path, name: str, private_key) -> SigningKey:
    path = tmp_path / f"{name}.pem"
    path.write_bytes(private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return load_signing_key(path)


def provenance(**overrides) -> Provenance:
    epoch = datetime_from_source_date_epoch("1700000000")
    values = dict(
        subject_name="app.wasm",
        subject_sha256=sha(WASM),
        build_type=WASM_COMPONENT_BUILD_TYPE,
        external_parameters={"target": "testprojects/app:app", "features": ("default", "json"), "profile": "release"},
        internal_parameters={"triple": "wasm32-wasip2"},
        resolved_dependencies=[
            ResourceDescriptor("git+https://example.org/repo", {"gitCommit": COMMIT}, "source"),
            ResourceDescriptor("file:Cargo.lock", {"sha256": sha(LOCK)}, "Cargo.lock"),
            ResourceDescriptor("pkg:cargo/serde@1.0.152", {"sha256": "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"}, "serde"),
        ],
        builder_id="https://wasm-attest.dev/builders/pants/v1",
        builder_version={"wasm-attest": "0.1.0"},
        started_on=epoch,
        finished_on=epoch,
    )
    values.update(overrides)
    return Provenance(**values)  # type: ignore[arg-type]


def test_statement_is_slsa_provenance_v1_in_a_statement_v1() -> None:
    statement = provenance().statement()
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [{"name": "app.wasm", "digest": {"sha256": sha(WASM)}}]
    definition = statement["predicate"]["buildDefinition"]
    assert definition["buildType"] == "https://wasm-attest.dev/buildtypes/wasm-component/v1"
    assert definition["externalParameters"] == {"target": "testprojects/app:app", "features": ["default", "json"], "profile": "release"}
    assert definition["internalParameters"] == {"triple": "wasm32-wasip2"}
    assert definition["resolvedDependencies"][0] == {"uri": "git+https://example.org/repo", "digest": {"gitCommit": COMMIT}, "name": "source"}
    assert definition["resolvedDependencies"][2]["uri"] == "pkg:cargo/serde@1.0.152"
    assert statement["predicate"]["runDetails"] == {
        "builder": {"id": "https://wasm-attest.dev/builders/pants/v1", "version": {"wasm-attest": "0.1.0"}},
        "metadata": {"startedOn": "2023-11-14T22:13:20Z", "finishedOn": "2023-11-14T22:13:20Z"},
    }
    assert "internalParameters" not in provenance(internal_parameters=None).statement()["predicate"]["buildDefinition"]


def test_signed_provenance_is_one_dsse_json_line(tmp_path: Path) -> None:
    key = make_key(tmp_path, "f", ec.generate_private_key(ec.SECP256R1()))
    content = sign_provenance(provenance(), key.signer)
    assert content.endswith(b"\n") and content.count(b"\n") == 1
    document = json.loads(content)
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert json.loads(base64.b64decode(document["payload"])) == provenance().statement()
    ((envelope, statement),) = read_provenance(content)
    assert envelope.verify([key.public_key], 1) and statement["subject"][0]["name"] == "app.wasm"
    assert provenance_file_name("app") == "app.intoto.jsonl"


def test_same_inputs_give_the_same_payload(tmp_path: Path) -> None:
    assert provenance().payload() == provenance().payload()
    ecdsa = make_key(tmp_path, "ecdsa", ec.generate_private_key(ec.SECP256R1()))
    first, second = (Envelope.from_dict(json.loads(sign_provenance(provenance(), ecdsa.signer))) for _ in range(2))
    assert first.payload == second.payload == provenance().payload()
    ed = make_key(tmp_path, "ed", ed25519.Ed25519PrivateKey.generate())
    assert sign_provenance(provenance(), ed.signer) == sign_provenance(provenance(), ed.signer)
    assert provenance(subject_sha256=sha(b"other")).payload() != provenance().payload()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"subject_sha256": "abc"}, "is not a lowercase SHA-256"),
        ({"started_on": datetime(2024, 1, 1)}, "timezone-aware"),
        ({"finished_on": datetime(2000, 1, 1, tzinfo=timezone.utc)}, "finishedOn is before startedOn"),
        ({"external_parameters": {"jobs": 1.5}}, "not float"),
        ({"resolved_dependencies": [ResourceDescriptor("pkg:cargo/x@1", {"md5": "00"})]}, "use 'sha256' or 'gitCommit'"),
        ({"resolved_dependencies": [ResourceDescriptor("pkg:cargo/x@1", {"sha256": "Could not get crate checksum"})]}, "not a lowercase hex"),
        ({"resolved_dependencies": [ResourceDescriptor("pkg:cargo/x@1", {})]}, "has no digest"),
        ({"resolved_dependencies": [ResourceDescriptor("pkg:cargo/x@1", {}, annotations={"other": "x"})]}, "has no digest"),
        ({"resolved_dependencies": [ResourceDescriptor("git+source-tree", {"gitCommit": COMMIT})]}, "not an absolute URI"),
        ({"resolved_dependencies": [ResourceDescriptor("testprojects/hello/Cargo.lock", {"sha256": sha(LOCK)})]}, "not an absolute URI"),
        ({"resolved_dependencies": [ResourceDescriptor("file:a b", {"sha256": sha(LOCK)})]}, "not an absolute URI"),
    ],
)
def test_invalid_inputs_are_rejected(overrides: dict, message: str) -> None:
    with pytest.raises(ProvenanceError, match=message):
        provenance(**overrides).payload()


def test_source_date_epoch() -> None:
    assert datetime_from_source_date_epoch("0") == datetime(1970, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ProvenanceError, match="whole number of seconds"):
        datetime_from_source_date_epoch("yesterday")


def test_reading_rejects_what_is_not_a_statement() -> None:
    with pytest.raises(ProvenanceError, match="line 1 is not a DSSE envelope"):
        read_provenance(b"{not json\n", origin="app.intoto.jsonl")
    envelope = Envelope(payload=b'{"_type": "something-else"}', payload_type="application/vnd.in-toto+json", signatures={})
    with pytest.raises(ProvenanceError, match="not an in-toto Statement v1"):
        read_provenance(json.dumps(envelope.to_dict()).encode())
    with pytest.raises(ProvenanceError, match="holds no attestation"):
        read_provenance(b"\n")


def test_a_dependency_without_a_digest_is_allowed_when_it_says_why() -> None:
    unknown = ResourceDescriptor("pkg:cargo/syn@1.0.107", {}, "syn", {NO_DIGEST_ANNOTATION: "Cargo.lock has no SHA-256"})
    listed = provenance(resolved_dependencies=[unknown]).statement()["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert listed == [{"uri": "pkg:cargo/syn@1.0.107", "name": "syn", "annotations": {NO_DIGEST_ANNOTATION: "Cargo.lock has no SHA-256"}}]
