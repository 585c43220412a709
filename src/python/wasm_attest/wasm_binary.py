"""Recognising WebAssembly components by their header.

wasm32-wasip2 builds must produce a component (layer 1 of the binary format),
not a core module; a toolchain that silently links a core module would ship
something runtimes such as Spin or wasmCloud reject, so the build checks.
"""

from __future__ import annotations

WASM_MAGIC = b"\x00asm"
COMPONENT_HEADER = WASM_MAGIC + b"\x0d\x00\x01\x00"
CORE_MODULE_HEADER = WASM_MAGIC + b"\x01\x00\x00\x00"


def describe_wasm_header(data: bytes) -> str:
    """Names what the first 8 bytes say the file is: 'component', 'core module' or 'not WebAssembly'."""
    header = data[: len(COMPONENT_HEADER)]
    if header == COMPONENT_HEADER:
        return "component"
    if header == CORE_MODULE_HEADER:
        return "core module"
    return "not WebAssembly"


def is_component(data: bytes) -> bool:
    """Whether `data` starts with the WebAssembly component header."""
    return data.startswith(COMPONENT_HEADER)
