"""Read what a Debian suite offers now, from the package lists apt fetched.

Why this exists: pins in the packages.txt files name exact versions, and Debian
drops a version from a suite's index once a newer one replaces it. Both the
set-up scripts (to say which version replaced a pin that no longer downloads)
and build-support/repin.py (to move pins to it) need the same answer: for a
package in a suite, which versions does the suite's `Packages` index list, with
which sha256 and size. The index is covered by the suite's signed InRelease,
which apt checked when it fetched the lists, so its SHA256 fields can be
trusted as pins.

Parsing and version ordering are pure functions of recorded text, so tests
need no network. The standard library only: this runs before anything is
installed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# apt keeps its lists compressed (lz4 by default); its helper decompresses any
# format apt itself wrote, so no decompressor beyond apt is needed.
APT_HELPER = "/usr/lib/apt/apt-helper"
# The only architectures apt offers with APT::Architecture=amd64 (debian_packages.apt_options).
ARCHITECTURES = frozenset({"amd64", "all"})
# Suffixes apt may give a stored list; anything else (a pdiff index) is not a Packages file.
COMPRESSIONS = frozenset({".lz4", ".gz", ".xz", ".zst", ".bz2", ".lzma"})
PACKAGE_PREFIX = "Package: "
DIGITS = re.compile(r"\d*")
NON_DIGITS = re.compile(r"\D*")


@dataclass(frozen=True)
class Offer:
    """One binary package version a suite's index lists, with what pins it."""

    name: str
    version: str
    architecture: str
    filename: str
    sha256: str
    size: int


# ------------------------------------------------------------------ parsing


def parse_packages(text: str, names: Collection[str] | None = None) -> dict[str, list[Offer]]:
    """Return the offers of a `Packages` index by package name.

    names, when given, limits parsing to those packages: a suite's index holds
    tens of thousands of stanzas and only a few are wanted, so a stanza is
    looked at only once its first line names a wanted package.
    """
    offers: dict[str, list[Offer]] = {}
    for stanza in text.split("\n\n"):
        stanza = stanza.strip("\n")
        if not stanza.startswith(PACKAGE_PREFIX):
            continue
        name = stanza[len(PACKAGE_PREFIX) : stanza.find("\n") if "\n" in stanza else None].strip()
        if names is not None and name not in names:
            continue
        offer = stanza_offer(parse_stanza(stanza))
        if offer is not None and offer.architecture in ARCHITECTURES:
            offers.setdefault(offer.name, []).append(offer)
    return offers


def parse_stanza(stanza: str) -> dict[str, str]:
    """Split one deb822 stanza into fields; continuation lines (leading space) are appended."""
    fields: dict[str, str] = {}
    last = None
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            fields[last] += "\n" + line.strip()
        elif ":" in line:
            last, value = line.split(":", 1)
            fields[last] = value.strip()
    return fields


def stanza_offer(fields: Mapping[str, str]) -> Offer | None:
    """Turn a stanza's fields into an Offer, or None if it lacks what a pin needs."""
    try:
        return Offer(
            name=fields["Package"],
            version=fields["Version"],
            architecture=fields["Architecture"],
            filename=fields["Filename"],
            sha256=fields["SHA256"],
            size=int(fields["Size"]),
        )
    except (KeyError, ValueError):
        return None


# -------------------------------------------------------------- versions


def compare_versions(left: str, right: str) -> int:
    """Order two Debian versions as dpkg does: <0, 0 or >0.

    `[epoch:]upstream[-revision]`; epochs compare as numbers, the other two
    parts alternate non-digit runs (where `~` sorts before everything, even the
    end) and numbers. Needed because `1.96.0+dfsg1-1~deb12u10` is newer than
    `...deb12u9`, which plain string order gets wrong.
    """
    left_epoch, left_upstream, left_revision = split_version(left)
    right_epoch, right_upstream, right_revision = split_version(right)
    if left_epoch != right_epoch:
        return left_epoch - right_epoch
    return compare_fragment(left_upstream, right_upstream) or compare_fragment(
        left_revision, right_revision
    )


def split_version(version: str) -> tuple[int, str, str]:
    """Split a Debian version into epoch, upstream version and revision."""
    epoch, _, rest = version.partition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare_fragment(left: str, right: str) -> int:
    """Compare upstream versions or revisions by dpkg's alternating text/number rule."""
    while left or right:
        left_text, left = take(NON_DIGITS, left)
        right_text, right = take(NON_DIGITS, right)
        for index in range(max(len(left_text), len(right_text))):
            difference = char_order(left_text, index) - char_order(right_text, index)
            if difference:
                return difference
        left_number, left = take(DIGITS, left)
        right_number, right = take(DIGITS, right)
        difference = int(left_number or 0) - int(right_number or 0)
        if difference:
            return difference
    return 0


def take(pattern: re.Pattern[str], text: str) -> tuple[str, str]:
    """Split text into its leading run that pattern matches and the rest."""
    match = pattern.match(text)
    end = match.end() if match else 0
    return text[:end], text[end:]


def char_order(text: str, index: int) -> int:
    """dpkg's weight of one character: `~` < end of text < letters < everything else."""
    if index >= len(text):
        return 0
    char = text[index]
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def newest(offers: Iterable[Offer]) -> Offer:
    """Return the offer with the highest version."""
    best: Offer | None = None
    for offer in offers:
        if best is None or compare_versions(offer.version, best.version) > 0:
            best = offer
    if best is None:
        raise ValueError("no offers to choose from")
    return best


# ----------------------------------------------------------- apt's lists


def index_files(lists_dir: Path, suite: str) -> list[Path]:
    """Find a suite's `Packages` indexes among the lists apt fetched into lists_dir.

    apt names them `<host>_<path>_dists_<suite>_<component>_binary-<arch>_Packages`
    (plus a compression suffix); `_dists_bookworm_` never matches bookworm-security.
    """
    return sorted(
        path
        for path in lists_dir.glob(f"*_dists_{suite}_*_binary-*_Packages*")
        if path.name.endswith("_Packages") or path.suffix in COMPRESSIONS
    )


def read_index(path: Path) -> str:
    """Return the text of one of apt's (usually compressed) list files."""
    proc = subprocess.run(
        [APT_HELPER, "cat-file", str(path)],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    if proc.returncode != 0:
        raise OSError(f"{APT_HELPER} cat-file {path} failed: {proc.stderr.strip()}")
    return proc.stdout


def read_offers(
    lists_dir: Path, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Offer]]:
    """Return, for each wanted (suite, package name), the offers of that suite's indexes.

    A wanted package the suite does not list maps to an empty list; a suite
    without any index means the lists were not fetched for it, which would
    otherwise look like every package had gone.
    """
    names_by_suite: dict[str, set[str]] = {}
    for suite, name in wanted:
        names_by_suite.setdefault(suite, set()).add(name)
    offers: dict[tuple[str, str], list[Offer]] = {}
    for suite, names in names_by_suite.items():
        for name in names:
            offers[(suite, name)] = []
        paths = index_files(lists_dir, suite)
        if not paths:
            raise FileNotFoundError(f"no Packages index for {suite} in {lists_dir}")
        for path in paths:
            for name, found in parse_packages(read_index(path), names).items():
                offers[(suite, name)].extend(found)
    return offers
