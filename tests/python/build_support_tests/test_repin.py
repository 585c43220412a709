"""The re-pin command end to end on a sample repository, with apt and the build faked."""

from __future__ import annotations

import hashlib
import shutil
import stat
from pathlib import Path

import pytest

import repin
from wasm_attest_setup import debian_packages
from wasm_attest_setup.debian_packages import Pin

LISTS = Path(__file__).parent / "testdata" / "lists"
OLD_SHA = "f667cecfc7583724f66ae36bf4d2d87570055f07ec310e27c3100d288e4c3bc0"
RUSTC_U2_SHA = "8fefe1d6377fe4082f5a9d2a47e095e2d20319eaab9754bd2f0275155c9adf90"
CURRENT_RUSTC = f"bookworm-security rustc-web 1.96.0+dfsg1-1~deb12u2 {RUSTC_U2_SHA}\n"
# deb12u1 is no longer in the recorded bookworm-security index: the re-pin moves it to deb12u2.
STALE_RUSTC = "bookworm-security rustc-web 1.96.0+dfsg1-1~deb12u1 " + "1" * 64 + "\n"
PATCHELF_SHA = "0364b90e81faabbb9569076063952c7bcbf07f83d954a2f2602a163d65be60e6"
PATCHELF = f"bookworm patchelf 0.14.3-1+b1 {PATCHELF_SHA}\n"
LIBGCC_SHA = "3c71917b490d1a17aed43196a2787a256ecf060526cdb20216a74bedc061b150"
HOST = "host wasm-component-ld 0.5.21 " + "e" * 64 + "\n"
SUBSYSTEM = f'default_known_versions = [\n    "1.96.0|linux_x86_64|{OLD_SHA}|182301438",\n]\n'
BWRAP_SHA = "3cc9134a3286ad01a323dcd924ba123eb634cefaeec82d774257e06308aeaadb"
CURRENT_BWRAP = f"bookworm bubblewrap 0.8.0-2+deb12u1 {BWRAP_SHA}\n"
# 0.8.0-2 is what bookworm shipped before the recorded index's 0.8.0-2+deb12u1 replaced it.
STALE_BWRAP = "bookworm bubblewrap 0.8.0-2 " + "2" * 64 + "\n"
OLD_BWRAP_ENTRY = f"0.8.0-2|linux_x86_64|{'d' * 64}|71000"
SANDBOX_SUBSYSTEM = f'default_version = "0.8.0-2"\ndefault_known_versions = ["{OLD_BWRAP_ENTRY}"]\n'
LAUNCHER = 'readonly BUBBLEWRAP_VERSION="0.8.0-2"  # as pinned\n'
# What the faked unpack puts at usr/bin/bwrap.
BWRAP = b"bwrap binary"
BWRAP_ENTRY = f"0.8.0-2+deb12u1|linux_x86_64|{hashlib.sha256(BWRAP).hexdigest()}|{len(BWRAP)}"


def write_repository(root: Path, rustc_line: str, bwrap_line: str = CURRENT_BWRAP) -> None:
    """A repository holding just what the re-pin reads and writes."""
    files = {
        "src/python/wasm_attest_setup/pins/toolchain.txt": f"# the toolchain\n{rustc_line}{PATCHELF}{HOST}",
        "src/python/wasm_attest_setup/pins/registry.txt": "# crates\n" + PATCHELF,
        "build-support/cargo_auditable/packages.txt": f"trixie libgcc-s1 14.2.0-19 {LIBGCC_SHA}\n",
        "build-support/cargo_audit/packages.txt": f"trixie libgcc-s1 14.2.0-19 {LIBGCC_SHA}\n",
        "src/python/wasm_attest_setup/pins/sandbox.txt": "# bwrap\n" + bwrap_line,
        "build-support/verifiers/packages.txt": "# reference verifiers\n" + PATCHELF,
        "pants.toml": "[GLOBAL]\n",
        "pants": LAUNCHER,
        "pants-plugins/wasm_component/subsystems/toolchain.py": SUBSYSTEM,
        "pants-plugins/wasm_component/subsystems/sandbox.py": SANDBOX_SUBSYSTEM,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[Pin]:
    """Serve the recorded lists instead of `apt-get update`, and record downloads."""
    fetched: list[Pin] = []

    def update(apt_dir: Path, _suites: object) -> list[str]:
        shutil.copytree(LISTS, apt_dir / "lists")
        return []

    monkeypatch.setattr(debian_packages, "update_private_apt_lists", update)
    monkeypatch.setattr(debian_packages, "download_debs", lambda pins, _c, _o: fetched.extend(pins))
    return fetched


@pytest.fixture
def unpacked(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Stand in for `dpkg-deb -x`: lay out BWRAP as the package does; record which .debs."""
    debs: list[Path] = []

    def unpack(_pin: Pin, deb: Path, dest: Path) -> None:
        debs.append(deb)
        binary = dest / "usr" / "bin" / "bwrap"
        binary.parent.mkdir(parents=True)
        binary.write_bytes(BWRAP)
        binary.chmod(0o644)

    monkeypatch.setattr(debian_packages, "unpack_deb", unpack)
    return debs


def fake_build(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """Stand in for build_toolchain.py: an archive of the same Rust release."""
    built = root / "built" / "wasm32-wasip2-rust-1.96.0.tar.gz"
    built.parent.mkdir()
    built.write_bytes(b"archive")
    monkeypatch.setattr(repin, "build_archive", lambda _text, _work: (built, "c" * 64, 7))
    return built


def run(root: Path, which: str, cache: Path) -> int:
    chosen = [pin_set for pin_set in repin.pin_sets(root) if which in (pin_set.name, "all")]
    return repin.repin(chosen, root, dry_run=False, cache=cache)


def snapshot(root: Path) -> dict[str, str]:
    files = (path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): path.read_text() for path in files}


def test_all_pins_current_changes_nothing(
    tmp_path: Path, downloads: list[Pin], capsys: pytest.CaptureFixture[str]
) -> None:
    write_repository(tmp_path, CURRENT_RUSTC)
    before = snapshot(tmp_path)
    assert run(tmp_path, "all", tmp_path / "cache") == 0
    assert snapshot(tmp_path) == before
    assert downloads == []
    assert "all pins current" in capsys.readouterr().out


def test_toolchain_repin_rewrites_pins_and_archive_pin(
    tmp_path: Path, downloads: list[Pin], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_repository(tmp_path, STALE_RUSTC)
    built = fake_build(monkeypatch, tmp_path)
    assert run(tmp_path, "toolchain", tmp_path / "cache") == 0
    assert [pin.version for pin in downloads] == ["1.96.0+dfsg1-1~deb12u2"]
    pins = (tmp_path / "src/python/wasm_attest_setup/pins/toolchain.txt").read_text()
    assert pins.startswith("# the toolchain\n")
    assert f"bookworm-security rustc-web 1.96.0+dfsg1-1~deb12u2 {RUSTC_U2_SHA}\n" in pins
    subsystem = (tmp_path / "pants-plugins/wasm_component/subsystems/toolchain.py").read_text()
    assert f'"1.96.0|linux_x86_64|{"c" * 64}|7"' in subsystem
    assert (tmp_path / "cache" / "toolchain" / built.name).read_bytes() == b"archive"
    assert (tmp_path / "pants.toml").read_text() == "[GLOBAL]\n"


def test_a_failed_build_writes_nothing(
    tmp_path: Path, downloads: list[Pin], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_repository(tmp_path, STALE_RUSTC)
    before = snapshot(tmp_path)

    def fail(_text: str, _work: Path) -> None:
        raise debian_packages.SetupError("build_toolchain.py failed")

    monkeypatch.setattr(repin, "build_archive", fail)
    with pytest.raises(debian_packages.SetupError):
        run(tmp_path, "all", tmp_path / "cache")
    assert snapshot(tmp_path) == before


def test_a_pin_needing_a_human_stops_everything(tmp_path: Path, downloads: list[Pin]) -> None:
    write_repository(tmp_path, CURRENT_RUSTC)
    registry = tmp_path / "src/python/wasm_attest_setup/pins/registry.txt"
    registry.write_text(registry.read_text() + "bookworm librust-gone-dev 1.0-1 " + "0" * 64 + "\n")
    before = snapshot(tmp_path)
    with pytest.raises(debian_packages.SetupError, match="registry: librust-gone-dev"):
        run(tmp_path, "all", tmp_path / "cache")
    assert snapshot(tmp_path) == before and downloads == []


def test_sandbox_repin_moves_the_deb_pin_and_every_bwrap_pin(
    tmp_path: Path, downloads: list[Pin], unpacked: list[Path]
) -> None:
    write_repository(tmp_path, CURRENT_RUSTC, STALE_BWRAP)
    assert run(tmp_path, "sandbox", tmp_path / "cache") == 0
    [new_pin] = downloads
    assert (new_pin.version, new_pin.sha256) == ("0.8.0-2+deb12u1", BWRAP_SHA)
    assert [deb.name for deb in unpacked] == ["bubblewrap_0.8.0-2+deb12u1.deb"]
    pins = (tmp_path / "src/python/wasm_attest_setup/pins/sandbox.txt").read_text()
    assert pins == "# bwrap\n" + CURRENT_BWRAP
    subsystem = (tmp_path / "pants-plugins/wasm_component/subsystems/sandbox.py").read_text()
    assert subsystem == SANDBOX_SUBSYSTEM.replace('"0.8.0-2"', '"0.8.0-2+deb12u1"').replace(
        OLD_BWRAP_ENTRY, BWRAP_ENTRY
    )
    launcher = (tmp_path / "pants").read_text()
    assert launcher == 'readonly BUBBLEWRAP_VERSION="0.8.0-2+deb12u1"  # as pinned\n'
    assert (tmp_path / "pants.toml").read_text() == "[GLOBAL]\n"
    cached = tmp_path / "cache" / "sandbox" / "bwrap-0.8.0-2+deb12u1"
    assert cached.read_bytes() == BWRAP
    assert stat.S_IMODE(cached.stat().st_mode) == 0o755


def test_all_keeps_the_toolchains_and_the_sandboxs_edits_of_pants_toml(
    tmp_path: Path, downloads: list[Pin], unpacked: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_repository(tmp_path, STALE_RUSTC, STALE_BWRAP)
    toml = (
        f'[wasm-toolchain]\nknown_versions = ["1.96.0|linux_x86_64|{OLD_SHA}|182301438"]\n\n'
        f'[wasm-sandbox]\nversion = "0.8.0-2"\nknown_versions = ["{OLD_BWRAP_ENTRY}"]\n'
    )
    (tmp_path / "pants.toml").write_text(toml)
    fake_build(monkeypatch, tmp_path)
    assert run(tmp_path, "all", tmp_path / "cache") == 0
    assert (tmp_path / "pants.toml").read_text() == (
        f'[wasm-toolchain]\nknown_versions = ["1.96.0|linux_x86_64|{"c" * 64}|7"]\n\n'
        f'[wasm-sandbox]\nversion = "0.8.0-2+deb12u1"\nknown_versions = ["{BWRAP_ENTRY}"]\n'
    )
    assert sorted(path.name for path in (tmp_path / "cache").rglob("*")) == [
        "bwrap-0.8.0-2+deb12u1", "sandbox", "toolchain", "wasm32-wasip2-rust-1.96.0.tar.gz"
    ]


def test_a_bwrap_pin_that_is_not_found_writes_nothing(
    tmp_path: Path, downloads: list[Pin], unpacked: list[Path]
) -> None:
    write_repository(tmp_path, CURRENT_RUSTC, STALE_BWRAP)
    (tmp_path / "pants").write_text('readonly BWRAP_VERSION="0.8.0-2"\n')
    before = snapshot(tmp_path)
    with pytest.raises(debian_packages.SetupError, match="pants: expected `readonly BUBBLEWRAP"):
        run(tmp_path, "sandbox", tmp_path / "cache")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "cache").exists()
