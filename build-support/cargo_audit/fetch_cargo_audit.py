#!/usr/bin/env python3
"""Fetch a runnable cargo-audit from pinned Debian packages; print its path.

Why this exists: the end-to-end tests cross-check wasm-attest's advisory gate
with `cargo audit bin`, RustSec's own scanner, on the same fixture database
and the same components. sid's cargo-audit 0.22 reads the `.dep-v0` our
components carry, but needs glibc >= 2.39 where bookworm has 2.36: the same
problem, and the same cure (`wasm_attest_setup.relocated_tool`), as
cargo-auditable's. The .debs pinned in packages.txt beside this script (sid's
cargo-audit, trixie's libc6 and libgcc-s1, patchelf) are checked against their
sha256 pins and unpacked into

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/cargo-audit-<version>/root/

The last line on stdout is the path of the runnable `cargo-audit` (run it as
`cargo-audit audit ...`). A second run reuses the folder when its stamp
records the current packages.txt and the binary still starts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# Run as a file, this script finds the set-up package in src/python.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "python"))

from wasm_attest_setup import debian_packages  # noqa: E402 (needs the sys.path entry above)
from wasm_attest_setup.cache import cache_dir  # noqa: E402
from wasm_attest_setup.relocated_tool import FetchError, RelocatedTool  # noqa: E402


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the path callers read."""
    print(f"fetch_cargo_audit: {message}", file=sys.stderr, flush=True)


def starts(binary: Path) -> bool:
    """`cargo-audit --version` proves the loader, glibc and libgcc_s resolve."""
    if not binary.is_file():
        return False
    try:
        return subprocess.run([str(binary), "--version"], capture_output=True, check=False, env={}).returncode == 0
    except OSError:
        return False


CARGO_AUDIT = RelocatedTool(
    name="cargo-audit", pins_file=Path(__file__).resolve().with_name("packages.txt"), starts=starts, log=log
)


def main(argv: Sequence[str]) -> int:
    """Entry point: print the binary's path, fetching it first unless it is already in place."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="the set-up cache to install into (default: as ./pants uses it)")
    cache = parser.parse_args(argv).cache
    try:
        binary = CARGO_AUDIT.ensure(cache or cache_dir())
    except (FetchError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_cargo_audit: error: {error}", file=sys.stderr)
        return 1
    print(binary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
