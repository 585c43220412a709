"""The owner's capability policy: which interfaces a component may import, and which it must export.

Patterns are shell-style globs over interface names (`wasi:http/*`,
`wasi:cli/*@0.2.*`); a pattern without `@` also matches every version of the
names it matches (`wasi:http/incoming-handler` matches
`wasi:http/incoming-handler@0.2.4`). Nothing is allowed that no pattern
matches, so an empty list of allowed imports allows none.

The policy travels in the owner-signed layout, so that verification enforces
what the owner signed, not what whoever built the bundle configured. in-toto's
layout format has no field for it, and `in-toto-verify` refuses unknown fields,
so it ends the layout's free-text `readme`, which in-toto signs and keeps:
`... Capability policy (wasm-attest): {"allowedImports": [...], "requiredExports": [...]}`.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Sequence

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.errors import WasmAttestError

README_MARKER = "Capability policy (wasm-attest): "


class CapabilityPolicyFormatError(WasmAttestError):
    """A layout's readme holds a capability policy line that cannot be read."""


@dataclass(frozen=True)
class CapabilityPolicy:
    allowed_imports: tuple[str, ...]
    required_exports: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"allowedImports": list(self.allowed_imports), "requiredExports": list(self.required_exports)}

    def readme_line(self) -> str:
        """The text that carries this policy at the end of the layout's readme."""
        return README_MARKER + json.dumps(self.to_dict(), sort_keys=True)

    def violations(self, interface: ComponentInterface) -> "PolicyViolations":
        return PolicyViolations(
            unexpected_imports=tuple(
                name for name in interface.imports if not any(matches(name, p) for p in self.allowed_imports)
            ),
            missing_exports=tuple(
                pattern
                for pattern in self.required_exports
                if not any(matches(name, pattern) for name in interface.exports)
            ),
        )

    def describe(self) -> str:
        allowed = ", ".join(self.allowed_imports) or "(none)"
        required = ", ".join(self.required_exports) or "(none)"
        return f"allowed imports: {allowed}; required exports: {required}"


@dataclass(frozen=True)
class PolicyViolations:
    unexpected_imports: tuple[str, ...]
    missing_exports: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.unexpected_imports or self.missing_exports)

    def lines(self) -> list[str]:
        """One line per violation, naming the interface or pattern."""
        return [
            *(f"  imports {name}: no allowed-imports pattern matches it" for name in self.unexpected_imports),
            *(f"  exports nothing matching the required {pattern}" for pattern in self.missing_exports),
        ]


def matches(name: str, pattern: str) -> bool:
    """Whether the interface `name` (with its `@version`) matches `pattern`; see the module docstring."""
    if fnmatch.fnmatchcase(name, pattern):
        return True
    return "@" not in pattern and fnmatch.fnmatchcase(name.partition("@")[0], pattern)


def check_patterns(patterns: Sequence[str], what: str) -> tuple[str, ...]:
    """The patterns, if each is a non-empty string without whitespace; an error naming `what` otherwise."""
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern or any(char.isspace() for char in pattern):
            raise CapabilityPolicyFormatError(
                f"{what}: {pattern!r} is not a pattern; write interface names or globs such as \"wasi:http/*\"."
            )
    return tuple(patterns)


def policy_from_readme(readme: str, *, origin: str = "the layout") -> CapabilityPolicy | None:
    """The policy a layout's readme carries (the JSON object after README_MARKER, to the end), or None.

    The policy shares the readme's single line with its prose: in-toto signs
    the layout as canonical JSON, which writes a newline unescaped, so the
    reviewable form would no longer read back as JSON.
    """
    count = readme.count(README_MARKER)
    if count == 0:
        return None
    if count > 1:
        raise CapabilityPolicyFormatError(
            f"{origin}: its readme has {count} capability policies; a layout carries at most one."
        )
    text = readme[readme.index(README_MARKER) + len(README_MARKER) :]
    try:
        data, end = json.JSONDecoder().raw_decode(text)
    except ValueError as error:
        raise CapabilityPolicyFormatError(f"{origin}: its capability policy is not JSON: {error}") from None
    if text[end:].strip():
        raise CapabilityPolicyFormatError(f"{origin}: its readme goes on after the capability policy; it must end it.")
    if not isinstance(data, dict) or set(data) != {"allowedImports", "requiredExports"}:
        raise CapabilityPolicyFormatError(
            f"{origin}: its capability policy must be an object with exactly allowedImports and requiredExports."
        )
    lists = {key: data[key] for key in ("allowedImports", "requiredExports")}
    for key, value in lists.items():
        if not isinstance(value, list):
            raise CapabilityPolicyFormatError(f"{origin}: the capability policy's {key} is not a list.")
    return CapabilityPolicy(
        allowed_imports=check_patterns(lists["allowedImports"], f"{origin}: allowedImports"),
        required_exports=check_patterns(lists["requiredExports"], f"{origin}: requiredExports"),
    )
