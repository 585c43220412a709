"""Carry a re-pinned bubblewrap package into every file that pins its `bwrap` binary.

Why this exists: builds get `bwrap` from Pants as an input pinned by the
binary's own sha256 and size (`[wasm-sandbox]`: the subsystem's default
`version` and `known_versions`, or pants.toml if a repository sets them
there), and the launcher fetches the binary named by the same version
(`BUBBLEWRAP_VERSION`). When build-support/repin.py moves the .deb pin in
src/python/wasm_attest_setup/pins/sandbox.txt, all of them must move with it, or
./pants fetches a binary Pants refuses. The version is the Debian version
itself, so it changes with every re-pin. These are pure text functions that
refuse (naming the file) whenever the text they expect is not there, so a
moved constant stops the re-pin instead of leaving one place behind; they are
tested on sample text. `known_versions` entries have the toolchain's format,
so its helpers are reused. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from wasm_attest_setup.debian_packages import SetupError
from toolchain_pins import rewrite_entries, section_span

PACKAGE = "bubblewrap"
# Where the package puts the binary; fetch_bubblewrap.py takes the same file.
BINARY = PurePosixPath("usr/bin/bwrap")
SUBSYSTEM_FILE = "pants-plugins/wasm_component/subsystems/sandbox.py"
LAUNCHER = "pants"
PANTS_TOML = "pants.toml"
PANTS_TOML_SECTION = "wasm-sandbox"
# Every file rewrite_files changes, for the caller to read.
PATHS = (SUBSYSTEM_FILE, LAUNCHER, PANTS_TOML)


def cache_name(version: str) -> str:
    """The binary's name in the set-up cache's sandbox/ folder, where ./pants and Pants look."""
    return f"bwrap-{version}"


def replace_once(text: str, old: str, new: str, where: str) -> str:
    """Replace the one occurrence of old; fail if there is none or more than one."""
    count = text.count(old)
    if count != 1:
        raise SetupError(
            f"{where}: expected `{old}` once, found it {count} times; "
            "update it by hand or fix build-support/sandbox_pins.py"
        )
    return text.replace(old, new)


def rewrite_subsystem(text: str, old_version: str, new_version: str, new_entry: str) -> str:
    """Replace the subsystem's default version and its known_versions entry, each there once."""
    text = replace_once(
        text,
        f'default_version = "{old_version}"',
        f'default_version = "{new_version}"',
        SUBSYSTEM_FILE,
    )
    text, count = rewrite_entries(text, old_version, new_entry)
    if count != 1:
        raise SetupError(
            f"{SUBSYSTEM_FILE}: expected one known_versions entry for {old_version}, "
            f"found {count}; update it by hand"
        )
    return text


def rewrite_launcher(text: str, old_version: str, new_version: str) -> str:
    """Replace the version ./pants fetches and looks for in the set-up cache."""
    return replace_once(
        text,
        f'readonly BUBBLEWRAP_VERSION="{old_version}"',
        f'readonly BUBBLEWRAP_VERSION="{new_version}"',
        LAUNCHER,
    )


def rewrite_pants_toml(text: str, old_version: str, new_version: str, new_entry: str) -> str:
    """Update `[wasm-sandbox]` `version` and `known_versions` in pants.toml, where it sets them.

    A pants.toml that leaves both to the subsystem's defaults comes back
    unchanged. One that sets them must set them to the old pin: another
    version there would leave Pants asking for a binary ./pants never fetches.
    """
    span = section_span(text, PANTS_TOML_SECTION)
    if span is None:
        return text
    start, end = span
    body = text[start:end]
    where = f"{PANTS_TOML} [{PANTS_TOML_SECTION}]"
    if re.search(r"^\s*version\s*=", body, re.MULTILINE):
        body, count = re.subn(
            rf"^(\s*version\s*=\s*)([\"']){re.escape(old_version)}\2",
            lambda match: f"{match[1]}{match[2]}{new_version}{match[2]}",
            body,
            flags=re.MULTILINE,
        )
        if count != 1:
            raise SetupError(
                f"{where}: `version` is not the pinned {old_version}; update it by hand"
            )
    if re.search(r"^\s*known_versions\s*=", body, re.MULTILINE):
        body, count = rewrite_entries(body, old_version, new_entry)
        if count != 1:
            raise SetupError(
                f"{where}: expected one known_versions entry for {old_version}, found {count}; "
                "update it by hand"
            )
    return text[:start] + body + text[end:]


def rewrite_files(
    texts: Mapping[str, str], old_version: str, new_version: str, new_entry: str
) -> dict[str, str]:
    """Apply every rewrite; texts maps each of PATHS to its content, and so does the result."""
    subsystem = texts[SUBSYSTEM_FILE]
    return {
        SUBSYSTEM_FILE: rewrite_subsystem(subsystem, old_version, new_version, new_entry),
        LAUNCHER: rewrite_launcher(texts[LAUNCHER], old_version, new_version),
        PANTS_TOML: rewrite_pants_toml(texts[PANTS_TOML], old_version, new_version, new_entry),
    }
