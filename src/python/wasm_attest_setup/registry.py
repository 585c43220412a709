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
this project's testprojects lock. Most are librust-*-dev packages, each shipping
its crates under /usr/share/cargo/registry. Crates Debian packages only inside
the Rust sources (`rust-web-src` vendors, with their crates.io checksums, the
crates std is built from, among them `wasi` and `wit-bindgen` for library
components) are taken from that package's library/vendor/ folder: exactly the
folders pins/registry-vendored.txt lists, one `<package> <crate folder>` per
line. Debian strips wit-bindgen's prebuilt `src/rt/libwit_bindgen_cabi.a`, which
its build script needs; the set-up compiles it from source with the toolchain
(wit_bindgen_cabi.py) and records its sha256 in the crate's .cargo-checksum.json.
Downloading, verifying and unpacking are shared with the toolchain's build
(debian_packages.py): apt runs with private package lists, fetched for the
pinned suites, so a fresh machine whose system lists are empty or stale needs no
`apt-get update`. A stamp in DEST records the sha256 of the pins, the vendored
list and the cabi_realloc source (concatenated, as ./pants checks it), so a
registry that is already complete is left alone without running apt at all. DEST is built in a temporary folder beside
it and renamed into place, so a failed run never leaves a half-built registry
behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from wasm_attest_setup import debian_packages, wit_bindgen_cabi

PINS_FILE = Path(__file__).resolve().parent / "pins" / "registry.txt"
VENDORED_CRATES_FILE = Path(__file__).resolve().parent / "pins" / "registry-vendored.txt"
# Cargo skips dot-entries of a directory source, so the stamp cannot be mistaken for a crate.
STAMP_NAME = ".packages-sha256"
CRATES_IN_DEB = Path("usr/share/cargo/registry")
# Where rust-web-src keeps the crates.io crates std is built from (rustc-<version> varies).
VENDOR_IN_RUST_SRC = "usr/src/rustc-*/library/vendor"
WIT_BINDGEN_CABI_CRATE = "wit-bindgen-0.45.1"


class RegistryError(Exception):
    """A failure worth a one-line message rather than a traceback."""


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for callers."""
    print(f"fetch_registry: {message}", file=sys.stderr, flush=True)


def parse_vendored_crates(text: str, origin: str) -> dict[str, tuple[str, ...]]:
    """Read a vendored-crates list: package name -> the crate folders to take from its vendor/ folder."""
    selected: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise RegistryError(f"{origin}:{number}: expected `<package> <crate folder>`, got {line.strip()!r}")
        selected.setdefault(fields[0], []).append(fields[1])
    return {package: tuple(folders) for package, folders in selected.items()}


def unpack_crates(
    pin: debian_packages.Pin, deb: Path, scratch: Path, vendored: tuple[str, ...] = ()
) -> list[Path]:
    """Extract a .deb and return the crate folders it ships (`vendored`: the ones to take from its vendor/)."""
    target = scratch / pin.name
    debian_packages.reset_dir(target)
    debian_packages.unpack_deb(pin, deb, target)
    if vendored:
        crates = _vendored_crates(pin, target, vendored)
    else:
        crates = sorted(path for path in (target / CRATES_IN_DEB).glob("*") if path.is_dir())
    if not crates:
        raise RegistryError(f"{pin.name} {pin.version} ships no crate under /{CRATES_IN_DEB}")
    for crate in crates:
        if not (crate / ".cargo-checksum.json").is_file():
            raise RegistryError(f"{crate.name} in {pin.name} has no .cargo-checksum.json")
    return crates


def _vendored_crates(pin: debian_packages.Pin, unpacked: Path, folders: tuple[str, ...]) -> list[Path]:
    """The listed crate folders of a Rust source package, each with the crates.io checksum of its .crate."""
    vendors = sorted(unpacked.glob(VENDOR_IN_RUST_SRC))
    if len(vendors) != 1:
        raise RegistryError(f"{pin.name} {pin.version} has {len(vendors)} folders /{VENDOR_IN_RUST_SRC}, expected one")
    crates = []
    for folder in folders:
        crate = vendors[0] / folder
        if not crate.is_dir():
            raise RegistryError(
                f"{pin.name} {pin.version} vendors no {folder} (listed in {VENDORED_CRATES_FILE.name}); "
                f"it has: {', '.join(sorted(path.name for path in vendors[0].iterdir()))}"
            )
        checksum = _read_checksums(crate).get("package")
        if not isinstance(checksum, str) or not debian_packages.SHA256_HEX.fullmatch(checksum):
            raise RegistryError(
                f"{folder} in {pin.name} has no crates.io sha256 in its .cargo-checksum.json (`package` is "
                f"{checksum!r}): a lockfile could not record the checksum crates.io has"
            )
        crates.append(crate)
    return crates


def _read_checksums(crate: Path) -> dict:
    try:
        checksums = json.loads((crate / ".cargo-checksum.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RegistryError(f"{crate.name}: cannot read .cargo-checksum.json: {error}") from None
    if not isinstance(checksums, dict) or not isinstance(checksums.get("files", {}), dict):
        raise RegistryError(f"{crate.name}: .cargo-checksum.json is not an object with a `files` object")
    return checksums


def add_wit_bindgen_cabi(crate: Path, toolchain_archive: Path | None) -> None:
    """Put the archive Debian strips back into wit-bindgen, and list its sha256 in .cargo-checksum.json.

    cargo checks every file a directory source's `files` lists: listing the
    rebuilt archive means a changed or missing one fails the build.
    """
    if toolchain_archive is None or not toolchain_archive.is_file():
        raise RegistryError(
            f"{crate.name} needs libwit_bindgen_cabi.a, compiled with the toolchain archive, which is missing "
            f"({toolchain_archive or 'none given'}): build the toolchain first (./pants, or pants wasm-setup)"
        )
    archive = wit_bindgen_cabi.build_cabi_archive(toolchain_archive)
    destination = crate / wit_bindgen_cabi.ARCHIVE_PATH_IN_CRATE
    destination.write_bytes(archive)
    checksums = _read_checksums(crate)
    digest = hashlib.sha256(archive).hexdigest()
    checksums.setdefault("files", {})[wit_bindgen_cabi.ARCHIVE_PATH_IN_CRATE.as_posix()] = digest
    (crate / ".cargo-checksum.json").write_text(json.dumps(checksums, sort_keys=True), encoding="utf-8")
    log(f"built {destination.relative_to(crate.parent)} ({len(archive)} bytes, sha256 {digest})")


def populate(
    pins: list[debian_packages.Pin],
    vendored: dict[str, tuple[str, ...]],
    staging: Path,
    work: Path,
    toolchain_archive: Path | None,
) -> None:
    """Download and verify every pin before unpacking any, then move its crates into staging.

    The .debs stay in work/debs, so a rerun with the same --work downloads nothing.
    """
    unpinned = sorted(set(vendored) - {pin.name for pin in pins})
    if unpinned:
        raise RegistryError(f"the vendored-crates list takes crates from {', '.join(unpinned)}, which the pins do not pin")
    debs = work / "debs"
    log(f"downloading {len(pins)} packages into {debs}")
    fetched = debian_packages.fetch_debs(pins, debs, work / "apt", pin_set="registry")
    for pin, deb in fetched.items():
        for crate in unpack_crates(pin, deb, work / "unpacked", vendored.get(pin.name, ())):
            destination = staging / crate.name
            if destination.exists():
                raise RegistryError(f"{crate.name} is shipped by more than one pinned package")
            shutil.move(crate, destination)
            log(f"added {crate.name}")
    if (staging / WIT_BINDGEN_CABI_CRATE).is_dir():
        add_wit_bindgen_cabi(staging / WIT_BINDGEN_CABI_CRATE, toolchain_archive)


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


def build(
    dest: Path,
    work: Path,
    pins: list[debian_packages.Pin],
    vendored: dict[str, tuple[str, ...]],
    pins_sha256: str,
    toolchain_archive: Path | None,
) -> None:
    """Build the registry beside dest so that the final rename is atomic."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the registry from other users
    try:
        populate(pins, vendored, staging, work, toolchain_archive)
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
        "--toolchain-archive",
        type=Path,
        help="the toolchain archive, which compiles wit-bindgen's libwit_bindgen_cabi.a "
        "(needed when the registry takes wit-bindgen)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="scratch folder for downloads and unpacking, kept afterwards so that "
        "a rerun reuses the downloads (default: a temporary folder)",
    )
    return parser.parse_args(argv)


def stamp_of(pins_file: Path, vendored_file: Path | None) -> str:
    """The sha256 of everything the registry is made from, concatenated in the order ./pants hashes them."""
    parts = [pins_file.read_bytes()]
    if vendored_file is not None:
        parts += [vendored_file.read_bytes(), wit_bindgen_cabi.SOURCE.read_bytes()]
    return hashlib.sha256(b"".join(parts)).hexdigest()


def install(
    dest: Path,
    pins_file: Path = PINS_FILE,
    work: Path | None = None,
    *,
    vendored_file: Path | None = VENDORED_CRATES_FILE,
    toolchain_archive: Path | None = None,
) -> None:
    """Make dest the directory source of pins_file's crates; at once if its stamp says it is.

    `vendored_file` lists the crates taken from Rust source packages (None: none);
    `toolchain_archive` compiles wit-bindgen's archive when wit-bindgen is among them.
    """
    pins_sha256 = stamp_of(pins_file, vendored_file)
    if is_current(dest, pins_sha256):
        log(f"{dest} is up to date")
        return
    pins = debian_packages.parse_pins(pins_file.read_text(encoding="utf-8"), pins_file)
    vendored = (
        parse_vendored_crates(vendored_file.read_text(encoding="utf-8"), vendored_file.name) if vendored_file else {}
    )
    if work:
        build(dest, work, pins, vendored, pins_sha256, toolchain_archive)
    else:
        with tempfile.TemporaryDirectory(prefix="fetch_registry-") as scratch:
            build(dest, Path(scratch), pins, vendored, pins_sha256, toolchain_archive)


def main(argv: list[str]) -> int:
    """Entry point: exits at once when the registry already matches the pins."""
    args = parse_args(argv)
    try:
        install(
            args.dest.resolve(),
            work=args.work.resolve() if args.work else None,
            toolchain_archive=args.toolchain_archive.resolve() if args.toolchain_archive else None,
        )
    except (RegistryError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_registry: error: {error}", file=sys.stderr)
        return 1
    return 0
