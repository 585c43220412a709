"""Turns the `[wasm-toolchain]` options into something a Process can run.

The pinned archive becomes an immutable input digest, materialised once per
machine and linked into every sandbox, so builds stay hermetic and
remote-execution safe; a local rustup toolchain is addressed by absolute path
and identified by `rustc -vV` so that a changed toolchain changes cache keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.core.util_rules.external_tool import DownloadedExternalTool, ExternalToolRequest
from pants.core.util_rules.system_binaries import BinaryPathRequest, BinaryPaths
from pants.engine.fs import Digest
from pants.engine.platform import Platform
from pants.engine.process import Process, ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from wasm_component.subsystems.toolchain import WasmToolchainSubsystem

# Where the pinned toolchain appears in a sandbox (relative to the sandbox root).
TOOLCHAIN_MOUNT = "__wasm_toolchain"

_HOST_LINKER_REQUEST = BinaryPathRequest(binary_name="cc", search_path=("/usr/bin", "/bin", "/usr/local/bin"))


@dataclass(frozen=True)
class RustToolchain:
    """cargo and rustc as a sandboxed Process sees them, plus the host linker for build scripts."""

    root: str
    digest: Digest | None
    identity: str
    host_linker: str

    @property
    def immutable_input_digests(self) -> FrozenDict[str, Digest]:
        return FrozenDict({self.root: self.digest} if self.digest is not None else {})

    @property
    def env(self) -> FrozenDict[str, str]:
        """Variables the cargo wrapper scripts read; part of every Process's cache key."""
        return FrozenDict(
            {
                "WASM_ATTEST_TOOLCHAIN": self.root,
                "WASM_ATTEST_TOOLCHAIN_ID": self.identity,
                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": self.host_linker,
            }
        )


@rule(desc="Set up the wasm32-wasip2 Rust toolchain", level=LogLevel.DEBUG)
async def find_rust_toolchain(subsystem: WasmToolchainSubsystem, platform: Platform) -> RustToolchain:
    host_linkers = await Get(BinaryPaths, BinaryPathRequest, _HOST_LINKER_REQUEST)
    linker = host_linkers.first_path_or_raise(
        _HOST_LINKER_REQUEST,
        rationale="link the build scripts and proc-macros of Rust crates for the host",
    ).path
    if subsystem.rustup_toolchain:
        identity = await Get(
            ProcessResult,
            Process(
                argv=(f"{subsystem.rustup_toolchain}/bin/rustc", "-vV"),
                description=f"Identify the Rust toolchain at {subsystem.rustup_toolchain}",
                cache_scope=ProcessCacheScope.PER_RESTART_SUCCESSFUL,
                level=LogLevel.DEBUG,
            ),
        )
        return RustToolchain(
            root=subsystem.rustup_toolchain,
            digest=None,
            identity=identity.stdout.decode().strip(),
            host_linker=linker,
        )
    request: ExternalToolRequest = subsystem.get_request(platform)
    downloaded = await Get(DownloadedExternalTool, ExternalToolRequest, request)
    pinned = request.download_file_request.expected_digest
    return RustToolchain(
        root=TOOLCHAIN_MOUNT,
        digest=downloaded.digest,
        identity=f"wasm-toolchain {subsystem.version} sha256:{pinned.fingerprint}",
        host_linker=linker,
    )


def rules():
    return collect_rules()
