"""Which registries and repository a `wasm_component` publishes to: `[wasm-oci]` aliases and the target's fields.

Pure functions over the configured values, so every rule (publish, verify-layout)
resolves them alike, and every mistake is reported with the option or field to set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from wasm_attest.errors import WasmAttestError

ALL_DEFAULT_REGISTRIES = "<all default OCI registries>"
CONFIGURE_HINT = (
    'Configure one in pants.toml, e.g.\n\n  [wasm-oci.registries.release]\n  address = "registry.example.com"\n'
    "  default = true\n\nor name a registry in the target's `registries` field (`@alias` or an address)."
)


class OciRegistryConfigError(WasmAttestError):
    """`[wasm-oci].registries` or a target's publishing fields cannot be used; the message says what to set."""


@dataclass(frozen=True)
class OciRegistry:
    """One registry: its address (`host[:port]`), alias, whether it is a default, and whether it is plain HTTP."""

    address: str
    alias: str = ""
    default: bool = False
    insecure: bool = False

    @property
    def name(self) -> str:
        return f"@{self.alias}" if self.alias else self.address


def configured_registries(options: Mapping[str, Any]) -> dict[str, OciRegistry]:
    """`[wasm-oci].registries` as `{alias: OciRegistry}`, each entry checked."""
    registries = {}
    for alias, entry in options.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("address"), str) or not entry["address"]:
            raise OciRegistryConfigError(
                f"[wasm-oci].registries: {alias!r} has no `address`; write it as "
                f'{{"{alias}": {{"address": "host[:port]", "default": true}}}}.'
            )
        unknown = sorted(set(entry) - {"address", "default", "insecure"})
        if unknown:
            raise OciRegistryConfigError(
                f"[wasm-oci].registries: {alias!r} has unknown key(s) {', '.join(unknown)}; the keys are address, default, insecure."
            )
        address = entry["address"].rstrip("/")
        if "://" in address or "/" in address:
            raise OciRegistryConfigError(
                f"[wasm-oci].registries: {alias!r} address {entry['address']!r} must be host[:port] only (no scheme, no path); "
                "the repository comes from the target's `repository` field."
            )
        registries[alias] = OciRegistry(address, alias, bool(entry.get("default", False)), bool(entry.get("insecure", False)))
    return registries


def target_registries(address: str, requested: Sequence[str], registries: Mapping[str, OciRegistry]) -> tuple[OciRegistry, ...]:
    """The registries a target publishes to; refuses an unknown alias and an empty result, naming what to configure."""
    chosen: list[OciRegistry] = []
    for value in requested:
        if value == ALL_DEFAULT_REGISTRIES:
            chosen.extend(registry for registry in registries.values() if registry.default)
        elif value.startswith("@"):
            if value[1:] not in registries:
                known = ", ".join(f"@{alias}" for alias in sorted(registries)) or "none"
                raise OciRegistryConfigError(
                    f"{address}: its `registries` field names {value}, which [wasm-oci].registries does not define "
                    f"(defined: {known}). {CONFIGURE_HINT}"
                )
            chosen.append(registries[value[1:]])
        else:
            known_address = next((registry for registry in registries.values() if registry.address == value), None)
            chosen.append(known_address or OciRegistry(value))
    if not chosen:
        raise OciRegistryConfigError(f"{address}: no OCI registry to publish to. {CONFIGURE_HINT}")
    unique = {registry.address: registry for registry in chosen}
    return tuple(unique.values())


def repository_name(template: str, *, target_name: str, directory: str) -> str:
    """The repository for a target, from its `repository` field or `[wasm-oci].default_repository`."""
    try:
        return template.format(name=target_name, directory=directory.rsplit("/", 1)[-1])
    except (KeyError, IndexError, ValueError):
        raise OciRegistryConfigError(
            f"repository template {template!r} uses an unknown placeholder; only {{name}} and {{directory}} exist."
        ) from None


def registry_for_address(address: str, registries: Mapping[str, OciRegistry]) -> OciRegistry:
    """The configured registry with this address (for its `insecure` setting), else a secure one."""
    return next((registry for registry in registries.values() if registry.address == address), OciRegistry(address))
