"""Decide how pins move to what their suites offer now, and rewrite packages.txt.

Why this exists: build-support/repin.py must change a pin only when Debian
no longer offers its version, to the version the same suite offers instead,
and must refuse (rather than guess) whenever that is not a plain replacement:
a package gone from its suite, or a suite that offers only older versions.
These decisions and the text rewrite are pure functions of recorded index
data, so they are tested without a network. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from wasm_attest_setup import debian_index
from wasm_attest_setup.debian_packages import Pin, SetupError


@dataclass(frozen=True)
class Change:
    """A pin whose version Debian replaced, and the pin that replaces it."""

    old: Pin
    new: Pin
    size: int

    def describe(self) -> str:
        """One summary line: package, suite, old version -> new version."""
        return f"{self.old.name} ({self.old.suite}): {self.old.version} -> {self.new.version}"


@dataclass(frozen=True)
class Plan:
    """What re-pinning one packages.txt would do, or why it cannot."""

    changes: tuple[Change, ...]
    problems: tuple[str, ...]


def plan_updates(
    pins: Sequence[Pin], offers: Mapping[tuple[str, str], Sequence[debian_index.Offer]]
) -> Plan:
    """Keep every pin still offered; move every other one to its suite's newest version.

    offers maps (suite, package name) to what the suite's index lists. A pin
    still offered is checked against the index's SHA256, so a pin that never
    matched what Debian publishes is caught here rather than at download.
    """
    changes: list[Change] = []
    problems: list[str] = []
    for pin in pins:
        offered = offers.get((pin.suite, pin.name), ())
        current = [offer for offer in offered if offer.version == pin.version]
        if current:
            if current[0].sha256 != pin.sha256:
                problems.append(
                    f"{pin.name} {pin.version} ({pin.suite}): pinned sha256 {pin.sha256} but "
                    f"the signed index lists {current[0].sha256}"
                )
            continue
        if not offered:
            problems.append(
                f"{pin.name} ({pin.suite}): the suite no longer has this package (renamed or "
                "removed); choose its replacement by hand"
            )
            continue
        best = debian_index.newest(offered)
        if debian_index.compare_versions(best.version, pin.version) < 0:
            problems.append(
                f"{pin.name} ({pin.suite}): the suite offers only {best.version}, older than "
                f"the pinned {pin.version}; choose a suite by hand"
            )
            continue
        new = replace(pin, version=best.version, sha256=best.sha256)
        changes.append(Change(pin, new, best.size))
    return Plan(tuple(changes), tuple(problems))


def rewrite_pins(text: str, changes: Sequence[Change]) -> str:
    """Return packages.txt with each changed pin's line rewritten; comments and order stay.

    Fails if a change's pin is not found exactly once, so a file edited since
    it was read is never half-updated.
    """
    by_pin = {change.old: change.new for change in changes}
    found: dict[Pin, int] = {pin: 0 for pin in by_pin}
    lines = []
    for line in text.splitlines(keepends=True):
        fields = line.split()
        pin = Pin(*fields) if len(fields) == 4 and not line.lstrip().startswith("#") else None
        if pin in by_pin:
            found[pin] += 1
            new = by_pin[pin]
            indent = line[: len(line) - len(line.lstrip())]
            ending = line[len(line.rstrip("\r\n")) :]
            line = f"{indent}{new.suite} {new.name} {new.version} {new.sha256}{ending}"
        lines.append(line)
    wrong = [pin for pin, count in found.items() if count != 1]
    if wrong:
        raise SetupError(
            "cannot rewrite the pins file: "
            + ", ".join(f"{pin.name} {pin.version} appears {found[pin]} times" for pin in wrong)
        )
    return "".join(lines)
