"""End to end: the advisory gate in `pants package` and `pants verify-layout`, the release policy, and
`cargo audit bin` (RustSec's own scanner, Debian sid's 0.22) agreeing with our findings on every testproject.

The fixture database (tests/python/advisory_db) holds advisories against crates the testprojects
really lock. The repository's own configuration has no database, so `./pants package ::` stays green;
these tests turn the gate on with options, and package into their own dist folders so the shared
session copy's `dist/` is left as it is.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from e2e.repository import REPOSITORY, pants
from wasm_attest.advisories.database import load_database
from wasm_attest.advisories.gate import evaluate, policy_from_options
from wasm_attest.sbom_crates import read_sbom_crates

FIXTURE_DB = "tests/python/advisory_db"
SERDE_JSON = "testprojects/serde-json:serde-json"
CRITICAL_LINE = (
    'serde_json 1.0.87: RUSTSEC-2026-9001 "Fixture: stack exhaustion when parsing deeply nested input" '
    "(severity critical; fixed in >= 1.0.88) in serde-json.wasm"
)


@pytest.fixture(scope="session")
def cargo_audit() -> Path:
    """sid's cargo-audit, fetched and pinned by the project's own set-up script."""
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "build-support" / "cargo_audit" / "fetch_cargo_audit.py")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def our_findings(bundle: Path, component: Path) -> set[tuple[str, str, str]]:
    crates = read_sbom_crates((bundle / f"{component.stem}.cdx.json").read_bytes())
    policy = policy_from_options(severity_threshold="low", informational={}, host_only="warn", exceptions={}, origin="test")
    result = evaluate(crates, component.name, load_database(REPOSITORY / FIXTURE_DB), policy, date.today())
    return {(finding.advisory.id, finding.crate, finding.version) for finding in result.findings}


def their_findings(cargo_audit: Path, component: Path) -> set[tuple[str, str, str]]:
    result = subprocess.run(
        [str(cargo_audit), "audit", "--db", str(REPOSITORY / FIXTURE_DB), "--no-fetch", "--no-yanked", "--json", "bin", str(component)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    entries = [*report["vulnerabilities"]["list"], *(entry for kind in report["warnings"].values() for entry in kind)]
    return {(entry["advisory"]["id"], entry["package"]["name"], entry["package"]["version"]) for entry in entries}


def test_our_findings_equal_cargo_audit_bin_on_every_testproject(dist: Path, cargo_audit: Path) -> None:
    components = sorted(dist.glob("testprojects*/**/*.wasm"))
    assert {component.name for component in components} == {
        "hello.wasm", "serde-json.wasm", "app-one.wasm", "app-two.wasm", "exclusions.wasm", "many-deps.wasm",
        "http_hello.wasm",
    }
    found = {}
    for component in components:
        ours, theirs = our_findings(component.parent, component), their_findings(cargo_audit, component)
        assert ours == theirs, component
        found[component.name] = ours
    # The comparison must have something to compare: linked, host-only and informational matches.
    assert ("RUSTSEC-2026-9001", "serde_json", "1.0.87") in found["serde-json.wasm"]
    assert ("RUSTSEC-2026-9006", "syn", "1.0.107") in found["exclusions.wasm"]
    assert ("RUSTSEC-2026-9002", "regex", "1.7.1") in found["many-deps.wasm"]
    assert ("RUSTSEC-2026-9003", "smallvec", "1.9.0") in found["many-deps.wasm"]
    assert not any(advisory == "RUSTSEC-2026-9004" for advisory, _, _ in set().union(*found.values()))  # withdrawn
    assert found["hello.wasm"] == set()


def package(repository: Path, distdir: str, *options: str) -> subprocess.CompletedProcess[str]:
    return pants(repository, f"--pants-distdir={distdir}", *options, "package", SERDE_JSON)


def test_a_component_linking_a_vulnerable_crate_fails_to_package(dist: Path) -> None:
    result = package(dist.parent, "dist-gate-denied", f"--wasm-advisories-database={FIXTURE_DB}")
    assert result.returncode != 0
    assert f"{SERDE_JSON}: known-vulnerable crates" in result.stderr
    assert CRITICAL_LINE in result.stderr
    assert not (dist.parent / "dist-gate-denied" / "testprojects.serde-json").exists()


def test_an_exception_with_a_reason_passes_until_it_expires(dist: Path) -> None:
    accepted = {"RUSTSEC-2026-9001": {"reason": "inputs are never nested", "expires": "2099-12-31"}}
    passed = package(
        dist.parent, "dist-gate-excepted", f"--wasm-advisories-database={FIXTURE_DB}", f"--wasm-advisories-exceptions={accepted!r}"
    )
    assert passed.returncode == 0, passed.stderr
    bundle = dist.parent / "dist-gate-excepted" / "testprojects.serde-json" / "serde-json"
    envelope = json.loads((bundle / "serde-json.vulns.dsse.json").read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["scanner"]["db"]["version"] == load_database(REPOSITORY / FIXTURE_DB).digest
    (critical,) = [result for result in predicate["scanner"]["result"] if result["id"] == "RUSTSEC-2026-9001"]
    assert critical["annotations"][0]["decision"] == "excepted"
    assert "excepted until 2099-12-31 (inputs are never nested)" in passed.stderr + passed.stdout

    expired = {"RUSTSEC-2026-9001": {"reason": "inputs are never nested", "expires": "2020-01-01"}}
    failed = package(
        dist.parent, "dist-gate-expired", f"--wasm-advisories-database={FIXTURE_DB}", f"--wasm-advisories-exceptions={expired!r}"
    )
    assert failed.returncode != 0
    assert "the exception for RUSTSEC-2026-9001 expired on 2020-01-01 (inputs are never nested)" in failed.stderr
    assert CRITICAL_LINE in failed.stderr


def test_an_advisory_published_after_packaging_fails_verify_layout(dist: Path, tmp_path: Path) -> None:
    older = shutil.copytree(dist.parent / FIXTURE_DB, tmp_path / "older-db")
    shutil.rmtree(older / "crates" / "serde_json")
    packaged = package(dist.parent, "dist-gate-older", f"--wasm-advisories-database={older}")
    assert packaged.returncode == 0, packaged.stderr

    def verify(database: Path | str, *options: str) -> subprocess.CompletedProcess[str]:
        return pants(
            dist.parent,
            f"--wasm-advisories-database={database}",
            "verify-layout",
            "--verify-layout-from-dir=dist-gate-older",
            *options,
            SERDE_JSON,
        )

    same = verify(older)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "(the database the build was checked against)" in same.stdout
    newer = verify(FIXTURE_DB)
    assert newer.returncode == 1, newer.stdout + newer.stderr
    assert "check: advisory gate" in newer.stdout and CRITICAL_LINE in newer.stdout


def test_the_release_policy_denies_a_critical_finding_the_build_excepted(dist: Path) -> None:
    accepted = {"RUSTSEC-2026-9001": {"reason": "inputs are never nested", "expires": "2099-12-31"}}
    options = (f"--wasm-advisories-database={FIXTURE_DB}", f"--wasm-advisories-exceptions={accepted!r}")
    assert package(dist.parent, "dist-gate-policy", *options).returncode == 0
    result = pants(
        dist.parent,
        *options,
        "verify-layout",
        "--verify-layout-from-dir=dist-gate-policy",
        "--verify-layout-policy=policies/release.rego",
        SERDE_JSON,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "check: admission policy" in result.stdout
    assert "serde-json.wasm: critical vulnerability RUSTSEC-2026-9001 in serde_json 1.0.87 (linked)" in result.stdout
