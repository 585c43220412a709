"""Which compiled files a workspace's components share, and the cargo command that compiles them."""

from __future__ import annotations

import json

from wasm_attest.shared_crates.target_files import (
    compiled_units,
    dependency_build_args,
    is_freshness_record,
    registry_unit_hashes,
    shared_target_files,
)

SERDE = "0123456789abcdef"
SERDE_BUILD = "1111111111111111"
SERDE_RUN = "2222222222222222"
STAND_IN = "3333333333333333"
REGISTRY = "registry+https://github.com/rust-lang/crates.io-index#serde_json@1.0.87"
MEMBER = "path+file:///build/serde-json#0.1.0"


def _messages(*messages: dict) -> bytes:
    return b"\n".join(json.dumps(message).encode() for message in messages) + b"\n"


def _artifact(package_id: str, name: str, kind: str, filenames: list[str], fresh: bool = False) -> dict:
    return {
        "reason": "compiler-artifact",
        "package_id": package_id,
        "target": {"name": name, "kind": [kind]},
        "filenames": filenames,
        "fresh": fresh,
    }


CARGO_OUTPUT = _messages(
    _artifact(REGISTRY, "build-script-build", "custom-build", [f"/build/target/release/build/serde_json-{SERDE_BUILD}/build-script-build"]),
    {"reason": "build-script-executed", "package_id": REGISTRY, "out_dir": f"/build/target/wasm32-wasip2/release/build/serde_json-{SERDE_RUN}/out"},
    _artifact(REGISTRY, "serde_json", "lib", [f"/build/target/wasm32-wasip2/release/deps/libserde_json-{SERDE}.rlib"]),
    # The stand-in member `serde-json`: its crate has the registry crate's name, never its hash.
    _artifact(MEMBER, "serde_json", "lib", [f"/build/target/wasm32-wasip2/release/deps/libserde_json-{STAND_IN}.rlib"], fresh=True),
    {"reason": "build-finished", "success": True},
)


def test_registry_units_are_told_from_members_by_hash() -> None:
    assert registry_unit_hashes(CARGO_OUTPUT) == {SERDE, SERDE_BUILD, SERDE_RUN}


def test_registry_units_of_target_and_host_are_shared() -> None:
    paths = [
        f"wasm32-wasip2/release/deps/libserde_json-{SERDE}.rlib",
        f"wasm32-wasip2/release/deps/libserde_json-{SERDE}.rmeta",
        f"wasm32-wasip2/release/deps/serde_json-{SERDE}.d",
        f"wasm32-wasip2/release/.fingerprint/serde_json-{SERDE}/lib-serde_json",
        f"wasm32-wasip2/release/build/serde_json-{SERDE_RUN}/output",
        f"release/build/serde_json-{SERDE_BUILD}/build_script_build-{SERDE_BUILD}",
        f"release/.fingerprint/serde_json-{SERDE_BUILD}/build-script-build-script-build",
    ]
    assert shared_target_files(paths, "release", registry_unit_hashes(CARGO_OUTPUT)) == tuple(sorted(paths))


def test_stand_in_members_are_never_shared() -> None:
    """A stand-in member's output must not be taken for the real member's, even under the registry crate's name."""
    paths = [
        f"wasm32-wasip2/release/deps/libserde_json-{STAND_IN}.rlib",
        f"wasm32-wasip2/release/deps/serde_json-{STAND_IN}.d",
        f"wasm32-wasip2/release/.fingerprint/serde-json-{STAND_IN}/lib-serde_json",
    ]
    assert shared_target_files(paths, "release", registry_unit_hashes(CARGO_OUTPUT)) == ()


def test_bookkeeping_uplifted_files_and_other_profiles_are_not_shared() -> None:
    paths = [
        ".rustc_info.json",
        "CACHEDIR.TAG",
        "release/.cargo-lock",
        "wasm32-wasip2/release/.cargo-lock",
        "wasm32-wasip2/release/libserde_json.rlib",
        f"wasm32-wasip2/debug/deps/libserde_json-{SERDE}.rlib",
        "wasm32-wasip2/release/deps/not-a-unit.txt",
    ]
    assert shared_target_files(paths, "release", registry_unit_hashes(CARGO_OUTPUT)) == ()


def test_compiled_and_fresh_units_in_cargos_words() -> None:
    compiled, fresh = compiled_units(CARGO_OUTPUT)
    assert compiled == ("build-script-build(custom-build)", "serde_json(lib)")
    assert fresh == ("serde_json(lib)",)


def test_build_args_select_each_component_with_its_own_features() -> None:
    args = dependency_build_args("wasm32-wasip2", "release", [("b", ["y", "x"]), ("a", [])], no_default_features=False)
    assert args[-7:] == ("--lib", "--package", "a", "--package", "b", "--features", "b/x,b/y")
    assert "--no-default-features" not in args
    assert ("--profile", "release") == args[args.index("--profile") : args.index("--profile") + 2]


def test_build_args_without_default_features() -> None:
    args = dependency_build_args("wasm32-wasip2", "dev", [("a", [])], no_default_features=True)
    assert args[-4:] == ("--lib", "--package", "a", "--no-default-features")
    assert "--features" not in args


def test_only_cargos_freshness_records_are_left_out_of_the_links() -> None:
    """cargo writes a unit's encoded dep-info in an order that varies between runs: shared, never attested."""
    assert is_freshness_record("target/wasm32-wasip2/release/.fingerprint/typenum-656eb7136ba8c51c/dep-lib-typenum")
    assert is_freshness_record(f"release/.fingerprint/serde_json-{SERDE_BUILD}/dep-build-script-build-script-build")
    for attested in (
        f"target/wasm32-wasip2/release/.fingerprint/serde_json-{SERDE}/lib-serde_json",
        f"target/wasm32-wasip2/release/.fingerprint/serde_json-{SERDE}/lib-serde_json.json",
        f"target/wasm32-wasip2/release/deps/libserde_json-{SERDE}.rlib",
        f"target/wasm32-wasip2/release/deps/serde_json-{SERDE}.d",
        f"target/release/build/typenum-{SERDE_RUN}/out/dep-consts.rs",
    ):
        assert not is_freshness_record(attested), attested
