"""The dependencies step: compile a workspace's registry crates once, as the warm start of every component build.

One Process per workspace, profile and default-features choice, over the
workspace's manifests (every member an empty stand-in library), the vendored
crates and the toolchain: it is the same request for every component of the
workspace, so Pants runs it once, and code edits never rerun it. Its output,
the compiled registry crates' part of cargo's target folder, is an input of
each component's build; cargo's fingerprints there decide what is fresh (see
`wasm_attest.shared_crates.target_files`). It is an attested step of its own:
the build link names every shared file with its digest as a material, and the
layout chains them to this step's products.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.engine.fs import EMPTY_DIGEST, CreateDigest, Digest, DigestEntries, Directory, FileEntry, MergeDigests
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import AllTargets
from pants.util.frozendict import FrozenDict

from wasm_attest.cargo_lock import CargoLock
from wasm_attest.component_pipeline import WASM_TARGET
from wasm_attest.shared_crates.target_files import (
    dependency_build_args,
    is_freshness_record,
    registry_unit_hashes,
    shared_target_files,
)
from wasm_component.target_types import (
    WasmComponentFeaturesField,
    WasmComponentNoDefaultFeaturesField,
    WasmComponentProfileField,
    WasmComponentTarget,
)
from wasm_component.util_rules.cargo_process import CargoProcess, cargo_diagnostics
from wasm_component.util_rules.cargo_project import WasmComponentTargetError, profile_directory
from wasm_component.util_rules.cargo_workspace import (
    CargoWorkspace,
    CrateManifest,
    CrateManifestRequest,
    stand_in_targets,
)
from wasm_component.util_rules.step_record import StepRecord, file_hashes, merged, source_hashes
from wasm_component.util_rules.toolchain import RustToolchain
from wasm_component.util_rules.vendor import VENDOR_DIR, VendoredCrates

TARGET_DIR = "target"


class SharedCratesError(WasmComponentTargetError):
    """cargo could not compile the workspace's registry crates."""


@dataclass(frozen=True)
class WorkspaceComponentsRequest:
    """The wasm_component targets of the Cargo workspace rooted at `root`, built with `profile`."""

    root: str
    profile: str
    no_default_features: bool


@dataclass(frozen=True)
class WorkspaceComponents:
    """Each component's package and features, sorted: what the shared compile asks cargo for."""

    packages: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SharedCratesRequest:
    workspace: CargoWorkspace
    lockfile: CargoLock
    vendored: VendoredCrates
    profile: str
    no_default_features: bool


@dataclass(frozen=True)
class SharedCrates:
    """The compiled registry crates under `target/` (relative to the sandbox root), and how they were made."""

    digest: Digest
    record: StepRecord


@rule(desc="Find the wasm components of a Cargo workspace")
async def find_workspace_components(request: WorkspaceComponentsRequest, all_targets: AllTargets) -> WorkspaceComponents:
    candidates = [
        target
        for target in all_targets
        if isinstance(target, WasmComponentTarget)
        and (target[WasmComponentProfileField].value or "release") == request.profile
        and bool(target[WasmComponentNoDefaultFeaturesField].value) == request.no_default_features
    ]
    crates = await MultiGet(
        Get(CrateManifest, CrateManifestRequest(target.address.spec_path)) for target in candidates
    )
    packages: dict[str, set[str]] = {}
    for target, crate in zip(candidates, crates):
        name = crate.manifest.package_name
        # A target that names no package fails its own build with a clear message; here it only shares nothing.
        if name is not None and crate.cargo_root == request.root:
            packages.setdefault(name, set()).update(target[WasmComponentFeaturesField].value or ())
    return WorkspaceComponents(tuple((name, tuple(sorted(features))) for name, features in sorted(packages.items())))


@rule(desc="Compile the registry crates of a Cargo workspace")
async def compile_shared_crates(request: SharedCratesRequest, toolchain: RustToolchain) -> SharedCrates:
    workspace = request.workspace
    components = await Get(
        WorkspaceComponents, WorkspaceComponentsRequest(workspace.root, request.profile, request.no_default_features)
    )
    stand_ins, vendor_mount_point = await MultiGet(
        Get(Digest, stand_in_targets(workspace.crates)),
        Get(Digest, CreateDigest([Directory(VENDOR_DIR)])),
    )
    args = dependency_build_args(WASM_TARGET, request.profile, components.packages, request.no_default_features)
    features = "no default features" if request.no_default_features else "default features"
    process = await Get(
        Process,
        CargoProcess(
            crate_dir=workspace.root,
            args=args,
            input_digest=await Get(
                Digest, MergeDigests([workspace.digest, stand_ins, request.vendored.digest, vendor_mount_point])
            ),
            description=f"Compile dependencies of {workspace.root or 'the build root'} ({request.profile}/{features})",
            source_dir=VENDOR_DIR,
            output_directories=(TARGET_DIR,),
            concurrency_available=len(request.lockfile.packages),
        ),
    )
    result = await Get(FallibleProcessResult, Process, process)
    if result.exit_code != 0:
        raise SharedCratesError(
            f"Compiling the registry crates of {workspace.lockfile_path} for {WASM_TARGET} ({request.profile}) failed "
            f"(cargo exited {result.exit_code}):\n{cargo_diagnostics(result.stderr)}\n\n"
            "Fix what cargo reports above: a crate that does not build here would fail each component's build too."
        )
    output_entries = await Get(DigestEntries, Digest, result.output_digest)
    files = {entry.path: entry for entry in output_entries if isinstance(entry, FileEntry)}
    relative = {os.path.relpath(path, TARGET_DIR): path for path in files}
    kept = shared_target_files(relative, profile_directory(request.profile), registry_unit_hashes(result.stdout))
    shared = await Get(Digest, CreateDigest([files[relative[path]] for path in kept]))
    manifest_entries, toolchain_entries, shared_entries = await MultiGet(
        Get(DigestEntries, Digest, workspace.digest),
        Get(DigestEntries, Digest, toolchain.digest or EMPTY_DIGEST),
        Get(DigestEntries, Digest, shared),
    )
    materials = merged(
        source_hashes(manifest_entries, workspace.root),
        request.vendored.record.products,
        file_hashes(toolchain_entries, prefix="toolchain"),
    )
    products = FrozenDict(
        (path, digest) for path, digest in file_hashes(shared_entries).items() if not is_freshness_record(path)
    )
    record = StepRecord.of_process(("cargo", *args), result, materials, products)
    return SharedCrates(shared, record)


def rules():
    return collect_rules()
