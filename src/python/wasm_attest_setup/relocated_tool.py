"""Make a newer Debian release's Rust tool run on an older host, without installing anything.

Why this exists: the comparison tools the tests and benchmarks use (sid's
cargo-audit and cargo-auditable) need glibc >= 2.39 where bookworm has 2.36.
Both are cured the same way: fetch the pinned .debs (the tool, trixie's libc6
and libgcc-s1, and patchelf for hosts without one) with `debian_packages`,
unpack them into one folder, and point the binary at that folder's loader (an
absolute path, so the folder cannot be moved afterwards) and libraries
(RUNPATH relative to the binary). Programs the tool starts keep running on the
host's own glibc.

The folder is `<cache>/<tool>-<upstream version>/root/`; it is built beside
that path and swapped in, and stamped with the sha256 of the pins file only
once the binary starts, so a failed run never leaves a stamped, half-made tool
and a second run costs a few milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wasm_attest_setup import debian_packages

PATCHELF = "patchelf"
LIBC_PACKAGES = ("libc6", "libgcc-s1")
LIBDIR = Path("usr/lib/x86_64-linux-gnu")
LOADER = LIBDIR / "ld-linux-x86-64.so.2"
# Dot-named, so it can never be mistaken for something the packages ship.
STAMP_NAME = ".packages-sha256"


class FetchError(Exception):
    """A failure with a message meant for the user; reported without a traceback."""


@dataclass(frozen=True)
class RelocatedTool:
    """One tool: its Debian package name, its pins file, and how to prove the patched binary runs."""

    name: str
    pins_file: Path
    starts: Callable[[Path], bool]
    """Given the binary's path, tell whether it loads and runs (without needing a Rust toolchain)."""
    log: Callable[[str], None]

    @property
    def binary(self) -> Path:
        return Path("usr/bin") / self.name

    def read_pins(self, text: str, path: Path) -> list[debian_packages.Pin]:
        """Parse the pins and check they name exactly the packages this recipe knows how to use."""
        pins = debian_packages.parse_pins(text, path)
        expected = sorted((self.name, PATCHELF, *LIBC_PACKAGES))
        if sorted(pin.name for pin in pins) != expected:
            raise FetchError(f"{path.name} must pin exactly these packages, once each: {', '.join(expected)}")
        return pins

    def ensure(self, cache: Path) -> Path:
        """Return the runnable binary under cache, fetching and patching it first unless it is in place."""
        pins_text = self.pins_file.read_bytes()
        pins_sha256 = hashlib.sha256(pins_text).hexdigest()
        pins = self.read_pins(pins_text.decode("utf-8"), self.pins_file)
        tool_pin = next(pin for pin in pins if pin.name == self.name)
        root = cache.resolve() / f"{self.name}-{upstream_version(tool_pin)}" / "root"
        if self._is_current(root, pins_sha256):
            self.log(f"{self.name} {tool_pin.version} is in place")
        else:
            check_host()
            self._install(root, pins, pins_sha256)
            self.log(f"{self.name} {tool_pin.version} ready in {root}")
        return root / self.binary

    def _is_current(self, root: Path, pins_sha256: str) -> bool:
        stamp = root / STAMP_NAME
        if not stamp.is_file() or stamp.read_text(encoding="ascii").strip() != pins_sha256:
            return False
        return self.starts(root / self.binary)

    def _install(self, root: Path, pins: Sequence[debian_packages.Pin], pins_sha256: str) -> None:
        home = root.parent
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".work-", dir=home) as scratch:
            work = Path(scratch)
            staging = work / "root"
            staging.mkdir()
            # The .debs stay in home/debs: a rerun after a pin change downloads only what changed.
            patchelf = self._unpack(pins, home / "debs", work, staging)
            runpath = "$ORIGIN/" + os.path.relpath(LIBDIR, self.binary.parent)
            debian_packages.run(
                [patchelf, "--set-interpreter", root / LOADER, "--set-rpath", runpath, staging / self.binary],
                what=f"patchelf on {self.name}",
            )
            shutil.rmtree(root, ignore_errors=True)
            staging.rename(root)
        if not self.starts(root / self.binary):
            raise FetchError(
                f"{root / self.binary} does not start after patching; run it by hand to see the loader's error"
            )
        (root / STAMP_NAME).write_text(pins_sha256 + "\n", encoding="ascii")

    def _unpack(self, pins: Sequence[debian_packages.Pin], debs: Path, work: Path, staging: Path) -> Path:
        """Fetch (or reuse) and verify the .debs and unpack them; return the patchelf to use.

        The pinned patchelf is fetched, into work, only when the host has none,
        in the same apt run, so package lists are downloaded once.
        """
        host_patchelf = shutil.which(PATCHELF)
        wanted = [pin for pin in pins if pin.name != PATCHELF or host_patchelf is None]
        self.log("fetching " + ", ".join(f"{pin.name} {pin.version} ({pin.suite})" for pin in wanted))
        fetched = debian_packages.fetch_debs(wanted, debs, work / "apt", pin_set=self.name)
        for pin, deb in sorted(fetched.items(), key=lambda item: item[0].name):
            debian_packages.unpack_deb(pin, deb, work / PATCHELF if pin.name == PATCHELF else staging)
        for required in (self.binary, LOADER, LIBDIR / "libc.so.6", LIBDIR / "libgcc_s.so.1"):
            if not (staging / required).is_file():
                raise FetchError(f"the pinned packages did not provide /{required}")
        return Path(host_patchelf) if host_patchelf else work / PATCHELF / "usr" / "bin" / PATCHELF


def upstream_version(pin: debian_packages.Pin) -> str:
    """Turn a Debian version (`[epoch:]upstream-revision`) into the upstream one: 1:0.7.7-1 -> 0.7.7."""
    return pin.version.split(":", 1)[-1].rsplit("-", 1)[0]


def check_host() -> None:
    """Fail early, naming every missing prerequisite, before any download."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise FetchError("the pinned .debs are for amd64: run this on x86_64 Linux")
    missing = [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        raise FetchError(f"missing host tools: {', '.join(missing)} (Debian packages apt, dpkg)")
