"""Turns `[wasm-sandbox]` into what every cargo Process needs to run isolated, and checks it works here.

The `bwrap` binary is a pinned input digest, like the toolchain, so isolation
does not depend on what the host has installed. Whether this host lets a
process create namespaces is a property of the host, not of the inputs, so it
is probed once per Pants run (never cached across runs) before anything is
built: a host without user namespaces gets one clear message instead of a
failing cargo process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.core.util_rules.external_tool import DownloadedExternalTool, ExternalToolRequest
from pants.core.util_rules.system_binaries import BashBinary
from pants.engine.fs import Digest
from pants.engine.platform import Platform
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from wasm_attest.errors import WasmAttestError
from wasm_attest.isolation import BUBBLEWRAP, NAMESPACES, BuildIsolation, bubblewrap_isolation, no_isolation
from wasm_component.subsystems.sandbox import Isolation, WasmSandboxSubsystem
from wasm_component.util_rules.set_up_inputs import raise_if_set_up_missing

# Where the pinned bwrap appears in a sandbox (relative to the sandbox root).
SANDBOX_MOUNT = "__wasm_sandbox"


class SandboxUnavailableError(WasmAttestError):
    """This host cannot run the build isolated."""


@dataclass(frozen=True)
class BuildSandbox:
    """How cargo processes are isolated: the pinned bwrap (None when turned off) and what to record."""

    digest: Digest | None
    exe: str
    isolation: BuildIsolation

    @property
    def immutable_input_digests(self) -> FrozenDict[str, Digest]:
        return FrozenDict({SANDBOX_MOUNT: self.digest} if self.digest is not None else {})

    @property
    def env(self) -> FrozenDict[str, str]:
        """What cargo_in_sandbox.sh reads; an empty WASM_ATTEST_BWRAP means unisolated."""
        return FrozenDict({"WASM_ATTEST_BWRAP": f"{SANDBOX_MOUNT}/{self.exe}" if self.digest is not None else ""})


@rule(desc="Check that builds can run isolated", level=LogLevel.DEBUG)
async def find_build_sandbox(subsystem: WasmSandboxSubsystem, platform: Platform, bash: BashBinary) -> BuildSandbox:
    if subsystem.isolation is Isolation.NONE:
        return BuildSandbox(digest=None, exe="", isolation=no_isolation())
    request: ExternalToolRequest = subsystem.get_request(platform)
    raise_if_set_up_missing(subsystem.options_scope, request)
    downloaded = await Get(DownloadedExternalTool, ExternalToolRequest, request)
    sha256 = request.download_file_request.expected_digest.fingerprint
    sandbox = BuildSandbox(
        digest=downloaded.digest, exe=downloaded.exe, isolation=bubblewrap_isolation(subsystem.version, sha256)
    )
    probe = await Get(FallibleProcessResult, Process, _probe(sandbox, bash))
    if probe.exit_code != 0:
        raise SandboxUnavailableError(_unavailable_message(probe.stderr.decode(errors="replace").strip()))
    return sandbox


def _probe(sandbox: BuildSandbox, bash: BashBinary) -> Process:
    """Creates the same namespaces a build does and runs `true` in them."""
    script = f'exec "$PWD/{SANDBOX_MOUNT}/{sandbox.exe}" --unshare-all --die-with-parent --ro-bind / / --proc /proc /usr/bin/true'
    return Process(
        argv=(bash.path, "-c", script),
        immutable_input_digests=sandbox.immutable_input_digests,
        description=f"Check that {BUBBLEWRAP} can create namespaces ({', '.join(NAMESPACES)})",
        cache_scope=ProcessCacheScope.PER_SESSION,
        level=LogLevel.DEBUG,
    )


def _unavailable_message(bwrap_error: str) -> str:
    return (
        f"Builds run isolated in Linux namespaces ({', '.join(NAMESPACES)}) with bubblewrap, and this host "
        f"refused to create them: {bwrap_error or 'bwrap failed without a message'}\n"
        "Enable unprivileged user namespaces (as root: `sysctl -w kernel.unprivileged_userns_clone=1` on Debian, "
        "`sysctl -w user.max_user_namespaces=15000` elsewhere; in a container, allow the `unshare`/`clone` "
        "system calls and mounting /proc), or build as a user who may create them.\n"
        "For development only, `[wasm-sandbox].isolation = \"none\"` in pants.toml builds without isolation: "
        "a dependency's build script can then read your keys and your processes' environments, the provenance "
        "says so, and verification fails such builds unless `[wasm-attest].require_isolated_builds = false`."
    )


def rules():
    return collect_rules()
