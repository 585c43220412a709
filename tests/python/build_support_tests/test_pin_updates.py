"""Which pins move, to what, and how packages.txt is rewritten (recorded indexes, no network)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wasm_attest_setup import debian_index, debian_packages
import pin_updates
from wasm_attest_setup.debian_packages import Pin, SetupError

TESTDATA = Path(__file__).parent / "testdata"
PINS_FILE = TESTDATA / "cargo_auditable_packages.txt"
OLD_LIBC_SHA256 = "967aa62605721081c3eb2a17650611a792aa802d76a6511d1840242623d204c9"
NEW_LIBC_SHA256 = "b59b0625cd1a791375d40dab23a4d5d3d0641e3d0a773501becdc3725b7f99cf"


def recorded_pins() -> list[Pin]:
    """The file's pins this excerpt of the lists covers (sid's is not in it)."""
    pins = debian_packages.parse_pins(PINS_FILE.read_text(), PINS_FILE)
    return [pin for pin in pins if pin.suite != "sid"]


def offers_for(pins: list[Pin]) -> dict[tuple[str, str], list[debian_index.Offer]]:
    return debian_index.read_offers(TESTDATA / "lists", [(pin.suite, pin.name) for pin in pins])


def test_a_replaced_pin_moves_to_the_offered_version_and_its_index_sha256() -> None:
    pins = recorded_pins()
    plan = pin_updates.plan_updates(pins, offers_for(pins))
    assert plan.problems == ()
    [change] = plan.changes
    assert change.old.version == "2.41-12+deb13u4"
    assert change.new == replace(change.old, version="2.41-12+deb13u5", sha256=NEW_LIBC_SHA256)
    assert change.size == 2850108
    assert change.describe() == "libc6 (trixie): 2.41-12+deb13u4 -> 2.41-12+deb13u5"


def test_pins_still_offered_do_not_change() -> None:
    pins = [pin for pin in recorded_pins() if pin.name != "libc6"]
    assert pin_updates.plan_updates(pins, offers_for(pins)) == pin_updates.Plan((), ())


def test_a_package_gone_from_its_suite_needs_a_human() -> None:
    gone = Pin("bookworm", "librust-gone-dev", "1.0-1", "0" * 64)
    plan = pin_updates.plan_updates([gone], offers_for([gone]))
    assert plan.changes == ()
    [problem] = plan.problems
    assert "librust-gone-dev (bookworm): the suite no longer has this package" in problem


def test_an_older_offer_is_not_a_replacement() -> None:
    newer = Pin("bookworm", "patchelf", "0.18.0-1", "0" * 64)
    [problem] = pin_updates.plan_updates([newer], offers_for([newer])).problems
    assert "offers only 0.14.3-1+b1, older than the pinned 0.18.0-1" in problem


def test_a_pin_whose_sha256_differs_from_the_signed_index_is_reported() -> None:
    wrong = Pin("bookworm", "patchelf", "0.14.3-1+b1", "f" * 64)
    [problem] = pin_updates.plan_updates([wrong], offers_for([wrong])).problems
    assert "the signed index lists 0364b90e" in problem


def test_rewrite_keeps_comments_blank_lines_and_order() -> None:
    text = PINS_FILE.read_text()
    pins = recorded_pins()
    changes = pin_updates.plan_updates(pins, offers_for(pins)).changes
    rewritten = pin_updates.rewrite_pins(text, changes)
    old_lines, new_lines = text.splitlines(), rewritten.splitlines()
    changed = [(old, new) for old, new in zip(old_lines, new_lines) if old != new]
    assert len(old_lines) == len(new_lines)
    assert changed == [
        (
            f"trixie libc6 2.41-12+deb13u4 {OLD_LIBC_SHA256}",
            f"trixie libc6 2.41-12+deb13u5 {NEW_LIBC_SHA256}",
        )
    ]
    assert rewritten.endswith("\n")


def test_rewrite_refuses_a_pin_the_file_does_not_hold() -> None:
    absent = Pin("bookworm", "librust-absent-dev", "1.0-1", "0" * 64)
    change = pin_updates.Change(absent, replace(absent, version="1.0-2"), 1)
    with pytest.raises(SetupError, match="librust-absent-dev 1.0-1 appears 0 times"):
        pin_updates.rewrite_pins(PINS_FILE.read_text(), [change])
