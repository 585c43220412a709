"""Put each pinned input where a repository's pants.toml says it is, and say what to pin.

Why this exists: a repository that enables the wasm_component backend configures where the
toolchain archive and bwrap are (`url_template` in `[wasm-toolchain]` and `[wasm-sandbox]`)
and which sha256 and size they must have (`known_versions`), and where its crate registry is
(`[cargo-registry].directory`). `pants wasm-setup` hands those settings to this module, which
builds or fetches whatever a `file://` URL names but is missing (with this package's code and
pins) and compares what is there with the pin. When they differ it returns the
`known_versions` entry to put in pants.toml instead of letting a build fail later on a digest
mismatch. Standard library only; nothing here knows about Pants.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from wasm_attest_setup import bubblewrap, debian_packages, registry, toolchain

PLATFORM = "linux_x86_64"


class PinMismatch(Exception):
    """What is at the URL is not what `known_versions` pins; the message says what to pin."""


@dataclass(frozen=True)
class PinnedInput:
    """One `TemplatedExternalTool` option scope as configured: where the file is, what it must be."""

    scope: str
    version: str
    url: str
    sha256: str
    size: int

    def known_version(self, sha256: str, size: int) -> str:
        """The `known_versions` entry that pins a file with this sha256 and size."""
        return f"{self.version}|{PLATFORM}|{sha256}|{size}"


def local_path(url: str) -> Path | None:
    """The path a `file://` URL names, or None for any other scheme."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def missing_file_message(scope: str, url: str) -> str | None:
    """The error for a `file://` pin whose file does not exist (None if it does, or is remote).

    The build rules raise it before asking Pants to read the URL, whose own error would not
    say how the file comes about.
    """
    path = local_path(url)
    if path is None or path.is_file():
        return None
    return (
        f"[{scope}].url_template points to {path}, which does not exist. "
        "Run `pants wasm-setup` to build or fetch it there (README: Adopting wasm-attest), "
        f"or set [{scope}].url_template to where the file is."
    )


def ensure(pinned: PinnedInput, make: Callable[[Path], None]) -> str:
    """Make the file at pinned's `file://` URL unless it is there, then check it against the pin.

    Returns one line saying what happened; raises PinMismatch when the file is not the pinned
    one, naming the `known_versions` entry that pins what is there.
    """
    path = local_path(pinned.url)
    if path is None:
        return f"[{pinned.scope}] {pinned.url} is not a file:// URL: nothing to set up, Pants downloads it"
    action = "in place"
    if not path.is_file():
        make(path)
        action = "created"
    sha256, size = debian_packages.sha256_of(path), path.stat().st_size
    if (sha256, size) != (pinned.sha256, pinned.size):
        raise PinMismatch(
            f"[{pinned.scope}] {path} has sha256 {sha256} and size {size}, but known_versions pins "
            f"{pinned.sha256} and {pinned.size}. If this file is the one you want (a newer "
            f"wasm-attest's, or one you built), put this in pants.toml:\n"
            f"  [{pinned.scope}]\n"
            f'  known_versions = ["{pinned.known_version(sha256, size)}"]'
        )
    return f"[{pinned.scope}] {path}: {action}, matches its pin ({pinned.known_version(sha256, size)})"


def build_toolchain_at(path: Path) -> None:
    """Build the toolchain archive from this package's pins and move it to path atomically.

    The builder names the archive after the Rust release it contains; a url_template that
    names another version than the one built fails here rather than with a digest mismatch.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".wasm-toolchain-", dir=path.parent) as out:
        archive = toolchain.build_archive(Path(out))
        if archive.name != path.name:
            raise PinMismatch(
                f"this wasm-attest builds {archive.name}, but the configured url_template names "
                f"{path.name}: set [wasm-toolchain].version to the Rust release in {archive.name!r}"
            )
        os.replace(archive, path)


def fetch_bubblewrap_at(path: Path) -> None:
    """Fetch the pinned bwrap to path; its file name must carry the pinned version."""
    pin = bubblewrap.read_pin()
    if pin.version not in path.name:
        raise PinMismatch(
            f"this wasm-attest fetches bubblewrap {pin.version}, but [wasm-sandbox] names {path.name}: "
            f'set [wasm-sandbox].version = "{pin.version}"'
        )
    bubblewrap.install(path)


def fetch_registry(directory: Path, pins_file: Path | None, toolchain_archive: Path | None) -> str:
    """Make directory the cargo directory source of the pinned crate packages (at once if current).

    With wasm-attest's own pins, the registry also takes `wasi` and `wit-bindgen` from the Rust
    sources, and wit-bindgen's archive is compiled with `toolchain_archive`; a repository's own
    pins list Debian crate packages only.
    """
    if pins_file is None:
        registry.install(directory, registry.PINS_FILE, toolchain_archive=toolchain_archive)
    else:
        registry.install(directory, pins_file, vendored_file=None)
    return f"[cargo-registry] {directory}: holds the crates of {pins_file or 'the pins wasm-attest ships'}"
