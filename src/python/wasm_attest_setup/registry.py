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

The pins are a packages.txt-style file, one .deb per line:
`<suite> <package> <version> <sha256>`; by default pins/registry.txt, the crates
this project's testprojects lock. Downloading, verifying and unpacking are
shared with the toolchain's build (debian_packages.py): apt runs
with private package lists, fetched for the pinned suites, so a fresh machine
whose system lists are empty or stale needs no `apt-get update`. A stamp in DEST
records the sha256 of packages.txt, so a registry that is already complete is
left alone without running apt at all. DEST is built in a temporary folder beside
it and renamed into place, so a failed run never leaves a half-built registry
behind.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from wasm_attest_setup import debian_packages

PINS_FILE = Path(__file__).resolve().parent / "pins" / "registry.txt"
# Cargo skips dot-entries of a directory source, so the stamp cannot be mistaken for a crate.
STAMP_NAME = ".packages-sha256"
CRATES_IN_DEB = Path("usr/share/cargo/registry")


class RegistryError(Exception):
    """A failure worth a one-line message rather than a traceback."""


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for callers."""
    print(f"fetch_registry: {message}", file=sys.stderr, flush=True)


def unpack_crates(pin: debian_packages.Pin, deb: Path, scratch: Path) -> list[Path]:
    """Extract a .deb and return the crate folders it ships."""
    target = scratch / pin.name
    debian_packages.reset_dir(target)
    debian_packages.unpack_deb(pin, deb, target)
    crates = sorted(path for path in (target / CRATES_IN_DEB).glob("*") if path.is_dir())
    if not crates:
        raise RegistryError(f"{pin.name} {pin.version} ships no crate under /{CRATES_IN_DEB}")
    for crate in crates:
        if not (crate / ".cargo-checksum.json").is_file():
            raise RegistryError(f"{crate.name} in {pin.name} has no .cargo-checksum.json")
    return crates


def populate(pins: list[debian_packages.Pin], staging: Path, work: Path) -> None:
    """Download and verify every pin before unpacking any, then move its crates into staging.

    The .debs stay in work/debs, so a rerun with the same --work downloads nothing.
    """
    debs = work / "debs"
    log(f"downloading {len(pins)} packages into {debs}")
    fetched = debian_packages.fetch_debs(pins, debs, work / "apt", pin_set="registry")
    for pin, deb in fetched.items():
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


def build(dest: Path, work: Path, pins: list[debian_packages.Pin], pins_sha256: str) -> None:
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


def install(dest: Path, pins_file: Path = PINS_FILE, work: Path | None = None) -> None:
    """Make dest the directory source of pins_file's crates; at once if its stamp says it is."""
    pins_text = pins_file.read_bytes()
    pins_sha256 = hashlib.sha256(pins_text).hexdigest()
    if is_current(dest, pins_sha256):
        log(f"{dest} is up to date")
        return
    pins = debian_packages.parse_pins(pins_text.decode("utf-8"), pins_file)
    if work:
        build(dest, work, pins, pins_sha256)
    else:
        with tempfile.TemporaryDirectory(prefix="fetch_registry-") as scratch:
            build(dest, Path(scratch), pins, pins_sha256)


def main(argv: list[str]) -> int:
    """Entry point: exits at once when the registry already matches the pins."""
    args = parse_args(argv)
    try:
        install(args.dest.resolve(), work=args.work.resolve() if args.work else None)
    except (RegistryError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_registry: error: {error}", file=sys.stderr)
        return 1
    return 0
