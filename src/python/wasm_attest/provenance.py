"""SLSA Provenance v1 for a component, in an in-toto Statement v1, DSSE-signed.

Provenance answers "what made this file": which build (buildType), from which
parameters, resolving which dependencies (source tree, Cargo.lock, every crate,
the toolchain), by which builder and when. It is the format supply-chain
tooling (slsa-verifier, policy engines) consumes, so it follows the standard
field for field and adds nothing of its own. The payload bytes are a pure
function of the inputs (sorted keys, compact separators, times from the
caller). Builders pass the real start and finish times of the build
(`runDetails.metadata.startedOn`/`finishedOn`, which SLSA defines as when the
build ran), so two builds of the same source give statements that differ in
those two fields only (and ECDSA signatures); every other file of a bundle is
reproducible and carries SOURCE_DATE_EPOCH-derived times.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signer

from wasm_attest.errors import WasmAttestError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PROVENANCE_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
WASM_COMPONENT_BUILD_TYPE = "https://wasm-attest.dev/buildtypes/wasm-component/v1"

NO_DIGEST_ANNOTATION = "noDigestBecause"
"""The ResourceDescriptor annotation that says why a dependency has no digest."""

# RFC 3986 absolute-URI: a scheme, a colon, and (here) no whitespace after it.
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_DIGEST_FORMATS = {"sha256": re.compile(r"[0-9a-f]{64}"), "gitCommit": re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")}


class ProvenanceError(WasmAttestError):
    """Provenance cannot be built or read."""


@dataclass(frozen=True)
class ResourceDescriptor:
    """An in-toto ResourceDescriptor: a dependency the build resolved (crate, lockfile, toolchain, source tree).

    The URI must be absolute (a scheme, then `:`), as the ResourceDescriptor
    specification requires. The digest may be empty, which the specification
    allows next to a URI, but only with the annotation `NO_DIGEST_ANNOTATION`
    saying why, so that a missing digest is always explained, never an accident.
    """

    uri: str
    digest: Mapping[str, str]
    name: str | None = None
    annotations: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        if not self.uri:
            raise ProvenanceError(f"A resolved dependency ({self.name or 'unnamed'}) has no URI; give it a purl or URL.")
        if not _ABSOLUTE_URI.fullmatch(self.uri):
            raise ProvenanceError(
                f"Resolved dependency {self.name or 'unnamed'} has the URI {self.uri!r}, which is not an absolute URI "
                "(a scheme such as pkg:, git+https: or file:, then the rest without spaces)."
            )
        if not self.digest and not self.annotations.get(NO_DIGEST_ANNOTATION):
            raise ProvenanceError(
                f"Resolved dependency {self.uri} has no digest; give its sha256 or gitCommit, or say why there is none "
                f"in the annotation {NO_DIGEST_ANNOTATION!r}."
            )
        for algorithm, value in self.digest.items():
            pattern = _DIGEST_FORMATS.get(algorithm)
            if pattern is None:
                raise ProvenanceError(
                    f"Resolved dependency {self.uri} has a '{algorithm}' digest; use 'sha256' or 'gitCommit'."
                )
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise ProvenanceError(
                    f"Resolved dependency {self.uri} has {algorithm} {value!r}, which is not a lowercase hex digest of that kind."
                )
        data: dict[str, Any] = {"uri": self.uri}
        if self.digest:
            data["digest"] = dict(sorted(self.digest.items()))
        if self.name is not None:
            data["name"] = self.name
        if self.annotations:
            data["annotations"] = _json_value(self.annotations)
        return data


@dataclass(frozen=True)
class Provenance:
    """Everything a provenance statement says about one built component."""

    subject_name: str
    subject_sha256: str
    build_type: str
    external_parameters: Mapping[str, Any]
    resolved_dependencies: Sequence[ResourceDescriptor]
    builder_id: str
    started_on: datetime
    finished_on: datetime
    internal_parameters: Mapping[str, Any] | None = None
    builder_version: Mapping[str, str] = field(default_factory=dict)
    invocation_id: str | None = None
    byproducts: Sequence[Mapping[str, Any]] = ()
    """runDetails.byproducts: ResourceDescriptors of what the build made besides the subject."""

    def statement(self) -> dict[str, Any]:
        """The in-toto Statement v1 with its SLSA Provenance v1 predicate, as a dict."""
        if not _DIGEST_FORMATS["sha256"].fullmatch(self.subject_sha256 or ""):
            raise ProvenanceError(f"The subject {self.subject_name}'s sha256 {self.subject_sha256!r} is not a lowercase SHA-256 hex digest.")
        if not self.subject_name or not self.build_type or not self.builder_id:
            raise ProvenanceError("Provenance needs a subject name, a buildType URI and a builder id.")
        started_on, finished_on = rfc3339(self.started_on), rfc3339(self.finished_on)
        if self.finished_on < self.started_on:
            raise ProvenanceError("Provenance finishedOn is before startedOn; pass the build's start and end times.")
        build_definition: dict[str, Any] = {
            "buildType": self.build_type,
            "externalParameters": _json_value(self.external_parameters),
            "resolvedDependencies": [dependency.to_dict() for dependency in self.resolved_dependencies],
        }
        if self.internal_parameters is not None:
            build_definition["internalParameters"] = _json_value(self.internal_parameters)
        builder: dict[str, Any] = {"id": self.builder_id}
        if self.builder_version:
            builder["version"] = dict(sorted(self.builder_version.items()))
        metadata: dict[str, Any] = {"startedOn": started_on, "finishedOn": finished_on}
        if self.invocation_id is not None:
            metadata["invocationId"] = self.invocation_id
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.subject_name, "digest": {"sha256": self.subject_sha256}}],
            "predicateType": PROVENANCE_PREDICATE_TYPE,
            "predicate": {
                "buildDefinition": build_definition,
                "runDetails": {
                    "builder": builder,
                    "metadata": metadata,
                    **({"byproducts": _json_value(list(self.byproducts))} if self.byproducts else {}),
                },
            },
        }

    def payload(self) -> bytes:
        """The statement's bytes as signed: sorted keys, compact, UTF-8; the same inputs give the same bytes."""
        return canonical_json(self.statement())


def sign_provenance(provenance: Provenance, signer: Signer) -> bytes:
    """The DSSE envelope of the statement as one JSON line (with its newline), the content of `<name>.intoto.jsonl`."""
    envelope = Envelope(payload=provenance.payload(), payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return canonical_json(envelope.to_dict()) + b"\n"


def provenance_file_name(component_name: str) -> str:
    """`<name>.intoto.jsonl`, the name SLSA tooling expects for an attestation bundle."""
    return f"{component_name}.intoto.jsonl"


def read_provenance(content: bytes, *, origin: str = "the provenance file") -> list[tuple[Envelope, dict[str, Any]]]:
    """Parses a `.intoto.jsonl` bundle into (envelope, statement) pairs, WITHOUT checking signatures.

    Verification (wasm_attest.verification) checks them; this only turns the
    bytes into values and rejects anything that is not an in-toto statement.
    """
    entries = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            envelope = Envelope.from_dict(json.loads(line))
            statement = json.loads(envelope.payload)
        except (ValueError, KeyError, TypeError):
            raise ProvenanceError(f"{origin} line {number} is not a DSSE envelope holding JSON; rebuild the component.") from None
        if envelope.payload_type != PAYLOAD_TYPE or not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
            raise ProvenanceError(f"{origin} line {number} is not an in-toto Statement v1 ({PAYLOAD_TYPE}).")
        entries.append((envelope, statement))
    if not entries:
        raise ProvenanceError(f"{origin} holds no attestation.")
    return entries


def rfc3339(moment: datetime) -> str:
    """A timezone-aware datetime as RFC 3339 UTC to the second (`2024-01-02T03:04:05Z`)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ProvenanceError("Provenance timestamps must be timezone-aware datetimes (e.g. from SOURCE_DATE_EPOCH, in UTC).")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def datetime_from_source_date_epoch(value: str) -> datetime:
    """SOURCE_DATE_EPOCH (seconds since 1970, UTC, as reproducible-builds.org defines it) as a datetime."""
    if not value.strip().isdigit():
        raise ProvenanceError(f"SOURCE_DATE_EPOCH is {value!r}; set it to a whole number of seconds since 1970-01-01 UTC.")
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: stable bytes for the same value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_value(value: Any) -> Any:
    """A plain JSON copy of caller data (mappings become dicts, tuples lists); refuses what JSON cannot hold."""
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ProvenanceError(f"Provenance parameter names must be strings: {sorted(map(repr, value))}")
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise ProvenanceError(
        f"Provenance parameters must be JSON values (strings, integers, booleans, lists, mappings), not {type(value).__name__}: {value!r}"
    )
