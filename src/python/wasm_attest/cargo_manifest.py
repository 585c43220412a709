"""The few facts about a `Cargo.toml` that the build needs before cargo runs.

Knowing the package and binary name up front lets the build declare exactly
which output file it expects, and lets a bad target fail with a clear message
rather than with cargo's.
"""

from __future__ import annotations

from dataclasses import dataclass

import tomli

from wasm_attest.errors import WasmAttestError


class CargoManifestError(WasmAttestError):
    """Cargo.toml cannot be read or lacks what the build needs."""


@dataclass(frozen=True)
class CargoManifest:
    """The parts of a Cargo.toml this project reads."""

    package_name: str | None
    package_version: str | None
    workspace_members: tuple[str, ...]


def parse_cargo_manifest(text: str, *, origin: str = "Cargo.toml") -> CargoManifest:
    """Parses a Cargo.toml; `origin` names the file in error messages."""
    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as error:
        raise CargoManifestError(f"{origin} is not valid TOML: {error}") from None
    package = document.get("package", {})
    workspace = document.get("workspace", {})
    name = package.get("name") if isinstance(package, dict) else None
    version = package.get("version") if isinstance(package, dict) else None
    members = workspace.get("members", []) if isinstance(workspace, dict) else []
    return CargoManifest(
        package_name=name if isinstance(name, str) else None,
        package_version=version if isinstance(version, str) else None,
        workspace_members=tuple(members),
    )
