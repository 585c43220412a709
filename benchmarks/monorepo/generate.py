"""Writes a generated monorepo of N wasm components over a few shared crates: the input of benchmark.py.

Why: the testprojects are five small crates, so they cannot show how the plugin
behaves at the scale it is for, tens of components over shared library crates
and one lockfile: how long a cold `./pants package ::` takes, whether a no-op
run stays fast, and whether an edit rebuilds only what depends on it. This
script writes such a repository, the same bytes (and the same git commit id)
for the same arguments, so that figures from different runs and machines
compare.

The repository at --dest holds:

- the Pants set-up of --pants-setup-from (default: the repository this script
  is in): `pants`, `pants.toml`, `.gitignore`,
  `pants-plugins/`, `src/python/` and `build-support/` with its lockfiles and
  the crate registry that ./pants fetched there, copied as a fresh clone has
  them (tracked and untracked, not ignored files; no testprojects/ or tests/),
  configured as a Rust monorepo adopting the plugin is: `pants.toml` enables
  the plugin's backend alone, without the Python backend and the BUILD files
  this repository's own code and tests need;
- one Cargo workspace in `rust/`: a virtual `Cargo.toml` with every crate under
  `[workspace] members` and `[workspace.dependencies]`, one shared `Cargo.lock`,
  the libraries in `rust/libs/<name>/` and the components in
  `rust/apps/app-NN/` (each a `[[bin]]` that prints a few lines made by the
  libraries it uses). Every crate names its target's path (`[lib]`/`[[bin]]`),
  so cargo can load the workspace from a sandbox that holds only some crates'
  sources;
- BUILD files for Cargo-manifest dependency inference, with no `dependencies=`:
  `cargo_crate()` in the workspace root (it owns `Cargo.toml` and `Cargo.lock`)
  and in each library's folder, `wasm_component()` in each component's folder;
- a git repository with one commit (fixed author and date), so that
  `--changed-since` works and the commit id is reproducible.

The libraries are the first --libraries of this chain:

    library  depends on               used by components numbered
    base     -                        every number
    text     base                     multiples of 2
    codec    base, serde, serde_json  multiples of 3
    report   text, codec              multiples of 5

so a change to `text` must rebuild the components that use it directly or
through `report`, and no other. Components declare their libraries with
`{ workspace = true }`, except every fourth, which uses `{ path = ... }`;
libraries use path dependencies among themselves and `{ workspace = true }` for
the registry crates: every form of dependency the inference reads.

Cargo.lock is generated offline by the pinned toolchain's cargo (the archive
that ./pants builds, extracted once into the wasm-attest cache) against the
copied crate registry, so it holds only crates this project can build.

Usage, after ./pants has run once in the set-up repository (it builds the
toolchain archive and fetches the crate registry); any Python >= 3.9:

    python3 benchmarks/monorepo/generate.py --dest /tmp/monorepo [--components 30] [--libraries 4]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

THIS_REPOSITORY = Path(__file__).resolve().parents[2]
TOOLCHAIN_ARCHIVE = "wasm32-wasip2-rust-1.96.0.tar.gz"  # what ./pants builds and pants.toml pins
REGISTRY = Path("build-support/registry/crates")
# The Pants set-up a generated repository needs: no testprojects/, tests/ or benchmarks/, and not the
# root BUILD: it declares this repository's own wheel and Python requirements, which a user's monorepo
# does not have, and `package ::` would build that wheel as well (a Pex and Python dependency inference:
# about 20 s of a cold run).
SETUP_FILES = ("pants", "pants.toml", ".gitignore")
SETUP_FOLDERS = ("pants-plugins/", "src/python/", "build-support/")
# A Rust monorepo that adopts the plugin enables its backend alone (examples/adopting/pants.toml): this
# repository's own pants.toml also enables Pants' Python backend for the plugin's code and tests, which
# costs every cold run about 4 s of rule-graph set-up and reads the BUILD files of the copied plugin
# sources. The generated pants.toml keeps every other setting; these tables configure only that backend.
ADOPTER_BACKENDS = '["wasm_component"]'
PYTHON_BACKEND_TABLES = frozenset({"source", "python", "python.resolves", "python-infer", "python-bootstrap", "test", "pytest"})
WORKSPACE = Path("rust")
SYSTEM_BIN_DIRS = os.pathsep.join(("/usr/bin", "/bin", "/usr/local/bin"))
# Registry crates the libraries may use: the versions our Debian registry has (src/python/wasm_attest_setup/pins/registry.txt).
REGISTRY_CRATES = {"serde": "1.0.152", "serde_json": "1.0.87"}
# A fixed identity and date make the commit id a function of the generated files alone.
GIT_ENVIRONMENT = {
    "GIT_AUTHOR_NAME": "wasm-attest monorepo generator",
    "GIT_AUTHOR_EMAIL": "generator@wasm-attest.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "wasm-attest monorepo generator",
    "GIT_COMMITTER_EMAIL": "generator@wasm-attest.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}


class GenerateError(Exception):
    """The repository cannot be generated; the message says what to do."""


# The plan: which crates exist and who uses what ---------------------------------------


@dataclass(frozen=True)
class Library:
    name: str
    libraries: tuple[str, ...]
    """In-repo libraries it depends on (path dependencies)."""
    registry: tuple[str, ...]
    """Registry crates it depends on (`{ workspace = true }`)."""
    every: int
    """Components whose number is a multiple of this use it directly."""
    source: str
    """src/lib.rs."""


@dataclass(frozen=True)
class Component:
    name: str
    number: int
    libraries: tuple[str, ...]
    """The libraries it depends on directly, in chain order."""
    by_path: bool
    """Whether its Cargo.toml names them with `path` rather than `workspace = true`."""


@dataclass(frozen=True)
class Monorepo:
    """What generate() writes: the libraries, the components and who depends on what."""

    libraries: tuple[Library, ...]
    components: tuple[Component, ...]

    def library(self, name: str) -> Library:
        return next(library for library in self.libraries if library.name == name)

    def closure(self, libraries: Sequence[str]) -> frozenset[str]:
        """`libraries` and every library they depend on, directly or not."""
        found: set[str] = set()
        pending = list(libraries)
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(self.library(name).libraries)
        return frozenset(found)

    def dependents(self, library: str) -> tuple[Component, ...]:
        """The components that link `library`, directly or through another library: what an edit to it rebuilds."""
        return tuple(component for component in self.components if library in self.closure(component.libraries))


BASE = '''\
//! `base`: used by every component of the generated monorepo.

/// The first line every component prints: its name, number and how many arguments it got.
#[must_use]
pub fn banner(app: &str, number: u32, arguments: &[String]) -> String {
    format!("{app} #{number}: {} argument(s)", arguments.len())
}

/// FNV-1a of `bytes`: a dependency-free fingerprint the other libraries share.
#[must_use]
pub fn fingerprint(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193))
}

/// The command-line arguments, without the program name.
#[must_use]
pub fn arguments() -> Vec<String> {
    std::env::args().skip(1).collect()
}
'''

TEXT = '''\
//! `text`: text helpers over `base`, used by every second component.

/// `words` in title case, joined by spaces.
#[must_use]
pub fn title_case(words: &[String]) -> String {
    let titled: Vec<String> = words
        .iter()
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()
            })
        })
        .collect();
    titled.join(" ")
}

/// One line about `words`: how many, in title case, and their fingerprint.
#[must_use]
pub fn summary(words: &[String]) -> String {
    let title = title_case(words);
    format!("{} word(s): {title:?} (fnv {:08x})", words.len(), base::fingerprint(title.as_bytes()))
}
'''

CODEC = '''\
//! `codec`: JSON records through serde and serde_json from the crate registry, used by every third component.
//!
//! `Serialize` is written by hand so that `serde_derive` (and `syn`, whose Debian package has no
//! checksum) stays out of the dependency graph.

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// What a component reports about one run.
pub struct Record<'a> {
    pub app: &'a str,
    pub number: u32,
    pub arguments: &'a [String],
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Record", 4)?;
        state.serialize_field("app", self.app)?;
        state.serialize_field("number", &self.number)?;
        state.serialize_field("arguments", self.arguments)?;
        state.serialize_field("fingerprint", &base::fingerprint(self.arguments.join(" ").as_bytes()))?;
        state.end()
    }
}

/// `record` as one line of JSON.
///
/// # Panics
///
/// Never: a `Record` holds only strings and numbers, which always serialise.
#[must_use]
pub fn to_json(record: &Record<'_>) -> String {
    serde_json::to_string(record).expect("a Record always serialises")
}
'''

REPORT = '''\
//! `report`: `text` and `codec` together, so its users link every library, some two levels down.

/// A report of one run: the summary line, then the JSON record.
#[must_use]
pub fn render(app: &str, number: u32, arguments: &[String]) -> String {
    let record = codec::Record { app, number, arguments };
    format!("{}\\n{}", text::summary(arguments), codec::to_json(&record))
}
'''

LIBRARIES = (
    Library("base", (), (), 1, BASE),
    Library("text", ("base",), (), 2, TEXT),
    Library("codec", ("base",), ("serde", "serde_json"), 3, CODEC),
    Library("report", ("text", "codec"), (), 5, REPORT),
)

# What a component prints with each library it uses directly.
COMPONENT_LINES = {
    "base": "base::banner(APP, NUMBER, &arguments)",
    "text": "text::summary(&arguments)",
    "codec": "codec::to_json(&codec::Record { app: APP, number: NUMBER, arguments: &arguments })",
    "report": "report::render(APP, NUMBER, &arguments)",
}


def plan(components: int, libraries: int) -> Monorepo:
    """The crates for `components` components over the first `libraries` libraries of the chain."""
    chosen = LIBRARIES[:libraries]
    width = max(2, len(str(components)))
    return Monorepo(
        libraries=chosen,
        components=tuple(
            Component(
                name=f"app-{number:0{width}d}",
                number=number,
                libraries=tuple(library.name for library in chosen if number % library.every == 0),
                by_path=number % 4 == 0,
            )
            for number in range(1, components + 1)
        ),
    )


# The files ----------------------------------------------------------------------------------


def workspace_files(monorepo: Monorepo, arguments: str) -> dict[str, str]:
    """Every file of the Cargo workspace but Cargo.lock, by path relative to the repository."""
    files = {
        "Cargo.toml": root_manifest(monorepo, arguments),
        "BUILD": "# The workspace root: Cargo.toml and Cargo.lock, which every crate's build reads.\ncargo_crate()\n",
    }
    for library in monorepo.libraries:
        folder = f"libs/{library.name}"
        files[f"{folder}/Cargo.toml"] = library_manifest(library)
        files[f"{folder}/src/lib.rs"] = library.source
        files[f"{folder}/BUILD"] = "cargo_crate()\n"
    for component in monorepo.components:
        folder = f"apps/{component.name}"
        files[f"{folder}/Cargo.toml"] = component_manifest(component)
        files[f"{folder}/src/main.rs"] = component_main(component)
        files[f"{folder}/BUILD"] = "wasm_component()\n"
    return {(WORKSPACE / path).as_posix(): content for path, content in files.items()}


def root_manifest(monorepo: Monorepo, arguments: str) -> str:
    members = [f"libs/{library.name}" for library in monorepo.libraries]
    members += [f"apps/{component.name}" for component in monorepo.components]
    registry = sorted({crate for library in monorepo.libraries for crate in library.registry})
    lines = [
        f"# Generated by benchmarks/monorepo/generate.py {arguments}",
        "[workspace]",
        'resolver = "2"',
        "members = [",
        *(f'    "{member}",' for member in members),
        "]",
        "",
        "[workspace.dependencies]",
        *(f'{library.name} = {{ path = "libs/{library.name}" }}' for library in monorepo.libraries),
        *(f'{crate} = "{REGISTRY_CRATES[crate]}"' for crate in registry),
    ]
    return "\n".join(lines) + "\n"


def package_section(name: str) -> list[str]:
    return ["[package]", f'name = "{name}"', 'version = "0.1.0"', 'edition = "2021"', "publish = false", ""]


def library_manifest(library: Library) -> str:
    lines = [*package_section(library.name), "[lib]", 'path = "src/lib.rs"', "", "[dependencies]"]
    lines += [f'{name} = {{ path = "../{name}" }}' for name in library.libraries]
    lines += [f"{crate} = {{ workspace = true }}" for crate in library.registry]
    return "\n".join(lines) + "\n"


def component_manifest(component: Component) -> str:
    lines = [*package_section(component.name), "[[bin]]", f'name = "{component.name}"', 'path = "src/main.rs"', ""]
    lines.append("[dependencies]")
    for name in component.libraries:
        lines.append(f'{name} = {{ path = "../../libs/{name}" }}' if component.by_path else f"{name} = {{ workspace = true }}")
    return "\n".join(lines) + "\n"


def component_main(component: Component) -> str:
    prints = [f'    println!("{{}}", {COMPONENT_LINES[name]});' for name in component.libraries]
    return "\n".join(
        [
            f"//! {component.name}: a component of the generated monorepo; uses {', '.join(component.libraries)}.",
            "",
            'const APP: &str = env!("CARGO_PKG_NAME");',
            f"const NUMBER: u32 = {component.number};",
            "",
            "fn main() {",
            "    let arguments = base::arguments();",
            *prints,
            "}",
            "",
        ]
    )


# The Pants set-up ----------------------------------------------------------------------------


def copy_pants_setup(source: Path, dest: Path) -> None:
    """Copies the set-up files a fresh clone of `source` would have, plus the crate registry ./pants fetched there."""
    for required in ("pants", "pants.toml", "pants-plugins"):
        if not (source / required).exists():
            raise GenerateError(f"{source} has no {required}: --pants-setup-from must name a wasm-attest checkout.")
    registry = source / REGISTRY
    if not registry.is_dir() or not any(registry.iterdir()):
        raise GenerateError(f"{registry} is missing: run ./pants once in {source} (it fetches the crate registry).")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=source, capture_output=True
    )
    if listed.returncode != 0:
        raise GenerateError(f"{source} is not a git checkout (`git ls-files` says: {listed.stderr.decode().strip()}).")
    listing = listed.stdout.decode()
    for name in filter(None, listing.split("\0")):
        # The plugin's own BUILD files declare Python targets, which the adopter's set-up has no backend for.
        if (name in SETUP_FILES or name.startswith(SETUP_FOLDERS)) and Path(name).name != "BUILD":
            if (source / name).is_file():  # a tracked file deleted from the work tree is listed too
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, dest / name)
    (dest / "pants.toml").write_text(adopter_configuration((source / "pants.toml").read_text()))
    # With its stamp file, so ./pants in the copy finds the registry complete and fetches nothing.
    shutil.copytree(registry, dest / REGISTRY)


def adopter_configuration(pants_toml: str) -> str:
    """`pants_toml` as a Rust monorepo adopting the plugin has it: its backend alone, no Python backend tables."""
    lines, in_python_table, in_backends = [], False, False
    for line in pants_toml.splitlines(keepends=True):
        table = re.match(r"^\[([^\]]+)\]\s*$", line)
        if table:
            in_python_table = table.group(1) in PYTHON_BACKEND_TABLES
        if in_python_table:
            continue
        if line.startswith("backend_packages"):
            lines.append(f"backend_packages = {ADOPTER_BACKENDS}\n")
            in_backends = "]" not in line
            continue
        if in_backends:
            in_backends = "]" not in line
            continue
        lines.append(line)
    configuration = "".join(lines)
    parsed = tomllib.loads(configuration)
    if parsed.get("GLOBAL", {}).get("backend_packages") != ["wasm_component"]:
        raise GenerateError("pants.toml has no [GLOBAL] backend_packages list to replace with the plugin's backend.")
    return configuration


def defines_target_type(setup: Path, alias: str) -> bool:
    """Whether the plugin in `setup` declares a target type `alias` (the BUILD files need cargo_crate)."""
    declaration = f'alias = "{alias}"'
    return any(declaration in path.read_text() for path in (setup / "pants-plugins").rglob("*.py"))


# The toolchain -------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where ./pants keeps the toolchain archive (WASM_ATTEST_CACHE, as the launcher reads it)."""
    configured = os.environ.get("WASM_ATTEST_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wasm-attest"


@dataclass(frozen=True)
class Toolchain:
    """The pinned toolchain archive, extracted, and a host linker wrapper for build scripts."""

    root: Path
    host_linker: Path

    @property
    def cargo(self) -> Path:
        return self.root / "bin" / "cargo"

    def cargo_env(self, cargo_home: Path, target_dir: Path) -> dict[str, str]:
        """cargo's environment as cargo_in_sandbox.sh sets it: nothing from the host, no PATH, no HOME."""
        return {
            "CARGO_HOME": str(cargo_home),
            "RUSTC": str(self.root / "bin" / "rustc"),
            "RUSTDOC": str(self.root / "bin" / "rustdoc"),
            "CARGO_TARGET_DIR": str(target_dir),
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": str(self.host_linker),
            "CARGO_TERM_COLOR": "never",
            "CARGO_INCREMENTAL": "0",
        }


def prepare_toolchain() -> Toolchain:
    """Extracts the archive ./pants built, once per archive content, into the wasm-attest cache."""
    archive = cache_dir() / "toolchain" / TOOLCHAIN_ARCHIVE
    if not archive.is_file():
        raise GenerateError(f"The toolchain archive {archive} is missing: run ./pants once (it builds it).")
    root = cache_dir() / "monorepo-benchmark" / f"toolchain-{sha256_file(archive)[:16]}"
    if not (root / ".complete").is_file():
        progress(f"extracting {archive} into {root} (once per toolchain archive)")
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="toolchain-", dir=root.parent))
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(staging)], check=True)
        (staging / ".complete").touch()
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    host_linker = root.parent / "host-linker"
    cc = system_binary("cc")
    host_linker.write_text(f'#!/bin/bash\nexec {cc} -B{Path(system_binary("ld")).parent}/ "$@"\n')
    host_linker.chmod(0o755)
    return Toolchain(root, host_linker)


def system_binary(name: str) -> str:
    found = shutil.which(name, path=SYSTEM_BIN_DIRS)
    if found is None:
        raise GenerateError(f"No `{name}` in {SYSTEM_BIN_DIRS}: install a C toolchain (build scripts are linked for the host).")
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_registry_config(cargo_home: Path, registry: Path) -> None:
    """A CARGO_HOME whose config replaces crates.io with the directory registry, as the plugin's sandbox does."""
    cargo_home.mkdir(parents=True, exist_ok=True)
    (cargo_home / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "wasm-attest-crates"\n\n'
        f'[source.wasm-attest-crates]\ndirectory = "{registry}"\n'
    )


def run_cargo(toolchain: Toolchain, args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    result = subprocess.run([str(toolchain.cargo), *args], cwd=cwd, env=dict(env), capture_output=True, text=True)
    if result.returncode != 0:
        command = f"cargo {' '.join(args)}"
        raise GenerateError(f"`{command}` in {cwd} failed (exit code {result.returncode}):\n{result.stderr[-3000:]}")


def generate_lockfile(workspace: Path, registry: Path, toolchain: Toolchain) -> None:
    """`cargo generate-lockfile --offline` against the directory registry: only crates this project can build."""
    with tempfile.TemporaryDirectory(prefix="cargo-home-") as scratch:
        cargo_home = Path(scratch, "home")
        write_registry_config(cargo_home, registry)
        env = toolchain.cargo_env(cargo_home, Path(scratch, "target"))
        run_cargo(toolchain, ("generate-lockfile", "--offline"), workspace, env)


# Writing it all --------------------------------------------------------------------------------


def generate(dest: Path, monorepo: Monorepo, arguments: str, setup: Path, toolchain: Toolchain) -> str:
    """Writes the repository at `dest` (new or empty) and commits it; returns the commit id.

    It is built in a sibling folder and renamed into place, so a failure leaves nothing at `dest`.
    """
    if dest.exists() and any(dest.iterdir()):
        raise GenerateError(f"{dest} is not empty: give --dest a new or empty folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        staging.chmod(0o755)
        progress(f"copying the Pants set-up of {setup}")
        copy_pants_setup(setup, staging)
        progress(f"writing {len(monorepo.components)} components and {len(monorepo.libraries)} libraries")
        for path, content in workspace_files(monorepo, arguments).items():
            (staging / path).parent.mkdir(parents=True, exist_ok=True)
            (staging / path).write_text(content)
        progress("generating Cargo.lock offline against the crate registry")
        generate_lockfile(staging / WORKSPACE, staging / REGISTRY, toolchain)
        commit_id = commit(staging, f"Generated monorepo: {arguments}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.replace(staging, dest)  # rename(2) replaces an empty folder too
    return commit_id


def commit(repository: Path, message: str) -> str:
    env = {**os.environ, **GIT_ENVIRONMENT}
    git = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "--message", message]):
        subprocess.run([*git, *args], cwd=repository, env=env, check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()


def describe(monorepo: Monorepo) -> str:
    """The dependency table a reader (and benchmark.py) checks rebuild counts against."""
    total = len(monorepo.components)
    rows = [f"{'library':<8}  {'depends on':<24}  {'used directly by':>16}  {'rebuilt by an edit to it':>24}"]
    for library in monorepo.libraries:
        direct = sum(library.name in component.libraries for component in monorepo.components)
        rows.append(
            f"{library.name:<8}  {', '.join(library.libraries + library.registry) or '-':<24}  "
            f"{f'{direct} of {total}':>16}  {f'{len(monorepo.dependents(library.name))} of {total}':>24}"
        )
    return "\n".join(rows)


def progress(message: str) -> None:
    print(f"[monorepo] {message}", file=sys.stderr, flush=True)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that decide what is generated; benchmark.py takes the same ones."""
    parser.add_argument("--components", type=positive, default=30, metavar="N", help="how many components (default 30)")
    parser.add_argument(
        "--libraries",
        type=int,
        choices=range(1, len(LIBRARIES) + 1),
        default=len(LIBRARIES),
        metavar="K",
        help=f"how many shared libraries, the first K of {', '.join(library.name for library in LIBRARIES)} "
        f"(default {len(LIBRARIES)})",
    )
    parser.add_argument(
        "--pants-setup-from",
        type=Path,
        default=THIS_REPOSITORY,
        metavar="DIR",
        help=f"the wasm-attest checkout whose Pants set-up and plugin to copy (default: {THIS_REPOSITORY})",
    )


def plan_arguments(args: argparse.Namespace) -> str:
    """The options as the generated files record them (the set-up folder is left out: it is not content)."""
    return f"--components {args.components} --libraries {args.libraries}"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Writes a repository of N wasm_component crates over K shared library crates, one Cargo "
        "workspace and lockfile, with this project's Pants set-up, and commits it: the input of benchmark.py.",
        epilog=__doc__[__doc__.index("The libraries are") : __doc__.index("Cargo.lock is generated")],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dest", type=Path, required=True, metavar="DIR", help="where to write it (new or empty)")
    add_plan_arguments(parser)
    args = parser.parse_args()
    setup = args.pants_setup_from.resolve()
    monorepo = plan(args.components, args.libraries)
    try:
        commit_id = generate(args.dest.resolve(), monorepo, plan_arguments(args), setup, prepare_toolchain())
    except GenerateError as error:
        sys.exit(f"error: {error}")
    if not defines_target_type(setup, "cargo_crate"):
        progress(
            f"note: the plugin in {setup} has no cargo_crate target type, which the generated BUILD files use; "
            "point --pants-setup-from at a checkout that has it before running ./pants there."
        )
    print(f"{args.dest}: {len(monorepo.components)} components, {len(monorepo.libraries)} libraries, commit {commit_id}")
    print(describe(monorepo))


if __name__ == "__main__":
    main()
