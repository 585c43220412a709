from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wasm_attest.cargo_lock import parse_cargo_lock
from wasm_attest.crate_inventory import (
    BUILD_DEPENDENCY,
    HOST_DEPENDENCY,
    PROC_MACRO,
    CrateId,
    CrateInventory,
    CrateInventoryError,
    crate_inventory,
    parse_package_id,
)

# Captured by testdata/cargo/capture.sh from testprojects/: real cargo 1.96 output.
TESTDATA = Path(__file__).parent / "testdata" / "cargo"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def inventory(
    fixture: str, package: str, *, metadata_json: bytes | None = None, build_messages: bytes | None = None
) -> CrateInventory:
    """The inventory of a captured fixture, with its metadata or build messages replaced if given."""
    return crate_inventory(
        metadata_json=metadata_json or fixture_bytes(fixture, "metadata.json"),
        build_messages=build_messages or fixture_bytes(fixture, "build-messages.jsonl"),
        lockfile=parse_cargo_lock((TESTDATA / fixture / "Cargo.lock").read_text()),
        package=package,
        target_triple="wasm32-wasip2",
    )


def fixture_bytes(fixture: str, file: str) -> bytes:
    return (TESTDATA / fixture / file).read_bytes()


def names(crates) -> set[str]:
    return {crate.id.name for crate in crates}


@pytest.mark.parametrize(
    "package_id, expected",
    [
        (f"{CRATES_IO}#serde@1.0.152", CrateId("serde", "1.0.152", CRATES_IO)),
        (f"serde 1.0.152 ({CRATES_IO})", CrateId("serde", "1.0.152", CRATES_IO)),
        # The name is left out when it is the folder's name.
        ("path+file:///build/exclusions#0.1.0", CrateId("exclusions", "0.1.0", None)),
        ("path+file:///build/src#app-one@0.1.0", CrateId("app-one", "0.1.0", None)),
        ("app-one 0.1.0 (path+file:///build/workspace/app-one)", CrateId("app-one", "0.1.0", None)),
        ("sparse+https://index.crates.io/#itoa@1.0.1", CrateId("itoa", "1.0.1", "sparse+https://index.crates.io/")),
        # Git: the locked commit is in older ids and Cargo.lock, not in newer ids.
        (
            "git+https://example.com/r?rev=main#helper@1.0.0",
            CrateId("helper", "1.0.0", "git+https://example.com/r?rev=main"),
        ),
        (
            "helper 1.0.0 (git+https://example.com/r?rev=main#0123abc)",
            CrateId("helper", "1.0.0", "git+https://example.com/r?rev=main"),
        ),
        ("git+https://example.com/helper#1.0.0", CrateId("helper", "1.0.0", "git+https://example.com/helper")),
    ],
)
def test_package_ids_of_every_cargo_format(package_id: str, expected: CrateId) -> None:
    assert parse_package_id(package_id) == expected


@pytest.mark.parametrize("package_id", ["serde", "#serde@1.0.0", f"{CRATES_IO}#"])
def test_unreadable_package_id_is_rejected(package_id: str) -> None:
    with pytest.raises(CrateInventoryError, match="no format wasm-attest knows"):
        parse_package_id(package_id)


def test_exclusions_links_only_normal_dependencies_compiled_for_the_target() -> None:
    crates = inventory("exclusions", "exclusions")
    # serde, serde_json and ryu have build scripts: those run on the host, the crates are still linked.
    assert names(crates.linked) == {"cfg-if", "serde", "serde_json", "itoa", "ryu"}
    assert {crate.id.name: crate.build_only_reasons for crate in crates.build_only} == {
        "autocfg": (BUILD_DEPENDENCY,),
        "serde_derive": (PROC_MACRO,),
        "proc-macro2": (PROC_MACRO,),
        "quote": (PROC_MACRO,),
        "syn": (PROC_MACRO,),
        "unicode-ident": (PROC_MACRO,),
    }


def test_dev_other_platform_and_disabled_optional_dependencies_are_absent() -> None:
    all_names = names(inventory("exclusions", "exclusions").crates)
    assert {"static_assertions", "libc", "hex"}.isdisjoint(all_names)


def test_the_graph_joins_compiled_crates_without_dev_edges() -> None:
    crates = inventory("exclusions", "exclusions")
    assert crates.root.id == CrateId("exclusions", "0.1.0", None)
    assert names_of(crates.root.dependencies) == {"autocfg", "cfg-if", "serde", "serde_derive", "serde_json"}
    by_name = {crate.id.name: crate for crate in crates.crates}
    assert names_of(by_name["serde_json"].dependencies) == {"itoa", "ryu", "serde"}
    assert names_of(by_name["serde_derive"].dependencies) == {"proc-macro2", "quote", "syn"}


def names_of(crate_ids) -> set[str]:
    return {crate_id.name for crate_id in crate_ids}


def test_crates_carry_their_lockfile_entry_license_and_repository() -> None:
    by_name = {crate.id.name: crate for crate in inventory("exclusions", "exclusions").crates}
    assert by_name["cfg-if"].locked.checksum == "Could not get crate checksum"
    assert by_name["cfg-if"].locked.sha256 is None
    assert by_name["cfg-if"].license == "MIT/Apache-2.0"
    assert by_name["serde"].repository == "https://github.com/serde-rs/serde"
    assert by_name["serde"].id.source == CRATES_IO


def test_serde_json_has_no_build_only_crates() -> None:
    crates = inventory("serde-json", "serde-json")
    assert names(crates.linked) == {"serde", "serde_json", "itoa", "ryu"}
    assert crates.build_only == ()


def test_workspace_path_dependency_is_an_in_repo_crate() -> None:
    crates = inventory("workspace-app-one", "app-one")
    (greeting,) = crates.crates
    assert greeting.id == CrateId("greeting", "0.1.0", None)
    assert greeting.id.is_in_repo and greeting.linked
    assert greeting.locked.source is None


def test_metadata_and_build_from_different_sandboxes_give_the_same_inventory() -> None:
    elsewhere = fixture_bytes("workspace-app-one", "build-messages.jsonl").replace(b"/build/", b"/sandbox-2/build/")
    moved = inventory("workspace-app-one", "app-one", build_messages=elsewhere)
    assert moved == inventory("workspace-app-one", "app-one")


def test_package_ids_in_the_format_of_cargo_before_1_77_give_the_same_inventory() -> None:
    def legacy(file: str) -> bytes:
        """The fixture with its registry package ids as cargo printed them before 1.77."""
        new_format = re.compile(rb'"(registry\+[^"#]+)#([^"@]+)@([^"]+)"')
        return new_format.sub(rb'"\2 \3 (\1)"', fixture_bytes("exclusions", file))

    assert b'"package_id":"serde 1.0.152 (registry+' in legacy("build-messages.jsonl")
    old = inventory(
        "exclusions",
        "exclusions",
        metadata_json=legacy("metadata.json"),
        build_messages=legacy("build-messages.jsonl"),
    )
    assert old == inventory("exclusions", "exclusions")


def test_a_host_crate_the_target_metadata_cannot_explain_is_still_build_only() -> None:
    # What `--filter-platform` does to a host-only `cfg(unix)` dependency: the edge is gone.
    metadata = json.loads(fixture_bytes("exclusions", "metadata.json"))
    for node in metadata["resolve"]["nodes"]:
        node["deps"] = [dep for dep in node["deps"] if "autocfg" not in dep["pkg"]]
    crates = inventory("exclusions", "exclusions", metadata_json=json.dumps(metadata).encode())
    (autocfg,) = [crate for crate in crates.crates if crate.id.name == "autocfg"]
    assert autocfg.build_only_reasons == (HOST_DEPENDENCY,)


def test_lines_that_are_not_json_are_skipped() -> None:
    messages = b"warning: some linker chatter\n" + fixture_bytes("serde-json", "build-messages.jsonl")
    assert inventory("serde-json", "serde-json", build_messages=messages) == inventory("serde-json", "serde-json")


def test_broken_json_line_is_an_error() -> None:
    messages = fixture_bytes("serde-json", "build-messages.jsonl") + b'{"reason": "compiler-art'
    with pytest.raises(CrateInventoryError, match="line 13 of the build messages is broken JSON"):
        inventory("serde-json", "serde-json", build_messages=messages)


def test_messages_of_a_build_without_target_are_rejected() -> None:
    host_build = fixture_bytes("serde-json", "build-messages.jsonl").replace(b"/wasm32-wasip2/", b"/")
    with pytest.raises(CrateInventoryError, match="no artifact of serde-json compiled for wasm32-wasip2"):
        inventory("serde-json", "serde-json", build_messages=host_build)


def test_a_target_directory_inside_a_folder_named_like_the_target_is_rejected() -> None:
    ambiguous = fixture_bytes("exclusions", "build-messages.jsonl").replace(b'"/build/', b'"/wasm32-wasip2/build/')
    with pytest.raises(CrateInventoryError, match="host and target artifacts cannot be told apart"):
        inventory("exclusions", "exclusions", build_messages=ambiguous)


def test_unknown_package_names_the_workspace_members() -> None:
    members = r"no workspace member named app-three \(members: app-one, app-two, greeting\)"
    with pytest.raises(CrateInventoryError, match=members):
        inventory("workspace-app-one", "app-three")


def test_a_compiled_crate_missing_from_cargo_lock_is_an_error() -> None:
    lock = (TESTDATA / "serde-json" / "Cargo.lock").read_text().replace('name = "ryu"', 'name = "ryu-renamed"')
    with pytest.raises(CrateInventoryError, match="compiled ryu 1.0.2, which Cargo.lock does not list"):
        crate_inventory(
            metadata_json=fixture_bytes("serde-json", "metadata.json"),
            build_messages=fixture_bytes("serde-json", "build-messages.jsonl"),
            lockfile=parse_cargo_lock(lock),
            package="serde-json",
            target_triple="wasm32-wasip2",
        )


def test_metadata_without_resolve_is_rejected() -> None:
    metadata = json.loads(fixture_bytes("serde-json", "metadata.json"))
    metadata["resolve"] = None
    with pytest.raises(CrateInventoryError, match="run it without --no-deps"):
        inventory("serde-json", "serde-json", metadata_json=json.dumps(metadata).encode())
