"""How fast a release job can verify bundles: the verification benchmark of issue 4.

For every component bundle that `./pants package ::` wrote under `dist/`
(`dist/<dotted folder>/<target name>/`: root.layout, the links, the .wasm,
Cargo.lock, the SBOM and the provenance) it measures, as the median of N runs
(default 5) after one untimed warm-up run that also checks each verifier says
"verified":

- our verification in-process: `verify_attestations` with the owner key
  already loaded, the cost a long-lived process (the Pants goal) pays per
  bundle;
- our verification as a process: `python -m wasm_attest.cli verify FOLDER
  --owner-key owner.pub`, start-up and imports included, which is what a
  release job that runs `wasm-attest verify` pays;
- the reference, `in-toto-verify --layout root.layout --verification-keys
  owner.pub --link-dir .` from the same venv, run in a fresh copy of the bundle
  (it runs the layout's inspection and writes its link file there).

Our process figure is compared with in-toto-verify's (target: ours <= 0.5x);
the in-process figure is shown against it too, for information. Then 50
components: the available bundles are copied round-robin into 50 folders and
verified one after the other in this one process (target: under 10 s; the
median of N runs), with the 50 `wasm-attest verify` and the 50 `in-toto-verify`
processes alongside for comparison (those two run once).

Why: a release job verifies what a build produced before it ships it, often for
every component of a repository, and `wasm-attest verify` does more than
in-toto-verify (the files on disk, Cargo.lock, the SBOM, the provenance); that
must not make it the slow part of the job. A start-up table (a bare
interpreter, and importing each verifier's command-line module) shows how much
of a process figure is start-up rather than verification.

Both verifiers read the same bytes from the same temporary folder; copying is
never timed. Nothing in `dist/` is written.

Usage, from the repository root, after `./pants package ::` (which also makes
the development owner key ~/.config/wasm-attest/dev-keys/owner.pem and the
venv named after the hash of build-support/pants-requirements.txt; use its
Python, whose folder holds `in-toto-verify`):

    PYTHONPATH=src/python \
      ~/.cache/wasm-attest/venv-$(sha256sum build-support/pants-requirements.txt | cut -c1-16)/bin/python \
      benchmarks/verification.py [--runs N] [--only NAME] [--owner-key PUB.pem]

It always exits 0 when it could run, whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

USAGE = (
    "PYTHONPATH=src/python ~/.cache/wasm-attest/venv-$(sha256sum build-support/pants-requirements.txt | cut -c1-16)"
    "/bin/python benchmarks/verification.py [--runs N] [--only NAME] [--owner-key PUB.pem]"
)

try:
    import in_toto

    from wasm_attest.errors import WasmAttestError
    from wasm_attest.keys import default_development_keys_folder, load_public_key, load_signing_key, public_key_pem
    from wasm_attest.layout import LAYOUT_FILE_NAME
    from wasm_attest.verification import verify_attestations

    from testprojects import REPO, discover_components
except ImportError as missing:
    sys.exit(f"{missing}. Run the benchmark with the Pants venv's Python and the core library on the path:\n  {USAGE}")

DIST = REPO / "dist"
IN_TOTO_VERIFY = Path(sys.executable).parent / "in-toto-verify"
OWNER_PUB = "owner.pub"

RUNS = 5
MAX_RATIO = 0.5
MANY_COMPONENTS = 50
MAX_SECONDS_FOR_MANY = 10.0
PROCESS_TIMEOUT = 120.0


@dataclass(frozen=True)
class Bundle:
    """One component bundle in dist/: `dist/<dotted folder>/<target name>/`."""

    name: str
    address: str
    folder: Path

    @property
    def files(self) -> int:
        return sum(1 for path in self.folder.iterdir() if path.is_file())

    @property
    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.folder.iterdir() if path.is_file())


@dataclass(frozen=True)
class Tools:
    """What every measurement needs: the owner key (loaded, and as a PEM file outside the bundles) and the programs."""

    owner_key: object
    owner_pub: Path
    environment: dict[str, str]
    """The environment of the `wasm-attest verify` processes: this one, with src/python on PYTHONPATH."""


@dataclass(frozen=True)
class Measurement:
    bundle: Bundle
    in_process: float
    process: float
    in_toto: float
    """Medians, seconds."""

    @property
    def ratio(self) -> float:
        return self.process / self.in_toto

    @property
    def in_process_ratio(self) -> float:
        return self.in_process / self.in_toto

    @property
    def meets_ratio(self) -> bool:
        return self.ratio <= MAX_RATIO


@dataclass(frozen=True)
class Batch:
    """Verifying MANY_COMPONENTS bundles one after the other."""

    in_process: float
    """Median over the runs, seconds."""
    process: float
    in_toto: float
    """One run each, seconds."""

    @property
    def meets_time(self) -> bool:
        return self.in_process < MAX_SECONDS_FOR_MANY


@dataclass(frozen=True)
class StartUp:
    """Median seconds to start a process that does nothing, and to import each verifier's command-line module."""

    interpreter: float
    ours: float
    in_toto: float


@dataclass(frozen=True)
class Failure:
    bundle: Bundle
    message: str


class BenchmarkError(Exception):
    """A verifier did not verify a bundle, so timing it means nothing; the message says which and why."""


# Discovery ------------------------------------------------------------------------


def discover_bundles() -> list[Bundle]:
    """Every folder `dist/<dotted folder>/<name>/` that holds a root.layout, in path order."""
    bundles = []
    for layout in sorted(DIST.glob(f"*/*/{LAYOUT_FILE_NAME}")):
        folder = layout.parent
        address = f"{folder.parent.name.replace('.', '/')}:{folder.name}"
        bundles.append(Bundle(name=folder.name, address=address, folder=folder))
    return bundles


# Set-up (not timed) -------------------------------------------------------------------


def prepare_tools(owner_key_path: Path | None, work: Path) -> Tools:
    """Loads the owner's public key (given, or derived from the development owner key) and writes it next to the bundles."""
    if not IN_TOTO_VERIFY.is_file():
        sys.exit(f"{IN_TOTO_VERIFY} is missing: run the benchmark with the Pants venv's Python, which has in-toto:\n  {USAGE}")
    try:
        if owner_key_path is not None:
            owner_key = load_public_key(owner_key_path)
        else:
            private = default_development_keys_folder() / "owner.pem"
            if not private.is_file():
                sys.exit(
                    f"The development owner key {private} is missing: run `./pants package ::` (it makes it), "
                    "or give --owner-key PUB.pem."
                )
            owner_key = load_signing_key(private).public_key
    except WasmAttestError as error:
        sys.exit(str(error))
    owner_pub = work / OWNER_PUB
    owner_pub.write_bytes(public_key_pem(owner_key))
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO / "src" / "python"), os.environ.get("PYTHONPATH"))))
    return Tools(owner_key=owner_key, owner_pub=owner_pub, environment=environment)


def copy_bundle(bundle: Bundle, destination: Path) -> Path:
    shutil.copytree(bundle.folder, destination)
    return destination


# The three verifiers (one call each is one timed run) ----------------------------------


def verify_in_process(folder: Path, tools: Tools) -> None:
    verify_attestations(folder, trusted_owner_keys=(tools.owner_key,))


def verify_process(folder: Path, tools: Tools) -> None:
    command = [sys.executable, "-m", "wasm_attest.cli", "verify", str(folder), "--owner-key", str(tools.owner_pub)]
    run_checked(command, cwd=REPO, env=tools.environment, what="wasm-attest verify")


def verify_in_toto(folder: Path, tools: Tools) -> None:
    """in-toto-verify in `folder`, which must be a fresh copy: the layout's inspection writes a link file there."""
    command = [str(IN_TOTO_VERIFY), "--layout", LAYOUT_FILE_NAME, "--verification-keys", str(tools.owner_pub), "--link-dir", "."]
    run_checked(command, cwd=folder, env=None, what="in-toto-verify")


def run_checked(command: Sequence[str], *, cwd: Path, env: dict[str, str] | None, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise BenchmarkError(f"{what} exited with {result.returncode} in {cwd}:\n{output[-2000:]}")


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# One bundle, and the batch of 50 ---------------------------------------------------------


def measure(bundle: Bundle, tools: Tools, runs: int, work: Path) -> Measurement:
    """The median of `runs` of each verifier, after an untimed run that checks each one verifies the bundle."""
    ours = copy_bundle(bundle, work / f"{bundle.name}-ours")
    copies = iter(copy_bundle(bundle, work / f"{bundle.name}-in-toto-{number}") for number in range(runs + 1))
    try:
        verify_in_process(ours, tools)
    except WasmAttestError as error:
        raise BenchmarkError(f"our verification failed, so it was not timed: {error}") from None
    verify_process(ours, tools)
    verify_in_toto(next(copies), tools)
    times: dict[str, list[float]] = {"in-process": [], "process": [], "in-toto": []}
    for _ in range(runs):  # interleaved, so a slower moment of the machine hits all three alike
        times["in-process"].append(timed(lambda: verify_in_process(ours, tools)))
        times["process"].append(timed(lambda: verify_process(ours, tools)))
        copy = next(copies)
        times["in-toto"].append(timed(lambda: verify_in_toto(copy, tools)))
    return Measurement(
        bundle=bundle,
        in_process=statistics.median(times["in-process"]),
        process=statistics.median(times["process"]),
        in_toto=statistics.median(times["in-toto"]),
    )


def measure_batch(bundles: Sequence[Bundle], tools: Tools, runs: int, work: Path) -> Batch:
    """MANY_COMPONENTS folders filled round-robin from `bundles`, verified sequentially by each verifier."""
    ours = [copy_bundle(bundles[index % len(bundles)], work / "ours" / f"{index:02d}") for index in range(MANY_COMPONENTS)]
    theirs = [copy_bundle(bundles[index % len(bundles)], work / "in-toto" / f"{index:02d}") for index in range(MANY_COMPONENTS)]
    in_process = [timed(lambda: [verify_in_process(folder, tools) for folder in ours]) for _ in range(runs)]
    process = timed(lambda: [verify_process(folder, tools) for folder in ours])
    in_toto = timed(lambda: [verify_in_toto(folder, tools) for folder in theirs])
    return Batch(in_process=statistics.median(in_process), process=process, in_toto=in_toto)


def measure_start_up(runs: int) -> StartUp:
    """What a process pays before it verifies anything: the interpreter, then each verifier's imports."""

    def median_of(code: str) -> float:
        command = [sys.executable, "-c", code]
        env = {**os.environ, "PYTHONPATH": str(REPO / "src" / "python")}
        return statistics.median(timed(lambda: run_checked(command, cwd=REPO, env=env, what=code)) for _ in range(runs))

    return StartUp(
        interpreter=median_of("pass"),
        ours=median_of("import wasm_attest.cli"),
        in_toto=median_of("import in_toto.in_toto_verify"),
    )


def progress(message: str) -> None:
    print(f"[benchmark] {message}", file=sys.stderr, flush=True)


# Report -----------------------------------------------------------------------------------


def report(
    measured: Sequence[Measurement],
    failed: Sequence[Failure],
    batch: Batch | None,
    start_up: StartUp,
    unbuilt: Sequence[str],
    runs: int,
) -> str:
    lines = [
        "wasm-attest verification benchmark",
        f"  in-toto {in_toto.__version__}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"each figure the median of {runs} runs after one untimed warm-up",
        "",
        results_table(measured),
        "",
        f"{MANY_COMPONENTS} components (the bundles copied round-robin into {MANY_COMPONENTS} folders), "
        "verified one after the other:",
        batch_table(batch, runs) if batch is not None else "  not measured: no bundle could be verified",
        "",
        "start-up of a process (median), before any verification:",
        start_up_table(start_up),
        "",
        *(f"ERROR {failure.bundle.address}: {failure.message}\n" for failure in failed),
        "notes:",
        "  ours = `wasm-attest verify` (python -m wasm_attest.cli verify FOLDER --owner-key owner.pub), start-up included;",
        "    in-process = verify_attestations with the key loaded, what the Pants goal pays per bundle.",
        "  in-toto = in-toto-verify --layout root.layout --verification-keys owner.pub --link-dir . in a fresh copy;",
        "    it also runs the layout's inspection (`true`) as a process. It does not check the SBOM, the provenance",
        "    or Cargo.lock, which ours does.",
        "  ratio = ours (process) / in-toto; ratio in-proc = ours (in-process) / in-toto, for information only.",
        *(
            [f"  no bundle in dist/ for {', '.join(unbuilt)}: run `./pants package ::` to include them."]
            if unbuilt
            else []
        ),
        "",
        summary(measured, failed, batch),
    ]
    return "\n".join(lines)


def results_table(measured: Sequence[Measurement]) -> str:
    width = max([len("component"), *(len(result.bundle.name) for result in measured)])
    header = (
        f"{'component':<{width}}  {'files':>5}  {'size':>8}  {'ours in-proc':>12}  {'ours process':>12}  "
        f"{'in-toto':>8}  {'ratio':>6}  {'ratio in-proc':>13}  {'<=0.5x':>6}  result"
    )
    rows = [header, "-" * len(header)]
    for result in measured:
        rows.append(
            f"{result.bundle.name:<{width}}  {result.bundle.files:>5}  {result.bundle.size_bytes / 1e3:>5.0f} kB  "
            f"{milliseconds(result.in_process):>12}  {milliseconds(result.process):>12}  {milliseconds(result.in_toto):>8}  "
            f"{result.ratio:>5.2f}x  {result.in_process_ratio:>12.3f}x  {verdict(result.meets_ratio):>6}  "
            f"{'PASS' if result.meets_ratio else 'FAIL (target missed)'}"
        )
    return "\n".join(rows)


def batch_table(batch: Batch, runs: int) -> str:
    figures = (
        (f"ours, in one process (median of {runs})", batch.in_process, verdict(batch.meets_time)),
        (f"ours, {MANY_COMPONENTS} processes (one run)", batch.process, "n/a"),
        (f"in-toto-verify, {MANY_COMPONENTS} processes (one run)", batch.in_toto, "n/a"),
    )
    width = max(len(label) for label, _, _ in figures)
    header = f"{'verifier':<{width}}  {'total':>8}  {'per component':>13}  {'< 10 s':>6}"
    rows = [header, "-" * len(header)]
    for label, total, target in figures:
        rows.append(f"{label:<{width}}  {total:>6.2f} s  {milliseconds(total / MANY_COMPONENTS):>13}  {target:>6}")
    return "\n".join(rows)


def start_up_table(start_up: StartUp) -> str:
    figures = (
        ("python -c pass", start_up.interpreter),
        ("python -c 'import wasm_attest.cli'", start_up.ours),
        ("python -c 'import in_toto.in_toto_verify'", start_up.in_toto),
    )
    width = max(len(label) for label, _ in figures)
    header = f"{'process':<{width}}  {'time':>8}"
    rows = [header, "-" * len(header)]
    for label, value in figures:
        rows.append(f"{label:<{width}}  {milliseconds(value):>8}")
    return "\n".join(rows)


def milliseconds(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def summary(measured: Sequence[Measurement], failed: Sequence[Failure], batch: Batch | None) -> str:
    missed = [f"{result.bundle.name} ratio {result.ratio:.2f}x > {MAX_RATIO}x" for result in measured if not result.meets_ratio]
    if batch is not None and not batch.meets_time:
        missed.append(f"{MANY_COMPONENTS} components in {batch.in_process:.2f} s >= {MAX_SECONDS_FOR_MANY:.0f} s")
    if not measured:
        outcome = "FAIL, nothing measured, so no target was checked"
    elif missed:
        outcome = f"FAIL, TARGETS MISSED: {'; '.join(missed)}"
    else:
        outcome = "PASS, all targets met" + (" by the bundles measured" if failed else "")
    many = f"; {MANY_COMPONENTS} components in {batch.in_process:.2f} s" if batch is not None else ""
    errors = f"; {len(failed)} bundle(s) could not be measured (ERROR above)" if failed else ""
    return f"SUMMARY: {len(measured)} bundle(s) measured{many}: {outcome}{errors}."


# Entry point ------------------------------------------------------------------------------


def parse_args(bundles: Sequence[Bundle]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Times our verification (in-process and `wasm-attest verify`) against in-toto-verify on the bundles "
        f"in dist/ and checks the targets: ours <= {MAX_RATIO}x in-toto-verify, {MANY_COMPONENTS} components < "
        f"{MAX_SECONDS_FOR_MANY:.0f} s.",
        epilog=f"Run it from the repository root, after ./pants package :: has written dist/:\n  {USAGE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = sorted({bundle.name for bundle in bundles})
    parser.add_argument(
        "--runs", metavar="N", type=int, default=RUNS, help=f"timed runs per figure; the median is reported (default {RUNS})"
    )
    parser.add_argument(
        "--only", metavar="NAME", help=f"benchmark one bundle: {', '.join(names) or 'none in dist/'} (or its address)"
    )
    parser.add_argument(
        "--owner-key",
        metavar="PUB.pem",
        type=Path,
        help="the layout owner's public key (default: derived from the development owner key "
        f"{default_development_keys_folder() / 'owner.pem'})",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not bundles:
        sys.exit(f"No component bundles in {DIST} (dist/<dotted folder>/<name>/root.layout): run `./pants package ::` first.")
    if args.only and not any(args.only in (bundle.name, bundle.address) for bundle in bundles):
        parser.error(
            f"no bundle named {args.only!r} in dist/; there are: {', '.join(names)} (run `./pants package ::` for the others)"
        )
    return args


def main() -> None:
    bundles = discover_bundles()
    args = parse_args(bundles)
    selected = [bundle for bundle in bundles if args.only in (None, bundle.name, bundle.address)]
    built = {bundle.address for bundle in bundles}
    declared = [component.address for component in discover_components()] if args.only is None else []
    unbuilt = [address for address in declared if address not in built]
    with tempfile.TemporaryDirectory(prefix="wasm-attest-verification-benchmark-") as scratch:
        work = Path(scratch)
        tools = prepare_tools(args.owner_key, work)
        measured: list[Measurement] = []
        failed: list[Failure] = []
        for bundle in selected:
            progress(f"{bundle.address}: verifying {args.runs} times with each verifier ...")
            try:
                measured.append(measure(bundle, tools, args.runs, work / "single"))
            except (BenchmarkError, subprocess.TimeoutExpired) as error:
                progress(f"{bundle.address}: could not be measured (ERROR in the report)")
                failed.append(Failure(bundle, str(error)))
        batch = None
        if measured:
            progress(f"{MANY_COMPONENTS} components: {args.runs} run(s) in-process, then each verifier's processes once ...")
            batch = measure_batch([result.bundle for result in measured], tools, args.runs, work / "batch")
        progress("start-up of the interpreter and of each verifier's imports ...")
        start_up = measure_start_up(args.runs)
    print(report(measured, failed, batch, start_up, unbuilt, args.runs))


if __name__ == "__main__":
    main()
