from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from in_toto.models.metadata import Envelope, Metadata
from securesystemslib.signer import Signature

from wasm_attest.keys import SigningKey, key_dict, legacy_keyid, load_public_key, load_signing_key, public_key_from_pem
from wasm_attest.layout import (
    ArtifactMatch,
    LayoutError,
    StepPlan,
    derive_layout,
    layout_files,
    rules_by_step,
    sign_layout,
    write_layout,
)

EXPIRES = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))


def make_key(tmp_path: Path, name: str, private_key) -> SigningKey:
    path = tmp_path / f"{name}.pem"
    path.write_bytes(private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return load_signing_key(path)


def four_steps(functionary: SigningKey) -> list[StepPlan]:
    keys = (functionary.public_key,)
    return [
        StepPlan("vendor", ("cargo", "vendor", "--locked"), keys, source_inputs=("Cargo.toml", "Cargo.lock"), creates=("vendor/*",)),
        StepPlan(
            "build",
            ("cargo", "build", "--release"),
            keys,
            consumes=(
                ArtifactMatch("vendor/*", "vendor"),
                ArtifactMatch("Cargo.toml", "vendor", "materials"),
                ArtifactMatch("Cargo.lock", "vendor", "materials"),
            ),
            source_inputs=("src/*",),
            creates=("app.wasm",),
        ),
        StepPlan(
            "sbom",
            ("wasm-attest", "sbom"),
            keys,
            consumes=(ArtifactMatch("Cargo.lock", "vendor", "materials"), ArtifactMatch("app.wasm", "build")),
            creates=("app.cdx.json",),
        ),
        StepPlan(
            "package",
            ("wasm-attest", "package"),
            keys,
            consumes=(ArtifactMatch("app.wasm", "build"), ArtifactMatch("app.cdx.json", "sbom")),
            passes_through=(ArtifactMatch("app.wasm", "build"), ArtifactMatch("app.cdx.json", "sbom")),
        ),
    ]


def test_rules_chain_every_step_to_earlier_ones_and_end_in_disallow(tmp_path: Path) -> None:
    functionary = make_key(tmp_path, "f", ed25519.Ed25519PrivateKey.generate())
    layout = derive_layout(four_steps(functionary), final_products=("app.wasm", "app.cdx.json"), expires=EXPIRES)
    assert rules_by_step(layout) == {
        "vendor": {
            "materials": ["ALLOW Cargo.toml", "ALLOW Cargo.lock", "DISALLOW *"],
            "products": ["CREATE vendor/*", "DISALLOW *"],
        },
        "build": {
            "materials": [
                "MATCH vendor/* WITH PRODUCTS FROM vendor",
                "MATCH Cargo.toml WITH MATERIALS FROM vendor",
                "MATCH Cargo.lock WITH MATERIALS FROM vendor",
                "ALLOW src/*",
                "DISALLOW *",
            ],
            "products": ["CREATE app.wasm", "DISALLOW *"],
        },
        "sbom": {
            "materials": ["MATCH Cargo.lock WITH MATERIALS FROM vendor", "MATCH app.wasm WITH PRODUCTS FROM build", "DISALLOW *"],
            "products": ["CREATE app.cdx.json", "DISALLOW *"],
        },
        "package": {
            "materials": ["MATCH app.wasm WITH PRODUCTS FROM build", "MATCH app.cdx.json WITH PRODUCTS FROM sbom", "DISALLOW *"],
            "products": ["MATCH app.wasm WITH PRODUCTS FROM build", "MATCH app.cdx.json WITH PRODUCTS FROM sbom", "DISALLOW *"],
        },
        "final-products-on-disk": {
            "materials": [
                "REQUIRE app.wasm",
                "REQUIRE app.cdx.json",
                "MATCH app.wasm WITH PRODUCTS FROM package",
                "MATCH app.cdx.json WITH PRODUCTS FROM package",
                "ALLOW root.layout",
                "ALLOW *.link",
                "ALLOW *.pub",
                "ALLOW *.intoto.jsonl",
                "ALLOW *.sigstore.json",
                "ALLOW *.vulns.dsse.json",
                "ALLOW oci/*",
                "ALLOW oci/blobs/sha256/*",
                "DISALLOW *",
            ],
            "products": ["ALLOW *"],
        },
    }
    assert [step.name for step in layout.steps] == ["vendor", "build", "sbom", "package"]
    assert all(step.pubkeys == [functionary.keyid] and step.threshold == 1 for step in layout.steps)
    assert layout.steps[1].expected_command == ["cargo", "build", "--release"]
    assert layout.keys == {functionary.keyid: key_dict(functionary.public_key)}
    (inspection,) = layout.inspect
    assert inspection.run == ["true"]
    assert layout.expires == "2031-05-06T05:08:09Z"


def test_prefixes_and_thresholds(tmp_path: Path) -> None:
    alice = make_key(tmp_path, "alice", ed25519.Ed25519PrivateKey.generate())
    bob = make_key(tmp_path, "bob", ec.generate_private_key(ec.SECP256R1()))
    steps = [
        StepPlan("build", ("cargo", "build"), (alice.public_key, bob.public_key), threshold=2, creates=("target/*",)),
        StepPlan(
            "package",
            ("wasm-attest", "package"),
            (alice.public_key,),
            consumes=(ArtifactMatch("*.wasm", "build", prefix="dist", from_prefix="target/wasm32-wasip2/release"),),
            modifies=("dist/*.wasm",),
        ),
    ]
    layout = derive_layout(steps, final_products=("dist/app.wasm",), expires=EXPIRES, inspect_final_products=False)
    assert layout.inspect == []
    assert layout.steps[0].threshold == 2
    assert sorted(layout.steps[0].pubkeys) == sorted([alice.keyid, bob.keyid])
    assert sorted(layout.keys) == sorted([alice.keyid, bob.keyid])
    assert rules_by_step(layout)["package"] == {
        "materials": ["MATCH *.wasm IN dist WITH PRODUCTS IN target/wasm32-wasip2/release FROM build", "DISALLOW *"],
        "products": ["MODIFY dist/*.wasm", "DISALLOW *"],
    }


def test_root_layout_is_signed_by_the_owner_and_public_keys_are_written(tmp_path: Path) -> None:
    owner = make_key(tmp_path, "owner", ec.generate_private_key(ec.SECP256R1()))
    functionary = make_key(tmp_path, "f", ed25519.Ed25519PrivateKey.generate())
    layout = derive_layout(four_steps(functionary), final_products=("app.wasm",), expires=EXPIRES)
    out = tmp_path / "dist"
    out.mkdir()
    path = write_layout(out, layout, owner.signer)
    assert path == out / "root.layout"
    assert sorted(p.name for p in out.iterdir()) == sorted(["root.layout", f"{functionary.keyid}.pub"])
    metadata = Metadata.load(str(path))
    assert isinstance(metadata, Envelope)
    metadata.verify_signature(key_dict(owner.public_key))
    assert metadata.get_payload().readme == ""
    assert json.loads(path.read_bytes())["payloadType"] == "application/vnd.in-toto+json"
    assert load_public_key(out / f"{functionary.keyid}.pub").keyid == functionary.keyid
    assert f"{owner.keyid}.pub" not in layout_files(layout, owner.signer)


def test_layout_payload_is_deterministic(tmp_path: Path) -> None:
    owner = make_key(tmp_path, "owner", ed25519.Ed25519PrivateKey.generate())
    functionary = make_key(tmp_path, "f", ed25519.Ed25519PrivateKey.generate())
    first = layout_files(derive_layout(four_steps(functionary), final_products=("app.wasm",), expires=EXPIRES), owner.signer)
    second = layout_files(derive_layout(four_steps(functionary), final_products=("app.wasm",), expires=EXPIRES), owner.signer)
    assert first == second


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda steps: steps[:2][::-1], "Step 'build' takes 'vendor/\\*' from step 'vendor', which does not run before it"),
        (lambda steps: steps + [steps[0]], "Step name 'vendor' is used twice"),
        (lambda steps: [StepPlan("x", ("true",), ())], "Step 'x' has no functionary key"),
        (lambda steps: [StepPlan("x", ("true",), steps[0].functionary_keys, threshold=2)], "threshold 2 but 1 distinct"),
        (lambda steps: [], "at least one step"),
    ],
)
def test_inconsistent_step_graphs_are_rejected(tmp_path: Path, mutate, message: str) -> None:
    functionary = make_key(tmp_path, "f", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(LayoutError, match=message):
        derive_layout(mutate(four_steps(functionary)), final_products=("app.wasm",), expires=EXPIRES)


def test_expiry_and_final_products_are_required(tmp_path: Path) -> None:
    functionary = make_key(tmp_path, "f", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(LayoutError, match="timezone-aware"):
        derive_layout(four_steps(functionary), final_products=("app.wasm",), expires=datetime(2031, 1, 1))
    with pytest.raises(LayoutError, match="needs the final products"):
        derive_layout(four_steps(functionary), final_products=(), expires=EXPIRES)


# in-toto-golang 0.11's `in-toto-golang key id <pem>` for these two public keys (measured): the legacy keyid.
GOLANG_KEYIDS = {
    b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAUe+iOicR63HUoF+aPvZjGvbJNbv1AAJNXzCo3ilv4SQ=\n-----END PUBLIC KEY-----\n": (
        "8154f0dad777cfe842b4c52cebdc36a14617db09b0a2d27682e473a061abac5b"
    ),
    b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExx1jx965c01pSKvz79tuYYA2pKWg\n"
    b"hP2LIf8ZFqnEtyywbwV1wreFFAYC65CO7zyeT+YURYZjJWR7SSCPpEbWvw==\n-----END PUBLIC KEY-----\n": (
        "12ad7882efacb22b834dff19d56d71a73c1bd69853a82023c52e403a867a6c0d"
    ),
}


@pytest.mark.parametrize("pem", sorted(GOLANG_KEYIDS))
def test_the_legacy_keyid_is_the_one_in_toto_golang_computes(pem: bytes) -> None:
    key = public_key_from_pem(pem)
    assert legacy_keyid(key) == GOLANG_KEYIDS[pem] != key.keyid


@pytest.mark.parametrize("curve", ["ed25519", "ecdsa"])
def test_the_layout_signature_is_listed_under_both_keyids(tmp_path: Path, curve: str) -> None:
    """in-toto-verify looks the owner's signature up under securesystemslib's keyid, in-toto-golang under the legacy one."""
    private = ed25519.Ed25519PrivateKey.generate() if curve == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "owner.pem").write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    owner = load_signing_key(tmp_path / "owner.pem")
    layout = Metadata.from_dict(json.loads(sign_layout(_one_step_layout(owner), owner.signer)))
    assert sorted(layout.signatures) == sorted([owner.keyid, legacy_keyid(owner.public_key)])
    for signature in layout.signatures.values():  # the same bytes, so each verifies with the owner key
        owner.public_key.verify_signature(Signature(owner.keyid, signature.signature), layout.pae())


def _one_step_layout(owner: SigningKey):
    step = StepPlan(name="build", expected_command=("cargo", "build"), functionary_keys=(owner.public_key,), creates=("app.wasm",))
    return derive_layout([step], final_products=["app.wasm"], expires=datetime(2099, 1, 1, tzinfo=timezone.utc))
