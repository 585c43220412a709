"""Verifying an attested component folder: layout, links, files on disk, provenance.

The decisions are in-toto's own: layout signatures, link loading, link
signatures and thresholds, and every artifact rule go through
`in_toto.verifylib`'s functions. What this module adds is what in-toto's
pipeline does not do, or does in a way we must not:

- It does not call `verifylib.in_toto_verify` itself, because that runs every
  inspection command of the layout, in the current folder, and verification
  runs a command from metadata only when the caller's allow-list names it
  (docs/design.md). A copy of the layout without inspections is no way out: its
  signature would no longer verify. So the same sub-functions are called in
  the same order, minus sublayouts (a sublayout makes verifylib recurse into
  `in_toto_verify`, inspections and all, so it is refused), with the allowed
  inspections run by `inspections` instead. Each is called on a one-step view
  of the layout, so a failure is attributed to its step by construction.
- It checks expiry against a given `now` (verifylib reads the wall clock).
- It compares the files on disk with the products of the last step's link:
  in-toto sees disk only through inspections, which we do not run.
- It checks what a wasm component bundle promises beyond in-toto's rules, so a
  looser layout (a hand-written or pre-signed one) cannot skip it: the
  `Cargo.lock` in the folder is the one every step that read a `Cargo.lock`
  recorded, each SBOM's `metadata.component` SHA-256 is the component's, and
  the three records of what was linked agree: the SBOM's crates, the
  component's embedded `.dep-v0` and the `Cargo.lock` (`dependency_agreement`).
- It checks the SLSA provenance: signed by a functionary the layout authorises
  for the last step (the step that delivers the component; provenance is made
  per build, like links, whereas the owner key signs layouts and may be kept
  offline), and its subject digest equals the file's.
- It checks the Sigstore bundles (what cosign verifies): signed by a
  functionary of the step that wrote their content, about the component's
  digest, and saying exactly what the DSSE provenance and the SBOM say.
- It checks the OCI image layout under `oci/` when there is one (what
  `pants publish` pushes, and what is pulled back from a registry): the
  artifact manifest holds this component, and the SBOM, provenance and
  in-toto referrers are signed by the same functionaries and attest this
  bundle (`oci.layout_check`).
- It accounts for every file of the folder: a name that looks like an
  attestation vouches for nothing, so each file must be a final product or an
  attestation that verified (`_unaccounted_files`).
- It treats the folder as hostile input (`bundle_files`): regular files only,
  size caps before anything is read, artifact names in links that stay inside
  the folder, and nothing written to it.

Every failure raises a `VerificationError` subclass whose message names the
step, the artifact and the check that failed (lists of files stop after a few,
with a count), and whose `progress` holds the checks that passed before it.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence, TypeVar

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

from wasm_attest.advisories.attestation import (
    AdvisoryCheck,
    FindingsError,
    VerifiedFindings,
    findings_file_name,
    verify_bundle_findings,
)
from wasm_attest.bundle_files import (
    ARTIFACT_SIZE_LIMIT,
    METADATA_SIZE_LIMIT,
    BundleFileError,
    is_safe_artifact_name,
    list_bundle,
    read_limited,
    sha256_limited,
)
from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.capabilities.policy import CapabilityPolicyFormatError, policy_from_readme
from wasm_attest.cargo_lock import parse_cargo_lock
from wasm_attest.component_pipeline import LOCKFILE, ComponentFiles
from wasm_attest.dependency_agreement import DependencyMismatch, check_dependency_agreement
from wasm_attest.embedding import embedded_dependencies
from wasm_attest.errors import WasmAttestError
from wasm_attest.inspections import DEFAULT_INSPECTION_TIMEOUT, InspectionError, run_inspection
from wasm_attest.isolation import IsolationError, check_isolated
from wasm_attest.keys import KeyLoadError, PublicKeyLike, key_dict, public_key_from_pem
from wasm_attest.layout import ATTESTATION_FILE_PATTERNS, FINAL_PRODUCTS_INSPECTION, LAYOUT_FILE_NAME
from wasm_attest.links import link_file_name
from wasm_attest.oci.image_layout import LAYOUT_FOLDER
from wasm_attest.oci.layout_check import OciLayoutError, Signed, VerifiedBundle, check_layout
from wasm_attest.provenance import PROVENANCE_PREDICATE_TYPE, ProvenanceError, read_provenance
from wasm_attest.sbom_crates import read_sbom_crates
from wasm_attest.sigstore.bundles import (
    CYCLONEDX_PREDICATE_TYPE,
    SigstoreBundleError,
    StatementBundle,
    read_statement_bundle,
    verify_envelope,
)

_EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# What parsing untrusted JSON metadata can raise: bad JSON or UTF-8 (ValueError), the wrong shapes
# (KeyError, TypeError, AttributeError), in-toto's and securesystemslib's format errors, and nesting
# deep enough to exhaust the stack (RecursionError).
_METADATA_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    RecursionError,
    InvalidMetadata,
    securesystemslib.exceptions.FormatError,
)
_Parsed = TypeVar("_Parsed")
# How many file names one message lists before it gives a count instead.
_SHOWN = 5
# Files the verification parses, which get the small size cap.
_PARSED_FILE_PATTERNS = (*ATTESTATION_FILE_PATTERNS, "*.cdx.json")


class VerificationError(WasmAttestError):
    """Verification failed. `step`, `artifact` and `check` say where; the message says it too."""

    check = "verification"
    default_step: str | None = None
    """The report item a failure belongs to when the caller names no step ("layout" for the layout's own checks)."""

    def __init__(self, detail: str, *, step: str | None = None, artifact: str | None = None, check: str | None = None):
        step = step if step is not None else self.default_step
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


class BundleContentError(VerificationError):
    check = "bundle folder"


class ArtifactNameError(VerificationError):
    check = "artifact names stay inside the bundle"


class LayoutFormatError(VerificationError):
    check = "layout format"
    default_step = "layout"


class LayoutSignatureError(VerificationError):
    check = "layout signature by the trusted owner key"
    default_step = "layout"


class LayoutExpiredError(VerificationError):
    check = "layout expiry"
    default_step = "layout"


class LinkFormatError(VerificationError):
    check = "link format"


class MissingLinkError(VerificationError):
    check = "link present"


class UnauthorizedLinkError(VerificationError):
    check = "link signed by an authorised functionary"


class LinkFileNameError(VerificationError):
    check = "link file name matches its signer"


class LinkSignatureError(VerificationError):
    check = "link signature"


class LinkThresholdError(VerificationError):
    check = "links of the threshold agree"


class ArtifactRuleError(VerificationError):
    check = "artifact rule"


class FinalProductError(VerificationError):
    check = "final product on disk matches the last link"


class LockfileMismatchError(VerificationError):
    check = "Cargo.lock in the folder is the one the steps used"


class SbomComponentError(VerificationError):
    check = "SBOM metadata.component sha256 equals the component"


class DependencyRecordsError(VerificationError):
    """The SBOM, the component's embedded dependency list and Cargo.lock disagree about what was linked."""


class CapabilityPolicyError(VerificationError):
    check = "capability policy"


class InspectionFailedError(VerificationError):
    check = "inspection"


class ProvenanceVerificationError(VerificationError):
    check = "provenance format"


class ProvenanceSignatureError(ProvenanceVerificationError):
    check = "provenance signature"


class ProvenanceSubjectError(ProvenanceVerificationError):
    check = "provenance subject digest"


class OciLayoutVerificationError(VerificationError):
    """The OCI layout (in `oci/`, or pulled from a registry) does not carry exactly this verified bundle."""


class AdvisoryVerificationError(VerificationError):
    """The findings attestation does not verify, or the crates fail the advisory gate (wasm_attest.advisories)."""

    check = "advisory gate"


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
    findings: tuple[VerifiedFindings, ...] = ()
    """Each component's advisory findings as verified (wasm_attest.advisories), for admission policies."""

    def checks_for(self, item: str) -> tuple[str, ...]:
        return next((passed.checks for passed in self.items if passed.item == item), ())

    def summary(self) -> str:
        """A plain-text account for a terminal or a CI log."""
        lines = [f"{self.layout}: verified"]
        for passed in self.items:
            lines.append(f"  {passed.item}:")
            lines.extend(f"    ok  {check}" for check in passed.checks)
        lines.extend(
            f"  not run: inspection '{name}' (its command is not on the allow-list; the files on disk were compared in-process)"
            for name in self.skipped_inspections
        )
        lines.extend(f"  warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report; `failure_json` gives a failure the same keys."""
        return {
            "verified": True,
            "layout": str(self.layout),
            "owner_keyids": list(self.owner_keyids),
            "expires": self.expires,
            "steps": [{"name": passed.item, "checks": list(passed.checks)} for passed in self.items],
            "skipped_inspections": list(self.skipped_inspections),
            "warnings": list(self.warnings),
            "error": None,
        }


@dataclass
class Progress:
    """What verification established before it stopped: kept on a `VerificationError` as `progress`,
    so that a failure report still lists the checks that passed (`failure_json`)."""

    layout: Path | None = None
    owner_keyids: tuple[str, ...] = ()
    expires: str | None = None
    items: list[PassedChecks] = field(default_factory=list)
    step_checks: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def passed(self) -> list[PassedChecks]:
        """The finished items, then each step's checks so far, in order, without duplicates."""
        done = {item.item for item in self.items}
        partial = [PassedChecks(name, tuple(checks)) for name, checks in self.step_checks.items() if name not in done and checks]
        return [*self.items, *partial]


def failure_json(error: WasmAttestError) -> dict[str, Any]:
    """The machine-readable report of a failure: `VerificationReport.to_json`'s keys, with `error` filled in.

    A `VerificationError` names its step, artifact and check and carries the
    checks that passed before it (`progress`); any other error (a key that
    cannot be loaded, a bad option) is a configuration problem.
    """
    progress = getattr(error, "progress", None) or Progress()
    return {
        "verified": False,
        "layout": str(progress.layout) if progress.layout is not None else None,
        "owner_keyids": list(progress.owner_keyids),
        "expires": progress.expires,
        "steps": [{"name": passed.item, "checks": list(passed.checks)} for passed in progress.passed()],
        "skipped_inspections": [],
        "warnings": list(progress.warnings),
        "error": {
            "step": getattr(error, "step", None),
            "artifact": getattr(error, "artifact", None),
            "check": error.check if isinstance(error, VerificationError) else "configuration",
            "message": str(error),
        },
    }


def verify_attestations(
    folder: Path,
    layout_path: Path | None = None,
    trusted_owner_keys: Sequence[PublicKeyLike] = (),
    now: datetime | None = None,
    *,
    require_provenance: bool = True,
    allow_unattested_files: bool = False,
    allowed_inspections: Collection[Sequence[str]] = (),
    inspection_timeout: float = DEFAULT_INSPECTION_TIMEOUT,
    require_isolated_build: bool = False,
    advisory_check: AdvisoryCheck | None = None,
) -> VerificationReport:
    """Verifies the attestation bundle in `folder` against owner keys from configuration.

    `layout_path` defaults to `folder/root.layout`. As in in-toto, every key in
    `trusted_owner_keys` must have signed the layout; keys found in the folder
    are never trusted. `now` (timezone-aware, default: the current time) is the
    moment the layout must not have expired by. A file in `folder` that is
    neither a final product nor an attestation file fails verification unless
    `allow_unattested_files`: the layout's inspection makes `in-toto-verify`
    reject it too, and a stray file next to attested ones would pass for one.
    An inspection runs only if its exact argv is in `allowed_inspections`
    (default: none), for at most `inspection_timeout` seconds; the others are
    listed in the report as not run. With `require_isolated_build`, a provenance
    that does not record an isolated build fails; without it, that is a warning.
    A findings attestation (`<stem>.vulns.dsse.json`) is checked whenever present,
    and with `advisory_check` the SBOM is judged again against that database and
    policy (`wasm_attest.advisories.attestation`).
    The folder must hold regular files only,
    within the size caps of `bundle_files`. Nothing is written to `folder`.
    """
    folder = Path(folder)
    layout_path = Path(layout_path) if layout_path is not None else folder / LAYOUT_FILE_NAME
    progress = Progress(layout=layout_path)
    try:
        return _verify(
            folder,
            layout_path,
            trusted_owner_keys,
            now,
            progress,
            require_provenance=require_provenance,
            allow_unattested_files=allow_unattested_files,
            allowed_inspections=allowed_inspections,
            inspection_timeout=inspection_timeout,
            require_isolated_build=require_isolated_build,
            advisory_check=advisory_check,
        )
    except VerificationError as error:
        error.progress = progress
        raise


def _verify(
    folder: Path,
    layout_path: Path,
    trusted_owner_keys: Sequence[PublicKeyLike],
    now: datetime | None,
    progress: Progress,
    *,
    require_provenance: bool,
    allow_unattested_files: bool,
    allowed_inspections: Collection[Sequence[str]],
    inspection_timeout: float,
    require_isolated_build: bool,
    advisory_check: AdvisoryCheck | None,
) -> VerificationReport:
    """`verify_attestations`' checks, in order, recording each passed one in `progress` as it goes."""
    items = progress.items
    owner_keys = _owner_key_dicts(trusted_owner_keys)
    progress.owner_keyids = tuple(owner_keys)
    bundle = _list_bundle(folder)
    metadata = _load_layout(layout_path)
    layout_checks = _verify_layout_signature(metadata, owner_keys, layout_path)
    layout = _layout_payload(metadata, layout_path)
    progress.expires = layout.expires
    layout_checks.append(_verify_expiry(layout.expires, now, layout_path))
    items.append(PassedChecks("layout", tuple(layout_checks)))
    if not layout.steps:
        raise LayoutFormatError("the layout has no steps, so it attests nothing.", artifact=layout_path.name)

    links: dict[str, Link] = {}
    link_files: set[str] = set()
    step_checks = progress.step_checks
    warnings = progress.warnings
    for step in layout.steps:
        one_step = SimpleNamespace(steps=[step], keys=layout.keys)
        verified = _verify_step_links(one_step, step, folder)
        link_files.update(link_file_name(step.name, keyid) for keyid in verified)
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
    unaccounted = _unaccounted_files(folder, bundle, layout_path, layout, link_files, on_disk)
    if unaccounted and not allow_unattested_files:
        raise _unaccounted_files_error(folder, unaccounted, last_step.name)
    if unaccounted:
        warnings.extend(f"{name}: {why} (allowed: unattested files are allowed)" for name, why in sorted(unaccounted.items()))
    else:
        step_checks[last_step.name].append(
            "every other file is a verified link, the layout, a key the layout names, or a provenance or "
            "Sigstore bundle checked below"
        )
    for step_name, check in (
        *_verify_lockfile(layout.steps, links, on_disk),
        *_verify_sboms(folder, layout.steps, links, on_disk),
        *_verify_dependency_records(folder, layout.steps, links, on_disk),
        *_verify_capability_policy(folder, layout, layout_path.name, on_disk),
    ):
        step_checks[step_name].append(check)
    items.extend(PassedChecks(step.name, tuple(step_checks[step.name])) for step in layout.steps)
    step_checks.clear()

    skipped_inspections = []
    allowed = {tuple(command) for command in allowed_inspections}
    for inspection in layout.inspect:
        if tuple(inspection.run) in allowed:
            items.append(_run_inspection(inspection, folder, on_disk, links, inspection_timeout))
        else:
            skipped_inspections.append(inspection.name)

    components = sorted(path for path in on_disk if path.endswith(".wasm"))
    expected_provenance = (ComponentFiles(component).provenance for component in components)
    provenance_files = sorted(folder / name for name in expected_provenance if name in bundle)
    if require_provenance and not provenance_files:
        raise ProvenanceVerificationError(
            f"{folder} holds no *.intoto.jsonl provenance; the package step writes one next to the component.",
            step=last_step.name,
            check="provenance present",
        )
    for path in provenance_files:
        checks, statements = _verify_provenance(path, layout.keys, last_step, on_disk)
        for statement in statements:
            try:
                checks.append(check_isolated(statement, origin=f"The provenance {path.name}"))
            except IsolationError as error:
                if require_isolated_build:
                    raise ProvenanceVerificationError(
                        str(error), step=last_step.name, artifact=path.name, check="isolated build"
                    ) from None
                warnings.append(str(error))
        items.append(PassedChecks(path.name, tuple(checks)))
    items.extend(_verify_sigstore_bundles(folder, bundle, layout, links, on_disk))
    items.extend(_verify_oci_layout(folder, bundle, layout, links, on_disk))

    try:
        findings = verify_bundle_findings(folder, on_disk, layout.keys, last_step.pubkeys, advisory_check)
    except FindingsError as error:
        raise AdvisoryVerificationError(error.detail, step=last_step.name, artifact=error.artifact, check=error.check) from None
    items.extend(PassedChecks(f"advisories: {verified.component}", verified.checks) for verified in findings if verified.checks)

    return VerificationReport(
        layout=layout_path,
        owner_keyids=tuple(owner_keys),
        expires=layout.expires,
        items=tuple(items),
        skipped_inspections=tuple(skipped_inspections),
        warnings=tuple(warnings),
        findings=findings,
    )


def _list_bundle(folder: Path) -> dict[str, int]:
    """Every file of the folder with its size; refuses an empty or unsafe folder before anything is parsed."""
    if not folder.is_dir():
        raise BundleContentError(f"{folder} is not a folder; give the folder `pants package` wrote (dist/<target>/) or the downloaded bundle.")
    try:
        bundle = list_bundle(folder, _PARSED_FILE_PATTERNS)
    except BundleFileError as error:
        raise BundleContentError(error.detail, artifact=error.artifact, check=error.check) from None
    except OSError as error:
        raise BundleContentError(f"{folder} cannot be listed ({error.strerror}); check its permissions.") from None
    if not bundle:
        raise BundleContentError(
            f"{folder} is empty, so there is nothing to verify; the download or the build did not deliver the bundle.",
            check="bundle present",
        )
    return bundle


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
        return Metadata.from_dict(json.loads(read_limited(layout_path, METADATA_SIZE_LIMIT, name=layout_path.name)))
    except BundleFileError as error:
        raise LayoutFormatError(error.detail, artifact=layout_path.name, check=error.check) from None
    except FileNotFoundError:
        raise LayoutFormatError(f"{layout_path} does not exist; the package step writes it.", artifact=layout_path.name) from None
    except OSError as error:
        raise LayoutFormatError(f"{layout_path} cannot be read ({error.strerror}).", artifact=layout_path.name) from None
    except _METADATA_ERRORS:
        raise LayoutFormatError(
            f"{layout_path} is not in-toto layout metadata (truncated or damaged JSON, or another kind of file).",
            artifact=layout_path.name,
        ) from None


def _layout_payload(metadata: Metadata, layout_path: Path) -> Any:
    """The signed layout; only read once its signature verified, but a signed payload can still be malformed."""
    try:
        layout = metadata.get_payload()
    except _METADATA_ERRORS:
        raise LayoutFormatError("the signed payload is not an in-toto layout.", artifact=layout_path.name) from None
    if layout.type_ != "layout":
        raise LayoutFormatError("the file holds a link, not a layout.", artifact=layout_path.name)
    return layout


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
    try:
        expiry = datetime.strptime(expires, _EXPIRES_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise LayoutFormatError(
            f"the layout's expiry {expires!r} is not of the form YYYY-MM-DDTHH:MM:SSZ.", artifact=layout_path.name
        ) from None
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
    except _METADATA_ERRORS:
        raise _unreadable_link_error(step, folder) from None
    links = {}
    for keyid, metadata in verified.items():
        try:
            payload = metadata.get_payload()
        except _METADATA_ERRORS:
            raise LinkFormatError(
                "its signature verifies, but the signed payload is not an in-toto link.",
                step=step.name,
                artifact=link_file_name(step.name, keyid),
            ) from None
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
        _verify_artifact_names(step.name, link_file_name(step.name, keyid), payload)
        links[keyid] = payload
    return links


def _verify_artifact_names(step_name: str, file_name: str, link: Link) -> None:
    """Refuses artifact names that would lead outside the folder, before any of them is looked up on disk.

    (in-toto has checked the rest of the link's shape: string names mapping to hex digests.)
    """
    for source_type in ("materials", "products"):
        for name in sorted(getattr(link, source_type)):
            if not is_safe_artifact_name(name):
                raise ArtifactNameError(
                    f"{file_name} records the {source_type[:-1]} {name!r}; artifact names must be relative paths "
                    "without '..', '.' or '//', so that none can point outside the folder. Do not use these artifacts.",
                    step=step_name,
                    artifact=name,
                )


def _missing_link_error(step: Any, folder: Path, keys: Mapping[str, Any]) -> VerificationError:
    expected = [link_file_name(step.name, keyid) for keyid in step.pubkeys]
    strays = sorted(path for path in folder.glob(f"{step.name}.*.link") if path.name not in expected)
    renamed = [(path, signer) for path in strays for signer in _file_signature_keyids(path) if signer in step.pubkeys]
    if renamed:
        path, signer = renamed[0]
        return LinkFileNameError(
            f"the file name {path.name} does not match its signer: it is signed by {signer}, a functionary the layout "
            f"authorises for this step, and in-toto reads that functionary's link from {link_file_name(step.name, signer)}. "
            "The file was renamed; rename it back, or re-run `pants package`.",
            step=step.name,
            artifact=path.name,
        )
    if strays:
        described = "; ".join(f"{path.name} is signed by {', '.join(_file_signature_keyids(path)) or 'no key'}" for path in strays[:_SHOWN])
        if len(strays) > _SHOWN:
            described += f"; and {len(strays) - _SHOWN} more"
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
                Metadata.load(str(path)).get_payload()
            except _METADATA_ERRORS:
                return LinkFormatError(
                    "the file is not in-toto link metadata (truncated, damaged or replaced).", step=step.name, artifact=path.name
                )
    return LinkFormatError("a link file of this step is not in-toto link metadata.", step=step.name)


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
            f"expected_{source_type} rule '{rule}' rejected {_some(artifacts) or 'the artifacts'}"
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


def _explain(step_name: str, source_type: str, rules: list[list[str]], artifacts: Sequence[str], links: Mapping[str, Link]) -> str:
    """Why the MATCH rules that cover a rejected artifact did not consume it (diagnosis only), for the first few."""
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
        if len(reasons) == _SHOWN:
            return f" ({'; '.join(reasons)}; the others likewise)"
    return f" ({'; '.join(reasons)})" if reasons else ""


def _verify_final_products(folder: Path, step_name: str, link: Link) -> dict[str, str]:
    """Hashes the files the last link names and compares; returns {path: sha256} as found on disk.

    The names were checked by `_verify_artifact_names`, so each stays inside `folder`.
    """
    found = {}
    for path, digests in sorted(link.products.items()):
        recorded = digests.get("sha256")
        if recorded is None:
            raise FinalProductError("the link records no sha256 for this product.", step=step_name, artifact=path)
        file = folder.joinpath(*path.split("/"))
        try:
            actual = sha256_limited(file, ARTIFACT_SIZE_LIMIT, name=path)
        except BundleFileError as error:
            raise FinalProductError(error.detail, step=step_name, artifact=path, check=error.check) from None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FinalProductError(
                f"{file} is missing, but the signed link of step '{step_name}' records it as a product. Re-run `pants package`.",
                step=step_name,
                artifact=path,
            ) from None
        except OSError as error:
            raise FinalProductError(f"{file} cannot be read ({error.strerror}).", step=step_name, artifact=path) from None
        if actual != recorded:
            raise FinalProductError(
                f"the file on disk has sha256 {actual}, but the signed link of step '{step_name}' records {recorded}. "
                "It was changed after it was attested; do not use it, rebuild with `pants package`.",
                step=step_name,
                artifact=path,
            )
        found[path] = actual
    return found


def _unaccounted_files(
    folder: Path, bundle: Iterable[str], layout_path: Path, layout: Any, link_files: Collection[str], on_disk: Mapping[str, str]
) -> dict[str, str]:
    """`{file: why nothing vouches for it}` for every file of the folder that is not one of:

    a final product of the last step (hashed and matched already); a link that
    verified for its step (`link_files`); the layout that was verified; a
    `<keyid>.pub` of a key the layout names, holding that very key; a
    component's provenance, Sigstore bundle or advisory findings (each verified
    after this). A
    file merely *named* like an attestation proves nothing, so names alone
    never count.
    """
    expected_attestations = set()
    for component in (path for path in on_disk if path.endswith(".wasm")):
        names = ComponentFiles(component)
        expected_attestations.update(
            (names.provenance, names.provenance_bundle, names.sbom_bundle, findings_file_name(component[: -len(".wasm")]))
        )
    unaccounted = {}
    for relative in sorted(bundle):
        if relative in on_disk or relative in link_files or relative in expected_attestations:
            continue
        if relative.startswith(f"{LAYOUT_FOLDER}/"):
            continue  # the OCI layout: every file in it is checked by `_verify_oci_layout`
        if relative == LAYOUT_FILE_NAME and _is_verified_layout(folder / relative, layout_path):
            continue
        if relative.endswith(".pub") and "/" not in relative:
            problem = _public_key_file_problem(folder / relative, relative[: -len(".pub")], layout.keys)
            if problem is None:
                continue
            unaccounted[relative] = problem
            continue
        unaccounted[relative] = _why_unaccounted(folder, relative, layout)
    return unaccounted


def _is_verified_layout(path: Path, layout_path: Path) -> bool:
    """Whether `path` is the layout file that was verified, or holds the same bytes."""
    try:
        if path.resolve() == layout_path.resolve():
            return True
        return read_limited(path, METADATA_SIZE_LIMIT, name=path.name) == read_limited(layout_path, METADATA_SIZE_LIMIT, name=layout_path.name)
    except (BundleFileError, OSError):
        return False


def _public_key_file_problem(path: Path, keyid: str, layout_keys: Mapping[str, Any]) -> str | None:
    """None when `<keyid>.pub` is the PEM of the layout's key `keyid`; else what is wrong with it."""
    if keyid not in layout_keys:
        return "it is named like a public key file, but the layout names no key with that keyid"
    try:
        key = public_key_from_pem(read_limited(path, METADATA_SIZE_LIMIT, name=path.name), origin=path.name)
    except (KeyLoadError, BundleFileError, OSError):
        return "it is not a PEM public key, though named after a key of the layout"
    if key.keyid != keyid:
        return f"it holds another key (keyid {key.keyid}) than the layout's {keyid[:8]}… its name claims"
    return None


def _why_unaccounted(folder: Path, relative: str, layout: Any) -> str:
    """Why a file that is no product and no verified attestation is there, as far as its name and content say."""
    name = relative.rsplit("/", 1)[-1]
    if relative == LAYOUT_FILE_NAME:
        return "it is another layout than the one verified; a bundle ships the layout it answers to, so replace it with that one"
    if "/" in relative:
        return "it is in a subfolder, and the last step delivers no file there"
    if name == f"{FINAL_PRODUCTS_INSPECTION}.link":
        return (
            "in-toto-verify writes this unsigned link when it runs the layout's inspection in the bundle folder; "
            "run in-toto-verify on a copy of the bundle (README, 'Verifying with in-toto-verify') and delete this file"
        )
    if name.endswith(".link"):
        step_names = {step.name for step in layout.steps}
        keyids = _file_signature_keyids(folder / relative)
        step, _, _ = name.partition(".")
        if not keyids:
            return "it is named like a link, but it is not signed in-toto link metadata"
        if step in step_names:
            authorised = next((step_.pubkeys for step_ in layout.steps if step_.name == step), [])
            signer = next((keyid for keyid in keyids if keyid in authorised), None)
            if signer is not None and link_file_name(step, signer) != name:
                return (
                    f"its file name does not match its signer {signer[:8]}…: in-toto reads this step's link by that "
                    f"signer from {link_file_name(step, signer)}"
                )
        return f"it is named like a link, but it is not a verified link of any step (signed by {', '.join(keyids)})"
    if fnmatch.fnmatch(name, "*.intoto.jsonl") or fnmatch.fnmatch(name, "*.sigstore.json"):
        return "it is named like a provenance or Sigstore bundle, but belongs to no delivered component"
    return "it is neither a final product of the last step nor an attestation of this bundle"


def _unaccounted_files_error(folder: Path, unaccounted: Mapping[str, str], step_name: str) -> VerificationError:
    """One readable message for all unaccounted files: the first few, each with why, and how many in all."""
    names = sorted(unaccounted)
    described = "; ".join(f"{name} ({unaccounted[name]})" for name in names[:_SHOWN])
    more = f"; and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return FinalProductError(
        f"{len(names)} file(s) in {folder} are not vouched for by this bundle's attestations: {described}{more}. "
        "Nothing that verified vouches for them, so they must not ship with it: remove them, or rebuild.",
        step=step_name,
        artifact=names[0],
        check="no unattested files",
    )


def _some(names: Iterable[str]) -> str:
    """The first `_SHOWN` names and how many more, so that a message stays readable for any number of files."""
    listed = sorted(names)
    shown = ", ".join(listed[:_SHOWN])
    return f"{shown} and {len(listed) - _SHOWN} more ({len(listed)} in all)" if len(listed) > _SHOWN else shown


def _verify_lockfile(steps: Sequence[Any], links: Mapping[str, Link], on_disk: Mapping[str, str]) -> list[tuple[str, str]]:
    """The delivered Cargo.lock must be the one every step that read a Cargo.lock recorded; returns (step, check) pairs.

    The layout's rules chain it already (package MATCHes vendor's material);
    this holds for any layout, so a looser one cannot deliver a lockfile other
    than the one the crates were vendored and built with.
    """
    last_step = steps[-1].name
    if LOCKFILE not in on_disk:
        raise LockfileMismatchError(
            f"the bundle delivers no {LOCKFILE}, so nothing shows which crates the component was built from; "
            f"step '{last_step}' must deliver it.",
            step=last_step,
            artifact=LOCKFILE,
            check=f"{LOCKFILE} delivered",
        )
    # The step that built the component is named first when several disagree: its lockfile is the one that counts.
    builder = next((step.name for step in steps if any(path.endswith(".wasm") for path in links[step.name].products)), None)
    readers = sorted((step.name for step in steps if LOCKFILE in links[step.name].materials), key=lambda name: name != builder)
    if not readers:
        raise LockfileMismatchError(
            f"no step's link records {LOCKFILE} as a material, so nothing attests that the build used the delivered one.",
            step=last_step,
            artifact=LOCKFILE,
        )
    for step_name in readers:
        recorded = links[step_name].materials[LOCKFILE].get("sha256")
        if recorded != on_disk[LOCKFILE]:
            raise LockfileMismatchError(
                f"the {LOCKFILE} in the folder has sha256 {on_disk[LOCKFILE]}, but step '{step_name}' recorded that it "
                f"used {recorded}: the lockfile was replaced after that step. Do not use these artifacts.",
                step=step_name,
                artifact=LOCKFILE,
            )
    return [(step_name, f"{LOCKFILE} in the folder is the one it used ({on_disk[LOCKFILE]})") for step_name in readers]


def _verify_sboms(folder: Path, steps: Sequence[Any], links: Mapping[str, Link], on_disk: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each delivered component's SBOM (`<stem>.cdx.json`) must describe it; returns (step, check) pairs.

    A failure names the step whose link first records the SBOM as a product:
    the step that wrote it.
    """
    last_step = steps[-1].name
    components = sorted(path for path in on_disk if path.endswith(".wasm"))
    if not components:
        raise SbomComponentError(
            f"step '{last_step}' delivers no .wasm component, so the bundle attests nothing this tool can check.",
            step=last_step,
            check="component delivered",
        )
    checks = []
    for component in components:
        sbom = ComponentFiles(component).sbom
        if sbom not in on_disk:
            raise SbomComponentError(
                f"step '{last_step}' delivers {component} but not its SBOM {sbom}; every component ships with one.",
                step=last_step,
                artifact=sbom,
                check="SBOM delivered",
            )
        writer = next((step.name for step in steps if sbom in links[step.name].products), last_step)
        claimed = _sbom_component_sha256(folder, sbom, writer)
        if claimed != on_disk[component]:
            raise SbomComponentError(
                f"its metadata.component has sha256 {claimed}, but {component} has {on_disk[component]}: the SBOM "
                "describes another build of the component. Do not use these artifacts.",
                step=writer,
                artifact=sbom,
            )
        checks.append((writer, f"{sbom} metadata.component sha256 equals {component}"))
    return checks


def _verify_dependency_records(
    folder: Path, steps: Sequence[Any], links: Mapping[str, Link], on_disk: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Each component's embedded `.dep-v0`, its SBOM and the Cargo.lock must name the same linked crates.

    Runs after `_verify_lockfile` and `_verify_sboms`, so the files are those
    the steps attested. A failure names the step whose link last modified the
    component (embed, in our layouts): the step that wrote the dependency list.
    """
    lockfile = _read_for_check(
        folder, LOCKFILE, steps[-1].name, parse=lambda content: parse_cargo_lock(content.decode("utf-8"), origin=LOCKFILE)
    )
    checks = []
    for component in sorted(path for path in on_disk if path.endswith(".wasm")):
        writer = next((step.name for step in reversed(steps) if _modifies(links[step.name], component)), steps[-1].name)
        sbom = ComponentFiles(component).sbom
        embedded = _read_for_check(folder, component, writer, parse=embedded_dependencies, limit=ARTIFACT_SIZE_LIMIT)
        if embedded is None:
            raise DependencyRecordsError(
                "the component carries no .dep-v0 dependency list, so scanners cannot see what it links; "
                "rebuild it with the embed step.",
                step=writer,
                artifact=component,
                check="embedded dependency list present",
            )
        sbom_crates = _read_for_check(folder, sbom, writer, parse=lambda content: read_sbom_crates(content, origin=sbom))
        try:
            check_dependency_agreement(sbom_crates=sbom_crates, embedded=embedded, lockfile=lockfile)
        except DependencyMismatch as error:
            raise DependencyRecordsError(
                f"{error} Do not use these artifacts.",
                step=writer,
                artifact=component,
                check="SBOM = .dep-v0 ⊆ Cargo.lock",
            ) from None
        checks.append(
            (writer, f"{component}: its .dep-v0, {sbom} and {LOCKFILE} name the same linked crates and versions")
        )
    return checks


def _modifies(link: Link, artifact: str) -> bool:
    """Whether the link records `artifact` as both a material and a product, with different contents."""
    material, product = link.materials.get(artifact), link.products.get(artifact)
    return material is not None and product is not None and material != product


def _verify_capability_policy(folder: Path, layout: Any, layout_name: str, on_disk: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each delivered component's imports and exports must keep to the policy the owner signed into the layout.

    The policy is read from the signed layout only (its readme, see
    `capabilities.policy`), never from the bundle's other files or the
    build's configuration; a layout without one sets no policy.
    """
    last_step = layout.steps[-1].name
    try:
        policy = policy_from_readme(layout.readme or "", origin=layout_name)
    except CapabilityPolicyFormatError as error:
        raise LayoutFormatError(str(error), artifact=layout_name, check="capability policy format") from None
    if policy is None:
        return []
    checks = []
    for component in sorted(path for path in on_disk if path.endswith(".wasm")):
        interface = _read_for_check(folder, component, last_step, parse=ComponentInterface.of_component, limit=ARTIFACT_SIZE_LIMIT)
        violations = policy.violations(interface)
        if violations:
            raise CapabilityPolicyError(
                "the component breaks the capability policy the layout owner signed:\n"
                + "\n".join(violations.lines())
                + f"\nThe policy ({policy.describe()}) is the owner's: only a layout they re-sign can change it. "
                "Do not use this component until the new capabilities are explained.",
                step=last_step,
                artifact=component,
            )
        checks.append(
            (last_step, f"{component} keeps to the signed capability policy ({len(interface.imports)} imports allowed, "
             f"{len(policy.required_exports)} required export(s) present)")
        )
    return checks


def _read_for_check(
    folder: Path, name: str, step_name: str, *, parse: Callable[[bytes], _Parsed], limit: int = METADATA_SIZE_LIMIT
) -> _Parsed:
    """Reads a bundle file within `limit` and parses it; any failure names the step, the file and why."""
    try:
        return parse(read_limited(folder.joinpath(*name.split("/")), limit, name=name))
    except BundleFileError as error:
        raise DependencyRecordsError(error.detail, step=step_name, artifact=name, check=error.check) from None
    except OSError as error:
        raise DependencyRecordsError(f"the file cannot be read ({error.strerror}).", step=step_name, artifact=name) from None
    except UnicodeDecodeError:
        raise DependencyRecordsError("the file is not UTF-8 text.", step=step_name, artifact=name) from None
    except WasmAttestError as error:
        raise DependencyRecordsError(str(error), step=step_name, artifact=name) from None


def _sbom_component_sha256(folder: Path, sbom: str, step_name: str) -> str | None:
    """The SHA-256 a CycloneDX JSON SBOM gives for `metadata.component`, or None when it gives none."""
    try:
        document = json.loads(read_limited(folder.joinpath(*sbom.split("/")), METADATA_SIZE_LIMIT, name=sbom))
        if document.get("bomFormat") != "CycloneDX":
            raise ValueError("not CycloneDX")
        hashes = document["metadata"]["component"].get("hashes", [])
        return next((entry["content"] for entry in hashes if entry.get("alg") == "SHA-256"), None)
    except BundleFileError as error:
        raise SbomComponentError(error.detail, step=step_name, artifact=sbom, check=error.check) from None
    except OSError as error:
        raise SbomComponentError(f"the SBOM cannot be read ({error.strerror}).", step=step_name, artifact=sbom) from None
    except _METADATA_ERRORS:
        raise SbomComponentError(
            "the file is not a CycloneDX JSON SBOM with a metadata.component; rebuild the component.",
            step=step_name,
            artifact=sbom,
        ) from None


def _run_inspection(inspection: Any, folder: Path, on_disk: Mapping[str, str], links: dict[str, Link], timeout: float) -> PassedChecks:
    """Runs an allowed inspection on copies of the final products and checks its rules as in-toto does.

    As in in-toto, a non-zero exit fails verification, and the inspection's
    link (kept in memory, never written) joins `links` so that later items'
    rules can refer to it.
    """
    command = shlex.join(inspection.run)
    try:
        run = run_inspection(inspection.run, {name: folder.joinpath(*name.split("/")) for name in on_disk}, timeout)
    except InspectionError as error:
        raise InspectionFailedError(str(error), step=inspection.name, check=error.check) from None
    except BundleFileError as error:
        raise InspectionFailedError(error.detail, step=inspection.name, artifact=error.artifact, check=error.check) from None
    except OSError as error:
        raise InspectionFailedError(
            f"the throwaway folder for `{command}` could not be prepared ({error.strerror}); check the space in the "
            "temporary folder.",
            step=inspection.name,
            check="inspection started",
        ) from None
    if run.return_value != 0:
        raise InspectionFailedError(
            f"`{command}` exited with status {run.return_value}; its output ended with: {run.output_tail.strip() or '(nothing)'}",
            step=inspection.name,
            check="inspection exit status",
        )
    links[inspection.name] = Link(
        name=inspection.name,
        command=list(inspection.run),
        materials={path: {"sha256": digest} for path, digest in run.materials.items()},
        products={path: {"sha256": digest} for path, digest in run.products.items()},
        byproducts={"return-value": run.return_value},
    )
    checks = [f"ran `{command}` (allowed) in a throwaway folder holding copies of the {len(on_disk)} final product(s): exit 0"]
    for source_type, rules in (("materials", inspection.expected_materials), ("products", inspection.expected_products)):
        _verify_rules(inspection.name, source_type, rules, links)
        checks.append(f"expected_{source_type}: " + "; ".join(" ".join(rule) for rule in rules))
    return PassedChecks(inspection.name, tuple(checks))


def _verify_provenance(
    path: Path, layout_keys: Mapping[str, Any], last_step: Any, on_disk: Mapping[str, str]
) -> tuple[list[str], list[Mapping[str, Any]]]:
    """Checks the provenance's signatures and subjects; returns the checks and the verified statements."""
    try:
        entries = read_provenance(read_limited(path, METADATA_SIZE_LIMIT, name=path.name), origin=path.name)
    except BundleFileError as error:
        raise ProvenanceVerificationError(error.detail, step=last_step.name, artifact=path.name, check=error.check) from None
    except OSError as error:
        raise ProvenanceVerificationError(f"{path} cannot be read ({error.strerror}).", step=last_step.name, artifact=path.name) from None
    except ProvenanceError as error:
        raise ProvenanceVerificationError(str(error), step=last_step.name, artifact=path.name) from None
    except _METADATA_ERRORS:
        raise ProvenanceVerificationError(
            "the file is not DSSE envelopes holding in-toto statements (truncated or damaged); rebuild the component.",
            step=last_step.name,
            artifact=path.name,
        ) from None
    keys = _step_keys(layout_keys, last_step)
    checks = []
    for envelope, statement in entries:
        try:
            accepted = envelope.verify(keys, 1)
        except (securesystemslib.exceptions.VerificationError, ValueError):
            authorised = sorted(set(envelope.signatures) & set(last_step.pubkeys))
            if authorised:
                detail = (
                    f"the signature by {authorised[0]}, a functionary the layout authorises for step '{last_step.name}', "
                    "does not match the payload: the provenance was changed after it was signed. Do not use these artifacts."
                )
            else:
                detail = (
                    f"the provenance is not signed by a functionary the layout authorises for step '{last_step.name}' "
                    f"({', '.join(last_step.pubkeys)}); it carries signatures by {', '.join(envelope.signatures) or 'no key'}."
                )
            raise ProvenanceSignatureError(detail, step=last_step.name, artifact=path.name) from None
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
            digest = subject.get("digest") if isinstance(subject, dict) else None
            claimed = digest.get("sha256") if isinstance(digest, dict) else None
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
    return checks, [statement for _, statement in entries]


def _step_keys(layout_keys: Mapping[str, Any], step: Any) -> list[SSlibKey]:
    """The public keys the layout authorises for `step`."""
    keys = []
    for keyid in step.pubkeys:
        if keyid in layout_keys:
            data = dict(layout_keys[keyid])
            data.pop("keyid", None)
            keys.append(SSlibKey.from_dict(keyid, data))
    return keys


def _verify_sigstore_bundles(
    folder: Path, bundle: Collection[str], layout: Any, links: Mapping[str, Link], on_disk: Mapping[str, str]
) -> list[PassedChecks]:
    """Checks each component's Sigstore bundles that are present (what cosign verifies), like the DSSE provenance.

    The provenance bundle must be signed by a functionary of the last step and
    carry exactly the payload of `<stem>.intoto.jsonl` (verified before); the
    SBOM bundle must be signed by a functionary of the step that wrote the SBOM
    and attest, about the component's digest, exactly the delivered SBOM.
    Bundles made before these files existed have none; when present, each must verify.
    """
    last_step = layout.steps[-1]
    passed = []
    for component in sorted(path for path in on_disk if path.endswith(".wasm")):
        names = ComponentFiles(component)
        if names.provenance_bundle in bundle:
            parsed, checks = _verify_statement_bundle(
                folder, names.provenance_bundle, layout.keys, last_step, component, on_disk, PROVENANCE_PREDICATE_TYPE
            )
            if names.provenance in bundle:  # verified before; absent only when provenance is not required
                provenance = read_provenance(read_limited(folder / names.provenance, METADATA_SIZE_LIMIT, name=names.provenance))
                if [parsed.payload] != [envelope.payload for envelope, _ in provenance]:
                    raise _bundle_content_error(
                        names.provenance_bundle, last_step.name, f"its statement is not the one {names.provenance} carries"
                    )
                checks.append(f"its statement is the one {names.provenance} carries")
            passed.append(PassedChecks(names.provenance_bundle, tuple(checks)))
        if names.sbom_bundle in bundle:
            writer = next((step for step in layout.steps if names.sbom in links[step.name].products), last_step)
            parsed, checks = _verify_statement_bundle(
                folder, names.sbom_bundle, layout.keys, writer, component, on_disk, CYCLONEDX_PREDICATE_TYPE
            )
            sbom = _read_for_check(folder, names.sbom, writer.name, parse=json.loads)
            if parsed.statement.get("predicate") != sbom:
                raise _bundle_content_error(names.sbom_bundle, writer.name, f"its predicate is not the delivered {names.sbom}")
            passed.append(PassedChecks(names.sbom_bundle, (*checks, f"its predicate is the delivered {names.sbom}")))
    return passed


def _verify_oci_layout(
    folder: Path, bundle: Collection[str], layout: Any, links: Mapping[str, Link], on_disk: Mapping[str, str]
) -> list[PassedChecks]:
    """Checks `oci/` against this bundle, once everything else verified; bundles without one (older builds) pass."""
    prefix = f"{LAYOUT_FOLDER}/"
    layout_files = [name[len(prefix) :] for name in bundle if name.startswith(prefix)]
    if not layout_files:
        return []
    last_step = layout.steps[-1]
    components = sorted(path for path in on_disk if path.endswith(".wasm"))
    if len(components) != 1:
        raise OciLayoutVerificationError(
            f"an OCI layout carries one component, and this bundle delivers {len(components)}.", step=last_step.name, artifact=prefix
        )
    names = ComponentFiles(components[0])
    sbom_writer = next((step for step in layout.steps if names.sbom in links[step.name].products), last_step)
    if names.provenance not in bundle:
        raise OciLayoutVerificationError(
            f"the OCI layout attests a provenance, and the bundle has no {names.provenance} to compare it with.",
            step=last_step.name,
            artifact=names.provenance,
            check="provenance present",
        )
    provenance = read_provenance(read_limited(folder / names.provenance, METADATA_SIZE_LIMIT, name=names.provenance))
    evidence = {
        name: sha256_limited(folder / name, ARTIFACT_SIZE_LIMIT, name=name)
        for name in bundle
        if not name.startswith(prefix) and name != names.component
    }
    verified = VerifiedBundle(
        component_name=names.component,
        component=read_limited(folder / names.component, ARTIFACT_SIZE_LIMIT, name=names.component),
        sbom=_read_for_check(folder, names.sbom, sbom_writer.name, parse=json.loads),
        provenance_predicate=provenance[0][1].get("predicate"),
        evidence=evidence,
        sbom_signers=Signed(sbom_writer.name, _step_keys(layout.keys, sbom_writer)),
        provenance_signers=Signed(last_step.name, _step_keys(layout.keys, last_step)),
    )
    try:
        checks = check_layout(folder / LAYOUT_FOLDER, layout_files, verified)
    except OciLayoutError as error:
        raise OciLayoutVerificationError(error.detail, step=last_step.name, artifact=error.artifact, check=error.check) from None
    return [PassedChecks(f"OCI layout {prefix}", tuple(checks))]


def _bundle_content_error(file_name: str, step_name: str, detail: str) -> VerificationError:
    return ProvenanceVerificationError(
        f"it is validly signed, but {detail}: it attests something other than what this bundle delivers. Do not use these artifacts.",
        step=step_name,
        artifact=file_name,
        check="Sigstore bundle attests the delivered files",
    )


def _read_sigstore(folder: Path, file_name: str, step_name: str) -> StatementBundle:
    try:
        return read_statement_bundle(read_limited(folder / file_name, METADATA_SIZE_LIMIT, name=file_name), origin=file_name)
    except BundleFileError as error:
        raise ProvenanceVerificationError(error.detail, step=step_name, artifact=file_name, check=error.check) from None
    except OSError as error:
        raise ProvenanceVerificationError(f"it cannot be read ({error.strerror}).", step=step_name, artifact=file_name) from None
    except SigstoreBundleError as error:
        raise ProvenanceVerificationError(str(error), step=step_name, artifact=file_name, check="Sigstore bundle format") from None


def _verify_statement_bundle(
    folder: Path, file_name: str, layout_keys: Mapping[str, Any], step: Any, component: str, on_disk: Mapping[str, str], predicate_type: str
) -> tuple[StatementBundle, list[str]]:
    """Signature by a functionary of `step`, the predicate type, and a single subject: the component on disk."""
    parsed = _read_sigstore(folder, file_name, step.name)
    accepted = verify_envelope(parsed, _step_keys(layout_keys, step))
    if not accepted:
        raise ProvenanceSignatureError(
            f"no signature in it verifies with a functionary key the layout authorises for step '{step.name}' "
            f"({', '.join(step.pubkeys)}): it was changed after signing, or signed by another key. Do not use these artifacts.",
            step=step.name,
            artifact=file_name,
            check="Sigstore bundle signature",
        )
    if parsed.statement.get("predicateType") != predicate_type:
        raise ProvenanceVerificationError(
            f"its predicateType is {parsed.statement.get('predicateType')!r}, not {predicate_type}.",
            step=step.name,
            artifact=file_name,
        )
    subject = {"name": component, "digest": {"sha256": on_disk[component]}}
    if parsed.statement.get("subject") != [subject]:
        raise ProvenanceSubjectError(
            f"its subject is {json.dumps(parsed.statement.get('subject'))[:300]}, not {component} with sha256 "
            f"{on_disk[component]} (the file on disk): it attests another build. Do not use these artifacts.",
            step=step.name,
            artifact=file_name,
        )
    return parsed, [f"signed by {', '.join(accepted)}, a functionary of step '{step.name}'", f"subject '{component}' sha256 equals the file on disk"]


def _signature_keyids(metadata: Any) -> list[str]:
    if isinstance(metadata, InTotoEnvelope):
        return sorted(metadata.signatures)
    return sorted(signature.get("keyid", "?") for signature in getattr(metadata, "signatures", []))


def _file_signature_keyids(path: Path) -> list[str]:
    try:
        return _signature_keyids(Metadata.load(str(path)))
    except (OSError, *_METADATA_ERRORS):
        return []
