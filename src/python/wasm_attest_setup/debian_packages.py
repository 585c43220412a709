"""Download, verify and unpack pinned Debian packages without the system's apt state.

Why this exists: the toolchain archive (toolchain.py), the crate registry
(registry.py) and bubblewrap (bubblewrap.py) are all built from exact Debian
package versions, and all need the same guarantees, so they share this module:

- one pin format, `suite name version sha256`, so a pin reads the same in
  every packages.txt;
- a private apt state (sources list, package lists, cache, empty dpkg status)
  inside the caller's work folder: /etc/apt is never edited, and the host's
  package lists, which on a fresh CI machine are empty or stale, are never read;
- no .deb is unpacked before its sha256 matches its pin.

When a pinned version can no longer be downloaded because Debian replaced it,
the error names each such pin, the version its suite offers now (read from
the private lists, see debian_index.py) and the re-pin command
(build-support/repin.py) that moves the pins.

It uses the standard library only, so nothing must be installed before the
set-up can run: this repository's build-support/ scripts run it as plain files
(with src/python on sys.path), and `pants wasm-setup` runs it inside Pants.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from wasm_attest_setup import debian_index

PIN_FIELDS = ("suite", "name", "version", "sha256")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SUITE_SOURCES = {
    "bookworm": "http://deb.debian.org/debian bookworm main",
    "bookworm-security": "http://deb.debian.org/debian-security bookworm-security main",
    "forky": "http://deb.debian.org/debian forky main",
    "trixie": "http://deb.debian.org/debian trixie main",
    "sid": "http://deb.debian.org/debian sid main",
}
OUTPUT_TAIL_LINES = 40
# How a maintainer moves a set of pins (toolchain, registry, cargo-auditable, sandbox) to
# what the suites offer now; quoted in the error for pins Debian no longer offers.
REPIN_COMMAND = "python3 build-support/repin.py {pin_set}"


class SetupError(Exception):
    """A failure with a message meant for the user; reported without a traceback."""


@dataclass(frozen=True)
class Pin:
    """One pinned input: a Debian package version (or, for the toolchain, a host file)."""

    suite: str
    name: str
    version: str
    sha256: str

    @property
    def apt_spec(self) -> str:
        """Return the `name=version` argument that makes apt-get pick this exact version."""
        return f"{self.name}={self.version}"


# ---------------------------------------------------------------- utilities


def run(
    cmd: Sequence[str | Path],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a command and return its stdout.

    Output is captured so the callers' progress stays readable; on failure its
    tail goes into the SetupError, which is what a user needs to act on.
    """
    try:
        proc = subprocess.run(
            [os.fspath(part) for part in cmd],
            cwd=cwd,
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as err:
        raise SetupError(f"{what}: cannot run {cmd[0]}: {err.strerror}") from None
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()[-OUTPUT_TAIL_LINES:]
        raise SetupError(f"{what} failed (exit status {proc.returncode}):\n" + "\n".join(output))
    return proc.stdout


def sha256_of(path: Path) -> str:
    """Hash a file in chunks, since .debs reach tens of MB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reset_dir(path: Path) -> None:
    """Empty a directory so every stage starts from a clean, known state."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


# -------------------------------------------------------------------- pins


def parse_pins(text: str, path: Path, extra_suites: Sequence[str] = ()) -> list[Pin]:
    """Parse a packages.txt: one `suite name version sha256` per line, # starts a comment.

    extra_suites are suites the caller resolves itself (the toolchain's host
    files); any other suite must be one this module knows how to download from.
    """
    suites = [*SUITE_SOURCES, *extra_suites]
    pins = [
        parse_pin(line, f"{path.name}:{number}", suites)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not pins:
        raise SetupError(f"{path} pins no packages")
    return pins


def parse_pin(line: str, where: str, suites: Collection[str]) -> Pin:
    """Turn one packages.txt line into a Pin, rejecting anything malformed."""
    fields = line.split()
    if len(fields) != len(PIN_FIELDS):
        raise SetupError(f"{where}: expected `{' '.join(PIN_FIELDS)}`, got {line!r}")
    pin = Pin(*fields)
    if pin.suite not in suites:
        raise SetupError(f"{where}: unknown suite {pin.suite!r} (known: {', '.join(suites)})")
    if not SHA256_HEX.fullmatch(pin.sha256):
        raise SetupError(f"{where}: {pin.sha256!r} is not a lowercase hex sha256")
    return pin


def check_sha256(path: Path, pin: Pin) -> None:
    """Refuse any input whose content differs from its pin."""
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise SetupError(
            f"sha256 mismatch for {pin.name} {pin.version} ({path}):\n"
            f"  expected {pin.sha256}\n  actual   {actual}"
        )


# ---------------------------------------------------------------- download


def fetch_debs(
    pins: Sequence[Pin], cache: Path, apt_dir: Path, *, pin_set: str
) -> dict[Pin, Path]:
    """Return each pin's verified .deb in cache, downloading only what the cache lacks.

    apt runs (and reaches the network) only when a .deb is missing, so a warm
    cache costs nothing but hashing. pin_set names the pins for the re-pin
    command an error suggests (`toolchain`, `registry`, `cargo-auditable`, `sandbox`).
    """
    cache.mkdir(parents=True, exist_ok=True)
    missing = [pin for pin in pins if not cache_is_valid(pin, cached_deb(cache, pin))]
    if missing:
        options = update_private_apt_lists(apt_dir, {pin.suite for pin in missing})
        try:
            download_debs(missing, cache, options)
        except SetupError as error:
            raise explain_download_failure(error, missing, apt_dir / "lists", pin_set) from None
    return {pin: cached_deb(cache, pin) for pin in pins}


def explain_download_failure(
    error: SetupError, pins: Sequence[Pin], lists_dir: Path, pin_set: str
) -> SetupError:
    """Turn apt's "version not found" into which pins Debian replaced, and by what.

    The lists are read only after a failure, so a set-up whose pins are
    current pays nothing for this. If every pin is still offered, the failure
    had another cause and apt's own message is kept.
    """
    try:
        offers = debian_index.read_offers(lists_dir, [(pin.suite, pin.name) for pin in pins])
    except OSError:
        return error
    message = stale_pins_message(pins, offers, pin_set)
    return SetupError(message) if message else error


def stale_pins_message(
    pins: Iterable[Pin],
    offers: Mapping[tuple[str, str], Sequence[debian_index.Offer]],
    pin_set: str,
) -> str | None:
    """Describe each pin whose version its suite no longer offers, or None if there is none.

    offers maps (suite, package name) to what the suite's index lists.
    """
    lines = []
    for pin in pins:
        offered = offers.get((pin.suite, pin.name), ())
        if any(offer.version == pin.version for offer in offered):
            continue
        now = (
            f"{pin.suite} now offers {debian_index.newest(offered).version}"
            if offered
            else f"{pin.suite} no longer has a package of that name"
        )
        lines.append(f"  {pin.name} pinned at {pin.version}: {now}")
    if not lines:
        return None
    return "\n".join(
        [
            "Debian no longer offers these pinned package versions (it removes a version",
            "from a suite once a newer one, usually a security update, replaces it):",
            *lines,
            "To move the pins to what the suites offer now, run",
            f"  {REPIN_COMMAND.format(pin_set=pin_set)}",
            "and commit the files it changes (in a repository that installs wasm-attest as a",
            "plugin: upgrade the plugin, whose release carries the moved pins).",
        ]
    )


def cached_deb(cache: Path, pin: Pin) -> Path:
    """Name the cache file after package and version, so changing a pin never reuses it."""
    return cache / f"{pin.name}_{pin.version}.deb"


def cache_is_valid(pin: Pin, path: Path) -> bool:
    """Tell whether the cached .deb matches its pin; delete it if it does not."""
    if not path.is_file():
        return False
    if sha256_of(path) == pin.sha256:
        return True
    path.unlink()
    return False


def apt_options(apt_dir: Path) -> list[str]:
    """Build apt-get options that confine apt's state to apt_dir instead of /etc and /var."""
    settings = {
        "Dir::Etc::sourcelist": apt_dir / "sources.list",
        "Dir::Etc::sourceparts": "-",
        "Dir::State::Lists": apt_dir / "lists",
        "Dir::State::status": apt_dir / "status",
        "Dir::Cache": apt_dir / "cache",
        "APT::Architecture": "amd64",
    }
    return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]


def update_private_apt_lists(apt_dir: Path, suites: Iterable[str]) -> list[str]:
    """Fetch package lists for the given suites into apt_dir; return the options to use them.

    A private list makes forky (or any suite the host does not list) available
    without editing /etc/apt, and keeps the host's own lists, which may be
    missing or stale, out of the picture.
    """
    reset_dir(apt_dir)
    (apt_dir / "lists" / "partial").mkdir(parents=True)
    (apt_dir / "cache").mkdir()
    (apt_dir / "status").touch()
    sources = [f"deb [signed-by={DEBIAN_KEYRING}] {SUITE_SOURCES[s]}\n" for s in sorted(suites)]
    (apt_dir / "sources.list").write_text("".join(sources), encoding="utf-8")
    options = apt_options(apt_dir)
    run(["apt-get", *options, "update"], what="apt-get update (private lists)")
    return options


def download_debs(pins: Sequence[Pin], cache: Path, options: Sequence[str]) -> None:
    """Download exact package versions, then move each into the cache once verified.

    One apt-get call fetches them all, because every call re-reads the package
    lists. apt names files `<name>_<version>_<arch>.deb` (escaping an epoch's
    `:`), and Debian package names never contain `_`, so each file is found by
    its name prefix.
    """
    staging = cache / ".download"
    reset_dir(staging)
    run(
        ["apt-get", *options, "download", *(pin.apt_spec for pin in pins)],
        what="apt-get download",
        cwd=staging,
    )
    for pin in pins:
        downloaded = list(staging.glob(f"{pin.name}_*.deb"))
        if len(downloaded) != 1:
            raise SetupError(f"apt-get download {pin.apt_spec} gave {len(downloaded)} .deb files")
        check_sha256(downloaded[0], pin)
        os.replace(downloaded[0], cached_deb(cache, pin))
    shutil.rmtree(staging)


def unpack_deb(pin: Pin, deb: Path, dest: Path) -> None:
    """Extract a verified .deb into dest as dpkg would lay it out, without installing it."""
    run(["dpkg-deb", "-x", deb, dest], what=f"unpacking {pin.name}")
