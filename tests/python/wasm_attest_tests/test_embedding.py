"""Embedding the dependency list and metadata into a real component, and reading them back."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from wasm_attest.component_metadata import ComponentMetadata, read_component_metadata
from wasm_attest.dep_v0 import AuditablePackage, DependencyList, DepV0Error, decode_dep_v0
from wasm_attest.embedding import embed_attestable_sections, embedded_dependencies
from wasm_attest.runner import run_component
from wasm_attest.wasm_binary import COMPONENT_HEADER, CORE_MODULE_HEADER
from wasm_attest.wasm_sections import custom_sections, with_custom_sections

COMPONENTS = Path(__file__).parent / "testdata" / "components"
HELLO = (COMPONENTS / "hello.wasm").read_bytes()
SMALL = (COMPONENTS / "small.wasm").read_bytes()
CARGO_AUDITABLE_PAYLOAD = (COMPONENTS / "exclusions-by-cargo-auditable.dep-v0").read_bytes()
# Any list will do for the bytes; this is the one cargo auditable wrote for testprojects/exclusions.
DEPS = decode_dep_v0(CARGO_AUDITABLE_PAYLOAD)
METADATA = ComponentMetadata(
    name="hello",
    version="0.1.0",
    licenses="MIT OR Apache-2.0",
    source="https://github.com/example/monorepo",
    revision="0123456789abcdef0123456789abcdef01234567",
    description="Says hello.",
)


def section(section_id: int, payload: bytes) -> bytes:
    """A section with a length below 16 KiB (two LEB128 bytes)."""
    assert len(payload) < 1 << 14
    return bytes([section_id, len(payload) & 0x7F | 0x80, len(payload) >> 7]) + payload


def top_level(data: bytes) -> list[str]:
    return [section.name for section in custom_sections(data, nested=False)]


def test_the_component_carries_its_dependencies_and_metadata_at_the_top_level() -> None:
    embedded = embed_attestable_sections(HELLO, DEPS, METADATA)
    # .dep-v0 right after the header: found both by readers that descend into nested modules and by those that do not.
    assert top_level(embedded) == [".dep-v0", "producers", "component-name", "description", "licenses", "source", "revision", "version"]
    assert embedded.index(b"\x07.dep-v0") < embedded.index(b"\0asm", 8), "before the nested core module"
    assert embedded_dependencies(embedded) == DEPS
    assert read_component_metadata(embedded) == METADATA


def test_embedding_adds_about_a_kilobyte_and_changes_no_code() -> None:
    embedded = embed_attestable_sections(HELLO, DEPS, METADATA)
    # Everything between the header and hello's top-level custom sections (id 0, a 2-byte length, then the name)
    # is untouched: it has only moved behind the leading .dep-v0 section.
    code_end = HELLO.rindex(b"\x0ecomponent-name") - 3
    assert HELLO[code_end] == 0
    moved_to = embedded.index(HELLO[8:code_end])
    assert embedded[:8] == HELLO[:8]
    assert [section.name for section in custom_sections(embedded[:moved_to])] == [".dep-v0"]
    assert len(embedded) - len(HELLO) < 1024


def test_embedding_is_deterministic_and_idempotent() -> None:
    once = embed_attestable_sections(HELLO, DEPS, METADATA)
    assert embed_attestable_sections(HELLO, DEPS, METADATA) == once
    assert embed_attestable_sections(once, DEPS, METADATA) == once


def test_embedding_new_records_replaces_the_old_ones() -> None:
    once = embed_attestable_sections(HELLO, DEPS, METADATA)
    other = DependencyList((AuditablePackage("hello", "0.2.0", "local", root=True),), format=1)
    again = embed_attestable_sections(once, other, ComponentMetadata(name="hello", version="0.2.0"))
    assert embedded_dependencies(again) == other
    assert read_component_metadata(again) == ComponentMetadata(name="hello", version="0.2.0", **_unchanged(METADATA))
    assert len(custom_sections(again, name=".dep-v0")) == 1


def _unchanged(metadata: ComponentMetadata) -> dict[str, str | None]:
    """Fields a later embedding does not set stay as the earlier one wrote them."""
    return {name: value for name, value in metadata.to_json().items() if name not in ("name", "version")}


def test_the_embedded_component_still_runs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    component = tmp_path / "hello.wasm"
    component.write_bytes(embed_attestable_sections(HELLO, DEPS, METADATA))
    assert run_component(component, ["x"]) == 0
    assert capfd.readouterr().out == "Hello from wasm-attest!\narg: x\n"


def test_a_component_without_a_dep_v0_has_no_embedded_dependencies() -> None:
    assert embedded_dependencies(HELLO) is None


def test_a_dep_v0_inside_a_nested_module_is_not_the_components() -> None:
    """cargo auditable puts its list into the core module; what is embedded here is the component's own."""
    module = with_custom_sections(CORE_MODULE_HEADER, [(".dep-v0", CARGO_AUDITABLE_PAYLOAD)])
    component = COMPONENT_HEADER + section(1, module)
    assert embedded_dependencies(component) is None
    assert custom_sections(component, name=".dep-v0")[0].depth == 1


def test_two_top_level_dep_v0_sections_are_ambiguous() -> None:
    dep_v0 = section(0, b"\x07.dep-v0" + zlib.compress(b'{"packages":[]}'))
    doubled = SMALL + dep_v0 + dep_v0
    with pytest.raises(DepV0Error, match="2 top-level .dep-v0 sections"):
        embedded_dependencies(doubled)
