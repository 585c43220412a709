#!/usr/bin/env python3
"""Build a cargo directory source of crates from Debian's librust-*-dev packages.

crates.io is unreachable where this project builds, but Debian's apt archive is
not, and Debian ships crate sources (with their .cargo-checksum.json) under
/usr/share/cargo/registry/. This script downloads the pinned packages with
`apt-get download`, so nothing is installed system-wide, checks each .deb against
its pinned sha256 and lays the crates out as a cargo "directory source":

    [source.crates-io]
    replace-with = "local"

    [source.local]
    directory = "<DEST>"

The pins live in packages.txt beside this script, one .deb per line:
`<package> <version> <sha256>`. A stamp in DEST records the sha256 of
packages.txt, so a registry that is already complete is left alone. DEST is built
in a temporary folder beside it and renamed into place, so a failed run never
leaves a half-built registry behind.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PINS_FILE = Path(__file__).resolve().with_name("packages.txt")
# Cargo skips dot-entries of a directory source, so the stamp cannot be mistaken for a crate.
STAMP_NAME = ".packages-sha256"
CRATES_IN_DEB = Path("usr/share/cargo/registry")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class RegistryError(Exception):
    """A failure worth a one-line message rather than a traceback."""


@dataclass(frozen=True)
class Pin:
    """One Debian package, pinned by version and by the sha256 of its .deb."""

    package: str
    version: str
    sha256: str

    @property
    def spec(self) -> str:
        """The `apt-get download` argument that selects exactly this version."""
        return f"{self.package}={self.version}"

    @property
    def deb_glob(self) -> str:
        """The .deb name `apt-get download` writes; apt escapes an epoch's ':' as '%3a'."""
        return f"{self.package}_{self.version.replace(':', '%3a')}_*.deb"


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for callers."""
    print(f"fetch_registry: {message}", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    """Hash a file in chunks rather than reading a whole .deb into memory."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_pin(line: str, where: str) -> Pin:
    """Parse one `package version sha256` line, rejecting anything that is not a pin."""
    try:
        package, version, sha256 = line.split()
    except ValueError:
        raise RegistryError(f"{where}: expected `package version sha256`, got {line!r}") from None
    if not SHA256_HEX.fullmatch(sha256):
        raise RegistryError(f"{where}: {sha256!r} is not a lowercase hex sha256")
    return Pin(package, version, sha256)


def parse_pins(text: str) -> list[Pin]:
    """Parse the pins, skipping blank lines and `#` comments."""
    pins = [
        parse_pin(line, f"{PINS_FILE.name}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not pins:
        raise RegistryError(f"{PINS_FILE} pins no packages")
    return pins


def run(command: list[str], cwd: Path | None = None) -> None:
    """Run a tool with its output on stderr; a failure becomes a RegistryError."""
    try:
        subprocess.run(command, cwd=cwd, stdout=sys.stderr, check=True)
    except FileNotFoundError as error:
        raise RegistryError(
            f"{error.filename} not found: this needs Debian's apt and dpkg"
        ) from error
    except subprocess.CalledProcessError as error:
        raise RegistryError(
            f"`{' '.join(command)}` failed with exit code {error.returncode} (output above)"
        ) from error


def download(pins: list[Pin], debs: Path) -> dict[Pin, Path]:
    """Fetch every .deb in one apt call; apt skips files it already holds intact."""
    log(f"downloading {len(pins)} packages into {debs}")
    debs.mkdir(parents=True, exist_ok=True)
    try:
        run(["apt-get", "download", *(pin.spec for pin in pins)], cwd=debs)
    except RegistryError as error:
        raise RegistryError(f"{error}; if a package is not found, run `apt-get update`") from error
    return {pin: find_deb(pin, debs) for pin in pins}


def find_deb(pin: Pin, debs: Path) -> Path:
    """Locate the single .deb apt wrote for a pin."""
    matches = sorted(debs.glob(pin.deb_glob))
    if len(matches) != 1:
        raise RegistryError(f"expected one {pin.deb_glob} in {debs}, found {len(matches)}")
    return matches[0]


def verify(pin: Pin, deb: Path) -> None:
    """Refuse a .deb whose bytes differ from the pin, before anything is unpacked."""
    actual = sha256_of(deb)
    if actual != pin.sha256:
        raise RegistryError(
            f"sha256 mismatch for {pin.package} {pin.version} ({deb.name}): "
            f"expected {pin.sha256}, got {actual}"
        )


def unpack_crates(pin: Pin, deb: Path, scratch: Path) -> list[Path]:
    """Extract a .deb and return the crate folders it ships."""
    target = scratch / pin.package
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    run(["dpkg", "-x", str(deb), str(target)])
    crates = sorted(path for path in (target / CRATES_IN_DEB).glob("*") if path.is_dir())
    if not crates:
        raise RegistryError(f"{pin.package} {pin.version} ships no crate under /{CRATES_IN_DEB}")
    for crate in crates:
        if not (crate / ".cargo-checksum.json").is_file():
            raise RegistryError(f"{crate.name} in {pin.package} has no .cargo-checksum.json")
    return crates


def populate(pins: list[Pin], staging: Path, work: Path) -> None:
    """Download and verify every pin before unpacking any, then move its crates into staging."""
    debs = download(pins, work / "debs")
    for pin, deb in debs.items():
        verify(pin, deb)
    for pin, deb in debs.items():
        for crate in unpack_crates(pin, deb, work / "unpacked"):
            destination = staging / crate.name
            if destination.exists():
                raise RegistryError(f"{crate.name} is shipped by more than one pinned package")
            shutil.move(crate, destination)
            log(f"added {crate.name}")


def is_current(dest: Path, pins_sha256: str) -> bool:
    """Tell whether dest was completed from the current pins, as its stamp records."""
    stamp = dest / STAMP_NAME
    return stamp.is_file() and stamp.read_text(encoding="ascii").strip() == pins_sha256


def replace_dir(staging: Path, dest: Path) -> None:
    """Swap the finished registry into place; an outdated one is moved aside first."""
    if dest.exists():
        outdated = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        dest.rename(outdated / dest.name)
        staging.rename(dest)
        shutil.rmtree(outdated)
    else:
        staging.rename(dest)


def build(dest: Path, work: Path, pins: list[Pin], pins_sha256: str) -> None:
    """Build the registry beside dest so that the final rename is atomic."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the registry from other users
    try:
        populate(pins, staging, work)
        (staging / STAMP_NAME).write_text(pins_sha256 + "\n", encoding="ascii")
        replace_dir(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"registry of {len(pins)} packages ready in {dest}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Describe the command line; --help shows the module docstring."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dest",
        required=True,
        type=Path,
        help="folder to create as a cargo directory source (replaced if outdated)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="scratch folder for downloads and unpacking, kept afterwards so that "
        "a rerun reuses the downloads (default: a temporary folder)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Entry point: exits at once when the registry already matches the pins."""
    args = parse_args(argv)
    dest = args.dest.resolve()
    try:
        pins_text = PINS_FILE.read_bytes()
        pins_sha256 = hashlib.sha256(pins_text).hexdigest()
        if is_current(dest, pins_sha256):
            log(f"{dest} is up to date")
            return 0
        pins = parse_pins(pins_text.decode("utf-8"))
        if args.work:
            build(dest, args.work.resolve(), pins, pins_sha256)
        else:
            with tempfile.TemporaryDirectory(prefix="fetch_registry-") as work:
                build(dest, Path(work), pins, pins_sha256)
    except (RegistryError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_registry: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
