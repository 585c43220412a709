"""`pants run` for `wasm_component`: runs the packaged component with wasmtime."""

from __future__ import annotations

import os
import sys

import wasm_attest
from pants.core.goals.run import RunRequest
from pants.engine.rules import Get, collect_rules, rule

from wasm_component.goals.package import VerifiedComponent, WasmComponentFieldSet


@rule(desc="Prepare to run a wasm_component")
async def run_wasm_component(field_set: WasmComponentFieldSet) -> RunRequest:
    verified = await Get(VerifiedComponent, WasmComponentFieldSet, field_set)
    # The runner is the core library's, run by the interpreter Pants runs on,
    # which has wasmtime installed (build-support/pants-requirements.txt).
    core_library_root = os.path.dirname(os.path.dirname(wasm_attest.__file__))
    return RunRequest(
        digest=verified.digest,
        args=(sys.executable, "-m", "wasm_attest.runner", os.path.join("{chroot}", verified.component)),
        extra_env={"PYTHONPATH": core_library_root},
    )


def rules():
    return [*collect_rules(), *WasmComponentFieldSet.rules()]
