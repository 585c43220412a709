"""`pants wasm-setup` under Pants: what it reads from the options, what it prints, how it exits.

The inputs are the real ones ./pants set up (the toolchain archive and bwrap in the set-up
cache, the registry of this repository), copied or linked to where a test's options point.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pants.testutil.rule_runner import RuleRunner

from wasm_attest_setup import registry
from wasm_component.goals.setup import WasmSetup
from wasm_component.subsystems.sandbox import WasmSandboxSubsystem
from wasm_component.subsystems.toolchain import WasmToolchainSubsystem
from wasm_component_rules.rule_runner_support import BWRAP_URL, TOOLCHAIN_URL, new_rule_runner

CACHE = Path(os.environ["WASM_ATTEST_CACHE"])
BWRAP = CACHE / "sandbox" / f"bwrap-{WasmSandboxSubsystem.default_version}"
TOOLCHAIN = CACHE / "toolchain" / f"wasm32-wasip2-rust-{WasmToolchainSubsystem.default_version}.tar.gz"
ITOA_PIN = "bookworm librust-itoa-dev 1.0.1-2 42b9e2912127c5e2ae2ed959baf93667434422fdf924ff606364a54302fedbb0\n"


def run_setup(rule_runner: RuleRunner, *options: str):
    return rule_runner.run_goal_rule(WasmSetup, global_args=list(options), env_inherit={"PATH", "HOME"})


def test_inputs_in_place_are_reported_with_their_pins_and_the_goal_succeeds() -> None:
    rule_runner = new_rule_runner()
    result = run_setup(rule_runner, f"--wasm-toolchain-url-template={TOOLCHAIN_URL}", f"--wasm-sandbox-url-template={BWRAP_URL}")
    assert result.exit_code == 0, result.stderr
    assert f"[wasm-toolchain] {TOOLCHAIN}: in place" in result.stdout
    assert f"[wasm-sandbox] {BWRAP}: in place" in result.stdout


def test_a_file_that_is_not_the_pinned_one_fails_and_prints_the_entry_to_pin() -> None:
    rule_runner = new_rule_runner()
    elsewhere = Path(rule_runner.build_root, "setup", "sandbox")
    elsewhere.mkdir(parents=True)
    # A bwrap that differs from the pinned one by one byte, where the options say bwrap is.
    shutil.copyfile(BWRAP, elsewhere / BWRAP.name)
    with open(elsewhere / BWRAP.name, "ab") as handle:
        handle.write(b"\0")
    result = run_setup(
        rule_runner,
        "--wasm-toolchain-rustup-toolchain=/nonexistent/rustup-toolchain",
        f"--wasm-sandbox-url-template=file://{elsewhere}/bwrap-{{version}}",
    )
    assert result.exit_code == 1
    assert "[wasm-toolchain] rustup_toolchain = /nonexistent/rustup-toolchain: no archive needed" in result.stdout
    size = BWRAP.stat().st_size + 1
    assert f'known_versions = ["{WasmSandboxSubsystem.default_version}|linux_x86_64|' in result.stderr
    assert f"|{size}\"]" in result.stderr


def test_isolation_none_needs_no_bwrap_and_a_registry_is_made_from_the_configured_pins() -> None:
    rule_runner = new_rule_runner()
    rule_runner.write_files({"third_party/crates.txt": ITOA_PIN})
    result = run_setup(
        rule_runner,
        f"--wasm-toolchain-url-template={TOOLCHAIN_URL}",
        "--wasm-sandbox-isolation=none",
        "--wasm-sandbox-url-template=file:///nonexistent/bwrap-{version}",
        "--cargo-registry-source=directory",
        "--cargo-registry-directory=third_party/crates",
        "--wasm-setup-registry-pins=third_party/crates.txt",
    )
    assert result.exit_code == 0, result.stderr
    crates = Path(rule_runner.build_root, "third_party", "crates")
    assert (crates / "itoa-1.0.1" / ".cargo-checksum.json").is_file()
    assert sorted(path.name for path in crates.iterdir()) == [registry.STAMP_NAME, "itoa-1.0.1"]
    assert "wasm-sandbox" not in result.stdout + result.stderr


def test_a_directory_registry_without_a_directory_is_a_configuration_error() -> None:
    rule_runner = new_rule_runner()
    result = run_setup(
        rule_runner,
        "--wasm-toolchain-rustup-toolchain=/nonexistent/rustup-toolchain",
        "--wasm-sandbox-isolation=none",
        "--cargo-registry-source=directory",
    )
    assert result.exit_code == 1
    assert "[cargo-registry].directory" in result.stderr
