#!/usr/bin/env python3
"""Fetch a runnable cargo-auditable from pinned Debian packages; print its path.

Why this exists: benchmarks/cargo_auditable_comparison.py compares the
`.dep-v0` section our build embeds with the one cargo-auditable, the tool
that defined the format, embeds into the same components. No Debian release
this project's machines run ships a usable cargo-auditable: bookworm has none,
trixie's 0.6.6 is built without wasm support. sid's 0.7.7 works, but needs
glibc >= 2.39 where bookworm has 2.36. So the script downloads, with
build-support/debian_packages.py (private apt lists, sha256 pins checked
before anything is unpacked), the .debs pinned in packages.txt beside it:
sid's cargo-auditable and trixie's libc6 and libgcc-s1. It unpacks them into

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/cargo-auditable-<version>/root/

and points the binary at trixie's dynamic loader (an absolute path, so the
folder cannot be moved afterwards) and libraries (RUNPATH, relative to the
binary) with patchelf: the machine's patchelf if it has one, else the pinned
Debian package. Nothing is installed system-wide; the programs cargo-auditable
starts (cargo, rustc) keep running on the machine's own glibc.

The last line on stdout is the path of the runnable `cargo-auditable`; cargo
finds it as a subcommand (`cargo auditable build`) when its folder is on PATH.
Progress goes to stderr. A second run reuses the folder when a stamp in it
records the current packages.txt and the binary still starts, so it costs a
few milliseconds and never runs apt.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

# Run as a file, this script finds the set-up package it shares with the toolchain and
# registry set-up in src/python.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "python"))

from wasm_attest_setup import debian_packages  # noqa: E402 (needs the sys.path entry above)
from wasm_attest_setup.cache import cache_dir  # noqa: E402 (needs the sys.path entry above)

PINS_FILE = Path(__file__).resolve().with_name("packages.txt")
TOOL = "cargo-auditable"
PATCHELF = "patchelf"
LIBC_PACKAGES = ("libc6", "libgcc-s1")
BINARY = Path("usr/bin") / TOOL
LIBDIR = Path("usr/lib/x86_64-linux-gnu")
LOADER = LIBDIR / "ld-linux-x86-64.so.2"
# Dot-named, so it can never be mistaken for something the packages ship.
STAMP_NAME = ".packages-sha256"


class FetchError(Exception):
    """A failure with a message meant for the user; reported without a traceback."""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the path callers read."""
    print(f"fetch_cargo_auditable: {message}", file=sys.stderr, flush=True)


def read_pins(text: str, path: Path) -> list[debian_packages.Pin]:
    """Parse packages.txt and check it pins exactly the packages this script knows how to use."""
    pins = debian_packages.parse_pins(text, path)
    expected = sorted((TOOL, PATCHELF, *LIBC_PACKAGES))
    if sorted(pin.name for pin in pins) != expected:
        raise FetchError(f"{path.name} must pin exactly these packages, once each: {', '.join(expected)}")
    return pins


def upstream_version(pin: debian_packages.Pin) -> str:
    """Turn a Debian version (`[epoch:]upstream-revision`) into the upstream one: 1:0.7.7-1 -> 0.7.7."""
    return pin.version.split(":", 1)[-1].rsplit("-", 1)[0]


def check_host() -> None:
    """Fail early, naming every missing prerequisite, before any download."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise FetchError("the pinned .debs are for amd64: run this on x86_64 Linux")
    missing = [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        raise FetchError(f"missing host tools: {', '.join(missing)} (Debian packages apt, dpkg)")


def starts(binary: Path) -> bool:
    """Tell whether the patched binary loads and runs.

    Invoked as `cargo-auditable auditable`, it runs $CARGO with the remaining
    (here: no) arguments; with CARGO=true that proves the loader, glibc and
    libgcc_s resolve, without needing a Rust toolchain.
    """
    true = shutil.which("true")
    if not binary.is_file() or true is None:
        return False
    try:
        result = subprocess.run(
            [str(binary), "auditable"], env={"CARGO": true}, capture_output=True, check=False
        )
    except OSError:
        return False
    return result.returncode == 0


def is_current(root: Path, pins_sha256: str) -> bool:
    """Tell whether root was completed from the current pins and still runs from where it is."""
    stamp = root / STAMP_NAME
    if not stamp.is_file() or stamp.read_text(encoding="ascii").strip() != pins_sha256:
        return False
    return starts(root / BINARY)


def unpack(pins: Sequence[debian_packages.Pin], debs: Path, work: Path, staging: Path) -> Path:
    """Fetch (or reuse) and verify the .debs, unpack them; return the patchelf to use.

    cargo-auditable and trixie's C runtime go together into staging. The
    pinned patchelf is fetched, into work, only when the machine has none, and
    in the same apt run, so package lists are downloaded once.
    """
    host_patchelf = shutil.which(PATCHELF)
    wanted = [pin for pin in pins if pin.name != PATCHELF or host_patchelf is None]
    log("fetching " + ", ".join(f"{pin.name} {pin.version} ({pin.suite})" for pin in wanted))
    fetched = debian_packages.fetch_debs(wanted, debs, work / "apt", pin_set="cargo-auditable")
    for pin, deb in sorted(fetched.items(), key=lambda item: item[0].name):
        debian_packages.unpack_deb(pin, deb, work / PATCHELF if pin.name == PATCHELF else staging)
    for required in (BINARY, LOADER, LIBDIR / "libc.so.6", LIBDIR / "libgcc_s.so.1"):
        if not (staging / required).is_file():
            raise FetchError(f"the pinned packages did not provide /{required}")
    return Path(host_patchelf) if host_patchelf else work / PATCHELF / "usr" / "bin" / PATCHELF


def patch_binary(patchelf: Path, binary: Path, final_root: Path) -> None:
    """Point the binary at trixie's loader (where it will finally live) and, via $ORIGIN, at its libraries."""
    runpath = "$ORIGIN/" + os.path.relpath(LIBDIR, BINARY.parent)
    debian_packages.run(
        [patchelf, "--set-interpreter", final_root / LOADER, "--set-rpath", runpath, binary],
        what=f"patchelf on {binary.name}",
    )


def install(root: Path, pins: Sequence[debian_packages.Pin], pins_sha256: str) -> None:
    """Build the folder beside root, swap it in, and stamp it only once the binary starts.

    A failed run therefore never leaves a stamped, half-made tool behind: the
    next run sees no valid stamp and builds again (from the cached .debs).
    """
    home = root.parent
    debs = home / "debs"  # kept: a rerun after a pin change downloads only what changed
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".work-", dir=home) as scratch:
        work = Path(scratch)
        staging = work / "root"
        staging.mkdir()
        patchelf = unpack(pins, debs, work, staging)
        patch_binary(patchelf, staging / BINARY, root)
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    if not starts(root / BINARY):
        raise FetchError(
            f"{root / BINARY} does not start after patching; run it by hand to see the loader's error"
        )
    (root / STAMP_NAME).write_text(pins_sha256 + "\n", encoding="ascii")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Describe the command line; --help shows the module docstring."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="the folder that receives cargo-auditable-<version>/ (default: the cache ./pants uses)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    """Entry point: print the binary's path, fetching it first unless it is already in place."""
    args = parse_args(argv)
    try:
        pins_text = PINS_FILE.read_bytes()
        pins_sha256 = hashlib.sha256(pins_text).hexdigest()
        pins = read_pins(pins_text.decode("utf-8"), PINS_FILE)
        tool = next(pin for pin in pins if pin.name == TOOL)
        root = (args.cache or cache_dir()).resolve() / f"{TOOL}-{upstream_version(tool)}" / "root"
        if is_current(root, pins_sha256):
            log(f"{TOOL} {tool.version} is in place")
        else:
            check_host()
            install(root, pins, pins_sha256)
            log(f"{TOOL} {tool.version} ready in {root}")
    except (FetchError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_cargo_auditable: error: {error}", file=sys.stderr)
        return 1
    print(root / BINARY)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
