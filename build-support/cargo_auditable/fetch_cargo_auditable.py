#!/usr/bin/env python3
"""Fetch a runnable cargo-auditable from pinned Debian packages; print its path.

Why this exists: benchmarks/cargo_auditable_comparison.py compares the
`.dep-v0` section our build embeds with the one cargo-auditable, the tool
that defined the format, embeds into the same components. No Debian release
this project's machines run ships a usable cargo-auditable: bookworm has none,
trixie's 0.6.6 is built without wasm support. sid's 0.7.7 works, but needs
glibc >= 2.39 where bookworm has 2.36, so the .debs pinned in packages.txt
beside this script (sid's cargo-auditable, trixie's libc6 and libgcc-s1,
patchelf) are fetched, checked against their sha256 pins and patched by
`wasm_attest_setup.relocated_tool` into

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/cargo-auditable-<version>/root/

Nothing is installed system-wide. The last line on stdout is the path of the
runnable `cargo-auditable`; cargo finds it as a subcommand (`cargo auditable
build`) when its folder is on PATH. Progress goes to stderr. A second run
reuses the folder when its stamp records the current packages.txt and the
binary still starts, so it costs a few milliseconds and never runs apt.
"""

from __future__ import annotations

import argparse
import shutil
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
    print(f"fetch_cargo_auditable: {message}", file=sys.stderr, flush=True)


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
        result = subprocess.run([str(binary), "auditable"], env={"CARGO": true}, capture_output=True, check=False)
    except OSError:
        return False
    return result.returncode == 0


CARGO_AUDITABLE = RelocatedTool(
    name="cargo-auditable", pins_file=Path(__file__).resolve().with_name("packages.txt"), starts=starts, log=log
)


def main(argv: Sequence[str]) -> int:
    """Entry point: print the binary's path, fetching it first unless it is already in place."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cache", type=Path, help="the folder that receives cargo-auditable-<version>/ (default: the cache ./pants uses)"
    )
    cache = parser.parse_args(argv).cache
    try:
        binary = CARGO_AUDITABLE.ensure(cache or cache_dir())
    except (FetchError, debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_cargo_auditable: error: {error}", file=sys.stderr)
        return 1
    print(binary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
