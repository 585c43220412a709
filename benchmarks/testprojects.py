"""The testprojects' components and the pinned toolchain, as the benchmark scripts build them outside Pants.

attestation.py, cargo_auditable_comparison.py and verification.py each run as
`python benchmarks/<script>.py`, which puts this folder on sys.path, so they
import this module by its bare name. It holds what they must agree on with
each other and with the plugin: which `wasm_component` targets testprojects/
declares, with the plugin's defaults filled in, and how cargo runs there (the
toolchain archive ./pants builds, the host linker wrapper, the hermetic
environment of cargo_in_sandbox.sh). Importing it needs the core library
(`wasm_attest`) on the path.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from wasm_attest.cargo_manifest import parse_cargo_manifest

REPO = Path(__file__).resolve().parents[1]
TESTPROJECTS = REPO / "testprojects"
REGISTRY = REPO / "build-support" / "registry" / "crates"
TOOLCHAIN_VERSION = "1.96.0"  # the version ./pants builds and pants.toml pins
SYSTEM_BIN_DIRS = os.pathsep.join(("/usr/bin", "/bin", "/usr/local/bin"))
# Where the plugin's sandbox and vendored crates appear after --remap-path-prefix (cargo_in_sandbox.sh).
SANDBOX_REMAP, VENDOR_REMAP = "/build", "/vendor"


@dataclass(frozen=True)
class Component:
    """One `wasm_component` target, with the plugin's defaults filled in."""

    name: str
    folder: Path
    """The BUILD file's folder (the crate's own), relative to the repository."""
    root: Path
    """The Cargo root (the nearest folder at or above `folder` with a Cargo.lock), relative to the repository."""
    package: str
    bin: str
    features: tuple[str, ...]
    no_default_features: bool
    profile: str
    output_path: str
    """Where `./pants package` writes the bundle, relative to dist/."""

    @property
    def address(self) -> str:
        return f"{self.folder.as_posix()}:{self.name}"

    @property
    def profile_directory(self) -> str:
        """The folder under `target/<triple>/` that cargo writes the profile's output to."""
        return {"dev": "debug", "test": "debug", "bench": "release"}.get(self.profile, self.profile)


def discover_components() -> list[Component]:
    """Every `wasm_component(...)` in a BUILD file under testprojects/, in path order."""
    components = []
    for build_file in sorted(path for path in TESTPROJECTS.rglob("BUILD") if "target" not in path.parts):
        for call in ast.walk(ast.parse(build_file.read_text(), str(build_file))):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "wasm_component":
                fields = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords if keyword.arg}
                components.append(component_from_fields(build_file.parent, fields))
    return components


def add_only_option(parser: argparse.ArgumentParser, components: list[Component], *, verb: str) -> None:
    """`--only NAME`: one component, by name or address, for a quicker run."""
    names = ", ".join(sorted({component.name for component in components}))
    parser.add_argument("--only", metavar="NAME", help=f"{verb} one component: {names} (or its address)")


def selected_components(
    parser: argparse.ArgumentParser, args: argparse.Namespace, components: list[Component]
) -> list[Component]:
    """The components `--only` selects (all without it); an unknown name is a usage error."""
    selected = [component for component in components if args.only in (None, component.name, component.address)]
    if not selected:
        names = ", ".join(sorted({component.name for component in components}))
        parser.error(f"no wasm_component named {args.only!r} under testprojects/; there are: {names}")
    return selected


def component_from_fields(folder: Path, fields: Mapping[str, object]) -> Component:
    """A target's fields with the plugin's defaults (target_types.py, cargo_project.py).

    The package is always the folder's own, as the plugin builds it (a `cargo_package` may only repeat it).
    """
    manifest_path = folder / "Cargo.toml"
    package = parse_cargo_manifest(manifest_path.read_text(), origin=str(manifest_path)).package_name
    if not package:
        raise SystemExit(f"{folder}/BUILD: a wasm_component belongs in a crate's folder, not a workspace root.")
    root = next((path for path in (folder, *folder.parents) if (path / "Cargo.lock").is_file()), None)
    if root is None:
        raise SystemExit(f"{folder}: no Cargo.lock in it or above it.")
    relative = folder.relative_to(REPO)
    name = str(fields.get("name") or folder.name)
    return Component(
        name=name,
        folder=relative,
        root=root.relative_to(REPO),
        package=package,
        bin=str(fields.get("bin") or package),
        features=tuple(fields.get("features") or ()),
        no_default_features=bool(fields.get("no_default_features")),
        profile=str(fields.get("profile") or "release"),
        output_path=str(fields.get("output_path") or f"{relative.as_posix().replace('/', '.')}/{name}"),
    )


def cache_dir() -> Path:
    """Where ./pants keeps the toolchain archive and the venv (and fetch_cargo_auditable.py its tool)."""
    configured = os.environ.get("WASM_ATTEST_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wasm-attest"


def toolchain_archive() -> Path:
    """The toolchain archive ./pants builds; exits saying to run ./pants when it or the crate registry is missing."""
    archive = cache_dir() / "toolchain" / f"wasm32-wasip2-rust-{TOOLCHAIN_VERSION}.tar.gz"
    if not archive.is_file():
        sys.exit(f"The toolchain archive {archive} is missing; run ./pants once (it builds it), then run this again.")
    if not REGISTRY.is_dir() or not any(REGISTRY.iterdir()):
        sys.exit(f"The crate registry {REGISTRY} is missing; run ./pants once (it fetches it), then run this again.")
    return archive


def extract_toolchain(archive: Path, work: Path) -> Path:
    """Unpacks the archive into `work/toolchain` and returns that folder (cargo and rustc are in its bin/)."""
    root = work / "toolchain"
    with tarfile.open(archive) as tar:
        tar.extractall(root)
    return root


def write_host_linker(work: Path) -> Path:
    """Writes `work/host_linker`, the wrapper the plugin's toolchain.py writes: build scripts and proc
    macros are linked for the host, by the system's cc told with `-B` where the system's ld is, as
    cargo runs with no PATH.
    """
    host_linker = work / "host_linker"
    host_linker.write_text(f'#!/bin/bash\nexec {system_binary("cc")} -B{Path(system_binary("ld")).parent}/ "$@"\n')
    host_linker.chmod(0o755)
    return host_linker


def system_binary(name: str) -> str:
    found = shutil.which(name, path=SYSTEM_BIN_DIRS)
    if found is None:
        sys.exit(f"No `{name}` in {SYSTEM_BIN_DIRS}: install a C toolchain (build scripts are linked for the host).")
    return found


def cargo_env(toolchain: Path, host_linker: Path, sandbox: Path, *, crates: Path) -> dict[str, str]:
    """cargo's whole environment, as cargo_in_sandbox.sh sets it: nothing from the host, remapped paths.

    `crates` is the folder cargo reads the crates from; it is remapped to where the plugin's
    vendored copies appear, so the component names the same paths as the plugin's build.
    """
    remaps = (f"--remap-path-prefix={sandbox}={SANDBOX_REMAP}", f"--remap-path-prefix={crates}={VENDOR_REMAP}")
    return {
        "CARGO_HOME": str(sandbox / ".cargo-home"),
        "RUSTC": str(toolchain / "bin" / "rustc"),
        "RUSTDOC": str(toolchain / "bin" / "rustdoc"),
        "CARGO_TARGET_DIR": str(sandbox / "target"),
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": str(host_linker),
        "CARGO_ENCODED_RUSTFLAGS": "\x1f".join(remaps),
        "CARGO_TERM_COLOR": "never",
        "CARGO_INCREMENTAL": "0",
    }
