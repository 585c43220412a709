"""How the plugin scales to a monorepo: cold build, no-op, incremental rebuilds, and plain cargo for comparison.

It generates a repository with generate.py (N components over a chain of
shared library crates, one Cargo workspace and lockfile, this project's Pants
set-up) in a work folder, then measures, as wall time of the whole `./pants`
command (launcher included):

1. cold `./pants package ::`. Cold means: a repository Pants has never seen
   (no .pants.d, no pantsd running), an empty Pants local store (process cache
   and file store: the toolchain archive is ingested again) and empty named
   caches, both in the work folder (`--local-store-dir`, `--named-caches-dir`).
   Not cold: what ./pants sets up once per machine (the venv, the Pex CLI, the
   toolchain archive, the crate registry), the development signing keys, and
   the operating system's file cache.
2. a no-op `./pants package ::` with pantsd warm: the first run after the cold
   one, and the median of --warm-runs runs (target: <= 1.5 s); beside it, for
   reference, `./pants --version`, the floor every command pays (the launcher,
   Pants' Python client and a round trip to pantsd), and `./pants --no-pantsd
   --version`, Pants' own start-up (options, backends, rule graph), which a
   cold run pays before any work of the plugin: Pants 2.17 with no backend at
   all takes about as long, so no plugin can remove it;
3. an edit to one component's src/main.rs: a comment with a fresh nonce, so the
   content changes (Pants caches by content; a bare `touch` changes nothing);
   only that component may rebuild ("rebuilt: 1 of N");
4. the same edit to a shared library's src/lib.rs (--touch-library): exactly
   the components that use it, directly or through another library, must
   rebuild; that number comes from the generator's dependency table;
5. a second checkout of the same commit at another path, cold with a Pants
   store of its own: every bundle (`package` verifies each one before writing
   it) must be bit-identical to the first checkout's cold bundles.

For the cold run it also prints where the time went, from Pants' own log
lines: start-up, the work before vendoring (toolchain ingestion, target
graph), vendoring, the one compile of the workspace's registry crates
(`Compile dependencies of ...`), the component compiles, the cargo metadata
reads, and what follows the last process (attestation, verification, writing
dist/). The spans overlap where Pants runs work in parallel.

A rebuild is a `Compile <address> for wasm32-wasip2` process that Pants ran (a
cache hit runs nothing): Pants logs `Completed: <description>` for each process
it runs when the dynamic UI is off, and the benchmark reads those lines; the
`shared` column counts `Compile dependencies of ...` processes (the workspace's
registry crates, compiled once and shared by every component build).

Then plain cargo builds the same workspace with the same toolchain archive,
offline, against the same crate registry, release, for wasm32-wasip2, with a
fresh CARGO_HOME and target folder each:

- `cargo build -p NAME` for each component in turn, in the workspace's one
  target folder (what a developer's shell loop does: each library and registry
  crate compiles once and is reused); the ratio pants-cold / this loop is the
  headline comparison;
- the same loop with a fresh target folder per component: what each Pants
  sandbox does (it shares no compiled crates with the others), so the gap
  between the two loops is the cost of hermetic per-component builds and the
  rest is Pants' own overhead;
- `cargo build --workspace` once: the reference of the cold target (Pants
  cold <= 2x this).

Progress goes to stderr, the table to stdout. It exits 0 when everything ran
(a missed target shows as FAIL), 1 if a command failed (the work folder is
then kept, with each command's log), 2 for a usage error.

Usage (any Python >= 3.9; ./pants must have run once in the set-up repository):

    python3 benchmarks/monorepo/benchmark.py [--components 30] [--pants-setup-from DIR] [--keep]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from generate import (
    REGISTRY,
    WORKSPACE,
    GenerateError,
    Monorepo,
    Toolchain,
    add_plan_arguments,
    defines_target_type,
    describe,
    generate,
    plan,
    plan_arguments,
    prepare_toolchain,
    write_registry_config,
)

NO_OP_TARGET_SECONDS = 1.5
EDIT_TARGET_SECONDS = 3.0
COLD_TARGET_RATIO = 2.0
WASM_TARGET = "wasm32-wasip2"
# build.py describes each build Process as `Compile <address> for wasm32-wasip2 (<profile>)`.
COMPILED = re.compile(r"\bCompleted: Compile (\S+) for " + re.escape(WASM_TARGET))
COMPILE_STARTED = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \[INFO\] Starting: Compile ", re.MULTILINE)
COMPILE_CANCELED = re.compile(r"\bCanceled: Compile ")
SHARED_COMPILED = re.compile(r"\bCompleted: Compile dependencies of ")
LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \[\w+\] (Starting|Completed|Scheduler initialized)(?:: (.*)|\.)?$", re.MULTILINE)
# Phases of a cold run, by the process descriptions that begin and end them (see `phases`).
PHASES = (
    ("vendoring", "Vendor crates for "),
    ("registry crates, once (Compile dependencies of)", "Compile dependencies of "),
    ("component compiles", "Compile rust/"),
    ("cargo metadata reads", "Read the cargo metadata of "),
)
START_UP_RUNS = 3
START_UP_ROW = "pants: ./pants --no-pantsd --version"
CARGO_BUILD = ("build", "--release", "--target", WASM_TARGET, "--locked", "--offline")


class BenchmarkError(Exception):
    """A command the benchmark runs failed; the message says which and where its log is."""


@dataclass(frozen=True)
class PantsRun:
    seconds: float
    rebuilt: tuple[str, ...]
    """The components whose Compile process ran, by name."""
    first_compile_after: float | None
    """Seconds from the command's start to the first `Starting: Compile` line: start-up, toolchain, vendoring."""
    restarts: int
    """Compile processes Pants cancelled and started again (its scheduler rebalancing their cargo jobs)."""
    shared_compiles: int
    """`Compile dependencies of ...` processes that ran: the workspace's registry crates."""
    started: datetime
    log: str


@dataclass(frozen=True)
class Row:
    measurement: str
    seconds: float
    compiles: str
    check: str = ""


class Workspace:
    """The work folder: the generated repository, Pants' fresh caches, cargo's folders and every command's log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repository = root / "repository"
        self.logs = root / "logs"
        self.pants_cache = root / "pants-cache"
        self.cargo = root / "cargo"
        self.logs.mkdir(parents=True)

    def log(self, name: str, text: str) -> Path:
        path = self.logs / f"{name}.log"
        path.write_text(text)
        return path


# Pants -------------------------------------------------------------------------------------


class Pants:
    """./pants in the generated repository, always with the same caches and options, so pantsd is reused."""

    def __init__(self, work: Workspace, repository: Path | None = None, cache: Path | None = None) -> None:
        self.work = work
        self.repository = repository or work.repository
        cache = cache or work.pants_cache
        self.options = (
            "--no-dynamic-ui",
            f"--local-store-dir={cache / 'lmdb_store'}",
            f"--named-caches-dir={cache / 'named_caches'}",
        )
        self.env = {name: os.environ[name] for name in ("HOME", "PATH", "WASM_ATTEST_CACHE") if name in os.environ}

    def package_all(self, step: str) -> PantsRun:
        return self.run(step, "package", "::")

    def run(self, step: str, *args: str) -> PantsRun:
        command = [str(self.repository / "pants"), *self.options, *args]
        started = datetime.now()
        start = time.perf_counter()
        result = subprocess.run(command, cwd=self.repository, env=self.env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        log = self.work.log(step, f"$ {' '.join(command)}\n\n{result.stdout}\n{result.stderr}")
        if result.returncode != 0:
            raise BenchmarkError(
                f"{step}: ./pants {' '.join(args)} failed (exit code {result.returncode}); see {log}:\n{result.stderr[-3000:]}"
            )
        first_compile = COMPILE_STARTED.search(result.stderr)
        return PantsRun(
            seconds=seconds,
            rebuilt=compiled_components(result.stderr),
            first_compile_after=None if first_compile is None else seconds_after(started, first_compile),
            restarts=len(COMPILE_CANCELED.findall(result.stderr)),
            shared_compiles=len(SHARED_COMPILED.findall(result.stderr)),
            started=started,
            log=result.stderr,
        )

    def stop_pantsd(self) -> None:
        """Ends the pantsd this benchmark started (its pid file is under the repository's .pids/)."""
        for pid_file in self.repository.glob(".pids/*/pantsd/pid"):
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass


def compiled_components(output: str) -> tuple[str, ...]:
    """The components named by `Completed: Compile <address> ...` lines.

    An address is `rust/apps/<name>` when the target has its folder's name (as generated), else `<folder>:<name>`.
    """
    names = []
    for address in COMPILED.findall(output):
        folder, _, name = address.partition(":")
        names.append(name or Path(folder).name)
    return tuple(sorted(names))


def seconds_after(start: datetime, clock: re.Match[str]) -> float:
    """How long after `start` a log line's `HH:MM:SS.ss` (Pants logs local time, to the hundredth) is."""
    hours, minutes, seconds = clock.groups()
    logged = start.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0) + timedelta(seconds=float(seconds))
    if logged < start - timedelta(seconds=1):  # the run went past midnight
        logged += timedelta(days=1)
    return max(0.0, (logged - start).total_seconds())


def edit(path: Path) -> None:
    """Changes the file's content (Pants caches by content) with a comment no earlier run wrote."""
    with path.open("a") as stream:
        stream.write(f"// benchmark edit {time.time_ns()}\n")


def measure_pants(pants: Pants, monorepo: Monorepo, touch_library: str, warm_runs: int) -> tuple[list[Row], list[str]]:
    """The Pants rows of the table, and notes on them."""
    total = len(monorepo.components)
    repository = pants.work.repository
    progress(f"cold ./pants package :: ({total} components; this is the long part)")
    cold = pants.package_all("1-cold")
    if cold.rebuilt != tuple(sorted(component.name for component in monorepo.components)):
        raise BenchmarkError(
            f"the cold run's `Completed: Compile ...` lines name {len(cold.rebuilt)} builds, not one per component: "
            f"either the build's process description changed or targets are missing (see {pants.work.logs}/1-cold.log)."
        )
    progress(f"cold: {cold.seconds:.1f} s; {warm_runs} no-op runs with pantsd warm")
    shutil.copytree(repository / "dist", pants.work.root / "dist-cold", symlinks=True)
    no_ops = [pants.package_all(f"2-no-op-{number}") for number in range(1, warm_runs + 1)]
    floor = statistics.median(pants.run(f"2-version-{number}", "--version").seconds for number in range(1, warm_runs + 1))
    start_up = statistics.median(
        pants.run(f"2-start-up-{number}", "--no-pantsd", "--version").seconds for number in range(1, START_UP_RUNS + 1)
    )
    leaf = monorepo.components[0]
    progress(f"editing {leaf.name}/src/main.rs")
    edit(repository / WORKSPACE / "apps" / leaf.name / "src" / "main.rs")
    leaf_run = pants.package_all("3-edit-component")
    expected = tuple(sorted(component.name for component in monorepo.dependents(touch_library)))
    progress(f"editing library {touch_library}/src/lib.rs ({len(expected)} components use it)")
    edit(repository / WORKSPACE / "libs" / touch_library / "src" / "lib.rs")
    library_run = pants.package_all("4-edit-library")
    no_op_median = statistics.median(run.seconds for run in no_ops)
    no_op_rebuilt = tuple(name for run in no_ops for name in run.rebuilt)
    cold_check = "" if cold.first_compile_after is None else f"first Compile started after {cold.first_compile_after:.1f} s"
    rows = [
        Row("pants: cold package ::", cold.seconds, compiles(cold, total), cold_check),
        no_op_row("pants: no-op package ::, 1st warm run", no_ops[0].seconds, no_ops[0].rebuilt, total),
        no_op_row(f"pants: no-op package ::, median of {warm_runs}", no_op_median, no_op_rebuilt, total),
        Row(f"pants: ./pants --version, median of {warm_runs}", floor, "-", "the floor: launcher, client, pantsd round trip"),
        Row(
            f"{START_UP_ROW}, median of {START_UP_RUNS}",
            start_up,
            "-",
            "Pants' own start-up, which every cold run pays first",
        ),
        rebuild_row(f"pants: edit component {leaf.name} (src/main.rs)", leaf_run, (leaf.name,), total, EDIT_TARGET_SECONDS),
        rebuild_row(f"pants: edit library {touch_library} (src/lib.rs)", library_run, expected, total),
    ]
    restarts = sum(run.restarts for run in (cold, *no_ops, leaf_run, library_run))
    notes = ["where the cold run's time went (from Pants' log lines; spans overlap where Pants runs work in parallel):"]
    notes += [f"  {name:<52} {span}" for name, span in phases(cold)]
    if restarts:
        notes.append(
            f"  Pants cancelled and restarted {restarts} Compile process(es) (`Canceled: Compile`, its scheduler "
            "rebalancing cargo's jobs); a restarted one counts once in `compiles`."
        )
    return rows, notes


def compiles(run: PantsRun, total: int) -> str:
    """Component builds that ran, and `+N` for the compiles of the workspace's registry crates."""
    return f"{len(run.rebuilt)} of {total}" + (f" +{run.shared_compiles}" if run.shared_compiles else "")


def phases(run: PantsRun) -> list[tuple[str, str]]:
    """Start and end (seconds after the command started) of each phase of a run, from its log lines."""
    events = []
    for hours, minutes, seconds, kind, description in LOG_LINE.findall(run.log):
        logged = run.started.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0)
        at = max(0.0, (logged + timedelta(seconds=float(seconds)) - run.started).total_seconds())
        events.append((at, kind, description))
    if not events:
        return []
    spans = []
    initialised = [at for at, kind, _ in events if kind == "Scheduler initialized"]
    if initialised:
        spans.append(("Pants start-up (pantsd, scheduler)", f"0.0 - {initialised[0]:.1f} s"))
    processes = [(at, kind, description) for at, kind, description in events if description]
    for name, prefix in PHASES:
        times = [at for at, _, description in processes if description.startswith(prefix)]
        if times:
            count = sum(1 for _, kind, description in processes if kind == "Completed" and description.startswith(prefix))
            spans.append((name, f"{min(times):.1f} - {max(times):.1f} s ({count} processes)"))
    last_process = max(at for at, _, _ in processes) if processes else 0.0
    spans.append(("after the last process: attestation, verification, dist/", f"{last_process:.1f} - {run.seconds:.1f} s"))
    return spans


def measure_second_checkout(work: Workspace, monorepo: Monorepo, arguments: str, setup: Path, toolchain: Toolchain) -> Row:
    """The same commit generated at another path, packaged cold with its own Pants store: bundles must be identical."""
    elsewhere = work.root / "elsewhere" / "repository"
    progress("a second checkout at another path: cold ./pants package :: with a Pants store of its own")
    generate(elsewhere, monorepo, arguments, setup, toolchain)
    pants = Pants(work, repository=elsewhere, cache=work.root / "elsewhere" / "pants-cache")
    try:
        run = pants.package_all("5-second-checkout")
    finally:
        pants.stop_pantsd()
    differing, by_design = differing_files(work.root / "dist-cold", elsewhere / "dist")
    check = f"bundles identical to the first checkout's: {verdict(not differing)}"
    if differing:
        check += f" ({len(differing)} differ, e.g. {', '.join(differing[:3])})"
    check += f"; {by_design} files differ only where they record when or how fast it ran"
    return Row("pants: cold package :: in a 2nd checkout", run.seconds, compiles(run, len(monorepo.components)), check)


def differing_files(first: Path, second: Path) -> tuple[list[str], int]:
    """Files that differ between two dist/ folders (sorted), and how many differ only in run-specific fields.

    Components, SBOMs, lockfiles and keys must be byte-identical. Four
    fields record the run itself, by design, and are the only ones allowed to
    differ: the provenance's startedOn/finishedOn (and so its Sigstore bundle),
    the layout's expiry (signing time + layout_expiry_days) and the links'
    byproducts (digests of cargo's stderr, which says how long it took, and
    of its JSON messages, whose order follows the parallel compiles). Every
    link's materials and products, command and environment must be identical.
    In each bundle's `oci/` layout the artifact's manifest (and so, by content
    addressing, the component and config blobs it names) must be the same; the
    referrers carry the provenance and the in-toto evidence, so they differ
    exactly as those files do and count as differing by design.
    """
    def files(root: Path) -> dict[str, Path]:
        return {str(path.relative_to(root)): path for path in root.rglob("*") if path.is_file()}

    left, right = files(first), files(second)
    differing, by_design = [], 0
    for name in sorted(left.keys() | right.keys()):
        layout = name.split("/oci/", 1)[0] + "/oci" if "/oci/" in name else None
        if layout is not None and (name not in left or name not in right or left[name].read_bytes() != right[name].read_bytes()):
            same_artifact = artifact_manifest(first / layout) == artifact_manifest(second / layout) is not None
            if same_artifact:
                by_design += 1
            else:
                differing.append(name)
        elif name not in left or name not in right:
            differing.append(name)
        elif left[name].read_bytes() != right[name].read_bytes():
            if without_run_fields(name, left[name]) == without_run_fields(name, right[name]) is not None:
                by_design += 1
            else:
                differing.append(name)
    return differing, by_design


def artifact_manifest(layout: Path) -> str | None:
    """The digest of the tagged (artifact) manifest of an OCI image layout folder (None: no such layout)."""
    try:
        index = json.loads((layout / "index.json").read_text())
    except (OSError, ValueError):
        return None
    for entry in index.get("manifests", []):
        if "org.opencontainers.image.ref.name" in (entry.get("annotations") or {}):
            return entry.get("digest")
    return None


def without_run_fields(name: str, path: Path) -> object:
    """The signed content of an attestation file without the fields that record the run (None: not one)."""
    try:
        document = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return None
    envelope = document.get("dsseEnvelope", document)
    if "payload" not in envelope:
        return None
    payload = json.loads(base64.b64decode(envelope["payload"]))
    if name.endswith(".link"):
        payload.pop("byproducts", None)
    elif name.endswith("root.layout"):
        payload.pop("expires", None)
    elif name.endswith((".intoto.jsonl", ".provenance.sigstore.json")):
        payload.get("predicate", {}).get("runDetails", {}).pop("metadata", None)
    else:
        return None
    return payload


def no_op_row(measurement: str, seconds: float, rebuilt: Sequence[str], total: int) -> Row:
    within = seconds <= NO_OP_TARGET_SECONDS and not rebuilt
    check = f"<= {NO_OP_TARGET_SECONDS} s and nothing rebuilt: {verdict(within)}"
    return Row(measurement, seconds, f"{len(rebuilt)} of {total}", check)


def rebuild_row(measurement: str, run: PantsRun, expected: Sequence[str], total: int, seconds_target: float | None = None) -> Row:
    check = f"rebuilt: {len(run.rebuilt)} of {total}, expected {len(expected)}: {verdict(tuple(run.rebuilt) == tuple(expected))}"
    if run.shared_compiles:
        check += f"; registry crates compiled again: {run.shared_compiles}"
    if seconds_target is not None:
        check += f"; <= {seconds_target} s: {verdict(run.seconds <= seconds_target)}"
    unexpected = sorted(set(run.rebuilt) - set(expected))
    missing = sorted(set(expected) - set(run.rebuilt))
    if unexpected:
        check += f"; also rebuilt {', '.join(unexpected)}"
    if missing:
        check += f"; not rebuilt {', '.join(missing)}"
    return Row(measurement, run.seconds, compiles(run, total), check)


# Plain cargo -----------------------------------------------------------------------------


def measure_cargo(work: Workspace, monorepo: Monorepo, toolchain: Toolchain) -> list[Row]:
    cargo_home = work.cargo / "home"
    write_registry_config(cargo_home, work.repository / REGISTRY)
    names = [component.name for component in monorepo.components]
    total = len(names)

    def build(label: str, target_dir: Path, *args: str) -> float:
        command = [str(toolchain.cargo), *CARGO_BUILD, *args]
        start = time.perf_counter()
        result = subprocess.run(
            command,
            cwd=work.repository / WORKSPACE,
            env=toolchain.cargo_env(cargo_home, target_dir),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        log = work.log(f"cargo-{label}", f"$ {' '.join(command)}\n\n{result.stdout}\n{result.stderr}")
        if result.returncode != 0:
            raise BenchmarkError(f"`cargo {' '.join(command[1:])}` failed (exit code {result.returncode}); see {log}")
        return seconds

    progress(f"cargo build -p each of the {total} components in turn, one shared target folder")
    shared = sum(build(f"loop-{name}", work.cargo / "target-loop", "-p", name) for name in names)
    progress(f"cargo loop: {shared:.1f} s; again with a fresh target folder per component")
    isolated = 0.0
    for name in names:
        target_dir = work.cargo / f"target-{name}"
        isolated += build(f"isolated-{name}", target_dir, "-p", name)
        shutil.rmtree(target_dir)
    progress(f"isolated loop: {isolated:.1f} s; cargo build --workspace")
    workspace = build("workspace", work.cargo / "target-workspace", "--workspace")
    return [
        Row("cargo: build -p each in turn, shared target folder", shared, f"{total} builds"),
        Row("cargo: build -p each, fresh target folder each", isolated, f"{total} builds"),
        Row("cargo: build --workspace", workspace, "1 build"),
    ]


# Report ------------------------------------------------------------------------------------


def report(header: Sequence[str], rows: Sequence[Row], notes: Sequence[str]) -> str:
    width = max(len(row.measurement) for row in rows)
    head = f"{'measurement':<{width}}  {'wall time':>9}  {'compiles':>9}  check"
    lines = [*header, "", head, "-" * len(head)]
    lines += [f"{row.measurement:<{width}}  {row.seconds:>7.2f} s  {row.compiles:>9}  {row.check}".rstrip() for row in rows]
    return "\n".join([*lines, "", *notes])


def ratios(rows: Sequence[Row]) -> list[str]:
    by_name = {row.measurement: row.seconds for row in rows}
    pants_cold = by_name.get("pants: cold package ::")
    workspace = by_name["cargo: build --workspace"]
    loop = by_name["cargo: build -p each in turn, shared target folder"]
    isolated = by_name["cargo: build -p each, fresh target folder each"]
    lines = [f"ratio fresh-target loop / shared-target loop: {isolated / loop:.1f}x (what per-component sandboxes cost cargo)"]
    if pants_cold is not None:
        lines.insert(0, f"ratio pants cold / cargo -p loop: {pants_cold / loop:.1f}x")
        lines.insert(1, f"ratio pants cold / fresh-target loop: {pants_cold / isolated:.1f}x (Pants, vendoring, attestation)")
        ratio = pants_cold / workspace
        lines.insert(
            0,
            f"ratio pants cold / cargo build --workspace: {ratio:.1f}x "
            f"(target <= {COLD_TARGET_RATIO:.0f}x: {verdict(ratio <= COLD_TARGET_RATIO)})",
        )
        start_up = next((row.seconds for row in rows if row.measurement.startswith(START_UP_ROW)), None)
        if start_up is not None:
            lines.insert(
                1,
                f"ratio (pants cold - Pants' own start-up) / cargo build --workspace: {(pants_cold - start_up) / workspace:.1f}x; "
                f"Pants' start-up alone is {start_up / workspace:.1f}x, leaving "
                f"{max(0.0, COLD_TARGET_RATIO * workspace - start_up):.1f} s of the target for the whole build",
            )
    return lines


def setup_description(setup: Path) -> str:
    """The set-up's commit, and whether its work tree differs from it (the copy takes uncommitted files too)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=setup, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "no commit"
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{setup} at {commit}{dirty}"


def machine(load_at_start: str) -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((int(line.split()[1]) // 1024**2 for line in meminfo if line.startswith("MemTotal:")), 0)
    return (
        f"{os.cpu_count()} CPUs, {memory} GiB, load average {load_at_start} at the start and {load_average()} at the end "
        "(1, 5, 15 min); Pants and cargo at their default parallelism"
    )


def load_average() -> str:
    """Other work on the machine skews wall times: the report shows how busy it was."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def progress(message: str) -> None:
    print(f"[benchmark] {message}", file=sys.stderr, flush=True)


# Entry point ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generates a monorepo of N wasm components (generate.py) and measures ./pants package :: cold, "
        "as a no-op, after an edit to one component and to one shared library, against plain cargo builds.",
        epilog=__doc__[__doc__.index("It generates") : __doc__.index("Progress goes to stderr")],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_plan_arguments(parser)
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="where to work: a new or empty folder (default: a new temporary folder); it is deleted at the end "
        "unless --keep or a command failed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (repository, caches, logs)")
    parser.add_argument("--warm-runs", type=int, default=5, metavar="R", help="no-op runs to take the median of (default 5)")
    parser.add_argument(
        "--touch-library",
        metavar="NAME",
        help="the shared library to edit (default: text, or base when there is only one library)",
    )
    parser.add_argument(
        "--no-second-checkout",
        action="store_true",
        help="skip the cold build of a second checkout at another path (its bundles must be bit-identical)",
    )
    parser.add_argument(
        "--cargo-only",
        action="store_true",
        help="measure only the plain cargo builds (for a Pants set-up whose plugin has no cargo_crate target yet)",
    )
    args = parser.parse_args()
    names = [library.name for library in plan(1, args.libraries).libraries]
    args.touch_library = args.touch_library or ("text" if "text" in names else "base")
    if args.touch_library not in names:
        parser.error(f"--touch-library {args.touch_library}: the generated libraries are {', '.join(names)}")
    if args.warm_runs < 1:
        parser.error("--warm-runs must be at least 1")
    if args.workdir and args.workdir.exists() and any(args.workdir.iterdir()):
        parser.error(f"--workdir {args.workdir} is not empty: give a new or empty folder")
    args.pants_setup_from = args.pants_setup_from.resolve()
    if not args.cargo_only and not defines_target_type(args.pants_setup_from, "cargo_crate"):
        parser.error(
            f"the plugin in {args.pants_setup_from} has no cargo_crate target type, which the generated BUILD files "
            "use: point --pants-setup-from at a checkout that has it, or pass --cargo-only"
        )
    return args


def main() -> None:
    args = parse_args()
    load_at_start = load_average()
    root = (args.workdir or Path(tempfile.mkdtemp(prefix="wasm-attest-monorepo-"))).resolve()
    work = Workspace(root)
    monorepo = plan(args.components, args.libraries)
    pants = Pants(work)
    keep = args.keep
    try:
        toolchain = prepare_toolchain()
        commit = generate(work.repository, monorepo, plan_arguments(args), args.pants_setup_from, toolchain)
        rows, pants_notes = ([], []) if args.cargo_only else measure_pants(pants, monorepo, args.touch_library, args.warm_runs)
        pants.stop_pantsd()
        rows += measure_cargo(work, monorepo, toolchain)
        if not args.cargo_only and not args.no_second_checkout:
            rows.append(measure_second_checkout(work, monorepo, plan_arguments(args), args.pants_setup_from, toolchain))
    except (BenchmarkError, GenerateError) as error:
        keep = True
        sys.exit(f"error: {error}\n(the work folder {root} is kept)")
    finally:
        pants.stop_pantsd()
        if keep:
            progress(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    names = ", ".join(library.name for library in monorepo.libraries)
    header = [
        "wasm-attest monorepo benchmark",
        f"  {len(monorepo.components)} components over {len(monorepo.libraries)} libraries ({names}), one Cargo.lock; "
        f"generated commit {commit[:12]} ({plan_arguments(args)})",
        f"  plugin: {setup_description(args.pants_setup_from)}",
        f"  {machine(load_at_start)}",
    ]
    notes = [
        *ratios(rows),
        "",
        "dependencies (generate.py):",
        describe(monorepo),
        "",
        "notes:",
        "  wall time of the whole command; pants rows include ./pants' launcher, cargo rows a fresh CARGO_HOME.",
        "  cold = new repository, no pantsd, empty Pants local store and named caches; the machine-wide set-up of",
        "    ./pants (venv, Pex CLI, toolchain archive, crate registry) and the OS file cache were warm.",
        "  compiles = `Compile ... for wasm32-wasip2` processes Pants ran (cache hits run none); +N: the",
        "    `Compile dependencies of ...` processes (the registry crates, once per workspace and profile).",
        *pants_notes,
    ]
    print(report(header, rows, notes))


if __name__ == "__main__":
    main()
