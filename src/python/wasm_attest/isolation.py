"""How a component's build was isolated from its host: recorded in the provenance, required by verification.

A signature says who built a component; it means something only if the code the
build ran (every dependency's build script and proc-macro) could not reach the
signer's keys, the network or the host. The builder records what isolated the
build in the provenance's `internalParameters.isolation`, which its functionary
signs, so that a verifier can demand an isolated build, and so that a build made
with isolation turned off (for development) can never pass for an isolated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from wasm_attest.errors import WasmAttestError

BUBBLEWRAP = "bubblewrap"
UNISOLATED = "none"
NAMESPACES = ("user", "pid", "network", "ipc", "uts", "cgroup")
# What the build process sees, as cargo_in_sandbox.sh mounts it.
FILESYSTEM_VIEW = (
    "/build: the build's own sandbox (read-write)",
    "/toolchain: the pinned toolchain (read-only)",
    "/usr, /lib, /lib64, /bin: the host's compiler and libraries (read-only)",
    "/proc: its own processes only",
    "/dev: minimal",
    "/tmp: empty",
)


class IsolationError(WasmAttestError):
    """The provenance does not show the isolation verification requires."""


@dataclass(frozen=True)
class BuildIsolation:
    """What isolated the processes that ran crate code during a build."""

    mechanism: str
    version: str | None = None
    sha256: str | None = None

    @property
    def isolated(self) -> bool:
        return self.mechanism != UNISOLATED

    def to_dict(self) -> dict[str, Any]:
        """The provenance's `internalParameters.isolation`."""
        if not self.isolated:
            return {
                "mechanism": UNISOLATED,
                "warning": "isolation was turned off for development: build scripts and proc-macros ran with "
                "the host's network, files and processes in reach",
            }
        return {
            "mechanism": self.mechanism,
            "version": self.version,
            "sha256": self.sha256,
            "namespaces": list(NAMESPACES),
            "network": "none",
            "filesystem": list(FILESYSTEM_VIEW),
        }

    def summary(self) -> str:
        """One line for links' `environment` and for people."""
        if not self.isolated:
            return "none (development opt-out)"
        return f"{self.mechanism} {self.version}: namespaces {', '.join(NAMESPACES)}; no network"


def bubblewrap_isolation(version: str, sha256: str) -> BuildIsolation:
    return BuildIsolation(mechanism=BUBBLEWRAP, version=version, sha256=sha256)


def no_isolation() -> BuildIsolation:
    return BuildIsolation(mechanism=UNISOLATED)


def recorded_isolation(statement: Mapping[str, Any]) -> str | None:
    """The isolation mechanism a provenance statement records, or None when it records none."""
    predicate = statement.get("predicate")
    definition = predicate.get("buildDefinition") if isinstance(predicate, dict) else None
    internal = definition.get("internalParameters") if isinstance(definition, dict) else None
    isolation = internal.get("isolation") if isinstance(internal, dict) else None
    mechanism = isolation.get("mechanism") if isinstance(isolation, dict) else None
    return mechanism if isinstance(mechanism, str) else None


def check_isolated(statement: Mapping[str, Any], *, origin: str) -> str:
    """Returns what a verification report says about the build's isolation; raises if it was not isolated."""
    mechanism = recorded_isolation(statement)
    if mechanism is None or mechanism == UNISOLATED:
        said = "records no isolation" if mechanism is None else "says the build ran without isolation"
        raise IsolationError(
            f"{origin} {said}, so the build's dependencies could have reached the network, the host's files "
            "and the signing keys. Rebuild with isolation (the default `[wasm-sandbox].isolation = \"bubblewrap\"`), "
            "or, to accept unisolated builds, turn off `[wasm-attest].require_isolated_builds` "
            "(`wasm-attest verify --allow-unisolated-builds`)."
        )
    return f"the build ran isolated ({mechanism})"
