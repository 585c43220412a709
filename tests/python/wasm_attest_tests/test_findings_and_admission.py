"""The signed findings attestation, re-evaluation against a newer database, and the Rego admission policy."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from wasm_attest_tests.bundles import SOURCES, Keys, build_bundle, make_keys, write_public_key
from wasm_attest.admission.admit import AdmissionDeniedError, admit
from wasm_attest.admission.input_document import admission_inputs
from wasm_attest.admission.rego import AdmissionPolicyError, denials
from wasm_attest.advisories.attestation import (
    VULNS_PREDICATE_TYPE,
    AdvisoryCheck,
    findings_attestation,
)
from wasm_attest.advisories.database import load_database
from wasm_attest.advisories.gate import evaluate, policy_from_options
from wasm_attest.cli import main
from wasm_attest.sbom_crates import read_sbom_crates
from wasm_attest.verification import AdvisoryVerificationError, verify_attestations

RELEASE_POLICY = Path(__file__).parent.parent.parent.parent / "policies" / "release.rego"
TEST_BUILDER = "https://wasm-attest.dev/builders/pants/v1"
TODAY = date(2026, 6, 1)
SERDE_CRITICAL = """```toml
[advisory]
id = "RUSTSEC-2026-9100"
package = "serde"
date = "2026-05-01"
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

[versions]
patched = [">= 1.0.153"]
```

# Fixture: published after the build
"""
SERDE_PATCHED = SERDE_CRITICAL.replace("9100", "9101").replace(">= 1.0.153", ">= 1.0.150")


def database(folder: Path, advisories: dict[str, str]) -> Path:
    for name, text in advisories.items():
        (folder / "crates" / "serde").mkdir(parents=True, exist_ok=True)
        (folder / "crates" / "serde" / f"{name}.md").write_text(text)
    (folder / "crates").mkdir(parents=True, exist_ok=True)
    return folder


def check(folder: Path, **policy) -> AdvisoryCheck:
    options = dict(severity_threshold="low", informational={}, host_only="warn", exceptions={}, origin="test")
    options.update(policy)
    return AdvisoryCheck(load_database(folder), policy_from_options(**options), TODAY)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


def add_findings(dist: Path, keys: Keys, gate_check: AdvisoryCheck, *, signer=None) -> None:
    """What the package step adds: the gate's result over the bundle's SBOM, signed by the package functionary."""
    crates = read_sbom_crates((dist / "app.cdx.json").read_bytes())
    result = evaluate(crates, "app.wasm", gate_check.database, gate_check.policy, gate_check.today)
    name, content = findings_attestation(
        result,
        gate_check.database,
        component="app.wasm",
        component_sha256=hashlib.sha256((dist / "app.wasm").read_bytes()).hexdigest(),
        timestamp=datetime(2023, 11, 14, tzinfo=timezone.utc),
        signer=(signer or keys.functionary).signer,
    )
    (dist / name).write_bytes(content)


@pytest.fixture
def clean_db(tmp_path: Path) -> Path:
    return database(tmp_path / "db-at-build", {"RUSTSEC-2026-9101": SERDE_PATCHED})


@pytest.fixture
def dist(tmp_path: Path, keys: Keys, clean_db: Path) -> Path:
    dist = build_bundle(tmp_path / "build", keys)
    add_findings(dist, keys, check(clean_db))
    return dist


def test_the_findings_attestation_verifies_and_records_the_database(dist: Path, keys: Keys, clean_db: Path) -> None:
    report = verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=check(clean_db))
    (findings,) = report.findings
    assert findings.attested["predicateType"] == VULNS_PREDICATE_TYPE
    assert findings.attested["predicate"]["scanner"]["db"]["version"] == load_database(clean_db).digest
    assert findings.attested["predicate"]["scanner"]["result"] == []
    assert findings.signed_by == (keys.functionary.public_key.keyid,)
    assert any("(the database the build was checked against)" in line for line in report.checks_for("advisories: app.wasm"))


def test_an_advisory_published_after_packaging_fails_verification(dist: Path, keys: Keys, tmp_path: Path) -> None:
    newer = database(tmp_path / "db-later", {"RUSTSEC-2026-9100": SERDE_CRITICAL, "RUSTSEC-2026-9101": SERDE_PATCHED})
    with pytest.raises(AdvisoryVerificationError) as error:
        verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=check(newer))
    assert (
        'serde 1.0.152: RUSTSEC-2026-9100 "Fixture: published after the build" (severity critical; fixed in >= 1.0.153) in app.wasm'
        in str(error.value)
    )
    assert error.value.check == "advisory gate"


def test_findings_signed_by_someone_else_fail(tmp_path: Path, keys: Keys, clean_db: Path) -> None:
    dist = build_bundle(tmp_path / "build", keys)
    add_findings(dist, keys, check(clean_db), signer=keys.intruder)
    with pytest.raises(AdvisoryVerificationError, match="not signed by a functionary of the last step"):
        verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key])


def test_findings_for_another_component_fail(dist: Path, keys: Keys, tmp_path: Path, clean_db: Path) -> None:
    other = build_bundle(tmp_path / "other", keys, sources={**SOURCES, "src/lib.rs": b"// other\n"})
    add_findings(other, keys, check(clean_db))
    (dist / "app.vulns.dsse.json").write_bytes((other / "app.vulns.dsse.json").read_bytes())
    with pytest.raises(AdvisoryVerificationError, match="findings describe another build"):
        verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key])


def release_policy(builder: str = TEST_BUILDER) -> str:
    return RELEASE_POLICY.read_text().replace('"https://wasm-attest.dev/builders/pants"', json.dumps(builder))


def test_the_release_policy_admits_a_complete_bundle(dist: Path, keys: Keys, clean_db: Path) -> None:
    report = verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=check(clean_db))
    passed = admit(dist, report, release_policy(), origin="release.rego")
    assert passed.checks == ("policy release.rego: no deny",)


def test_the_release_policy_denies_a_bundle_without_provenance(dist: Path, keys: Keys, clean_db: Path) -> None:
    (dist / "app.intoto.jsonl").unlink()
    report = verify_attestations(
        dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=check(clean_db), require_provenance=False
    )
    with pytest.raises(AdmissionDeniedError) as error:
        admit(dist, report, release_policy(), origin="release.rego")
    assert "app.wasm: no signed SLSA provenance in the bundle" in str(error.value)
    assert "app.wasm: the provenance does not record an isolated build" in str(error.value)
    assert error.value.check == "admission policy"


def test_the_release_policy_denies_a_critical_finding_the_builder_excepted(tmp_path: Path, keys: Keys) -> None:
    db = database(tmp_path / "db", {"RUSTSEC-2026-9100": SERDE_CRITICAL})
    excepted = check(db, exceptions={"RUSTSEC-2026-9100": {"reason": "not reachable", "expires": "2026-12-31"}})
    dist = build_bundle(tmp_path / "build", keys)
    add_findings(dist, keys, excepted)
    report = verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=excepted)
    with pytest.raises(AdmissionDeniedError) as error:
        admit(dist, report, release_policy(), origin="release.rego")
    message = str(error.value)
    assert "app.wasm: critical vulnerability RUSTSEC-2026-9100 in serde 1.0.152 (linked)" in message
    assert "app.wasm: critical vulnerability RUSTSEC-2026-9100 in serde 1.0.152 (linked), in the signed findings" in message


def test_the_release_policy_denies_another_builder_and_missing_findings(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path / "build", keys)
    report = verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key])
    with pytest.raises(AdmissionDeniedError) as error:
        admit(dist, report, RELEASE_POLICY.read_text(), origin="release.rego")
    assert f'the provenance names builder "{TEST_BUILDER}", not the expected "https://wasm-attest.dev/builders/pants"' in str(error.value)
    assert "no vulnerability findings" in str(error.value)


def test_the_input_document_holds_what_was_verified(dist: Path, keys: Keys, clean_db: Path) -> None:
    report = verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], advisory_check=check(clean_db))
    document = admission_inputs(dist, report)["app.wasm"]
    keyid = keys.functionary.public_key.keyid
    assert document["signers"] == {
        step: [keyid] for step in ("vendor", "build", "embed", "sbom", "package", "provenance", "findings")
    }
    assert document["sbom"]["components"][0]["name"] == "serde"
    assert document["isolation"]["mechanism"] == "bubblewrap"
    assert document["findings"]["reevaluated"] == {"database": load_database(clean_db).digest, "findings": []}
    assert document["layout"]["owner_keyids"] == [keys.owner.public_key.keyid]


def test_a_policy_that_does_not_parse_or_has_no_deny_is_a_clear_error() -> None:
    with pytest.raises(AdmissionPolicyError, match="cannot be evaluated"):
        denials("package wasm_attest.admission\ndeny contains", origin="broken.rego", document={})
    with pytest.raises(AdmissionPolicyError, match="defines no data.wasm_attest.admission.deny"):
        denials("package other\nx := 1", origin="other.rego", document={})


def test_a_builtin_error_fails_the_evaluation_instead_of_dropping_a_deny() -> None:
    policy = 'package wasm_attest.admission\nimport rego.v1\ndeny contains msg if { msg := sprintf("%s", [to_number("x")]) }\n'
    with pytest.raises(AdmissionPolicyError, match="cannot be evaluated"):
        denials(policy, origin="strict.rego", document={})


def test_wasm_attest_verify_takes_a_database_and_a_policy(
    dist: Path, keys: Keys, tmp_path: Path, clean_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = write_public_key(tmp_path / "owner.pub", keys.owner)
    policy = tmp_path / "release.rego"
    policy.write_text(release_policy())
    base = ["verify", str(dist), "--owner-key", str(owner)]
    assert main([*base, "--advisory-db", str(clean_db), "--policy", str(policy)]) == 0
    assert "policy " + str(policy) + ": no deny" in capsys.readouterr().out

    newer = database(tmp_path / "db-later", {"RUSTSEC-2026-9100": SERDE_CRITICAL})
    assert main([*base, "--advisory-db", str(newer)]) == 1
    assert "RUSTSEC-2026-9100" in capsys.readouterr().err
    assert main([*base, "--advisory-db", str(newer), "--severity-threshold", "critical"]) == 1
    capsys.readouterr()

    (dist / "app.vulns.dsse.json").unlink()
    assert main([*base, "--policy", str(policy)]) == 1
    assert "app.wasm: no vulnerability findings" in capsys.readouterr().err
    assert main([*base, "--advisory-db", str(tmp_path / "nowhere")]) == 2
    assert "--advisory-db" in capsys.readouterr().err
