"""in-toto links: the signed record of what one step consumed and produced.

A link says "this step ran this command on these files and made those", signed
by the functionary key that is allowed to perform the step. The file hashes
come from the caller (Pants already holds the SHA-256 of every file in a
digest), so nothing is re-hashed here and a link states exactly what the build
used. Links are written as DSSE envelopes, which `in-toto-verify` reads, under
the file name it looks for: `<step>.<keyid[:8]>.link`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from in_toto.models.link import FILENAME_FORMAT, Link
from in_toto.models.metadata import Envelope
from securesystemslib.signer import Signer

from wasm_attest.errors import WasmAttestError

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_STEP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class LinkError(WasmAttestError):
    """A link cannot be built from the given step record."""


@dataclass(frozen=True)
class SignedLink:
    """A link envelope ready to be written next to the component."""

    step: str
    keyid: str
    file_name: str
    content: bytes


def link_file_name(step: str, keyid: str) -> str:
    """The name `in-toto-verify` looks for: `<step>.<first 8 characters of the keyid>.link`."""
    return FILENAME_FORMAT.format(step_name=step, keyid=keyid)


def build_link(
    *,
    step: str,
    command: Sequence[str],
    materials: Mapping[str, str],
    products: Mapping[str, str],
    return_value: int = 0,
    stdout_sha256: str | None = None,
    stderr_sha256: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> Link:
    """Builds the unsigned in-toto v1 link of one step.

    `materials` and `products` map relative POSIX paths to SHA-256 hex digests.
    Byproducts hold the return value and the SHA-256 of stdout and stderr
    rather than the streams: logs can hold host paths or secrets, and their
    digest binds them just as well (in-toto treats byproducts as opaque).
    `environment` is a short record (sandbox, toolchain, ...) of string values.
    """
    if not _STEP_NAME.fullmatch(step):
        raise LinkError(f"Step name {step!r} cannot name a link file; use letters, digits, '-', '_' and '.'.")
    if not command or not all(isinstance(argument, str) for argument in command):
        raise LinkError(f"Step '{step}' has no command; record the argv the step ran (or the in-process action's name).")
    byproducts: dict[str, object] = {"return-value": int(return_value)}
    for stream, digest in (("stdout", stdout_sha256), ("stderr", stderr_sha256)):
        if digest is not None:
            byproducts[f"{stream}-sha256"] = _checked_sha256(step, f"its {stream}", digest)
    record = dict(environment or {})
    for key, value in record.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise LinkError(f"Step '{step}' has a non-string environment entry {key!r}; record strings only.")
    return Link(
        name=step,
        command=list(command),
        materials=_artifacts(step, "material", materials),
        products=_artifacts(step, "product", products),
        byproducts=byproducts,
        environment=dict(sorted(record.items())),
    )


def sign_link(link: Link, signer: Signer) -> SignedLink:
    """Signs a link as a DSSE envelope with the step's functionary signer.

    The payload is in-toto's own serialisation of the link (sorted keys), so the
    same inputs give the same payload bytes; the envelope bytes are what
    `Metadata.dump` would write.
    """
    envelope = Envelope.from_signable(link)
    signature = envelope.create_signature(signer)
    content = json.dumps(envelope.to_dict(), sort_keys=True).encode("utf-8")
    return SignedLink(
        step=link.name,
        keyid=signature.keyid,
        file_name=link_file_name(link.name, signature.keyid),
        content=content,
    )


def link_payload(content: bytes) -> bytes:
    """The signed payload of a link envelope (for comparing links, e.g. across two builds)."""
    return Envelope.from_dict(json.loads(content)).payload


def _artifacts(step: str, kind: str, artifacts: Mapping[str, str]) -> dict[str, dict[str, str]]:
    recorded = {}
    for path in sorted(artifacts):
        if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
            raise LinkError(f"Step '{step}' has {kind} {path!r}: artifact paths must be relative POSIX paths.")
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise LinkError(f"Step '{step}' has {kind} {path!r}: artifact paths must be normalised (no '.', '..' or '//').")
        recorded[path] = {"sha256": _checked_sha256(step, f"{kind} {path}", artifacts[path])}
    return recorded


def _checked_sha256(step: str, what: str, digest: str) -> str:
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise LinkError(
            f"Step '{step}': the digest of {what} is {digest!r}, not a lowercase SHA-256 hex string; "
            "pass the fingerprint Pants holds for the file."
        )
    return digest
