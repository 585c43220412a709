"""`pants wasm-setup`: build or fetch what builds need besides the plugin, where pants.toml says.

A repository that enables the backend gets no toolchain, bwrap or crate registry with it.
This goal puts each at the place its options name (a `file://` `url_template`, the
`[cargo-registry].directory`), built from the pins the plugin ships, and checks it against
`known_versions`, printing the entry to pin when it differs. The work is in
wasm_attest_setup.pinned_inputs (standard library only, shared with this repository's
./pants launcher); this rule only reads the options and prints.
"""

from __future__ import annotations

from pathlib import Path

from pants.base.build_root import BuildRoot
from pants.core.util_rules.external_tool import TemplatedExternalTool
from pants.engine.console import Console
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.platform import Platform
from pants.engine.rules import collect_rules, goal_rule
from pants.option.option_types import StrOption
from pants.util.strutil import softwrap

from wasm_attest_setup import debian_packages, registry, toolchain
from wasm_attest_setup.pinned_inputs import (
    PinMismatch,
    PinnedInput,
    build_toolchain_at,
    ensure,
    fetch_bubblewrap_at,
    fetch_registry,
    local_path,
)
from wasm_component.subsystems.registry import CargoRegistrySubsystem, CrateSource
from wasm_component.subsystems.sandbox import Isolation, WasmSandboxSubsystem
from wasm_component.subsystems.toolchain import WasmToolchainSubsystem

SET_UP_ERRORS = (
    PinMismatch,
    debian_packages.SetupError,
    registry.RegistryError,
    toolchain.BuildError,
    OSError,
    UnicodeDecodeError,
)


class WasmSetupSubsystem(GoalSubsystem):
    name = "wasm-setup"
    help = softwrap(
        """
        Build or fetch, once, what `wasm_component` builds need besides the plugin: the
        wasm32-wasip2 toolchain archive where `[wasm-toolchain].url_template` points (a few
        minutes; needs apt-get, dpkg-deb, cc and rustup's wasm-component-ld), bubblewrap's
        `bwrap` where `[wasm-sandbox].url_template` points, and with
        `[cargo-registry].source = "directory"` the crate registry in its `directory`. Each
        `file://` input is checked against `known_versions`; when it differs, the entry to
        put in pants.toml is printed and the goal fails. What is in place is left alone.
        """
    )

    registry_pins = StrOption(
        default=None,
        help=softwrap(
            """
            A file of Debian crate packages to make the registry from, one
            `<suite> <package> <version> <sha256 of the .deb>` per line (relative to the build
            root). Default: the pins wasm-attest ships (the crates its own test projects lock).
            """
        ),
    )


class WasmSetup(Goal):
    subsystem_cls = WasmSetupSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def pinned_input(subsystem: TemplatedExternalTool) -> PinnedInput:
    """The subsystem's URL and pin for this machine, as its download would use them."""
    request = subsystem.get_request(Platform.create_for_localhost())
    digest = request.download_file_request.expected_digest
    return PinnedInput(
        scope=subsystem.options_scope,
        version=subsystem.version,
        url=request.download_file_request.url,
        sha256=digest.fingerprint,
        size=digest.serialized_bytes_length,
    )


@goal_rule
async def wasm_setup(
    console: Console,
    goal: WasmSetupSubsystem,
    toolchain_subsystem: WasmToolchainSubsystem,
    sandbox: WasmSandboxSubsystem,
    crates: CargoRegistrySubsystem,
    build_root: BuildRoot,
) -> WasmSetup:
    steps = []
    if toolchain_subsystem.rustup_toolchain:
        console.print_stdout(f"[wasm-toolchain] rustup_toolchain = {toolchain_subsystem.rustup_toolchain}: no archive needed")
    else:
        steps.append(lambda: ensure(pinned_input(toolchain_subsystem), build_toolchain_at))
    if sandbox.isolation is Isolation.BUBBLEWRAP:
        steps.append(lambda: ensure(pinned_input(sandbox), fetch_bubblewrap_at))
    if crates.source is CrateSource.DIRECTORY and not crates.directory:
        console.print_stderr('wasm-setup: [cargo-registry].source = "directory" needs [cargo-registry].directory')
        return WasmSetup(exit_code=1)
    if crates.source is CrateSource.DIRECTORY:
        pins = Path(build_root.path, goal.registry_pins) if goal.registry_pins else None
        archive = None if toolchain_subsystem.rustup_toolchain else local_path(pinned_input(toolchain_subsystem).url)
        steps.append(lambda: fetch_registry(Path(build_root.path, crates.directory), pins, archive))
    failed = False
    for step in steps:
        try:
            console.print_stdout(step())
        except SET_UP_ERRORS as error:
            console.print_stderr(f"wasm-setup: {error}")
            failed = True
    return WasmSetup(exit_code=1 if failed else 0)


def rules():
    return collect_rules()
