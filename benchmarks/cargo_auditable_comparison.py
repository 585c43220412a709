"""Our `.dep-v0` side by side with cargo-auditable's, on every testproject.

cargo-auditable defined the `.dep-v0` custom section (zlib-compressed JSON of
the crates in a binary), and `cargo audit bin`, syft, trivy and
`wasm-tools metadata show` read what it writes. So our embed step must write
the same format, and every difference in content must be one we chose and
can explain. For every `wasm_component(...)` declared under `testprojects/`,
this script

- builds the crate twice, in a temporary copy laid out like the plugin's build
  sandbox (`<cargo root>/`, `target/`). First `cargo build` (the size
  baseline), then `cargo auditable build` in the same target folder. Both run
  with `--locked --offline --target wasm32-wasip2 --profile <profile> -p <package>
  --bin <bin>`, as the plugin runs cargo (util_rules/build.py), and as
  cargo_in_sandbox.sh sets cargo up: the pinned toolchain archive's cargo and
  rustc, a fresh CARGO_HOME whose config.toml replaces crates.io with the
  repository's directory registry, the host linker wrapper, no host
  environment, and the plugin's `--remap-path-prefix` flags. The registry is
  remapped to /vendor, where the plugin's vendored copies go, so panic
  messages name the same paths, and the plain build is byte for byte what the
  plugin's build step makes. cargo-auditable wraps rustc only for the
  workspace's own crates, so the second build recompiles just those. cargo
  hashes the wrapper into their `-C metadata`, so their symbols, and with
  them LLVM's code partitioning, can change: on many-deps this moves the
  component by a few hundred bytes besides the section, which is why the
  section's own size is reported too;
- reads cargo-auditable's `.dep-v0` (in the component's nested core module),
  and ours from the component our pipeline wrote after `./pants package ::`, at
  `<dist>/<output_path>/<bin>.wasm` (by default the dist/ of the checkout this
  script is in; `--dist` names another, which is only meaningful if its
  testprojects are the same);
- prints, per component: crates only in theirs, only in ours, kind, source
  and root differences, dependency edges only one list has, which crate each
  marks as root, whether our encoder turns their list into their exact JSON,
  and the bytes each adds. Theirs adds their component minus the plain build.
  Ours adds our component minus the plain build (everything our pipeline
  embeds), with our `.dep-v0` section alone beside it, and a check that our
  component differs from the plain build only in top-level custom sections;
- prints a total line, then the size of a synthetic 400-crate list encoded with
  our `encode_dep_v0`, against cargo-auditable's "under 4 kB even on large
  dependency trees with 400+ entries".

cargo-auditable itself comes from build-support/cargo_auditable/fetch_cargo_auditable.py
(Debian sid's 0.7.7 on trixie's glibc). This script runs it first; once the
tool is fetched, that run does nothing. The core library is imported from
this checkout's src/python (an explicit PYTHONPATH takes precedence).

Usage, from the repository root, after `./pants package ::` (which also builds
the toolchain archive, the crate registry and the venv, named after the hash of
build-support/pants-requirements.txt; use its Python):

    ~/.cache/wasm-attest/venv-$(sha256sum build-support/pants-requirements.txt | cut -c1-16)/bin/python \\
      benchmarks/cargo_auditable_comparison.py [--only NAME] [--dist DIR] [--save DIR]

It exits 0 when it could run, whatever the differences; a component it could
not build or read is reported as ERROR.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

# Here as well as in testprojects.py: importing that module needs this path.
REPO = Path(__file__).resolve().parents[1]
# Appended, not prepended: a PYTHONPATH given on the command line wins.
sys.path.append(str(REPO / "src" / "python"))

USAGE = (
    "~/.cache/wasm-attest/venv-$(sha256sum build-support/pants-requirements.txt | cut -c1-16)/bin/python "
    "benchmarks/cargo_auditable_comparison.py [--only NAME] [--dist DIR] [--save DIR]"
)

try:
    from wasm_attest.dep_v0 import SECTION_NAME, AuditablePackage, DependencyList, decode_dep_v0, encode_dep_v0
    from wasm_attest.errors import WasmAttestError
    from wasm_attest.wasm_sections import CustomSection, custom_sections, with_custom_sections

    from testprojects import (
        REGISTRY,
        Component,
        add_only_option,
        cargo_env,
        discover_components,
        extract_toolchain,
        selected_components,
        toolchain_archive,
        write_host_linker,
    )
except ImportError as missing:
    if (missing.name or "").startswith("wasm_attest"):
        sys.exit(f"{missing}: the core library in {REPO}/src/python (or on PYTHONPATH) lacks what this script reads.")
    sys.exit(f"{missing}. Run the script with the Pants venv's Python:\n  {USAGE}")

FETCH_CARGO_AUDITABLE = REPO / "build-support" / "cargo_auditable" / "fetch_cargo_auditable.py"
WASM_TARGET = "wasm32-wasip2"

SYNTHETIC_DEPENDENCIES = 400
CARGO_AUDITABLE_400_FIGURE = 4096
"""cargo-auditable's README: "under 4kB even on large dependency trees with 400+ entries" (read as 4096 B)."""
CRATE_FAMILY_SUFFIXES = ("derive", "macros", "core", "impl", "sys", "util", "shared", "support", "types", "codegen")


class ComparisonError(Exception):
    """A component cannot be compared (cargo failed, a file is missing); the message says why."""


@dataclass(frozen=True)
class Tools:
    """The extracted toolchain archive, the host linker wrapper and cargo-auditable."""

    toolchain: Path
    host_linker: Path
    cargo_auditable: Path


@dataclass(frozen=True)
class Builds:
    """The same crate built plainly and with cargo-auditable, and how long each took."""

    plain: bytes
    auditable: bytes
    plain_seconds: float
    auditable_seconds: float


@dataclass(frozen=True)
class Embedded:
    """A `.dep-v0` read from a component: the decoded list, its payload and where it sits."""

    dependencies: DependencyList
    payload: bytes
    depth: int
    before_nested_modules: bool
    """Whether it is a top-level section that comes before every nested module (see `placement`)."""

    @property
    def section_bytes(self) -> int:
        return custom_section_size(SECTION_NAME, len(self.payload))


@dataclass(frozen=True)
class OurComponent:
    """The component our pipeline delivered, compared with the plain build."""

    path: Path
    size: int
    dep_v0: Embedded | None
    """None until the pipeline's embed step writes one."""
    only_custom_sections_differ: bool
    """Whether it is the plain build with only top-level custom sections added or changed."""
    section_changes: tuple[str, ...]
    """Each top-level custom section whose size differs from the plain build's: `name +N B`."""


@dataclass(frozen=True)
class ListDifferences:
    """How two dependency lists differ, each entry one printable line."""

    only_theirs: tuple[str, ...]
    only_ours: tuple[str, ...]
    fields: tuple[str, ...]
    edges: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """One component: cargo-auditable's `.dep-v0` and ours, how they differ and what each costs."""

    component: Component
    builds: Builds
    theirs: Embedded
    ours: OurComponent | None
    """None when our pipeline has not packaged the component."""
    differences: ListDifferences | None
    """None until our component carries a `.dep-v0`."""

    @property
    def their_added(self) -> int:
        return len(self.builds.auditable) - len(self.builds.plain)

    @property
    def our_added(self) -> int | None:
        """What our pipeline embeds; None until our component carries a `.dep-v0`."""
        if self.ours is None or self.ours.dep_v0 is None:
            return None
        return self.ours.size - len(self.builds.plain)

    @property
    def our_section_bytes(self) -> int | None:
        return None if self.ours is None or self.ours.dep_v0 is None else self.ours.dep_v0.section_bytes


@dataclass(frozen=True)
class Failure:
    component: Component
    message: str


# Set-up -----------------------------------------------------------------------


def prepare_tools(work: Path) -> Tools:
    """Extract the toolchain, write the host linker wrapper and fetch (or find) cargo-auditable."""
    archive = toolchain_archive()
    fetched = subprocess.run([sys.executable, str(FETCH_CARGO_AUDITABLE)], stdout=subprocess.PIPE, text=True)
    if fetched.returncode != 0:
        sys.exit(f"{FETCH_CARGO_AUDITABLE.relative_to(REPO)} failed (its message is above).")
    progress(f"extracting {archive.name} ...")
    toolchain = extract_toolchain(archive, work)
    return Tools(toolchain, write_host_linker(work), Path(fetched.stdout.strip().splitlines()[-1]))


# The builds ---------------------------------------------------------------------


def build_both(component: Component, tools: Tools, sandbox: Path) -> Builds:
    """Build plainly, keep the component, then build again with cargo-auditable in the same target folder."""
    crate_dir = sandbox / component.root
    shutil.copytree(REPO / component.root, crate_dir, ignore=shutil.ignore_patterns("target", "BUILD"))
    cargo_home = sandbox / ".cargo-home"
    (cargo_home / "bin").mkdir(parents=True)
    # cargo finds `cargo auditable` as a subcommand in CARGO_HOME/bin, so the build needs no PATH.
    (cargo_home / "bin" / "cargo-auditable").symlink_to(tools.cargo_auditable)
    # In CARGO_HOME rather than --config: cargo-auditable runs cargo again, and `cargo metadata`
    # from its rustc wrapper, and both must see the replaced source too.
    (cargo_home / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "wasm-attest-crates"\n\n'
        f'[source.wasm-attest-crates]\ndirectory = "{REGISTRY}"\n'
    )
    component_file = sandbox / "target" / WASM_TARGET / component.profile_directory / f"{component.bin}.wasm"
    plain_seconds = run_cargo(cargo_build_args(component), tools, sandbox, crate_dir)
    plain = component_file.read_bytes()
    auditable_seconds = run_cargo(("auditable", *cargo_build_args(component)), tools, sandbox, crate_dir)
    return Builds(plain, component_file.read_bytes(), plain_seconds, auditable_seconds)


def cargo_build_args(component: Component) -> tuple[str, ...]:
    """The plugin's build command (build.py), less the JSON messages only its SBOM step reads."""
    features = ("--features", ",".join(component.features)) if component.features else ()
    no_default = ("--no-default-features",) if component.no_default_features else ()
    return (
        "build", "--locked", "--offline", "--target", WASM_TARGET, "--profile", component.profile,
        "--package", component.package, "--bin", component.bin, *features, *no_default,
    )  # fmt: skip


def run_cargo(args: Sequence[str], tools: Tools, sandbox: Path, crate_dir: Path) -> float:
    """Run the toolchain's cargo as cargo_in_sandbox.sh does; return the wall time."""
    start = time.perf_counter()
    result = subprocess.run(
        [str(tools.toolchain / "bin" / "cargo"), *args],
        cwd=crate_dir,
        env=cargo_env(tools.toolchain, tools.host_linker, sandbox, crates=REGISTRY),
        capture_output=True,
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise ComparisonError(f"cargo {' '.join(args[:2])} failed with exit code {result.returncode}:\n{stderr[-2000:]}")
    return time.perf_counter() - start


# Reading ------------------------------------------------------------------------------


def read_dep_v0(component_bytes: bytes, origin: str, *, nested: bool) -> Embedded | None:
    """The one `.dep-v0` of a component (at its top level, or also in nested modules); None if it has none."""
    sections = custom_sections(component_bytes, name=SECTION_NAME, nested=nested)
    if not sections:
        return None
    if len(sections) > 1:
        raise ComparisonError(f"{origin} holds {len(sections)} {SECTION_NAME} sections; a reader cannot tell which applies")
    section = sections[0]
    first = section.depth == 0 and comes_first(component_bytes, section)
    return Embedded(decode_dep_v0(section.payload), section.payload, section.depth, first)


def comes_first(component_bytes: bytes, section: CustomSection) -> bool:
    """Whether `section` is listed before any custom section of a nested module.

    custom_sections lists a nested module's sections where the module sits,
    and every module wasm-component-ld writes has a `producers` section, so
    this tells whether the section precedes the first nested module.
    """
    for listed in custom_sections(component_bytes):
        if listed == section:
            return True
        if listed.depth > 0:
            return False
    return False


def read_our_component(path: Path, plain: bytes) -> OurComponent | None:
    """Our delivered component, its top-level `.dep-v0` and how it differs from the plain build."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    ours, baseline = top_level_custom_sections(data), top_level_custom_sections(plain)
    names = sorted({section.name for section in (*ours, *baseline)})
    # Replacing every top-level custom section of both with the same empty ones leaves only the rest to compare.
    blanks = [(name, b"") for name in names]
    deltas = {name: sections_size(ours, name) - sections_size(baseline, name) for name in names}
    return OurComponent(
        path=path,
        size=len(data),
        dep_v0=read_dep_v0(data, str(path), nested=False),
        only_custom_sections_differ=with_custom_sections(data, blanks) == with_custom_sections(plain, blanks),
        section_changes=tuple(f"{name} {delta:+d} B" for name, delta in deltas.items() if delta),
    )


def top_level_custom_sections(data: bytes) -> tuple[CustomSection, ...]:
    return custom_sections(data, nested=False)


def sections_size(sections: Sequence[CustomSection], name: str) -> int:
    return sum(custom_section_size(section.name, len(section.payload)) for section in sections if section.name == name)


def custom_section_size(name: str, payload_bytes: int) -> int:
    """Bytes a custom section takes in the file: id, LEB128 size, LEB128 name length, name, payload."""
    encoded_name = len(name.encode())
    content = leb128_size(encoded_name) + encoded_name + payload_bytes
    return 1 + leb128_size(content) + content


def leb128_size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


# Comparing -----------------------------------------------------------------------------


def compare(component: Component, builds: Builds, dist: Path) -> Comparison:
    """Read both sections and list every way they differ."""
    # cargo-auditable's section is in the nested core module; ours, by design, at the component's top level.
    theirs = read_dep_v0(builds.auditable, "cargo-auditable's component", nested=True)
    if theirs is None:
        raise ComparisonError(f"cargo auditable build wrote no {SECTION_NAME} section into {component.bin}.wasm")
    ours = read_our_component(dist / component.output_path / f"{component.bin}.wasm", builds.plain)
    differences = None
    if ours is not None and ours.dep_v0 is not None:
        differences = list_differences(theirs.dependencies, ours.dep_v0.dependencies)
    return Comparison(component, builds, theirs, ours, differences)


def package_key(package: AuditablePackage) -> str:
    """Packages are told apart by name and version: a lockfile may hold two versions of a crate."""
    return f"{package.name} {package.version}"


def list_differences(theirs: DependencyList, ours: DependencyList) -> ListDifferences:
    their_packages = {package_key(package): package for package in theirs.packages}
    our_packages = {package_key(package): package for package in ours.packages}
    common = their_packages.keys() & our_packages.keys()
    return ListDifferences(
        only_theirs=tuple(describe(their_packages[key]) for key in sorted(their_packages.keys() - common)),
        only_ours=tuple(describe(our_packages[key]) for key in sorted(our_packages.keys() - common)),
        fields=tuple(
            line for key in sorted(common) for line in field_differences(their_packages[key], our_packages[key])
        ),
        edges=tuple(line for key in sorted(common) for line in edge_differences(key, theirs, ours, common)),
    )


def describe(package: AuditablePackage) -> str:
    root = ", root" if package.root else ""
    return f"{package.name} {package.version} ({package.kind}, {package.source}{root})"


def field_differences(theirs: AuditablePackage, ours: AuditablePackage) -> list[str]:
    """The kind, source and root flag of one crate, where the two lists disagree."""
    return [
        f"{package_key(theirs)}: {field} {getattr(theirs, field)!r} (theirs) vs {getattr(ours, field)!r} (ours)"
        for field in ("kind", "source", "root")
        if getattr(theirs, field) != getattr(ours, field)
    ]


def edge_differences(key: str, theirs: DependencyList, ours: DependencyList, common: set[str]) -> list[str]:
    """Dependency edges of one crate that only one list has, between crates both lists hold.

    Edges to a crate only one list holds follow from that crate's absence and are not repeated.
    """
    their_edges = dependency_keys(key, theirs) & common
    our_edges = dependency_keys(key, ours) & common
    parts = [
        f"{label} -> {', '.join(sorted(edges))}"
        for label, edges in (("only theirs", their_edges - our_edges), ("only ours", our_edges - their_edges))
        if edges
    ]
    return [f"{key}: {'; '.join(parts)}"] if parts else []


def dependency_keys(key: str, dependencies: DependencyList) -> set[str]:
    packages = dependencies.packages
    package = next(package for package in packages if package_key(package) == key)
    return {package_key(packages[index]) for index in package.dependencies}


# The synthetic 400-dependency list ------------------------------------------------------


def synthetic_dependency_list(count: int) -> DependencyList:
    """A reproducible list shaped like a real dependency graph: `count` crates and a root.

    Real lists compress well because names, versions and dependency targets
    repeat, so the model keeps those properties rather than using random text
    (too pessimistic) or one repeated entry (too optimistic):
    - names are the registry's real crate names, then those names with the
      suffixes real crate families use (`serde_derive`, `wasm-bindgen-shared`),
      and a family member has its base crate's real version, as families are
      released together;
    - each crate has 0-3 dependencies, 1.5 on average as in many-deps' real
      list, drawn with a strong preference for a few foundational crates
      (as `libc`, `cfg-if` and `serde` are depended on everywhere). A crate only
      depends on crates more foundational than itself, so there is no cycle.
    The root depends on 40 crates.
    """
    rng = random.Random(SYNTHETIC_DEPENDENCIES)
    versions = dict(
        folder.name.rsplit("-", 1) for folder in sorted(REGISTRY.iterdir()) if folder.is_dir() and "-" in folder.name
    )
    family = {
        f"{base}-{suffix}": version
        for base, version in versions.items()
        for suffix in CRATE_FAMILY_SUFFIXES
        if f"{base}-{suffix}" not in versions  # csv-core is a real crate already
    }
    if len(versions) + len(family) < count:
        raise SystemExit(f"{REGISTRY} has too few crates ({len(versions)}) to name {count} synthetic ones.")
    chosen = {**versions, **dict(rng.sample(sorted(family.items()), max(0, count - len(versions))))}
    names = sorted(chosen)[:count]
    foundational_rank = rng.sample(range(count), count)  # 0 is the most depended-on crate
    by_rank = sorted(range(count), key=foundational_rank.__getitem__)
    weights = [1 / (rank + 1) for rank in range(count)]
    packages = []
    for index, name in enumerate(names):
        rank = foundational_rank[index]
        wanted = min(rank, rng.randrange(4))
        targets: set[int] = set()
        while len(targets) < wanted:
            targets.add(by_rank[rng.choices(range(rank), weights=weights[:rank])[0]])
        packages.append(AuditablePackage(name, chosen[name], "crates.io", dependencies=tuple(sorted(targets))))
    root = AuditablePackage(
        "app", "0.1.0", "local", dependencies=tuple(sorted(rng.sample(range(count), min(count, 40)))), root=True
    )
    return DependencyList(packages=(*packages, root), format=1)


# Report ------------------------------------------------------------------------------


def report(results: Sequence[Comparison | Failure], synthetic: DependencyList) -> str:
    compared = [result for result in results if isinstance(result, Comparison)]
    lines = ["cargo-auditable's .dep-v0 against ours, per component", ""]
    for result in results:
        lines.extend(component_report(result))
        lines.append("")
    lines.extend(size_table(compared))
    lines.append("")
    lines.extend(synthetic_report(synthetic, compared))
    return "\n".join(lines)


def component_report(result: Comparison | Failure) -> list[str]:
    if isinstance(result, Failure):
        return [f"{result.component.address}: ERROR {result.message}"]
    theirs = result.theirs
    through_ours = encode_dep_v0(theirs.dependencies)
    same_json = zlib.decompress(through_ours) == zlib.decompress(theirs.payload)
    lines = [
        result.component.address,
        f"  theirs: {list_summary(theirs)}",
        f"          their list through our encoder: {'the same' if same_json else 'DIFFERENT'} JSON text, "
        f"payload {len(through_ours)} B ({'byte-identical' if through_ours == theirs.payload else 'other zlib bytes'})",
    ]
    ours = result.ours
    if ours is None:
        return [*lines, f"  ours:   not packaged (run ./pants package {result.component.address})"]
    if ours.dep_v0 is None:
        lines.append(f"  ours:   {ours.path} has no {SECTION_NAME} (its embed step has not run)")
    else:
        lines.append(f"  ours:   {list_summary(ours.dep_v0)}")
    identical = "yes" if ours.only_custom_sections_differ else "NO (built from other sources or flags?)"
    lines.append(f"          apart from top-level custom sections, the plain build: {identical}")
    lines.append(f"          top-level custom sections against the plain build: {', '.join(ours.section_changes) or 'the same'}")
    if result.differences is not None:
        for title, items in (
            ("only in theirs", result.differences.only_theirs),
            ("only in ours", result.differences.only_ours),
            ("kind/source/root differ", result.differences.fields),
            ("dependency edges differ", result.differences.edges),
        ):
            lines.append(f"  {title}: {len(items) or 'none'}")
            lines.extend(f"    {item}" for item in items)
    return lines


def list_summary(embedded: Embedded) -> str:
    packages = embedded.dependencies.packages
    build_only = sum(package.kind != "runtime" for package in packages)
    roots = ", ".join(package_key(package) for package in packages if package.root) or "none marked"
    return (
        f"{crates(len(packages))} ({build_only} kind build), {SECTION_NAME} {embedded.section_bytes} B "
        f"(payload {len(embedded.payload)} B), {placement(embedded)}; root: {roots}"
    )


def placement(embedded: Embedded) -> str:
    """Where the section is, which decides which readers find it (the note under the table says why)."""
    if embedded.depth > 0:
        return f"inside a nested module (depth {embedded.depth})"
    return "at the top level, " + ("before the nested modules" if embedded.before_nested_modules else "after a nested module")


def size_table(compared: Sequence[Comparison]) -> list[str]:
    width = max([len("component"), *(len(result.component.name) for result in compared)])
    header = (
        f"{'component':<{width}}  {'crates theirs/ours':>18}  {'plain build':>11}  {'theirs adds':>11}  "
        f"{'their section':>13}  {'ours adds':>9}  {'our section':>11}  {'build s plain/auditable':>23}"
    )
    rule = "-" * len(header)
    rows = [header, rule]
    for result in compared:
        rows.append(
            f"{result.component.name:<{width}}  {crate_counts([result]):>18}  {len(result.builds.plain):>9} B  "
            f"{result.their_added:>9} B  {result.theirs.section_bytes:>11} B  {optional_bytes(result.our_added):>9}  "
            f"{optional_bytes(result.our_section_bytes):>11}  "
            f"{result.builds.plain_seconds:>12.1f} / {result.builds.auditable_seconds:>8.1f}"
        )
    with_ours = [result for result in compared if result.our_added is not None]
    rows += [
        rule,
        f"{'total':<{width}}  {crate_counts(compared):>18}  {sum(len(r.builds.plain) for r in compared):>9} B  "
        f"{sum(r.their_added for r in compared):>9} B  {sum(r.theirs.section_bytes for r in compared):>11} B  "
        f"{optional_bytes(sum(r.our_added or 0 for r in with_ours) if with_ours else None):>9}  "
        f"{optional_bytes(sum(r.our_section_bytes or 0 for r in with_ours) if with_ours else None):>11}",
        "theirs adds: cargo-auditable's component minus the plain build: its section, plus any change in the code of",
        "  the workspace's own crates (cargo hashes its rustc wrapper into their -C metadata); their section: .dep-v0 alone.",
        "ours adds: our dist component minus the plain build (everything our pipeline embeds); our section: .dep-v0 alone.",
        "placement: auditable-extract (what cargo audit bin reads .dep-v0 with) returns the first .dep-v0 that wasmparser's",
        "  parse_all yields and gives up at the first End. With wasmparser's component-model feature, parse_all descends",
        "  into nested modules, so a top-level section after a nested module is never reached; without it, nested",
        "  sections are never seen. Only a top-level section before the nested modules is found either way.",
    ]
    if len(with_ours) < len(compared):
        rows.append(f"{len(compared) - len(with_ours)} component(s) have no {SECTION_NAME} of ours: '-', left out of our totals.")
    return rows


def crate_counts(results: Sequence[Comparison]) -> str:
    theirs = sum(len(result.theirs.dependencies.packages) for result in results)
    ours = [result.ours.dep_v0 for result in results if result.ours is not None and result.ours.dep_v0 is not None]
    return f"{theirs}/{sum(len(embedded.dependencies.packages) for embedded in ours) if ours else '-'}"


def crates(count: int) -> str:
    return f"{count} crate" if count == 1 else f"{count} crates"


def optional_bytes(value: int | None) -> str:
    return "-" if value is None else f"{value} B"


def synthetic_report(synthetic: DependencyList, compared: Sequence[Comparison]) -> list[str]:
    """Our encoding of the synthetic list, per crate too, beside the largest real list's per-crate cost."""
    payload = encode_dep_v0(synthetic)
    section = custom_section_size(SECTION_NAME, len(payload))
    entries = len(synthetic.packages)
    edges = sum(len(package.dependencies) for package in synthetic.packages)
    verdict = "PASS" if section < CARGO_AUDITABLE_400_FIGURE else "FAIL"
    lines = [
        f"synthetic list: {entries - 1} dependencies + root, {edges} edges; encoded with our encode_dep_v0: "
        f"{section} B as a section (payload {len(payload)} B), {section / entries:.1f} B per crate",
        f"  cargo-auditable's figure for 400+ dependencies: under {CARGO_AUDITABLE_400_FIGURE} B: {verdict}",
    ]
    if compared:
        largest = max(compared, key=lambda result: len(result.theirs.dependencies.packages))
        real = largest.theirs
        lines.append(
            f"  for scale, the largest real list here ({largest.component.name}, cargo-auditable's): "
            f"{crates(len(real.dependencies.packages))} in {real.section_bytes} B, "
            f"{real.section_bytes / len(real.dependencies.packages):.1f} B per crate"
        )
    return lines


def save(component: Component, builds: Builds, folder: Path) -> None:
    """Keep both builds for a closer look (`wasm-tools metadata show`, `wasm-tools objdump`)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{component.name}.plain.wasm").write_bytes(builds.plain)
    (folder / f"{component.name}.auditable.wasm").write_bytes(builds.auditable)


def progress(message: str) -> None:
    print(f"[comparison] {message}", file=sys.stderr, flush=True)


# Entry point ----------------------------------------------------------------------


def parse_args(components: list[Component]) -> tuple[argparse.Namespace, list[Component]]:
    parser = argparse.ArgumentParser(
        description="Builds every testproject wasm_component with cargo-auditable and compares its .dep-v0 "
        "with the one in our packaged component; reports the size each adds.",
        epilog=f"Run it from the repository root after ./pants package ::\n  {USAGE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_only_option(parser, components, verb="compare")
    parser.add_argument(
        "--dist",
        type=Path,
        default=REPO / "dist",
        help="where `./pants package` wrote our components, as <dist>/<output_path>/<bin>.wasm (default: %(default)s)",
    )
    parser.add_argument(
        "--save",
        type=Path,
        metavar="DIR",
        help="also write each plain and cargo-auditable component to DIR/<name>.{plain,auditable}.wasm",
    )
    args = parser.parse_args()
    return args, selected_components(parser, args, components)


def main() -> None:
    args, selected = parse_args(discover_components())
    results: list[Comparison | Failure] = []
    with tempfile.TemporaryDirectory(prefix="wasm-attest-auditable-") as scratch:
        work = Path(scratch)
        tools = prepare_tools(work)
        for component in selected:
            progress(f"{component.address}: cargo build, then cargo auditable build ...")
            try:
                builds = build_both(component, tools, work / component.name)
                if args.save:
                    save(component, builds, args.save)
                results.append(compare(component, builds, args.dist.resolve()))
            except (ComparisonError, WasmAttestError) as error:
                progress(f"{component.address}: could not be compared (ERROR in the report)")
                results.append(Failure(component, str(error)))
    print(report(results, synthetic_dependency_list(SYNTHETIC_DEPENDENCIES)))


if __name__ == "__main__":
    main()
