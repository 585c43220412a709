"""What `pants package` does to dist/: the target's own folder, replaced as a whole on every run, and nothing else.

Bad output folders are refused before anything is built: each test that
expects a refusal removes Cargo.lock, which a build would report first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import add_testproject, dist_files, package, package_error

HELLO = Address("hello", target_name="hello")


def unbuildable_hello(rule_runner: RuleRunner, build_file: str) -> None:
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, "hello", "Cargo.lock").unlink()
    rule_runner.write_files({"hello/BUILD": build_file})


@pytest.mark.parametrize(
    "value, problem",
    [
        ("../../x", "has a `..` component"),
        ("/tmp/x", "is absolute"),
        (".", "names `dist/` itself"),
        ("", "names `dist/` itself"),
    ],
)
def test_an_output_path_that_is_not_the_targets_own_folder_is_refused_before_building(
    rule_runner: RuleRunner, value: str, problem: str
) -> None:
    unbuildable_hello(rule_runner, f'wasm_component(name="hello", output_path="{value}")')
    message = package_error(rule_runner, HELLO)
    assert f"hello:hello: `output_path` {value!r} {problem}" in message
    assert "relative folder inside `dist/`" in message and "Cargo.lock" not in message


def test_output_folders_of_two_components_may_not_overlap(rule_runner: RuleRunner) -> None:
    unbuildable_hello(rule_runner, 'wasm_component(name="hello", output_path="bundles")')
    rule_runner.write_files({"other/BUILD": 'wasm_component(name="other", output_path="bundles/other")'})
    message = package_error(rule_runner, HELLO)
    assert "hello:hello: its `output_path` 'bundles' is, contains or lies inside the output folder of" in message
    assert "other:other ('bundles/other')" in message and "Cargo.lock" not in message


def test_a_link_in_dist_is_refused_before_building_and_its_target_is_untouched(rule_runner: RuleRunner) -> None:
    unbuildable_hello(rule_runner, 'wasm_component(name="hello")')
    outside = Path(rule_runner.build_root, "outside")
    outside.mkdir()
    (outside / "keep").write_text("mine")
    Path(rule_runner.build_root, "dist").mkdir()
    Path(rule_runner.build_root, "dist", "hello").symlink_to(outside)
    message = package_error(rule_runner, HELLO)
    assert "hello:hello (`output_path`): " in message and "dist/hello is a symbolic link" in message
    assert os.listdir(outside) == ["keep"]


def test_every_run_replaces_the_whole_folder_even_when_the_build_is_cached(rule_runner: RuleRunner) -> None:
    """With pantsd warm the build comes from memory, yet stale files beside it must still go."""
    add_testproject(rule_runner, "hello")
    first = package(rule_runner, HELLO)
    assert "hello/hello/hello.wasm" in first and "hello/hello/root.layout" in first
    folder = Path(rule_runner.build_root, "dist", "hello", "hello")
    (folder / "stale.link").write_text("left by an earlier build")
    (folder / "hello.wasm").write_bytes(b"tampered")

    rule_runner.set_session_values(rule_runner.extra_session_values)  # the next `pants package` of the same pantsd
    assert package(rule_runner, HELLO) == first
    assert sorted(os.listdir(folder.parent)) == ["hello"], "no temporary folder is left beside the bundle"
    assert dist_files(rule_runner, Address("hello", target_name="hello")) == first
