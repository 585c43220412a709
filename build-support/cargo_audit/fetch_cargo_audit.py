#!/usr/bin/env python3
"""Fetch a runnable cargo-audit from pinned Debian packages; print its path.

Why this exists: the end-to-end tests cross-check wasm-attest's advisory gate
with `cargo audit bin`, RustSec's own scanner, on the same fixture database
and the same components. sid's cargo-audit 0.22 reads the `.dep-v0` our
components carry, but needs glibc >= 2.39 where bookworm has 2.36: the same
problem, and the same cure, as cargo-auditable's (fetch_cargo_auditable.py,
whose host check and helpers this reuses). The .debs pinned in packages.txt
beside this script (sid's cargo-audit, trixie's libc6 and libgcc-s1) are
fetched with build-support/debian_packages.py (sha256 checked before
unpacking) into

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/cargo-audit-<version>/root/

and the binary is pointed at trixie's loader and libraries with patchelf.
The last line on stdout is the path of the runnable `cargo-audit` (run it as
`cargo-audit audit ...`). A second run reuses the folder when its stamp
records the current packages.txt and the binary still starts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cargo_auditable"))

from wasm_attest_setup import debian_packages  # noqa: E402 (needs the sys.path entry above)
from fetch_cargo_auditable import FetchError, check_host, upstream_version  # noqa: E402
from wasm_attest_setup.cache import cache_dir  # noqa: E402

PINS_FILE = Path(__file__).resolve().with_name("packages.txt")
PIN_SET = "cargo-audit"
TOOL = "cargo-audit"
PATCHELF = "patchelf"
LIBC_PACKAGES = ("libc6", "libgcc-s1")
BINARY = Path("usr/bin") / TOOL
LIBDIR = Path("usr/lib/x86_64-linux-gnu")
LOADER = LIBDIR / "ld-linux-x86-64.so.2"
STAMP_NAME = ".packages-sha256"


def log(message: str) -> None:
    print(f"fetch_cargo_audit: {message}", file=sys.stderr, flush=True)


def read_pins(text: str, path: Path) -> list[debian_packages.Pin]:
    pins = debian_packages.parse_pins(text, path)
    expected = sorted((TOOL, PATCHELF, *LIBC_PACKAGES))
    if sorted(pin.name for pin in pins) != expected:
        raise FetchError(f"{path.name} must pin exactly these packages, once each: {', '.join(expected)}")
    return pins


def starts(binary: Path) -> bool:
    """`cargo-audit --version` proves the loader, glibc and libgcc_s resolve."""
    if not binary.is_file():
        return False
    try:
        return subprocess.run([str(binary), "--version"], capture_output=True, check=False, env={}).returncode == 0
    except OSError:
        return False


def install(root: Path, pins: Sequence[debian_packages.Pin], pins_sha256: str) -> None:
    """Unpack beside root, patch, swap in, and stamp only once the binary starts."""
    home = root.parent
    home.mkdir(parents=True, exist_ok=True)
    host_patchelf = shutil.which(PATCHELF)
    wanted = [pin for pin in pins if pin.name != PATCHELF or host_patchelf is None]
    with tempfile.TemporaryDirectory(prefix=".work-", dir=home) as scratch:
        work = Path(scratch)
        staging = work / "root"
        staging.mkdir()
        log("fetching " + ", ".join(f"{pin.name} {pin.version} ({pin.suite})" for pin in wanted))
        fetched = debian_packages.fetch_debs(wanted, home / "debs", work / "apt", pin_set=PIN_SET)
        for pin, deb in sorted(fetched.items(), key=lambda item: item[0].name):
            debian_packages.unpack_deb(pin, deb, work / PATCHELF if pin.name == PATCHELF else staging)
        for required in (BINARY, LOADER, LIBDIR / "libc.so.6", LIBDIR / "libgcc_s.so.1"):
            if not (staging / required).is_file():
                raise FetchError(f"the pinned packages did not provide /{required}")
        patchelf = Path(host_patchelf) if host_patchelf else work / PATCHELF / "usr" / "bin" / PATCHELF
        runpath = "$ORIGIN/" + os.path.relpath(LIBDIR, BINARY.parent)
        debian_packages.run(
            [patchelf, "--set-interpreter", root / LOADER, "--set-rpath", runpath, staging / BINARY],
            what=f"patchelf on {TOOL}",
        )
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    if not starts(root / BINARY):
        raise FetchError(f"{root / BINARY} does not start after patching; run it by hand to see the loader's error")
    (root / STAMP_NAME).write_text(pins_sha256 + "\n", encoding="ascii")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="the set-up cache to install into (default: as ./pants uses it)")
    cache = parser.parse_args(argv).cache
    try:
        pins_text = PINS_FILE.read_bytes()
        pins_sha256 = hashlib.sha256(pins_text).hexdigest()
        pins = read_pins(pins_text.decode("utf-8"), PINS_FILE)
        tool = next(pin for pin in pins if pin.name == TOOL)
        root = (cache or cache_dir()).resolve() / f"{TOOL}-{upstream_version(tool)}" / "root"
        stamp = root / STAMP_NAME
        if stamp.is_file() and stamp.read_text(encoding="ascii").strip() == pins_sha256 and starts(root / BINARY):
            log(f"{TOOL} {tool.version} is in place")
        else:
            check_host()
            install(root, pins, pins_sha256)
            log(f"{TOOL} {tool.version} ready in {root}")
    except (FetchError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_cargo_audit: error: {error}", file=sys.stderr)
        return 1
    print(root / BINARY)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
