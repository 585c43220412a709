"""The advisory database reader, Cargo requirement matching and the gate's policy."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from wasm_attest.advisories.database import AdvisoryDatabaseError, database_digest, load_database, parse_advisory
from wasm_attest.advisories.gate import HOST_ONLY, LINKED, Action, AdvisoryPolicyError, evaluate, policy_from_options
from wasm_attest.advisories.severity import Severity
from wasm_attest.advisories.versions import VersionRequirementError, parse_requirement, parse_version
from wasm_attest.sbom_crates import SbomCrate

FIXTURE_DB = Path(__file__).parent.parent / "advisory_db"
TODAY = date(2026, 6, 1)


def crate(name: str, version: str, scope: str = "required", purl: bool = True) -> SbomCrate:
    return SbomCrate(name, version, scope, f"pkg:cargo/{name}@{version}" if purl else None, None)


# What `cargo tree`/semver accept for these (the Cargo book's "Specifying Dependencies" table).
@pytest.mark.parametrize(
    "requirement, version, matches",
    [
        ("1.2.3", "1.9.0", True),  # bare = caret
        ("1.2.3", "2.0.0", False),
        ("1.2.3", "1.2.2", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("^0.0.3", "0.0.4", False),
        ("^0", "0.5.0", True),  # semantic_version's own spec says no here: Cargo's desugaring is applied
        ("^0.0", "0.0.7", True),
        ("^0.0", "0.1.0", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        ("~1", "1.9.0", True),
        ("=1.2", "1.2.5", True),
        ("=1.2", "1.3.0", False),
        (">1.2", "1.2.5", False),
        (">1.2", "1.3.0", True),
        ("<=1.2", "1.2.9", True),
        ("<=1.2", "1.3.0", False),
        (">= 1.2.0, < 1.4", "1.3.5", True),
        (">= 1.2.0, < 1.4", "1.4.0", False),
        ("1.*", "1.5.0", True),
        ("1.2.*", "1.3.0", False),
        ("*", "7.0.0", True),
        (">= 1.0.0", "1.5.0-alpha", False),  # a prerelease needs a comparator naming one on its triple
        (">= 1.5.0-alpha", "1.5.0-beta", True),
        ("^1.2.3", "1.2.4+build.7", True),
    ],
)
def test_cargo_requirement_semantics(requirement: str, version: str, matches: bool) -> None:
    assert parse_requirement(requirement).matches(parse_version(version)) is matches


@pytest.mark.parametrize("requirement", [">= 1.2.x", ">= 1.a", "1.2.3.4", ">=1,,<2", "~> 1.2"])
def test_invalid_requirements_are_refused(requirement: str) -> None:
    with pytest.raises(VersionRequirementError):
        parse_requirement(requirement)


def test_the_fixture_database_parses_with_every_field() -> None:
    database = load_database(FIXTURE_DB)
    assert len(database) == 7
    serde_json = database.advisories_for("serde_json")[0]
    assert serde_json.id == "RUSTSEC-2026-9001"
    assert serde_json.title == "Fixture: stack exhaustion when parsing deeply nested input"
    assert serde_json.severity is Severity.CRITICAL
    assert serde_json.aliases == ("CVE-2026-90001",)
    assert serde_json.fixed_versions == ">= 1.0.88"
    assert serde_json.affects("1.0.87") and not serde_json.affects("1.0.88") and not serde_json.affects("0.9.0")
    withdrawn = next(advisory for advisory in database.advisories_for("smallvec") if advisory.withdrawn)
    assert not withdrawn.affects("1.9.0")
    unmaintained = database.advisories_for("itoa")[0]
    assert unmaintained.informational == "unmaintained" and unmaintained.affects("1.0.1")


def test_the_digest_pins_the_database_state(tmp_path: Path) -> None:
    files = {path.relative_to(FIXTURE_DB).as_posix(): path.read_bytes() for path in FIXTURE_DB.glob("crates/*/*.md")}
    assert load_database(FIXTURE_DB).digest == database_digest(files.items())
    changed = dict(files, **{"crates/itoa/RUSTSEC-2026-9005.md": files["crates/itoa/RUSTSEC-2026-9005.md"] + b"\n"})
    assert database_digest(changed.items()) != database_digest(files.items())


@pytest.mark.parametrize(
    "content, message",
    [
        (b"# no front matter\n", "```toml front matter"),
        (b'```toml\n[advisory]\nid = "RUSTSEC-2026-0001"\npackage = "x"\ndate = "2026-01-01"\n```\n\nno title\n', "Title"),
        (b'```toml\n[advisory\n```\n\n# T\n', "not valid TOML"),
        (b'```toml\n[advisory]\nid = "RUSTSEC-2026-0001"\npackage = "other"\ndate = "2026-01-01"\n```\n\n# T\n', "does not match its folder"),
        (b'```toml\n[advisory]\nid = "RUSTSEC-2026-0001"\npackage = "x"\ndate = "2026-01-01"\ncvss = "CVSS:3.1/AV:Q"\n```\n\n# T\n', "not a CVSS vector"),
        (b'```toml\n[advisory]\nid = "RUSTSEC-2026-0001"\npackage = "x"\ndate = "2026-01-01"\n[versions]\npatched = [">= one"]\n```\n\n# T\n', "patched"),
    ],
)
def test_a_malformed_advisory_names_its_file(content: bytes, message: str) -> None:
    with pytest.raises(AdvisoryDatabaseError, match=message) as error:
        parse_advisory(content, path="crates/x/RUSTSEC-2026-0001.md")
    assert "crates/x/RUSTSEC-2026-0001.md" in str(error.value)


def test_a_folder_without_crates_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDatabaseError, match="no crates/ folder"):
        load_database(tmp_path)


def default_policy(**overrides):
    options = dict(severity_threshold="low", informational={}, host_only="warn", exceptions={}, origin="[wasm-advisories]")
    options.update(overrides)
    return policy_from_options(**options)


EXCLUSIONS = [
    crate("serde_json", "1.0.87"),
    crate("serde", "1.0.152"),
    crate("itoa", "1.0.1"),
    crate("syn", "1.0.107", scope="excluded"),
    crate("smallvec", "1.9.0"),
    crate("regex", "1.7.1", purl=False),  # an in-repo crate that shares a crates.io name
]


def test_the_gate_denies_a_linked_critical_and_reports_the_rest() -> None:
    result = evaluate(EXCLUSIONS, "app.wasm", load_database(FIXTURE_DB), default_policy(), TODAY)
    by_id = {finding.advisory.id: finding for finding in result.findings}
    assert set(by_id) == {"RUSTSEC-2026-9001", "RUSTSEC-2026-9003", "RUSTSEC-2026-9005", "RUSTSEC-2026-9006"}
    assert by_id["RUSTSEC-2026-9001"].action is Action.DENY and by_id["RUSTSEC-2026-9001"].scope == LINKED
    assert by_id["RUSTSEC-2026-9006"].scope == HOST_ONLY and by_id["RUSTSEC-2026-9006"].action is Action.WARN
    assert result.violations == (
        'serde_json 1.0.87: RUSTSEC-2026-9001 "Fixture: stack exhaustion when parsing deeply nested input" '
        "(severity critical; fixed in >= 1.0.88) in app.wasm",
    )
    assert not result.passed and len(result.warnings) == 3


def test_policy_knobs_threshold_informational_and_host_only() -> None:
    database = load_database(FIXTURE_DB)
    strict = evaluate(
        EXCLUSIONS, "app.wasm", database, default_policy(informational={"unsound": "deny"}, host_only="deny"), TODAY
    )
    assert {line.split(":")[1].split()[0] for line in strict.violations} == {
        "RUSTSEC-2026-9001",
        "RUSTSEC-2026-9003",
        "RUSTSEC-2026-9006",
    }
    assert any("host-only" in line for line in strict.violations)
    lenient = evaluate(
        EXCLUSIONS, "app.wasm", database, default_policy(severity_threshold="critical", host_only="ignore"), TODAY
    )
    assert [finding.advisory.id for finding in lenient.findings if finding.action is Action.IGNORE] == ["RUSTSEC-2026-9006"]
    assert len(lenient.violations) == 1


def test_an_exception_with_a_reason_passes_until_it_expires() -> None:
    database = load_database(FIXTURE_DB)
    policy = default_policy(
        exceptions={"RUSTSEC-2026-9001": {"reason": "input is never nested deeper than 8", "expires": "2026-06-30"}}
    )
    before = evaluate(EXCLUSIONS, "app.wasm", database, policy, date(2026, 6, 30))
    assert before.passed
    assert any("excepted until 2026-06-30 (input is never nested deeper than 8)" in line for line in before.warnings)
    after = evaluate(EXCLUSIONS, "app.wasm", database, policy, date(2026, 7, 1))
    assert not after.passed
    assert any(line.startswith("serde_json 1.0.87: RUSTSEC-2026-9001") for line in after.violations)
    assert any("the exception for RUSTSEC-2026-9001 expired on 2026-06-30" in line for line in after.violations)


def test_an_expired_exception_fails_even_when_nothing_matches_it() -> None:
    policy = default_policy(exceptions={"RUSTSEC-2020-0001": {"reason": "old", "expires": "2020-01-01"}})
    result = evaluate([], "app.wasm", load_database(FIXTURE_DB), policy, TODAY)
    assert result.violations == (
        "the exception for RUSTSEC-2020-0001 expired on 2020-01-01 (old); fix the crate, or renew the exception with a new date and reason",
    )


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"expires": "2027-01-01"}, "has no reason"),
        ({"reason": "  ", "expires": "2027-01-01"}, "has no reason"),
        ({"reason": "because"}, "needs an expiry date"),
        ({"reason": "because", "expires": "soon"}, "needs an expiry date"),
        ("2027-01-01", "must map to"),
    ],
)
def test_an_exception_needs_a_reason_and_an_expiry(entry: object, message: str) -> None:
    with pytest.raises(AdvisoryPolicyError, match=message):
        default_policy(exceptions={"RUSTSEC-2026-9001": entry})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"severity_threshold": "severe"}, "severity_threshold"),
        ({"informational": {"yanked": "deny"}}, "kinds are unmaintained, unsound, notice"),
        ({"host_only": "maybe"}, "host_only"),
    ],
)
def test_bad_policy_options_are_named(overrides: dict, message: str) -> None:
    with pytest.raises(AdvisoryPolicyError, match=message):
        default_policy(**overrides)
