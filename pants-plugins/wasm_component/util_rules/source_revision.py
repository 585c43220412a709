"""Which revision of the repository a build came from, and the timestamp its outputs carry.

Attestations must be byte-for-byte reproducible, so their timestamps never
come from the clock: SOURCE_DATE_EPOCH when the caller sets it (the
reproducible-builds convention), else the time of the checked-out commit, else
the epoch itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.base.build_root import BuildRoot
from pants.core.util_rules.system_binaries import MaybeGitBinary
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel



@dataclass(frozen=True)
class SourceRevision:
    """The git commit of the build root (None outside git) and the build's timestamp in epoch seconds."""

    commit: str | None
    timestamp: int


@rule(desc="Find the source revision")
async def source_revision(maybe_git: MaybeGitBinary) -> SourceRevision:
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(["SOURCE_DATE_EPOCH"]))
    commit, commit_time = None, None
    if maybe_git.git_binary is not None:
        result = await Get(
            FallibleProcessResult,
            Process(
                argv=(maybe_git.git_binary.path, "-C", BuildRoot().path, "log", "-1", "--format=%H %ct"),
                description="Read the checked-out git commit",
                cache_scope=ProcessCacheScope.PER_SESSION,
                level=LogLevel.DEBUG,
            ),
        )
        if result.exit_code == 0 and result.stdout.strip():
            commit, raw_time = result.stdout.decode().split()
            commit_time = int(raw_time)
    if env.get("SOURCE_DATE_EPOCH"):
        return SourceRevision(commit, int(env["SOURCE_DATE_EPOCH"]))
    return SourceRevision(commit, commit_time or 0)


def rules():
    return collect_rules()
