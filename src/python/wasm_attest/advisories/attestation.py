"""The gate's findings as an attestation: an in-toto vulnerability predicate (v0.2) in a DSSE envelope.

`<stem>.vulns.dsse.json` holds one DSSE envelope (payload type
`application/vnd.in-toto+json`) of an in-toto Statement v1 whose subject is the
component and whose predicate (https://in-toto.io/attestation/vulns/v0.2)
names the scanner (wasm-attest), the database (`db.version` is its digest)
and each finding: the advisory id, its CVSS score and severity, and
annotations saying which crate, version and scope it matched, its title, the
fixed versions and the policy's decision. The package step's functionary signs
it, as it signs the provenance.

On verification (`verify_findings`, called by `verification.verify_attestations`)
the envelope must be signed by a functionary of the last step, its subject must
be the component on disk, and, when the verifier is given a database, the
SBOM's crates are evaluated again against it: an advisory published after the
build fails verification although the signed findings list none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signer, SSlibKey

from wasm_attest import __version__
from wasm_attest.advisories.database import AdvisoryDatabase
from wasm_attest.advisories.gate import AdvisoryPolicy, Finding, GateResult, evaluate
from wasm_attest.advisories.severity import base_score
from wasm_attest.bundle_files import METADATA_SIZE_LIMIT, BundleFileError, read_limited
from wasm_attest.errors import WasmAttestError
from wasm_attest.provenance import PAYLOAD_TYPE, STATEMENT_TYPE, canonical_json, rfc3339
from wasm_attest.sbom_crates import SbomError, read_sbom_crates

VULNS_PREDICATE_TYPE = "https://in-toto.io/attestation/vulns/v0.2"
SCANNER_URI = "https://wasm-attest.dev/scanners/advisory-gate"
DATABASE_URI = "https://github.com/rustsec/advisory-db"
FINDINGS_SUFFIX = ".vulns.dsse.json"


class FindingsError(WasmAttestError):
    """The findings attestation is missing, unsigned, for another component, or the re-evaluation failed."""

    def __init__(self, detail: str, *, artifact: str, check: str):
        self.detail, self.artifact, self.check = detail, artifact, check
        super().__init__(detail)


def findings_file_name(stem: str) -> str:
    return f"{stem}{FINDINGS_SUFFIX}"


def findings_statement(
    result: GateResult, database: AdvisoryDatabase, *, subject_name: str, subject_sha256: str, timestamp: datetime
) -> dict[str, Any]:
    """The in-toto Statement of a gate result; `timestamp` is the build's (reproducible) time."""
    newest = database.last_update
    moment = rfc3339(timestamp)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": subject_sha256}}],
        "predicateType": VULNS_PREDICATE_TYPE,
        "predicate": {
            "scanner": {
                "uri": SCANNER_URI,
                "version": __version__,
                "db": {"uri": DATABASE_URI, "version": database.digest, "lastUpdate": f"{newest}T00:00:00Z"},
                "result": [_result(finding) for finding in result.findings],
            },
            "metadata": {"scanStartedOn": moment, "scanFinishedOn": moment},
        },
    }


def _result(finding: Finding) -> dict[str, Any]:
    advisory = finding.advisory
    score = base_score(advisory.cvss)
    severity = [{"method": "severity", "score": advisory.severity.value}]
    if score is not None:
        severity.append({"method": score.method, "score": f"{score.score:.1f}"})
    annotations = {
        "crate": finding.crate,
        "version": finding.version,
        "purl": f"pkg:cargo/{finding.crate}@{finding.version}",
        "scope": finding.scope,
        "title": advisory.title,
        "fixed": advisory.fixed_versions,
        "aliases": ",".join(advisory.aliases),
        "informational": advisory.informational or "",
        "decision": "excepted" if finding.exception else finding.action.value,
    }
    if finding.exception is not None:
        annotations["exceptionReason"] = finding.exception.reason
        annotations["exceptionExpires"] = finding.exception.expires.isoformat()
    return {"id": advisory.id, "severity": severity, "annotations": [annotations]}


def findings_attestation(
    result: GateResult,
    database: AdvisoryDatabase,
    *,
    component: str,
    component_sha256: str,
    timestamp: datetime,
    signer: Signer,
) -> tuple[str, bytes]:
    """The bundle file (name, signed content) recording `result` for `component`."""
    stem = component[: -len(".wasm")] if component.endswith(".wasm") else component
    statement = findings_statement(
        result, database, subject_name=component, subject_sha256=component_sha256, timestamp=timestamp
    )
    return findings_file_name(stem), sign_findings(statement, signer)


def sign_findings(statement: Mapping[str, Any], signer: Signer) -> bytes:
    """The signed envelope as one JSON line, the content of `<stem>.vulns.dsse.json`."""
    envelope = Envelope(payload=canonical_json(statement), payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return canonical_json(envelope.to_dict()) + b"\n"


@dataclass(frozen=True)
class AdvisoryCheck:
    """What a verifier re-evaluates a bundle with: its own database and policy, and today's date."""

    database: AdvisoryDatabase
    policy: AdvisoryPolicy
    today: date


@dataclass(frozen=True)
class VerifiedFindings:
    """What verification established about a component's findings, for the report and the admission policy."""

    component: str
    attested: Mapping[str, Any] | None
    """The signed statement, None when the bundle has none."""
    signed_by: tuple[str, ...]
    reevaluated: GateResult | None
    checks: tuple[str, ...]


def verify_bundle_findings(
    folder: Path,
    on_disk: Mapping[str, str],
    layout_keys: Mapping[str, Any],
    last_step_keyids: Sequence[str],
    check: AdvisoryCheck | None,
) -> tuple[VerifiedFindings, ...]:
    """`verify_findings` for every component of a verified bundle, with the last step's functionary keys from the layout."""
    keys = []
    for keyid in last_step_keyids:
        if keyid in layout_keys:
            data = dict(layout_keys[keyid])
            data.pop("keyid", None)
            keys.append(SSlibKey.from_dict(keyid, data))
    return tuple(
        verify_findings(folder, component, f"{component[: -len('.wasm')]}.cdx.json", on_disk, keys, check)
        for component in sorted(path for path in on_disk if path.endswith(".wasm"))
    )


def verify_findings(
    folder: Path,
    component: str,
    sbom: str,
    on_disk: Mapping[str, str],
    functionary_keys: Sequence[SSlibKey],
    check: AdvisoryCheck | None,
) -> VerifiedFindings:
    """Checks `component`'s findings attestation if the folder has one, then re-evaluates with `check` if given."""
    stem = component[: -len(".wasm")] if component.endswith(".wasm") else component
    name = findings_file_name(stem)
    checks: list[str] = []
    attested, signed_by = None, ()
    if (folder / name).is_file():
        attested, signed_by = _read_signed(folder / name, name, functionary_keys, component, on_disk[component])
        checks.append(f"{name} signed by {', '.join(signed_by)}; subject sha256 equals {component}")
    reevaluated = None
    if check is not None:
        try:
            crates = read_sbom_crates(read_limited(folder / sbom, METADATA_SIZE_LIMIT, name=sbom), origin=sbom)
        except (BundleFileError, OSError, SbomError) as error:
            raise FindingsError(f"the SBOM cannot be read for the advisory check ({error}).", artifact=sbom, check="advisory gate") from None
        reevaluated = evaluate(crates, component, check.database, check.policy, check.today)
        if not reevaluated.passed:
            raise FindingsError(
                f"{component} fails the advisory gate against the database {check.database.location} "
                f"({check.database.digest}):\n  " + "\n  ".join(reevaluated.violations),
                artifact=component,
                check="advisory gate",
            )
        attested_digest = attested["predicate"]["scanner"]["db"].get("version") if attested else None
        same = " (the database the build was checked against)" if attested_digest == check.database.digest else ""
        checks.append(
            f"{len(reevaluated.findings)} advisory finding(s), none denied, against database {check.database.digest}{same}"
        )
    return VerifiedFindings(component, attested, signed_by, reevaluated, tuple(checks))


def _read_signed(
    path: Path, name: str, keys: Sequence[SSlibKey], component: str, component_sha256: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    try:
        envelope = Envelope.from_dict(json.loads(read_limited(path, METADATA_SIZE_LIMIT, name=name)))
        statement = json.loads(envelope.payload)
    except BundleFileError as error:
        raise FindingsError(error.detail, artifact=name, check=error.check) from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise FindingsError("the file is not a DSSE envelope holding JSON; rebuild the component.", artifact=name, check="findings format") from None
    try:
        accepted = envelope.verify(list(keys), 1)
    except Exception:  # securesystemslib raises VerificationError, or ValueError for malformed signatures
        raise FindingsError(
            f"it is not signed by a functionary of the last step ({', '.join(key.keyid for key in keys)}); "
            f"it carries signatures by {', '.join(envelope.signatures) or 'no key'}. Do not use these artifacts.",
            artifact=name,
            check="findings signature",
        ) from None
    if (
        envelope.payload_type != PAYLOAD_TYPE
        or not isinstance(statement, dict)
        or statement.get("_type") != STATEMENT_TYPE
        or statement.get("predicateType") != VULNS_PREDICATE_TYPE
    ):
        raise FindingsError(f"the signed payload is not an in-toto Statement of {VULNS_PREDICATE_TYPE}.", artifact=name, check="findings format")
    subjects = statement.get("subject")
    digests = [
        subject.get("digest", {}).get("sha256") for subject in subjects if isinstance(subject, dict) and subject.get("name") == component
    ] if isinstance(subjects, list) else []
    if digests != [component_sha256]:
        raise FindingsError(
            f"its subject is not {component} with sha256 {component_sha256}: the findings describe another build.",
            artifact=name,
            check="findings subject digest",
        )
    return statement, tuple(sorted(accepted))

