"""The metadata sections, checked against what `wasm-tools metadata add` 1.262 wrote into a real component."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_attest.crate_inventory import CrateId
from wasm_attest.component_metadata import (
    ComponentMetadata,
    ComponentMetadataError,
    metadata_from_cargo_metadata,
    metadata_sections,
    read_component_metadata,
    with_name,
)
from wasm_attest.wasm_binary import CORE_MODULE_HEADER
from wasm_attest.wasm_sections import custom_sections, with_custom_sections

COMPONENTS = Path(__file__).parent / "testdata" / "components"
SMALL = (COMPONENTS / "small.wasm").read_bytes()
BY_WASM_TOOLS = (COMPONENTS / "small-metadata-by-wasm-tools.wasm").read_bytes()
# What was passed to `wasm-tools metadata add` to make BY_WASM_TOOLS (see testdata/components/BUILD).
GIVEN_TO_WASM_TOOLS = ComponentMetadata(
    name="small",
    version="1.2.3",
    licenses="MIT OR Apache-2.0",
    source="https://example.com/small",
    revision="0123abc",
    authors="A. Person <a@example.com>, B. Person",
    description="A small test component",
    homepage="https://example.com",
)
HELLO = CrateId("hello", "0.3.1", None)
# The component's package as `cargo metadata` lists it, inheritance from the workspace already resolved.
PACKAGE = {
    "name": "hello",
    "version": "0.3.1",
    "id": "path+file:///src/hello#0.3.1",
    "authors": ["A. Person <a@example.com>", "B. Person"],
    "license": "MIT/Apache-2.0",
    "repository": "https://github.com/example/hello",
    "homepage": "https://Example.com",
    "description": "Says hello.",
}
BARE = {"name": "hello", "version": "0.3.1", "id": "path+file:///src/hello#0.3.1", "authors": [], "license": None}


def cargo_metadata(*packages: dict) -> bytes:
    other = {"name": "serde", "version": "1.0.152", "id": "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.152"}
    return json.dumps({"packages": [other, *packages], "resolve": None}).encode()


# --- the sections, as wasm-tools writes them ---------------------------------------------


def test_the_sections_are_those_wasm_tools_writes_in_its_order() -> None:
    wasm_tools = [(section.name, section.payload) for section in custom_sections(BY_WASM_TOOLS, nested=False)]
    assert metadata_sections(GIVEN_TO_WASM_TOOLS) == tuple(
        entry for entry in wasm_tools if entry[0] not in ("component-name", "producers")
    )
    # wasm-tools writes the URL it parsed, as browsers would show it.
    assert dict(wasm_tools)["homepage"] == b"https://example.com/"


def test_writing_the_sections_and_name_gives_what_wasm_tools_gave() -> None:
    ours = with_custom_sections(with_name(SMALL, GIVEN_TO_WASM_TOOLS), metadata_sections(GIVEN_TO_WASM_TOOLS))
    assert sorted(ours) == sorted(BY_WASM_TOOLS)  # the same bytes, with the names section moved to the end
    assert {(s.name, s.payload, s.depth) for s in custom_sections(ours)} == {
        (s.name, s.payload, s.depth) for s in custom_sections(BY_WASM_TOOLS)
    }


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("licenses", "mit OR Apache-2.0", "not a canonical SPDX expression; write it as 'MIT OR Apache-2.0'"),
        ("licenses", "Proprietary", "not a canonical SPDX expression; leave it out"),
        ("source", "github.com/example/hello", "not an absolute URL"),
        ("homepage", "", "not an absolute URL"),
    ],
)
def test_values_wasm_tools_refuses_are_not_written(field: str, value: str, problem: str) -> None:
    with pytest.raises(ComponentMetadataError, match=f"the {field} .*{problem}"):
        metadata_sections(ComponentMetadata(**{field: value}))


def test_only_set_fields_get_a_section() -> None:
    assert metadata_sections(ComponentMetadata(version="1.0.0", revision="abc")) == (("revision", b"abc"), ("version", b"1.0.0"))
    assert metadata_sections(ComponentMetadata()) == ()
    assert with_name(SMALL, ComponentMetadata()) == SMALL


def test_what_wasm_tools_wrote_is_read_back() -> None:
    assert read_component_metadata(BY_WASM_TOOLS) == ComponentMetadata(
        **{**GIVEN_TO_WASM_TOOLS.to_json(), "homepage": "https://example.com/"}
    )
    assert read_component_metadata(SMALL) == ComponentMetadata()


def test_nested_modules_metadata_is_not_the_components() -> None:
    module = with_custom_sections(CORE_MODULE_HEADER, [("version", b"9.9.9")])
    component = (COMPONENTS / "hello.wasm").read_bytes()
    assert read_component_metadata(module).version == "9.9.9"
    assert read_component_metadata(component).name is None  # its core module is named, the component is not


def test_a_metadata_section_that_is_not_text_is_refused() -> None:
    with pytest.raises(ComponentMetadataError, match="'licenses' metadata section is not UTF-8"):
        read_component_metadata(with_custom_sections(SMALL, [("licenses", b"\xff")]))


# --- from cargo metadata ------------------------------------------------------------------


def test_the_package_as_cargo_describes_it() -> None:
    assert metadata_from_cargo_metadata(cargo_metadata(PACKAGE), HELLO, revision="0123abc") == ComponentMetadata(
        name="hello",
        version="0.3.1",
        licenses="MIT OR Apache-2.0",
        source="https://github.com/example/hello",
        revision="0123abc",
        authors="A. Person <a@example.com>, B. Person",
        description="Says hello.",
        homepage="https://example.com/",
    )


def test_a_package_with_no_optional_fields() -> None:
    assert metadata_from_cargo_metadata(cargo_metadata(BARE), HELLO, revision=None) == ComponentMetadata(
        name="hello", version="0.3.1"
    )


@pytest.mark.parametrize(
    "field, value, attribute, expected",
    [
        ("license", "Proprietary, see LICENSE", "licenses", None),
        ("license", "Apache-2.0 WITH LLVM-exception", "licenses", "Apache-2.0 WITH LLVM-exception"),
        ("license", "GPL-2.0", "licenses", "GPL-2.0-only"),
        ("repository", "github.com/example/hello", "source", None),
        ("repository", "https://github.com/example/hello repo", "source", None),
        ("repository", "git://Example.com/hello", "source", "git://Example.com/hello"),
        ("homepage", "HTTPS://example.com/docs?x=1", "homepage", "https://example.com/docs?x=1"),
        ("description", "", "description", None),
    ],
)
def test_values_wasm_tools_would_refuse_are_left_out(field: str, value: str, attribute: str, expected: str | None) -> None:
    metadata = metadata_from_cargo_metadata(cargo_metadata({**BARE, field: value}), HELLO, revision=None)
    assert getattr(metadata, attribute) == expected


@pytest.mark.parametrize(
    "document, problem",
    [
        (b"{not json", "cannot be read"),
        (b'{"packages": 3}', "cannot be read"),
        (cargo_metadata(), "does not list the package hello 0.3.1"),
    ],
)
def test_unusable_cargo_metadata_is_refused(document: bytes, problem: str) -> None:
    with pytest.raises(ComponentMetadataError, match=problem):
        metadata_from_cargo_metadata(document, HELLO, revision=None)
