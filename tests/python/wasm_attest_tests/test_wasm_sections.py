"""The section reader and writer, on real components and on damaged and hostile files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_attest.wasm_binary import COMPONENT_HEADER, CORE_MODULE_HEADER
from wasm_attest.wasm_sections import (
    MAX_NESTING_DEPTH,
    CustomSection,
    WasmFormatError,
    binary_kind,
    binary_name,
    component_externs,
    custom_sections,
    with_binary_name,
    with_custom_sections,
)

COMPONENTS = Path(__file__).parent / "testdata" / "components"
HELLO = (COMPONENTS / "hello.wasm").read_bytes()
SMALL = (COMPONENTS / "small.wasm").read_bytes()
SMALL_NAMED_BY_WASM_TOOLS = (COMPONENTS / "small-metadata-by-wasm-tools.wasm").read_bytes()


def leb(value: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(encoded)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + leb(len(payload)) + payload


def custom(name: str, payload: bytes) -> bytes:
    return section(0, leb(len(name.encode())) + name.encode() + payload)


def names(sections: tuple[CustomSection, ...]) -> list[tuple[str, int]]:
    return [(entry.name, entry.depth) for entry in sections]


def non_custom_sections(data: bytes) -> list[bytes]:
    """The bytes of every top-level section but the custom ones, read independently of the module under test."""
    position, found = 8, []
    while position < len(data):
        start, section_id = position, data[position]
        size, shift, position = 0, 0, position + 1
        while True:
            byte = data[position]
            size |= (byte & 0x7F) << shift
            shift, position = shift + 7, position + 1
            if not byte & 0x80:
                break
        position += size
        if section_id != 0:
            found.append(data[start:position])
    return found


# --- real binaries -------------------------------------------------------------


def test_a_rust_component_has_its_custom_sections_inside_its_core_modules() -> None:
    assert binary_kind(HELLO) == "component"
    assert names(custom_sections(HELLO)) == [
        ("name", 1),
        ("producers", 1),
        ("target_features", 1),
        ("producers", 1),
        ("producers", 1),
        ("component-name", 0),
        ("producers", 0),
    ]


def test_top_level_only_and_by_name() -> None:
    assert names(custom_sections(HELLO, nested=False)) == [("component-name", 0), ("producers", 0)]
    producers = custom_sections(HELLO, name="producers")
    assert [entry.depth for entry in producers] == [1, 1, 1, 0]
    assert producers[-1].payload == b"\x01\x0cprocessed-by\x01\x0dwit-component\x070.245.1"


def test_nested_components_are_read_too() -> None:
    assert names(custom_sections(SMALL)) == [
        ("core-note", 1),
        ("name", 1),
        ("inner-note", 1),
        ("producers", 0),
        ("component-name", 0),
    ]
    assert custom_sections(SMALL, name="inner-note")[0].payload == b"inside the nested component"


def test_a_core_module() -> None:
    module = CORE_MODULE_HEADER + section(1, b"\x01\x60\x00\x00") + custom("note", b"hi")
    assert binary_kind(module) == "module"
    assert custom_sections(module) == (CustomSection("note", b"hi", 0),)


def test_component_imports_and_exports() -> None:
    externs = component_externs(HELLO)
    assert externs.exports == ("wasi:cli/run@0.2.0",)
    assert "wasi:cli/stdout@0.2.6" in externs.imports
    assert len(externs.imports) == len(set(externs.imports)) == 17
    assert component_externs(SMALL).imports == ("wasi:cli/stdout@0.2.0",)
    assert component_externs(SMALL).exports == ("run",)


def test_a_core_module_has_no_component_imports() -> None:
    with pytest.raises(WasmFormatError, match="components only"):
        component_externs(CORE_MODULE_HEADER)


# --- writing -------------------------------------------------------------------


def test_custom_sections_are_appended_at_the_top_level() -> None:
    written = with_custom_sections(SMALL, [("a", b"1"), ("b", b"22")])
    assert written.startswith(SMALL)
    assert custom_sections(written, nested=False)[-2:] == (CustomSection("a", b"1", 0), CustomSection("b", b"22", 0))


def test_writing_again_replaces_instead_of_adding() -> None:
    once = with_custom_sections(HELLO, [("a", b"1"), ("producers", b"\x00")])
    assert with_custom_sections(once, [("a", b"1"), ("producers", b"\x00")]) == once
    changed = with_custom_sections(once, [("a", b"2")])
    assert [entry.payload for entry in custom_sections(changed, name="a")] == [b"2"]
    # Replacing the top-level producers leaves the nested modules' alone.
    assert [entry.depth for entry in custom_sections(once, name="producers")] == [1, 1, 1, 0]


def test_writing_changes_no_other_section() -> None:
    written = with_custom_sections(HELLO, [("a", b"1"), ("component-name", b"")])
    assert non_custom_sections(written) == non_custom_sections(HELLO)


def test_section_names_to_write_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        with_custom_sections(SMALL, [("a", b"1"), ("a", b"2")])


def test_a_large_section_gets_a_multi_byte_length() -> None:
    payload = bytes(200_000)
    written = with_custom_sections(CORE_MODULE_HEADER, [("big", payload)])
    assert written[8:12] == b"\x00\xc4\x9a\x0c"  # 200_004 bytes: the name's length and name, then the payload
    assert custom_sections(written)[0].payload == payload


def test_naming_keeps_the_debug_names_as_wasm_tools_does() -> None:
    named = with_binary_name(SMALL, "small")
    assert binary_name(SMALL) is None
    assert binary_name(named) == "small"
    # wasm-tools puts the name in front of the sort names the component already had.
    assert custom_sections(named, name="component-name") == custom_sections(SMALL_NAMED_BY_WASM_TOOLS, name="component-name")
    assert with_binary_name(named, "small") == named
    assert binary_name(with_binary_name(named, "other")) == "other"


def test_naming_a_core_module_uses_the_name_section() -> None:
    named = with_binary_name(CORE_MODULE_HEADER, "m")
    assert custom_sections(named) == (CustomSection("name", b"\x00\x02\x01m", 0),)
    assert binary_name(named) == "m"


# --- damaged and hostile files ---------------------------------------------------


@pytest.mark.parametrize(
    "data, problem, offset",
    [
        (b"", "header is cut short", 0),
        (COMPONENT_HEADER[:5], "header is cut short", 0),
        (b"\x7fELF\x02\x01\x01\x00", "magic number", 0),
        (b"\x00asm\x02\x00\x00\x00", "version/layer bytes 02 00 00 00", 4),
        # Six LEB128 bytes for a section length: at most five may encode a u32.
        (CORE_MODULE_HEADER + b"\x00\x80\x80\x80\x80\x80\x00", "longer than 5 bytes", 9),
        (CORE_MODULE_HEADER + b"\x00\xff\xff\xff\xff\x7f", "does not fit in 32 bits", 9),
        (CORE_MODULE_HEADER + b"\x00\x80\x80", "the length of section 0 is cut short", 11),
        (CORE_MODULE_HEADER + b"\x00\x10ab", "claims 16 bytes but only 2 remain", 10),
        (CORE_MODULE_HEADER + b"\x00\xff\xff\xff\xff\x0fab", "claims 4294967295 bytes but only 2 remain", 14),
        (CORE_MODULE_HEADER + section(0, b"\x09ab"), "a custom section name claims 9 bytes but only 2 remain", 11),
        (CORE_MODULE_HEADER + section(0, b"\x02\xff\xfe"), "a custom section name is not UTF-8", 11),
        (COMPONENT_HEADER + section(1, COMPONENT_HEADER), "section 1 does not hold a module", 10),
        (COMPONENT_HEADER + section(4, b"\x00asm"), "header is cut short", 10),
    ],
)
def test_malformed_binaries_are_refused_with_the_offset(data: bytes, problem: str, offset: int) -> None:
    with pytest.raises(WasmFormatError, match=f"{problem}.* at byte offset {offset};") as raised:
        custom_sections(data)
    assert raised.value.offset == offset


def nest(depth: int, innermost: bytes) -> bytes:
    """A component nesting `depth` components, the deepest carrying `innermost` after its header."""
    data = COMPONENT_HEADER + innermost
    for _ in range(depth):
        data = COMPONENT_HEADER + section(4, data)
    return data


def test_nesting_is_read_to_the_depth_limit() -> None:
    deepest = custom_sections(nest(MAX_NESTING_DEPTH, custom("deep", b"")))
    assert deepest == (CustomSection("deep", b"", MAX_NESTING_DEPTH),)


def test_a_nesting_bomb_is_refused_quickly() -> None:
    bomb = nest(2_000, custom("deep", b""))
    started = time.monotonic()
    with pytest.raises(WasmFormatError, match=f"nest deeper than {MAX_NESTING_DEPTH} levels"):
        custom_sections(bomb)
    assert time.monotonic() - started < 1
    assert custom_sections(bomb, nested=False) == ()


def test_every_truncation_of_a_real_component_is_refused_or_read_as_a_prefix() -> None:
    """A file cut at a section boundary is well-formed; cut anywhere else it must fail cleanly."""
    full = names(custom_sections(SMALL))
    refused = 0
    for length in range(len(SMALL)):
        try:
            found = names(custom_sections(SMALL[:length]))
        except WasmFormatError:
            refused += 1
        else:
            assert found == full[: len(found)]
    assert refused > len(SMALL) * 0.9


def read_everything(data: bytes) -> None:
    custom_sections(data)
    binary_name(data)
    if binary_kind(data) == "component":
        component_externs(data)


MUTATION_SETTINGS = settings(
    max_examples=300, deadline=2000, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@MUTATION_SETTINGS
@given(st.data())
def test_random_damage_to_a_real_component_fails_cleanly(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from([SMALL, SMALL_NAMED_BY_WASM_TOOLS, HELLO]), label="component")
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        position = data.draw(st.integers(0, len(damaged) - 1), label="position")
        damaged[position] = data.draw(st.integers(0, 255), label="byte")
    damaged = damaged[: data.draw(st.integers(0, len(damaged)), label="length")]
    try:
        read_everything(bytes(damaged))
    except WasmFormatError:
        pass


@MUTATION_SETTINGS
@given(st.binary(max_size=64))
def test_random_bytes_after_a_header_fail_cleanly(tail: bytes) -> None:
    for header in (COMPONENT_HEADER, CORE_MODULE_HEADER):
        try:
            read_everything(header + tail)
        except WasmFormatError:
            pass
