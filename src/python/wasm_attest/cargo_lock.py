"""A model of `Cargo.lock`: which crates a build resolved, from where, with which checksum.

The lockfile is the record of what a component links; vendoring, the SBOM and
provenance all start from it, so it is parsed once here into typed values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tomli

from wasm_attest.errors import WasmAttestError

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_REGISTRY_SOURCE_PREFIXES = ("registry+", "sparse+")


class CargoLockError(WasmAttestError):
    """Cargo.lock cannot be read or is not a lockfile cargo would write."""


@dataclass(frozen=True)
class LockedPackage:
    """One `[[package]]` entry of Cargo.lock."""

    name: str
    version: str
    source: str | None
    checksum: str | None
    dependencies: tuple[str, ...]

    @property
    def is_from_registry(self) -> bool:
        """Whether cargo fetches this crate from a registry (as opposed to a path or git)."""
        return self.source is not None and self.source.startswith(_REGISTRY_SOURCE_PREFIXES)

    @property
    def sha256(self) -> str | None:
        """The checksum, only when it really is a SHA-256.

        Debian's crate packages make cargo record "Could not get crate checksum"
        as the checksum of some crates; such a value must never pass for a hash.
        """
        if self.checksum is not None and _SHA256_HEX.fullmatch(self.checksum):
            return self.checksum
        return None

    @property
    def directory_name(self) -> str:
        """The folder name of this crate in a cargo directory source or `--versioned-dirs` vendor tree."""
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class CargoLock:
    """A parsed Cargo.lock."""

    version: int
    packages: tuple[LockedPackage, ...]

    @property
    def registry_packages(self) -> tuple[LockedPackage, ...]:
        """The crates that vendoring must fetch, in lockfile order."""
        return tuple(package for package in self.packages if package.is_from_registry)


def parse_cargo_lock(text: str, *, origin: str = "Cargo.lock") -> CargoLock:
    """Parses the text of a Cargo.lock; `origin` names the file in error messages."""
    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as error:
        raise CargoLockError(f"{origin} is not valid TOML ({error}); regenerate it with `cargo generate-lockfile`.") from None
    entries = document.get("package", [])
    if not isinstance(entries, list):
        raise CargoLockError(f"{origin} has no [[package]] list; regenerate it with `cargo generate-lockfile`.")
    packages = tuple(_locked_package(entry, origin) for entry in entries)
    return CargoLock(version=int(document.get("version", 1)), packages=packages)


def _locked_package(entry: object, origin: str) -> LockedPackage:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("version"), str):
        raise CargoLockError(f"{origin} has a [[package]] entry without a name and version: {entry!r}")
    return LockedPackage(
        name=entry["name"],
        version=entry["version"],
        source=entry.get("source"),
        checksum=entry.get("checksum"),
        dependencies=tuple(entry.get("dependencies", ())),
    )
