"""What a component's build sandbox holds: its dependency closure's sources, and stand-ins for the rest of the workspace."""

from __future__ import annotations

import pytest
from pants.core.target_types import FilesGeneratorTarget
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import new_rule_runner

from wasm_component.util_rules.cargo_project import CargoProject, CargoProjectRequest


@pytest.fixture
def rule_runner() -> RuleRunner:
    return new_rule_runner(
        QueryRule(CargoProject, [CargoProjectRequest]),
        QueryRule(DigestContents, [Digest]),
        target_types=(FilesGeneratorTarget,),
    )


def package(name: str, dependencies: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{dependencies}'


def files(rule_runner: RuleRunner, digest: Digest) -> set[str]:
    return {entry.path for entry in rule_runner.request(DigestContents, [digest])}


def test_sandbox_holds_the_closure_and_stand_ins_for_members_it_does_not_use(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "ws/BUILD": "cargo_crate()",
            "ws/Cargo.toml": '[workspace]\nmembers = ["one", "two", "greeting"]\n',
            "ws/Cargo.lock": "version = 3\n",
            "ws/one/BUILD": "wasm_component()",
            "ws/one/Cargo.toml": package("one", '[dependencies]\ngreeting = { path = "../greeting" }\n'),
            "ws/one/src/main.rs": "fn main() {}\n",
            "ws/one/tests/it.rs": "",
            "ws/two/BUILD": "wasm_component()",
            "ws/two/Cargo.toml": package(
                "two", '[[bin]]\nname = "tool"\n\n[dependencies]\nhelper = { path = "../../helper" }\n'
            ),
            "ws/two/src/main.rs": "fn main() {}\n",
            "ws/greeting/BUILD": "cargo_crate()",
            # A named bench (criterion's `harness = false`) must have a file, though no build compiles it.
            "ws/greeting/Cargo.toml": package("greeting", '[[bench]]\nname = "speed"\nharness = false\n'),
            "ws/greeting/src/lib.rs": "",
            "helper/BUILD": "cargo_crate()",
            "helper/Cargo.toml": package("helper"),
            "helper/src/lib.rs": "",
        }
    )
    project = rule_runner.request(CargoProject, [CargoProjectRequest(Address("ws/one"))])
    assert project.root == "ws"
    assert project.package == "one"
    assert files(rule_runner, project.sources_digest) == {
        "ws/Cargo.toml",
        "ws/Cargo.lock",
        "ws/one/Cargo.toml",
        "ws/one/src/main.rs",
        "ws/greeting/Cargo.toml",
        "ws/greeting/src/lib.rs",
        # cargo loads every member's manifest, and their path dependencies', to check Cargo.lock.
        "ws/two/Cargo.toml",
        "helper/Cargo.toml",
    }
    assert files(rule_runner, project.stand_ins_digest) == {
        "ws/two/src/lib.rs",
        "ws/two/src/bin/tool.rs",
        "helper/src/lib.rs",
        "ws/greeting/benches/speed.rs",
    }
    # The vendor step sees only manifests and the lockfile, the same for every member.
    assert project.workspace.manifest_paths == (
        "helper/Cargo.toml",
        "ws/Cargo.toml",
        "ws/greeting/Cargo.toml",
        "ws/one/Cargo.toml",
        "ws/two/Cargo.toml",
    )
    other = rule_runner.request(CargoProject, [CargoProjectRequest(Address("ws/two"))])
    assert other.workspace == project.workspace


def test_a_standalone_crate_is_its_own_cargo_root_and_explicit_dependencies_are_in_the_sandbox(
    rule_runner: RuleRunner,
) -> None:
    rule_runner.write_files(
        {
            "app/BUILD": 'wasm_component(dependencies=["data:words"])',
            "data/BUILD": 'files(name="words", sources=["*.txt"])',
            "data/words.txt": "hello\n",
            "app/Cargo.toml": package("app", '[dependencies]\nlib = { path = "../lib" }\n'),
            "app/Cargo.lock": "version = 3\n",
            "app/build.rs": "fn main() {}\n",
            "app/src/main.rs": "fn main() {}\n",
            "lib/BUILD": "cargo_crate()",
            "lib/Cargo.toml": package("lib"),
            "lib/src/lib.rs": "",
        }
    )
    project = rule_runner.request(CargoProject, [CargoProjectRequest(Address("app"))])
    assert project.root == "app"
    assert files(rule_runner, project.sources_digest) == {
        "app/Cargo.toml",
        "app/Cargo.lock",
        "app/build.rs",
        "app/src/main.rs",
        "lib/Cargo.toml",
        "lib/src/lib.rs",
        "data/words.txt",
    }
    assert files(rule_runner, project.stand_ins_digest) == set()
