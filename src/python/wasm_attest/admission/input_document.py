"""The one JSON document an admission policy judges: what verification established about a bundle.

Built only from a bundle that `verify_attestations` has just verified, so
every value in it is backed by a checked signature or digest:

- `component`: file name, sha256, and the names it imports and exports (as `wasm-attest inspect` shows them);
- `sbom`: the CycloneDX SBOM as delivered;
- `provenance`: the SLSA Statement (null if the bundle has none), and `isolation`, its
  `buildDefinition.internalParameters.isolation`;
- `findings`: the signed vulnerability attestation (`attested`, null if none) and the verifier's
  own re-evaluation against its database (`reevaluated`, null without a database), each finding
  flattened to `{id, crate, version, scope, severity, informational, decision}`;
- `signers`: for each step, and for `provenance` and `findings`, the keyids of the
  functionaries the layout authorises whose signatures are on it; `layout`: its owner keyids and expiry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from in_toto.models.metadata import Metadata

from wasm_attest.advisories.attestation import VerifiedFindings
from wasm_attest.advisories.gate import Finding
from wasm_attest.bundle_files import ARTIFACT_SIZE_LIMIT, METADATA_SIZE_LIMIT, read_limited
from wasm_attest.component_pipeline import ComponentFiles
from wasm_attest.links import link_file_name
from wasm_attest.provenance import read_provenance
from wasm_attest.verification import VerificationReport
from wasm_attest.wasm_sections import binary_kind, component_externs


def admission_inputs(folder: Path, report: VerificationReport) -> dict[str, dict[str, Any]]:
    """One input document per component of the verified bundle in `folder`, by component file name."""
    layout = Metadata.load(str(report.layout)).get_payload()
    steps = {step.name: list(step.pubkeys) for step in layout.steps}
    last_step_keys = steps[layout.steps[-1].name]
    signers = {name: _link_signers(folder, name, keyids) for name, keyids in steps.items()}
    return {
        verified.component: _document(folder, verified, signers, last_step_keys, report)
        for verified in report.findings
    }


def _document(
    folder: Path,
    verified: VerifiedFindings,
    signers: Mapping[str, list[str]],
    last_step_keys: list[str],
    report: VerificationReport,
) -> dict[str, Any]:
    files = ComponentFiles(verified.component)
    data = read_limited(folder / files.component, ARTIFACT_SIZE_LIMIT, name=files.component)
    externs = component_externs(data) if binary_kind(data) == "component" else None
    provenance, provenance_signers = None, []
    if (folder / files.provenance).is_file():
        envelope, provenance = read_provenance(read_limited(folder / files.provenance, METADATA_SIZE_LIMIT, name=files.provenance))[0]
        provenance_signers = sorted(set(envelope.signatures) & set(last_step_keys))
    build_definition = (provenance or {}).get("predicate", {}).get("buildDefinition", {})
    reevaluated = verified.reevaluated
    return {
        "component": {
            "name": files.component,
            "sha256": hashlib.sha256(data).hexdigest(),
            "imports": list(externs.imports) if externs else [],
            "exports": list(externs.exports) if externs else [],
        },
        "sbom": json.loads(read_limited(folder / files.sbom, METADATA_SIZE_LIMIT, name=files.sbom)),
        "provenance": provenance,
        "isolation": build_definition.get("internalParameters", {}).get("isolation"),
        "findings": {
            "attested": verified.attested,
            "reevaluated": None
            if reevaluated is None
            else {"database": reevaluated.database_digest, "findings": [_finding(finding) for finding in reevaluated.findings]},
        },
        "signers": {
            **signers,
            "provenance": provenance_signers,
            "findings": list(verified.signed_by),
        },
        "layout": {"owner_keyids": list(report.owner_keyids), "expires": report.expires},
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.advisory.id,
        "crate": finding.crate,
        "version": finding.version,
        "scope": finding.scope,
        "severity": finding.advisory.severity.value,
        "informational": finding.advisory.informational,
        "decision": "excepted" if finding.exception else finding.action.value,
    }


def _link_signers(folder: Path, step: str, keyids: list[str]) -> list[str]:
    """The authorised keyids whose verified links of `step` are in the folder."""
    found = set()
    for keyid in keyids:
        path = folder / link_file_name(step, keyid)
        if path.is_file():
            metadata = Metadata.load(str(path))
            signatures = metadata.signatures
            signed = set(signatures) if isinstance(signatures, dict) else {entry.get("keyid") for entry in signatures}
            found |= signed & set(keyids)
    return sorted(found)
