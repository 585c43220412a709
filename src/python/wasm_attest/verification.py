"""Verifying an attested component folder: layout, links, files on disk, provenance.

The decisions are in-toto's own: layout signatures, link loading, link
signatures and thresholds, and every artifact rule go through
`in_toto.verifylib`'s functions. What this module adds is what in-toto's
pipeline does not do, or does in a way we must not:

- It does not call `verifylib.in_toto_verify` itself, because that runs the
  layout's inspection commands, and nothing in our verification runs a command
  from metadata (DESIGN.md). A copy of the layout without inspections is no way
  out: its signature would no longer verify. So the same sub-functions are
  called in the same order, minus inspections and sublayouts (a sublayout makes
  verifylib recurse into `in_toto_verify`, inspections and all, so it is
  refused). Each is called on a one-step view of the layout, so a failure is
  attributed to its step by construction.
- It checks expiry against a given `now` (verifylib reads the wall clock).
- It compares the files on disk with the products of the last step's link:
  in-toto sees disk only through inspections, which we do not run.
- It checks the SLSA provenance: signed by a functionary the layout authorises
  for the last step (the step that delivers the component; provenance is made
  per build, like links, whereas the owner key signs layouts and may be kept
  offline), and its subject digest equals the file's.

Every failure raises a `VerificationError` subclass whose message names the
step, the artifact and the check that failed.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Mapping, Sequence

import in_toto.rulelib
import securesystemslib.exceptions
from in_toto import verifylib
from in_toto.exceptions import (
    InvalidMetadata,
    LinkNotFoundError,
    RuleVerificationError,
    SignatureVerificationError,
    ThresholdVerificationError,
)
from in_toto.models.link import Link
from in_toto.models.metadata import Envelope as InTotoEnvelope
from in_toto.models.metadata import Metadata
from securesystemslib.signer import SSlibKey

from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import KeyLoadError, PublicKeyLike, key_dict
from wasm_attest.layout import ATTESTATION_FILE_PATTERNS, LAYOUT_FILE_NAME
from wasm_attest.links import link_file_name
from wasm_attest.provenance import PROVENANCE_PREDICATE_TYPE, ProvenanceError, read_provenance

_EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_METADATA_ERRORS = (ValueError, KeyError, TypeError, InvalidMetadata, securesystemslib.exceptions.FormatError)


class VerificationError(WasmAttestError):
    """Verification failed. `step`, `artifact` and `check` say where; the message says it too."""

    check = "verification"

    def __init__(self, detail: str, *, step: str | None = None, artifact: str | None = None, check: str | None = None):
        self.step = step
        self.artifact = artifact
        if check is not None:
            self.check = check
        where = []
        if step is not None:
            where.append(f"step '{step}'")
        if artifact is not None:
            where.append(f"artifact '{artifact}'")
        super().__init__(f"Verification failed at {', '.join(where) or 'the bundle'} (check: {self.check}): {detail}")


class LayoutFormatError(VerificationError):
    check = "layout format"


class LayoutSignatureError(VerificationError):
    check = "layout signature by the trusted owner key"


class LayoutExpiredError(VerificationError):
    check = "layout expiry"


class MissingLinkError(VerificationError):
    check = "link present"


class UnauthorizedLinkError(VerificationError):
    check = "link signed by an authorised functionary"


class LinkSignatureError(VerificationError):
    check = "link signature"


class LinkThresholdError(VerificationError):
    check = "links of the threshold agree"


class ArtifactRuleError(VerificationError):
    check = "artifact rule"


class FinalProductError(VerificationError):
    check = "final product on disk matches the last link"


class ProvenanceVerificationError(VerificationError):
    check = "provenance format"


class ProvenanceSignatureError(ProvenanceVerificationError):
    check = "provenance signature"


class ProvenanceSubjectError(ProvenanceVerificationError):
    check = "provenance subject digest"


@dataclass(frozen=True)
class PassedChecks:
    """The checks one item passed; `item` is "layout", a step name, or a provenance file name."""

    item: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class VerificationReport:
    """What was verified, in order; returned only when everything passed."""

    layout: Path
    owner_keyids: tuple[str, ...]
    expires: str
    items: tuple[PassedChecks, ...]
    skipped_inspections: tuple[str, ...]
    warnings: tuple[str, ...]

    def checks_for(self, item: str) -> tuple[str, ...]:
        return next((passed.checks for passed in self.items if passed.item == item), ())

    def summary(self) -> str:
        """A plain-text account for a terminal or a CI log."""
        lines = [f"{self.layout}: verified"]
        for passed in self.items:
            lines.append(f"  {passed.item}:")
            lines.extend(f"    ok  {check}" for check in passed.checks)
        lines.extend(f"  not run: inspection '{name}' (verification runs no commands; the files on disk were compared in-process)" for name in self.skipped_inspections)
        lines.extend(f"  warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)


def verify_attestations(
    folder: Path,
    layout_path: Path | None = None,
    trusted_owner_keys: Sequence[PublicKeyLike] = (),
    now: datetime | None = None,
    *,
    require_provenance: bool = True,
    allow_unattested_files: bool = False,
) -> VerificationReport:
    """Verifies the attestation bundle in `folder` against owner keys from configuration.

    `layout_path` defaults to `folder/root.layout`. As in in-toto, every key in
    `trusted_owner_keys` must have signed the layout; keys found in the folder
    are never trusted. `now` (timezone-aware, default: the current time) is the
    moment the layout must not have expired by. A file in `folder` that is
    neither a final product nor an attestation file fails verification unless
    `allow_unattested_files`: the layout's inspection makes `in-toto-verify`
    reject it too, and a stray file next to attested ones would pass for one.
    """
    folder = Path(folder)
    layout_path = Path(layout_path) if layout_path is not None else folder / LAYOUT_FILE_NAME
    items: list[PassedChecks] = []

    owner_keys = _owner_key_dicts(trusted_owner_keys)
    metadata = _load_layout(layout_path)
    layout_checks = _verify_layout_signature(metadata, owner_keys, layout_path)
    layout = metadata.get_payload()
    if layout.type_ != "layout":
        raise LayoutFormatError("the file holds a link, not a layout.", artifact=layout_path.name)
    layout_checks.append(_verify_expiry(layout.expires, now, layout_path))
    items.append(PassedChecks("layout", tuple(layout_checks)))
    if not layout.steps:
        raise LayoutFormatError("the layout has no steps, so it attests nothing.", artifact=layout_path.name)

    links: dict[str, Link] = {}
    step_checks: dict[str, list[str]] = {}
    warnings: list[str] = []
    for step in layout.steps:
        one_step = SimpleNamespace(steps=[step], keys=layout.keys)
        verified = _verify_step_links(one_step, step, folder)
        step_checks[step.name] = [
            f"{len(verified)} link(s) signed by authorised functionaries (threshold {step.threshold}): "
            + ", ".join(sorted(link_file_name(step.name, keyid) for keyid in verified))
        ]
        chain = {step.name: verified}
        try:
            verifylib.verify_threshold_constraints(one_step, chain)
        except ThresholdVerificationError as error:
            raise LinkThresholdError(
                f"{error}. Links of one step must record the same materials and products; re-run the step.",
                step=step.name,
            ) from None
        if step.threshold > 1:
            step_checks[step.name].append("the links of all functionaries record the same artifacts")
        warnings.extend(_command_mismatches(step, verified))
        links.update(verifylib.reduce_chain_links(chain))

    for step in layout.steps:
        for source_type, rules in (("materials", step.expected_materials), ("products", step.expected_products)):
            _verify_rules(step.name, source_type, rules, links)
            step_checks[step.name].append(f"expected_{source_type}: " + "; ".join(" ".join(rule) for rule in rules))

    last_step = layout.steps[-1]
    on_disk = _verify_final_products(folder, last_step.name, links[last_step.name])
    step_checks[last_step.name].append(f"{len(on_disk)} final product(s) on disk match its link: " + ", ".join(sorted(on_disk)))
    if not allow_unattested_files:
        _verify_no_unattested_files(folder, last_step.name, on_disk)
        step_checks[last_step.name].append("no other files than the final products and the attestations")
    items.extend(PassedChecks(step.name, tuple(step_checks[step.name])) for step in layout.steps)

    provenance_files = sorted(folder.glob("*.intoto.jsonl"))
    if require_provenance and not provenance_files:
        raise ProvenanceVerificationError(
            f"{folder} holds no *.intoto.jsonl provenance; the package step writes one next to the component.",
            step=last_step.name,
            check="provenance present",
        )
    for path in provenance_files:
        checks = _verify_provenance(path, layout.keys, last_step, on_disk)
        items.append(PassedChecks(path.name, tuple(checks)))

    return VerificationReport(
        layout=layout_path,
        owner_keyids=tuple(owner_keys),
        expires=layout.expires,
        items=tuple(items),
        skipped_inspections=tuple(inspection.name for inspection in layout.inspect),
        warnings=tuple(warnings),
    )


def _owner_key_dicts(trusted_owner_keys: Sequence[PublicKeyLike]) -> dict[str, dict[str, Any]]:
    if not trusted_owner_keys:
        raise LayoutSignatureError(
            "no trusted layout owner key was given; pin the owner's public key in configuration "
            "(keys found next to the layout are never trusted)."
        )
    try:
        dicts = [key_dict(key) for key in trusted_owner_keys]
    except KeyLoadError as error:
        raise LayoutSignatureError(str(error)) from None
    return {data["keyid"]: data for data in dicts}


def _load_layout(layout_path: Path) -> Metadata:
    try:
        return Metadata.load(str(layout_path))
    except FileNotFoundError:
        raise LayoutFormatError(f"{layout_path} does not exist; the package step writes it.", artifact=layout_path.name) from None
    except OSError as error:
        raise LayoutFormatError(f"{layout_path} cannot be read ({error.strerror}).", artifact=layout_path.name) from None
    except _METADATA_ERRORS:
        raise LayoutFormatError(f"{layout_path} is not in-toto layout metadata.", artifact=layout_path.name) from None


def _verify_layout_signature(metadata: Metadata, owner_keys: dict[str, dict[str, Any]], layout_path: Path) -> list[str]:
    try:
        verifylib.verify_metadata_signatures(metadata, owner_keys)
    except (SignatureVerificationError, securesystemslib.exceptions.FormatError):
        raise LayoutSignatureError(
            f"the layout is not validly signed by every trusted owner key ({', '.join(owner_keys)}); "
            f"it carries signatures by {', '.join(_signature_keyids(metadata)) or 'no key'}. Someone other than "
            "the owner signed it, or it was changed after signing: do not use these artifacts.",
            artifact=layout_path.name,
        ) from None
    return [f"signed by trusted owner key {keyid}" for keyid in owner_keys]


def _verify_expiry(expires: str, now: datetime | None, layout_path: Path) -> str:
    moment = now if now is not None else datetime.now(timezone.utc)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime")
    expiry = datetime.strptime(expires, _EXPIRES_FORMAT).replace(tzinfo=timezone.utc)
    if expiry <= moment:
        raise LayoutExpiredError(
            f"the layout expired on {expires}; have the owner sign a new layout (re-run `pants package`).",
            artifact=layout_path.name,
        )
    return f"not expired (expires {expires})"


def _verify_step_links(one_step: Any, step: Any, folder: Path) -> dict[str, Link]:
    """Loads and signature-checks one step's links with verifylib; returns {keyid: Link} of the valid ones."""
    try:
        steps_metadata = verifylib.load_links_for_layout(one_step, str(folder))
    except LinkNotFoundError:
        raise _missing_link_error(step, folder, one_step.keys) from None
    except _METADATA_ERRORS:
        raise _unreadable_link_error(step, folder) from None
    try:
        verified = verifylib.verify_link_signature_thresholds(one_step, steps_metadata)[step.name]
    except ThresholdVerificationError as error:
        raise _bad_signature_error(step, steps_metadata[step.name], one_step.keys, str(error)) from None
    links = {}
    for keyid, metadata in verified.items():
        payload = metadata.get_payload()
        if payload.type_ != "link":
            raise LayoutFormatError(
                "the step is delegated to a sublayout; wasm-attest does not verify sublayouts because in-toto "
                "verifies them by running their inspections.",
                step=step.name,
                artifact=link_file_name(step.name, keyid),
            )
        if payload.name != step.name:
            raise LinkSignatureError(
                f"the link is for step '{payload.name}', not '{step.name}'; it was renamed or misplaced.",
                step=step.name,
                artifact=link_file_name(step.name, keyid),
            )
        links[keyid] = payload
    return links


def _missing_link_error(step: Any, folder: Path, keys: Mapping[str, Any]) -> VerificationError:
    expected = [link_file_name(step.name, keyid) for keyid in step.pubkeys]
    strays = sorted(path for path in folder.glob(f"{step.name}.*.link") if path.name not in expected)
    if strays:
        described = "; ".join(f"{path.name} is signed by {', '.join(_file_signature_keyids(path)) or 'no key'}" for path in strays)
        return UnauthorizedLinkError(
            f"the layout authorises key(s) {', '.join(step.pubkeys)} for this step (threshold {step.threshold}), "
            f"but {described}. Sign the step with a functionary key the layout names.",
            step=step.name,
            artifact=strays[0].name,
        )
    return MissingLinkError(
        f"{folder} has fewer than {step.threshold} of the link file(s) {', '.join(expected)}. "
        "Every step must leave its signed link; re-run `pants package`.",
        step=step.name,
        artifact=expected[0],
    )


def _unreadable_link_error(step: Any, folder: Path) -> VerificationError:
    for keyid in step.pubkeys:
        path = folder / link_file_name(step.name, keyid)
        if path.exists():
            try:
                Metadata.load(str(path))
            except _METADATA_ERRORS:
                return LinkSignatureError("the file is not in-toto link metadata (it was damaged or replaced).", step=step.name, artifact=path.name)
    return LinkSignatureError("a link file is not in-toto link metadata.", step=step.name)


def _bad_signature_error(step: Any, loaded: Mapping[str, Metadata], keys: Mapping[str, Any], in_toto_message: str) -> VerificationError:
    for keyid, metadata in sorted(loaded.items()):
        try:
            metadata.verify_signature(keys[keyid])
        except (SignatureVerificationError, KeyError, securesystemslib.exceptions.FormatError):
            return LinkSignatureError(
                f"its signature does not verify with functionary key {keyid}, which the layout authorises for "
                f"this step (signatures present: {', '.join(_signature_keyids(metadata)) or 'none'}). The link was "
                "modified after signing or signed by another key; do not use these artifacts.",
                step=step.name,
                artifact=link_file_name(step.name, keyid),
            )
    return LinkSignatureError(f"{in_toto_message}.", step=step.name)


def _command_mismatches(step: Any, links: Mapping[str, Link]) -> list[str]:
    """in-toto treats a command that differs from the expected one as a warning, not a failure (spec 4.3.1)."""
    return [
        f"step '{step.name}': {link_file_name(step.name, keyid)} ran {link.command}, the layout expects {step.expected_command}"
        for keyid, link in sorted(links.items())
        if list(link.command) != list(step.expected_command)
    ]


def _verify_rules(step_name: str, source_type: str, rules: list[list[str]], links: Mapping[str, Link]) -> None:
    try:
        verifylib.verify_item_rules(step_name, source_type, rules, links)
    except RuleVerificationError as error:
        rule, artifacts = _parse_rule_failure(str(error))
        raise ArtifactRuleError(
            f"expected_{source_type} rule '{rule}' rejected {', '.join(artifacts) or 'the artifacts'}"
            f"{_explain(step_name, source_type, rules, artifacts, links)}. The recorded artifacts do not follow the "
            "layout: an artifact was changed between steps or a step used something it should not.",
            step=step_name,
            artifact=artifacts[0] if artifacts else None,
            check=f"expected_{source_type}: {rule}",
        ) from None


def _parse_rule_failure(message: str) -> tuple[str, list[str]]:
    """Rule and artifacts from verifylib's message ("'DISALLOW *' matched the following artifacts: [...]")."""
    first_line = message.splitlines()[0] if message else ""
    rule = first_line.split("'")[1] if first_line.count("'") >= 2 else first_line
    artifacts: list[str] = []
    if "matched the following artifacts: " in first_line:
        try:
            artifacts = sorted(ast.literal_eval(first_line.split("matched the following artifacts: ", 1)[1]))
        except (ValueError, SyntaxError):
            artifacts = []
    elif rule.startswith("REQUIRE "):
        artifacts = [rule[len("REQUIRE ") :]]
    return rule, artifacts


def _explain(step_name: str, source_type: str, rules: list[list[str]], artifacts: Iterable[str], links: Mapping[str, Link]) -> str:
    """Why the MATCH rules that cover a rejected artifact did not consume it (diagnosis only)."""
    reasons = []
    own = getattr(links[step_name], source_type)
    for artifact in artifacts:
        for rule in rules:
            data = in_toto.rulelib.unpack_rule(rule)
            if data["rule_type"] != "match":
                continue
            prefix = (data["source_prefix"] or "").rstrip("/")
            relative = artifact[len(prefix) + 1 :] if prefix and artifact.startswith(prefix + "/") else (None if prefix else artifact)
            if relative is None or not fnmatch.fnmatch(relative, data["pattern"]):
                continue
            destination = f"{data['dest_prefix'].rstrip('/')}/{relative}" if data["dest_prefix"] else relative
            other = getattr(links[data["dest_name"]], data["dest_type"]) if data["dest_name"] in links else {}
            if destination not in other:
                why = f"step '{data['dest_name']}' recorded no {data['dest_type'][:-1]} '{destination}'"
            else:
                why = (
                    f"its sha256 {own[artifact].get('sha256')} differs from the {other[destination].get('sha256')} "
                    f"that step '{data['dest_name']}' recorded"
                )
            reasons.append(f"'{artifact}' is not consumed by '{' '.join(rule)}': {why}")
            break
    return f" ({'; '.join(reasons)})" if reasons else ""


def _verify_final_products(folder: Path, step_name: str, link: Link) -> dict[str, str]:
    """Hashes the files the last link names and compares; returns {path: sha256} as found on disk."""
    found = {}
    for path, digests in sorted(link.products.items()):
        parts = path.split("/")
        if path.startswith("/") or "\\" in path or any(part in ("", ".", "..") for part in parts):
            raise FinalProductError("the link names a product outside the folder.", step=step_name, artifact=path)
        recorded = digests.get("sha256")
        if recorded is None:
            raise FinalProductError("the link records no sha256 for this product.", step=step_name, artifact=path)
        file = folder.joinpath(*parts)
        if not file.is_file():
            raise FinalProductError(
                f"{file} is missing, but the signed link of step '{step_name}' records it as a product. Re-run `pants package`.",
                step=step_name,
                artifact=path,
            )
        actual = _sha256_file(file)
        if actual != recorded:
            raise FinalProductError(
                f"the file on disk has sha256 {actual}, but the signed link of step '{step_name}' records {recorded}. "
                "It was changed after it was attested; do not use it, rebuild with `pants package`.",
                step=step_name,
                artifact=path,
            )
        found[path] = actual
    return found


def _verify_no_unattested_files(folder: Path, step_name: str, final_products: Mapping[str, str]) -> None:
    for file in sorted(path for path in folder.rglob("*") if path.is_file()):
        relative = file.relative_to(folder).as_posix()
        if relative in final_products or any(fnmatch.fnmatch(relative, pattern) for pattern in ATTESTATION_FILE_PATTERNS):
            continue
        raise FinalProductError(
            f"{relative} is in {folder} but is neither a product of step '{step_name}' nor an attestation file; "
            "nothing vouches for it. Remove it, or rebuild so that the last step records it.",
            step=step_name,
            artifact=relative,
            check="no unattested files",
        )


def _verify_provenance(path: Path, layout_keys: Mapping[str, Any], last_step: Any, on_disk: Mapping[str, str]) -> list[str]:
    try:
        entries = read_provenance(path.read_bytes(), origin=path.name)
    except (OSError, ProvenanceError) as error:
        raise ProvenanceVerificationError(str(error), step=last_step.name, artifact=path.name) from None
    keys: list[SSlibKey] = []
    for keyid in last_step.pubkeys:
        if keyid in layout_keys:
            data = dict(layout_keys[keyid])
            data.pop("keyid", None)
            keys.append(SSlibKey.from_dict(keyid, data))
    checks = []
    for envelope, statement in entries:
        try:
            accepted = envelope.verify(keys, 1)
        except (securesystemslib.exceptions.VerificationError, ValueError):
            raise ProvenanceSignatureError(
                f"the provenance is not signed by a functionary the layout authorises for step '{last_step.name}' "
                f"({', '.join(last_step.pubkeys)}); it carries signatures by {', '.join(envelope.signatures) or 'no key'}.",
                step=last_step.name,
                artifact=path.name,
            ) from None
        checks.append(f"signed by {', '.join(accepted)}, a functionary of step '{last_step.name}'")
        if statement.get("predicateType") != PROVENANCE_PREDICATE_TYPE:
            raise ProvenanceVerificationError(
                f"the statement's predicateType is {statement.get('predicateType')!r}, not {PROVENANCE_PREDICATE_TYPE}.",
                step=last_step.name,
                artifact=path.name,
            )
        subjects = statement.get("subject")
        if not isinstance(subjects, list) or not subjects:
            raise ProvenanceSubjectError("the statement has no subject.", step=last_step.name, artifact=path.name)
        for subject in subjects:
            name = subject.get("name") if isinstance(subject, dict) else None
            claimed = (subject.get("digest") or {}).get("sha256") if isinstance(subject, dict) else None
            if name not in on_disk:
                raise ProvenanceSubjectError(
                    f"its subject {name!r} is not a final product of step '{last_step.name}', so nothing on disk backs it.",
                    step=last_step.name,
                    artifact=path.name,
                )
            if claimed != on_disk[name]:
                raise ProvenanceSubjectError(
                    f"its subject '{name}' has sha256 {claimed}, but the file has {on_disk[name]}; the provenance "
                    "describes another build of the component.",
                    step=last_step.name,
                    artifact=name,
                )
            checks.append(f"subject '{name}' sha256 equals the file on disk")
    return checks


def _signature_keyids(metadata: Any) -> list[str]:
    if isinstance(metadata, InTotoEnvelope):
        return sorted(metadata.signatures)
    return sorted(signature.get("keyid", "?") for signature in getattr(metadata, "signatures", []))


def _file_signature_keyids(path: Path) -> list[str]:
    try:
        return _signature_keyids(Metadata.load(str(path)))
    except (OSError, *_METADATA_ERRORS):
        return []


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
