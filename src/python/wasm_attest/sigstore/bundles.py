"""Sigstore bundle v0.3 files holding DSSE-signed in-toto statements, verifiable offline with a public key.

Why: current cosign (`cosign verify-blob-attestation --bundle FILE --key K
--insecure-ignore-tlog`) reads attestations only as Sigstore bundles; the
`.intoto.jsonl` DSSE line verifies only in its deprecated legacy mode. So the
provenance and the SBOM (as a CycloneDX attestation) are also shipped as
bundles:

- `verificationMaterial` carries only a `publicKey.hint` (the signer's keyid)
  and no transparency-log entries: these are key-signed, offline attestations;
  whoever verifies supplies the key;
- the DSSE signature has no `keyid`: cosign skips a signature whose keyid is
  neither empty nor the key's `SHA256:` fingerprint, and securesystemslib's
  keyid is neither. A DSSE signature covers the payload type and payload only
  (PAE), never the keyid, so the provenance bundle carries the very signature
  bytes of the `.intoto.jsonl` line.

Reading (`read_statement_bundle`) only parses; `verify_envelope` checks a
signature against given keys, trying each key since no keyid says which.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Signature, SSlibKey, Signer

from wasm_attest.errors import WasmAttestError
from wasm_attest.provenance import PAYLOAD_TYPE, STATEMENT_TYPE, canonical_json

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
CYCLONEDX_PREDICATE_TYPE = "https://cyclonedx.org/bom"
"""What `cosign attest --type cyclonedx` writes, and `verify-blob-attestation --type cyclonedx` expects."""


class SigstoreBundleError(WasmAttestError):
    """A file is not a Sigstore bundle v0.3 holding a DSSE in-toto statement."""


@dataclass(frozen=True)
class StatementBundle:
    """A parsed bundle: the DSSE payload bytes, the statement they hold, and the raw signatures (bytes)."""

    payload: bytes
    statement: Mapping[str, Any]
    signatures: tuple[bytes, ...]

    def pae(self) -> bytes:
        """The bytes the signatures cover (DSSE's pre-authentication encoding)."""
        return Envelope(payload=self.payload, payload_type=PAYLOAD_TYPE, signatures={}).pae()


def bundle_from_envelope(envelope_line: bytes, hint: str) -> bytes:
    """The bundle of an already signed `.intoto.jsonl` line (one DSSE envelope): same payload, same signature bytes.

    `hint` names the signer's key for people (cosign ignores it).
    """
    document = json.loads(envelope_line)
    signatures = [{"sig": signature["sig"]} for signature in document["signatures"]]
    return _bundle(document["payload"], signatures, hint)


def sign_statement_bundle(statement: Mapping[str, Any], signer: Signer) -> bytes:
    """Signs `statement` (an in-toto Statement v1) as DSSE and wraps it in a bundle."""
    envelope = Envelope(payload=canonical_json(dict(statement)), payload_type=PAYLOAD_TYPE, signatures={})
    signature = envelope.sign(signer)
    payload = base64.b64encode(envelope.payload).decode("ascii")
    return _bundle(payload, [{"sig": base64.b64encode(bytes.fromhex(signature.signature)).decode("ascii")}], signature.keyid)


def cyclonedx_statement(subject_name: str, subject_sha256: str, sbom_json: bytes) -> dict[str, Any]:
    """The in-toto statement attesting an SBOM about a component: predicate = the CycloneDX document itself."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": subject_sha256}}],
        "predicateType": CYCLONEDX_PREDICATE_TYPE,
        "predicate": json.loads(sbom_json),
    }


def read_statement_bundle(content: bytes, *, origin: str) -> StatementBundle:
    """Parses a bundle WITHOUT checking its signatures; anything else than our bundle shape is refused, naming `origin`."""
    try:
        document = json.loads(content)
        if not isinstance(document, dict) or document.get("mediaType") != BUNDLE_MEDIA_TYPE:
            raise SigstoreBundleError(f"{origin} is not a Sigstore bundle (mediaType {BUNDLE_MEDIA_TYPE}).")
        envelope = document["dsseEnvelope"]
        if envelope.get("payloadType") != PAYLOAD_TYPE:
            raise SigstoreBundleError(f"{origin}'s DSSE envelope does not hold an in-toto statement ({PAYLOAD_TYPE}).")
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = tuple(base64.b64decode(signature["sig"], validate=True) for signature in envelope["signatures"])
        statement = json.loads(payload)
    except SigstoreBundleError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, binascii.Error):
        raise SigstoreBundleError(f"{origin} is not a Sigstore bundle holding a DSSE envelope (damaged or replaced).") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise SigstoreBundleError(f"{origin}'s payload is not an in-toto Statement v1.")
    if not signatures:
        raise SigstoreBundleError(f"{origin} carries no signature.")
    return StatementBundle(payload=payload, statement=statement, signatures=signatures)


def verify_envelope(bundle: StatementBundle, keys: Sequence[SSlibKey]) -> list[str]:
    """The keyids of `keys` that made one of the bundle's signatures; empty when none did."""
    pae = bundle.pae()
    accepted = []
    for key in keys:
        for signature in bundle.signatures:
            try:
                key.verify_signature(Signature(key.keyid, signature.hex()), pae)
            except (UnverifiedSignatureError, ValueError):
                continue
            accepted.append(key.keyid)
            break
    return accepted


def _bundle(payload_b64: str, signatures: list[dict[str, str]], hint: str) -> bytes:
    document = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": {"payload": payload_b64, "payloadType": PAYLOAD_TYPE, "signatures": signatures},
    }
    return canonical_json(document) + b"\n"
