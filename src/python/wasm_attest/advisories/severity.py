"""Severity of an advisory, from its CVSS vector (computed by the `cvss` library, v3.x and v4.0).

The ranks are CVSS's qualitative ratings. An advisory without a vector has
`unknown` severity, which the policy treats as reaching any threshold: not
knowing how bad a vulnerability is must not let it through.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

import cvss


class Severity(Enum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Order for thresholds; `unknown` ranks above `critical` so every threshold catches it."""
        return _RANKS[self]


_RANKS = {
    Severity.NONE: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
    Severity.UNKNOWN: 5,
}


@dataclass(frozen=True)
class Score:
    """A CVSS base score and the method it was computed by (`CVSSv31`, `CVSSv4`, ...), for the attestation."""

    method: str
    score: float


def severity_of(vector: str | None) -> Severity:
    """The qualitative severity of a CVSS vector; raises ValueError for a malformed one."""
    score = base_score(vector)
    if score is None:
        return Severity.UNKNOWN
    if score.score == 0:
        return Severity.NONE
    if score.score < 4:
        return Severity.LOW
    if score.score < 7:
        return Severity.MEDIUM
    if score.score < 9:
        return Severity.HIGH
    return Severity.CRITICAL


@functools.lru_cache(maxsize=4096)  # real databases repeat a few hundred vectors across ~1,000 advisories
def base_score(vector: str | None) -> Score | None:
    """The base score of a `CVSS:3.x/...` or `CVSS:4.0/...` vector, None without one."""
    if not vector:
        return None
    try:
        if vector.startswith("CVSS:4.0/"):
            return Score("CVSSv4", float(cvss.CVSS4(vector).base_score))
        if vector.startswith("CVSS:3."):
            return Score("CVSSv3" + vector[len("CVSS:3.") : len("CVSS:3.") + 1], float(cvss.CVSS3(vector).base_score))
    except cvss.CVSSError as error:
        raise ValueError(str(error)) from None
    raise ValueError("only CVSS 3.x and 4.0 vectors are supported")
