"""The vendor step: `cargo vendor --locked` of exactly the crates a Cargo.lock names.

Its input is the lockfile and the Cargo.toml files of the Cargo root's
workspace only (with empty stand-in targets), never a crate's code, and it is
the same request for every component built in that root: editing code does not
re-vendor, and the components of a workspace share one vendoring (Pants runs
identical processes once). The build step then runs offline on the result. It
runs even when nothing is locked from a registry: `--locked` makes it the
check that Cargo.lock still matches the manifests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    Directory,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.frozendict import FrozenDict

from wasm_attest.cargo_lock import CargoLock
from wasm_attest.cargo_manifest import CargoManifestError, parse_cargo_manifest
from wasm_component.subsystems.registry import CargoRegistrySubsystem, CrateSource
from wasm_component.util_rules.cargo_process import CargoProcess, cargo_diagnostics
from wasm_component.util_rules.cargo_project import WasmComponentTargetError
from wasm_component.util_rules.cargo_workspace import CargoWorkspace, stand_in_targets
from wasm_component.util_rules.step_record import StepRecord, file_hashes, merged, source_hashes

VENDOR_DIR = "vendor"
_REGISTRY_MOUNT = "__registry"
_CARGO_HOME_CACHE = FrozenDict({"wasm_attest_cargo_home": ".cargo-home"})


class VendoringError(WasmComponentTargetError):
    """The locked crates cannot be vendored."""


@dataclass(frozen=True)
class VendorRequest:
    """The crates locked by the workspace's Cargo.lock, which `workspace.digest` holds with the Cargo.toml files."""

    workspace: CargoWorkspace
    lockfile: CargoLock


@dataclass(frozen=True)
class VendoredCrates:
    """`vendor/<name>-<version>/` for every registry crate of the lockfile, and how it was made."""

    digest: Digest
    record: StepRecord


async def _renamed_crate_folders(directory: str, wanted: set[str]) -> dict[str, str]:
    """`<name>-<version>` -> folder, for wanted crates whose folder is named otherwise.

    cargo identifies a directory source's crates by their Cargo.toml, not by
    folder name, and registries do not always follow the `<name>-<version>`
    convention (Debian unpacks crate `md-5` into `md-0.10.1/`). Reading every
    manifest is the slow path, so it runs only for crates not found by name.
    """
    manifests = await Get(DigestContents, PathGlobs([os.path.join(directory, "*", "Cargo.toml")]))
    found = {}
    for entry in manifests:
        try:
            manifest = parse_cargo_manifest(entry.content.decode(errors="replace"), origin=entry.path)
        except CargoManifestError:
            continue  # a broken manifest of some other crate is not this build's concern
        key = f"{manifest.package_name}-{manifest.package_version}"
        if key in wanted:
            found[key] = os.path.basename(os.path.dirname(entry.path))
    return found


async def _locked_crates_from_directory(directory: str, lockfile: CargoLock, lockfile_path: str) -> Digest:
    """The registry folders of exactly the locked crates, under `__registry/`; fails naming any missing crate."""
    if not directory:
        raise VendoringError(
            '[cargo-registry].source is "directory" but [cargo-registry].directory is not set: '
            "set it to the registry's path relative to the build root."
        )
    wanted = {package.directory_name: package for package in lockfile.registry_packages}
    snapshot = await Get(
        Snapshot, PathGlobs([os.path.join(directory, name, "**") for name in sorted(wanted)])
    )
    present = {os.path.relpath(path, directory).split(os.sep, 1)[0] for path in snapshot.files}
    missing = set(wanted) - present
    crate_digests = [snapshot.digest]
    if missing:
        renamed = await _renamed_crate_folders(directory, missing)
        if renamed:
            crate_digests.append(
                await Get(Digest, PathGlobs([os.path.join(directory, folder, "**") for folder in sorted(renamed.values())]))
            )
        missing -= renamed.keys()
    if missing:
        listing = ", ".join(f"{wanted[name].name} {wanted[name].version}" for name in sorted(missing))
        raise VendoringError(
            f"{lockfile_path} locks crates that the registry at {directory}/ does not have: {listing}. "
            "Add them to the registry (their Debian packages to the [wasm-setup].registry_pins "
            "file, then run `pants wasm-setup`), or lock versions the registry has."
        )
    crates = await Get(Digest, RemovePrefix(await Get(Digest, MergeDigests(crate_digests)), directory))
    mounted = await Get(Digest, AddPrefix(crates, _REGISTRY_MOUNT))
    # The folder must exist even when nothing is locked, or cargo cannot open the source.
    mount_point = await Get(Digest, CreateDigest([Directory(_REGISTRY_MOUNT)]))
    return await Get(Digest, MergeDigests([mounted, mount_point]))


@rule(desc="Vendor locked crates")
async def vendor_crates(request: VendorRequest, registry: CargoRegistrySubsystem) -> VendoredCrates:
    root = request.workspace.root
    lockfile_path = request.workspace.lockfile_path
    stand_ins = await Get(Digest, stand_in_targets(request.workspace.crates))
    registry_crates = EMPTY_DIGEST
    source_dir = None
    if registry.source == CrateSource.DIRECTORY:
        registry_crates = await _locked_crates_from_directory(registry.directory, request.lockfile, lockfile_path)
        source_dir = _REGISTRY_MOUNT
    vendor_mount_point = await Get(Digest, CreateDigest([Directory(VENDOR_DIR)]))
    offline = ("--offline",) if source_dir else ()
    args = (
        "vendor",
        "--locked",
        *offline,
        "--versioned-dirs",
        "--respect-source-config",
        os.path.relpath(VENDOR_DIR, root or "."),
    )
    process = await Get(
        Process,
        CargoProcess(
            crate_dir=root,
            args=args,
            input_digest=await Get(
                Digest, MergeDigests([request.workspace.digest, stand_ins, registry_crates, vendor_mount_point])
            ),
            description=f"Vendor crates for {root or 'the build root'} (Cargo.lock)",
            source_dir=source_dir,
            output_directories=(VENDOR_DIR,),
            append_only_caches=FrozenDict() if source_dir else _CARGO_HOME_CACHE,
            isolated=source_dir is not None,
        ),
    )
    result = await Get(FallibleProcessResult, Process, process)
    if result.exit_code != 0:
        diagnostics = cargo_diagnostics(result.stderr)
        raise VendoringError(
            f"Vendoring the crates locked in {lockfile_path} failed (cargo exited {result.exit_code}):\n"
            f"{diagnostics}\n\n{vendoring_hint(diagnostics, lockfile_path, root)}"
        )
    manifest_entries, registry_entries, vendored_entries = await MultiGet(
        Get(DigestEntries, Digest, request.workspace.digest),
        Get(DigestEntries, Digest, registry_crates),
        Get(DigestEntries, Digest, result.output_digest),
    )
    materials = merged(
        source_hashes(manifest_entries, root),
        file_hashes(registry_entries, strip=_REGISTRY_MOUNT, prefix="registry"),
    )
    record = StepRecord.of_process(("cargo", *args), result, materials, file_hashes(vendored_entries))
    return VendoredCrates(result.output_digest, record)


# What cargo says when Cargo.lock, rather than a manifest or a source, is what stops it (lowercased).
_LOCKFILE_PROBLEMS = (
    "lock file",
    "cargo.lock",
    "--locked",
    "no matching package named",
    "failed to select a version",
)


def vendoring_hint(diagnostics: str, lockfile_path: str, root: str) -> str:
    """What to do about a failed vendoring: the lockfile advice only when cargo's error is about the lockfile.

    A git dependency or a type error in a Cargo.toml also fails here, and
    regenerating Cargo.lock would not help with either.
    """
    text = diagnostics.lower()
    if any(problem in text for problem in _LOCKFILE_PROBLEMS):
        return (
            f"{lockfile_path} must lock exactly what the Cargo.toml files ask for: after adding or changing a "
            f"dependency, run `cargo update` (or `cargo generate-lockfile`) in {root or '.'}/ and commit Cargo.lock."
        )
    if "git" in text and ("offline" in text or "unable to update" in text):
        return (
            "Builds are offline and take crates only from [cargo-registry]: a git dependency cannot be fetched. "
            "Depend on a registry release of the crate, or on an in-repository copy by `path`."
        )
    return "Fix what cargo reports above in the Cargo.toml files named there."


def rules():
    return collect_rules()
