"""Where a published component is: a registry reference (`oci://HOST/REPO:TAG` or `@sha256:…`) or a local OCI layout.

Why our own small parser: the reference is user input naming what to trust,
so it is refused unless it is unambiguous (a registry host, a lower-case
repository, at most one tag or one sha256 digest), and the message says the
accepted forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wasm_attest.errors import WasmAttestError

SCHEME = "oci://"
_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?")


class ReferenceError(WasmAttestError):
    """A registry reference cannot be parsed; the message shows the accepted forms."""


@dataclass(frozen=True)
class Reference:
    """A component in a registry, named by tag or digest (exactly one)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}" + (f"@{self.digest}" if self.digest else f":{self.tag}")

    def at(self, digest: str) -> "Reference":
        """The same repository, by digest."""
        return Reference(self.registry, self.repository, digest=digest)


def is_registry_reference(text: str) -> bool:
    """Whether `text` names a registry (`oci://…`) rather than a folder."""
    return text.startswith(SCHEME)


def parse_reference(text: str) -> Reference:
    """Parses `oci://HOST[:PORT]/REPOSITORY(:TAG|@sha256:HEX)`; a missing tag and digest means `:latest`."""
    rest = text[len(SCHEME) :] if text.startswith(SCHEME) else text
    host, slash, path = rest.partition("/")
    if not slash or not _HOST.fullmatch(host) or not path:
        raise ReferenceError(_usage(text, "it names no registry host and repository"))
    digest = tag = None
    if "@" in path:
        path, _, digest = path.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise ReferenceError(_usage(text, f"{digest!r} is not a sha256 digest (sha256: and 64 lower-case hex digits)"))
    elif ":" in path.rsplit("/", 1)[-1]:
        path, _, tag = path.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise ReferenceError(_usage(text, f"{tag!r} is not a valid tag"))
    else:
        tag = "latest"
    if not _REPOSITORY.fullmatch(path):
        raise ReferenceError(_usage(text, f"{path!r} is not a valid repository name (lower-case, digits, . _ - /)"))
    return Reference(host, path, tag=tag, digest=digest)


def _usage(text: str, problem: str) -> str:
    return f"{text!r}: {problem}. Use oci://HOST[:PORT]/REPOSITORY:TAG or oci://HOST[:PORT]/REPOSITORY@sha256:DIGEST."
