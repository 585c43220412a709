"""What a component's build sandbox holds: its dependency closure's sources, and stand-ins for the rest of the workspace."""

from __future__ import annotations

import pytest
from pants.core.target_types import FilesGeneratorTarget
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.internals.scheduler import ExecutionError
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


# --- command or library: from Cargo.toml, or the target when the crate has both -----------------

CDYLIB = '[lib]\ncrate-type = ["cdylib"]\n'


def read_project(rule_runner: RuleRunner, build: str, manifest: str, sources: dict[str, str]) -> CargoProject:
    rule_runner.write_files(
        {"crate/BUILD": build, "crate/Cargo.toml": manifest, "crate/Cargo.lock": "version = 3\n", **sources}
    )
    return rule_runner.request(CargoProject, [CargoProjectRequest(Address("crate"))])


def project_error(rule_runner: RuleRunner, build: str, manifest: str, sources: dict[str, str]) -> str:
    with pytest.raises(ExecutionError) as failure:
        read_project(rule_runner, build, manifest, sources)
    (error,) = failure.value.wrapped_exceptions
    return str(error)


def test_a_cdylib_crate_is_a_library_component_named_as_cargo_names_it(rule_runner: RuleRunner) -> None:
    project = read_project(rule_runner, "wasm_component()", package("my-handler") + CDYLIB, {"crate/src/lib.rs": ""})
    assert (project.kind, project.bin, project.component_filename) == ("library", None, "my_handler.wasm")


def test_lib_name_names_the_library_component(rule_runner: RuleRunner) -> None:
    manifest = package("my-handler") + '[lib]\nname = "handler-core"\ncrate-type = ["cdylib", "rlib"]\n'
    project = read_project(rule_runner, "wasm_component()", manifest, {"crate/src/lib.rs": ""})
    assert project.component_filename == "handler_core.wasm"


def test_a_binary_crate_stays_a_command(rule_runner: RuleRunner) -> None:
    project = read_project(rule_runner, "wasm_component()", package("tool"), {"crate/src/main.rs": "fn main() {}\n"})
    assert (project.kind, project.bin, project.component_filename) == ("command", "tool", "tool.wasm")


def test_a_crate_with_a_cdylib_and_binaries_must_say_which(rule_runner: RuleRunner) -> None:
    sources = {"crate/src/lib.rs": "", "crate/src/main.rs": "fn main() {}\n", "crate/src/bin/extra.rs": "fn main() {}\n"}
    message = project_error(rule_runner, "wasm_component()", package("both") + CDYLIB, sources)
    assert "crate/Cargo.toml has both a cdylib library (a library component) and binaries (both, extra)" in message
    assert 'Set `kind="library"`' in message and 'kind="command"' in message and 'bin="<name>"' in message


@pytest.mark.parametrize(
    "build, expected",
    [
        ('wasm_component(kind="library")', ("library", None, "both.wasm")),
        ('wasm_component(kind="command")', ("command", "both", "both.wasm")),
        ('wasm_component(bin="extra")', ("command", "extra", "extra.wasm")),
    ],
)
def test_the_target_chooses_for_a_crate_with_both(rule_runner: RuleRunner, build: str, expected: tuple) -> None:
    sources = {"crate/src/lib.rs": "", "crate/src/main.rs": "fn main() {}\n", "crate/src/bin/extra.rs": "fn main() {}\n"}
    project = read_project(rule_runner, build, package("both") + CDYLIB, sources)
    assert (project.kind, project.bin, project.component_filename) == expected


def test_kind_library_without_a_cdylib_names_the_manifest_and_the_fix(rule_runner: RuleRunner) -> None:
    message = project_error(rule_runner, 'wasm_component(kind="library")', package("plain"), {"crate/src/lib.rs": ""})
    assert "`kind` is \"library\", but the [lib] of crate/Cargo.toml has crate-type ['lib'], not \"cdylib\"" in message
    assert 'Add `[lib]` with `crate-type = ["cdylib"]` to crate/Cargo.toml' in message


def test_bin_with_kind_library_is_refused_naming_both_fields(rule_runner: RuleRunner) -> None:
    message = project_error(
        rule_runner, 'wasm_component(kind="library", bin="x")', package("h") + CDYLIB, {"crate/src/lib.rs": ""}
    )
    assert "`bin` is 'x' but `kind` is \"library\"" in message and "Drop `bin`" in message
