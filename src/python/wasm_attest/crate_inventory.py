"""Which crates a wasm32-wasip2 component is made of, taken from what cargo compiled.

Cargo.lock lists every crate any platform and any feature could need, so an
SBOM drawn from it claims crates the component never contained. This module
starts from the build instead: cargo's `compiler-artifact` messages say which
crates were compiled, and where each artifact was written says for which
platform. With `--target`, cargo writes target artifacts under
`<target-dir>/<triple>/` and host artifacts (build scripts, proc-macros, and
everything they use) directly under `<target-dir>/`; the messages carry no
other field that tells the two apart. A crate compiled for the target is
linked into the component; one compiled only for the host is build-only.

`cargo metadata --filter-platform <triple>` adds licences, repositories and the
dependency edges, and Cargo.lock the checksums. Metadata cannot decide what is
linked: it keeps an edge when any of its dependency kinds applies to the
target, so a `cfg(unix)` dependency that is also a build-dependency still
shows a normal edge, and a proc-macro's dependencies are normal edges too.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from operator import attrgetter
from pathlib import PurePosixPath
from typing import Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from wasm_attest.cargo_lock import CargoLock, LockedPackage
from wasm_attest.errors import WasmAttestError

BUILD_DEPENDENCY = "build-dependency"
"""Why a crate is build-only: a build script needs it."""
PROC_MACRO = "proc-macro"
"""Why a crate is build-only: it is a proc-macro, or a proc-macro needs it."""
HOST_DEPENDENCY = "host-dependency"
"""Why a crate is build-only when the target's metadata shows no path to it.

`cargo metadata --filter-platform` drops host-only platform dependencies
(say, a build-dependency's `cfg(unix)` dependency), yet cargo compiles them.
"""

# Cargo until 1.77: `serde 1.0.152 (registry+https://github.com/rust-lang/crates.io-index)`.
_LEGACY_PACKAGE_ID = re.compile(r"(?P<name>\S+) (?P<version>\S+) \((?P<source>\S+)\)")
_HOST_ONLY_KINDS = frozenset({"custom-build", "proc-macro"})
_BY_ID = attrgetter("sort_key")


class CrateInventoryError(WasmAttestError):
    """Cargo's metadata, build messages and Cargo.lock do not describe one build."""


@dataclass(frozen=True)
class CrateId:
    """A crate's identity, spelled the same in every cargo output and in every sandbox.

    `source` is the registry or git URL without the locked commit, or None for
    a path crate: its location is wherever the build ran, and Cargo.lock
    already identifies it by name and version alone.
    """

    name: str
    version: str
    source: str | None

    @property
    def is_in_repo(self) -> bool:
        """Whether the crate is a path crate of the repository rather than a fetched one."""
        return self.source is None

    @property
    def sort_key(self) -> tuple[str, str, str]:
        """Orders crates by name and version; `source` may be None, which does not compare with text."""
        return (self.name, self.version, self.source or "")


@dataclass(frozen=True)
class Crate:
    """One crate cargo compiled for the component."""

    id: CrateId
    locked: LockedPackage
    build_only_reasons: tuple[str, ...]
    """Empty for a linked crate; otherwise some of BUILD_DEPENDENCY, PROC_MACRO, HOST_DEPENDENCY."""
    license: str | None
    repository: str | None
    dependencies: tuple[CrateId, ...]
    """The compiled crates this one depends on, as a normal or build dependency."""

    @property
    def linked(self) -> bool:
        """Whether the crate is compiled into the component (rather than run on the host during the build)."""
        return not self.build_only_reasons


@dataclass(frozen=True)
class CrateInventory:
    """The component's own package and every other crate its build compiled."""

    root: Crate
    crates: tuple[Crate, ...]

    @property
    def linked(self) -> tuple[Crate, ...]:
        return tuple(crate for crate in self.crates if crate.linked)

    @property
    def build_only(self) -> tuple[Crate, ...]:
        return tuple(crate for crate in self.crates if not crate.linked)


@dataclass(frozen=True)
class _Artifact:
    crate: CrateId
    kinds: frozenset[str]
    for_target: bool


@dataclass(frozen=True)
class _Metadata:
    packages: Mapping[CrateId, Mapping[str, object]]
    edges: Mapping[CrateId, Mapping[CrateId, frozenset[str]]]
    workspace_members: tuple[CrateId, ...]


def parse_package_id(package_id: str) -> CrateId:
    """Reads a package id in any format cargo has printed.

    Cargo 1.77+ prints `SOURCE#NAME@VERSION`, or `SOURCE#VERSION` when the name
    is the last segment of the source's path (`path+file:///src/app#0.1.0`);
    older cargo prints `NAME VERSION (SOURCE)`.
    """
    legacy = _LEGACY_PACKAGE_ID.fullmatch(package_id)
    if legacy:
        return CrateId(legacy["name"], legacy["version"], _source_key(legacy["source"]))
    source, _, fragment = package_id.rpartition("#")
    name, at_sign, version = fragment.rpartition("@")
    if not at_sign:
        name = urlsplit(source).path.rstrip("/").rpartition("/")[2]
    if not (source and name and version):
        raise CrateInventoryError(
            f"cargo printed the package id {package_id!r}, which is in no format wasm-attest knows; "
            "report it with the output of `cargo --version`."
        )
    return CrateId(name, version, _source_key(source))


def _source_key(source: str | None) -> str | None:
    """The part of a source URL that names the same source on every machine."""
    if source is None or source.startswith("path+"):
        return None
    return source.partition("#")[0]


def crate_inventory(
    *, metadata_json: bytes, build_messages: bytes, lockfile: CargoLock, package: str, target_triple: str
) -> CrateInventory:
    """The crates of the component built from `package` for `target_triple`.

    `metadata_json` is the output of `cargo metadata --format-version 1
    --filter-platform TRIPLE`, `build_messages` the standard output of `cargo
    build --message-format=json...` and `lockfile` the Cargo.lock both ran with.
    """
    metadata = _parse_metadata(metadata_json)
    artifacts = _parse_build_messages(build_messages, target_triple)
    root = _root_id(metadata, package)
    for_target = {artifact.crate for artifact in artifacts if artifact.for_target}
    if root not in for_target:
        raise CrateInventoryError(
            f"the build messages show no artifact of {package} compiled for {target_triple}; "
            f"pass the output of `cargo build --target {target_triple} --message-format=json` for this package."
        )
    compiled = {artifact.crate for artifact in artifacts}
    dependencies = {crate: _compiled_dependencies(metadata, crate, compiled) for crate in compiled}
    reasons = _build_only_reasons(metadata, artifacts, dependencies, compiled - for_target)
    locked = _locked_packages(lockfile)
    crates = {
        crate_id: Crate(
            id=crate_id,
            locked=_locked(locked, crate_id),
            build_only_reasons=reasons.get(crate_id, ()),
            license=_package_str(metadata, crate_id, "license"),
            repository=_package_str(metadata, crate_id, "repository"),
            dependencies=tuple(sorted(dependencies[crate_id], key=_BY_ID)),
        )
        for crate_id in sorted(compiled, key=_BY_ID)
    }
    return CrateInventory(root=crates.pop(root), crates=tuple(crates.values()))


def _parse_metadata(metadata_json: bytes) -> _Metadata:
    try:
        document = json.loads(metadata_json)
        packages = {parse_package_id(package["id"]): package for package in document["packages"]}
        edges = {
            parse_package_id(node["id"]): {
                parse_package_id(dep["pkg"]): frozenset(kind["kind"] or "normal" for kind in dep["dep_kinds"])
                for dep in node["deps"]
            }
            for node in document["resolve"]["nodes"]
        }
        members = tuple(parse_package_id(member) for member in document["workspace_members"])
    except (ValueError, KeyError, TypeError) as error:
        raise CrateInventoryError(
            f"the cargo metadata is not the output of `cargo metadata --format-version 1` with dependencies "
            f"(unreadable at {error!r}); run it without --no-deps."
        ) from None
    return _Metadata(packages=packages, edges=edges, workspace_members=members)


def _parse_build_messages(build_messages: bytes, target_triple: str) -> tuple[_Artifact, ...]:
    return tuple(
        _artifact(message, target_triple)
        for message in _json_lines(build_messages)
        if message.get("reason") == "compiler-artifact"
    )


def _json_lines(build_messages: bytes) -> Iterator[dict]:
    """The JSON messages of cargo's standard output; cargo may print other lines there (a linker's, say)."""
    for number, line in enumerate(build_messages.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("{"):
            continue
        try:
            yield json.loads(line)
        except ValueError:
            raise CrateInventoryError(
                f"line {number} of the build messages is broken JSON; capture cargo's whole standard output."
            ) from None


def _artifact(message: dict, target_triple: str) -> _Artifact:
    try:
        kinds = frozenset(message["target"]["kind"])
        files = [PurePosixPath(name) for name in message["filenames"]]
        crate = parse_package_id(message["package_id"])
    except (KeyError, TypeError):
        raise CrateInventoryError(
            f"a compiler-artifact message lacks package_id, target.kind or filenames: {message!r}; "
            "capture the output of `cargo build --message-format=json`."
        ) from None
    for_target = any(target_triple in file.parts[:-1] for file in files)
    if for_target and kinds & _HOST_ONLY_KINDS:
        raise CrateInventoryError(
            f"the host artifact {files[0]} lies under a folder named {target_triple}, so host and target "
            f"artifacts cannot be told apart; build with a target directory whose path has no {target_triple} folder."
        )
    # A build script runs on the host whichever platform its crate is compiled for.
    return _Artifact(crate=crate, kinds=kinds, for_target=for_target and "custom-build" not in kinds)


def _root_id(metadata: _Metadata, package: str) -> CrateId:
    for member in metadata.workspace_members:
        if member.name == package:
            return member
    members = ", ".join(sorted(member.name for member in metadata.workspace_members))
    raise CrateInventoryError(
        f"cargo metadata lists no workspace member named {package} (members: {members}); "
        "name one of them as the package to build."
    )


def _compiled_dependencies(metadata: _Metadata, crate: CrateId, compiled: set[CrateId]) -> set[CrateId]:
    """The compiled dependencies of `crate`, leaving out dev-dependencies: `cargo build` compiles none."""
    return {
        dependency
        for dependency, kinds in metadata.edges.get(crate, {}).items()
        if dependency in compiled and kinds != {"dev"}
    }


def _build_only_reasons(
    metadata: _Metadata,
    artifacts: Iterable[_Artifact],
    dependencies: Mapping[CrateId, set[CrateId]],
    build_only: set[CrateId],
) -> dict[CrateId, tuple[str, ...]]:
    """Why each build-only crate was compiled: what it is, or what needs it, among build scripts and proc-macros."""
    proc_macros = {artifact.crate for artifact in artifacts if "proc-macro" in artifact.kinds}
    build_dependencies = {
        dependency
        for crate in dependencies
        for dependency, kinds in metadata.edges.get(crate, {}).items()
        if "build" in kinds and dependency in build_only
    }
    reasons: dict[CrateId, set[str]] = defaultdict(set)
    for reason, seeds in ((PROC_MACRO, proc_macros & build_only), (BUILD_DEPENDENCY, build_dependencies)):
        for crate in _reachable(seeds, dependencies, within=build_only):
            reasons[crate].add(reason)
    return {crate: tuple(sorted(reasons.get(crate, {HOST_DEPENDENCY}))) for crate in build_only}


def _reachable(
    seeds: set[CrateId], dependencies: Mapping[CrateId, set[CrateId]], *, within: set[CrateId]
) -> set[CrateId]:
    reached: set[CrateId] = set()
    pending = list(seeds)
    while pending:
        crate = pending.pop()
        if crate not in reached:
            reached.add(crate)
            pending.extend(dependencies[crate] & within)
    return reached


def _locked_packages(lockfile: CargoLock) -> dict[CrateId, LockedPackage]:
    return {
        CrateId(package.name, package.version, _source_key(package.source)): package for package in lockfile.packages
    }


def _locked(locked: Mapping[CrateId, LockedPackage], crate: CrateId) -> LockedPackage:
    try:
        return locked[crate]
    except KeyError:
        raise CrateInventoryError(
            f"the build compiled {crate.name} {crate.version}, which Cargo.lock does not list; "
            "give the Cargo.lock the build ran with (`cargo build --locked`)."
        ) from None


def _package_str(metadata: _Metadata, crate: CrateId, field: str) -> str | None:
    """A text field of the crate's package in cargo metadata; None when empty or when the package is not listed."""
    value = metadata.packages.get(crate, {}).get(field)
    return value if isinstance(value, str) and value else None
