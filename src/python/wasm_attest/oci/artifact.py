"""The component as a CNCF TAG Runtime Wasm OCI artifact: a `application/vnd.wasm.config.v0+json` config and one
`application/wasm` layer holding the component's exact bytes.

Why deterministic: the manifest digest is what attestations name as their
subject and what admission controllers check, so the same component must give
the same manifest on every machine. Hence no `created` time (the field is
optional), sorted keys and no whitespace in every JSON document, and only facts
read from the component's own bytes in the config.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from wasm_attest.capabilities.interface import ComponentInterface

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
WASM_CONFIG = "application/vnd.wasm.config.v0+json"
WASM_LAYER = "application/wasm"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG_CONTENT = b"{}"
TITLE = "org.opencontainers.image.title"
"""The file name a layer is written to by `oras pull`."""

_WORLDS = (
    ("wasi:cli/run@", "wasi:cli/command@"),
    ("wasi:http/incoming-handler@", "wasi:http/proxy@"),
)
"""An export that tells the component's target world: the WASI world that exports it, at the export's version."""


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same document always has the same digest."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_digest(content: bytes) -> str:
    """`sha256:<hex>`, the OCI digest of `content`."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def descriptor(media_type: str, content: bytes, **extra: Any) -> dict[str, Any]:
    """An OCI content descriptor of `content`; `extra` adds fields such as `annotations` or `artifactType`."""
    return {"mediaType": media_type, "digest": sha256_digest(content), "size": len(content), **extra}


@dataclass(frozen=True)
class Manifest:
    """An OCI image manifest as bytes, with the blobs it points at (digest -> bytes)."""

    content: bytes
    blobs: Mapping[str, bytes]

    @property
    def digest(self) -> str:
        return sha256_digest(self.content)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return descriptor(OCI_MANIFEST, self.content, **extra)


def target_world(interface: ComponentInterface) -> str | None:
    """The WASI world a component targets, from what it exports (`wasi:cli/command@0.2.0` for a command); None if unknown."""
    for export in interface.exports:
        for prefix, world in _WORLDS:
            if export.startswith(prefix):
                return world + export[len(prefix) :]
    return None


def wasm_config(interface: ComponentInterface, layer_digest: str) -> bytes:
    """The config blob: `architecture: wasm`, `os: wasip2`, the layer digests and the component's imports, exports and target."""
    component: dict[str, Any] = {"exports": list(interface.exports), "imports": list(interface.imports)}
    world = target_world(interface)
    if world is not None:
        component["target"] = world
    return json_bytes({"architecture": "wasm", "os": "wasip2", "layerDigests": [layer_digest], "component": component})


def component_manifest(component_name: str, component: bytes) -> Manifest:
    """The artifact's manifest for a component's bytes (`WasmFormatError` if they are no component)."""
    layer = descriptor(WASM_LAYER, component, annotations={TITLE: component_name})
    config = wasm_config(ComponentInterface.of_component(component), layer["digest"])
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(WASM_CONFIG, config),
        "layers": [layer],
    }
    return Manifest(json_bytes(manifest), {sha256_digest(config): config, layer["digest"]: component})
