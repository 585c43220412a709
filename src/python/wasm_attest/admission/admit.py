"""Judging a verified bundle with an admission policy: the step after `verify_attestations`."""

from __future__ import annotations

from pathlib import Path

from wasm_attest.admission.input_document import admission_inputs
from wasm_attest.admission.rego import denials
from wasm_attest.verification import PassedChecks, VerificationError, VerificationReport


class AdmissionDeniedError(VerificationError):
    check = "admission policy"
    default_step = "admission"


def admit(folder: Path, report: VerificationReport, policy: str, *, origin: str) -> PassedChecks:
    """Evaluates `policy` (Rego source; `origin` names its file) for each component of the verified bundle.

    Raises `AdmissionDeniedError` listing every `deny` message, each under its component.
    """
    denied = [
        f"{component}: {message}"
        for component, document in sorted(admission_inputs(Path(folder), report).items())
        for message in denials(policy, origin=origin, document=document)
    ]
    if denied:
        raise AdmissionDeniedError(f"the policy {origin} denies the bundle:\n  " + "\n  ".join(denied), artifact=origin)
    return PassedChecks("admission", (f"policy {origin}: no deny",))
