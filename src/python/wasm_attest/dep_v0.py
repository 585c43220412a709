"""cargo-auditable's `.dep-v0` dependency list: what scanners read to audit a Rust binary.

cargo audit, trivy, syft, osv-scanner and `wasm-tools metadata show` find a
binary's crates in a custom section named `.dep-v0` holding zlib-compressed
JSON, in the format cargo-auditable defines (its `auditable-serde` crate):

    {"packages":[{"name":"app","version":"0.1.0","source":"local",
                  "dependencies":[1],"root":true},
                 {"name":"serde","version":"1.0.152","source":"crates.io"}],
     "format":1}

Each package has a name, a semver version, a source ("crates.io", "git",
"local", "registry"), a kind ("runtime", left out, or "build"), the indices of
its dependencies in `packages` (left out when empty) and `root` (left out when
false). `format` says where the list came from; format 1 means proc-macros and
their dependencies are recorded as build dependencies, which holds here.

wasm-attest writes the list from the same crate inventory as the SBOM (see
`crate_inventory`): the root package, every crate linked into the component
(kind "runtime") and every crate compiled only for the host, build scripts'
dependencies, proc-macros and what they use (kind "build"), so scanners see
what cargo-auditable would show them. The check against the SBOM compares
only the runtime entries with the SBOM's linked crates (`dependency_agreement`).

Packages are ordered as cargo-auditable orders them (by name, then by the text
of cargo's package id, i.e. source then version), dependency indices are
sorted, the JSON is compact with cargo-auditable's field order, and it is
compressed at zlib's highest level (cargo-auditable uses 7; 9 saves a little
on large lists and any zlib reader decodes both), so one inventory always
gives the same bytes. Reading is for untrusted files: decompression stops at a cap (8
MiB by default, the limit cargo-auditable's own reader uses), and the JSON is
checked for types, index ranges, a single root and cycles before use.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping

from wasm_attest.crate_inventory import Crate, CrateId, CrateInventory
from wasm_attest.errors import WasmAttestError

SECTION_NAME = ".dep-v0"
RUNTIME = "runtime"
BUILD = "build"
FORMAT = 1
"""cargo-auditable's format 1: like metadata-based lists, with proc-macros correctly recorded as build-time."""
DEFAULT_MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024
"""The most a `.dep-v0` may decompress to; cargo-auditable's reader uses the same cap."""

_COMPRESSION_LEVEL = 9
_CRATES_IO_SOURCES = frozenset(
    {"registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/"}
)
_KINDS = frozenset({RUNTIME, BUILD})
_REBUILD = "the component was damaged or not built by wasm-attest or cargo auditable; rebuild it."
# semver.org's grammar: MAJOR.MINOR.PATCH, an optional pre-release and optional build metadata.
_NUMBER = r"(?:0|[1-9][0-9]*)"
_IDENTIFIER = r"(?:[0-9A-Za-z-]+)"
_SEMVER = re.compile(
    rf"{_NUMBER}\.{_NUMBER}\.{_NUMBER}(?:-{_IDENTIFIER}(?:\.{_IDENTIFIER})*)?(?:\+{_IDENTIFIER}(?:\.{_IDENTIFIER})*)?"
)


class DepV0Error(WasmAttestError):
    """A `.dep-v0` section cannot be read, or a dependency list cannot be written as one."""


@dataclass(frozen=True)
class AuditablePackage:
    """One package of a `.dep-v0` list; `dependencies` are indices into the list's packages."""

    name: str
    version: str
    source: str
    """"crates.io", "git", "local" or "registry" (other values may appear in lists others wrote)."""
    kind: str = RUNTIME
    """"runtime" when linked into the binary, "build" when only the build used it."""
    dependencies: tuple[int, ...] = ()
    root: bool = False


@dataclass(frozen=True)
class DependencyList:
    """A whole `.dep-v0` list."""

    packages: tuple[AuditablePackage, ...]
    format: int | None
    """cargo-auditable's format revision; None when the list does not say (it then means 0)."""

    @property
    def root(self) -> AuditablePackage | None:
        return next((package for package in self.packages if package.root), None)


def dependency_list(inventory: CrateInventory) -> DependencyList:
    """The `.dep-v0` list of the component whose crates `inventory` lists."""
    crates = sorted((inventory.root, *inventory.crates), key=_cargo_auditable_order)
    index = {crate.id: position for position, crate in enumerate(crates)}
    packages = tuple(
        AuditablePackage(
            name=crate.id.name,
            version=crate.id.version,
            source=auditable_source(crate.id),
            kind=RUNTIME if crate.linked else BUILD,
            dependencies=tuple(sorted(index[dependency] for dependency in crate.dependencies)),
            root=crate.id == inventory.root.id,
        )
        for crate in crates
    )
    return DependencyList(packages=packages, format=FORMAT)


def auditable_source(crate: CrateId) -> str:
    """The `.dep-v0` name of where a crate comes from: "crates.io", "git", "local" or "registry"."""
    if crate.source is None:
        return "local"
    if crate.source in _CRATES_IO_SOURCES:
        return "crates.io"
    if crate.source.startswith(("registry+", "sparse+")):
        return "registry"
    return crate.source.partition("+")[0]


def encode_dep_v0(deps: DependencyList) -> bytes:
    """The `.dep-v0` section payload of `deps`: compact JSON, zlib-compressed, the same bytes every time."""
    problem = _problem(deps)
    if problem:
        raise DepV0Error(f"the dependency list cannot be embedded: {problem}.")
    document: dict[str, Any] = {"packages": [_package_json(package) for package in deps.packages]}
    if deps.format is not None:
        document["format"] = deps.format
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode("utf-8"), _COMPRESSION_LEVEL)


def decode_dep_v0(payload: bytes, *, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> DependencyList:
    """Reads a `.dep-v0` section payload, refusing anything that is not a valid list of at most the cap's size."""
    text = _decompress(payload, max_decompressed_bytes)
    try:
        document = json.loads(text.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise DepV0Error(f"the .dep-v0 section is not UTF-8 JSON ({_brief(error)}); {_REBUILD}") from None
    deps = _dependency_list(document)
    problem = _problem(deps)
    if problem:
        raise _invalid(problem)
    return deps


def _cargo_auditable_order(crate: Crate) -> tuple[str, str, str]:
    """By name, then like cargo's package id `SOURCE#NAME@VERSION` (path crates' ids start with `path+`)."""
    return (crate.id.name, crate.id.source or "path+", crate.id.version)


def _package_json(package: AuditablePackage) -> dict[str, Any]:
    """The package in auditable-serde's field order, leaving out fields that have their default value."""
    entry: dict[str, Any] = {"name": package.name, "version": package.version, "source": package.source}
    if package.kind != RUNTIME:
        entry["kind"] = package.kind
    if package.dependencies:
        entry["dependencies"] = sorted(package.dependencies)
    if package.root:
        entry["root"] = True
    return entry


def _decompress(payload: bytes, limit: int) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        # Asking for one byte more than the cap tells a list at the cap from one beyond it, and never inflates more.
        text = decompressor.decompress(payload, limit + 1)
    except zlib.error as error:
        raise DepV0Error(f"the .dep-v0 section is not zlib data ({error}); {_REBUILD}") from None
    if len(text) > limit:
        raise DepV0Error(
            f"the .dep-v0 section decompresses to more than {limit} bytes, which no real dependency list needs; "
            "it may be a decompression bomb, so it was not read."
        )
    if not decompressor.eof:
        raise DepV0Error(f"the .dep-v0 section's zlib data is cut short; {_REBUILD}")
    if decompressor.unused_data:
        raise DepV0Error(f"the .dep-v0 section has {len(decompressor.unused_data)} bytes after its zlib data; {_REBUILD}")
    return text


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _brief(error: BaseException) -> str:
    return str(error)[:200] or type(error).__name__


def _dependency_list(document: object) -> DependencyList:
    if not isinstance(document, dict):
        raise _invalid("the JSON is not an object")
    packages = document.get("packages")
    if not isinstance(packages, list):
        raise _invalid('"packages" is missing or not an array')
    format_ = document.get("format")
    if format_ is not None and not _is_u32(format_):
        raise _invalid(f'"format" is {format_!r}, not a non-negative integer')
    return DependencyList(
        packages=tuple(_package(entry, position) for position, entry in enumerate(packages)), format=format_
    )


def _package(entry: object, position: int) -> AuditablePackage:
    where = f"package {position}"
    if not isinstance(entry, dict):
        raise _invalid(f"{where} is not an object")
    name, version, source = (_text(entry, key, where) for key in ("name", "version", "source"))
    kind = entry.get("kind", RUNTIME)
    dependencies = entry.get("dependencies", [])
    root = entry.get("root", False)
    if kind not in _KINDS:
        raise _invalid(f'{where} ({name}) has kind {kind!r}, not "runtime" or "build"')
    if not isinstance(dependencies, list) or not all(map(_is_u32, dependencies)):
        raise _invalid(f'{where} ({name}) has "dependencies" that are not an array of package indices')
    if not isinstance(root, bool):
        raise _invalid(f'{where} ({name}) has "root" {root!r}, not true or false')
    return AuditablePackage(
        name=name, version=version, source=source, kind=kind, dependencies=tuple(dependencies), root=root
    )


def _text(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(f'{where} has no "{key}" text')
    return value


def _is_u32(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF


def _invalid(problem: str) -> DepV0Error:
    return DepV0Error(f"the .dep-v0 section is not a valid dependency list: {problem}; {_REBUILD}")


def _problem(deps: DependencyList) -> str | None:
    """What makes `deps` an invalid list (the rules auditable-serde enforces, and index ranges), or None."""
    count = len(deps.packages)
    for position, package in enumerate(deps.packages):
        label = f"package {position} ({package.name} {package.version})"
        if not _SEMVER.fullmatch(package.version):
            return f"{label} has a version that is not semver"
        if package.kind not in _KINDS:
            return f'{label} has kind {package.kind!r}, not "runtime" or "build"'
        outside = [index for index in package.dependencies if not 0 <= index < count]
        if outside:
            return f"{label} depends on package index {outside[0]}, but the list has {count} packages"
    roots = sum(package.root for package in deps.packages)
    if roots > 1:
        return f"{roots} packages are marked as the root; a list has at most one"
    cycle = _package_in_cycle(deps)
    if cycle is not None:
        package = deps.packages[cycle]
        return f"the dependencies form a cycle through package {cycle} ({package.name} {package.version})"
    return None


def _package_in_cycle(deps: DependencyList) -> int | None:
    """A package on a dependency cycle, or None; Kahn's algorithm, so hostile input cannot exhaust the stack."""
    dependents: list[list[int]] = [[] for _ in deps.packages]
    waiting_on = [0] * len(deps.packages)
    for position, package in enumerate(deps.packages):
        for dependency in set(package.dependencies):
            dependents[dependency].append(position)
            waiting_on[position] += 1
    ready = [position for position, count in enumerate(waiting_on) if count == 0]
    while ready:
        for dependent in dependents[ready.pop()]:
            waiting_on[dependent] -= 1
            if waiting_on[dependent] == 0:
                ready.append(dependent)
    return next((position for position, count in enumerate(waiting_on) if count), None)
