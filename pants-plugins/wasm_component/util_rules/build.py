"""The build step: `cargo build --locked --offline --target wasm32-wasip2` over the vendored crates.

The sandbox holds the sources of the component's dependency closure (at their
repository paths, with stand-ins for the workspace members it does not use),
the vendored crates and (as an immutable input) the toolchain; nothing from
the host but the system C compiler that links build scripts. It starts from
the workspace's compiled registry crates (`shared_crates.py`), which cargo
reuses where its fingerprints say they are fresh, so a component's build
compiles little more than its own crate and the in-repository crates it uses.
cargo gets as many jobs as Pants gives the process, so components build in
parallel within Pants' process limits instead of each taking every core.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pants.engine.fs import (
    EMPTY_DIGEST,
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    Directory,
    MergeDigests,
    RemovePrefix,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule

from wasm_attest.component_pipeline import WASM_TARGET
from wasm_attest.shared_crates.target_files import compiled_units
from wasm_attest.wasm_binary import describe_wasm_header, is_component
from wasm_component.util_rules.cargo_process import CargoProcess, cargo_diagnostics
from wasm_component.util_rules.cargo_project import CargoProject, WasmComponentTargetError
from wasm_component.util_rules.shared_crates import SharedCrates, SharedCratesRequest
from wasm_component.util_rules.step_record import StepRecord, file_hashes, merged, source_hashes
from wasm_component.util_rules.toolchain import RustToolchain
from wasm_component.util_rules.vendor import VENDOR_DIR, VendoredCrates, VendorRequest


logger = logging.getLogger(__name__)


class ComponentBuildError(WasmComponentTargetError):
    """cargo could not build the component."""


@dataclass(frozen=True)
class BuiltComponent:
    """The component built for a target (`digest` holds only `filename`), and how it was made.

    `build_messages` is cargo's JSON message stream: its compiler-artifact
    messages say which crates were really compiled, for the SBOM.
    """

    digest: Digest
    filename: str
    sha256: str
    build_messages: bytes
    record: StepRecord
    vendored: VendoredCrates
    shared: SharedCrates


@rule(desc="Build a wasm32-wasip2 component")
async def build_component(project: CargoProject, toolchain: RustToolchain) -> BuiltComponent:
    vendored = await Get(VendoredCrates, VendorRequest(project.workspace, project.lockfile))
    shared = await Get(
        SharedCrates,
        SharedCratesRequest(project.workspace, project.lockfile, vendored, project.profile, project.no_default_features),
    )
    # cargo must find the vendor folder even when no crate was vendored into it.
    vendor_mount_point = await Get(Digest, CreateDigest([Directory(VENDOR_DIR)]))
    output_dir = os.path.join("target", WASM_TARGET, project.profile_directory)
    args = _cargo_build_args(project)
    process = await Get(
        Process,
        CargoProcess(
            crate_dir=project.root,
            args=args,
            input_digest=await Get(
                Digest,
                MergeDigests(
                    [project.sources_digest, project.stand_ins_digest, vendored.digest, vendor_mount_point, shared.digest]
                ),
            ),
            description=f"Compile {project.address} for {WASM_TARGET}",
            source_dir=VENDOR_DIR,
            output_files=(os.path.join(output_dir, project.component_filename),),
            # cargo compiles at most as many crates at once as Cargo.lock lists.
            concurrency_available=len(project.lockfile.packages),
        ),
    )
    result = await Get(FallibleProcessResult, Process, process)
    if result.exit_code != 0:
        raise ComponentBuildError(_build_failure_message(project, result))
    compiled, fresh = compiled_units(result.stdout)
    logger.info(
        "%s: cargo compiled %s; fresh from the workspace's compiled dependencies: %s",
        project.address,
        " ".join(compiled) or "nothing",
        " ".join(fresh) or "nothing",
    )
    component = await Get(Digest, RemovePrefix(result.output_digest, output_dir))
    contents = await Get(DigestContents, Digest, component)
    if not contents:
        raise ComponentBuildError(_no_output_message(project))
    if not is_component(contents[0].content):
        raise ComponentBuildError(
            f"{project.address}: {project.component_filename} is a {describe_wasm_header(contents[0].content)}, "
            f"not a WebAssembly component; the toolchain's {WASM_TARGET} linker (wasm-component-ld) is misconfigured."
        )
    source_entries, toolchain_entries, component_entries = await MultiGet(
        Get(DigestEntries, Digest, project.sources_digest),
        Get(DigestEntries, Digest, toolchain.digest or EMPTY_DIGEST),
        Get(DigestEntries, Digest, component),
    )
    materials = merged(
        source_hashes(source_entries, project.root),
        vendored.record.products,
        shared.record.products,
        file_hashes(toolchain_entries, prefix="toolchain"),
    )
    products = file_hashes(component_entries)
    return BuiltComponent(
        digest=component,
        filename=project.component_filename,
        sha256=products[project.component_filename],
        build_messages=result.stdout,
        record=StepRecord.of_process(("cargo", *args), result, materials, products),
        vendored=vendored,
        shared=shared,
    )


def _cargo_build_args(project: CargoProject) -> tuple[str, ...]:
    features = ("--features", ",".join(project.features)) if project.features else ()
    no_default = ("--no-default-features",) if project.no_default_features else ()
    return (
        "build",
        "--message-format=json-render-diagnostics",
        "--locked",
        "--offline",
        "--target",
        WASM_TARGET,
        "--profile",
        project.profile,
        "--package",
        project.package,
        *(("--lib",) if project.bin is None else ("--bin", project.bin)),
        *features,
        *no_default,
    )


def _no_output_message(project: CargoProject) -> str:
    if project.bin is None:
        return (
            f"{project.address}: cargo built the library of package `{project.package}` but wrote no "
            f"{project.component_filename}; check `[lib] name` and `crate-type = [\"cdylib\"]` in its Cargo.toml."
        )
    return (
        f"{project.address}: cargo succeeded but wrote no {project.component_filename}; is "
        f"`{project.bin}` a binary target of package `{project.package}`? Set `bin` if not."
    )


def _build_failure_message(project: CargoProject, result: FallibleProcessResult) -> str:
    return (
        f"{project.address}: cargo build failed (exit code {result.exit_code}).\n"
        f"{cargo_diagnostics(result.stderr)}\n\n"
        "Fix the errors above (rustc's diagnostics) and package again."
    )


def rules():
    return collect_rules()
