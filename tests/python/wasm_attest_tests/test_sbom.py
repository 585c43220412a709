from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from wasm_attest import __version__
from wasm_attest.cargo_lock import parse_cargo_lock
from wasm_attest.crate_inventory import CrateId
from wasm_attest.sbom import Sbom, SbomInputs, build_sbom, crate_purl
from wasm_attest.sbom_crates import SbomCrate, SbomError, read_sbom_crates

# Captured by testdata/cargo/capture.sh from testprojects/: real cargo 1.96 output.
TESTDATA = Path(__file__).parent / "testdata" / "cargo"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
# fixture folder -> cargo package
FIXTURES = {"exclusions": "exclusions", "serde-json": "serde-json", "workspace-app-one": "app-one"}
WASM_SHA256 = "0f" * 32
SOURCE_DATE = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def inputs(fixture: str = "exclusions", **changes) -> SbomInputs:
    folder = TESTDATA / fixture
    defaults = SbomInputs(
        component_name=FIXTURES[fixture],
        component_sha256=WASM_SHA256,
        lockfile=parse_cargo_lock((folder / "Cargo.lock").read_text()),
        metadata_json=(folder / "metadata.json").read_bytes(),
        build_messages=(folder / "build-messages.jsonl").read_bytes(),
        features=(),
        profile="release",
        target_triple="wasm32-wasip2",
        rustc_version="1.96.0",
        cargo_version="1.96.0",
        timestamp=SOURCE_DATE,
    )
    return dataclasses.replace(defaults, **changes)


def document(fixture: str = "exclusions", **changes) -> dict:
    return json.loads(build_sbom(inputs(fixture, **changes)).json_bytes)


def components_by_name(fixture: str = "exclusions") -> dict[str, dict]:
    return by_name(document(fixture)["components"])


def by_name(components: list[dict]) -> dict[str, dict]:
    return {component["name"]: component for component in components}


def metadata_with(package: str, field: str, value: str) -> bytes:
    """The exclusions metadata, with one field of one package changed."""
    metadata = json.loads(inputs().metadata_json)
    (entry,) = [entry for entry in metadata["packages"] if entry["name"] == package]
    entry[field] = value
    return json.dumps(metadata).encode()


def is_schema_valid(sbom: Sbom) -> bool:
    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom.json_bytes.decode()) is None


def properties(component: dict) -> list[tuple[str, str]]:
    return [(entry["name"], entry["value"]) for entry in component.get("properties", [])]


def tree_crates(fixture: str, file: str) -> set[tuple[str, str]]:
    """(name, version) of every crate a captured `cargo tree --prefix none` lists, less its first line (the root)."""
    lines = [line for line in (TESTDATA / fixture / file).read_text().splitlines() if not line.startswith("#")]
    return {tuple(line.split()[:2]) for line in lines[1:]}


def sbom_crates(fixture: str, scope: str) -> set[tuple[str, str]]:
    crates = read_sbom_crates(build_sbom(inputs(fixture)).json_bytes)
    return {(crate.name, f"v{crate.version}") for crate in crates if crate.scope == scope}


@pytest.mark.parametrize("fixture", FIXTURES)
def test_linked_crates_are_what_cargo_tree_shows_for_the_target(fixture: str) -> None:
    # tree-linked.txt: cargo tree -e normal,no-proc-macro --target wasm32-wasip2 --prefix none
    # (plain `-e normal` also lists proc-macros and their dependencies, which are not linked).
    assert sbom_crates(fixture, "required") == tree_crates(fixture, "tree-linked.txt")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_excluded_crates_are_the_build_only_crates_cargo_tree_shows(fixture: str) -> None:
    # tree-compiled.txt: cargo tree -e normal,build --target wasm32-wasip2 --prefix none, which adds
    # build-dependencies, proc-macros and their dependencies (host side) to the linked crates.
    build_only = tree_crates(fixture, "tree-compiled.txt") - tree_crates(fixture, "tree-linked.txt")
    assert sbom_crates(fixture, "excluded") == build_only


def test_exclusions_scopes() -> None:
    scopes = {name: component["scope"] for name, component in components_by_name().items()}
    assert scopes == {
        "cfg-if": "required",
        "serde": "required",
        "serde_json": "required",
        "itoa": "required",
        "ryu": "required",
        "autocfg": "excluded",
        "serde_derive": "excluded",
        "proc-macro2": "excluded",
        "quote": "excluded",
        "syn": "excluded",
        "unicode-ident": "excluded",
    }


def test_dev_other_platform_and_disabled_optional_dependencies_are_absent() -> None:
    assert {"static_assertions", "libc", "hex"}.isdisjoint(components_by_name())


def test_excluded_crates_say_why() -> None:
    components = components_by_name()
    assert ("wasm-attest:excluded-because", "build-dependency") in properties(components["autocfg"])
    assert ("wasm-attest:excluded-because", "proc-macro") in properties(components["serde_derive"])
    assert ("wasm-attest:excluded-because", "proc-macro") in properties(components["syn"])
    assert not any(name == "wasm-attest:excluded-because" for name, _ in properties(components["serde"]))


@pytest.mark.parametrize("fixture", FIXTURES)
def test_the_sbom_passes_strict_cyclonedx_1_6_schema_validation(fixture: str) -> None:
    assert is_schema_valid(build_sbom(inputs(fixture)))


def test_the_component_itself_is_the_metadata_component() -> None:
    metadata = document()["metadata"]
    assert metadata["component"]["type"] == "application"
    assert metadata["component"]["name"] == "exclusions"
    assert metadata["component"]["version"] == "0.1.0"
    assert metadata["component"]["hashes"] == [{"alg": "SHA-256", "content": WASM_SHA256}]
    assert metadata["timestamp"] == "2024-05-01T12:00:00+00:00"


def test_tools_target_features_and_profile_are_recorded() -> None:
    metadata = document(features=("std", "hex-args"), profile="release")["metadata"]
    tools = {(tool["name"], tool["version"]) for tool in metadata["tools"]["components"]}
    assert tools == {("wasm-attest", __version__), ("rustc", "1.96.0"), ("cargo", "1.96.0")}
    assert properties(metadata) == [
        ("wasm-attest:feature", "hex-args"),
        ("wasm-attest:feature", "std"),
        ("wasm-attest:profile", "release"),
        ("wasm-attest:target-triple", "wasm32-wasip2"),
    ]


def test_a_crates_io_crate_has_purl_hash_license_and_references() -> None:
    serde = components_by_name()["serde"]
    assert serde["purl"] == serde["bom-ref"] == "pkg:cargo/serde@1.0.152"
    assert serde["hashes"] == [
        {"alg": "SHA-256", "content": "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"}
    ]
    assert serde["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert serde["externalReferences"] == [
        {"type": "distribution", "url": "https://crates.io/crates/serde/1.0.152"},
        {"type": "vcs", "url": "https://github.com/serde-rs/serde"},
    ]
    assert ("wasm-attest:source", CRATES_IO) in properties(serde)


def test_the_legacy_license_of_cfg_if_is_normalised() -> None:
    # cfg-if 1.0.0 declares "MIT/Apache-2.0".
    assert components_by_name()["cfg-if"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]


def test_a_checksum_that_is_not_sha256_gives_no_hash_a_property_and_a_warning() -> None:
    sbom = build_sbom(inputs())
    cfg_if = by_name(json.loads(sbom.json_bytes)["components"])["cfg-if"]
    assert "hashes" not in cfg_if
    assert (
        "wasm-attest:hash",
        "unknown: Cargo.lock checksum is not a SHA-256 ('Could not get crate checksum')",
    ) in properties(cfg_if)
    assert [warning for warning in sbom.warnings if "cfg-if 1.0.0" in warning] == [
        "the SBOM gives no hash for crate cfg-if 1.0.0: "
        "Cargo.lock checksum is not a SHA-256 ('Could not get crate checksum')."
    ]
    assert len(sbom.warnings) == 2  # syn 1.0.107, build-only, has the same bogus checksum


def test_an_in_repo_crate_has_no_purl_and_no_hash_and_needs_no_warning() -> None:
    sbom = build_sbom(inputs("workspace-app-one"))
    (greeting,) = json.loads(sbom.json_bytes)["components"]
    assert greeting["bom-ref"] == "in-repo:cargo/greeting@0.1.0"
    assert "purl" not in greeting and "hashes" not in greeting
    assert properties(greeting) == [("wasm-attest:source", "in-repo")]
    assert sbom.warnings == ()


def test_the_dependency_graph() -> None:
    graph = {entry["ref"]: set(entry.get("dependsOn", [])) for entry in document()["dependencies"]}
    assert graph["in-repo:cargo/exclusions@0.1.0"] == {
        "pkg:cargo/autocfg@1.1.0",
        "pkg:cargo/cfg-if@1.0.0",
        "pkg:cargo/serde@1.0.152",
        "pkg:cargo/serde_derive@1.0.152",
        "pkg:cargo/serde_json@1.0.87",
    }
    assert graph["pkg:cargo/serde_json@1.0.87"] == {
        "pkg:cargo/itoa@1.0.1",
        "pkg:cargo/ryu@1.0.2",
        "pkg:cargo/serde@1.0.152",
    }
    assert graph["pkg:cargo/serde_derive@1.0.152"] == {
        "pkg:cargo/proc-macro2@1.0.47",
        "pkg:cargo/quote@1.0.21",
        "pkg:cargo/syn@1.0.107",
    }
    assert len(graph) == 12  # the component and its 11 crates


def test_same_inputs_give_the_same_bytes_wherever_cargo_ran() -> None:
    moved = inputs(
        metadata_json=inputs().metadata_json.replace(b"/build/", b"/elsewhere/"),
        build_messages=inputs().build_messages.replace(b"/build/", b"/sandbox/"),
    )
    assert build_sbom(inputs()).json_bytes == build_sbom(inputs()).json_bytes == build_sbom(moved).json_bytes


def test_the_serial_number_follows_the_content() -> None:
    serials = {
        document()["serialNumber"],
        document(component_sha256="1e" * 32)["serialNumber"],
        document(timestamp=SOURCE_DATE + timedelta(seconds=1))["serialNumber"],
        document(features=("std",))["serialNumber"],
    }
    assert len(serials) == 4
    uuid5 = r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert all(re.fullmatch(uuid5, serial) for serial in serials)


def test_the_timestamp_is_written_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert document(timestamp=datetime(2024, 5, 1, 14, 0, tzinfo=paris))["metadata"]["timestamp"] == (
        "2024-05-01T12:00:00+00:00"
    )


def test_a_timestamp_without_time_zone_is_rejected() -> None:
    with pytest.raises(SbomError, match="no time zone"):
        build_sbom(inputs(timestamp=datetime(2024, 5, 1)))


def test_a_component_hash_that_is_not_sha256_hex_is_rejected() -> None:
    with pytest.raises(SbomError, match="not 64 lower-case hex digits"):
        build_sbom(inputs(component_sha256="sha256:" + WASM_SHA256))


def test_the_crates_read_back_are_the_ones_built() -> None:
    sbom = build_sbom(inputs())
    assert set(read_sbom_crates(sbom.json_bytes)) == set(sbom.linked + sbom.build_only)
    assert SbomCrate("cfg-if", "1.0.0", "required", "pkg:cargo/cfg-if@1.0.0", None) in sbom.linked
    assert [crate.name for crate in sbom.build_only] == [
        "autocfg", "proc-macro2", "quote", "serde_derive", "syn", "unicode-ident"
    ]


@pytest.mark.parametrize(
    "text", [b"", b"[]", b'{"bomFormat": "SPDX"}', b'{"bomFormat": "CycloneDX", "components": [{}]}']
)
def test_reading_a_file_that_is_no_cyclonedx_sbom_names_it(text: bytes) -> None:
    with pytest.raises(SbomError, match=r"^dist/app\.cdx\.json is .*not a CycloneDX"):
        read_sbom_crates(text, origin="dist/app.cdx.json")


@pytest.mark.parametrize(
    "crate, purl",
    [
        (CrateId("serde", "1.0.152", CRATES_IO), "pkg:cargo/serde@1.0.152"),
        (CrateId("serde", "1.0.152", "sparse+https://index.crates.io/"), "pkg:cargo/serde@1.0.152"),
        (
            CrateId("helper", "1.0.0", "git+https://example.com/r?rev=main"),
            "pkg:cargo/helper@1.0.0?vcs_url=git%2Bhttps://example.com/r%3Frev%3Dmain",
        ),
        (
            CrateId("inner", "2.0.0", "sparse+https://registry.example.com/index/"),
            "pkg:cargo/inner@2.0.0?repository_url=https://registry.example.com/index/",
        ),
        (CrateId("greeting", "0.1.0", None), None),
    ],
)
def test_purls_name_the_source_unless_it_is_crates_io(crate: CrateId, purl: str | None) -> None:
    assert crate_purl(crate) == purl


@pytest.mark.parametrize("repository", ["github.com/serde-rs/serde", "https://github.com/serde-rs/serde%zz"])
def test_a_repository_that_is_no_usable_url_is_left_out(repository: str) -> None:
    sbom = build_sbom(inputs(metadata_json=metadata_with("serde", "repository", repository)))
    serde = by_name(json.loads(sbom.json_bytes)["components"])["serde"]
    assert serde["externalReferences"] == [{"type": "distribution", "url": "https://crates.io/crates/serde/1.0.152"}]
    assert is_schema_valid(sbom)


def test_a_license_that_is_no_spdx_expression_is_kept_as_a_name() -> None:
    sbom = build_sbom(inputs(metadata_json=metadata_with("itoa", "license", "Custom licence, see LICENSE")))
    itoa = by_name(json.loads(sbom.json_bytes)["components"])["itoa"]
    assert itoa["licenses"] == [{"license": {"name": "Custom licence, see LICENSE"}}]
    assert is_schema_valid(sbom)
