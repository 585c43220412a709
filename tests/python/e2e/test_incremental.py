"""End to end: after an edit, Pants names and rebuilds exactly the components that use what changed.

The assertions are on what Pants reports, never on timings: the targets that
`--changed-since` finds, and the cargo processes a run really spawned (at
debug level Pants logs "spawned local process ... description: ..." for each
process it runs rather than takes from its cache). Every edit writes a fresh
nonce, so no earlier run's cache can answer for it.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from e2e.repository import copy_repository, pants

WORKSPACE = "testprojects/workspace"
APP_ONE = f"{WORKSPACE}/app-one:app-one"
APP_TWO = f"{WORKSPACE}/app-two:app-two"
_SPAWNED = re.compile(r'spawned local process .*?description: "([^"]*)"')
_CARGO_STEPS = ("Vendor crates for ", "Compile ", "Read the cargo metadata of ")
_SHARED_COMPILE = "Compile dependencies of "
_METADATA_READ = "Read the cargo metadata of "


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository under git, with the workspace's components packaged once."""
    repository = copy_repository(tmp_path_factory.mktemp("incremental"))
    git(repository, "init", "--quiet")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", "the state under test")
    package(repository, f"{WORKSPACE}::")
    return repository


@pytest.fixture
def repository(clone: Path) -> Iterator[Path]:
    """The clone, with this test's edits undone afterwards."""
    yield clone
    git(clone, "checkout", "--quiet", "--", ".")


def git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=wasm-attest tests", "-c", "user.email=tests@wasm-attest.invalid", *args],
        cwd=repository,
        check=True,
    )


def edit(repository: Path, path: str, comment: str = "//") -> None:
    """Appends a comment no earlier run has seen to `path`."""
    with open(repository / path, "a") as file:
        file.write(f"\n{comment} edited: {uuid.uuid4()}\n")


def changed_components(repository: Path) -> set[str]:
    result = pants(
        repository,
        "--changed-since=HEAD",
        "--changed-dependents=transitive",
        "--filter-target-type=wasm_component",
        "list",
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def package(repository: Path, *specs: str) -> list[str]:
    """Packages `specs`; returns the descriptions of the cargo processes Pants ran (not taken from its cache)."""
    result = pants(repository, "-ldebug", "package", *specs)
    assert result.returncode == 0, "\n".join(line for line in result.stderr.splitlines() if "[DEBUG]" not in line)
    return [description for description in _SPAWNED.findall(result.stderr) if description.startswith(_CARGO_STEPS)]


def compiled(descriptions: list[str]) -> set[str]:
    """The components whose build ran (a build Pants restarted with another concurrency counts once)."""
    return {
        description.split()[1]
        for description in descriptions
        if description.startswith("Compile ") and not description.startswith(_SHARED_COMPILE)
    }


def shared_compiles(descriptions: list[str]) -> set[str]:
    """The compiles of a workspace's registry crates that ran (once per workspace, profile and feature choice)."""
    return {description for description in descriptions if description.startswith(_SHARED_COMPILE)}


def vendorings(descriptions: list[str]) -> list[str]:
    return [description for description in descriptions if description.startswith("Vendor crates for ")]


def metadata_reads(descriptions: list[str]) -> list[str]:
    """The `cargo metadata` runs: one per workspace, over its manifests, lockfile and vendored crates only."""
    return [description for description in descriptions if description.startswith(_METADATA_READ)]


def test_editing_the_shared_crate_rebuilds_both_components_and_nothing_else(repository: Path) -> None:
    edit(repository, f"{WORKSPACE}/greeting/src/lib.rs")
    assert changed_components(repository) == {APP_ONE, APP_TWO}
    ran = package(repository, f"{WORKSPACE}::")
    assert compiled(ran) == {APP_ONE, APP_TWO}
    assert vendorings(ran) == [], "code changed, not the manifests or the lockfile: the vendoring is reused"
    assert shared_compiles(ran) == set(), "code changed, not the registry crates: their compile is reused"
    assert metadata_reads(ran) == [], "code changed, not the manifests: the workspace's cargo metadata is reused"


def test_editing_one_component_rebuilds_only_it(repository: Path) -> None:
    edit(repository, f"{WORKSPACE}/app-one/src/main.rs")
    assert changed_components(repository) == {APP_ONE}
    ran = package(repository, f"{WORKSPACE}::")
    assert compiled(ran) == {APP_ONE}
    assert vendorings(ran) == []
    assert shared_compiles(ran) == set()
    assert metadata_reads(ran) == []


def test_editing_the_workspace_manifest_vendors_once_for_both_components(repository: Path) -> None:
    edit(repository, f"{WORKSPACE}/Cargo.toml", comment="#")
    assert changed_components(repository) == {APP_ONE, APP_TWO}
    ran = package(repository, f"{WORKSPACE}::")
    assert vendorings(ran) == [f"Vendor crates for {WORKSPACE} (Cargo.lock)"]
    assert shared_compiles(ran) == {f"Compile dependencies of {WORKSPACE} (release/default features)"}
    assert metadata_reads(ran) == [f"{_METADATA_READ}{WORKSPACE}/Cargo.lock"], "one cargo metadata for both components"
    assert compiled(ran) == {APP_ONE, APP_TWO}


def test_a_warm_package_of_everything_runs_no_cargo(repository: Path) -> None:
    package(repository, "::")
    assert package(repository, "::") == []
