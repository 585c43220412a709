"""Reading the crate list back from a CycloneDX JSON SBOM, with nothing but the standard library.

Verification compares an SBOM's crates with the component's embedded
dependency list and Cargo.lock on every `wasm-attest verify`; it needs only
names, versions and scopes. Keeping this apart from `sbom` (which builds SBOMs
with cyclonedx-python-lib's models) spares every verification the library's
import, about 90 ms of a command that is otherwise a fraction of a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wasm_attest.errors import WasmAttestError

REQUIRED_SCOPE = "required"
"""CycloneDX's default scope, and ours for crates linked into the component."""


class SbomError(WasmAttestError):
    """The SBOM cannot be built from the inputs given, or a file is not a CycloneDX SBOM."""


@dataclass(frozen=True)
class SbomCrate:
    """A crate as an SBOM records it: what other records of the build are checked against."""

    name: str
    version: str
    scope: str
    """`required` for a crate linked into the component, `excluded` for a build-only one."""
    purl: str | None
    sha256: str | None


def read_sbom_crates(json_bytes: bytes, *, origin: str = "the SBOM") -> tuple[SbomCrate, ...]:
    """The crates a CycloneDX JSON SBOM lists; `origin` names the file in error messages."""
    try:
        document = json.loads(json_bytes)
        if document["bomFormat"] != "CycloneDX":
            raise SbomError(f"{origin} is a {document['bomFormat']} document, not a CycloneDX SBOM.")
        return tuple(_read_crate(component) for component in document.get("components", []))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SbomError(
            f"{origin} is not a CycloneDX JSON SBOM ({error!r}); build it again with wasm-attest."
        ) from None


def _read_crate(component: dict) -> SbomCrate:
    sha256 = next((entry["content"] for entry in component.get("hashes", []) if entry["alg"] == "SHA-256"), None)
    return SbomCrate(
        name=component["name"],
        version=component["version"],
        scope=component.get("scope", REQUIRED_SCOPE),
        purl=component.get("purl"),
        sha256=sha256,
    )
