"""Which components share one compile of a workspace's registry crates, and with which features."""

from __future__ import annotations

import pytest
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import new_rule_runner

from wasm_component.util_rules.shared_crates import WorkspaceComponents, WorkspaceComponentsRequest


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = new_rule_runner(QueryRule(WorkspaceComponents, [WorkspaceComponentsRequest]))
    runner.write_files(
        {
            "ws/BUILD": "cargo_crate()",
            "ws/Cargo.toml": '[workspace]\nmembers = ["one", "two", "debug", "bare", "lib"]\n',
            "ws/Cargo.lock": "version = 3\n",
            "ws/one/BUILD": 'wasm_component(features=["fast"])',
            "ws/one/Cargo.toml": package("one"),
            "ws/one/src/main.rs": "fn main() {}\n",
            # Two components of one package: their features are unified, the package is selected once.
            "ws/two/BUILD": 'wasm_component(name="a", bin="a")\nwasm_component(name="b", bin="b", features=["x"])',
            "ws/two/Cargo.toml": package("two"),
            "ws/two/src/bin/a.rs": "fn main() {}\n",
            "ws/two/src/bin/b.rs": "fn main() {}\n",
            "ws/debug/BUILD": 'wasm_component(profile="dev")',
            "ws/debug/Cargo.toml": package("debug"),
            "ws/debug/src/main.rs": "fn main() {}\n",
            "ws/bare/BUILD": "wasm_component(no_default_features=True)",
            "ws/bare/Cargo.toml": package("bare"),
            "ws/bare/src/main.rs": "fn main() {}\n",
            "ws/lib/BUILD": "cargo_crate()",
            "ws/lib/Cargo.toml": package("lib"),
            "ws/lib/src/lib.rs": "",
            # Another Cargo root: never part of ws's shared compile.
            "alone/BUILD": "wasm_component()",
            "alone/Cargo.toml": package("alone"),
            "alone/Cargo.lock": "version = 3\n",
            "alone/src/main.rs": "fn main() {}\n",
        }
    )
    return runner


def package(name: str) -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'


def components(rule_runner: RuleRunner, root: str, profile: str, no_default_features: bool = False) -> tuple:
    request = WorkspaceComponentsRequest(root, profile, no_default_features)
    return rule_runner.request(WorkspaceComponents, [request]).packages


def test_the_release_components_of_the_workspace_with_their_features(rule_runner: RuleRunner) -> None:
    assert components(rule_runner, "ws", "release") == (("one", ("fast",)), ("two", ("x",)))


def test_each_profile_and_default_features_choice_is_a_group_of_its_own(rule_runner: RuleRunner) -> None:
    assert components(rule_runner, "ws", "dev") == (("debug", ()),)
    assert components(rule_runner, "ws", "release", no_default_features=True) == (("bare", ()),)


def test_a_component_outside_the_workspace_is_not_selected(rule_runner: RuleRunner) -> None:
    assert components(rule_runner, "alone", "release") == (("alone", ()),)
