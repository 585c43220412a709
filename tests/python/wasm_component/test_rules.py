"""The wasm_component rules, run by Pants' RuleRunner with the real toolchain and real crates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pants.core.goals.package import BuiltPackage
from pants.core.util_rules import archive, distdir, external_tool, source_files, system_binaries
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner

from wasm_attest.runner import run_component
from wasm_attest.wasm_binary import COMPONENT_HEADER
from wasm_component import register
from wasm_component.goals.package import WasmComponentFieldSet

REGISTRY = Path(os.environ["WASM_ATTEST_BUILDROOT"], "build-support", "registry", "crates")
TOOLCHAIN_URL = f"file://{os.environ['WASM_ATTEST_CACHE']}/toolchain/wasm32-wasip2-rust-{{version}}.tar.gz"


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = RuleRunner(
        rules=[
            *register.rules(),
            *archive.rules(),
            *distdir.rules(),
            *external_tool.rules(),
            *source_files.rules(),
            *system_binaries.rules(),
            QueryRule(BuiltPackage, [WasmComponentFieldSet]),
            QueryRule(DigestContents, [Digest]),
        ],
        target_types=register.target_types(),
    )
    runner.set_options(
        [
            f"--wasm-toolchain-url-template={TOOLCHAIN_URL}",
            "--cargo-registry-source=directory",
            "--cargo-registry-directory=registry",
            f"--wasm-attest-development-keys-dir={runner.build_root}/.dev-keys",
        ],
        env_inherit={"PATH", "HOME"},
    )
    return runner


def add_testproject(rule_runner: RuleRunner, name: str) -> None:
    """Copies testprojects/<name> (a dependency of these tests) into the build root."""
    shutil.copytree(Path("testprojects", name), Path(rule_runner.build_root, name))


def add_registry_crates(rule_runner: RuleRunner, *crates: str) -> None:
    for crate in crates:
        shutil.copytree(REGISTRY / crate, Path(rule_runner.build_root, "registry", crate))


def package(rule_runner: RuleRunner, address: Address) -> dict[str, bytes]:
    """Packages one wasm_component; returns the files it puts under dist/."""
    target = rule_runner.get_target(address)
    built = rule_runner.request(BuiltPackage, [WasmComponentFieldSet.create(target)])
    contents = rule_runner.request(DigestContents, [built.digest])
    return {entry.path: entry.content for entry in contents}


def package_error(rule_runner: RuleRunner, address: Address) -> str:
    """The message of the error that packaging raises (what `pants package` prints)."""
    with pytest.raises(ExecutionError) as failure:
        package(rule_runner, address)
    (error,) = failure.value.wrapped_exceptions
    return str(error)


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


def test_workspace_member(rule_runner: RuleRunner, capfd: pytest.CaptureFixture[str]) -> None:
    add_testproject(rule_runner, "workspace")
    outputs = package(rule_runner, Address("workspace", target_name="app-two"))
    path = Path(rule_runner.build_root, "app-two.wasm")
    path.write_bytes(outputs["workspace/app-two/app-two.wasm"])
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


def test_workspace_root_needs_cargo_package(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "workspace")
    rule_runner.write_files({"workspace/BUILD": 'wasm_component(name="any")'})
    message = package_error(rule_runner, Address("workspace", target_name="any"))
    assert "set `cargo_package` to one of its members: greeting, app-one, app-two" in message
