"""The advisory gate: the crates an SBOM lists, matched against a database, judged by a policy.

Pure: given the crates, the database, the policy and today's date, it says
what was found and what that means (deny, warn, ignore, excepted). The Pants
rules and the verifier only read options and files and call `evaluate`.

Linked crates (SBOM scope `required`) are what the component contains; host-only
crates (scope `excluded`: build scripts, proc-macros and what they use) ran
at build time and are judged by `host_only` on their own, so a vulnerable
proc-macro is reported separately from one shipped in the component.
In-repo crates (no purl) are never matched: a local crate that happens to share
a crates.io name is not that crate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Iterable, Mapping

from wasm_attest.advisories.database import INFORMATIONAL_KINDS, Advisory, AdvisoryDatabase
from wasm_attest.advisories.severity import Severity
from wasm_attest.errors import WasmAttestError
from wasm_attest.sbom_crates import REQUIRED_SCOPE, SbomCrate

LINKED = "linked"
HOST_ONLY = "host-only"


class AdvisoryPolicyError(WasmAttestError):
    """The advisory policy's configuration is invalid (an exception without a reason, a bad threshold)."""


class Action(Enum):
    DENY = "deny"
    WARN = "warn"
    IGNORE = "ignore"


@dataclass(frozen=True)
class AdvisoryException:
    """An accepted advisory: why, and until when. Expired, it fails the gate until renewed or removed."""

    id: str
    reason: str
    expires: date


@dataclass(frozen=True)
class AdvisoryPolicy:
    severity_threshold: Severity = Severity.LOW
    """Vulnerabilities at or above it deny; below it they warn. `unknown` (no CVSS) reaches every threshold."""
    informational: tuple[tuple[str, Action], ...] = ()
    """What an informational advisory does, by kind; kinds not named warn."""
    host_only: Action = Action.WARN
    """What a finding in a host-only crate does at most (it never denies more than a linked one would)."""
    exceptions: tuple[AdvisoryException, ...] = ()

    def informational_action(self, kind: str) -> Action:
        return dict(self.informational).get(kind, Action.WARN)


def policy_from_options(
    *,
    severity_threshold: str,
    informational: Mapping[str, str],
    host_only: str,
    exceptions: Mapping[str, object],
    origin: str,
) -> AdvisoryPolicy:
    """The policy from configuration values; `exceptions` maps advisory ids to `{reason, expires}`.

    `origin` (e.g. `[wasm-advisories]`) names where the values came from in errors.
    """
    try:
        threshold = Severity(severity_threshold)
    except ValueError:
        raise AdvisoryPolicyError(
            f"{origin} severity_threshold {severity_threshold!r} is not one of none, low, medium, high, critical."
        ) from None
    actions = {}
    for kind, action in informational.items():
        if kind not in INFORMATIONAL_KINDS:
            raise AdvisoryPolicyError(f"{origin} informational names {kind!r}; the kinds are {', '.join(INFORMATIONAL_KINDS)}.")
        actions[kind] = _action(action, f"{origin} informational[{kind!r}]")
    return AdvisoryPolicy(
        severity_threshold=threshold,
        informational=tuple(sorted(actions.items())),
        host_only=_action(host_only, f"{origin} host_only"),
        exceptions=tuple(_exception(advisory_id, entry, origin) for advisory_id, entry in sorted(exceptions.items())),
    )


def _action(value: str, where: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise AdvisoryPolicyError(f"{where} is {value!r}; use deny, warn or ignore.") from None


def _exception(advisory_id: str, entry: object, origin: str) -> AdvisoryException:
    if not isinstance(entry, Mapping):
        raise AdvisoryPolicyError(
            f"{origin} exceptions: {advisory_id} must map to {{reason = \"...\", expires = \"YYYY-MM-DD\"}}, not {entry!r}."
        )
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise AdvisoryPolicyError(f"{origin} exceptions: {advisory_id} has no reason; say why the advisory does not apply.")
    expires = entry.get("expires")
    try:
        expiry = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
    except ValueError:
        raise AdvisoryPolicyError(
            f"{origin} exceptions: {advisory_id} needs an expiry date (expires = \"YYYY-MM-DD\"), not {expires!r}."
        ) from None
    return AdvisoryException(advisory_id, reason.strip(), expiry)


@dataclass(frozen=True)
class Finding:
    """One advisory matching one crate of one component, and what the policy made of it."""

    advisory: Advisory
    crate: str
    version: str
    scope: str
    """`linked` or `host-only`."""
    component: str
    action: Action
    exception: AdvisoryException | None = None

    def line(self) -> str:
        """The one line a failure prints: crate, version, advisory id, title, severity, fixed versions, component."""
        kind = f"informational: {self.advisory.informational}" if self.advisory.informational else f"severity {self.advisory.severity.value}"
        host = ", host-only (ran at build time, not linked)" if self.scope == HOST_ONLY else ""
        return (
            f"{self.crate} {self.version}: {self.advisory.id} \"{self.advisory.title}\" ({kind}; fixed in "
            f"{self.advisory.fixed_versions}){host} in {self.component}"
        )


@dataclass(frozen=True)
class GateResult:
    database_digest: str
    findings: tuple[Finding, ...]
    expired_exceptions: tuple[AdvisoryException, ...]

    @property
    def violations(self) -> tuple[str, ...]:
        """One line per denied finding, then one per expired exception."""
        return (
            *(finding.line() for finding in self.findings if finding.action is Action.DENY and finding.exception is None),
            *(
                f"the exception for {exception.id} expired on {exception.expires.isoformat()} ({exception.reason}); "
                "fix the crate, or renew the exception with a new date and reason"
                for exception in self.expired_exceptions
            ),
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        lines = []
        for finding in self.findings:
            if finding.exception is not None:
                lines.append(
                    f"{finding.line()}: excepted until {finding.exception.expires.isoformat()} ({finding.exception.reason})"
                )
            elif finding.action is Action.WARN:
                lines.append(finding.line())
        return tuple(lines)

    @property
    def passed(self) -> bool:
        return not self.violations


def evaluate(
    crates: Iterable[SbomCrate], component: str, database: AdvisoryDatabase, policy: AdvisoryPolicy, today: date
) -> GateResult:
    """Every advisory affecting a registry crate of the SBOM, with the policy's decision; withdrawn ones are skipped."""
    exceptions = {exception.id: exception for exception in policy.exceptions}
    expired = tuple(exception for exception in policy.exceptions if exception.expires < today)
    findings = []
    for crate in sorted(crates, key=lambda crate: (crate.name, crate.version)):
        if crate.purl is None:
            continue
        scope = LINKED if crate.scope == REQUIRED_SCOPE else HOST_ONLY
        for advisory in database.advisories_for(crate.name):
            if not advisory.affects(crate.version):
                continue
            exception = exceptions.get(advisory.id)
            findings.append(
                Finding(
                    advisory=advisory,
                    crate=crate.name,
                    version=crate.version,
                    scope=scope,
                    component=component,
                    action=_decide(advisory, scope, policy),
                    exception=exception if exception is not None and exception.expires >= today else None,
                )
            )
    return GateResult(database.digest, tuple(findings), expired)


def _decide(advisory: Advisory, scope: str, policy: AdvisoryPolicy) -> Action:
    if advisory.informational:
        action = policy.informational_action(advisory.informational)
    elif advisory.severity.rank >= policy.severity_threshold.rank:
        action = Action.DENY
    else:
        action = Action.WARN
    if scope == HOST_ONLY:
        order = [Action.IGNORE, Action.WARN, Action.DENY]
        action = order[min(order.index(action), order.index(policy.host_only))]
    return action
