"""Fetch bubblewrap's `bwrap` from its pinned Debian package; print the binary's path.

Why this exists: every cargo process of a `wasm_component` build runs crate code
(build scripts, proc-macros) that the project did not write, so the build step
runs it inside `bwrap`: new user, PID, network, IPC, UTS and cgroup namespaces and
a mount namespace holding only the Pants sandbox and the read-only toolchain (see
pants-plugins/wasm_component/cargo_in_sandbox.sh). Pants gives the binary to each
build as a pinned input digest (`[wasm-sandbox]` in pants.toml), like the
toolchain, so this script only has to put the exact binary where the pin's URL
points, without installing anything system-wide:

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/sandbox/bwrap-<version>

It downloads the .deb pinned in pins/sandbox.txt with debian_packages.py
(private apt lists; the sha256 is checked
before anything is unpacked), unpacks it, and moves `usr/bin/bwrap` into place
atomically. A second run finds the binary and does nothing. Debian builds the
package reproducibly, so the binary's sha256 pinned in pants.toml is the same on
every machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from wasm_attest_setup import debian_packages
from wasm_attest_setup.cache import cache_dir

PINS_FILE = Path(__file__).resolve().parent / "pins" / "sandbox.txt"
PACKAGE = "bubblewrap"
BINARY = Path("usr/bin/bwrap")


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the path callers read."""
    print(f"fetch_bubblewrap: {message}", file=sys.stderr, flush=True)


def read_pin() -> debian_packages.Pin:
    """The one bubblewrap pin of pins/sandbox.txt."""
    pins = debian_packages.parse_pins(PINS_FILE.read_text(encoding="utf-8"), PINS_FILE)
    if [pin.name for pin in pins] != [PACKAGE]:
        raise debian_packages.SetupError(f"{PINS_FILE} must pin exactly one package, {PACKAGE}")
    return pins[0]


def fetch(pin: debian_packages.Pin, dest: Path) -> None:
    """Download, check and unpack the .deb in a scratch folder, then move the binary to dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fetch_bubblewrap-") as scratch:
        work = Path(scratch)
        debs = debian_packages.fetch_debs([pin], work / "debs", work / "apt", pin_set="sandbox")
        debian_packages.unpack_deb(pin, debs[pin], work / "root")
        staged = dest.with_name(f".{dest.name}.new")
        shutil.copyfile(work / "root" / BINARY, staged)
        staged.chmod(0o755)
        os.replace(staged, dest)


def install(dest: Path) -> None:
    """Put the pinned bwrap at dest unless a file is there already (its pin is checked by Pants)."""
    pin = read_pin()
    if dest.is_file():
        log(f"{dest} is in place")
    else:
        log(f"fetching {pin.name} {pin.version} from Debian {pin.suite}")
        fetch(pin, dest)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out",
        type=Path,
        help="folder to put bwrap-<version> in (default: <the set-up cache>/sandbox)",
    )
    args = parser.parse_args(argv)
    try:
        dest = (args.out or cache_dir() / "sandbox") / f"bwrap-{read_pin().version}"
        install(dest)
    except (debian_packages.SetupError, OSError) as error:
        print(f"fetch_bubblewrap: error: {error}", file=sys.stderr)
        return 1
    print(dest)
    return 0
