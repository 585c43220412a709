"""Dependency inference from Cargo.toml: which targets a crate's path dependencies and workspace root become."""

from __future__ import annotations

import pytest
from pants.core.target_types import FilesGeneratorTarget
from pants.engine.addresses import Address, Addresses
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import QueryRule
from pants.engine.target import Dependencies, DependenciesRequest, InferredDependencies
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import new_rule_runner

from wasm_component.dependency_inference import CargoCrateDependenciesInferenceFieldSet, InferCargoCrateDependencies


@pytest.fixture
def rule_runner() -> RuleRunner:
    return new_rule_runner(
        QueryRule(InferredDependencies, [InferCargoCrateDependencies]),
        QueryRule(Addresses, [DependenciesRequest]),
        QueryRule(Owners, [OwnersRequest]),
        target_types=(FilesGeneratorTarget,),
    )


def package(name: str, dependencies: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{dependencies}'


def inferred(rule_runner: RuleRunner, address: Address) -> set[str]:
    target = rule_runner.get_target(address)
    request = InferCargoCrateDependencies(CargoCrateDependenciesInferenceFieldSet.create(target))
    return {str(dependency) for dependency in rule_runner.request(InferredDependencies, [request]).include}


def inference_error(rule_runner: RuleRunner, address: Address) -> str:
    with pytest.raises(ExecutionError) as failure:
        inferred(rule_runner, address)
    (error,) = failure.value.wrapped_exceptions
    return str(error)


def test_path_dependencies_of_every_kind_platform_and_rename(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "apps/app/BUILD": "wasm_component()",
            "apps/app/Cargo.toml": package(
                "app",
                """
[dependencies]
serde = "1"
util = { path = "../../libs/util" }
text = { package = "text-utils", path = "../../libs/text" }

[build-dependencies]
codegen = { path = "../../tools/codegen" }

[dev-dependencies]
fixtures = { path = "../../libs/fixtures" }

[target.'cfg(target_os = "wasi")'.dependencies]
wasi-shim = { path = "../../libs/wasi-shim" }

[target.'cfg(unix)'.build-dependencies]
probe = { path = "../../tools/probe" }
""",
            ),
            "apps/app/Cargo.lock": "version = 3\n",
            **{
                f"{folder}/{name}": content
                for folder, package_name in (
                    ("libs/util", "util"),
                    ("libs/text", "text-utils"),
                    ("tools/codegen", "codegen"),
                    ("libs/fixtures", "fixtures"),
                    ("libs/wasi-shim", "wasi-shim"),
                    ("tools/probe", "probe"),
                )
                for name, content in (("BUILD", "cargo_crate()"), ("Cargo.toml", package(package_name)))
            },
        }
    )
    assert inferred(rule_runner, Address("apps/app")) == {
        "libs/util:util",
        "libs/text:text",
        "tools/codegen:codegen",
        "libs/fixtures:fixtures",
        "libs/wasi-shim:wasi-shim",
        "tools/probe:probe",
    }


def workspace_files() -> dict[str, str]:
    """A virtual workspace: two components sharing `greeting` (by path) and `shared` (through `workspace = true`)."""
    return {
        "ws/BUILD": "cargo_crate()",
        "ws/Cargo.toml": (
            '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n'
            '[workspace.dependencies]\nshared = { path = "libs/shared" }\nserde = "1"\n'
        ),
        "ws/Cargo.lock": "version = 3\n",
        "ws/crates/one/BUILD": "wasm_component()",
        "ws/crates/one/Cargo.toml": package("one", '[dependencies]\ngreeting = { path = "../greeting" }\n'),
        "ws/crates/one/src/main.rs": "fn main() {}\n",
        "ws/crates/two/BUILD": "wasm_component()",
        "ws/crates/two/Cargo.toml": package("two", "[dependencies]\nshared.workspace = true\nserde.workspace = true\n"),
        "ws/crates/two/src/main.rs": "fn main() {}\n",
        "ws/crates/greeting/BUILD": "cargo_crate()",
        "ws/crates/greeting/Cargo.toml": package("greeting"),
        "ws/crates/greeting/src/lib.rs": "",
        "ws/libs/shared/BUILD": "cargo_crate()",
        "ws/libs/shared/Cargo.toml": package("shared"),
        "ws/libs/shared/src/lib.rs": "",
    }


def test_workspace_members_depend_on_the_root_and_what_they_use(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(workspace_files())
    assert inferred(rule_runner, Address("ws/crates/one")) == {"ws:ws", "ws/crates/greeting:greeting"}
    assert inferred(rule_runner, Address("ws/crates/two")) == {"ws:ws", "ws/libs/shared:shared"}
    # A library member builds in the workspace too: a change to the root's files reaches it.
    assert inferred(rule_runner, Address("ws/crates/greeting")) == {"ws:ws"}
    assert inferred(rule_runner, Address("ws")) == set()


def test_a_standalone_component_depends_only_on_its_path_dependencies(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "app/BUILD": "wasm_component()",
            "app/Cargo.toml": package("app", '[dependencies]\nlib = { path = "../lib" }\n'),
            "app/Cargo.lock": "version = 3\n",
            "lib/BUILD": "cargo_crate()",
            "lib/Cargo.toml": package("lib"),
        }
    )
    assert inferred(rule_runner, Address("app")) == {"lib:lib"}


def test_a_files_target_owning_the_same_manifest_is_not_a_crate(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({**workspace_files(), "BUILD": 'files(name="everything", sources=["**/*"])'})
    assert inferred(rule_runner, Address("ws/crates/one")) == {"ws:ws", "ws/crates/greeting:greeting"}


def test_explicit_dependencies_add_to_the_inferred_ones(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            **workspace_files(),
            "ws/crates/one/BUILD": 'wasm_component(dependencies=[":data"])\nfiles(name="data", sources=["data/*"])',
            "ws/crates/one/data/words.txt": "hello\n",
        }
    )
    target = rule_runner.get_target(Address("ws/crates/one"))
    dependencies = rule_runner.request(Addresses, [DependenciesRequest(target[Dependencies])])
    assert {str(address) for address in dependencies} == {
        "ws:ws",
        "ws/crates/greeting:greeting",
        "ws/crates/one:data",
    }


def test_a_path_outside_the_repository_is_an_error(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "app/BUILD": "wasm_component()",
            "app/Cargo.toml": package("app", '[dependencies]\nfar = { path = "../../far-away" }\n'),
        }
    )
    message = inference_error(rule_runner, Address("app"))
    assert message.startswith("app:app: the path dependency `far` in [dependencies] of app/Cargo.toml is '../../far-away'")
    assert "outside the repository" in message
    assert "move that crate into the repository (and declare `cargo_crate()` in its folder)" in message


def test_a_path_to_a_missing_folder_is_an_error(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "app/BUILD": "wasm_component()",
            "app/Cargo.toml": package("app", '[build-dependencies]\ngone = { path = "../gone" }\n'),
        }
    )
    message = inference_error(rule_runner, Address("app"))
    assert message == (
        "app:app: the path dependency `gone` in [build-dependencies] of app/Cargo.toml is gone/, which has no "
        "Cargo.toml (or does not exist). Correct the path in app/Cargo.toml, or put the crate there."
    )


def test_a_crate_without_a_target_is_an_error_that_suggests_cargo_crate(rule_runner: RuleRunner) -> None:
    files = workspace_files()
    del files["ws/crates/greeting/BUILD"]
    rule_runner.write_files(files)
    message = inference_error(rule_runner, Address("ws/crates/one"))
    assert message == (
        "ws/crates/one:one: cargo reads ws/crates/greeting/Cargo.toml for the path dependency `greeting` in "
        "[dependencies] of ws/crates/one/Cargo.toml, but no `cargo_crate` or `wasm_component` target owns it. "
        "Declare `cargo_crate()` in ws/crates/greeting/BUILD."
    )


def test_a_workspace_root_without_a_target_is_an_error_that_suggests_cargo_crate(rule_runner: RuleRunner) -> None:
    files = workspace_files()
    del files["ws/BUILD"]
    rule_runner.write_files(files)
    message = inference_error(rule_runner, Address("ws/crates/one"))
    assert "cargo reads ws/Cargo.toml for the workspace root of ws/crates/one/Cargo.toml" in message
    assert "Declare `cargo_crate()` in ws/BUILD." in message


def test_inheriting_an_undeclared_workspace_dependency_is_an_error(rule_runner: RuleRunner) -> None:
    files = workspace_files()
    files["ws/crates/one/Cargo.toml"] = package("one", "[dependencies]\nmissing.workspace = true\n")
    rule_runner.write_files(files)
    message = inference_error(rule_runner, Address("ws/crates/one"))
    assert "ws/crates/one:one: ws/crates/one/Cargo.toml: `missing` in [dependencies] is inherited" in message
    assert "[workspace.dependencies] of ws/Cargo.toml has no `missing`" in message


def test_a_component_owns_its_crate_files_even_with_a_signed_layout(rule_runner: RuleRunner) -> None:
    """What `--changed-since` and file arguments rely on: the crate's files map to the component."""
    files = workspace_files()
    files["ws/crates/one/BUILD"] = 'wasm_component(signed_layout="one.root.layout")'
    rule_runner.write_files(files)
    for path in ("ws/crates/one/src/main.rs", "ws/crates/one/Cargo.toml"):
        assert set(rule_runner.request(Owners, [OwnersRequest((path,))])) == {Address("ws/crates/one")}
