"""The wasm_component rules, run by Pants' RuleRunner with the real toolchain and real crates."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from wasm_component_rules.rule_runner_support import add_registry_crates, add_testproject, package, package_error
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from wasm_attest.runner import run_component
from wasm_attest.wasm_binary import COMPONENT_HEADER


def test_hello_builds_a_component_that_runs(rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]) -> None:
    add_testproject(rule_runner, "hello")
    outputs = package(rule_runner, Address("hello", target_name="hello"))
    component = outputs["hello/hello/hello.wasm"]
    assert component.startswith(COMPONENT_HEADER)

    path = Path(rule_runner.build_root, "hello.wasm")
    path.write_bytes(component)
    assert run_component(path, ["alpha", "beta gamma"]) == 0
    assert capfd.readouterr().out == "Hello from wasm-attest!\narg: alpha\narg: beta gamma\n"


def test_registry_crates_are_vendored_and_linked(rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]) -> None:
    add_testproject(rule_runner, "serde-json")
    add_registry_crates(rule_runner, "serde-1.0.152", "serde_json-1.0.87", "itoa-1.0.1", "ryu-1.0.2")
    outputs = package(rule_runner, Address("serde-json", target_name="serde-json"))
    path = Path(rule_runner.build_root, "serde-json.wasm")
    path.write_bytes(outputs["serde-json/serde-json/serde-json.wasm"])
    assert run_component(path, ["x"]) == 0
    assert capfd.readouterr().out == '{"program":"serde-json","arg_count":1,"args":["x"]}\n'


def test_registry_folder_named_other_than_name_version(
    rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]
) -> None:
    """cargo finds directory-source crates by their Cargo.toml; Debian names some folders otherwise."""
    add_testproject(rule_runner, "serde-json")
    add_registry_crates(rule_runner, "serde-1.0.152", "serde_json-1.0.87", "itoa-1.0.1", "ryu-1.0.2")
    registry = Path(rule_runner.build_root, "registry")
    (registry / "ryu-1.0.2").rename(registry / "ryu")
    outputs = package(rule_runner, Address("serde-json", target_name="serde-json"))
    path = Path(rule_runner.build_root, "serde-json.wasm")
    path.write_bytes(outputs["serde-json/serde-json/serde-json.wasm"])
    assert run_component(path, ["y"]) == 0
    assert capfd.readouterr().out == '{"program":"serde-json","arg_count":1,"args":["y"]}\n'


def test_workspace_member(rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]) -> None:
    add_testproject(rule_runner, "workspace")
    outputs = package(rule_runner, Address("workspace/app-two"))
    path = Path(rule_runner.build_root, "app-two.wasm")
    path.write_bytes(outputs["workspace.app-two/app-two/app-two.wasm"])
    assert run_component(path, []) == 0
    assert capfd.readouterr().out == "app-two: Goodbye, world!\n"


def test_missing_lockfile_is_a_clear_error(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, "hello", "Cargo.lock").unlink()
    message = package_error(rule_runner, Address("hello", target_name="hello"))
    assert "hello:hello: there is no Cargo.lock in hello/" in message
    assert "cargo generate-lockfile" in message


def test_lockfile_that_locked_rejects(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    add_registry_crates(rule_runner, "itoa-1.0.1")
    manifest = Path(rule_runner.build_root, "hello", "Cargo.toml")
    manifest.write_text(manifest.read_text() + '\n[dependencies]\nitoa = "1"\n')
    message = package_error(rule_runner, Address("hello", target_name="hello"))
    assert "Vendoring the crates locked in hello/Cargo.lock failed" in message
    assert "no matching package named `itoa` found" in message
    assert "run `cargo update` (or `cargo generate-lockfile`) in hello/ and commit Cargo.lock" in message
    assert "pants-sandbox" not in message


def test_a_git_dependency_gets_no_lockfile_hint(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    manifest = Path(rule_runner.build_root, "hello", "Cargo.toml")
    manifest.write_text(manifest.read_text() + '\n[dependencies]\nitoa = { git = "https://example.com/itoa.git" }\n')
    message = package_error(rule_runner, Address("hello", target_name="hello"))
    assert "Vendoring the crates locked in hello/Cargo.lock failed" in message
    assert "cargo update" not in message and "git dependency cannot be fetched" in message


@pytest.mark.parametrize(
    "package_table, problem",
    [
        ('[package]\nname = 42\nversion = "0.1.0"\n', "[package].name is an integer (42), but it must be a string"),
        ('package = "x"\n', "`package` is a string ('x'), but it must be a table"),
    ],
)
def test_a_malformed_package_table_is_not_called_a_workspace_root(
    rule_runner: RuleRunner, package_table: str, problem: str
) -> None:
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, "hello", "Cargo.toml").write_text(package_table)
    message = package_error(rule_runner, Address("hello", target_name="hello"))
    assert f"hello/Cargo.toml: {problem}" in message and "workspace root" not in message


def test_compile_error_shows_rustc_diagnostics(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, "hello", "src", "main.rs").write_text('fn main() { let x: u32 = "no"; }\n')
    message = package_error(rule_runner, Address("hello", target_name="hello"))
    assert "hello:hello: cargo build failed" in message
    assert "error[E0308]: mismatched types" in message
    assert "--> src/main.rs:1:26" in message
    assert "pants-sandbox" not in message


def test_locked_crate_missing_from_registry(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "serde-json")
    add_registry_crates(rule_runner, "serde-1.0.152", "itoa-1.0.1")
    message = package_error(rule_runner, Address("serde-json", target_name="serde-json"))
    assert "serde-json/Cargo.lock locks crates that the registry at registry/ does not have" in message
    assert "ryu 1.0.2, serde_json 1.0.87" in message


def test_a_component_at_a_virtual_workspace_root_says_where_it_belongs(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "workspace")
    rule_runner.write_files({"workspace/BUILD": 'wasm_component(name="any", cargo_package="app-one")'})
    message = package_error(rule_runner, Address("workspace", target_name="any"))
    assert "workspace:any: workspace/Cargo.toml has no [package]: it is a workspace root (members: greeting, app-one, app-two)" in message
    assert "Declare `wasm_component()` in the folder of the member's own Cargo.toml instead, and `cargo_crate()` here" in message


def test_cargo_package_must_name_the_crate_of_the_folder(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "workspace")
    rule_runner.write_files({"workspace/app-one/BUILD": 'wasm_component(cargo_package="app-two")'})
    message = package_error(rule_runner, Address("workspace/app-one"))
    assert "`cargo_package` is 'app-two', but workspace/app-one/Cargo.toml is package 'app-one'" in message


def test_path_dependency_outside_the_cargo_root_builds_and_attests(
    rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]
) -> None:
    """A standalone component may use a library beside it; links name such files `@repo/<path>`, never `../`."""
    rule_runner.write_files(
        {
            "apps/app/BUILD": "wasm_component()",
            "apps/app/Cargo.toml": (
                '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n'
                '[dependencies]\nshout = { path = "../../shared/shout" }\n'
            ),
            "apps/app/Cargo.lock": (
                'version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "shout",\n]\n\n'
                '[[package]]\nname = "shout"\nversion = "0.1.0"\n'
            ),
            "apps/app/src/main.rs": 'fn main() {\n    println!("{}", shout::shout("hello"));\n}\n',
            "shared/shout/BUILD": "cargo_crate()",
            "shared/shout/Cargo.toml": '[package]\nname = "shout"\nversion = "0.1.0"\nedition = "2021"\n',
            "shared/shout/src/lib.rs": "pub fn shout(text: &str) -> String {\n    text.to_uppercase()\n}\n",
        }
    )
    outputs = package(rule_runner, Address("apps/app"))
    path = Path(rule_runner.build_root, "app.wasm")
    path.write_bytes(outputs["apps.app/app/app.wasm"])
    assert run_component(path, []) == 0
    assert capfd.readouterr().out == "HELLO\n"
    (build_link,) = (content for name, content in outputs.items() if name.startswith("apps.app/app/build."))
    materials = json.loads(base64.b64decode(json.loads(build_link)["payload"]))["materials"]
    assert {"Cargo.toml", "src/main.rs", "@repo/shared/shout/Cargo.toml", "@repo/shared/shout/src/lib.rs"} <= set(materials)


def test_named_tests_benches_and_bins_that_the_build_does_not_hold_do_not_break_it(
    rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]
) -> None:
    """cargo loads every member's manifest and refuses named targets without files: stand-ins satisfy it."""
    add_testproject(rule_runner, "workspace")
    root = Path(rule_runner.build_root, "workspace")
    with open(root / "greeting" / "Cargo.toml", "a") as manifest:
        manifest.write('\n[[bench]]\nname = "speed"\nharness = false\n')
    with open(root / "app-two" / "Cargo.toml", "a") as manifest:
        manifest.write('\n[[bin]]\nname = "tool"\n\n[[test]]\nname = "integration"\n')
    outputs = package(rule_runner, Address("workspace/app-one"))
    path = Path(rule_runner.build_root, "app-one.wasm")
    path.write_bytes(outputs["workspace.app-one/app-one/app-one.wasm"])
    assert run_component(path, ["bench"]) == 0
    assert capfd.readouterr().out == "app-one: Hello, bench!\n"
