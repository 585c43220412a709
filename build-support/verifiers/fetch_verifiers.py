#!/usr/bin/env python3
"""Fetch the reference verifiers and OCI tools from pinned Debian packages.

Why this exists: an attestation is only worth something if tools nobody here
wrote accept it. The end-to-end tests run in-toto's Go verifier on every
testproject's layout and links, and cosign on the Sigstore bundles of its
provenance and SBOM; they publish to a real OCI registry (Distribution's
`docker-registry`) and judge what is there with `oras` and cosign. Only
docker-registry is in bookworm; sid ships the others. All four are Go binaries
that need only glibc >= 2.34 (bookworm has 2.36), so they run as unpacked. The
script downloads the .debs pinned in packages.txt beside it with
build-support/debian_packages.py (private apt lists; the sha256 is checked
before anything is unpacked) and puts the binaries into

    ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}/verifiers/<first 16 hex digits of the sha256 of packages.txt>/

Nothing is installed system-wide. A second run finds the folder complete and
does nothing. Its stdout is one `<name> <path>` line per verifier (progress
goes to stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Mapping

# Run as a file, this script has only its own folder on sys.path; the set-up package it
# shares with the toolchain and registry scripts lives in src/python/wasm_attest_setup.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "python"))

from wasm_attest_setup import debian_packages  # noqa: E402 (needs the sys.path entry above)
from wasm_attest_setup.cache import cache_dir  # noqa: E402

PINS_FILE = Path(__file__).resolve().with_name("packages.txt")
PIN_SET = "verifiers"
# Package -> the binary it ships that the tests run.
BINARIES = {
    "in-toto-golang": Path("usr/bin/in-toto-golang"),
    "cosign": Path("usr/bin/cosign"),
    "oras": Path("usr/bin/oras"),
    "docker-registry": Path("usr/bin/docker-registry"),
}


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the paths callers read."""
    print(f"fetch_verifiers: {message}", file=sys.stderr, flush=True)


def read_pins(text: str) -> list[debian_packages.Pin]:
    """The pins of packages.txt, which must be exactly the packages of BINARIES, once each."""
    pins = debian_packages.parse_pins(text, PINS_FILE)
    if sorted(pin.name for pin in pins) != sorted(BINARIES):
        raise debian_packages.SetupError(f"{PINS_FILE} must pin exactly these packages, once each: {', '.join(sorted(BINARIES))}")
    return pins


def install(pins: list[debian_packages.Pin], dest: Path) -> None:
    """Download, check and unpack the .debs in a scratch folder, then move the binaries into dest at once."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch_verifiers-", dir=dest.parent) as scratch:
        work = Path(scratch)
        debs = debian_packages.fetch_debs(pins, dest.parent / "debs", work / "apt", pin_set=PIN_SET)
        staged = work / "bin"
        staged.mkdir()
        for pin in pins:
            debian_packages.unpack_deb(pin, debs[pin], work / pin.name)
            binary = work / pin.name / BINARIES[pin.name]
            if not binary.is_file():
                raise debian_packages.SetupError(f"{pin.name} {pin.version} did not provide /{BINARIES[pin.name]}")
            shutil.copyfile(binary, staged / pin.name)
            (staged / pin.name).chmod(0o755)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(staged, dest)


def paths(dest: Path) -> Mapping[str, Path]:
    """Each verifier's binary in dest, by name."""
    return {name: dest / name for name in sorted(BINARIES)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="the folder that receives verifiers/ (default: the cache ./pants uses)")
    args = parser.parse_args(argv)
    try:
        text = PINS_FILE.read_bytes()
        pins = read_pins(text.decode("utf-8"))
        dest = (args.cache or cache_dir()).resolve() / "verifiers" / hashlib.sha256(text).hexdigest()[:16]
        if all(path.is_file() for path in paths(dest).values()):
            log(f"{', '.join(sorted(BINARIES))} are in place in {dest}")
        else:
            log("fetching " + ", ".join(f"{pin.name} {pin.version} ({pin.suite})" for pin in pins))
            install(pins, dest)
    except (debian_packages.SetupError, OSError, UnicodeDecodeError) as error:
        print(f"fetch_verifiers: error: {error}", file=sys.stderr)
        return 1
    for name, path in paths(dest).items():
        print(f"{name} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
