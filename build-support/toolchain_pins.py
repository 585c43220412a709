"""Carry a re-pinned toolchain into every file that pins its archive.

Why this exists: the toolchain archive is pinned by sha256 and size in the
`[wasm-toolchain]` subsystem's default `known_versions` (and in pants.toml if
a repository sets them there), and its Rust version is part of the archive's
file name in the launcher, the tests and the benchmarks. After
build-support/repin.py rebuilds the archive from new pins, all of them must
change together, and a Rust release series change (1.96 -> 1.97) must stop
the re-pin instead: Debian then renames packages (`libstd-rust-web-1.96`),
which no automatic rule can follow. These are pure text functions, so they
are tested on sample text. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wasm_attest_setup.debian_packages import SetupError
from pin_updates import Change

RUSTC_PACKAGE = "rustc-web"
PLATFORM = "linux_x86_64"
SUBSYSTEM_FILE = "pants-plugins/wasm_component/subsystems/toolchain.py"
PANTS_TOML = "pants.toml"
PANTS_TOML_SECTION = "wasm-toolchain"


@dataclass(frozen=True)
class VersionSite:
    """A file that names the toolchain's Rust version, and the text around it."""

    path: str
    template: str  # contains {version}

    def text(self, version: str) -> str:
        """The template filled in with a version."""
        return self.template.format(version=version)


# Everything outside the subsystem and pants.toml that names the archive's version.
VERSION_SITES = (
    VersionSite("pants", 'TOOLCHAIN_ARCHIVE="wasm32-wasip2-rust-{version}.tar.gz"'),
    VersionSite(SUBSYSTEM_FILE, 'default_version = "{version}"'),
    VersionSite("README.md", "| `version` | `{version}` |"),
    VersionSite("tests/python/e2e/repository.py", '"wasm32-wasip2-rust-{version}.tar.gz"'),
    VersionSite("benchmarks/testprojects.py", 'TOOLCHAIN_VERSION = "{version}"'),
    VersionSite("benchmarks/monorepo/generate.py", '"wasm32-wasip2-rust-{version}.tar.gz"'),
)


def rust_release(debian_version: str) -> str:
    """The Rust release a rustc-web version packages, as `rustc -vV` reports it.

    `1.96.0+dfsg1-1~deb12u2` -> `1.96.0`: epoch, Debian revision and the
    repack suffix go; this is the version in the archive's file name.
    """
    upstream = debian_version.split(":", 1)[-1].rsplit("-", 1)[0]
    return re.split(r"[+~]", upstream, maxsplit=1)[0]


def rust_series(debian_version: str) -> str:
    """`major.minor` of the Rust release: the part Debian's package names embed."""
    return ".".join(rust_release(debian_version).split(".")[:2])


def series_problems(changes: Sequence[Change]) -> list[str]:
    """Refuse a re-pin that moves Rust to another release series; it needs a human."""
    return [
        f"{change.old.name} moves from Rust {rust_series(change.old.version)} to "
        f"{rust_series(change.new.version)}: Debian names packages after the series "
        f"(libstd-rust-web-{rust_series(change.old.version)}), so edit "
        "build-support/toolchain/packages.txt by hand for the new series"
        for change in changes
        if change.old.name == RUSTC_PACKAGE
        and rust_series(change.old.version) != rust_series(change.new.version)
    ]


def parse_build_result(stdout: str) -> tuple[str, int]:
    """Read `sha256=<hex> size=<bytes>`, the last line build_toolchain.py prints on stdout."""
    lines = stdout.strip().splitlines()
    match = re.fullmatch(r"sha256=([0-9a-f]{64}) size=(\d+)", lines[-1].strip() if lines else "")
    if match is None:
        raise SetupError(f"build_toolchain.py printed no `sha256=... size=...` line: {stdout!r}")
    return match[1], int(match[2])


def known_version_entry(version: str, sha256: str, size: int) -> str:
    """A `known_versions` entry as Pants' external tools read it."""
    return f"{version}|{PLATFORM}|{sha256}|{size}"


def entry_pattern(version: str) -> re.Pattern[str]:
    """Match the quoted known_versions entry of one version, whatever its digest."""
    return re.compile(
        r"(?P<quote>[\"'])(?P<entry>"
        + re.escape(f"{version}|{PLATFORM}|")
        + r"[0-9a-f]{64}\|\d+)(?P=quote)"
    )


def current_entry(text: str, version: str) -> str | None:
    """The known_versions entry of version in text (without quotes), if there is one."""
    match = entry_pattern(version).search(text)
    return match["entry"] if match else None


def rewrite_entries(text: str, old_version: str, new_entry: str) -> tuple[str, int]:
    """Replace the known_versions entries of old_version; return the text and how many."""
    return entry_pattern(old_version).subn(
        lambda match: f"{match['quote']}{new_entry}{match['quote']}", text
    )


def rewrite_subsystem(text: str, old_version: str, new_entry: str) -> str:
    """Replace the subsystem's default known_versions entry, which must be there exactly once."""
    new_text, count = rewrite_entries(text, old_version, new_entry)
    if count != 1:
        raise SetupError(
            f"{SUBSYSTEM_FILE}: expected one known_versions entry for {old_version}, "
            f"found {count}; update it by hand"
        )
    return new_text


def section_span(text: str, section: str) -> tuple[int, int] | None:
    """Where a TOML table's body starts and ends, or None if the text has no such table."""
    header = re.search(rf"^\[{re.escape(section)}\][ \t]*$", text, re.MULTILINE)
    if header is None:
        return None
    following = re.compile(r"^\[", re.MULTILINE).search(text, header.end())
    return header.end(), following.start() if following else len(text)


def rewrite_pants_toml(text: str, old_version: str, new_version: str, new_entry: str) -> str:
    """Update `[wasm-toolchain]` `known_versions` and `version` in pants.toml, if it sets them.

    Only that table is touched; a pants.toml that leaves both to the
    subsystem's defaults comes back unchanged.
    """
    span = section_span(text, PANTS_TOML_SECTION)
    if span is None:
        return text
    start, end = span
    body, _ = rewrite_entries(text[start:end], old_version, new_entry)
    body = re.sub(
        rf"^(\s*version\s*=\s*)([\"']){re.escape(old_version)}\2",
        lambda match: f"{match[1]}{match[2]}{new_version}{match[2]}",
        body,
        flags=re.MULTILINE,
    )
    return text[:start] + body + text[end:]


def rewrite_version_sites(
    texts: Mapping[str, str], old_version: str, new_version: str
) -> dict[str, str]:
    """Replace the Rust version at every VERSION_SITES place; texts maps path -> content.

    Every site must still be found, so a moved or renamed constant stops the
    re-pin (naming the file) instead of leaving one file behind.
    """
    updated = dict(texts)
    missing = []
    for site in VERSION_SITES:
        old = site.text(old_version)
        if old not in updated[site.path]:
            missing.append(f"{site.path} (`{old}`)")
            continue
        updated[site.path] = updated[site.path].replace(old, site.text(new_version))
    if missing:
        raise SetupError(
            "cannot find the toolchain version in " + ", ".join(missing)
            + "; update build-support/toolchain_pins.py's VERSION_SITES"
        )
    return updated
