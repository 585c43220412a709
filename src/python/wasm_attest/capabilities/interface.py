"""What a component imports and exports, read from its top-level import and export sections.

The names are WIT interface names with their package version, as
`wasm-tools component wit` shows them (`wasi:http/incoming-handler@0.2.4`).
Only custom sections differ between a component as built and as delivered, so
the interface of either is the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from wasm_attest.wasm_sections import component_externs


@dataclass(frozen=True)
class ComponentInterface:
    """The sorted, distinct names a component imports and exports: what its host must provide, and what it offers."""

    imports: tuple[str, ...]
    exports: tuple[str, ...]

    @classmethod
    def of_component(cls, data: bytes) -> "ComponentInterface":
        """The interface of a component's bytes; `WasmFormatError` for a core module or malformed input."""
        externs = component_externs(data)
        return cls(imports=tuple(sorted(set(externs.imports))), exports=tuple(sorted(set(externs.exports))))

    def to_dict(self) -> dict[str, Any]:
        return {"imports": list(self.imports), "exports": list(self.exports)}

    def sha256(self) -> str:
        """The digest of the canonical JSON of `to_dict()`: names the interface where a digest is required."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(canonical).hexdigest()
