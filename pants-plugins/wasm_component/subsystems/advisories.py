"""`[wasm-advisories]`: the offline advisory database and the policy the gate applies."""

from __future__ import annotations

from pants.option.option_types import DictOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class AdvisoriesSubsystem(Subsystem):
    options_scope = "wasm-advisories"
    help = softwrap(
        """
        The advisory gate of `pants package` and `pants verify-layout`: every crate a
        component links (and, reported apart, every host-only crate that ran at build time)
        is matched against a local copy of an advisory database in RustSec's advisory-db
        layout. Off until `database` is set. The database is never fetched.
        """
    )

    database = StrOption(
        default=None,
        help=softwrap(
            """
            The advisory database: a folder in RustSec's advisory-db layout
            (`crates/<crate>/RUSTSEC-YYYY-NNNN.md`), absolute or relative to the build root,
            e.g. a checkout of rustsec/advisory-db. Unset: no gate.
            """
        ),
    )
    severity_threshold = StrOption(
        default="low",
        help=softwrap(
            """
            Vulnerabilities of this CVSS severity or above fail (`none`, `low`, `medium`,
            `high`, `critical`); those below it are warnings. An advisory without a CVSS
            vector always fails.
            """
        ),
    )
    informational = DictOption[str](
        default={},
        help=softwrap(
            """
            What informational advisories do, by kind: `{"unmaintained": "warn",
            "unsound": "deny", "notice": "ignore"}`; `deny`, `warn` or `ignore`. Kinds not
            named warn.
            """
        ),
    )
    host_only = StrOption(
        default="warn",
        help=softwrap(
            """
            The most a finding in a host-only crate (a build script's or proc-macro's
            dependency, not linked) may do: `deny` judges it like a linked crate, `warn`
            reports it, `ignore` drops it.
            """
        ),
    )
    exceptions = DictOption[dict](
        default={},
        help=softwrap(
            """
            Accepted advisories, by id: `{"RUSTSEC-2024-0001": {"reason": "...", "expires":
            "2025-06-30"}}`. Each needs a reason and an expiry date; once expired it fails
            the gate until renewed or removed.
            """
        ),
    )
