"""What build isolation costs: each testproject's cold `cargo build`, run with and without bubblewrap.

Both runs go through the plugin's own `cargo_in_sandbox.sh`, with the same toolchain,
vendored crates, arguments and environment as the build step; the only difference is
WASM_ATTEST_BWRAP, i.e. whether the script starts cargo under `bwrap` (new namespaces, the
sandbox mounted at /build, the toolchain at /toolchain) or directly. The two modes alternate
run by run, each from an empty target folder, and the table shows the medians side by side
with the overhead against the target of issue 10 (under 5 % of the build).

Run `./pants` once first (it builds the toolchain and fetches the crate registry and bwrap), then:

    PYTHONPATH=src/python ~/.cache/wasm-attest/venv-<id>/bin/python benchmarks/isolation.py [--only NAME] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testprojects import (
    REGISTRY,
    REPO,
    Component,
    add_only_option,
    cache_dir,
    discover_components,
    extract_toolchain,
    selected_components,
    system_binary,
    toolchain_archive,
)

SCRIPT = REPO / "pants-plugins" / "wasm_component" / "cargo_in_sandbox.sh"
TARGET_OVERHEAD = 0.05
WASM_TARGET = "wasm32-wasip2"
BWRAP_IN_SANDBOX = "__wasm_sandbox/bwrap"


def bwrap_binary() -> Path:
    """The pinned bwrap ./pants fetched into the set-up cache."""
    found = sorted((cache_dir() / "sandbox").glob("bwrap-*"))
    if len(found) != 1:
        sys.exit(f"Expected one bwrap-* in {cache_dir() / 'sandbox'}, found {len(found)}; run ./pants once first.")
    return found[0]


def prepare_sandbox(component: Component, work: Path, bwrap: Path) -> Path:
    """A sandbox laid out as the build step's: the Cargo root's files, vendor/, the linker wrapper, bwrap."""
    sandbox = work / f"sandbox-{component.name}"
    shutil.copytree(REPO / component.root, sandbox / component.root, ignore=shutil.ignore_patterns("target", "BUILD"))
    linker = sandbox / "__host_linker"
    linker.write_text(
        f'#!/bin/bash\nexec {os.path.realpath(system_binary("cc"))} -B{Path(system_binary("ld")).parent}/ "$@"\n'
    )
    linker.chmod(0o755)
    (sandbox / BWRAP_IN_SANDBOX).parent.mkdir()
    shutil.copy2(bwrap, sandbox / BWRAP_IN_SANDBOX)
    (sandbox / "registry").symlink_to(REGISTRY)
    vendor = os.path.relpath(sandbox / "vendor", sandbox / component.root)
    cargo(sandbox, component, ("vendor", "--locked", "--offline", "--versioned-dirs", "--respect-source-config", vendor),
          source_dir="registry", isolated=False, toolchain=work / "toolchain")
    (sandbox / "registry").unlink()
    return sandbox


def cargo(
    sandbox: Path, component: Component, args: tuple[str, ...], *, source_dir: str, isolated: bool, toolchain: Path
) -> float:
    """Runs cargo through the plugin's script; returns the wall time in seconds."""
    env = {
        "WASM_ATTEST_TOOLCHAIN": str(toolchain),
        "WASM_ATTEST_BWRAP": BWRAP_IN_SANDBOX if isolated else "",
        "WASM_ATTEST_SOURCE_DIR": source_dir,
        "CARGO_TERM_COLOR": "never",
        "CARGO_INCREMENTAL": "0",
    }
    start = time.perf_counter()
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT), component.root.as_posix(), "default", *args],
        cwd=sandbox, env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"cargo {args[0]} of {component.address} failed ({'isolated' if isolated else 'unisolated'}):\n{result.stderr[-3000:]}")
    return elapsed


def build_args(component: Component) -> tuple[str, ...]:
    features = ("--features", ",".join(component.features)) if component.features else ()
    no_default = ("--no-default-features",) if component.no_default_features else ()
    return ("build", "--locked", "--offline", "--target", WASM_TARGET, "--profile", component.profile,
            "-p", component.package, "--bin", component.bin, *features, *no_default)


def measure(component: Component, work: Path, bwrap: Path, runs: int) -> tuple[float, float]:
    """Median cold build time unisolated and isolated, alternating the order run by run."""
    sandbox = prepare_sandbox(component, work, bwrap)
    times: dict[bool, list[float]] = {False: [], True: []}
    for run in range(runs):
        for isolated in ((False, True) if run % 2 == 0 else (True, False)):
            shutil.rmtree(sandbox / "target", ignore_errors=True)
            shutil.rmtree(sandbox / ".cargo-home", ignore_errors=True)
            times[isolated].append(
                cargo(sandbox, component, build_args(component), source_dir="vendor", isolated=isolated,
                      toolchain=work / "toolchain")
            )
    return statistics.median(times[False]), statistics.median(times[True])


def main(argv: list[str]) -> int:
    components = discover_components()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_only_option(parser, components, verb="measure")
    parser.add_argument("--runs", type=int, default=3, help="cold builds per mode and component (default 3)")
    args = parser.parse_args(argv)
    chosen = selected_components(parser, args, components)
    archive, bwrap = toolchain_archive(), bwrap_binary()
    with tempfile.TemporaryDirectory(prefix="isolation-benchmark-") as scratch:
        work = Path(scratch)
        extract_toolchain(archive, work)
        print(f"| component | cold build, unisolated | cold build, isolated | overhead (target < {TARGET_OVERHEAD:.0%}) |")
        print("|---|---|---|---|")
        total_plain = total_isolated = 0.0
        for component in chosen:
            plain, isolated = measure(component, work, bwrap, args.runs)
            total_plain, total_isolated = total_plain + plain, total_isolated + isolated
            overhead = (isolated - plain) / plain
            print(f"| {component.name} | {plain:.2f} s | {isolated:.2f} s | {overhead:+.1%} |", flush=True)
        overall = (total_isolated - total_plain) / total_plain
        verdict = "ok" if overall < TARGET_OVERHEAD else "FAIL"
        print(f"SUMMARY: all components together {total_plain:.2f} s unisolated, {total_isolated:.2f} s isolated, "
              f"overhead {overall:+.1%} ({verdict}; median of {args.runs} cold builds each)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
