"""Whether the SBOM, the component's embedded `.dep-v0` and Cargo.lock name the same crates.

A component carries three records of what it is made of: the SBOM next to it,
the `.dep-v0` inside it, and the Cargo.lock it was built with. They are made
from one crate inventory, so they agree unless one was swapped, edited or
comes from another build. The rules:

- the crates the SBOM lists as linked (scope `required`) are exactly the
  `.dep-v0`'s runtime packages, by name and version. The `.dep-v0`'s root
  package is the component itself, which the SBOM describes in its metadata
  rather than as a crate, so it is not compared; its build packages are the
  SBOM's excluded crates, which no rule compares;
- every crate of either list, root and build packages included, is in
  Cargo.lock with the same version.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from wasm_attest.cargo_lock import CargoLock
from wasm_attest.dep_v0 import BUILD, RUNTIME, DependencyList
from wasm_attest.errors import WasmAttestError
from wasm_attest.sbom_crates import SbomCrate

LINKED_SCOPE = "required"
"""The CycloneDX scope the SBOM gives a crate linked into the component."""
ROOT = "root"
"""How a disagreement names the `.dep-v0`'s root package, the component's own."""

_KIND_STRENGTH = {None: 0, BUILD: 1, RUNTIME: 2, ROOT: 3}


@dataclass(frozen=True)
class CrateDisagreement:
    """One crate version that the three records do not list alike."""

    name: str
    version: str
    in_sbom: bool
    """Whether the SBOM lists this version as linked."""
    dep_v0_kind: str | None
    """How the `.dep-v0` lists this version: ROOT, "runtime", "build", or None when it does not list it."""
    lockfile_versions: tuple[str, ...]
    """Every version of the crate Cargo.lock lists; empty when it lists none."""

    @property
    def sbom_and_dep_v0_differ(self) -> bool:
        """Whether one of the SBOM and the `.dep-v0` lists this version as linked and the other does not."""
        return self.dep_v0_kind != ROOT and self.in_sbom != (self.dep_v0_kind == RUNTIME)

    @property
    def missing_from_lockfile(self) -> bool:
        return self.version not in self.lockfile_versions

    @property
    def message(self) -> str:
        """One line for people, e.g. `itoa 1.0.1: version differs: SBOM 1.0.1, Cargo.lock 1.0.3`."""
        problems = []
        if self.sbom_and_dep_v0_differ:
            problems.append(self._sbom_vs_dep_v0())
        if self.missing_from_lockfile:
            problems.append(self._vs_lockfile())
        return f"{self.name} {self.version}: " + "; ".join(problems)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "in_sbom": self.in_sbom,
            "dep_v0_kind": self.dep_v0_kind,
            "lockfile_versions": list(self.lockfile_versions),
            "message": self.message,
        }

    def _sbom_vs_dep_v0(self) -> str:
        if self.in_sbom and self.dep_v0_kind == BUILD:
            return "linked in the SBOM, a build dependency in the component's .dep-v0"
        if self.in_sbom:
            return "in the SBOM, not in the component's .dep-v0"
        return "in the component's .dep-v0, not in the SBOM"

    def _vs_lockfile(self) -> str:
        records = " and ".join(record for record, present in self._records() if present)
        if self.lockfile_versions:
            return f"version differs: {records} {self.version}, Cargo.lock {', '.join(self.lockfile_versions)}"
        return f"in the {records}, not in Cargo.lock"

    def _records(self) -> tuple[tuple[str, bool], ...]:
        return (("SBOM", self.in_sbom), (".dep-v0", self.dep_v0_kind is not None))


class DependencyMismatch(WasmAttestError):
    """The SBOM, the component's `.dep-v0` and Cargo.lock do not list the same crates."""

    def __init__(self, disagreements: tuple[CrateDisagreement, ...]) -> None:
        lines = "\n".join(f"  {disagreement.message}" for disagreement in disagreements)
        super().__init__(
            f"the SBOM, the component's embedded .dep-v0 and Cargo.lock disagree on {len(disagreements)} crate "
            f"version(s):\n{lines}\nThey must come from one build: rebuild the component, or find which file was replaced."
        )
        self.disagreements = disagreements


def dependency_disagreements(
    *, sbom_crates: Sequence[SbomCrate], embedded: DependencyList, lockfile: CargoLock
) -> tuple[CrateDisagreement, ...]:
    """Every crate version the three records do not list alike, ordered by name and version."""
    linked = {(crate.name, crate.version) for crate in sbom_crates if crate.scope == LINKED_SCOPE}
    dep_v0_kinds: dict[tuple[str, str], str] = {}
    for package in embedded.packages:
        kind = ROOT if package.root else package.kind
        key = (package.name, package.version)
        # Listed more than once (from two sources, say), the strongest kind counts.
        if _KIND_STRENGTH[kind] > _KIND_STRENGTH[dep_v0_kinds.get(key)]:
            dep_v0_kinds[key] = kind
    locked: dict[str, set[str]] = defaultdict(set)
    for package in lockfile.packages:
        locked[package.name].add(package.version)
    disagreements = []
    for name, version in sorted(linked | set(dep_v0_kinds)):
        disagreement = CrateDisagreement(
            name=name,
            version=version,
            in_sbom=(name, version) in linked,
            dep_v0_kind=dep_v0_kinds.get((name, version)),
            lockfile_versions=tuple(sorted(locked.get(name, ()))),
        )
        if disagreement.sbom_and_dep_v0_differ or disagreement.missing_from_lockfile:
            disagreements.append(disagreement)
    return tuple(disagreements)


def check_dependency_agreement(*, sbom_crates: Sequence[SbomCrate], embedded: DependencyList, lockfile: CargoLock) -> None:
    """Raises DependencyMismatch, listing every disagreement, unless the three records agree."""
    disagreements = dependency_disagreements(sbom_crates=sbom_crates, embedded=embedded, lockfile=lockfile)
    if disagreements:
        raise DependencyMismatch(disagreements)

