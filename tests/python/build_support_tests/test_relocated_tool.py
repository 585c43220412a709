"""The shared recipe behind fetch_cargo_audit.py and fetch_cargo_auditable.py: what it refuses before any download."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_attest_setup.relocated_tool import FetchError, RelocatedTool, upstream_version
from wasm_attest_setup.debian_packages import Pin

PINS = """\
sid cargo-auditable 0.7.7-1 6fb94d236a75a7b6ede440837af76c67f1145fd2ab45daa3252b92685d1ee056
trixie libc6 2.41-12+deb13u4 967aa62605721081c3eb2a17650611a792aa802d76a6511d1840242623d204c9
trixie libgcc-s1 14.2.0-19 3c71917b490d1a17aed43196a2787a256ecf060526cdb20216a74bedc061b150
bookworm patchelf 0.14.3-1+b1 0364b90e81faabbb9569076063952c7bcbf07f83d954a2f2602a163d65be60e6
"""


def _tool(pins_file: Path) -> RelocatedTool:
    return RelocatedTool(name="cargo-auditable", pins_file=pins_file, starts=lambda binary: False, log=lambda _: None)


def test_complete_pins_are_read() -> None:
    pins = _tool(Path("packages.txt")).read_pins(PINS, Path("packages.txt"))
    assert sorted(pin.name for pin in pins) == ["cargo-auditable", "libc6", "libgcc-s1", "patchelf"]


@pytest.mark.parametrize(
    "pins",
    [
        PINS.replace("trixie libc6", "# trixie libc6"),  # a library missing: the binary could not load
        PINS + "sid cosign 3.1.1-1 " + "0" * 64 + "\n",  # a package the recipe does not know what to do with
    ],
)
def test_pins_naming_other_packages_are_refused_before_any_download(pins: str, tmp_path: Path) -> None:
    pins_file = tmp_path / "packages.txt"
    pins_file.write_text(pins)
    with pytest.raises(FetchError, match="must pin exactly these packages, once each: cargo-auditable, libc6"):
        _tool(pins_file).ensure(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_upstream_version_drops_epoch_and_debian_revision() -> None:
    assert upstream_version(Pin("sid", "cargo-audit", "1:0.22.2-1+b3", "0" * 64)) == "0.22.2"
