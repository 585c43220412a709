"""cargo-auditable's `.dep-v0` format: what is written, that scanners read it, and what is refused."""

from __future__ import annotations

import dataclasses
import json
import re
import struct
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasm_attest.cargo_lock import parse_cargo_lock
from wasm_attest.crate_inventory import CrateId, CrateInventory, crate_inventory
from wasm_attest.dep_v0 import (
    BUILD,
    FORMAT,
    RUNTIME,
    AuditablePackage,
    DependencyList,
    DepV0Error,
    auditable_source,
    decode_dep_v0,
    dependency_list,
    encode_dep_v0,
)
from wasm_attest.sbom import SbomInputs, build_sbom
from wasm_attest.sbom_crates import read_sbom_crates

TESTDATA = Path(__file__).parent / "testdata"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
SMALL_LIST = DependencyList(
    packages=(
        AuditablePackage("app", "0.1.0", "local", dependencies=(2, 1), root=True),
        AuditablePackage("autocfg", "1.1.0", "crates.io", kind=BUILD),
        AuditablePackage("itoa", "1.0.1", "crates.io"),
    ),
    format=FORMAT,
)


def inventory(fixture: str = "exclusions", package: str = "exclusions") -> CrateInventory:
    folder = TESTDATA / "cargo" / fixture
    return crate_inventory(
        metadata_json=(folder / "metadata.json").read_bytes(),
        build_messages=(folder / "build-messages.jsonl").read_bytes(),
        lockfile=parse_cargo_lock((folder / "Cargo.lock").read_text()),
        package=package,
        target_triple="wasm32-wasip2",
    )


def compressed(text: str | bytes) -> bytes:
    return zlib.compress(text.encode() if isinstance(text, str) else text)


def by_name(deps: DependencyList) -> dict[str, AuditablePackage]:
    return {package.name: package for package in deps.packages}


# --- what is written ---------------------------------------------------------------


def test_the_list_has_the_root_linked_crates_as_runtime_and_build_only_crates_as_build() -> None:
    deps = dependency_list(inventory())
    packages = by_name(deps)
    assert deps.format == 1
    assert deps.root == AuditablePackage("exclusions", "0.1.0", "local", RUNTIME, deps.root.dependencies, True)
    assert {name for name, package in packages.items() if package.kind == RUNTIME and not package.root} == {
        "cfg-if", "itoa", "ryu", "serde", "serde_json"
    }
    assert {name for name, package in packages.items() if package.kind == BUILD} == {
        "autocfg", "proc-macro2", "quote", "serde_derive", "syn", "unicode-ident"
    }
    assert all(package.source == "crates.io" for name, package in packages.items() if name != "exclusions")


def test_the_runtime_packages_are_the_sboms_linked_crates() -> None:
    """Both are drawn from one inventory, which is what the three-way check relies on."""
    folder = TESTDATA / "cargo" / "workspace-app-one"
    sbom = build_sbom(
        SbomInputs(
            component_name="app-one",
            component_sha256="0f" * 32,
            lockfile=parse_cargo_lock((folder / "Cargo.lock").read_text()),
            metadata_json=(folder / "metadata.json").read_bytes(),
            build_messages=(folder / "build-messages.jsonl").read_bytes(),
            features=(),
            profile="release",
            target_triple="wasm32-wasip2",
            rustc_version="1.96.0",
            cargo_version="1.96.0",
            timestamp=datetime(2024, 5, 1, tzinfo=timezone.utc),
        )
    )
    linked = {(crate.name, crate.version) for crate in read_sbom_crates(sbom.json_bytes) if crate.scope == "required"}
    deps = dependency_list(inventory("workspace-app-one", "app-one"))
    runtime = {(package.name, package.version) for package in deps.packages if package.kind == RUNTIME and not package.root}
    assert runtime == linked


def test_dependencies_are_indices_among_the_listed_packages() -> None:
    deps = dependency_list(inventory())
    index = {package.name: position for position, package in enumerate(deps.packages)}
    assert [deps.packages[i].name for i in by_name(deps)["serde_json"].dependencies] == ["itoa", "ryu", "serde"]
    assert index["serde_derive"] in deps.root.dependencies
    assert all(list(package.dependencies) == sorted(package.dependencies) for package in deps.packages)


def test_packages_are_ordered_by_name_then_package_id() -> None:
    deps = dependency_list(inventory())
    assert [package.name for package in deps.packages] == sorted(package.name for package in deps.packages)


def test_the_json_is_what_cargo_auditables_serialiser_writes() -> None:
    """wasm-tools read the embedded list with auditable-serde and printed it back: the bytes are the same."""
    expected = (TESTDATA / "components" / "exclusions.dep-v0.json").read_bytes()
    assert zlib.decompress(encode_dep_v0(dependency_list(inventory()))) == expected


def test_default_fields_are_left_out_and_dependency_indices_sorted() -> None:
    assert json.loads(zlib.decompress(encode_dep_v0(SMALL_LIST))) == {
        "packages": [
            {"name": "app", "version": "0.1.0", "source": "local", "dependencies": [1, 2], "root": True},
            {"name": "autocfg", "version": "1.1.0", "source": "crates.io", "kind": "build"},
            {"name": "itoa", "version": "1.0.1", "source": "crates.io"},
        ],
        "format": 1,
    }
    assert b'"format"' not in zlib.decompress(encode_dep_v0(DependencyList(SMALL_LIST.packages, format=None)))


def test_encoding_is_deterministic() -> None:
    assert encode_dep_v0(dependency_list(inventory())) == encode_dep_v0(dependency_list(inventory()))


@pytest.mark.parametrize(
    "source, expected",
    [
        (CRATES_IO, "crates.io"),
        ("sparse+https://index.crates.io/", "crates.io"),
        ("registry+https://example.com/index", "registry"),
        ("sparse+https://example.com/index/", "registry"),
        ("git+https://example.com/helper?rev=main", "git"),
        (None, "local"),
    ],
)
def test_sources_are_named_as_cargo_auditable_names_them(source: str | None, expected: str) -> None:
    assert auditable_source(CrateId("x", "1.0.0", source)) == expected


def test_an_invalid_list_is_not_encoded() -> None:
    looping = DependencyList((AuditablePackage("a", "1.0.0", "local", dependencies=(0,)),), format=1)
    with pytest.raises(DepV0Error, match="cycle through package 0 \\(a 1.0.0\\)"):
        encode_dep_v0(looping)


# --- reading -------------------------------------------------------------------------


def test_a_list_cargo_auditable_wrote_is_read() -> None:
    """auditable-serde's documentation example, as cargo auditable before format 1 wrote it."""
    deps = decode_dep_v0(compressed('{"packages":[{"name":"adler","version":"0.2.3","source":"registry"}]}'))
    assert deps == DependencyList((AuditablePackage("adler", "0.2.3", "registry"),), format=None)


def test_cargo_auditables_list_of_the_same_build_differs_only_in_the_proc_macros_kind() -> None:
    """cargo auditable 0.7.7 built testdata/cargo/exclusions; it misses that serde_derive (which has a
    build script, so two targets) is a proc-macro, and lists it and what it uses as runtime."""
    theirs = decode_dep_v0((TESTDATA / "components" / "exclusions-by-cargo-auditable.dep-v0").read_bytes())
    ours = dependency_list(inventory())
    assert theirs.format == ours.format == 1
    differing = [mine.name for mine, other in zip(ours.packages, theirs.packages) if mine != other]
    assert differing == ["proc-macro2", "quote", "serde_derive", "syn", "unicode-ident"]
    assert all(
        mine == dataclasses.replace(other, kind=BUILD) for mine, other in zip(ours.packages, theirs.packages) if mine.name in differing
    )


def test_unknown_fields_are_ignored_as_auditable_serde_ignores_them() -> None:
    text = '{"packages":[{"name":"a","version":"1.0.0","source":"git","purl":"x"}],"format":8,"extra":1}'
    assert decode_dep_v0(compressed(text)).format == 8


@pytest.mark.parametrize(
    "payload, problem",
    [
        (b"not zlib", "not zlib data"),
        (compressed("{}")[:-3], "zlib data is cut short"),
        (compressed("{}") + b"x", "1 bytes after its zlib data"),
        (compressed(b"\xff\xfe"), "not UTF-8 JSON"),
        (compressed("{"), "not UTF-8 JSON"),
        (compressed('{"packages":[],"format":NaN}'), "not UTF-8 JSON"),
        (compressed("[" * 100_000 + "]" * 100_000), "not UTF-8 JSON"),
        (compressed("[]"), "not an object"),
        (compressed('{"packages":{}}'), '"packages" is missing or not an array'),
        (compressed('{"packages":[],"format":-1}'), '"format" is -1'),
        (compressed('{"packages":[1]}'), "package 0 is not an object"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0"}]}'), 'package 0 has no "source" text'),
        (compressed('{"packages":[{"name":"a","version":1,"source":"x"}]}'), 'package 0 has no "version" text'),
        (compressed('{"packages":[{"name":"a","version":"1.0","source":"x"}]}'), "version that is not semver"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","kind":"dev"}]}'), "kind 'dev'"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","root":1}]}'), '"root" 1'),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","dependencies":[1]}]}'), "index 1, but the list has 1"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","dependencies":[-1]}]}'), "not an array of package indices"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","dependencies":[true]}]}'), "not an array of package indices"),
        (compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","dependencies":[0.0]}]}'), "not an array of package indices"),
        (
            compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","root":true},{"name":"b","version":"1.0.0","source":"x","root":true}]}'),
            "2 packages are marked as the root",
        ),
        (
            compressed('{"packages":[{"name":"a","version":"1.0.0","source":"x","dependencies":[1]},{"name":"b","version":"1.0.0","source":"x","dependencies":[0]}]}'),
            "cycle",
        ),
    ],
)
def test_malformed_lists_are_refused_clearly(payload: bytes, problem: str) -> None:
    with pytest.raises(DepV0Error, match=f"the .dep-v0 section.*{re.escape(problem)}"):
        decode_dep_v0(payload)


def zeros_bomb(mebibytes: int) -> bytes:
    """A valid zlib stream of `mebibytes` MiB of zeros, made in milliseconds.

    After a full flush the compressor starts afresh, so every further MiB of
    zeros compresses to the same bytes; the Adler-32 of n zeros is n mod 65521
    in the high half and 1 in the low half.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()[:-4]
    checksum = ((mebibytes << 20) % 65521) << 16 | 1
    return first + repeated * (mebibytes - 1) + final_block + struct.pack(">I", checksum)


def test_the_bomb_is_a_real_zlib_stream() -> None:
    assert zlib.decompress(zeros_bomb(3)) == bytes(3 << 20)


def test_a_zip_bomb_is_refused_quickly_without_inflating_it() -> None:
    bomb = zeros_bomb(1024)  # 1 GiB of zeros in about 1 MiB
    assert len(bomb) < 2 << 20
    started = time.monotonic()
    with pytest.raises(DepV0Error, match="decompresses to more than 8388608 bytes.*decompression bomb"):
        decode_dep_v0(bomb)
    assert time.monotonic() - started < 1


def test_the_cap_is_exact_and_configurable() -> None:
    payload = encode_dep_v0(SMALL_LIST)
    size = len(zlib.decompress(payload))
    assert decode_dep_v0(payload, max_decompressed_bytes=size) == decode_dep_v0(payload)
    with pytest.raises(DepV0Error, match=f"more than {size - 1} bytes"):
        decode_dep_v0(payload, max_decompressed_bytes=size - 1)


# --- round trips -----------------------------------------------------------------------

_SEMVER = st.tuples(st.integers(0, 30), st.integers(0, 300), st.integers(0, 3000)).map(lambda v: "%d.%d.%d" % v)


@st.composite
def dependency_lists(draw: st.DrawFn) -> DependencyList:
    """Valid lists: dependencies point only to later packages, so there is no cycle; at most one root."""
    count = draw(st.integers(0, 12))
    root = draw(st.one_of(st.none(), st.integers(0, max(count - 1, 0)))) if count else None
    packages = tuple(
        AuditablePackage(
            name=draw(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)),
            version=draw(_SEMVER),
            source=draw(st.sampled_from(["crates.io", "git", "local", "registry", "hg"])),
            kind=draw(st.sampled_from([RUNTIME, BUILD])),
            dependencies=tuple(sorted(draw(st.sets(st.integers(position + 1, count - 1), max_size=4))))
            if position + 1 < count
            else (),
            root=position == root,
        )
        for position in range(count)
    )
    return DependencyList(packages=packages, format=draw(st.one_of(st.none(), st.integers(0, 8))))


@settings(max_examples=200, deadline=1000, database=None, derandomize=True)
@given(dependency_lists())
def test_random_lists_round_trip(deps: DependencyList) -> None:
    payload = encode_dep_v0(deps)
    assert decode_dep_v0(payload) == deps
    assert encode_dep_v0(decode_dep_v0(payload)) == payload


@settings(max_examples=300, deadline=1000, database=None, derandomize=True)
@given(st.binary(max_size=512))
def test_random_payloads_fail_cleanly(payload: bytes) -> None:
    for candidate in (payload, zlib.compress(payload)):
        try:
            decode_dep_v0(candidate)
        except DepV0Error:
            pass
