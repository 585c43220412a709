"""Which revision of the repository a build came from, whether the files it reads are that revision's, and the
timestamp its reproducible outputs carry.

Reproducible outputs (component, SBOM, links) never take a time from the
clock: SOURCE_DATE_EPOCH when the caller sets it (the reproducible-builds
convention), else the time of the checked-out commit, else the epoch itself.

Whether the checkout is modified is asked of git, as an uncacheable
(`PER_SESSION`) Process: `git status --porcelain -z --untracked-files=all
--ignored=matching` of the whole repository, once per run (every component asks
the identical Process, which Pants runs once per session: one per component cost
30 git processes, about 2 s, on every no-op `package ::` of a 30-component
repository). `modified_paths` then keeps, per component, the entries that
matter to its build: an edited, staged, untracked or git-ignored source and a
deleted tracked file beside the sources, so an edited README elsewhere does not
mark every component modified. It runs through git
rather than by comparing Pants' digests with the commit's blobs because git
already knows the index, the ignore rules and renames, and answers from its
stat cache in milliseconds; a Process (not a subprocess inside a rule) keeps
it visible to Pants and, with `PER_SESSION`, asked afresh on every run, since
Pants does not see the `.git` folder change. `--no-optional-locks` keeps it from
refreshing the index, so it never collides with the user's own git commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.base.build_root import BuildRoot
from pants.core.util_rules.system_binaries import MaybeGitBinary
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import Digest, DigestEntries, FileEntry
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel

from wasm_attest.errors import WasmAttestError
from wasm_attest.source.checkout import Checkout, modified_paths, preferred_remote
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.util_rules.cargo_project import CargoProject


class GitStatusError(WasmAttestError):
    """git knows the commit but cannot say whether the build's files are that commit's."""


@dataclass(frozen=True)
class SourceRevision:
    """The git commit of the build root (None outside git), its network remote (None without one) and the build's
    reproducible timestamp in epoch seconds."""

    commit: str | None
    timestamp: int
    remote: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    project: CargoProject


@rule(desc="Find the source revision")
async def source_revision(maybe_git: MaybeGitBinary) -> SourceRevision:
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(["SOURCE_DATE_EPOCH"]))
    commit, commit_time, remote = None, None, None
    if maybe_git.git_binary is not None:
        result = await Get(FallibleProcessResult, Process, _git(maybe_git, "log", "-1", "--format=%H %ct", what="Read the checked-out git commit"))
        if result.exit_code == 0 and result.stdout.strip():
            commit, raw_time = result.stdout.decode().split()
            commit_time = int(raw_time)
            remotes = await Get(
                FallibleProcessResult,
                Process,
                _git(maybe_git, "config", "--get-regexp", r"^remote\..*\.url$", what="Read the git remotes"),
            )
            remote = preferred_remote(_remote_urls(remotes.stdout.decode(errors="replace")))
    timestamp = int(env["SOURCE_DATE_EPOCH"]) if env.get("SOURCE_DATE_EPOCH") else commit_time or 0
    return SourceRevision(commit, timestamp, remote)


@rule(desc="Check whether the sources are the commit's")
async def checkout_of(request: CheckoutRequest, maybe_git: MaybeGitBinary) -> Checkout:
    revision = await Get(SourceRevision)
    if revision.commit is None or maybe_git.git_binary is None:
        return Checkout(None, revision.remote)
    entries = await Get(DigestEntries, Digest, request.project.sources_digest)
    read = [entry.path for entry in entries if isinstance(entry, FileEntry)]
    status = await Get(
        FallibleProcessResult,
        Process,
        _git(
            maybe_git,
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            what=f"Check which files of the repository differ from commit {revision.commit[:12]}",
        ),
    )
    if status.exit_code != 0:
        raise GitStatusError(
            f"{request.project.address}: `git status` failed in {BuildRoot().path}, so whether the build's sources are "
            f"commit {revision.commit} is unknown: {status.stderr.decode(errors='replace').strip()}"
        )
    return Checkout(revision.commit, revision.remote, modified_paths(status.stdout, read))


def refuse_modified_checkout(
    project: CargoProject, checkout: Checkout, options: AttestationSubsystem, *, signed_layout: str | None
) -> None:
    """In release mode (or with `require_clean_tree`), a build whose files are not its commit's fails before it starts."""
    if options.require_clean_tree:
        checkout.require_clean(str(project.address), "[wasm-attest].require_clean_tree is set")
    elif options.require_signed_layouts:
        checkout.require_clean(str(project.address), "[wasm-attest].require_signed_layouts (release mode) is set")
    elif signed_layout:
        checkout.require_clean(str(project.address), f"the target builds in release mode (signed_layout {signed_layout})")


def _git(maybe_git: MaybeGitBinary, *args: str, what: str) -> Process:
    assert maybe_git.git_binary is not None
    return Process(
        argv=(maybe_git.git_binary.path, "--no-optional-locks", "-C", BuildRoot().path, *args),
        description=what,
        cache_scope=ProcessCacheScope.PER_SESSION,
        level=LogLevel.DEBUG,
    )


def _remote_urls(config: str) -> dict[str, str]:
    """`remote.<name>.url <url>` lines (git config --get-regexp) as name -> url."""
    remotes = {}
    for line in config.splitlines():
        key, _, url = line.partition(" ")
        if key.startswith("remote.") and key.endswith(".url") and url:
            remotes[key[len("remote.") : -len(".url")]] = url
    return remotes


def rules():
    return collect_rules()
