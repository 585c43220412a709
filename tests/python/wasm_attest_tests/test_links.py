from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from in_toto.models.metadata import Envelope, Metadata

from wasm_attest.keys import SigningKey, key_dict, load_signing_key
from wasm_attest.links import LinkError, build_link, link_file_name, link_payload, sign_link


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_key(tmp_path: Path, name: str, private_key) -> SigningKey:
    path = tmp_path / f"{name}.pem"
    path.write_bytes(private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return load_signing_key(path)


def build_step_link():
    return build_link(
        step="build",
        command=["cargo", "build", "--release", "--locked", "--offline", "--target", "wasm32-wasip2"],
        materials={"src/lib.rs": sha(b"fn main() {}"), "Cargo.lock": sha(b"lock"), "vendor/a/lib.rs": sha(b"a")},
        products={"app.wasm": sha(b"\0asm")},
        return_value=0,
        stdout_sha256=sha(b"stdout"),
        stderr_sha256=sha(b"   Compiling app v0.1.0\n"),
        environment={"toolchain": "rust-1.96.0", "sandbox": "pants"},
    )


def test_link_records_what_it_is_given(tmp_path: Path) -> None:
    link = build_step_link()
    assert link.name == "build"
    assert link.materials["Cargo.lock"] == {"sha256": sha(b"lock")}
    assert link.products == {"app.wasm": {"sha256": sha(b"\0asm")}}
    assert link.byproducts == {"return-value": 0, "stdout-sha256": sha(b"stdout"), "stderr-sha256": sha(b"   Compiling app v0.1.0\n")}
    assert link.environment == {"sandbox": "pants", "toolchain": "rust-1.96.0"}


def test_digests_are_taken_as_given_not_recomputed() -> None:
    link = build_link(step="vendor", command=["cargo", "vendor"], materials={}, products={"vendor/x": "ab" * 32})
    assert link.products == {"vendor/x": {"sha256": "ab" * 32}}


def test_signed_link_is_a_dsse_envelope_named_for_in_toto_verify(tmp_path: Path) -> None:
    key = make_key(tmp_path, "functionary", ec.generate_private_key(ec.SECP256R1()))
    signed = sign_link(build_step_link(), key.signer)
    assert signed.file_name == f"build.{key.keyid[:8]}.link" == link_file_name("build", key.keyid)
    assert signed.keyid == key.keyid
    document = json.loads(signed.content)
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert [signature["keyid"] for signature in document["signatures"]] == [key.keyid]
    payload = json.loads(base64.b64decode(document["payload"]))
    assert payload["_type"] == "link" and payload["name"] == "build"
    metadata = Metadata.from_dict(document)
    assert isinstance(metadata, Envelope)
    metadata.verify_signature(key_dict(key.public_key))
    assert metadata.get_payload().products == {"app.wasm": {"sha256": sha(b"\0asm")}}


def test_same_inputs_give_the_same_payload(tmp_path: Path) -> None:
    ecdsa = make_key(tmp_path, "ecdsa", ec.generate_private_key(ec.SECP256R1()))
    first, second = sign_link(build_step_link(), ecdsa.signer), sign_link(build_step_link(), ecdsa.signer)
    assert link_payload(first.content) == link_payload(second.content)
    ed = make_key(tmp_path, "ed", ed25519.Ed25519PrivateKey.generate())
    assert sign_link(build_step_link(), ed.signer).content == sign_link(build_step_link(), ed.signer).content


@pytest.mark.parametrize(
    "materials, message",
    [
        ({"src/lib.rs": "ABC"}, r"material src/lib.rs is 'ABC', not a lowercase SHA-256"),
        ({"src/lib.rs": "AB" * 32}, "not a lowercase SHA-256"),
        ({"/etc/passwd": "ab" * 32}, "must be relative POSIX paths"),
        ({"src/../../x": "ab" * 32}, r"must be normalised \(no '.', '..' or '//'\)"),
        ({"./src/lib.rs": "ab" * 32}, "must be normalised"),
    ],
)
def test_bad_artifacts_are_rejected(materials: dict, message: str) -> None:
    with pytest.raises(LinkError, match=rf"Step 'build'.*{message}"):
        build_link(step="build", command=["cargo"], materials=materials, products={})


def test_bad_step_records_are_rejected() -> None:
    with pytest.raises(LinkError, match="cannot name a link file"):
        build_link(step="../build", command=["cargo"], materials={}, products={})
    with pytest.raises(LinkError, match="has no command"):
        build_link(step="build", command=[], materials={}, products={})
    with pytest.raises(LinkError, match="digest of its stdout"):
        build_link(step="build", command=["cargo"], materials={}, products={}, stdout_sha256="nope")
    with pytest.raises(LinkError, match="non-string environment entry"):
        build_link(step="build", command=["cargo"], materials={}, products={}, environment={"jobs": 4})  # type: ignore[dict-item]
