"""Turns the `[wasm-toolchain]` options into something a Process can run.

The pinned archive becomes an immutable input digest, materialised once per
machine and linked into every sandbox, so builds stay hermetic and
remote-execution safe; a local rustup toolchain is addressed by absolute path
and identified by `rustc -vV` so that a changed toolchain changes cache keys.

The archive is unpacked by a Process of our own rather than Pants' archive
extraction: the unpacked tree (about 530 MB) is that process's output, and a
process output is what a remote cache stores. It is rebuilt from the pinned
archive on every machine in seconds, so it must never take room in a shared
cache where it would evict the compiled results that are worth sharing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.core.util_rules.external_tool import ExternalToolRequest
from pants.core.util_rules.system_binaries import SEARCH_PATHS, BashBinary, BinaryPathRequest, BinaryPaths, TarBinary
from pants.engine.fs import CreateDigest, Digest, Directory, DownloadFile, FileContent, MergeDigests, RemovePrefix, Snapshot
from pants.engine.platform import Platform
from pants.engine.process import Process, ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.global_options import GlobalOptions
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from wasm_component.subsystems.toolchain import WasmToolchainSubsystem
from wasm_component.util_rules.set_up_inputs import raise_if_set_up_missing

# Where the pinned toolchain appears in a sandbox (relative to the sandbox root).
TOOLCHAIN_MOUNT = "__wasm_toolchain"

# Build scripts and proc-macros run on the host, so cargo links them with the
# system C compiler; that compiler finds `ld` through PATH, which sandboxes do
# not have, so a wrapper names ld's folder instead (gcc's -B).
HOST_LINKER_SCRIPT = "__host_linker"
_SYSTEM_BIN_DIRS = ("/usr/bin", "/bin", "/usr/local/bin")
_CC_REQUEST = BinaryPathRequest(binary_name="cc", search_path=_SYSTEM_BIN_DIRS)
_LD_REQUEST = BinaryPathRequest(binary_name="ld", search_path=_SYSTEM_BIN_DIRS)


@dataclass(frozen=True)
class RustToolchain:
    """cargo and rustc as a sandboxed Process sees them, plus the host linker for build scripts."""

    root: str
    digest: Digest | None
    identity: str
    host_linker_digest: Digest
    rustc_version: str
    cargo_version: str
    archive_sha256: str | None
    """The pinned archive's sha256; None for a local rustup toolchain, which is identified, not pinned."""

    @property
    def immutable_input_digests(self) -> FrozenDict[str, Digest]:
        return _immutable_inputs(self.root, self.digest)

    @property
    def rustc_release(self) -> str:
        """The `release:` line of `rustc -vV`, e.g. `1.96.0`."""
        for line in self.rustc_version.splitlines():
            if line.startswith("release:"):
                return line.split(":", 1)[1].strip()
        return self.rustc_version.splitlines()[0] if self.rustc_version else "unknown"

    @property
    def env(self) -> FrozenDict[str, str]:
        """Variables the cargo wrapper scripts read; part of every Process's cache key."""
        return FrozenDict(
            {
                "WASM_ATTEST_TOOLCHAIN": self.root,
                "WASM_ATTEST_TOOLCHAIN_ID": self.identity,
            }
        )


@dataclass(frozen=True)
class UnpackToolchainRequest:
    archive: DownloadFile
    pushed_to_remote_cache: bool
    """Whether this run writes process results to a remote cache (`[GLOBAL].remote_cache_write`)."""


@dataclass(frozen=True)
class UnpackedToolchain:
    digest: Digest


_UNPACK_DIR = "__unpacked_toolchain"


@rule(desc="Unpack the wasm32-wasip2 Rust toolchain", level=LogLevel.DEBUG)
async def unpack_toolchain(request: UnpackToolchainRequest, tar: TarBinary) -> UnpackedToolchain:
    """The pinned archive's tree as a digest, never stored in a remote cache.

    Pants 2.17 has no "local cache only" scope: a process result is either cached everywhere
    caching is on, or only in pantsd's memory. So when this run writes to a remote cache, the
    unpacking is not cached (it reruns once per Pants start-up, a few seconds, see
    docs/design.md "Remote cache"); otherwise it is cached locally as before. Either way the
    tree's digest, and so every compile's cache key, is the same: it depends only on the archive.
    """
    archive = await Get(Digest, DownloadFile, request.archive)
    archive_snapshot, out_dir = await MultiGet(
        Get(Snapshot, Digest, archive), Get(Digest, CreateDigest([Directory(_UNPACK_DIR)]))
    )
    (archive_path,) = archive_snapshot.files
    input_digest = await Get(Digest, MergeDigests((archive, out_dir)))
    result = await Get(
        ProcessResult,
        Process(
            argv=tar.extract_archive_argv(archive_path, _UNPACK_DIR, archive_suffix=".tar.gz"),
            # tar finds gzip on PATH; these are Pants' own fixed system folders, the same on every machine.
            env={"PATH": os.pathsep.join(SEARCH_PATHS)},
            input_digest=input_digest,
            output_directories=(_UNPACK_DIR,),
            description=f"Unpack {archive_path}",
            cache_scope=(
                ProcessCacheScope.PER_RESTART_SUCCESSFUL if request.pushed_to_remote_cache else ProcessCacheScope.SUCCESSFUL
            ),
            level=LogLevel.DEBUG,
        ),
    )
    return UnpackedToolchain(await Get(Digest, RemovePrefix(result.output_digest, _UNPACK_DIR)))


@rule(desc="Set up the wasm32-wasip2 Rust toolchain", level=LogLevel.DEBUG)
async def find_rust_toolchain(
    subsystem: WasmToolchainSubsystem, platform: Platform, bash: BashBinary, global_options: GlobalOptions
) -> RustToolchain:
    cc_paths, ld_paths = await MultiGet(
        Get(BinaryPaths, BinaryPathRequest, _CC_REQUEST),
        Get(BinaryPaths, BinaryPathRequest, _LD_REQUEST),
    )
    rationale = "link the build scripts and proc-macros of Rust crates for the host"
    # `cc` is usually a symlink through /etc/alternatives, and isolated builds see no /etc.
    cc = os.path.realpath(cc_paths.first_path_or_raise(_CC_REQUEST, rationale=rationale).path)
    ld = ld_paths.first_path_or_raise(_LD_REQUEST, rationale=rationale).path
    linker_script = f'#!{bash.path}\nexec {cc} -B{os.path.dirname(ld)}/ "$@"\n'
    host_linker_digest = await Get(
        Digest, CreateDigest([FileContent(HOST_LINKER_SCRIPT, linker_script.encode(), is_executable=True)])
    )
    if subsystem.rustup_toolchain:
        root, digest, archive_sha256 = subsystem.rustup_toolchain, None, None
        cache_scope = ProcessCacheScope.PER_RESTART_SUCCESSFUL
    else:
        request: ExternalToolRequest = subsystem.get_request(platform)
        raise_if_set_up_missing(subsystem.options_scope, request)
        unpacked = await Get(
            UnpackedToolchain,
            UnpackToolchainRequest(request.download_file_request, pushed_to_remote_cache=global_options.remote_cache_write),
        )
        root, digest = TOOLCHAIN_MOUNT, unpacked.digest
        archive_sha256 = request.download_file_request.expected_digest.fingerprint
        cache_scope = ProcessCacheScope.SUCCESSFUL
    immutable_inputs = _immutable_inputs(root, digest)
    rustc, cargo = await MultiGet(
        Get(ProcessResult, Process, _version_probe(root, ("rustc", "-vV"), immutable_inputs, cache_scope)),
        Get(ProcessResult, Process, _version_probe(root, ("cargo", "-V"), immutable_inputs, cache_scope)),
    )
    rustc_version = rustc.stdout.decode().strip()
    cargo_version = cargo.stdout.decode().strip()
    return RustToolchain(
        root=root,
        digest=digest,
        identity=(
            f"wasm-toolchain {subsystem.version} sha256:{archive_sha256}"
            if archive_sha256
            else f"{rustc_version}\n{cargo_version}"
        ),
        host_linker_digest=host_linker_digest,
        rustc_version=rustc_version,
        cargo_version=cargo_version,
        archive_sha256=archive_sha256,
    )


def _immutable_inputs(root: str, digest: Digest | None) -> FrozenDict[str, Digest]:
    """The pinned archive is mounted at `root`; a local toolchain is used in place."""
    return FrozenDict({root: digest} if digest is not None else {})


def _version_probe(
    root: str, command: tuple[str, str], immutable_inputs: FrozenDict[str, Digest], cache_scope: ProcessCacheScope
) -> Process:
    """Asks a toolchain binary its version: the SBOM and provenance record it, and a local
    toolchain is identified by it (which is why those runs are not cached across restarts)."""
    tool, flag = command
    return Process(
        argv=(os.path.join(root, "bin", tool), flag),
        immutable_input_digests=immutable_inputs,
        description=f"Ask {tool} for its version",
        cache_scope=cache_scope,
        level=LogLevel.DEBUG,
    )

def rules():
    return collect_rules()
