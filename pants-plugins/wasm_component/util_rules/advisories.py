"""Loads the configured advisory database and policy for the gate; the matching itself is core code.

The database lives outside Pants' view (often a checkout elsewhere), so it is
read by an uncacheable rule, once per run: a database updated between two runs
with pantsd warm is read again. Rules that depend on it are keyed by its
digest and today's date (an exception's expiry), not by its contents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from pants.base.build_root import BuildRoot
from pants.engine.rules import _uncacheable_rule, collect_rules

from wasm_attest.advisories.attestation import AdvisoryCheck
from wasm_attest.advisories.database import AdvisoryDatabase, AdvisoryDatabaseError, load_database
from wasm_attest.advisories.gate import AdvisoryPolicy, AdvisoryPolicyError, policy_from_options
from wasm_component.subsystems.advisories import AdvisoriesSubsystem


@dataclass(frozen=True)
class AdvisorySetup:
    """The gate as configured: None when `[wasm-advisories].database` is unset."""

    digest: str | None
    today: date
    policy: AdvisoryPolicy | None
    database: AdvisoryDatabase | None = field(default=None, compare=False, hash=False)
    """Compared and hashed through `digest`: the digest pins its contents."""
    error: str | None = None
    """Why the configuration cannot be used; raised by `check`, so each goal reports it its own way."""

    def raise_if_misconfigured(self) -> None:
        """Fails naming the option when `[wasm-advisories]` cannot be used (before anything is built)."""
        if self.error is not None:
            raise AdvisoryDatabaseError(self.error)

    @property
    def check(self) -> AdvisoryCheck | None:
        """The database, policy and date to gate with; None when no database is configured."""
        self.raise_if_misconfigured()
        if self.database is None or self.policy is None:
            return None
        return AdvisoryCheck(self.database, self.policy, self.today)


@_uncacheable_rule(desc="Read the advisory database")
async def advisory_setup(options: AdvisoriesSubsystem) -> AdvisorySetup:
    today = datetime.now(timezone.utc).date()
    if not options.database:
        return AdvisorySetup(None, today, None)
    try:
        policy = policy_from_options(
            severity_threshold=options.severity_threshold,
            informational=options.informational,
            host_only=options.host_only,
            exceptions=options.exceptions,
            origin="[wasm-advisories]",
        )
    except AdvisoryPolicyError as error:
        return AdvisorySetup(None, today, None, error=str(error))
    try:
        database = load_database(Path(BuildRoot().path, options.database))
    except (AdvisoryDatabaseError, OSError) as error:
        return AdvisorySetup(None, today, None, error=f"[wasm-advisories].database = {options.database!r}: {error}")
    return AdvisorySetup(database.digest, today, policy, database)


def rules():
    return collect_rules()
