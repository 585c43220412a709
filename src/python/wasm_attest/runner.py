"""Runs a wasm32-wasip2 command component with wasmtime, the way `wasmtime run` would.

`pants run` on a `wasm_component` uses this, so developers can run components
without installing a separate runtime: wasmtime comes from PyPI with the
plugin's other pinned libraries.

Usage: python -m wasm_attest.runner COMPONENT.wasm [ARGS...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Linker

from wasm_attest.errors import WasmAttestError

CLI_RUN_INTERFACE = "wasi:cli/run@0.2.0"


class ComponentRunError(WasmAttestError):
    """The component could not be loaded or does not export `wasi:cli/run`."""


def run_component(path: Path, args: Sequence[str]) -> int:
    """Runs the component's `wasi:cli/run` export with `args`; returns the exit code it reports.

    Standard input, output and error are the current process's. The component
    sees `path`'s file name as argv[0], no environment and no file system.
    """
    engine = Engine()
    store = Store(engine)
    wasi = WasiConfig()
    wasi.argv = [path.name, *args]
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    linker = Linker(engine)
    linker.add_wasip2()
    if not path.is_file():
        raise ComponentRunError(f"{path} does not exist or is not a file.")
    try:
        component = Component.from_file(engine, str(path))
        instance = linker.instantiate(store, component)
    except WasmtimeError as error:
        raise ComponentRunError(f"{path} cannot be instantiated as a wasm32-wasip2 component: {error}") from None
    interface = instance.get_export_index(store, CLI_RUN_INTERFACE)
    run_index = instance.get_export_index(store, "run", interface) if interface is not None else None
    run = instance.get_func(store, run_index) if run_index is not None else None
    if run is None:
        raise ComponentRunError(f"{path} does not export `run` from {CLI_RUN_INTERFACE}; is it a command component?")
    try:
        result = run(store)
    except WasmtimeError as error:
        exit_code = _exit_code_of(error)
        if exit_code is None:
            raise ComponentRunError(f"{path} trapped: {error}") from None
        return exit_code
    return 1 if _is_err(result) else 0


def _exit_code_of(error: WasmtimeError) -> int | None:
    """The code passed to `wasi:cli/exit`, which wasmtime reports as an error."""
    message = str(error)
    marker = "Exited with i32 exit status "
    if marker in message:
        return int(message.split(marker, 1)[1].split()[0])
    return None


def _is_err(result: object) -> bool:
    """`run` returns `result<_, _>`; wasmtime-py gives an Err as an object with `.tag == 'err'`."""
    return getattr(result, "tag", None) == "err"


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: python -m wasm_attest.runner COMPONENT.wasm [ARGS...]", file=sys.stderr)
        return 2
    try:
        return run_component(Path(argv[0]), argv[1:])
    except WasmAttestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
