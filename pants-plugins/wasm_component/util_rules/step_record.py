"""What an attested step did, in the terms an in-toto link needs, taken from Pants' own data.

Materials and products are the SHA-256s Pants' digests already hold
(`DigestEntries`), so nothing is hashed twice; byproducts are the process's
exit code and the digests of its output streams.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from pants.engine.fs import DigestEntries, FileEntry
from pants.engine.process import FallibleProcessResult
from pants.util.frozendict import FrozenDict

from wasm_attest.component_pipeline import StepEvidence


@dataclass(frozen=True)
class StepRecord:
    """One step's command, inputs, outputs and byproducts."""

    command: tuple[str, ...]
    materials: FrozenDict[str, str]
    products: FrozenDict[str, str]
    return_value: int
    stdout_sha256: str
    stderr_sha256: str

    @classmethod
    def of_process(
        cls,
        command: tuple[str, ...],
        result: FallibleProcessResult,
        materials: FrozenDict[str, str],
        products: FrozenDict[str, str],
    ) -> StepRecord:
        return cls(
            command=command,
            materials=materials,
            products=products,
            return_value=result.exit_code,
            stdout_sha256=result.stdout_digest.fingerprint,
            stderr_sha256=result.stderr_digest.fingerprint,
        )

    def evidence(self, environment: Mapping[str, str]) -> StepEvidence:
        """This record as the core library's evidence for the step's link."""
        return StepEvidence(
            command=self.command,
            materials=self.materials,
            products=self.products,
            return_value=self.return_value,
            stdout_sha256=self.stdout_sha256,
            stderr_sha256=self.stderr_sha256,
            environment=environment,
        )


def file_hashes(entries: DigestEntries, *, strip: str = "", prefix: str = "") -> FrozenDict[str, str]:
    """Path -> sha256 of every file in `entries`, renamed from `strip/…` to `prefix/…`.

    Links name artifacts as a consumer sees them (relative to the cargo root,
    `vendor/…`, `toolchain/…`), not by where they sat in a sandbox.
    """
    hashes = {}
    for entry in entries:
        if isinstance(entry, FileEntry):
            path = os.path.relpath(entry.path, strip) if strip else entry.path
            hashes[os.path.join(prefix, path) if prefix else path] = entry.file_digest.fingerprint
    return FrozenDict(sorted(hashes.items()))


OUTSIDE_CARGO_ROOT = "@repo"


def source_hashes(entries: DigestEntries, cargo_root: str) -> FrozenDict[str, str]:
    """Path -> sha256 of repository files: relative to the cargo root, or `@repo/<repository path>` outside it.

    Artifact names must not contain `..`, yet a crate may use a path
    dependency outside its Cargo root (a shared library next to a standalone
    component). Those files keep their repository path under `@repo/`, a
    folder name Cargo roots do not use, so names stay normalised and readable.
    """
    inside = cargo_root + "/" if cargo_root else ""
    hashes = {}
    for entry in entries:
        if isinstance(entry, FileEntry):
            name = entry.path[len(inside) :] if entry.path.startswith(inside) else f"{OUTSIDE_CARGO_ROOT}/{entry.path}"
            hashes[name] = entry.file_digest.fingerprint
    return FrozenDict(sorted(hashes.items()))


def merged(*maps: FrozenDict[str, str]) -> FrozenDict[str, str]:
    """One path -> sha256 map from several disjoint ones, sorted by path."""
    combined: dict[str, str] = {}
    for mapping in maps:
        combined.update(mapping)
    return FrozenDict(sorted(combined.items()))
