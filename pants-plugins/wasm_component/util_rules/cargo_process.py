"""One place that turns "run cargo with these arguments" into a hermetic, isolated Pants Process.

Every cargo invocation (vendor, metadata, build) goes through
`cargo_in_sandbox.sh`, so the environment each one sees, and the OS sandbox
(bubblewrap) it runs in, are written down once.
"""

from __future__ import annotations

import pkgutil
import re
from dataclasses import dataclass

from pants.core.util_rules.system_binaries import BashBinary
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.process import Process
from pants.engine.rules import Get, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from wasm_component.util_rules.sandbox import BuildSandbox
from wasm_component.util_rules.toolchain import RustToolchain

_SCRIPT_NAME = "__cargo_in_sandbox.sh"
_SANDBOX_PATH = re.compile(r"/\S*?pants-sandbox-\w+/|(?<![\w/])/build/")


@dataclass(frozen=True)
class CargoProcess:
    """A cargo command to run in `crate_dir` (relative to the sandbox root) over `input_digest`."""

    crate_dir: str
    args: tuple[str, ...]
    input_digest: Digest
    description: str
    source_dir: str | None = None
    output_files: tuple[str, ...] = ()
    output_directories: tuple[str, ...] = ()
    append_only_caches: FrozenDict[str, str] = FrozenDict()
    concurrency_available: int = 0
    """How many jobs cargo could use; Pants grants up to that many of its process slots (0: cargo's default)."""
    isolated: bool = True
    """Whether cargo runs under the build sandbox. Only `cargo vendor` from crates.io runs outside it: it needs
    the network and a cargo home cache, and it downloads and checks crates without running any of their code."""


@rule(level=LogLevel.DEBUG)
async def cargo_process(
    request: CargoProcess, toolchain: RustToolchain, sandbox: BuildSandbox, bash: BashBinary
) -> Process:
    script = pkgutil.get_data("wasm_component", "cargo_in_sandbox.sh")
    assert script is not None, "cargo_in_sandbox.sh is missing from the wasm_component package"
    script_digest = await Get(Digest, CreateDigest([FileContent(_SCRIPT_NAME, script, is_executable=True)]))
    input_digest = await Get(
        Digest, MergeDigests([request.input_digest, script_digest, toolchain.host_linker_digest])
    )
    env = dict(toolchain.env, CARGO_TERM_COLOR="never", CARGO_INCREMENTAL="0")
    if request.isolated:
        env.update(sandbox.env)
    if request.source_dir is not None:
        env["WASM_ATTEST_SOURCE_DIR"] = request.source_dir
    # Pants puts the number of slots it granted in place of `{pants_concurrency}`; the
    # template, not the number, is part of the cache key.
    jobs = "{pants_concurrency}" if request.concurrency_available else "default"
    return Process(
        argv=(bash.path, _SCRIPT_NAME, request.crate_dir or ".", jobs, *request.args),
        input_digest=input_digest,
        immutable_input_digests=FrozenDict(
            {**toolchain.immutable_input_digests, **(sandbox.immutable_input_digests if request.isolated else {})}
        ),
        append_only_caches=request.append_only_caches,
        env=env,
        description=request.description,
        output_files=request.output_files,
        output_directories=request.output_directories,
        concurrency_available=request.concurrency_available,
        level=LogLevel.INFO,
    )


def cargo_diagnostics(stderr: bytes) -> str:
    """cargo's stderr for a person: paths relative to the sandbox root, which mirrors the repository."""
    return _SANDBOX_PATH.sub("", stderr.decode(errors="replace")).strip()


def rules():
    return collect_rules()
