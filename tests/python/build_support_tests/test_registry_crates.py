"""The registry's crates from the Rust sources: the vendored-crates list, and wit-bindgen's rebuilt cabi archive.

The archive is compiled with the real toolchain archive the set-up built
(`$WASM_ATTEST_CACHE`), twice, to show it is byte for byte reproducible.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from wasm_attest_setup import debian_packages, registry, wit_bindgen_cabi

TOOLCHAIN_ARCHIVE = Path(os.environ["WASM_ATTEST_CACHE"], "toolchain", "wasm32-wasip2-rust-1.96.0.tar.gz")


def test_the_committed_list_takes_wasi_and_wit_bindgen_from_the_pinned_rust_sources() -> None:
    listed = registry.parse_vendored_crates(registry.VENDORED_CRATES_FILE.read_text(), registry.VENDORED_CRATES_FILE.name)
    assert listed == {"rust-web-src": ("wasi-0.14.4+wasi-0.2.4", "wit-bindgen-0.45.1")}
    pins = debian_packages.parse_pins(registry.PINS_FILE.read_text(), registry.PINS_FILE)
    assert "rust-web-src" in {pin.name for pin in pins}


def test_a_malformed_list_line_is_named() -> None:
    with pytest.raises(registry.RegistryError, match=r"registry-vendored.txt:2: expected `<package> <crate folder>`"):
        registry.parse_vendored_crates("# comment\nrust-web-src\n", "registry-vendored.txt")


def test_the_ar_archive_has_fixed_member_metadata() -> None:
    archive = wit_bindgen_cabi.ar_archive([("a.o", b"abc")])
    assert archive == b"!<arch>\n" + b"a.o/".ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"644".ljust(8) + b"3".ljust(10) + b"`\n" + b"abc\n"
    with pytest.raises(ValueError, match="longer than 15"):
        wit_bindgen_cabi.ar_archive([("a-very-long-name.o", b"")])


def test_the_cabi_archive_is_a_real_wasm_object_defining_cabi_realloc_and_is_reproducible() -> None:
    first = wit_bindgen_cabi.build_cabi_archive(TOOLCHAIN_ARCHIVE)
    assert wit_bindgen_cabi.build_cabi_archive(TOOLCHAIN_ARCHIVE) == first
    assert first.startswith(b"!<arch>\n" + b"cabi_realloc.o/")
    size = int(first[8 + 48 : 8 + 58])
    obj = first[8 + 60 : 8 + 60 + size]
    assert obj[:8] == b"\0asm" + struct.pack("<I", 1)  # a core wasm object file, version 1
    assert b"linking" in obj and b"reloc.CODE" in obj  # relocatable: the linker's input, not a module
    assert b"cabi_realloc_wit_bindgen_0_45_1" in obj and b"cabi_realloc" in obj.replace(b"cabi_realloc_wit", b"")
