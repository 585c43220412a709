"""The set-up's error for a pin Debian no longer offers (no network)."""

from __future__ import annotations

from pathlib import Path

from wasm_attest_setup import debian_index, debian_packages
from wasm_attest_setup.debian_packages import Pin, SetupError

LISTS = Path(__file__).parent / "testdata" / "lists"
OLD_LIBC_SHA256 = "967aa62605721081c3eb2a17650611a792aa802d76a6511d1840242623d204c9"
LIBGCC_SHA256 = "3c71917b490d1a17aed43196a2787a256ecf060526cdb20216a74bedc061b150"
OLD_LIBC = Pin("trixie", "libc6", "2.41-12+deb13u4", OLD_LIBC_SHA256)
LIBGCC = Pin("trixie", "libgcc-s1", "14.2.0-19", LIBGCC_SHA256)
GONE = Pin("trixie", "libgcc1", "1:14.2.0-19", "0" * 64)


def offers_for(*pins: Pin) -> dict[tuple[str, str], list[debian_index.Offer]]:
    return debian_index.read_offers(LISTS, [(pin.suite, pin.name) for pin in pins])


def test_message_names_package_pinned_and_offered_version_and_command() -> None:
    message = debian_packages.stale_pins_message(
        [OLD_LIBC, LIBGCC], offers_for(OLD_LIBC, LIBGCC), "cargo-auditable"
    )
    assert message is not None
    assert "libc6 pinned at 2.41-12+deb13u4: trixie now offers 2.41-12+deb13u5" in message
    assert "python3 build-support/repin.py cargo-auditable" in message
    assert "libgcc-s1" not in message  # still offered


def test_message_for_a_package_gone_from_its_suite() -> None:
    message = debian_packages.stale_pins_message([GONE], offers_for(GONE), "toolchain")
    assert message is not None
    assert "libgcc1 pinned at 1:14.2.0-19: trixie no longer has a package of that name" in message


def test_no_message_while_every_pin_is_offered() -> None:
    assert debian_packages.stale_pins_message([LIBGCC], offers_for(LIBGCC), "registry") is None


def test_download_failure_is_explained_from_the_lists() -> None:
    apt_error = SetupError("apt-get download failed (exit status 100):\nE: Version ... not found")
    error = debian_packages.explain_download_failure(
        apt_error, [OLD_LIBC, LIBGCC], LISTS, "cargo-auditable"
    )
    assert "trixie now offers 2.41-12+deb13u5" in str(error)


def test_other_download_failures_keep_apts_message(tmp_path: Path) -> None:
    apt_error = SetupError("apt-get download failed: Temporary failure resolving")
    assert debian_packages.explain_download_failure(apt_error, [LIBGCC], LISTS, "x") is apt_error
    # No lists at all (the update itself did not complete): apt's message too.
    assert debian_packages.explain_download_failure(apt_error, [LIBGCC], tmp_path, "x") is apt_error
