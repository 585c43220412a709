"""The isolation record in the provenance, and verification that requires it.

A build made with isolation turned off must never pass for an isolated one: the
record is inside the signed provenance, verification that requires isolation
fails on it (or on a provenance without any record), and verification that does
not require it still warns.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from wasm_attest_tests.bundles import Keys, build_bundle, make_keys, provenance_for

from wasm_attest.isolation import NAMESPACES, bubblewrap_isolation, check_isolated, no_isolation
from wasm_attest.provenance import sign_provenance
from wasm_attest.sigstore.bundles import bundle_from_envelope
from wasm_attest.verification import ProvenanceVerificationError, verify_attestations


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


def resign_provenance(dist: Path, keys: Keys, **isolation) -> None:
    provenance = provenance_for((dist / "app.wasm").read_bytes(), **isolation)
    envelope = sign_provenance(provenance, keys.functionary.signer)
    (dist / "app.intoto.jsonl").write_bytes(envelope)
    (dist / "app.provenance.sigstore.json").write_bytes(bundle_from_envelope(envelope, hint=keys.functionary.keyid))


def verify(dist: Path, keys: Keys, *, require: bool):
    return verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], require_isolated_build=require)


def test_the_record_says_what_isolated_the_build() -> None:
    record = bubblewrap_isolation("0.8.0-2+deb12u1", "ab" * 32).to_dict()
    assert record["mechanism"] == "bubblewrap" and record["network"] == "none"
    assert record["namespaces"] == list(NAMESPACES) and "pid" in NAMESPACES and "network" in NAMESPACES
    assert no_isolation().to_dict()["mechanism"] == "none"
    assert "development" in no_isolation().to_dict()["warning"]


def test_an_isolated_build_verifies_when_isolation_is_required(tmp_path: Path, keys: Keys) -> None:
    report = verify(build_bundle(tmp_path, keys), keys, require=True)
    checks = [check for item in report.items for check in item.checks]
    assert "the build ran isolated (bubblewrap)" in checks
    assert report.warnings == ()


@pytest.mark.parametrize(
    ("isolation", "message"),
    [(no_isolation(), "says the build ran without isolation"), (None, "records no isolation")],
    ids=["opted-out", "unrecorded"],
)
def test_an_unisolated_build_fails_when_isolation_is_required(tmp_path: Path, keys: Keys, isolation, message: str) -> None:
    dist = build_bundle(tmp_path, keys)
    resign_provenance(dist, keys, isolation=isolation)
    with pytest.raises(ProvenanceVerificationError, match=message) as failure:
        verify(dist, keys, require=True)
    assert failure.value.check == "isolated build"
    assert "require_isolated_builds" in str(failure.value) and "--allow-unisolated-builds" in str(failure.value)
    report = verify(dist, keys, require=False)
    assert any(message in warning for warning in report.warnings)


def test_editing_the_record_breaks_the_signature(tmp_path: Path, keys: Keys) -> None:
    """The record is only worth something because the functionary signed it: a forged "bubblewrap" fails."""
    dist = build_bundle(tmp_path, keys)
    resign_provenance(dist, keys, isolation=no_isolation())
    envelope = json.loads((dist / "app.intoto.jsonl").read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["buildDefinition"]["internalParameters"]["isolation"]["mechanism"] = "bubblewrap"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (dist / "app.intoto.jsonl").write_text(json.dumps(envelope))
    with pytest.raises(ProvenanceVerificationError):
        verify(dist, keys, require=True)


def test_check_isolated_reads_only_a_well_formed_record() -> None:
    statement = {"predicate": {"buildDefinition": {"internalParameters": {"isolation": {"mechanism": 7}}}}}
    with pytest.raises(Exception, match="records no isolation"):
        check_isolated(statement, origin="The provenance")
