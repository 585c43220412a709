"""Cargo's version requirements (`>= 1.2.3, < 1.3`, `^0.2`, `~1`, `1.*`), as RustSec writes them.

Versions are parsed and ordered by `semantic_version` (SemVer 2.0 precedence,
prereleases included; setuptools-rust uses it for Rust versions). Its own
requirement classes are not Cargo's: a bare `1.2.3` means `==1.2.3` there
and `^1.2.3` in Cargo, and `^0`, `^0.0` match nothing there. So each
comparator is desugared here into the bounds the Cargo book's "Specifying
Dependencies" table gives, and the comparison of a version with a bound is
left to the library. Cargo's prerelease rule applies too: a prerelease version
matches only a requirement with a comparator that names a prerelease of the
same major.minor.patch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import semantic_version

from wasm_attest.errors import WasmAttestError

_COMPARATOR = re.compile(
    r"^(?P<op>=|>=|<=|>|<|~|\^)?\s*"
    r"(?P<major>\d+|\*|x|X)(?:\.(?P<minor>\d+|\*|x|X))?(?:\.(?P<patch>\d+|\*|x|X))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_WILDCARDS = {"*", "x", "X"}


class VersionRequirementError(WasmAttestError):
    """A version or requirement is not valid Cargo syntax."""


def parse_version(text: str) -> semantic_version.Version:
    """A crate version; build metadata (`+wasi-0.2.4`) is dropped because SemVer ignores it for precedence."""
    try:
        return semantic_version.Version(text.strip().split("+", 1)[0])
    except ValueError:
        raise VersionRequirementError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH[-PRE]).") from None


@dataclass(frozen=True)
class _Comparator:
    """One desugared comparator: `version` passes if every bound does."""

    bounds: tuple[tuple[str, semantic_version.Version], ...]
    prerelease_triple: tuple[int, int, int] | None
    """The major.minor.patch whose prereleases this comparator admits (it names a prerelease)."""

    def matches(self, version: semantic_version.Version) -> bool:
        return all(_OPERATORS[op](version, bound) for op, bound in self.bounds)


_OPERATORS: dict[str, Callable[[semantic_version.Version, semantic_version.Version], bool]] = {
    ">=": lambda version, bound: version >= bound,
    ">": lambda version, bound: version > bound,
    "<": lambda version, bound: version < bound,
    "<=": lambda version, bound: version <= bound,
    "=": lambda version, bound: version == bound,
}


@dataclass(frozen=True)
class VersionRequirement:
    """A comma-separated list of comparators, all of which a version must satisfy (Cargo's `VersionReq`)."""

    text: str
    comparators: tuple[_Comparator, ...]

    def matches(self, version: semantic_version.Version) -> bool:
        if version.prerelease:
            triple = (version.major, version.minor, version.patch)
            if not any(comparator.prerelease_triple == triple for comparator in self.comparators):
                return False
        return all(comparator.matches(version) for comparator in self.comparators)

    def __str__(self) -> str:
        return self.text


def parse_requirement(text: str) -> VersionRequirement:
    """Parses a Cargo requirement; `*` (or an empty string) matches every release."""
    parts = [part.strip() for part in text.split(",")]
    if text.strip() in ("", "*"):
        return VersionRequirement(text.strip() or "*", ())
    if any(not part for part in parts):
        raise VersionRequirementError(f"{text!r} has an empty comparator; separate comparators with single commas.")
    return VersionRequirement(text.strip(), tuple(_comparator(part, text) for part in parts))


def _comparator(part: str, text: str) -> _Comparator:
    match = _COMPARATOR.match(part)
    if match is None:
        raise VersionRequirementError(f"{part!r} in requirement {text!r} is not a Cargo version comparator.")
    op = match["op"] or "^"
    numbers = [match["major"], match["minor"], match["patch"]]
    given = []
    for number in numbers:
        if number is None or number in _WILDCARDS:
            break
        given.append(int(number))
    if any(number is not None and number not in _WILDCARDS for number in numbers[len(given) :]):
        raise VersionRequirementError(f"{part!r} in requirement {text!r} has a number after a wildcard.")
    if len(given) < 3 and any(number in _WILDCARDS for number in numbers if number is not None):
        if match["op"] not in (None, "="):
            raise VersionRequirementError(f"{part!r} in requirement {text!r} combines an operator with a wildcard.")
        op = "="
    pre = match["pre"]
    if pre and len(given) < 3:
        raise VersionRequirementError(f"{part!r} in requirement {text!r} names a prerelease of a partial version.")
    if not given:
        return _Comparator((), None)
    return _Comparator(_bounds(op, given, pre), tuple(given) if pre else None)  # type: ignore[arg-type]


def _v(major: int, minor: int = 0, patch: int = 0, pre: str | None = None) -> semantic_version.Version:
    return semantic_version.Version(major=major, minor=minor, patch=patch, prerelease=tuple(pre.split(".")) if pre else ())


def _bounds(op: str, given: list[int], pre: str | None) -> tuple[tuple[str, semantic_version.Version], ...]:
    """The Cargo book's desugaring of one comparator (partial versions included)."""
    major = given[0]
    if len(given) == 3:
        exact = _v(*given, pre=pre)
        minor, patch = given[1], given[2]
        if op in ("=", ">", ">=", "<", "<="):
            return ((op, exact),)
        if op == "~":
            return ((">=", exact), ("<", _v(major, minor + 1)))
        if major > 0:  # ^I.J.K
            return ((">=", exact), ("<", _v(major + 1)))
        if minor > 0:  # ^0.J.K
            return ((">=", exact), ("<", _v(0, minor + 1)))
        return ((">=", exact), ("<", _v(0, 0, patch + 1)))  # ^0.0.K
    if len(given) == 2:
        minor = given[1]
        upper_minor = _v(major, minor + 1)
        table = {
            "=": ((">=", _v(major, minor)), ("<", upper_minor)),
            ">": ((">=", upper_minor),),
            ">=": ((">=", _v(major, minor)),),
            "<": (("<", _v(major, minor)),),
            "<=": (("<", upper_minor),),
            "~": ((">=", _v(major, minor)), ("<", upper_minor)),
            "^": ((">=", _v(major, minor)), ("<", _v(major + 1) if major > 0 else upper_minor)),
        }
        return table[op]
    upper_major = _v(major + 1)
    table = {
        "=": ((">=", _v(major)), ("<", upper_major)),
        ">": ((">=", upper_major),),
        ">=": ((">=", _v(major)),),
        "<": (("<", _v(major)),),
        "<=": (("<", upper_major),),
        "~": ((">=", _v(major)), ("<", upper_major)),
        "^": ((">=", _v(major)), ("<", upper_major)),
    }
    return table[op]
